#!/usr/bin/env bash
# bench/soak.sh - soak test of `eventio serve`: mixed, partly hostile load on all four servers for a
# number of minutes, watching the server's memory and descriptors for unbounded growth.
#
#   bench/soak.sh          # 10 minutes
#   bench/soak.sh 1        # 1 minute (decimals work: 0.5)
#
# What it does
#   1. Publishes the Release build (dotnet publish src/EventIO.Cli -c Release) into a private directory of
#      this run and installs a copy in bench/out/eventio (file by file, by rename, so a server already
#      running from there is not disturbed). The run uses its own copy. SOAK_SKIP_BUILD=1 reuses
#      bench/out/eventio as it is.
#   2. Starts `eventio serve` on 127.0.0.1 with every port 0 (the real ports are read from its
#      "listening" lines), --fib-max 30 and 4 workers.
#   3. Until the time is up, in parallel:
#        - TCP echo: echoload tcp, 8 connections x 512 B, in 10 s runs back to back (new connections each run);
#        - UDP echo: echoload udp, 4 sockets x 256 B, likewise;
#        - a Python client mix, checking every reply: TCP churn (resets right after connecting, plain
#          closes, echo-then-FIN, write 256 KiB without reading then reset, half-close then reset),
#          UDP time, Fibonacci requests (valid n and bad ones: junk, negative, too large, too long,
#          60,000 digits, NUL, unicode digits), and clients that send and close their port at once
#          (the replies meet ICMP port unreachable).
#      Every second it samples the server's VmRSS (/proc/PID/status) and descriptor count
#      (/proc/PID/fd) into samples.csv.
#   4. Stops the load, sends SIGTERM to the server (it must exit 0) and prints a summary.
#
# Pass/fail rule (exit code 1 on failure)
#   Let the samples be in time order. Window A = samples from 20% to 40% of the run (after warm-up),
#   window B = the last 20%. The run FAILS if
#     - mean RSS of B is more than 20% above mean RSS of A, or
#     - mean descriptor count of B is more than 20 above that of A, or
#     - the server died, did not exit 0 on SIGTERM, or logged an error (fail:/crit:), or
#     - any reply was wrong (echoload mismatches or errors, Python client mismatches), or
#     - fewer than 95% of the Python client's UDP requests were answered, or
#     - fewer than 10 samples were taken.
#
# Everything runs on loopback; every process the script starts is stopped on exit (trap), by PID.
# Output: bench/out/soak/<time>/ (samples.csv, server and load logs, summary.txt).
# Environment: BENCH_OUT (default bench/out), ECHOLOAD (default $BENCH_OUT/echoload),
#              SOAK_NICE (niceness of everything started, default 10: be kind to benchmarks nearby).
set -euo pipefail
set -m # each background job gets its own process group, so cleanup can stop a job and its children by id

MINUTES=${1:-10}
if ! [[ $MINUTES =~ ^[0-9]+([.][0-9]+)?$ ]] || ! awk -v m="$MINUTES" 'BEGIN { exit !(m > 0 && m <= 1440) }'; then
  echo "usage: $0 [MINUTES]   (a number above 0, at most 1440; default 10)" >&2
  exit 2
fi
DURATION=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 + 0.5 }')

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUT=${BENCH_OUT:-$HERE/out}
ECHOLOAD=${ECHOLOAD:-$OUT/echoload}
NICE=${SOAK_NICE:-10}
RUN=$OUT/soak/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$RUN"

for tool in python3 awk; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is required" >&2; exit 2; }
done
[[ -x $ECHOLOAD ]] || { echo "soak: $ECHOLOAD not found (build it with ../shared/bench/build.sh)" >&2; exit 2; }

JOBS=()       # background jobs (process group leaders) started by this script
SERVER=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${JOBS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  if [[ -n $SERVER ]] && kill -0 "$SERVER" 2>/dev/null; then
    kill -KILL "$SERVER" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. build -------------------------------------------------------------------------------------
if [[ ${SOAK_SKIP_BUILD:-0} == 1 ]]; then
  [[ -x $OUT/eventio/eventio ]] || { echo "soak: $OUT/eventio/eventio not found" >&2; exit 2; }
  cp -a "$OUT/eventio" "$RUN/eventio"
else
  echo "soak: publishing the Release build..."
  if ! dotnet publish "$ROOT/src/EventIO.Cli" -c Release -o "$RUN/eventio" --artifacts-path "$OUT/soak-artifacts" \
      --nologo -v quiet >"$RUN/publish.log" 2>&1; then
    tail -n 30 "$RUN/publish.log" >&2
    echo "soak: dotnet publish failed" >&2
    exit 1
  fi
  mkdir -p "$OUT/eventio"
  for f in "$RUN/eventio"/*; do
    name=$(basename "$f")
    cp -p "$f" "$OUT/eventio/.$name.soak-$$" && mv -f "$OUT/eventio/.$name.soak-$$" "$OUT/eventio/$name"
  done
fi
BIN=$RUN/eventio/eventio

# --- 2. server ------------------------------------------------------------------------------------
FIB_MAX=30
nice -n "$NICE" "$BIN" serve --host 127.0.0.1 --time-port 0 --echo-port 0 --tcp-echo-port 0 --fib-port 0 \
  --fib-max "$FIB_MAX" --workers 4 --log-level warning >"$RUN/server.out" 2>"$RUN/server.err" &
SERVER=$!

deadline=$((SECONDS + 30))
while (( $(grep -c '^listening ' "$RUN/server.out" || true) < 4 )); do
  if ! kill -0 "$SERVER" 2>/dev/null; then
    cat "$RUN/server.err" >&2
    echo "soak: the server exited before listening" >&2
    exit 1
  fi
  (( SECONDS < deadline )) || { echo "soak: the server did not print its 4 listening lines within 30 s" >&2; exit 1; }
  sleep 0.1
done
port() { awk -v name="$1" '$1 == "listening" && $2 == name { n = split($3, a, ":"); print a[n] }' "$RUN/server.out"; }
TIME_PORT=$(port udp-time)
ECHO_PORT=$(port udp-echo)
TCP_PORT=$(port tcp-echo)
FIB_PORT=$(port udp-fib)
echo "soak: server pid $SERVER: udp-time $TIME_PORT, udp-echo $ECHO_PORT, tcp-echo $TCP_PORT, udp-fib $FIB_PORT; $MINUTES min of load; results in $RUN"

START=$SECONDS
END=$((START + DURATION))

# --- 3. sampler and load --------------------------------------------------------------------------
sample() {
  local rss fds threads
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER/status" 2>/dev/null) || return 1
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$SERVER/status" 2>/dev/null) || return 1
  fds=$(ls "/proc/$SERVER/fd" 2>/dev/null | wc -l)
  [[ -n $rss ]] || return 1
  echo "$((SECONDS - START)),$rss,$fds,$threads"
}
echo "t_s,rss_kb,fds,threads" >"$RUN/samples.csv"
(
  while (( SECONDS < END )); do
    sample >>"$RUN/samples.csv" || break
    sleep 1
  done
) &
JOBS+=($!)

# echoload in back-to-back runs until the end; one key=value line per run, and its exit code.
echoload_loop() {
  local mode=$1 port=$2 conns=$3 size=$4 log=$RUN/echoload-$1.txt
  while (( SECONDS + 2 < END )); do
    local d=$((END - SECONDS)); (( d > 10 )) && d=10
    local rc=0
    nice -n "$NICE" "$ECHOLOAD" "$mode" -p "$port" -c "$conns" -s "$size" -d "$d" -w 0 >>"$log" 2>>"$RUN/echoload-$mode.err" || rc=$?
    echo "rc=$rc" >>"$RUN/echoload-$mode.rc"
  done
}
echoload_loop tcp "$TCP_PORT" 8 512 &
JOBS+=($!)
echoload_loop udp "$ECHO_PORT" 4 256 &
JOBS+=($!)

cat >"$RUN/mixload.py" <<'PY'
"""Hostile client mix for the soak: checks every reply, counts everything, prints key=value lines."""
import collections, errno, random, re, socket, struct, sys, threading, time

HOST = "127.0.0.1"
TIME_PORT, ECHO_PORT, TCP_PORT, FIB_PORT, FIB_MAX, SECS = map(int, sys.argv[1:7])
END = time.monotonic() + SECS
stats = collections.Counter()
lock = threading.Lock()
CTIME = re.compile(rb"^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d \d{4}$")


def count(key, n=1):
    with lock:
        stats[key] += n


def fib(n):
    a, b = 1, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def recv_exactly(s, n):
    data = bytearray()
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed early")
        data += chunk
    return bytes(data)


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def tcp_churn(seed):
    rnd = random.Random(seed)
    while time.monotonic() < END:
        mode = rnd.randrange(5)
        try:
            s = socket.create_connection((HOST, TCP_PORT), timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if mode == 0:                      # reset right after connecting
                reset(s)
            elif mode == 1:                    # plain close
                s.close()
            elif mode == 2:                    # echo, then a clean end of stream
                payload = rnd.randbytes(rnd.randint(1, 16384))
                s.sendall(payload)
                if recv_exactly(s, len(payload)) != payload:
                    count("tcp_mismatch")
                s.shutdown(socket.SHUT_WR)
                if s.recv(1) != b"":
                    count("tcp_extra_bytes")
                s.close()
            elif mode == 3:                    # write a lot without reading, then reset
                s.sendall(rnd.randbytes(256 * 1024))
                reset(s)
            else:                              # half-close while the echo is being written, then reset
                s.sendall(rnd.randbytes(128 * 1024))
                s.shutdown(socket.SHUT_WR)
                recv_exactly(s, 4096)
                reset(s)
            count("tcp_connections")
        except socket.timeout:
            count("tcp_timeouts")
        except OSError as e:
            count("tcp_oserror_" + errno.errorcode.get(e.errno or 0, str(e.errno)))
        time.sleep(0.004)


def udp_exchange(s, port, request, kind):
    """One request, one reply (or a loss after 2 s)."""
    count(kind + "_requests")
    try:
        s.sendto(request, (HOST, port))
        reply, _ = s.recvfrom(65536)
        return reply
    except socket.timeout:
        count(kind + "_lost")
        return None


def udp_time():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    while time.monotonic() < END:
        reply = udp_exchange(s, TIME_PORT, b"", "time")
        if reply is not None and not CTIME.match(reply):
            count("time_bad_reply")
        time.sleep(0.01)
    s.close()


BAD = [b"", b"   ", b"abc", b"-1", b"-45", b"1.5", b"0x10", b"1e3", b"1 2", b"1\x00", b"\x00", b"+-3",
       b"99999999999999999999", b"4294967306", "\u0661\u0660".encode(), "\uff11\uff10".encode(), b"\xa07",
       b"9" * 33, b" " * 40 + b"5", b"7" * 60000]


def udp_fib(seed):
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    cap = min(FIB_MAX, 24)
    while time.monotonic() < END:
        pick = rnd.randrange(10)
        if pick < 5:
            n = rnd.randint(0, cap)
            form = rnd.choice(["%d", " %d\n", "\t%d\r\n", "+%d", "00%d"])
            reply = udp_exchange(s, FIB_PORT, (form % n).encode(), "fib")
            if reply is not None and reply != str(fib(n)).encode() and reply != b"error: busy":
                count("fib_wrong_reply")
        else:
            request = rnd.choice(BAD) if pick < 8 else rnd.randbytes(rnd.randint(0, 100))
            # Random bytes can form a valid request ("7", "+3", "-0" with whitespace): not bad input.
            if pick >= 8 and re.fullmatch(rb"[+-]?[0-9]+", request.strip(b" \t\n\v\f\r")):
                continue
            reply = udp_exchange(s, FIB_PORT, request, "fib")
            if reply is not None and not reply.startswith(b"error:"):
                count("fib_bad_request_not_refused")
        time.sleep(0.003)
    s.close()


def dead_peers():
    while time.monotonic() < END:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"gone", (HOST, ECHO_PORT))
        s.sendto(b"20", (HOST, FIB_PORT))
        s.sendto(b"", (HOST, TIME_PORT))
        s.close()
        count("dead_peer_requests", 3)
        time.sleep(0.02)


threads = [threading.Thread(target=tcp_churn, args=(1,)), threading.Thread(target=tcp_churn, args=(2,)),
           threading.Thread(target=udp_time), threading.Thread(target=udp_fib, args=(3,)),
           threading.Thread(target=udp_fib, args=(4,)), threading.Thread(target=dead_peers)]
for t in threads:
    t.daemon = True
    t.start()
for t in threads:
    t.join(SECS + 30)
for key in sorted(stats):
    print(f"{key}={stats[key]}")
PY
nice -n "$NICE" python3 "$RUN/mixload.py" "$TIME_PORT" "$ECHO_PORT" "$TCP_PORT" "$FIB_PORT" "$FIB_MAX" "$DURATION" \
  >"$RUN/mixload.txt" 2>"$RUN/mixload.err" &
JOBS+=($!)

# --- 4. wait, stop, judge -------------------------------------------------------------------------
while (( SECONDS < END )); do
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 1
done
SERVER_ALIVE=1
kill -0 "$SERVER" 2>/dev/null || SERVER_ALIVE=0

# The load stops by itself (every run is bounded by END); give it a deadline, then stop what is left.
deadline=$((SECONDS + 40))
for pid in "${JOBS[@]}"; do
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  kill -TERM -- "-$pid" 2>/dev/null || true
done
wait "${JOBS[@]}" 2>/dev/null || true
JOBS=()

SERVER_EXIT="died"
if (( SERVER_ALIVE )); then
  kill -TERM "$SERVER"
  deadline=$((SECONDS + 15))
  while kill -0 "$SERVER" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
  if kill -0 "$SERVER" 2>/dev/null; then
    SERVER_EXIT="hung"
    kill -KILL "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  else
    SERVER_EXIT=0
    wait "$SERVER" 2>/dev/null || SERVER_EXIT=$?
  fi
else
  wait "$SERVER" 2>/dev/null || SERVER_EXIT="died (exit $?)"
fi
SERVER=""

export RUN SERVER_EXIT MINUTES
python3 - <<'PY' | tee "$RUN/summary.txt"
import os, re, sys

run = os.environ["RUN"]
failures = []

rows = []
with open(f"{run}/samples.csv") as f:
    next(f)
    for line in f:
        t, rss, fds, threads = (int(x) for x in line.strip().split(","))
        rows.append((t, rss, fds, threads))

def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")

print(f"soak: {os.environ['MINUTES']} min, {len(rows)} samples -> {run}/samples.csv")
if len(rows) < 10:
    failures.append(f"only {len(rows)} samples")
else:
    n = len(rows)
    a = rows[int(n * 0.2):int(n * 0.4)]
    b = rows[int(n * 0.8):]
    rss = [r[1] for r in rows]
    fds = [r[2] for r in rows]
    rss_a, rss_b = mean([r[1] for r in a]), mean([r[1] for r in b])
    fds_a, fds_b = mean([r[2] for r in a]), mean([r[2] for r in b])
    growth = (rss_b / rss_a - 1) * 100
    print(f"RSS MiB: start {rss[0]/1024:.1f}, peak {max(rss)/1024:.1f}, end {rss[-1]/1024:.1f}; "
          f"mean 20-40% {rss_a/1024:.1f}, mean last 20% {rss_b/1024:.1f} ({growth:+.1f}%, limit +20%)")
    print(f"descriptors: start {fds[0]}, peak {max(fds)}, end {fds[-1]}; "
          f"mean 20-40% {fds_a:.1f}, mean last 20% {fds_b:.1f} ({fds_b - fds_a:+.1f}, limit +20)")
    print(f"threads: start {rows[0][3]}, peak {max(r[3] for r in rows)}, end {rows[-1][3]}")
    if growth > 20:
        failures.append(f"RSS grew {growth:.1f}% (mean of the last 20% vs 20-40%)")
    if fds_b - fds_a > 20:
        failures.append(f"descriptors grew by {fds_b - fds_a:.1f} (mean of the last 20% vs 20-40%)")

for mode in ("tcp", "udp"):
    path = f"{run}/echoload-{mode}.txt"
    lines = [l for l in open(path)] if os.path.exists(path) else []
    rcs = [l.strip() for l in open(f"{run}/echoload-{mode}.rc")] if os.path.exists(f"{run}/echoload-{mode}.rc") else []
    kv = [dict(p.split("=", 1) for p in l.split()) for l in lines if l.startswith("mode=")]
    trips = sum(float(k["rps"]) * float(k["secs"]) for k in kv)
    secs = sum(float(k["secs"]) for k in kv)
    errors = sum(int(k["errors"]) for k in kv)
    mism = sum(int(k["mismatches"]) for k in kv)
    lost = sum(int(k["lost"]) for k in kv)
    bad_rc = sum(1 for r in rcs if r != "rc=0")
    p99 = max((float(k["p99_us"]) for k in kv), default=0)
    print(f"echoload {mode}: {len(kv)} runs, {trips:,.0f} round trips ({trips / secs if secs else 0:,.0f}/s), "
          f"errors {errors}, mismatches {mism}, lost {lost}, worst p99 {p99:.0f} us, failed runs {bad_rc}")
    if not kv:
        failures.append(f"echoload {mode} produced no result")
    if errors or mism or bad_rc:
        failures.append(f"echoload {mode}: errors {errors}, mismatches {mism}, failed runs {bad_rc}")

stats = {}
if os.path.exists(f"{run}/mixload.txt"):
    for line in open(f"{run}/mixload.txt"):
        k, _, v = line.strip().partition("=")
        if k:
            stats[k] = int(v)
print("client mix: " + (", ".join(f"{k}={v}" for k, v in stats.items()) or "no result"))
if not stats:
    failures.append("the client mix produced no result")
for key in ("tcp_mismatch", "tcp_extra_bytes", "time_bad_reply", "fib_wrong_reply", "fib_bad_request_not_refused"):
    if stats.get(key):
        failures.append(f"client mix: {key}={stats[key]}")
requests = stats.get("time_requests", 0) + stats.get("fib_requests", 0)
lost = stats.get("time_lost", 0) + stats.get("fib_lost", 0)
if requests and lost > requests * 0.05:
    failures.append(f"client mix: {lost} of {requests} UDP requests unanswered")
if not stats.get("tcp_connections"):
    failures.append("client mix: no TCP connection completed")

err = open(f"{run}/server.err", errors="replace").read().splitlines()
levels = {lvl: sum(1 for l in err if re.search(rf"\b{lvl}: ", l)) for lvl in ("crit", "fail", "warn")}
print(f"server log: {levels['crit']} critical, {levels['fail']} errors, {levels['warn']} warnings "
      f"({run}/server.err); exit after SIGTERM: {os.environ['SERVER_EXIT']}")
for l in [l for l in err if re.search(r"\b(crit|fail): ", l)][:5]:
    print("  " + l)
if levels["crit"] or levels["fail"]:
    failures.append(f"the server logged {levels['crit']} critical and {levels['fail']} error messages")
if os.environ["SERVER_EXIT"] != "0":
    failures.append(f"server exit after SIGTERM: {os.environ['SERVER_EXIT']}")

if failures:
    print("SOAK FAILED: " + "; ".join(failures))
    sys.exit(1)
print("SOAK PASSED")
PY

# bench/latency_lib.sh - sourced by fib_latency.sh and hog_latency.sh: builds the harness if needed,
# publishes eventio (Release), starts one `eventio serve` pinned to CPU 0 with TCP echo on $TCP, and
# measures echo latency with echoload (10 connections x 64 B, CPU 1). The caller sets SECS and may put
# the PID of one background load in BGPID; both it and the server are stopped on exit. SERVE_WRAP runs the
# server under a wrapper, e.g. SERVE_WRAP="setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice" (no CAP_SYS_NICE).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
export BENCH_OUT=${BENCH_OUT:-$HERE/out}
[[ -x $BENCH_OUT/echoload ]] || "$ROOT/../shared/bench/build.sh"
dotnet publish "$ROOT/src/EventIO.Cli" -c Release -o "$BENCH_OUT/eventio" --nologo -v quiet >/dev/null

TCP=$((20000 + RANDOM % 10000))
SRV=
BGPID=
cleanup() { [[ -n $BGPID ]] && kill $BGPID 2>/dev/null; [[ -n $SRV ]] && kill $SRV 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

# start_server ARGS...: `eventio serve ARGS --tcp-echo-port $TCP` on CPU 0; returns once TCP echo answers.
start_server() {
  # shellcheck disable=SC2086
  taskset -c 0 ${SERVE_WRAP:-} "$BENCH_OUT/eventio/eventio" serve "$@" --tcp-echo-port $TCP --log-level warning &
  SRV=$!
  taskset -c 1 "$BENCH_OUT/echoload" tcp -p $TCP -r -d 10 >/dev/null 2>&1   # readiness probe
}

load() { taskset -c 1 "$BENCH_OUT/echoload" tcp -p $TCP -c 10 -s 64 -w 2 -d "$SECS" -S $SRV 2>/dev/null; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# fib32_inflight PORT: on CPU 1, keeps 16 requests of fib(32) in flight against udp-fib on PORT, checking each
# reply (3524578), until killed; sets BGPID so cleanup stops it.
fib32_inflight() {
  taskset -c 1 python3 - "$1" <<'PY' &
import socket, sys, selectors
port = int(sys.argv[1]); sel = selectors.DefaultSelector(); socks = []
for _ in range(16):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('127.0.0.1', port)); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ); s.send(b'32'); socks.append(s)
while True:
    for key, _ in sel.select(timeout=60):
        reply = key.fileobj.recv(64)
        if reply != b'3524578': sys.exit('bad reply: %r' % reply)
        key.fileobj.send(b'32')
PY
  BGPID=$!
}

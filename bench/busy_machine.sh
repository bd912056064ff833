#!/usr/bin/env bash
# bench/busy_machine.sh - the worker policy on a busy machine (issue 14), with the default settings
# unless SERVE_ARGS says otherwise (e.g. SERVE_ARGS="--worker-priority low").
#  1. fib 30 reply time, quiet machine (median of 5) against the same with two CPU hogs at normal
#     priority, pinned one per CPU (`while :; do :; done`). Bar: hogs/quiet <= 4.
#  2. TCP echo p99 (echoload, 10 x 64 B) idle against while 16 `fib 32` are in flight. Bar: <= 1.5.
#   bench/busy_machine.sh [SECONDS=3]
set -euo pipefail
SECS=${1:-3}
source "$(dirname "${BASH_SOURCE[0]}")/latency_lib.sh"
FIB=$((TCP + 1))
HOGS=()
stop_hogs() { for h in "${HOGS[@]}"; do kill "$h" 2>/dev/null || true; done; HOGS=(); }
trap 'stop_hogs; cleanup' EXIT
# shellcheck disable=SC2086
start_server --only tcp-echo,udp-fib --fib-port $FIB ${SERVE_ARGS:-}

# fib_ms N COUNT: median reply time of COUNT sequential `fib N` requests, in ms (timeout 300 s each).
fib_ms() {
  python3 - "$FIB" "$1" "$2" <<'PY'
import socket, statistics, sys, time
port, n, count = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(300); s.connect(('127.0.0.1', port))
times = []
for _ in range(count):
    t = time.perf_counter(); s.send(n); reply = s.recv(64); times.append((time.perf_counter() - t) * 1000)
    if reply.startswith(b'error'): sys.exit('bad reply %r' % reply)
print('%.1f' % statistics.median(times))
PY
}

fib_ms 25 3 >/dev/null                       # warm-up (JIT)
quiet=$(fib_ms 30 5)
for cpu in 0 1; do taskset -c $cpu sh -c 'while :; do :; done' & HOGS+=($!); done
busy=$(fib_ms 30 3)
stop_hogs
echo "fib 30: quiet ${quiet} ms, two CPU hogs ${busy} ms, ratio $(python3 -c "print(f'{$busy/$quiet:.1f}')") (bar 4)"

idle=$(load)
fib32_inflight "$FIB"
busyecho=$(load)
kill $BGPID 2>/dev/null || true; wait $BGPID 2>/dev/null || true; BGPID=
i99=$(field p99_us <<<"$idle"); b99=$(field p99_us <<<"$busyecho")
echo "echo p99: idle ${i99} us, 16 fib 32 in flight ${b99} us, ratio $(python3 -c "print(f'{$b99/$i99:.2f}')") (bar 1.5)"

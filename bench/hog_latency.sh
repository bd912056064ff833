#!/usr/bin/env bash
# bench/hog_latency.sh - clients that write without reading must cost a bounded amount of memory and
# must not slow anyone else. TCP echo latency (echoload, 10 connections x 64 B) and server RSS with no
# hog, then while HOGS clients each try to write 100 MiB and never read, on the SAME eventio process.
# Server pinned to CPU 0, load and hogs on CPU 1.
#   bench/hog_latency.sh [ROUNDS=3] [SECONDS=5] [HOGS=8]
# Prints p50/p99 and RSS per phase, the p99 ratio hogs/none and the RSS growth per hog (the watermark is 1 MiB).
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-5}
HOGS=${3:-8}
source "$(dirname "${BASH_SOURCE[0]}")/latency_lib.sh"
start_server --only tcp-echo
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SRV/status"; }

printf '%-6s %-6s %10s %10s %10s %8s %8s\n' round phase rps p50_us p99_us srv_cpu rss_mib
for r in $(seq 1 "$ROUNDS"); do
  none=$(load); none_rss=$(rss_mib)
  # HOGS connections, each sending 100 MiB with blocking writes and never reading: each blocks for good
  # once the server stops reading it. On SIGTERM the script prints how much each got out; if one ever
  # writes all 100 MiB it exits 3 at once (the server read everything from a client that never reads).
  taskset -c 1 python3 - "$TCP" "$HOGS" <<'PY' &
import os, signal, socket, sys, threading
port, hogs = int(sys.argv[1]), int(sys.argv[2])
chunk, limit = b'h' * (64 << 10), 100 << 20
written = [0] * hogs
def hog(i):
    s = socket.create_connection(('127.0.0.1', port))
    while written[i] < limit:
        written[i] += s.send(chunk)
    print('hog %d wrote 100 MiB: the server read everything from a client that never reads' % i, flush=True)
    os._exit(3)
def report(*_):
    print('hogs: MiB written before the server stopped reading: ' + ' '.join('%.1f' % (w / 1048576) for w in written), flush=True)
    os._exit(0)
signal.signal(signal.SIGTERM, report)
for i in range(hogs):
    threading.Thread(target=hog, args=(i,), daemon=True).start()
while True:
    signal.pause()
PY
  BGPID=$!
  hogs=$(load); hogs_rss=$(rss_mib)
  kill $BGPID 2>/dev/null || true
  status=0; wait $BGPID || status=$?; BGPID=
  if [[ $status -ne 0 ]]; then echo "FAILED: a hog exited $status" >&2; exit 1; fi
  for phase in none hogs; do
    line=${!phase}; rss_var=${phase}_rss
    printf '%-6s %-6s %10s %10s %10s %8s %8s\n' "$r" "$phase" "$(field rps <<<"$line")" "$(field p50_us <<<"$line")" "$(field p99_us <<<"$line")" "$(field cpu_server_pct <<<"$line")" "${!rss_var}"
  done
  n99=$(field p99_us <<<"$none"); h99=$(field p99_us <<<"$hogs")
  echo "round $r: p99 hogs/none = $(python3 -c "print(f'{$h99/$n99:.2f}')"), RSS +$(python3 -c "print(f'{($hogs_rss-$none_rss)/$HOGS:.2f}')") MiB per hog"
done

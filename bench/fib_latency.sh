#!/usr/bin/env bash
# bench/fib_latency.sh - the recipe's promise, measured: slow work on the worker pool must not stall
# the loop. TCP echo latency (echoload, 10 connections x 64 B) with the pool idle, then while 16
# Fibonacci requests of n=32 are computing all the time (a client keeps 16 in flight), on the SAME
# eventio process (tcp-echo and udp-fib share one loop). Server pinned to CPU 0 with its workers, load on CPU 1.
#   bench/fib_latency.sh [ROUNDS=3] [SECONDS=5]
# Prints p50/p99 per phase and the ratio busy/idle of the p99 (the bar: <= 1.5).
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-5}
source "$(dirname "${BASH_SOURCE[0]}")/latency_lib.sh"
FIB=$((TCP + 1))
start_server --only tcp-echo,udp-fib --fib-port $FIB

printf '%-6s %-6s %10s %10s %10s %8s\n' round phase rps p50_us p99_us srv_cpu
for r in $(seq 1 "$ROUNDS"); do
  idle=$(load)
  # 16 requests of fib(32) always in flight; each reply is checked (fib(32) = 3524578).
  fib32_inflight "$FIB"
  busy=$(load)
  kill $BGPID; wait $BGPID 2>/dev/null || true; BGPID=
  for phase in idle busy; do
    line=${!phase}
    printf '%-6s %-6s %10s %10s %10s %8s\n' "$r" "$phase" "$(field rps <<<"$line")" "$(field p50_us <<<"$line")" "$(field p99_us <<<"$line")" "$(field cpu_server_pct <<<"$line")"
  done
  i99=$(field p99_us <<<"$idle"); b99=$(field p99_us <<<"$busy")
  echo "round $r: p99 busy/idle = $(python3 -c "print(f'{$b99/$i99:.2f}')")"
done

#!/usr/bin/env bash
# bench/compare.sh - build eventio in Release and run the shared benchmark harness
# (../shared/bench/compare.sh) with EventIO added beside the reference servers.
#
#   bench/compare.sh                      # TCP 64 B x 100 connections, every reference server, 3 rounds
#   bench/compare.sh --mode udp -c 64     # any compare.sh option passes through (later ones win)
#   bench/compare.sh --servers c_epoll    # EventIO against C on epoll only
#
# Results go to $BENCH_OUT/results/<time>-<params>/ (default bench/out, gitignored).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SHARED=${EVENTIO_SHARED_BENCH:-$ROOT/../shared/bench}
export BENCH_OUT=${BENCH_OUT:-$HERE/out}

if [[ ! -x $BENCH_OUT/echoload ]]; then
  "$SHARED/build.sh"   # the load generator and the reference servers (once)
fi

dotnet publish "$ROOT/src/EventIO.Cli" -c Release -o "$BENCH_OUT/eventio" --nologo -v quiet >/dev/null
# Only the server being measured runs ({proto}-echo), so nothing else shares its core; the
# apphost is exec'd directly so that its PID is the one measured.
EVENTIO="$BENCH_OUT/eventio/eventio serve --only {proto}-echo --tcp-echo-port {port} --echo-port {port} --log-level warning"

exec "$SHARED/compare.sh" \
  --servers "c_epoll libuv node asyncio uvloop netty seed128 dotnet_async dotnet_inline" \
  --baseline c_epoll -w 3 --repeat 3 \
  --extra "eventio=$EVENTIO" \
  "$@"

#!/usr/bin/env bash
set -u
E=/tmp/eio-10/eventio
PORT=29991
DOTNET_PerfMapEnabled=1 taskset -c 0 $E serve --only tcp-echo --tcp-echo-port $PORT --loops 1 --backend io_uring --log-level warning &
S=$!
sleep 2
taskset -c 1 /work/main/bench/out/echoload tcp -p $PORT -c 100 -s 64 -w 3 -d 10 > /tmp/bench/perf.load 2>&1 &
L=$!
sleep 4
perf record -F 1999 -g -e cpu-clock -p $S -o /tmp/bench/perf.data -- sleep 5 2>/tmp/bench/perf.rec.err
wait $L
kill -TERM $S; wait $S
perf report -i /tmp/bench/perf.data --no-children --sort dso --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -15 > /tmp/bench/perf.dso
perf report -i /tmp/bench/perf.data --no-children --sort sym --stdio -g none 2>/dev/null | grep -v "^#" | grep -v "^$" | head -40 > /tmp/bench/perf.sym

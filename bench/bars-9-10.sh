#!/usr/bin/env bash
# Usage: bench/bars-9-10.sh (after ../shared/bench/build.sh and a Release publish of src/EventIO.Cli to /tmp/eio-10).
# Issue 9 and 10 benchmarks, one after another. Figures go to /tmp/bench/<name>.log
set -u
export BENCH_OUT=/work/main/bench/out
C=/work/shared/bench/compare.sh
E=/tmp/eio-10/eventio
T="serve --only tcp-echo --tcp-echo-port {port} --loops 1 --log-level warning"
U="serve --only udp-echo --echo-port {port} --loops 1 --log-level warning"
COMMON="-w 3 --syscalls --quiet 0 --retries 0"
mkdir -p /tmp/bench
run() { name=$1; shift; echo "== $name $(date +%T)"; $C "$@" $COMMON --results /tmp/bench/$name > /tmp/bench/$name.log 2>&1; tail -8 /tmp/bench/$name.log; }
run tcp64x100 -c 100 -s 64 --servers "c_uring c_epoll" --baseline c_uring --repeat 5 --extra "eio_epoll=$E $T --backend epoll" --extra "eio_uring=$E $T --backend io_uring"
run udp64x64 --mode udp -c 64 -s 64 --servers "c_mmsg c_epoll" --baseline c_mmsg --repeat 5 --extra "eio_epoll=$E $U --backend epoll" --extra "eio_uring=$E $U --backend io_uring"
run tcp64x1000 -c 1000 -s 64 --servers "c_uring c_epoll" --baseline c_uring --repeat 5 --extra "eio_epoll=$E $T --backend epoll" --extra "eio_uring=$E $T --backend io_uring"
run tcp4kx100 -c 100 -s 4096 --servers "c_uring c_epoll" --baseline c_uring --repeat 5 --extra "eio_epoll=$E $T --backend epoll" --extra "eio_uring=$E $T --backend io_uring"
run tcp64x100p16 -c 100 -s 64 -P 16 --servers "c_uring" --baseline c_uring --repeat 5 --extra "eio_epoll=$E $T --backend epoll" --extra "eio_uring=$E $T --backend io_uring"
run udp64x1000 --mode udp -c 1000 -s 64 --servers "c_mmsg c_epoll" --baseline c_mmsg --repeat 5 --extra "eio_epoll=$E $U --backend epoll" --extra "eio_uring=$E $U --backend io_uring"
run idle10k -c 100 -s 64 -C 10000 --servers "c_epoll" --baseline c_epoll --repeat 3 --extra "eio_epoll=$E $T --backend epoll" --extra "eio_uring=$E $T --backend io_uring"
T2="serve --only tcp-echo --tcp-echo-port {port} --log-level warning --backend epoll"
run loops100 -c 100 -s 64 -t 2 --no-pin --servers "c_epoll" --baseline c_epoll --repeat 5 --extra "loops1=$E $T2 --loops 1" --extra "loops2=$E $T2 --loops 2"
run loops1000 -c 1000 -s 64 -t 2 --no-pin --servers "c_epoll" --baseline c_epoll --repeat 5 --extra "loops1=$E $T2 --loops 1" --extra "loops2=$E $T2 --loops 2"
echo "== done $(date +%T)"

#!/usr/bin/env bash
# bench/startup.sh - how fast `eventio serve` is ready and how much memory it holds idle, for one or more
# builds side by side (the JIT build, the NativeAOT executable, the installed tool):
#   bench/startup.sh [-n RUNS] NAME=PATH-TO-EVENTIO ...
# Each run starts `PATH serve` (all four servers, ports 0) pinned to CPU 0, times exec to the first and to
# the fourth `listening` line, waits 1 s, reads VmRSS, sends SIGTERM and checks exit code 0. Prints the
# median, min and max over the runs. Runs alternate between the builds, so a noisy moment hits all.
set -euo pipefail
RUNS=20
if [[ ${1:-} == -n ]]; then RUNS=$2; shift 2; fi
[[ $# -gt 0 ]] || { echo "usage: bench/startup.sh [-n RUNS] NAME=PATH ..." >&2; exit 1; }
exec python3 - "$RUNS" "$@" <<'PY'
import os, signal, statistics, subprocess, sys, time

runs = int(sys.argv[1])
builds = [arg.split('=', 1) for arg in sys.argv[2:]]
results = {name: {'first': [], 'all': [], 'rss': []} for name, _ in builds}

def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        return next(int(l.split()[1]) for l in f if l.startswith('VmRSS:'))

for _ in range(runs):
    for name, path in builds:
        args = ['taskset', '-c', '0', path, 'serve', '--time-port', '0', '--echo-port', '0',
                '--tcp-echo-port', '0', '--fib-port', '0', '--log-level', 'warning']
        started = time.perf_counter()
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines = []
        while len(lines) < 4:
            line = p.stdout.readline()
            if not line:
                sys.exit(f'{name}: serve ended before listening (exit {p.wait()})')
            if line.startswith('listening '):
                lines.append(time.perf_counter())
        results[name]['first'].append((lines[0] - started) * 1000)
        results[name]['all'].append((lines[3] - started) * 1000)
        time.sleep(1)
        results[name]['rss'].append(rss_kib(p.pid) / 1024)
        p.send_signal(signal.SIGTERM)
        try:
            code = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            sys.exit(f'{name}: no exit within 10 s of SIGTERM')
        if code != 0:
            sys.exit(f'{name}: exit code {code} after SIGTERM')

def cell(values, fmt):
    return f'{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})'

print(f'# {runs} runs each, serve with all four servers, pinned to CPU 0; median (min–max)')
print(f'{"build":<10} {"ms to first listening":>26} {"ms to all four":>26} {"RSS idle MiB":>22}')
for name, _ in builds:
    r = results[name]
    print(f'{name:<10} {cell(r["first"], "{:.1f}"):>26} {cell(r["all"], "{:.1f}"):>26} {cell(r["rss"], "{:.1f}"):>22}')
PY

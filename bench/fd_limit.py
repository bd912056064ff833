#!/usr/bin/env python3
"""bench/fd_limit.py - `serve` held at its descriptor limit while everything that might need one more happens.

Starts `eventio serve` (all four servers, --loops 2 by default) with RLIMIT_NOFILE = LIMIT (default: this
shell's hard limit, as `serve` raises its soft limit to the hard one), opens connections from two client
processes until the server sheds new ones (its table is full), then, for SECONDS, keeps every served
connection echoing (tiered JIT recompiles in the background: runtime threads start), sends Fibonacci work
(worker threads run; without CAP_SYS_NICE, demoted ones are replaced by new threads) and UDP time/echo
requests, and opens more connections (shed at once). Then SIGTERM. It passes if the server never dies,
answers UDP throughout, and exits 0 without a runtime error on stderr.

  bench/fd_limit.py [--limit N] [--seconds S] [--wrap "setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice"] [-- serve args]
"""
import argparse, os, resource, selectors, shlex, signal, socket, subprocess, sys, time
from multiprocessing import Process, Queue

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def client(port, count, seconds, out):
    """Opens `count` connections; echoes on the served ones for `seconds`; reports (served, shed, rounds, errors)."""
    socks, served, shed = [], [], 0
    for _ in range(count):
        s = socket.socket(); s.settimeout(10)
        try:
            s.connect(('127.0.0.1', port))
        except OSError:
            shed += 1; s.close(); continue
        socks.append(s)
    for s in socks:                      # served, or closed at once by the server at its limit
        try:
            s.sendall(b'x')
            served.append(s) if s.recv(1) == b'x' else None
            if not served or served[-1] is not s:
                shed += 1; s.close()
        except OSError:
            shed += 1; s.close()
    rounds = errors = 0
    end = time.time() + seconds
    payload = os.urandom(64)
    while time.time() < end:
        for s in served[:2000]:          # a few thousand echoes a second keep the JIT and the loops busy
            try:
                s.sendall(payload)
                got = b''
                while len(got) < 64:
                    chunk = s.recv(64 - len(got))
                    if not chunk:
                        raise OSError('closed')
                    got += chunk
                errors += got != payload
                rounds += 1
            except OSError:
                errors += 1
    out.put((len(served), shed, rounds, errors))
    for s in served:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--limit', type=int, default=resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--wrap', default='')
    ap.add_argument('serve', nargs='*')
    a = ap.parse_args()
    exe = os.path.join(ROOT, 'bench', 'out', 'eventio', 'eventio')
    if not os.access(exe, os.X_OK):
        subprocess.run(['dotnet', 'publish', os.path.join(ROOT, 'src', 'EventIO.Cli'), '-c', 'Release', '-o', os.path.dirname(exe), '-v', 'quiet'], check=True)
    args = a.serve or ['--loops', '2']
    cmd = f"ulimit -n {a.limit} && exec {a.wrap} {exe} serve --time-port 0 --echo-port 0 --tcp-echo-port 0 --fib-port 0 {' '.join(map(shlex.quote, args))}"
    srv = subprocess.Popen(['bash', '-c', cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ports = {}
    while len(ports) < 4:
        line = srv.stdout.readline()
        if not line:
            sys.exit('serve exited: ' + srv.stderr.read())
        name, addr = line.split()[1:3]
        ports[name] = int(addr.rsplit(':', 1)[1])
    print(f'serve pid {srv.pid}, RLIMIT_NOFILE {a.limit}, {args}', flush=True)

    per = a.limit // 2 + 500             # together more than the server can hold
    q = Queue()
    clients = [Process(target=client, args=(ports['tcp-echo'], per, a.seconds, q)) for _ in range(2)]
    for c in clients:
        c.start()

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.settimeout(5)
    start, answered, lost, fib = time.time(), 0, 0, 0
    peak_fds = peak_maps = 0
    deadline = start + a.seconds + 120
    while any(c.is_alive() for c in clients) and time.time() < deadline:
        if srv.poll() is not None:
            break
        try:
            peak_fds = max(peak_fds, len(os.listdir(f'/proc/{srv.pid}/fd')))
            with open(f'/proc/{srv.pid}/maps') as maps:
                peak_maps = max(peak_maps, sum(1 for _ in maps))
        except OSError:
            pass
        for name, req in (('udp-echo', b'hello'), ('udp-time', b''), ('udp-fib', b'27'), ('udp-fib', b'25')):
            udp.sendto(req, ('127.0.0.1', ports[name]))
            try:
                reply = udp.recv(64); answered += 1
                fib += name == 'udp-fib' and reply[:1].isdigit()
            except socket.timeout:
                lost += 1
        time.sleep(0.01)
    results = [q.get(timeout=60) for _ in clients]
    for c in clients:
        c.join()
    fds = len(os.listdir(f'/proc/{srv.pid}/fd')) if srv.poll() is None else -1
    alive = srv.poll() is None
    srv.send_signal(signal.SIGTERM) if alive else None
    try:
        _, err = srv.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        srv.kill(); _, err = srv.communicate()
    served = sum(r[0] for r in results); shed = sum(r[1] for r in results)
    rounds = sum(r[2] for r in results); errors = sum(r[3] for r in results)
    print(f'connections served {served}, shed {shed}; server descriptors at most {peak_fds} of {a.limit}, at the end {fds}; memory mappings at most {peak_maps}')
    print(f'echo rounds {rounds} ({errors} errors); UDP answered {answered}, unanswered {lost}, Fibonacci replies {fib}')
    bad = [l for l in err.splitlines() if any(k in l for k in ('Unhandled', 'Fatal', 'Aborted', 'Segmentation', 'OutOfMemory', 'EMFILE', 'Too many open files'))]
    print(f'server alive through the run: {alive}; exit code {srv.returncode}')
    for l in err.splitlines():
        if any(k in l for k in ('totals', 'workers', 'descriptor', 'pause')):
            print('  ' + l)
    for l in bad[:10]:
        print('  !! ' + l)
    ok = alive and srv.returncode == 0 and not [l for l in bad if any(k in l for k in ('Unhandled', 'Fatal', 'OutOfMemory'))] and errors == 0 and lost == 0
    print('PASS' if ok else 'FAIL')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()

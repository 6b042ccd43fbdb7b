#!/usr/bin/env python3
"""ss over 108,000 established TCP sockets in one namespace: iproute2's `ss`
vs the netobs `ss` example, in one run, alternating, on the same world.

The sockets are 54,000 loopback connections (both ends) held by six
processes (the fd limit is 20,000 per process). For each option set the
script checks that both outputs are identical (-tan, -tanp) or have the same
lines (-tin, whose timers and rates move), then reports median wall, user
and sys time and the ratio. With --walk it also runs the library walk bench
(benches/sockdiag_walk.rs) on the same namespace. Run as root; the script
builds the release example first (release_example.py):

    python3 benches/ss_108k.py [--sockets 108000] [--runs 3] [--walk]
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

import release_example

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
NS = "nbench-ss"

WORKER = r"""
import socket, sys, resource
conns, port = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port)); l.listen(4096)
keep = []
for i in range(conns):
    c = socket.create_connection(("127.0.0.1", port)); a, _ = l.accept(); keep += [c, a]
print("ready", flush=True)
sys.stdin.read()
"""


def sh(*cmd):
    subprocess.run(cmd, check=True)


def run(cmd, out=os.devnull):
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        p = subprocess.Popen(cmd, stdout=f)
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{cmd} failed with status {status}")
    return wall, ru.ru_utime, ru.ru_stime


def output(cmd):
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sockets", type=int, default=108000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--walk", action="store_true")
    ap.add_argument("--hold", action="store_true",
                    help="only build the world and hold it until interrupted (for profiling)")
    a = ap.parse_args()
    example = release_example.build("ss")
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
    sh("ip", "netns", "add", NS)
    holders = []
    try:
        sh("ip", "-n", NS, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", NS, "sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000")
        sh("ip", "netns", "exec", NS, "sysctl", "-qw", "net.core.somaxconn=8192")
        per = 9000
        conns = a.sockets // 2
        port = 2000
        t0 = time.time()
        while conns > 0:
            n = min(per, conns)
            p = subprocess.Popen(["ip", "netns", "exec", NS, "python3", "-c", WORKER, str(n), str(port)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            if p.stdout.readline().strip() != b"ready":
                sys.exit("socket holder failed")
            holders.append(p)
            conns -= n
            port += 1
        print(f"world: {a.sockets} established sockets + {len(holders)} listeners "
              f"in {len(holders)} processes ({time.time() - t0:.1f} s to build)", flush=True)
        if a.hold:
            # SIGINT is ignored by background jobs: take SIGTERM too.
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return

        for args in (["-tan"], ["-tin"], ["-tanp"]):
            ss_cmd = ["ss", "-N", NS] + args
            ours = [example, "-N", NS] + args
            want, got = output(ss_cmd), output(ours)
            if args == ["-tin"]:
                same = len(want.splitlines()) == len(got.splitlines())
            else:
                same = want == got
            print(f"ss {' '.join(args)}: outputs {'identical' if same else 'DIFFER'} "
                  f"({len(want.splitlines())} lines, {len(want)} bytes)")
            res = {"iproute2": [], "netobs": []}
            for _ in range(a.runs):
                res["iproute2"].append(run(ss_cmd))
                res["netobs"].append(run(ours))
            med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in res.items()}
            for k in ("iproute2", "netobs"):
                w, u, s = med[k]
                print(f"  {k:9s} wall {w*1e3:8.1f} ms  user {u*1e3:8.1f} ms  sys {s*1e3:7.1f} ms")
            print(f"  ratio (iproute2/netobs): wall {med['iproute2'][0] / med['netobs'][0]:.2f}x, "
                  f"cpu {(med['iproute2'][1] + med['iproute2'][2]) / (med['netobs'][1] + med['netobs'][2]):.2f}x")
        if subprocess.run(["which", "netstat"], capture_output=True).returncode == 0:
            w = statistics.median(run(["ip", "netns", "exec", NS, "netstat", "-tan"])[0] for _ in range(a.runs))
            print(f"netstat -tan: wall {w*1e3:.1f} ms")
        if a.walk:
            env = dict(os.environ, NETOBS_BENCH_NS=NS)
            subprocess.run(["cargo", "bench", "--bench", "sockdiag_walk"], cwd=ROOT, env=env, check=True)
    finally:
        for p in holders:
            p.kill()
            p.wait()
        subprocess.run(["ip", "netns", "del", NS])


if __name__ == "__main__":
    main()

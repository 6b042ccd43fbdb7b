#!/usr/bin/env python3
"""`netobs.sockets()` vs pyroute2's sock_diag dump vs psutil.net_connections()
vs the bare kernel dump, for N TCP sockets (default 100k) in one namespace,
in one run, alternating, on the same world. Prints medians and the ratios
the netobs-py issue sets as goals: at least 20x faster than pyroute2, within
2x of the bare kernel dump, and a DataFrame of 100k sockets in under 1/3 s.

Run as root with the netobs wheel, pyroute2, psutil and pandas installed in
the Python that runs it (scripts/test-python leaves a venv in
target/py-venv; `target/py-venv/bin/pip install psutil`):

    target/py-venv/bin/python benches/py_sockets.py [--sockets 100000] [--runs 5]

The world: worker processes in the namespace (a process may hold 20000 fds
here) each listen on their own port and hold ~8300 loopback connections,
both ends open: 2 ESTAB sockets per connection. The timings run in a process
inside the namespace (psutil and pyroute2's DiagSocket have no netns
argument), each case dumping TCP over IPv4 and IPv6 in all states:

- netobs: `netobs.sockets()` (a Table of every socket, 17 columns filled);
  "+to_pandas()" builds the DataFrame too;
- pyroute2: `DiagSocket().get_sock_stats(family=AF_INET/AF_INET6)` (parsed messages);
- psutil: `psutil.net_connections(kind="tcp")` (/proc/net/tcp{,6} and /proc/*/fd);
- bare dump: the same two inet_diag requests on a raw netlink socket in
  Python, receiving every datagram and parsing nothing.
"""
import argparse
import os
import socket
import struct
import subprocess
import sys
import time

from pybench import alternate

WORKER = r"""
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(4096)
keep = []
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = l.accept()
    keep += [c, s]
print("ready", flush=True)
sys.stdin.read()
"""

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
NLMSG_DONE, NLMSG_ERROR = 3, 2


def bare_dump():
    """Both inet_diag dumps (TCP over IPv4 and IPv6, all states) on a raw
    netlink socket; returns the number of messages, parsing nothing else."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    n = 0
    for seq, fam in enumerate((socket.AF_INET, socket.AF_INET6), 1):
        # struct inet_diag_req_v2: family, protocol, ext, pad, states, id (48 bytes).
        req = struct.pack("=BBBxI48x", fam, socket.IPPROTO_TCP, 0, 0xFFF)
        s.send(struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + req)
        done = False
        while not done:
            buf = s.recv(1 << 16)
            off = 0
            while off < len(buf):
                length, kind = struct.unpack_from("=IH", buf, off)
                if kind in (NLMSG_DONE, NLMSG_ERROR):
                    done = True
                    break
                n += 1
                off += (length + 3) & ~3
    s.close()
    return n


def measure(runs):
    import netobs
    import pandas  # noqa: F401
    import psutil
    from pyroute2 import DiagSocket

    ds = DiagSocket()
    ds.bind()

    def pyroute2_dump():
        return len(ds.get_sock_stats(family=socket.AF_INET)) + len(ds.get_sock_stats(family=socket.AF_INET6))

    n = len(netobs.sockets())
    counts = {"pyroute2": pyroute2_dump(), "psutil": len(psutil.net_connections(kind="tcp")), "bare": bare_dump()}
    print(f"{n} TCP sockets; pyroute2 sees {counts['pyroute2']}, psutil {counts['psutil']}, the bare dump {counts['bare']}")
    cases = {
        "bare kernel dump (Python)": bare_dump,
        "netobs.sockets()": lambda: netobs.sockets(),
        "netobs.sockets().to_pandas()": lambda: netobs.sockets().to_pandas(),
        "pyroute2 get_sock_stats()": pyroute2_dump,
        "psutil.net_connections()": lambda: psutil.net_connections(kind="tcp"),
    }
    med = alternate(cases, runs, f"{n} TCP sockets")
    ours = med["netobs.sockets()"]
    print(f"  pyroute2 / netobs:           {med['pyroute2 get_sock_stats()'] / ours:6.1f}x  (goal >= 20x)")
    print(f"  psutil / netobs:             {med['psutil.net_connections()'] / ours:6.1f}x")
    print(f"  netobs / bare kernel dump:   {ours / med['bare kernel dump (Python)']:6.2f}x  (goal <= 2x)")
    print(f"  DataFrame of {n} sockets:   {med['netobs.sockets().to_pandas()'] * 1000:6.1f} ms  (goal < 333 ms for 100k)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sockets", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.measure:
        return measure(a.runs)
    ns = f"nbt-pybench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    workers = []
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        connections = a.sockets // 2
        per = 8300
        t0 = time.perf_counter()
        for i in range(0, connections, per):
            n = min(per, connections - i)
            p = subprocess.Popen(
                ["ip", "netns", "exec", ns, sys.executable, "-c", WORKER, str(20000 + len(workers)), str(n)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            workers.append(p)
        for p in workers:
            if p.stdout.readline().strip() != "ready":
                sys.exit("a worker failed to build its connections")
        print(f"world: {connections} loopback connections in {len(workers)} processes, built in {time.perf_counter() - t0:.1f} s")
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, __file__, "--measure", "--runs", str(a.runs)], check=True)
    finally:
        for p in workers:
            p.stdin.close()
        for p in workers:
            p.wait()
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    main()

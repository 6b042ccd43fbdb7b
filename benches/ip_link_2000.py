#!/usr/bin/env python3
"""`ip -s link` over 2000 veth interfaces in one namespace: iproute2's `ip`
vs the netobs `ip` example, in one run, alternating, on the same world.

Prints median wall, user and sys time of each and the ratios. Run as root;
the script builds the release example first (release_example.py):

    python3 benches/ip_link_2000.py [--runs 15] [--links 2000]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import release_example


def run(cmd):
    """Runs cmd with stdout to /dev/null; returns (wall, user, sys) seconds."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as null:
        p = subprocess.Popen(cmd, stdout=null)
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{cmd} failed with status {status}")
    return wall, ru.ru_utime, ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--links", type=int, default=2000)
    ap.add_argument("--args", default="-s link", help="ip arguments to compare")
    a = ap.parse_args()
    example = release_example.build("ip")
    ns = f"nbt-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        batch = "".join(f"link add b{i}a type veth peer name b{i}b\n" for i in range(a.links // 2))
        subprocess.run(["ip", "-n", ns, "-batch", "-"], input=batch.encode(), check=True)
        args = a.args.split()
        ref = subprocess.run(["ip", "-n", ns] + args, capture_output=True, check=True).stdout
        ours = subprocess.run([example, "-n", ns] + args, capture_output=True, check=True).stdout
        assert ref == ours, "outputs differ: the comparison would be meaningless"
        res = {"iproute2": [], "netobs": []}
        for _ in range(a.runs):
            res["iproute2"].append(run(["ip", "-n", ns] + args))
            res["netobs"].append(run([example, "-n", ns] + args))
        med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in res.items()}
        print(f"ip {a.args} over {a.links} veth links + lo, {a.runs} alternating runs, output {len(ref)} bytes, identical")
        for k, (w, u, s) in med.items():
            print(f"  {k:9} wall {w*1000:8.2f} ms   user {u*1000:8.2f} ms   sys {s*1000:8.2f} ms   cpu {(u+s)*1000:8.2f} ms")
        (wi, ui, si), (wn, un, sn) = med["iproute2"], med["netobs"]
        print(f"  ratio iproute2/netobs: wall {wi/wn:.2f}x, cpu {(ui+si)/max(un+sn, 1e-9):.2f}x, user {ui/max(un, 1e-9):.2f}x")
    finally:
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`netobs.links()` vs pyroute2 `IPRoute().get_links()` vs `ip -s link`
over 2000 veth interfaces (+ lo) in one namespace, in one run, alternating,
on the same world. Prints medians and the ratios the netobs-py issue sets
as goals (>= 20x faster than pyroute2, not slower than `ip -s link`).

Run as root, with the netobs wheel and pyroute2 installed in the Python
that runs it (scripts/test-python leaves such a venv in target/py-venv):

    target/py-venv/bin/python benches/py_links_2000.py [--runs 11] [--links 2000]

- netobs: `netobs.links(netns=NS)`: opens a socket in the namespace, dumps,
  and returns the Table (every attribute and all 25 counters of each link);
  "+rows" also makes every row object; "+pandas" builds the DataFrame.
- pyroute2: `IPRoute(netns=NS)` opened once outside the timing, then
  `list(ipr.get_links())` (the dump and its parsed messages).
- ip: `ip -n NS -s link` as a process, output to /dev/null (its wall time
  includes the exec, as a notebook's `!ip -s link` would).
"""
import argparse
import os
import subprocess
import sys

import netobs
from pybench import alternate

try:
    from pyroute2 import IPRoute
except ImportError:
    sys.exit("pip install pyroute2 first")


def ip_s_link(ns):
    with open(os.devnull, "wb") as null:
        subprocess.run(["ip", "-n", ns, "-s", "link"], stdout=null, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--links", type=int, default=2000)
    a = ap.parse_args()
    try:
        import pandas  # noqa: F401

        have_pandas = True
    except ImportError:
        have_pandas = False

    ns = f"nbt-pybench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        batch = "".join(f"link add b{i}a type veth peer name b{i}b\n" for i in range(a.links // 2))
        subprocess.run(["ip", "-n", ns, "-batch", "-"], input=batch.encode(), check=True)
        ipr = IPRoute(netns=ns)
        n_ours, n_theirs = len(netobs.links(netns=ns)), len(list(ipr.get_links()))
        assert n_ours == n_theirs == a.links + 1, (n_ours, n_theirs)

        cases = {
            "netobs.links()": lambda: netobs.links(netns=ns),
            "netobs.links() +rows": lambda: list(netobs.links(netns=ns)),
            "pyroute2 get_links()": lambda: list(ipr.get_links()),
            "ip -s link (process)": lambda: ip_s_link(ns),
        }
        if have_pandas:
            cases["netobs.links().to_pandas()"] = lambda: netobs.links(netns=ns).to_pandas()
        med = alternate(cases, a.runs, f"{a.links} veth links + lo in one namespace")
        ipr.close()
        ours = med["netobs.links()"]
        print(f"  ratio pyroute2 / netobs.links():        {med['pyroute2 get_links()'] / ours:6.1f}x  (goal >= 20x)")
        print(f"  ratio ip -s link / netobs.links():      {med['ip -s link (process)'] / ours:6.1f}x  (goal >= 1x)")
        print(f"  ratio pyroute2 / netobs.links() +rows:  {med['pyroute2 get_links()'] / med['netobs.links() +rows']:6.1f}x")
    finally:
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A trafgen flood over veth: the netobs `tcpdump` example vs tcpdump, both
writing to /dev/null with the same filter, in one run.

trafgen (Debian netsniff-ng) sends 64-byte UDP frames from one namespace
on core 0; the capture runs in the peer namespace pinned to core 1. For
each tool and run: CPU time of the capture process (user + sys) per
million packets, packets captured and dropped (from its own report),
alternating tools between runs. Prints medians and ratios. Run as root;
the script builds the release example first (release_example.py):

    python3 benches/capture_flood.py [--runs 5] [--packets 2000000] [--filter udp]
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import release_example

SRC_MAC = [0x02, 0, 0, 0, 0, 0x0A]
DST_MAC = [0x02, 0, 0, 0, 0, 0x0B]


def frame_cfg():
    """A 60-byte Ethernet/IPv4/UDP frame (64 on the wire with FCS)."""
    payload = 18
    ip = [0x45, 0, 0, 20 + 8 + payload, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 80, 0, 1, 10, 80, 0, 2]
    udp = [0x0F, 0xA0, 0x13, 0x88, 0, 8 + payload, 0, 0]
    b = DST_MAC + SRC_MAC + [0x08, 0x00] + ip + udp + [0x5A] * payload
    return "{ " + ", ".join(f"0x{x:02x}" for x in b) + " }\n"


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, capture_output=True, **kw)


def capture_once(ns_a, ns_b, argv, packets, cfg):
    """Starts the capture in ns_b on core 1, floods from ns_a on core 0,
    stops the capture with SIGINT; returns (cpu seconds, captured, dropped)."""
    cmd = ["ip", "netns", "exec", ns_b, "taskset", "-c", "1"] + argv
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # listening
    sh("ip", "netns", "exec", ns_a, "taskset", "-c", "0", "trafgen", "-o", "va", "-i", cfg,
       "-n", str(packets), "-P", "1", "-C", "-Q")
    time.sleep(1.0)  # last blocks retire
    os.kill(p.pid, signal.SIGINT)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode()
    if status != 0:
        sys.exit(f"{argv[0]} failed ({status}): {err}")
    cap = int(re.search(r"(\d+) packets? captured", err).group(1))
    drop = int(re.search(r"(\d+) packets? dropped by kernel", err).group(1))
    print(f"    user {ru.ru_utime:.3f}s sys {ru.ru_stime:.3f}s, {ru.ru_nvcsw} voluntary context switches", flush=True)
    return ru.ru_utime + ru.ru_stime, cap, drop


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--packets", type=int, default=2_000_000)
    ap.add_argument("--filter", default="udp")
    a = ap.parse_args()
    example = release_example.build("tcpdump")
    pid = os.getpid()
    ns_a, ns_b = f"nbt-flood-a-{pid}", f"nbt-flood-b-{pid}"
    sh("ip", "netns", "add", ns_a)
    sh("ip", "netns", "add", ns_b)
    try:
        sh("ip", "-n", ns_a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", ns_b)
        sh("ip", "-n", ns_a, "link", "set", "va", "address", ":".join(f"{x:02x}" for x in SRC_MAC), "up")
        sh("ip", "-n", ns_b, "link", "set", "vb", "address", ":".join(f"{x:02x}" for x in DST_MAC), "up")
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
            f.write(frame_cfg())
            cfg = f.name
        tools = {
            "tcpdump": ["tcpdump", "-i", "vb", "-n", "-w", "/dev/null", a.filter],
            "netobs": [example, "-i", "vb", "-n", "-w", "/dev/null", a.filter],
        }
        res = {k: [] for k in tools}
        for r in range(a.runs):
            for name, argv in (tools.items() if r % 2 == 0 else reversed(list(tools.items()))):
                t0 = time.perf_counter()
                cpu, cap, drop = capture_once(ns_a, ns_b, argv, a.packets, cfg)
                res[name].append((cpu, cap, drop, time.perf_counter() - t0))
                print(f"run {r} {name:8} cpu {cpu:.3f}s captured {cap} dropped {drop}", flush=True)
        os.unlink(cfg)
    finally:
        subprocess.run(["ip", "netns", "del", ns_a])
        subprocess.run(["ip", "netns", "del", ns_b])
    print()
    print(f"{a.packets} frames of 64 bytes per run, filter '{a.filter}', medians of {a.runs} runs")
    med = {}
    for name, rows in res.items():
        cpu = statistics.median(x[0] for x in rows)
        cap = statistics.median(x[1] for x in rows)
        drop = statistics.median(x[2] for x in rows)
        per_m = cpu / (cap / 1e6) if cap else float("nan")
        med[name] = per_m
        print(f"{name:8} cpu {cpu:.3f} s  captured {cap:.0f}  dropped {drop:.0f}  cpu per million captured {per_m * 1000:.0f} ms")
    print(f"ratio (tcpdump / netobs cpu per packet): {med['tcpdump'] / med['netobs']:.2f}x")


if __name__ == "__main__":
    main()

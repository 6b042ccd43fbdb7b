#!/usr/bin/env python3
"""CPU per scrape of node_exporter 1.5 and the netobs exporter for the
families they share (netdev, netstat, sockstat, softnet) on a namespace with
2000 veth links, in one run, alternating; then the exporter's CPU while it
counts a flood of kfree_skb drops (ring path on hosts without hist
triggers).

node_exporter runs inside the namespace (`ip netns exec`) with only those
collectors and lo not excluded; the exporter runs outside with `-n NS
--node-only`. Each server's CPU is read from /proc/PID/stat (utime + stime)
around a batch of scrapes made by curl (inside the namespace for
node_exporter), so only the servers' own work is counted. Run as root; the
script builds the release example first (release_example.py):

    python3 benches/exporter_2000.py [--links 2000] [--scrapes 30] [--rounds 5] [--frames 2000000]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import release_example

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of every thread of `pid`, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def curl(url, ns=None):
    cmd = ["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download}", url]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    return int(out)


def fetch(url, ns=None):
    cmd = ["curl", "-sf", url]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    return subprocess.run(cmd, capture_output=True, check=True).stdout.decode()


def wait_up(url, ns=None):
    for _ in range(100):
        try:
            return fetch(url, ns)
        except subprocess.CalledProcessError:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer")


def batch(pid, url, n, ns=None):
    """CPU seconds `pid` spent answering `n` scrapes of `url`, and the body size."""
    c0 = cpu_seconds(pid)
    size = 0
    for _ in range(n):
        size = curl(url, ns)
    return (cpu_seconds(pid) - c0) / n, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", type=int, default=2000)
    ap.add_argument("--scrapes", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=2000000)
    a = ap.parse_args()
    exporter = release_example.build("exporter")
    errframe = release_example.build("errframe")
    ns = f"nbt-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    procs = []
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        batch_cmds = "".join(f"link add b{i}a type veth peer name b{i}b\n" for i in range(a.links // 2))
        subprocess.run(["ip", "-n", ns, "-batch", "-"], input=batch_cmds.encode(), check=True)
        node = subprocess.Popen(
            ["ip", "netns", "exec", ns, "prometheus-node-exporter", "--web.listen-address=127.0.0.1:9100",
             "--collector.disable-defaults", "--collector.netdev.device-exclude=", "--collector.netdev",
             "--collector.netstat", "--collector.sockstat", "--collector.softnet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(node)
        ours = subprocess.Popen([exporter, "--listen", "127.0.0.1:19109", "-n", ns, "--node-only"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(ours)
        node_url, ours_url = "http://127.0.0.1:9100/metrics", "http://127.0.0.1:19109/metrics"
        node_text, ours_text = wait_up(node_url, ns), wait_up(ours_url)
        count = lambda t: len(re.findall(r"^node_network_receive_bytes_total", t, re.M))
        assert count(node_text) == count(ours_text) == a.links + 1, (count(node_text), count(ours_text))
        res = {"node_exporter": [], "netobs": []}
        size = {}
        for _ in range(a.rounds):
            cpu, size["node_exporter"] = batch(node.pid, node_url, a.scrapes, ns)
            res["node_exporter"].append(cpu)
            cpu, size["netobs"] = batch(ours.pid, ours_url, a.scrapes, None)
            res["netobs"].append(cpu)
        med = {k: statistics.median(v) for k, v in res.items()}
        print(f"CPU per scrape, shared families, {a.links} veth links + lo, {a.rounds} rounds of {a.scrapes} scrapes (medians)")
        for k, v in med.items():
            print(f"  {k:14} {v*1000:8.2f} ms/scrape   body {size[k]} bytes")
        print(f"  netobs / node_exporter: {med['netobs']/max(med['node_exporter'], 1e-9):.3f}")

        # Drops: the exporter's own CPU while it counts a flood of
        # UNHANDLED_PROTO drops (frames of EtherType 0x4321 over a veth).
        for p in procs:
            p.terminate()
            p.wait()
        procs.clear()
        drops = subprocess.Popen([exporter, "--listen", "127.0.0.1:19110", "-n", ns, "--node-only", "--drops"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(drops)
        url = "http://127.0.0.1:19110/metrics"
        subprocess.run(["ip", "-n", ns, "link", "set", "b0a", "up"], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "b0b", "up"], check=True)
        q = re.compile(r'^netobs_skb_drops_total\{reason="UNHANDLED_PROTO",location="__netif_receive_skb_core"\} (\d+)', re.M)
        source = re.search(r'netobs_skb_drops_counting_info\{source="(\w+)"\}', wait_up(url)).group(1)
        time.sleep(1)
        idle0 = cpu_seconds(drops.pid)
        time.sleep(2)
        idle = (cpu_seconds(drops.pid) - idle0) / 2
        m = q.search(fetch(url))
        d0 = int(m.group(1)) if m else 0
        c0, t0 = cpu_seconds(drops.pid), time.perf_counter()
        subprocess.run(["ip", "netns", "exec", ns, errframe, "-i", "b0a", "--type", "0x4321",
                        "--count", str(a.frames)], check=True, stdout=subprocess.DEVNULL)
        secs = time.perf_counter() - t0
        time.sleep(1)  # the poller's last read
        raw = cpu_seconds(drops.pid) - c0
        cpu = raw - idle * (time.perf_counter() - t0)
        m = q.search(fetch(url))
        d1 = int(m.group(1)) if m else 0
        lost = int(re.search(r"^netobs_skb_drops_lost_total (\d+)", fetch(url), re.M).group(1))
        counted = d1 - d0
        print(f"drop counter ({source} path): {a.frames} frames in {secs:.2f} s = {a.frames/secs/1000:.0f}k drops/s; "
              f"counted {counted}, lost {lost}")
        print(f"  exporter CPU while counting: {raw*1000:.0f} ms ({cpu*1000:.0f} ms above idle) = "
              f"{cpu/secs*100:.1f}% of a CPU, {cpu/max(counted, 1)*1e9:.0f} ns per drop "
              f"(idle {idle*100:.2f}% of a CPU)")
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    main()

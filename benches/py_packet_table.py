"""netobs.packet_table vs tshark -T fields and tcpdump -n lines on the
shared corpus (8382 Ethernet frames): one decoded row per packet (MACs,
VLAN, addresses, protocol, ports, TCP flags, ICMP type and code, and
tcpdump's line) against the tools that print the same columns.

Usage: scripts/test-python && $CARGO_TARGET_DIR/py-venv/bin/python benches/py_packet_table.py [--runs N]
The packets are read once; packet_table's time is the decode of every row
into columns (to_pandas() adds its own, timed apart).
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import netobs  # noqa: E402
from pybench import alternate  # noqa: E402

FIELDS = ["eth.src", "eth.dst", "vlan.id", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.proto",
          "tcp.srcport", "tcp.dstport", "tcp.flags", "udp.srcport", "udp.dstport", "icmp.type", "icmp.code"]  # fmt: skip


def tshark_fields(path):
    args = ["tshark", "-r", path, "-n", "-T", "fields", "-E", "occurrence=f"]
    for f in FIELDS:
        args += ["-e", f]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.count("\n")


def tcpdump_lines(path):
    out = subprocess.run(["tcpdump", "-r", path, "-n", "-S"], capture_output=True, text=True, check=True).stdout
    return out.count("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--corpus",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "netobs-capture", "tests", "data", "corpus", "eth_corpus.pcap"),
    )
    a = ap.parse_args()
    packets = netobs.read_pcap(a.corpus)
    n = len(packets)
    assert len(netobs.packet_table(packets)) == n == tshark_fields(a.corpus)
    cases = {
        "netobs.packet_table": lambda: netobs.packet_table(packets),
        "netobs.packet_table(...).to_pandas()": lambda: netobs.packet_table(packets).to_pandas(),
        "tshark -T fields": lambda: tshark_fields(a.corpus),
        "tcpdump -n -S -r": lambda: tcpdump_lines(a.corpus),
    }
    med = alternate(cases, a.runs, f"{n} packets")
    print(f"tshark -T fields / packet_table: {med['tshark -T fields'] / med['netobs.packet_table']:.1f}x")
    print(f"tcpdump -n -S -r / packet_table: {med['tcpdump -n -S -r'] / med['netobs.packet_table']:.1f}x")


if __name__ == "__main__":
    main()

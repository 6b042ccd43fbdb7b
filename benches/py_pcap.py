"""netobs.read_pcap vs tcpdump -r and a pure-Python pcap reader, on the
shared corpus (8382 Ethernet frames).

Usage: scripts/test-python && $CARGO_TARGET_DIR/py-venv/bin/python benches/py_pcap.py [--runs N] [--corpus FILE]
Every case yields the same count (checked before timing).
"""
import argparse
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import netobs  # noqa: E402
from pybench import alternate  # noqa: E402


def python_reader(path):
    """The records of a microsecond little-endian pcap file, struct by
    struct: what a Python program does without a compiled reader."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    assert struct.unpack_from("<I", data)[0] == 0xA1B2C3D4
    off = 24
    while off + 16 <= len(data):
        sec, usec, caplen, length = struct.unpack_from("<IIII", data, off)
        off += 16
        out.append((sec * 1_000_000_000 + usec * 1000, length, data[off : off + caplen]))
        off += caplen
    return out


def tcpdump_count(path, expr=()):
    out = subprocess.run(["tcpdump", "-r", path, "--count", *expr], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument(
        "--corpus",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "netobs-capture", "tests", "data", "corpus", "eth_corpus.pcap"),
    )
    a = ap.parse_args()
    n = tcpdump_count(a.corpus)
    assert len(netobs.read_pcap(a.corpus)) == n == len(python_reader(a.corpus))
    m = tcpdump_count(a.corpus, ["tcp port 80"])
    assert len(netobs.read_pcap(a.corpus, filter="tcp port 80")) == m
    cases = {
        "netobs.read_pcap": lambda: netobs.read_pcap(a.corpus),
        "netobs.read_pcap tcp port 80": lambda: netobs.read_pcap(a.corpus, filter="tcp port 80"),
        "pure-Python struct reader": lambda: python_reader(a.corpus),
        "tcpdump -r --count": lambda: tcpdump_count(a.corpus),
        "tcpdump -r --count port 80": lambda: tcpdump_count(a.corpus, ["tcp port 80"]),
    }
    med = alternate(cases, a.runs, f"{n} packets ({m} tcp port 80)")
    print(f"pure Python / netobs.read_pcap: {med['pure-Python struct reader'] / med['netobs.read_pcap']:.1f}x")
    print(f"tcpdump -r --count / netobs.read_pcap: {med['tcpdump -r --count'] / med['netobs.read_pcap']:.1f}x")


if __name__ == "__main__":
    main()

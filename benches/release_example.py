"""Builds a release example with cargo and returns the path of the binary
cargo reports for it, so a side-by-side bench always runs the code of the
working tree (in CARGO_TARGET_DIR when that is set), never a stale binary
left in another target directory."""
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def build(name):
    """`cargo build --release --example NAME`; returns the executable path."""
    out = subprocess.run(
        ["cargo", "build", "--release", "--example", name, "--message-format=json-render-diagnostics"],
        cwd=ROOT, stdout=subprocess.PIPE, check=True,
    ).stdout
    for line in out.decode().splitlines():
        msg = json.loads(line)
        target = msg.get("target", {})
        if msg.get("reason") == "compiler-artifact" and target.get("name") == name and msg.get("executable"):
            return msg["executable"]
    sys.exit(f"cargo reported no executable for example {name}")

#!/usr/bin/env python3
"""CPU of the triage watcher (examples/triage) while ~100k kernel drops a
second happen in another namespace, against the same watch on a quiet
machine, in one run.

Two namespaces: the flood pair (f0a/f0b), where errframe sends frames of
EtherType 0x4321 that the kernel drops as UNHANDLED_PROTO, and the target
pair (t0a/t0b), which is quiet. triage watches the target with the
tracepoint source (kfree_skb plus the device events, every frame of the
flood included) and must call it `none`; its CPU is the child's rusage
(user + system) divided by the window. Run as root; builds the release
examples first:

    python3 benches/triage_cpu.py [--seconds 10] [--rounds 3] [--rate 100000]
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import release_example


def netns(name, *cmds):
    subprocess.run(["ip", "netns", "add", name], check=True)
    for c in cmds:
        subprocess.run(["ip", "-n", name] + c.split(), check=True)


def watch(triage, target, seconds):
    """Runs triage for `seconds`; returns (CPU seconds, wall seconds, verdict, unattributed drops)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([triage, "-n", target, "--seconds", str(seconds), "--json"], stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    assert status == 0, status
    report = json.loads(out)
    return ru.ru_utime + ru.ru_stime, wall, report["verdict"]["layer"], report["unattributed"]["total"], report["events_lost"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=100000, help="drops per second in the flood namespace")
    a = ap.parse_args()
    triage = release_example.build("triage")
    errframe = release_example.build("errframe")
    pid = os.getpid()
    flood, target = f"nbt-flood-{pid}", f"nbt-target-{pid}"
    try:
        netns(flood, "link set lo up", "link add f0a type veth peer name f0b", "link set f0a up", "link set f0b up")
        netns(target, "link set lo up", "link add t0a type veth peer name t0b", "link set t0a up", "link set t0b up")
        quiet, busy = [], []
        for _ in range(a.rounds):
            cpu, wall, layer, other, lost = watch(triage, target, a.seconds)
            quiet.append(cpu / wall)
            print(f"quiet: {cpu:.3f} s CPU in {wall:.2f} s = {cpu / wall * 100:.2f}% of a core, verdict {layer}")
            sender = subprocess.Popen(["ip", "netns", "exec", flood, errframe, "-i", "f0a", "--type", "0x4321",
                                       "--count", "100000000", "--rate", str(a.rate)], stdout=subprocess.DEVNULL)
            time.sleep(1)
            cpu, wall, layer, other, lost = watch(triage, target, a.seconds)
            sender.terminate()
            sender.wait()
            busy.append(cpu / wall)
            print(f"flood: {cpu:.3f} s CPU in {wall:.2f} s = {cpu / wall * 100:.2f}% of a core, verdict {layer}, "
                  f"{other / wall / 1000:.0f}k drops/s elsewhere seen and left out, {lost} events lost")
            assert layer == "none", layer
        print(f"median: quiet {statistics.median(quiet) * 100:.2f}%, flood {statistics.median(busy) * 100:.2f}% of one core")
    finally:
        for n in (flood, target):
            subprocess.run(["ip", "netns", "del", n])


if __name__ == "__main__":
    main()

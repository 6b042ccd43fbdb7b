"""Ctrl-C ends every blocking call at once.

The libraries install no signal handler; the binding points Python's
signal wakeup fd at the call's stop handle while it waits without the GIL,
so SIGINT wakes the wait in poll(2) and KeyboardInterrupt is raised. Each
case runs in a child Python that waits 60 s (or forever) and is sent
SIGINT once it says it is about to block: it must be gone within a few
seconds, with KeyboardInterrupt, and the wakeup fd it had before (as
asyncio sets one) must be restored and handed the signal byte.

Each case runs twice: plainly, and with SIGINT blocked in the main thread
while another thread sleeps. The second is the case poll(2)'s EINTR
cannot cover: the kernel delivers the signal to the other thread, and
only the wakeup fd tells the main thread's wait about it.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

PRELUDE = """
import os, signal, sys, threading, time, netobs
if {masked}:
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
r, w = os.pipe()
os.set_blocking(w, False)
signal.set_wakeup_fd(w)
print("ready", flush=True)
try:
{call}
    print("returned", flush=True)
except KeyboardInterrupt:
    assert signal.set_wakeup_fd(-1) == w, "the previous wakeup fd was not restored"
    assert os.read(r, 16) == bytes([signal.SIGINT]), "the previous wakeup fd missed the signal"
    print("interrupted", flush=True)
"""

# Generous: the waits are 60 s or unbounded, so a call that ignores
# SIGINT fails by a wide margin.
BOUND = 10.0


def interrupt(call, netns=None):
    """Runs `call` (indented Python) in a child, sends SIGINT once the
    child is ready and returns (what it printed last, seconds to exit),
    for the plain and the masked case alike."""
    results = [interrupt_one(call, netns, masked) for masked in (False, True)]
    for last, took in results:
        if last != "interrupted" or took >= BOUND:
            return last, took
    return results[-1]


def interrupt_one(call, netns, masked):
    script = PRELUDE.format(call=call, masked=masked)
    cmd = [sys.executable, "-c", script]
    if netns is not None:
        cmd = ["ip", "netns", "exec", netns] + cmd
    # SIGINT at its default in the child whatever this process inherited:
    # a shell that starts a job in the background without job control
    # ignores SIGINT in it, and Python leaves an ignored SIGINT ignored.
    p = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        # Let the child get into its wait (a signal before it would also
        # work, through Python's own check after the call).
        time.sleep(0.5)
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=BOUND + 60)
        took = time.monotonic() - sent
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    return out.strip().splitlines()[-1] if out.strip() else "", took


def test_link_rates_interval(root):
    last, took = interrupt("    netobs.link_rates(60)")
    assert last == "interrupted" and took < BOUND


def test_capture_read_and_iteration(make_netns):
    ns = make_netns()
    # Nothing sends on lo of a new namespace: the waits are real.
    for call in ("    netobs.Capture('lo').read(timeout=60)", "    next(iter(netobs.Capture('lo')))"):
        last, took = interrupt(call, netns=ns.name)
        assert last == "interrupted" and took < BOUND, call


def test_drop_monitor_waits(root):
    # EtherType 0x88b5 (IEEE local experimental) is never dropped here, so
    # the waits see no event.
    for call in (
        "    netobs.DropMonitor(protocol=0x88b5).events(timeout=None)",
        "    netobs.DropMonitor(protocol=0x88b5).summary(60)",
    ):
        last, took = interrupt(call)
        assert last == "interrupted" and took < BOUND, call


def test_trace_session_waits(root):
    events = "['skb:kfree_skb'], filters={'skb:kfree_skb': 'protocol == 0x88b5'}"
    for call in (
        f"    netobs.TraceSession({events}).read(timeout=60)",
        f"    next(iter(netobs.TraceSession({events})))",
    ):
        last, took = interrupt(call)
        assert last == "interrupted" and took < BOUND, call


def test_waits_off_the_main_thread_still_end_by_timeout(make_netns):
    """set_wakeup_fd works only in the main thread; elsewhere the call
    waits its timeout (Python runs no signal handler there anyway)."""
    import threading

    import netobs

    ns = make_netns()
    got = {}

    def read():
        with netobs.Capture("lo", netns=ns.name) as cap:
            start = time.monotonic()
            got["packets"] = cap.read(timeout=0.3)
            got["took"] = time.monotonic() - start

    t = threading.Thread(target=read)
    t.start()
    t.join(timeout=30)
    assert got["packets"] == [] and 0.25 < got["took"] < 10


def test_diagnose_window(root):
    # A 60 s triage window ends at once, with a report or KeyboardInterrupt.
    last, took = interrupt("    netobs.diagnose(seconds=60)")
    assert last == "interrupted" and took < BOUND

"""Test worlds for the netobs Python tests: network namespaces, veth pairs
and traffic built with the real iproute2 tools, removed again at teardown.

Like netobs-testsupport on the Rust side: without root the kernel tests skip
(EPERM for namespace and link creation), except under CI=true, where a
privileged test must never skip.
"""

import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import time

import pytest

PREFIX = "nbt-py"
_counter = itertools.count()


def run(*cmd, input=None):
    """Runs a command; fails the test with its stderr when it fails."""
    p = subprocess.run(cmd, input=input, capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def ip_json(netns, *args):
    """`ip -n NETNS -j ARGS...` parsed."""
    return json.loads(run("ip", "-n", netns, "-j", *args))


def _remove_stale():
    """Removes namespaces left behind by killed runs (their pid is gone)."""
    if not os.path.isdir("/run/netns"):
        return
    for name in os.listdir("/run/netns"):
        m = re.fullmatch(rf"{PREFIX}-(\d+)-\d+", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture(scope="session")
def root():
    """Skips (or, under CI=true, fails) when not root."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and CI=true forbids skipping")
        pytest.skip("not root: EPERM for namespace and link creation")
    os.makedirs("/run/netns", exist_ok=True)
    _remove_stale()


class Netns:
    """A network namespace made by `ip netns add`, lo up, IPv6 off (so no
    autoconfiguration traffic moves the counters while a test compares)."""

    def __init__(self, ipv6=False):
        self.name = f"{PREFIX}-{os.getpid()}-{next(_counter)}"
        run("ip", "netns", "add", self.name)
        if not ipv6:
            self.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        self.ip("link", "set", "lo", "up")

    def ip(self, *args):
        return run("ip", "-n", self.name, *args)

    def exec(self, *cmd):
        return run("ip", "netns", "exec", self.name, *cmd)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


@pytest.fixture
def make_netns(root):
    """A factory of namespaces, all deleted at teardown."""
    made = []

    def make(ipv6=False):
        ns = Netns(ipv6)
        made.append(ns)
        return ns

    yield make
    for ns in made:
        ns.delete()


@pytest.fixture
def veth_world(make_netns):
    """Two namespaces joined by a veth pair (`va` in a, 10.99.0.1; `vb` in
    b, 10.99.0.2) that carried 5 pings, plus a veth pair inside a
    (`x1`/`x2`, x2 down) and an alias and an altname on `va`."""
    a, b = make_netns(), make_netns()
    a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.name)
    a.ip("link", "add", "x1", "type", "veth", "peer", "name", "x2")
    a.ip("link", "set", "va", "alias", "the uplink")
    a.ip("link", "property", "add", "dev", "va", "altname", "uplink-of-a-test")
    a.ip("addr", "add", "10.99.0.1/24", "dev", "va")
    b.ip("addr", "add", "10.99.0.2/24", "dev", "vb")
    a.ip("link", "set", "va", "up")
    a.ip("link", "set", "x1", "up")
    b.ip("link", "set", "vb", "up")
    # The operational state follows the carrier through the kernel's linkwatch
    # work, up to a second later: wait for it so both sides compare the same
    # settled world. -w: wait for 5 replies.
    wait_operstate_up(a, "va")
    wait_operstate_up(b, "vb")
    a.exec("ping", "-c", "5", "-i", "0.01", "-w", "10", "10.99.0.2")
    return a, b


def wait_operstate_up(ns, dev, timeout=5.0):
    deadline = time.monotonic() + timeout
    while ip_json(ns.name, "link", "show", "dev", dev)[0]["operstate"] != "UP":
        if time.monotonic() > deadline:
            pytest.fail(f"{dev} in {ns.name} not UP after {timeout} s")
        time.sleep(0.02)


@contextlib.contextmanager
def script_in_netns(ns, script):
    """Runs the Python `script` inside namespace `ns` with its stdin and
    stdout piped; yields the process. Leaving the block writes a line to its
    stdin (scripts wait for it before exiting) and checks it exited 0."""
    p = subprocess.Popen(
        ["ip", "netns", "exec", ns.name, sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield p
    finally:
        try:
            p.stdin.write("done\n")
            p.stdin.close()
        except BrokenPipeError:
            pass
        assert p.wait(timeout=10) == 0

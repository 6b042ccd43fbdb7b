"""Test worlds for the netobs Python tests: network namespaces, veth pairs
and traffic built with the real iproute2 tools, removed again at teardown.

Like netobs-testsupport on the Rust side: without root the kernel tests skip
(EPERM for namespace and link creation), except under CI=true, where a
privileged test must never skip.
"""

import itertools
import json
import os
import re
import subprocess

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

    def __init__(self):
        self.name = f"{PREFIX}-{os.getpid()}-{next(_counter)}"
        run("ip", "netns", "add", self.name)
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

    def make():
        ns = Netns()
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
    a.exec("ping", "-c", "5", "-i", "0.01", "-W", "2", "10.99.0.2")
    return a, b

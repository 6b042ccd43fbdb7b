"""netobs.diagnose(): the layered triage from Python, on a veth world where
datagrams go to a port nothing listens on (the kernel drops them as
NO_SOCKET in the receiver's namespace)."""

import json

import pytest

import netobs
from conftest import script_in_netns

# Sends a datagram every 20 ms until its stdin gets a line.
SENDER = """
import select, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("ready", flush=True)
while not select.select([sys.stdin], [], [], 0.02)[0]:
    s.sendto(b"x", ("10.99.0.2", 9))
"""

LAYERS = ["driver", "interface", "qdisc", "netfilter", "ip", "transport", "socket"]


def test_closed_port_is_the_transport_layer(veth_world):
    a, b = veth_world
    with script_in_netns(a, SENDER) as p:
        assert p.stdout.readline().strip() == "ready"
        r = netobs.diagnose(b.name, seconds=2)
    print(r)
    assert r.verdict.layer == "transport", str(r)
    assert r.verdict.reason == "NO_SOCKET"
    assert "nothing listens" in r.verdict.summary
    assert [row.layer for row in r.layers] == LAYERS
    losing = [row for row in r.layers if row.losing]
    assert [row.layer for row in losing] == ["transport"] and losing[0].lost > 0
    drops = [e for e in r.evidence if e.source == "kfree_skb" and e.name == "NO_SOCKET"]
    assert len(drops) == 1 and drops[0].subject == "vb" and drops[0].netns == b.name
    assert drops[0].location.startswith("__udp4_lib_rcv") and drops[0].confidence in ("high", "medium")
    counters = [e for e in r.evidence if e.source == "nstat" and e.name == "UdpNoPorts"]
    assert len(counters) == 1 and counters[0].confidence == "certain"
    # The same packets, counted by the kernel's drop point and by the MIB
    # over the same span (drops count from the middle of the first counter
    # snapshot to the middle of the last): a datagram every 20 ms, so the
    # snapshots' own length blurs the edges. Under single-threaded TCG a
    # snapshot of every source takes a few hundred ms: 98 against 87 was
    # seen there (a quarter of a second of datagrams); a miscount (none
    # joined, or each counted twice) is far outside a fifth.
    assert abs(counters[0].lost - drops[0].lost) <= max(2, counters[0].lost // 5)
    df = r.layers.to_pandas()
    assert list(df["layer"]) == LAYERS and int(df["lost"].sum()) >= drops[0].lost
    html = r._repr_html_()
    assert "<svg" in html and "NO_SOCKET" in html and "<script" not in html
    d = r.to_dict()
    assert d["verdict"]["layer"] == "transport" and [x["layer"] for x in d["layers"]] == LAYERS
    assert json.loads(r.to_json()) == d
    assert repr(r).endswith("transport (NO_SOCKET)>")


def test_quiet_namespace_is_none(veth_world):
    a, b = veth_world
    r = netobs.diagnose([a.name, b.name], seconds=0.5)
    assert r.verdict.layer == "none", str(r)
    assert all(row.lost == 0 for row in r.layers)
    assert len(r.evidence) == 0


def test_bad_arguments_are_refused(veth_world):
    a, b = veth_world
    with pytest.raises(netobs.InterfaceNotFoundError):
        netobs.diagnose(b.name, interface="nosuchdev0", seconds=0.1)
    with pytest.raises(ValueError, match="seconds"):
        netobs.diagnose(b.name, seconds=0)
    with pytest.raises(ValueError, match="port"):
        netobs.diagnose(b.name, port=70000, seconds=0.1)
    with pytest.raises(TypeError, match="port"):
        netobs.diagnose(b.name, port="http", seconds=0.1)
    with pytest.raises(ValueError, match="empty"):
        netobs.diagnose([], seconds=0.1)
    with pytest.raises(netobs.NotFoundError):
        netobs.diagnose("nbt-no-such-namespace", seconds=0.1)

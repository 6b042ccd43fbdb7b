"""netobs.links() against `ip -d -j -s -s link` in namespaces the tests build."""

import errno
import os
import threading
import time

import pytest

import netobs

from conftest import ip_json, run

# ip's JSON stats64 keys (iproute2 print_link_stats -s -s) -> Link columns.
RX = {
    "bytes": "rx_bytes",
    "packets": "rx_packets",
    "errors": "rx_errors",
    "dropped": "rx_dropped",
    "over_errors": "rx_over_errors",
    "multicast": "multicast",
    "compressed": "rx_compressed",
    "length_errors": "rx_length_errors",
    "crc_errors": "rx_crc_errors",
    "frame_errors": "rx_frame_errors",
    "fifo_errors": "rx_fifo_errors",
    "missed_errors": "rx_missed_errors",
    "nohandler": "rx_nohandler",
    "otherhost_dropped": "rx_otherhost_dropped",
}
TX = {
    "bytes": "tx_bytes",
    "packets": "tx_packets",
    "errors": "tx_errors",
    "dropped": "tx_dropped",
    "carrier_errors": "tx_carrier_errors",
    "collisions": "collisions",
    "compressed": "tx_compressed",
    "aborted_errors": "tx_aborted_errors",
    "fifo_errors": "tx_fifo_errors",
    "window_errors": "tx_window_errors",
    "heartbeat_errors": "tx_heartbeat_errors",
    "carrier_changes": "carrier_changes",
}
# ip prints these counters only when they are not zero.
PRINTED_IF_NONZERO = {"rx_compressed", "tx_compressed", "rx_nohandler", "rx_otherhost_dropped"}
# Plain attributes printed under the same name by `ip -d -j link`.
SAME_NAME = [
    "mtu", "qdisc", "operstate", "txqlen", "link_type", "address", "broadcast",
    "link_netnsid", "promiscuity", "allmulti", "min_mtu", "max_mtu",
    "num_tx_queues", "num_rx_queues", "gso_max_size", "gso_max_segs",
    "gro_max_size", "tso_max_size", "tso_max_segs",
]


def compare_with_ip(ns_name, table):
    """Every link ip shows, field by field against the netobs row."""
    ours = {l.name: l for l in table}
    by_index = {l.index: l for l in table}
    theirs = ip_json(ns_name, "-d", "-s", "-s", "link", "show")
    assert sorted(ours) == sorted(j["ifname"] for j in theirs)
    checked = 0
    for j in theirs:
        l = ours[j["ifname"]]
        assert l.index == j["ifindex"]
        for key in SAME_NAME:
            assert getattr(l, key) == j.get(key), f"{l.name}.{key}"
            checked += 1
        assert [f for f in j["flags"] if f != "M-DOWN"] == list(l.flag_names), l.name
        assert l.kind == j.get("linkinfo", {}).get("info_kind")
        assert l.group == (0 if j["group"] == "default" else int(j["group"]))
        assert l.link_mode == {"DEFAULT": 0, "DORMANT": 1}[j["linkmode"]]
        assert l.alias == j.get("ifalias")
        assert l.altnames == tuple(j.get("altnames", ()))
        assert l.master == j.get("master") and l.master is None
        # The peer: by index in another namespace, by name in this one.
        if "link_index" in j:
            assert l.link == j["link_index"]
        elif "link" in j:
            assert by_index[l.link].name == j["link"]
        else:
            assert l.link in (None, 0, l.index)
        for direction, mapping in (("rx", RX), ("tx", TX)):
            shown = j["stats64"][direction]
            for key, col in mapping.items():
                want = shown.get(key, 0 if col in PRINTED_IF_NONZERO else None)
                assert want is not None, f"ip did not print {direction}.{key}"
                assert getattr(l, col) == want, f"{l.name}.{col}"
                checked += 1
    return checked


def test_links_match_ip(veth_world):
    a, b = veth_world
    for ns in (a, b):
        table = netobs.links(netns=ns.name)
        assert compare_with_ip(ns.name, table) > 0
    va = next(l for l in netobs.links(netns=a.name) if l.name == "va")
    # 5 echo requests and the ARP exchange went out, 5 replies came back.
    assert va.tx_packets >= 6 and va.rx_packets >= 6
    assert va.kind == "veth" and va.operstate == "UP" and va.is_up and va.carrier


def test_every_stats64_field_is_a_column(veth_world):
    a, _ = veth_world
    l = netobs.links(netns=a.name)[0]
    assert netobs.STATS64_FIELDS == netobs.LinkStats._fields
    assert tuple(l.stats) == tuple(getattr(l, f) for f in netobs.STATS64_FIELDS)
    assert len(netobs.STATS64_FIELDS) == 25
    assert all(v is not None for v in l.stats), "this kernel sends the whole rtnl_link_stats64"


def test_netns_by_path_and_fd(veth_world):
    a, _ = veth_world
    names = [l.name for l in netobs.links(netns=a.name)]
    assert [l.name for l in netobs.links(netns=f"/run/netns/{a.name}")] == names
    fd = os.open(f"/run/netns/{a.name}", os.O_RDONLY)
    try:
        assert [l.name for l in netobs.links(netns=fd)] == names
    finally:
        os.close(fd)
    import pathlib

    assert [l.name for l in netobs.links(netns=pathlib.Path("/run/netns") / a.name)] == names


def test_current_namespace_matches_ip(root):
    ours = sorted(l.name for l in netobs.links())
    theirs = sorted(j["ifname"] for j in __import__("json").loads(run("ip", "-j", "link", "show")))
    assert ours == theirs


def test_rates_from_counter_snapshots(veth_world):
    a, _ = veth_world
    before = netobs.link_counters(netns=a.name)
    assert len(before) == 4
    a.exec("ping", "-c", "20", "-i", "0.005", "-s", "1000", "-W", "2", "10.99.0.2")
    after = netobs.link_counters(netns=a.name)
    rates = after - before
    assert isinstance(rates, netobs.Table) and rates.row_type is netobs.LinkRate
    va = next(r for r in rates if r.name == "va")
    assert va.seconds > 0
    # 20 echo requests of 1000 bytes of payload (1042 bytes on the wire).
    assert va.tx_packets * va.seconds == pytest.approx(20, abs=2)
    assert va.tx_avg_size == pytest.approx(1042, abs=20)
    assert va.rx_kbytes > 0 and va.rx_errors == 0 and va.tx_dropped == 0
    assert list(after.rates_since(before)) == list(rates)
    # The wrong order, or snapshots of two namespaces, are refused rather
    # than giving zeros.
    with pytest.raises(ValueError, match="older than"):
        before - after
    b = netobs.link_counters(netns=veth_world[1].name)
    with pytest.raises(ValueError, match="different network namespaces"):
        b - before


def test_link_rates_sleeps_without_the_gil(veth_world):
    a, _ = veth_world
    result = {}
    t = threading.Thread(target=lambda: result.update(rates=netobs.link_rates(2.0, netns=a.name)))
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.monotonic())
        time.sleep(0.01)
    t.join()
    gaps = [y - x for x, y in zip(ticks, ticks[1:])]
    # Holding the GIL would stall this thread for the whole 2 s sleep; any
    # gap under half of it shows the sleep ran without the GIL.
    assert len(ticks) > 10 and max(gaps) < 1.0, "the main thread was blocked while link_rates slept"
    rates = result["rates"]
    assert {r.name for r in rates} == {"lo", "va", "x1", "x2"}
    assert all(r.seconds == pytest.approx(2.0, abs=1.0) for r in rates)


def test_link_rates_rejects_bad_interval():
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="interval"):
            netobs.link_rates(bad)


def test_unknown_namespace():
    with pytest.raises(FileNotFoundError) as e:
        netobs.links(netns="nbt-py-does-not-exist")
    assert isinstance(e.value, netobs.NotFoundError) and isinstance(e.value, netobs.NetobsError)
    assert e.value.errno == errno.ENOENT
    assert e.value.filename == "/run/netns/nbt-py-does-not-exist"
    assert "nbt-py-does-not-exist" in str(e.value)


def test_bad_netns_argument():
    with pytest.raises(TypeError, match="netns"):
        netobs.links(netns=1.5)
    with pytest.raises(ValueError, match="netns"):
        netobs.links(netns="")
    with pytest.raises(ValueError, match="netns"):
        netobs.links(netns=-1)


def test_permission_error_without_cap_sys_admin(veth_world):
    """Entering a namespace needs CAP_SYS_ADMIN: without it in the bounding
    set, setns(2) fails with EPERM and netobs raises PermissionError."""
    import subprocess
    import sys

    a, _ = veth_world
    code = (
        "import netobs, sys\n"
        "try:\n"
        f"    netobs.links(netns={a.name!r})\n"
        "except PermissionError as e:\n"
        "    assert isinstance(e, netobs.NetobsPermissionError), type(e)\n"
        "    print(e.errno, e.strerror)\n"
        "    sys.exit(0)\n"
        "sys.exit('no PermissionError')\n"
    )
    p = subprocess.run(
        ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", sys.executable, "-c", code],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"{errno.EPERM} need CAP_SYS_ADMIN to enter a network namespace"), p.stdout


def test_link_stats_match_ip_stats_and_links(veth_world):
    """RTM_GETSTATS rows against `ip stats show group link` (the same
    request) and against the counters of the RTM_GETLINK dump."""
    a, _ = veth_world
    stats = netobs.link_stats(netns=a.name)
    assert stats.row_type is netobs.LinkStatsRow
    links = {l.index: l for l in netobs.links(netns=a.name)}
    assert sorted(stats["index"]) == sorted(links)
    theirs = {j["ifindex"]: j for j in ip_json(a.name, "stats", "show", "group", "link")}
    assert sorted(theirs) == sorted(links)
    for row in stats:
        for direction, mapping in (("rx", RX), ("tx", TX)):
            for key, value in theirs[row.index]["stats64"][direction].items():
                assert getattr(row, mapping[key]) == value, f"{row.index} {direction}.{key}"
        # The namespace is quiet, so both dumps see the same counters.
        assert tuple(getattr(row, f) for f in netobs.STATS64_FIELDS) == tuple(links[row.index].stats)
        # veth keeps no hardware L3 counters.
        assert all(getattr(row, f) is None for f in netobs.L3_STATS_FIELDS)


def test_one_link_by_name_altname_and_index(veth_world):
    a, _ = veth_world
    by_name = netobs.link("va", netns=a.name)
    assert isinstance(by_name, netobs.Link) and by_name.name == "va"
    assert netobs.link("uplink-of-a-test", netns=a.name).index == by_name.index
    by_index = netobs.link(by_name.index, netns=a.name)
    assert by_index.name == "va"
    # Same attributes as the dump (the namespace is quiet, counters too).
    assert by_name == next(l for l in netobs.links(netns=a.name) if l.name == "va")
    with pytest.raises(netobs.InterfaceNotFoundError) as e:
        netobs.link("nope0", netns=a.name)
    assert e.value.errno == errno.ENODEV and 'interface "nope0" not found' in str(e.value)
    with pytest.raises(netobs.InterfaceNotFoundError):
        netobs.link(4242, netns=a.name)
    with pytest.raises(TypeError):
        netobs.link(1.5, netns=a.name)


def test_namespace_of_another_user_is_a_permission_error(root):
    """Opening another user's /proc/PID/ns/net fails with EACCES: a
    permission problem (NetobsPermissionError that says what to do), not a
    missing namespace."""
    import subprocess
    import sys

    code = (
        "import netobs, sys\n"
        "try:\n"
        "    netobs.links(netns='/proc/1/ns/net')\n"
        "except PermissionError as e:\n"
        "    assert isinstance(e, netobs.NetobsPermissionError), type(e)\n"
        "    assert e.filename == '/proc/1/ns/net', e.filename\n"
        "    print(e.errno, e.strerror)\n"
        "    sys.exit(0)\n"
        "sys.exit('no PermissionError')\n"
    )
    p = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == (
        f'{errno.EACCES} cannot open network namespace "/proc/1/ns/net": Permission denied '
        "(need root, or CAP_SYS_ADMIN and ptrace access to the process)"
    ), p.stdout

"""netobs.ethtool_stats() / netobs.ethtool() against `ethtool -S` / `ethtool -i`."""

import errno

import pytest

import netobs
from netobs._ethtool import stats_dict


def parse_ethtool_S(text):
    """`ethtool -S` output as (name, value) pairs in driver order."""
    lines = text.splitlines()
    assert lines[0] == "NIC statistics:", lines[:1]
    pairs = []
    for line in lines[1:]:
        name, _, value = line.strip().rpartition(": ")
        pairs.append((name, int(value)))
    return pairs


def test_stats_match_ethtool_S(veth_world):
    a, b = veth_world
    for ns, dev in ((a, "va"), (b, "vb"), (a, "x1"), (a, "x2")):
        pairs = parse_ethtool_S(ns.exec("ethtool", "-S", dev))
        assert netobs._netobs.ethtool_stats_pairs(dev, netns=ns.name) == pairs, dev
        ours = netobs.ethtool_stats(dev, netns=ns.name)
        assert list(ours.items()) == list(stats_dict(pairs).items()), dev
    # veth reports its peer's index first.
    assert netobs.ethtool_stats("x1", netns=a.name)["peer_ifindex"] == next(
        l.index for l in netobs.links(netns=a.name) if l.name == "x2"
    )


def test_driver_info_matches_ethtool_i(veth_world):
    a, _ = veth_world
    info = netobs.ethtool_driver("va", netns=a.name)
    assert isinstance(info, netobs.DriverInfo)
    assert netobs.ethtool("va", netns=a.name).driver == info
    fields = {}
    for line in a.exec("ethtool", "-i", "va").splitlines():
        k, _, v = line.partition(": ")
        fields[k] = v.strip() if v else ""
    assert info.driver == fields["driver"] == "veth"
    assert info.version == fields["version"]
    assert info.fw_version == fields["firmware-version"]
    assert info.bus_info == fields["bus-info"]
    assert info.erom_version == fields["expansion-rom-version"]
    assert (info.n_stats > 0) == (fields["supports-statistics"] == "yes")
    assert info.n_stats == len(netobs.ethtool_stats("va", netns=a.name))


def test_unknown_interface(veth_world):
    a, _ = veth_world
    for call in (netobs.ethtool_stats, netobs.ethtool, netobs.ethtool_driver):
        with pytest.raises(netobs.InterfaceNotFoundError) as e:
            call("nope0", netns=a.name)
        assert e.value.errno == errno.ENODEV
        assert isinstance(e.value, OSError)
        assert 'interface "nope0" not found' in str(e.value)


def test_no_statistics_on_loopback(veth_world):
    a, _ = veth_world
    p = __import__("subprocess").run(
        ["ip", "netns", "exec", a.name, "ethtool", "-S", "lo"], capture_output=True, text=True
    )
    assert p.returncode != 0 and "no stats available" in p.stdout + p.stderr
    assert netobs.ethtool_stats("lo", netns=a.name) == {}


def test_not_supported_on_loopback(veth_world):
    a, _ = veth_world
    # lo has no driver information: the kernel answers EOPNOTSUPP, as
    # `ethtool -i lo` reports ("Operation not supported").
    with pytest.raises(netobs.NotSupportedError) as e:
        netobs.ethtool_driver("lo", netns=a.name)
    assert e.value.errno == errno.EOPNOTSUPP
    assert "EOPNOTSUPP" in str(e.value)


def test_repeated_names_are_numbered():
    pairs = [("rx_packets", 1), ("drops", 2), ("rx_packets", 3), ("rx_packets", 4), ("drops", 5)]
    d = stats_dict(pairs)
    assert list(d.items()) == [("rx_packets", 1), ("drops", 2), ("rx_packets#2", 3), ("rx_packets#3", 4), ("drops#2", 5)]


def parse_ethtool_l(text):
    """`ethtool -l`: {"max": {...}, "current": {...}} with None for n/a."""
    out, part = {}, None
    for line in text.splitlines():
        if line.startswith("Pre-set maximums"):
            part = out.setdefault("max", {})
        elif line.startswith("Current hardware settings"):
            part = out.setdefault("current", {})
        elif part is not None and ":" in line:
            k, _, v = line.partition(":")
            v = v.strip()
            part[k.strip().lower()] = None if v == "n/a" else int(v)
    return out


def test_ethtool_settings_match_ethtool(veth_world):
    a, _ = veth_world
    info = netobs.ethtool("va", netns=a.name)
    assert isinstance(info, netobs.EthtoolInfo)
    # veth answers channels and features; rings and pause are EOPNOTSUPP,
    # as `ethtool -g va` and `ethtool -a va` report.
    for flag in ("-g", "-a"):
        p = __import__("subprocess").run(["ip", "netns", "exec", a.name, "ethtool", flag, "va"], capture_output=True, text=True)
        assert p.returncode != 0 and "Operation not supported" in p.stdout + p.stderr
    assert info.rings is None and info.pause is None
    l = parse_ethtool_l(a.exec("ethtool", "-l", "va"))
    c = info.channels
    assert (c.rx_max, c.tx_max, c.rx, c.tx) == (l["max"]["rx"], l["max"]["tx"], l["current"]["rx"], l["current"]["tx"])
    assert (c.other_max or None, c.combined_max or None) == (l["max"]["other"], l["max"]["combined"])
    # Every feature line of `ethtool -k` whose name netobs knows agrees.
    features = {f.name: f for f in info.features}
    assert info.features.row_type is netobs.Feature
    compared = 0
    for line in a.exec("ethtool", "-k", "va").splitlines()[1:]:
        name, _, state = line.strip().partition(": ")
        if name in features:
            f = features[name]
            assert f.active == state.startswith("on"), name
            assert f.fixed == state.endswith("[fixed]"), name
            compared += 1
    assert compared >= 20
    assert netobs.ethtool("lo", netns=a.name).driver is None

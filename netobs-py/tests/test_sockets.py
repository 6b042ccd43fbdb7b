"""netobs.sockets() against `ss` in a namespace holding sockets in known states."""

import os
import subprocess
import sys

import pytest

import netobs

from conftest import run, script_in_netns

WORLD = os.path.join(os.path.dirname(__file__), "socket_world.py")


@pytest.fixture
def socket_world(make_netns):
    ns = make_netns(ipv6=True)
    path = f"/tmp/{ns.name}.sock"
    p = subprocess.Popen(
        ["ip", "netns", "exec", ns.name, sys.executable, WORLD, ns.name, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout.readline().strip() == "ready"
        yield ns, p.pid
    finally:
        p.stdin.close()
        p.wait(timeout=10)
        if os.path.exists(path):
            os.unlink(path)


def split_addr(text):
    """ss's "127.0.0.1:5000", "[::1]:5001", "0.0.0.0:*" -> (addr, port)."""
    addr, _, port = text.rpartition(":")
    return addr.strip("[]"), 0 if port == "*" else int(port)


def ss_rows(ns, *args, only_state=None):
    """`ss -N NS -H -n ARGS` as (kind, state, rqueue, wqueue, src, sport, dst, dport).
    ss leaves out the State column when asked for one state: `only_state` names it."""
    rows = set()
    for line in run("ss", "-N", ns, "-H", "-n", *args).splitlines():
        fields = line.split()
        if fields[0] not in ("tcp", "udp", "raw", "mptcp"):
            fields.insert(0, "tcp")  # ss leaves out the Netid column for one protocol
        if only_state:
            fields.insert(1, only_state)
        netid, state, rq, wq, local, peer = fields[:6]
        rows.add((netid, state, int(rq), int(wq)) + split_addr(local) + split_addr(peer))
    return rows


def our_rows(table):
    return {(s.kind, s.state, s.rqueue, s.wqueue, s.src, s.sport, s.dst, s.dport) for s in table}


def test_sockets_match_ss(socket_world):
    ns, _ = socket_world
    table = netobs.sockets(kinds=("tcp", "udp"), netns=ns.name)
    ours, theirs = our_rows(table), ss_rows(ns.name, "-tua")
    assert ours == theirs
    # The world as built: 2 listeners, 4 connections (8 ends), 2 UDP sockets.
    assert len(table) == 12
    assert ("tcp", "LISTEN", 0, 7, "127.0.0.1", 5000, "0.0.0.0", 0) in ours
    assert any(r[1] == "ESTAB" and r[2] == 1000 and r[5] == 5000 for r in ours), "1000 unread bytes"
    assert {s.family for s in table} == {"inet", "inet6"}
    assert all(s.inode > 0 and s.cookie > 0 for s in table)


def test_default_is_every_tcp_state(socket_world):
    ns, _ = socket_world
    assert our_rows(netobs.sockets(netns=ns.name)) == ss_rows(ns.name, "-ta")


def test_states_and_kernel_filters(socket_world):
    ns, _ = socket_world
    listening = netobs.sockets(kinds=["tcp", "udp"], states="listening", netns=ns.name)
    assert our_rows(listening) == ss_rows(ns.name, "-tu", "state", "listening", only_state="LISTEN")
    assert {s.state for s in listening} == {"LISTEN"}
    # ss -l: LISTEN and unconnected datagram sockets.
    dash_l = netobs.sockets(kinds=["tcp", "udp"], states=("listening", "unconnected"), netns=ns.name)
    assert our_rows(dash_l) == ss_rows(ns.name, "-tul")
    estab = netobs.sockets(states=["established"], netns=ns.name)
    assert {s.state for s in estab} == {"ESTAB"} and len(estab) == 8
    # The names the State column shows are taken too.
    assert our_rows(netobs.sockets(states="ESTAB", netns=ns.name)) == our_rows(estab)
    assert our_rows(netobs.sockets(kinds="udp", states="UNCONN", netns=ns.name)) == our_rows(
        netobs.sockets(kinds="udp", states="unconnected", netns=ns.name)
    )
    for expr in ("sport = :5000", "dport = :5000 or dport = :5001", "dst [::1]", "not sport = :5000"):
        got = our_rows(netobs.sockets(filter=expr, netns=ns.name))
        assert got == ss_rows(ns.name, "-ta", expr), expr
        assert got, expr


def test_bad_filter_is_a_value_error_with_its_column(socket_world):
    ns, _ = socket_world
    with pytest.raises(ValueError) as e:
        netobs.sockets(filter="sport = :5000 and dport >", netns=ns.name)
    assert isinstance(e.value, netobs.FilterError) and isinstance(e.value, netobs.NetobsError)
    assert e.value.column is not None and e.value.column > 14
    assert "filter:" in str(e.value)
    with pytest.raises(netobs.FilterError, match="unknown socket state"):
        netobs.sockets(states="sleepy", netns=ns.name)
    with pytest.raises(ValueError, match="unknown socket kind"):
        netobs.sockets(kinds="sctpx", netns=ns.name)


def test_info_memory_and_processes(socket_world):
    ns, pid = socket_world
    plain = netobs.sockets(netns=ns.name)
    assert all(s.tcpi_rtt is None and s.skmem_rcvbuf is None and s.pid is None for s in plain)
    rich = netobs.sockets(info=True, memory=True, processes=True, netns=ns.name)
    assert len(rich) == len(plain)
    for s in rich:
        assert s.skmem_rcvbuf > 0 and s.skmem_sndbuf > 0
        assert s.tcpi_state is not None and s.congestion
        # The sockets belong to the world process (ip netns exec execs it).
        assert s.pid == pid, s
        assert s.process.startswith("python")
    unread = next(s for s in rich if s.state == "ESTAB" and s.rqueue == 1000)
    assert unread.skmem_rmem_alloc > 0 and unread.tcpi_bytes_received == 1000
    assert all(s.tcpi_rtt > 0 for s in rich if s.state == "ESTAB")
    assert set(netobs.TCP_INFO_FIELDS) >= {"rtt", "rttvar", "snd_cwnd", "bytes_acked", "delivery_rate"}


def test_socket_table_to_pandas(socket_world):
    pd = pytest.importorskip("pandas")
    ns, _ = socket_world
    df = netobs.sockets(kinds=("tcp", "udp"), info=True, netns=ns.name).to_pandas()
    assert len(df) == 12
    assert df.groupby("state").size().to_dict() == {"ESTAB": 9, "LISTEN": 2, "UNCONN": 1}
    assert str(df["sport"].dtype) == "uint64"


def parse_nstat(text):
    """`nstat -asz` output: "#kernel", then NAME VALUE RATE lines."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, value = line.split()[:2]
        out[name] = int(value)
    return out


def test_counters_match_nstat(socket_world):
    ns, _ = socket_world
    ours = netobs.counters(netns=ns.name)
    # -a absolute, -s leave nstat's history file alone, -z zeros too.
    theirs = parse_nstat(run("ip", "netns", "exec", ns.name, "nstat", "-asz"))
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    # The namespace is quiet: nothing moves between the two reads.
    assert {k: ours[k] for k in theirs} == theirs
    # The world made 4 connections.
    assert ours["TcpActiveOpens"] == 4 and ours["TcpPassiveOpens"] == 4 and ours["TcpCurrEstab"] == 8
    assert "Ip6InReceives" in ours and "TcpExtListenDrops" in ours


def test_columns_not_asked_for_are_null_everywhere(socket_world):
    ns, _ = socket_world
    table = netobs.sockets(netns=ns.name)
    assert table["tcpi_rtt"] == [None] * len(table)
    assert [s.skmem_drops for s in table[2:5]] == [None] * 3
    pd = pytest.importorskip("pandas")
    df = table.to_pandas()
    assert str(df["tcpi_rtt"].dtype) == "UInt64" and df["tcpi_rtt"].isna().all()
    pa = pytest.importorskip("pyarrow")
    t = table.to_arrow()
    assert t.column("tcpi_rtt").null_count == len(table)
    assert t.column("sport").to_pylist() == list(table["sport"])
    # Equal texts are one object (a column of 100k states holds a handful).
    states = table["state"]
    assert all(a is b for a, b in zip(states, states[1:]) if a == b)


def test_unix_sockets_match_ss(socket_world):
    ns, pid = socket_world
    table = netobs.sockets(kinds="unix", processes=True, netns=ns.name)
    ours = {(s.kind, s.state, s.rqueue, s.wqueue, s.src, s.sport, s.dst, s.dport) for s in table}
    theirs = set()
    for line in run("ss", "-N", ns.name, "-H", "-n", "-xa").splitlines():
        netid, state, rq, wq, name, inode, peer_name, peer = line.split()[:8]
        theirs.add((netid, state, int(rq), int(wq), name, int(inode), peer_name, int(peer)))
    assert ours == theirs
    assert len(table) == 4 and all(s.family == "unix" and s.pid == pid for s in table)
    by_src = {s.src: s for s in table}
    listener = by_src[f"@{ns.name}"]
    assert listener.state == "LISTEN" and listener.wqueue == 5
    assert by_src[f"/tmp/{ns.name}.sock"].kind == "u_dgr"
    # The accepted end holds the 500 unread bytes; its peer is the client.
    server = next(s for s in table if s.rqueue == 500)
    client = next(s for s in table if s.sport == server.dport)
    assert client.dport == server.sport
    # Unix sockets are filtered in user space by name pattern, as ss does.
    named = netobs.sockets(kinds="unix", filter=f"src unix:@{ns.name.upper()}*", netns=ns.name)
    theirs = run("ss", "-N", ns.name, "-H", "-n", "-xa", "src", f"unix:@{ns.name.upper()}*").splitlines()
    # The listener and the connection it accepted, which shares its name.
    assert {(s.src, s.sport) for s in named} == {(f[4], int(f[5])) for f in map(str.split, theirs)}
    assert {s.src for s in named} == {f"@{ns.name}"} and len(named) == 2


# Holds unix datagram sockets with abstract names that have NULs inside
# (and at the end), which ss prints with every NUL as "@"; prints "ready".
ABSTRACT_NAMES = r"""
import socket, sys
keep = []
for name in (b"\0a\0b", b"\0netobs\0inner\0", b"\0plain"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(name); keep.append(s)
print("ready", flush=True)
sys.stdin.readline()
"""


def test_unix_names_with_nuls_print_as_ss_prints_them(make_netns):
    ns = make_netns()
    with script_in_netns(ns, ABSTRACT_NAMES) as p:
        assert p.stdout.readline().strip() == "ready"
        theirs = {line.split()[4] for line in run("ss", "-N", ns.name, "-H", "-xa").splitlines()}
        ours = {s.src for s in netobs.sockets(kinds="unix", netns=ns.name)}
        assert ours == theirs == {"@a@b", "@netobs@inner@", "@plain"}
        # Filters see the names as printed, as ss's do.
        for expr in ("src unix:@a@b", "src unix:@netobs@*", "not src unix:@a*"):
            theirs = {line.split()[4] for line in run("ss", "-N", ns.name, "-H", "-xa", expr).splitlines()}
            ours = {s.src for s in netobs.sockets(kinds="unix", filter=expr, netns=ns.name)}
            assert ours == theirs, expr


# Holds, in the namespace it runs in, a raw packet socket for EtherType
# 0x4321 bound to lo, a datagram packet socket for IPv4 on every
# interface, and rtnetlink and generic netlink sockets; prints "ready".
PACKET_AND_NETLINK = """
import socket, sys
a = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x4321)); a.bind(("lo", 0))
b = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 0))
g = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16); g.bind((0, 0))
print("ready", flush=True)
sys.stdin.readline()
"""


def own_dump_socket(proto, port):
    """Whether a netlink socket is the sock_diag socket (protocol 4, a
    nonzero port) of the tool dumping, which differs between ss and netobs."""
    return proto == 4 and port != 0


def ss_netlink_rows(ns, *args):
    """`ss -N NS -H -n ARGS` of netlink sockets ("UNCONN 0 0 16:6775 *") as
    (state, rqueue, wqueue, protocol, port), without ss's own socket."""
    rows = set()
    for line in run("ss", "-N", ns, "-H", "-n", *args).splitlines():
        state, rq, wq, local = line.split()[:4]
        proto, port = map(int, local.split(":"))
        if not own_dump_socket(proto, port):
            rows.add((state, int(rq), int(wq), proto, port))
    return rows


def test_packet_and_netlink_sockets_match_ss(make_netns):
    ns = make_netns()
    with script_in_netns(ns, PACKET_AND_NETLINK) as p:
        assert p.stdout.readline().strip() == "ready"
        # ss -0 -n -e: "p_raw UNCONN 0 0 [17185]:lo * ino:N sk:HEX".
        theirs = set()
        for line in run("ss", "-N", ns.name, "-H", "-n", "-e", "-0a").splitlines():
            if line.startswith("\t"):
                continue
            netid, state, rq, wq, local, _peer, ino = line.split()[:7]
            proto, _, dev = local.rpartition(":")
            theirs.add((netid, state, int(rq), int(wq), int(proto.strip("[]")), dev, int(ino.removeprefix("ino:"))))
        table = netobs.sockets(kinds="packet", netns=ns.name)
        devs = {0: "*", 1: "lo"}
        ours = {(s.kind, s.state, s.rqueue, s.wqueue, s.sport, devs[s.interface], s.inode) for s in table}
        assert ours == theirs
        assert {(s.kind, s.sport) for s in table} == {("p_raw", 0x4321), ("p_dgr", 0x0800)}
        assert all(s.family == "packet" for s in table)

        # ss -f netlink -n: "UNCONN 0 0 16:6775 *".
        theirs = ss_netlink_rows(ns.name, "-f", "netlink", "-a")
        table = netobs.sockets(kinds="netlink", netns=ns.name)
        # ss's names of netlink protocols (include/uapi/linux/netlink.h numbers).
        names = "rtnl unused usersock fw tcpdiag nflog xfrm selinux iscsi audit fiblookup connector nft ip6fw dec-rt uevent genl"
        number = {n: i for i, n in enumerate(names.split())}
        ours = {
            (s.state, s.rqueue, s.wqueue, number[s.src], s.sport)
            for s in table
            if not own_dump_socket(number[s.src], s.sport)
        }
        assert ours == theirs
        assert {("rtnl", 0), ("genl", 0), ("rtnl", p.pid), ("genl", p.pid)} <= {(s.src, s.sport) for s in table}
        assert {(s.kind, s.family, s.dst) for s in table} == {("nl", "netlink", "*")}
        # No state of theirs is a connection state.
        assert len(netobs.sockets(kinds=("packet", "netlink"), states="established", netns=ns.name)) == 0

        # Filters apply to packet and netlink sockets as ss applies them:
        # the bound interface as the port and the interface of a packet
        # socket, the port id of a netlink one (negative when the kernel
        # chose it), the protocol number as the first bytes of the address
        # (-A: ss's -0 and -f would read addresses as their family's).
        for expr in ("sport = :1", "dev lo", "not sport = :0", "autobound", "src 0.0.0.0/8", "sport > :0"):
            theirs = {
                int(line.split()[4].rpartition(":")[0].strip("[]")) for line in run("ss", "-N", ns.name, "-H", "-n", "-A", "packet", "-a", expr).splitlines()
            }
            ours = {s.sport for s in netobs.sockets(kinds="packet", filter=expr, netns=ns.name)}
            assert ours == theirs, expr
            theirs = {row[3:] for row in ss_netlink_rows(ns.name, "-A", "netlink", "-a", expr)}
            ours = {
                (number[s.src], s.sport)
                for s in netobs.sockets(kinds="netlink", filter=expr, netns=ns.name)
                if not own_dump_socket(number[s.src], s.sport)
            }
            assert ours == theirs, expr
        assert {s.sport for s in netobs.sockets(kinds="packet", filter="dev lo", netns=ns.name)} == {0x4321}


RAW_SOCKETS = r"""
import socket, sys
keep = [socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253); r.bind(("127.0.0.1", 0)); keep.append(r)
r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6); r6.bind(("::1", 0)); keep.append(r6)
print("ready", flush=True)
sys.stdin.read()
"""


def test_raw_sockets_match_ss(make_netns):
    """Raw sockets from raw_diag where the kernel has it, otherwise from
    /proc/net/raw{,6}, as ss lists them either way."""
    ns = make_netns(ipv6=True)
    with script_in_netns(ns, RAW_SOCKETS) as p:
        assert p.stdout.readline().strip() == "ready"
        table = netobs.sockets(kinds=("raw",), netns=ns.name)
        # ss -w alone prints no Netid column (its raw netid depends on the
        # source: "raw" from /proc, the IP protocol's name or "???" from raw_diag).
        theirs = set()
        for line in run("ss", "-N", ns.name, "-H", "-n", "-wa").splitlines():
            state, rq, wq, local, peer = line.split()[:5]
            src, sport = split_addr(local)
            dst, dport = split_addr(peer)
            theirs.add(("raw", state, int(rq), int(wq), src, sport, "::" if dst == "*" else dst, dport))
        assert our_rows(table) == theirs
        assert {(s.src, s.sport) for s in table} == {("0.0.0.0", 1), ("127.0.0.1", 253), ("::1", 58)}
        assert all(s.kind == "raw" and s.inode > 0 for s in table)


MPTCP_CONNECTION = r"""
import socket, sys
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); l.bind(("127.0.0.1", 5100)); l.listen(4)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); c.connect(("127.0.0.1", 5100))
a, _ = l.accept()
c.sendall(b"m" * 2000)
print("ready", flush=True)
sys.stdin.readline()
"""


def test_mptcp_info_columns_match_ss(make_netns):
    """`info=True` fills the mptcp_* columns of MPTCP sockets from their
    struct mptcp_info, as `ss -Mi` prints it (token, write_seq, ... in hex)."""
    ns = make_netns()
    with script_in_netns(ns, MPTCP_CONNECTION) as p:
        assert p.stdout.readline().strip() == "ready"
        table = netobs.sockets(kinds="mptcp", info=True, netns=ns.name)
        assert {s.kind for s in table} == {"mptcp"} and len(table) == 3
        assert all(s.tcpi_state is None for s in table)
        lines = run("ss", "-N", ns.name, "-H", "-n", "-M", "-a", "-i").splitlines()
        # ss prints each socket's line, then its info on a line starting with a tab.
        theirs = {}
        for head, info in zip(lines[::2], lines[1::2]):
            local, peer = head.split()[3:5]
            fields = dict(w.split(":", 1) for w in info.split() if ":" in w)
            theirs[(local, peer)] = fields
        for s in table:
            local = f"{s.src}:{s.sport if s.sport else '*'}"
            peer = f"{s.dst}:{s.dport if s.dport else '*'}"
            fields = theirs[(local, peer)]
            if s.mptcp_token:
                assert int(fields["token"], 16) == s.mptcp_token
            if s.mptcp_write_seq:
                assert "write_seq" in fields
            assert (s.mptcp_subflows or 0) == int(fields.get("subflows", "0"))
        assert any(s.mptcp_token for s in table)
        assert set(netobs.MPTCP_INFO_FIELDS) >= {"subflows", "token", "write_seq", "bytes_acked"}

"""DropMonitor and TraceSession against the running kernel: a frame the
kernel has no handler for, and a TCP connection's state changes.

Tracepoints are global (every namespace, every other test running at the
same time), so each test filters on what only it produces: EtherType
0x4321, its own port.
"""

import os
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import netobs
from conftest import script_in_netns, wait_operstate_up

INSTANCES = "/sys/kernel/tracing/instances"

# Sends one broadcast Ethernet frame with EtherType 0x4321 out of the
# interface named in argv[1], through an AF_PACKET socket: no protocol
# handler exists for it, so the receiving side frees it in
# __netif_receive_skb_core with SKB_DROP_REASON_UNHANDLED_PROTO.
INJECT = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
frame = b"\\xff" * 6 + b"\\x02\\x00\\x00\\x00\\x00\\x01" + b"\\x43\\x21" + b"netobs drop test".ljust(46, b"\\0")
s.send(frame)
"""


# In the namespace it runs in: a loopback TCP connection, made before the
# caller opens its DropMonitor (prints the server's port, then waits for a
# line). Then data the server reads, a socket filter that rejects
# everything on the server socket (struct sock_fprog of one `ret #0`,
# SO_ATTACH_FILTER), and more data: tcp_v4_rcv drops it with reason
# SOCKET_FILTER and rx_sk = the server socket. Waits for a line to exit.
OLD_CONNECTION = """
import ctypes, socket, struct, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
print(l.getsockname()[1], c.getsockname()[1], flush=True)
sys.stdin.readline()
c.sendall(b"hello"); s.recv(5)
ret0 = ctypes.create_string_buffer(struct.pack("@HBBI", 0x06, 0, 0, 0))
SO_ATTACH_FILTER = 26  # include/uapi/asm-generic/socket.h; not in Python's socket module
s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("@HP", 1, ctypes.addressof(ret0)))
c.sendall(b"dropped")
sys.stdin.readline()
"""


def own_instances():
    """This process's trace instances (netobs-PID-...)."""
    prefix = f"netobs-{os.getpid()}-"
    return [n for n in os.listdir(INSTANCES) if n.startswith(prefix)]


@pytest.fixture
def veth_pair(make_netns):
    """`va` in namespace a joined to `vb` in namespace b, both up."""
    a, b = make_netns(), make_netns()
    a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.name)
    a.ip("link", "set", "va", "up")
    b.ip("link", "set", "vb", "up")
    wait_operstate_up(a, "va")
    wait_operstate_up(b, "vb")
    return a, b


def test_drop_monitor_sees_the_unhandled_protocol(veth_pair):
    a, _ = veth_pair
    with netobs.DropMonitor(interval=1.0, protocol=0x4321) as mon:
        assert mon.instance in own_instances()
        assert mon.kernel_filter is not None and "protocol" in mon.kernel_filter
        a.exec(sys.executable, "-c", INJECT, "va")
        asked = datetime.now(timezone.utc)
        rows = mon.summary(1.0)
        answered = datetime.now(timezone.utc)
        assert len(rows) == 1, rows.to_dicts()
        row = rows[0]
        # The interval counted, in wall-clock time.
        assert asked <= row.start < row.end <= answered, (asked, row.start, row.end, answered)
        assert row.end - row.start >= timedelta(seconds=0.99)
        assert row.count == 1
        assert row.symbol.startswith("__netif_receive_skb_core"), row.symbol
        assert "+0x" in row.symbol and "/0x" in row.symbol
        assert row.reason == "UNHANDLED_PROTO"
        assert row.protocol == 0x4321
        assert row.location != 0

        # The same drop once more, as a single event.
        sent = datetime.now(timezone.utc)
        a.exec(sys.executable, "-c", INJECT, "va")
        events = mon.events(timeout=5.0)
        read = datetime.now(timezone.utc)
        assert len(events) == 1
        # Its kernel time stamp as wall-clock time: within the moments
        # around it (1 ms for the rounding to microseconds and the
        # clock-offset read).
        slack = timedelta(milliseconds=1)
        assert sent - slack <= events[0].time <= read + slack, (sent, events[0].time, read)
        e = events[0]
        assert (e.symbol, e.location, e.reason, e.reason_code, e.protocol) == (
            row.symbol,
            row.location,
            row.reason,
            row.reason_code,
            0x4321,
        )
        assert e.timestamp > 0
        assert mon.lost == 0
    assert mon.closed
    assert own_instances() == []
    with pytest.raises(ValueError):
        mon.summary(0.1)


def test_drop_monitor_records_the_stack(veth_pair):
    a, _ = veth_pair
    with netobs.DropMonitor(protocol=0x4321, stacks=True) as mon:
        a.exec(sys.executable, "-c", INJECT, "va")
        events = mon.events(timeout=5.0)
    assert len(events) == 1
    e = events[0]
    assert e.reason == "UNHANDLED_PROTO" and e.skbaddr
    # Innermost first; the receive path that freed it is on the stack.
    assert any(f.startswith("__netif_receive_skb") for f in e.stack), e.stack
    assert all("+0x" in f or f.startswith("0x") for f in e.stack), e.stack
    assert e.saddr is None and e.tcp_state is None


def test_drop_monitor_names_the_device(veth_pair):
    # The tracepoint names no device; devices=True joins each drop to the
    # device its skb was last seen on: the frame died on arrival at vb.
    a, _ = veth_pair
    with netobs.DropMonitor(protocol=0x4321, devices=True) as mon:
        a.exec(sys.executable, "-c", INJECT, "va")
        events = mon.events(timeout=5.0)
    assert len(events) == 1, events.to_dicts()
    assert (events[0].reason, events[0].device) == ("UNHANDLED_PROTO", "vb")
    with netobs.DropMonitor(protocol=0x4321, stacks=True) as mon:
        a.exec(sys.executable, "-c", INJECT, "va")
        assert mon.events(timeout=5.0)[0].device is None


def kfree_skb_has_rx_sk():
    for base in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        try:
            with open(f"{base}/events/skb/kfree_skb/format") as f:
                return "rx_sk;" in f.read()
        except OSError:
            continue
    return True


def test_drop_monitor_names_the_tcp_socket_of_an_old_connection(make_netns):
    if not kfree_skb_has_rx_sk():
        # The join needs the socket's address in the drop: refused, saying why.
        with pytest.raises(netobs.NotSupportedError, match="has no rx_sk field"):
            with netobs.DropMonitor(protocol=0x0800, netns=make_netns().name):
                pass
        pytest.skip("skb:kfree_skb has no field rx_sk on this kernel: drops cannot be joined to sockets")
    ns = make_netns()
    with script_in_netns(ns, OLD_CONNECTION) as p:
        server_port, client_port = map(int, p.stdout.readline().split())
        with netobs.DropMonitor(protocol=0x0800, netns=ns.name) as mon:
            p.stdin.write("go\n")
            p.stdin.flush()
            joined = []
            deadline = time.monotonic() + 5
            while not joined and time.monotonic() < deadline:
                joined = [e for e in mon.events(timeout=0.5) if e.sport == server_port]
        e = joined[0]
        assert e.reason == "SOCKET_FILTER"
        assert (e.saddr, e.daddr, e.dport) == ("127.0.0.1", "127.0.0.1", client_port)
        assert e.rx_sk and e.tcp_state == "ESTABLISHED"
        # The cookie is sock_diag's: ss -e prints it as sk:HEX.
        ss = ns.exec("ss", "-tne", "state", "established", "sport", "=", f":{server_port}")
        assert f" sk:{e.sock_cookie:x} " in ss, ss
        ours = netobs.sockets(states="established", filter=f"sport = :{server_port}", netns=ns.name)
        assert [s.cookie for s in ours] == [e.sock_cookie]


def test_trace_session_names_the_drop_reason(veth_pair):
    a, _ = veth_pair
    ev = "skb:kfree_skb"
    with netobs.TraceSession([ev], filters={ev: "protocol == 0x4321"}) as s:
        sent = datetime.now(timezone.utc)
        a.exec(sys.executable, "-c", INJECT, "va")
        events = s.read(timeout=5.0)
        read = datetime.now(timezone.utc)
    assert len(events) == 1, events
    e = events[0]
    assert e["event"] == ev
    slack = timedelta(milliseconds=1)
    assert sent - slack <= e["time"] <= read + slack, (sent, e["time"], read)
    # timestamp is CLOCK_MONOTONIC (the instance's mono trace clock)
    assert 0 < e["timestamp"] <= time.monotonic_ns()
    # The field names of skb:kfree_skb's format; the reason by the kernel's
    # own name (its __print_symbolic table), the rest as numbers.
    assert e["reason"] == "UNHANDLED_PROTO"
    assert e["protocol"] == 0x4321
    assert isinstance(e["location"], int) and isinstance(e["skbaddr"], int)
    assert own_instances() == []


def test_drop_monitor_iterates_per_interval(veth_pair):
    a, _ = veth_pair
    with netobs.DropMonitor(interval=0.5, reasons=["UNHANDLED_PROTO", "NOT_SPECIFIED"], protocol="0x4321") as mon:
        a.exec(sys.executable, "-c", INJECT, "va")
        a.exec(sys.executable, "-c", INJECT, "va")
        first = next(iter(mon))
        assert [(r.reason, r.protocol, r.count) for r in first] == [("UNHANDLED_PROTO", 0x4321, 2)]
        assert len(next(mon)) == 0
    assert own_instances() == []


def test_drop_monitor_rejects_an_unknown_reason(root):
    with pytest.raises(netobs.NetobsError, match="NO_SUCH_REASON") as e:
        netobs.DropMonitor(reasons="NO_SUCH_REASON", protocol=0x4321)
    # The few closest names, not the kernel's whole table.
    assert "closest: " in str(e.value) and len(str(e.value)) < 300, str(e.value)
    with pytest.raises(netobs.NetobsError, match="closest: NO_SOCKET"):
        netobs.DropMonitor(reasons=["NO_SOCKET", "NO_SOCKT"], protocol=0x4321)
    assert own_instances() == []


def test_reprs_are_python_reprs(root):
    with netobs.DropMonitor(protocol=0x4321) as mon:
        r = repr(mon)
        assert r.startswith("DropMonitor(instance='netobs-") and "filter='protocol == 0x4321'" in r, r
    with netobs.TraceSession(["skb:kfree_skb"]) as s:
        assert repr(s).startswith("TraceSession(instance='netobs-"), repr(s)


def test_trace_session_sees_the_states_of_a_connect(root):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    expr = f"sport == {port} || dport == {port}"
    with netobs.TraceSession(["sock:inet_sock_set_state"], filters={"sock:inet_sock_set_state": expr}) as s:
        assert s.instance in own_instances()
        client = socket.create_connection(("127.0.0.1", port))
        server, _ = listener.accept()
        client_port = client.getsockname()[1]
        client.close()
        server.close()
        events = []
        while len(events) < 7:
            got = s.read(timeout=5.0)
            if not got:
                break
            events += got
    assert own_instances() == []
    listener.close()

    for e in events:
        assert e["event"] == "sock:inet_sock_set_state"
        assert e["family"] == "AF_INET" and e["protocol"] == "IPPROTO_TCP"
        assert e["saddr"] == bytes([127, 0, 0, 1])
    # tcp_v4_connect sets SYN_SENT before inet_hash_connect picks the source
    # port: that first event has sport 0, so follow the socket by address.
    client_sk = {e["skaddr"] for e in events if e["sport"] == client_port}
    assert len(client_sk) == 1
    client_states = [(e["oldstate"], e["newstate"]) for e in events if e["skaddr"] in client_sk]
    assert events[0]["sport"] == 0 and events[0]["dport"] == port
    assert client_states[:2] == [("TCP_CLOSE", "TCP_SYN_SENT"), ("TCP_SYN_SENT", "TCP_ESTABLISHED")]
    # The client closed first: active close through FIN_WAIT1.
    assert ("TCP_ESTABLISHED", "TCP_FIN_WAIT1") in client_states
    server_states = [(e["oldstate"], e["newstate"]) for e in events if e["sport"] == port]
    assert ("TCP_SYN_RECV", "TCP_ESTABLISHED") in server_states
    assert ("TCP_ESTABLISHED", "TCP_CLOSE_WAIT") in server_states
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)


def test_trace_session_filter_rejected_by_the_kernel(root):
    with pytest.raises(netobs.FilterError) as info:
        netobs.TraceSession(["skb:kfree_skb"], filters={"skb:kfree_skb": "no_such_field == 1"})
    assert isinstance(info.value, ValueError)
    assert info.value.errno == 22
    assert info.value.kernel_message
    assert own_instances() == []


def test_trace_session_unknown_event(root):
    with pytest.raises(netobs.NotFoundError, match="no_such_event"):
        netobs.TraceSession(["skb:no_such_event"])


def test_waiting_releases_the_gil(root):
    """While DropMonitor.summary and TraceSession.read wait, another Python
    thread keeps running."""
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    with netobs.DropMonitor(protocol=0x4322) as mon, netobs.TraceSession(
        ["skb:kfree_skb"], filters={"skb:kfree_skb": "protocol == 0x4322"}
    ) as s:
        t = threading.Thread(target=spin)
        t.start()
        try:
            assert len(mon.summary(0.5)) == 0
            assert s.read(timeout=0.5) == []
        finally:
            stop.set()
            t.join()
    # About 1000 ticks of 1 ms in 1 s; holding the GIL would allow a handful.
    assert len(ticks) > 200


def test_drop_times_convert_to_pandas_and_arrow(veth_pair):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    a, _ = veth_pair
    with netobs.DropMonitor(protocol=0x4321, stacks=True) as mon:
        a.exec(sys.executable, "-c", INJECT, "va")
        events = mon.events(timeout=5.0)
        a.exec(sys.executable, "-c", INJECT, "va")
        rows = mon.summary(0.5)
    df = events.to_pandas()
    assert str(df["time"].dtype) == "datetime64[ns, UTC]"
    # pandas keeps the ns the datetime rounds to microseconds
    assert df["time"][0].floor("us") == pd.Timestamp(events[0].time)
    assert events.to_arrow().schema.field("time").type == pa.timestamp("ns", tz="UTC")
    assert str(rows.to_pandas()["start"].dtype) == "datetime64[ns, UTC]"
    assert "time" in repr(events) and str(events[0].time.year) in repr(events)

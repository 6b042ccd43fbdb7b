"""Row types: frozen named tuples with flat, named columns.

The field order of each is the column order the Rust side writes
(netobs-py/src/*.rs); `netobs._table._from_columns` checks they agree.
The annotations are evaluated (no `from __future__ import annotations`),
so a row's signature names real types, not `ForwardRef('Optional[int]')`.
"""

from collections import namedtuple
from datetime import datetime
from typing import NamedTuple, Optional, Tuple

from . import _netobs

class Link(NamedTuple):
    """One network interface (RTM_NEWLINK) with every counter of
    `rtnl_link_stats64` as its own column. `None` means the kernel did not
    send the attribute."""

    index: int
    name: str
    #: Link kind from IFLA_LINKINFO: "veth", "bridge", ... (None for physical devices and lo).
    kind: Optional[str]
    #: Device type as `ip link` names it: "ether", "loopback", ...
    link_type: Optional[str]
    #: Device type number (ARPHRD_*).
    link_type_id: int
    #: IFF_* bits; see `flag_names`.
    flags: int
    #: RFC 2863 operational state: "UP", "DOWN", "LOWERLAYERDOWN", "UNKNOWN", ...
    operstate: Optional[str]
    mtu: Optional[int]
    min_mtu: Optional[int]
    max_mtu: Optional[int]
    qdisc: Optional[str]
    txqlen: Optional[int]
    group: Optional[int]
    link_mode: Optional[int]
    address: Optional[str]
    broadcast: Optional[str]
    perm_address: Optional[str]
    #: Index of the master (bridge, bond, vrf).
    master: Optional[int]
    #: Index of the lower or peer link (IFLA_LINK), in `link_netnsid`'s namespace when that is set.
    link: Optional[int]
    link_netnsid: Optional[int]
    alias: Optional[str]
    altnames: Tuple[str, ...]
    slave_kind: Optional[str]
    carrier: Optional[bool]
    carrier_changes: Optional[int]
    proto_down: Optional[bool]
    promiscuity: Optional[int]
    allmulti: Optional[int]
    num_tx_queues: Optional[int]
    num_rx_queues: Optional[int]
    gso_max_size: Optional[int]
    gso_max_segs: Optional[int]
    gro_max_size: Optional[int]
    tso_max_size: Optional[int]
    tso_max_segs: Optional[int]
    rx_packets: Optional[int]
    tx_packets: Optional[int]
    rx_bytes: Optional[int]
    tx_bytes: Optional[int]
    rx_errors: Optional[int]
    tx_errors: Optional[int]
    rx_dropped: Optional[int]
    tx_dropped: Optional[int]
    multicast: Optional[int]
    collisions: Optional[int]
    rx_length_errors: Optional[int]
    rx_over_errors: Optional[int]
    rx_crc_errors: Optional[int]
    rx_frame_errors: Optional[int]
    rx_fifo_errors: Optional[int]
    rx_missed_errors: Optional[int]
    tx_aborted_errors: Optional[int]
    tx_carrier_errors: Optional[int]
    tx_fifo_errors: Optional[int]
    tx_heartbeat_errors: Optional[int]
    tx_window_errors: Optional[int]
    rx_compressed: Optional[int]
    tx_compressed: Optional[int]
    rx_nohandler: Optional[int]
    rx_otherhost_dropped: Optional[int]

    @property
    def stats(self) -> "LinkStats":
        """The counters alone, as a `LinkStats`."""
        return LinkStats._make(getattr(self, f) for f in STATS64_FIELDS)

    @property
    def flag_names(self) -> Tuple[str, ...]:
        """The flags as `ip link` prints them, NO-CARRIER included (the
        words come from netobs-core, as the ip example prints them)."""
        return tuple(_netobs.link_flag_names(self.flags))

    @property
    def is_up(self) -> bool:
        """Administratively up (IFF_UP)."""
        return bool(self.flags & 0x1)  # IFF_UP


#: The counters of `struct rtnl_link_stats64` (include/uapi/linux/if_link.h),
#: in kernel order: the last 25 columns of `Link`.
STATS64_FIELDS: Tuple[str, ...] = Link._fields[Link._fields.index("rx_packets") :]

#: The counters of one link alone (`Link.stats`), named as in `Link`.
LinkStats = namedtuple("LinkStats", STATS64_FIELDS)
LinkStats.__doc__ = "`struct rtnl_link_stats64`: every counter of one link, `None` where the kernel did not send it."


#: L3 counters kept by hardware (`struct rtnl_hw_stats64`), in `LinkStatsRow`.
L3_STATS_FIELDS: Tuple[str, ...] = tuple(
    "l3_" + f
    for f in ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped", "multicast")
)

#: One row of `link_stats()` (RTM_GETSTATS): the link's index, every counter
#: of `rtnl_link_stats64` named as in `Link`, and the hardware L3 counters
#: (None unless enabled on a device that keeps them).
LinkStatsRow = namedtuple("LinkStatsRow", ("index",) + STATS64_FIELDS + L3_STATS_FIELDS)
LinkStatsRow.__doc__ = "One link's counters from RTM_GETSTATS: index, the 25 rtnl_link_stats64 counters, l3_* hardware counters."


#: The fields of `struct tcp_info` (include/uapi/linux/tcp.h) netobs knows,
#: in struct order; `Socket` has them as `tcpi_NAME` columns.
TCP_INFO_FIELDS: Tuple[str, ...] = tuple(_netobs.TCP_INFO_FIELDS)

#: The fields of `struct mptcp_info` (include/uapi/linux/mptcp.h), in
#: struct order; `Socket` has them as `mptcp_NAME` columns.
MPTCP_INFO_FIELDS: Tuple[str, ...] = tuple(_netobs.MPTCP_INFO_FIELDS)

#: `struct sk_meminfo` (SK_MEMINFO_*), the `skmem_*` columns of `Socket`.
SKMEM_FIELDS: Tuple[str, ...] = tuple(
    "skmem_" + f
    for f in ("rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc", "wmem_queued", "optmem", "backlog", "drops")
)

#: One socket (`ss -tuxan0`, `ss --netlink`): kind ("tcp", "udp", ...,
#: "u_str", "u_dgr", "p_raw", "p_dgr", "nl"), family ("inet", "inet6",
#: "unix", "packet", "netlink"), state as ss names it ("ESTAB", "LISTEN",
#: "UNCONN", ...), src,
#: sport, dst, dport, rqueue, wqueue, interface, uid, inode, cookie, timer,
#: retrans, expires, congestion (unix sockets as ss -x lays them out: the
#: name or "*" as src with the inode as sport, "*" and the peer inode as
#: dst/dport; packet sockets: the EtherType as sport, the bound interface
#: index (0: all) as interface; netlink sockets: the protocol's ss name
#: ("rtnl", "genl") as src, the port id as sport (0: the kernel's), "*" and
#: the destination port id as dst/dport); then `tcpi_*` (info=True, TCP),
#: `mptcp_*` (info=True, MPTCP), `skmem_*` (memory=True), `pid` and `process`
#: (processes=True), None when not asked.
Socket = namedtuple(
    "Socket",
    (
        "kind", "family", "state", "src", "sport", "dst", "dport", "rqueue", "wqueue",
        "interface", "uid", "inode", "cookie", "timer", "retrans", "expires", "congestion",
    )
    + tuple("tcpi_" + f for f in TCP_INFO_FIELDS)
    + tuple("mptcp_" + f for f in MPTCP_INFO_FIELDS)
    + SKMEM_FIELDS
    + ("pid", "process"),
)
Socket.__doc__ = "One socket as `ss -tuxan0 -i -m -p` shows it, with flat columns."


class LinkRate(NamedTuple):
    """Per-second rates of one link between two counter snapshots (nicstat's
    rKB/s, wKB/s, rPk/s, wPk/s, rAvs, wAvs, and `sar -n EDEV`'s errors and drops)."""

    index: int
    name: str
    seconds: float
    rx_kbytes: float
    tx_kbytes: float
    rx_packets: float
    tx_packets: float
    rx_avg_size: float
    tx_avg_size: float
    rx_errors: float
    tx_errors: float
    rx_dropped: float
    tx_dropped: float


class DriverInfo(NamedTuple):
    """`struct ethtool_drvinfo`: what `ethtool -i` shows."""

    driver: str
    version: str
    fw_version: str
    bus_info: str
    erom_version: str
    n_priv_flags: int
    n_stats: int
    testinfo_len: int
    eedump_len: int
    regdump_len: int


class Rings(NamedTuple):
    """Ring sizes (`ethtool -g`): the maximums, then the current settings."""

    rx_max: Optional[int]
    rx_mini_max: Optional[int]
    rx_jumbo_max: Optional[int]
    tx_max: Optional[int]
    rx: Optional[int]
    rx_mini: Optional[int]
    rx_jumbo: Optional[int]
    tx: Optional[int]
    rx_buf_len: Optional[int]
    #: ETHTOOL_TCP_DATA_SPLIT_*: 0 unknown, 1 disabled, 2 enabled.
    tcp_data_split: Optional[int]
    cqe_size: Optional[int]
    tx_push: Optional[bool]


class Channels(NamedTuple):
    """Channel counts (`ethtool -l`): the maximums, then the current settings."""

    rx_max: Optional[int]
    tx_max: Optional[int]
    other_max: Optional[int]
    combined_max: Optional[int]
    rx: Optional[int]
    tx: Optional[int]
    other: Optional[int]
    combined: Optional[int]


class Pause(NamedTuple):
    """Pause frame settings (`ethtool -a`) and, over netlink, their counters."""

    autoneg: Optional[bool]
    rx: Optional[bool]
    tx: Optional[bool]
    tx_pause_frames: Optional[int]
    rx_pause_frames: Optional[int]


class Feature(NamedTuple):
    """One offload feature (`ethtool -k`)."""

    name: str
    #: In effect now ("on").
    active: bool
    #: Asked for by the user.
    wanted: bool
    #: The driver can change it (hw_features).
    changeable: bool
    #: Shown as "[fixed]": not changeable, or never changeable.
    fixed: bool


class EthtoolInfo(NamedTuple):
    """What `netobs.ethtool()` gathers about one interface; a part the driver
    does not implement (EOPNOTSUPP) is None."""

    driver: Optional[DriverInfo]
    rings: Optional[Rings]
    channels: Optional[Channels]
    pause: Optional[Pause]
    #: A `Table` of `Feature` rows.
    features: Optional[object]


class DropRow(NamedTuple):
    """Drops of one interval at one place, for one reason and protocol, as
    dropwatch sums them (`DropMonitor` iteration / `summary()`)."""

    #: Where the skb was freed, as the kernel prints `%pS`:
    #: "__netif_receive_skb_core.constprop.0+0x7e6/0xf00".
    symbol: str
    #: The kernel address (kfree_skb's `location`).
    location: int
    #: The kernel's name of the drop reason ("UNHANDLED_PROTO", from
    #: skb:kfree_skb's format, without the SKB_DROP_REASON_ prefix).
    reason: str
    #: `enum skb_drop_reason` value on the running kernel.
    reason_code: int
    #: EtherType of the skb (0x0800 IPv4, 0x86dd IPv6, ...).
    protocol: int
    count: int
    #: The interval the drops were counted in, as UTC wall-clock times
    #: (the same for every row of one table).
    start: datetime
    end: datetime


class DropEvent(NamedTuple):
    """One `skb:kfree_skb` record (`DropMonitor.events()`)."""

    #: Trace clock time stamp, ns: CLOCK_MONOTONIC (the instance runs on
    #: the `mono` trace clock); on NET_DM, ns since the Unix epoch.
    timestamp: int
    #: The same moment as a UTC wall-clock time; None where the kernel gave
    #: no time stamp (NET_DM summary alerts).
    time: Optional[datetime]
    cpu: int
    #: The task that was running (often 0: softirq on the idle task).
    pid: int
    symbol: str
    location: int
    reason: str
    reason_code: int
    protocol: int
    #: The skb's kernel address (None on the NET_DM backend).
    skbaddr: Optional[int]
    #: The receiving socket's kernel address, when the drop had one.
    rx_sk: Optional[int]
    #: The kernel stack, innermost first, as `%pS` symbols (`stacks=True`;
    #: empty otherwise).
    stack: Tuple[str, ...]
    #: The TCP socket of the drop (`tcp=True`), local end first; None when
    #: the drop had no TCP socket or it could not be named.
    saddr: Optional[str]
    sport: Optional[int]
    daddr: Optional[str]
    dport: Optional[int]
    #: Its state ("ESTABLISHED"), from its last state change or sock_diag.
    tcp_state: Optional[str]
    #: Its cookie, as sock_diag (`ss -e`'s `sk:`) reports it.
    sock_cookie: Optional[int]
    #: The device the skb was last seen on (`devices=True`; a name, valid
    #: in whichever namespace has it), None when unknown.
    device: Optional[str]


class PacketRow(NamedTuple):
    """One packet with its outer headers decoded (`packet_table`): the
    capture's columns, then Ethernet, VLAN, IP and transport fields (None
    where the packet has no such header or the capture cut it)."""

    #: The time stamp as a UTC wall-clock time.
    time: Optional[datetime]
    #: ns since the Unix epoch.
    timestamp: int
    #: Length on the wire.
    length: int
    #: Bytes captured.
    caplen: int
    #: Interface index (live capture) or pcapng interface number.
    interface: int
    #: The interface's name in the captured namespace (live capture only).
    interface_name: Optional[str]
    #: "host", "outgoing", ... (live capture only).
    direction: Optional[str]
    src_mac: Optional[str]
    dst_mac: Optional[str]
    #: VLAN id of the outermost 802.1Q/802.1ad tag.
    vlan: Optional[int]
    #: EtherType after the VLAN tags.
    ethertype: Optional[int]
    #: IPv4 or IPv6 addresses.
    src: Optional[str]
    dst: Optional[str]
    #: IP protocol number (IPv6: after the extension headers).
    ip_protocol: Optional[int]
    #: The highest header decoded: "TCP", "UDP", "ICMP", "ICMPv6", "GRE",
    #: "IPv4", "IPv6", "ARP", "RARP".
    protocol: Optional[str]
    #: TCP or UDP ports (not in a fragment after the first).
    sport: Optional[int]
    dport: Optional[int]
    #: TCP flags as tcpdump prints them ("S", "S.", "P.", "F.", "R.").
    tcp_flags: Optional[str]
    icmp_type: Optional[int]
    icmp_code: Optional[int]
    #: tcpdump's `-n` line after the time stamp (Ethernet and LINUX_SLL2
    #: frames).
    summary: Optional[str]


class LayerRow(NamedTuple):
    """One layer of the stack in a triage report (`DiagnoseReport.layers`),
    from the driver up."""

    #: "driver", "interface", "qdisc", "netfilter", "ip", "transport", "socket".
    layer: str
    #: Packets lost here during the window: the largest count among its
    #: evidence (several counters usually count the same packets).
    lost: int
    #: Whether this is the verdict's layer.
    losing: bool
    #: How many pieces of evidence point here.
    evidence: int
    #: The largest piece of evidence, as text (None when there is none).
    top: Optional[str]
    #: What was seen here that explains a loss without being one (a full
    #: accept queue, a receive queue at its buffer, sockets piling up).
    observations: Tuple[str, ...]


class EvidenceRow(NamedTuple):
    """One observation that packets were lost (`DiagnoseReport.evidence`)."""

    layer: str
    #: Where it was read: "ss", "nstat", "softnet_stat", "tc -s qdisc",
    #: "ip -s link", "ethtool -S", "kfree_skb".
    source: str
    #: The counter or the kernel's drop reason ("rx_dropped", "NO_SOCKET").
    name: str
    #: For kernel drops, the function that dropped.
    location: Optional[str]
    #: A device, a socket ("udp 10.0.0.2:9999"), or "" for the namespace.
    subject: str
    #: The namespace ("" for the caller's own).
    netns: str
    #: Packets lost during the window.
    lost: int
    #: "certain" (a counter of the target), "high" or "medium" (a kernel
    #: drop joined to a target device by its skb address; medium when other
    #: namespaces have a device of the same name).
    confidence: str


class FrameGroup(NamedTuple):
    """Frames the kernel dropped as UNHANDLED_PROTO, by sender and
    EtherType (`DiagnoseReport.frames`)."""

    device: str
    #: Source MAC address.
    source: str
    ethertype: int
    count: int

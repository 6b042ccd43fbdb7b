"""Type stubs of the compiled module `netobs._netobs` (netobs-py/src)."""

import os
from datetime import datetime
from types import TracebackType
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Type, Union

from ._rows import DriverInfo, DropEvent, DropRow, EthtoolInfo, Link, LinkRate, LinkStatsRow, PacketRow, Socket
from ._table import Table

#: The `netns=` argument: None (the caller's namespace), a name from
#: `ip netns add`, a namespace file path, or an open namespace fd.
NetnsArg = Optional[Union[str, "os.PathLike[str]", int]]

__version__: str

def links(netns: NetnsArg = None) -> Table[Link]:
    """Every link of the namespace with its attributes and all counters (`ip -s -s link`)."""

def link(name_or_index: Union[str, int], netns: NetnsArg = None) -> Link:
    """One link by name, alternative name or index; InterfaceNotFoundError if there is none."""

def link_stats(netns: NetnsArg = None) -> Table[LinkStatsRow]:
    """The counters of every link by index (RTM_GETSTATS), without the other attributes."""

def link_counters(netns: NetnsArg = None) -> LinkCounters:
    """A snapshot of every link's counters; `later - earlier` gives rates."""

def link_flag_names(flags: int) -> List[str]: ...
def link_rates(interval: float = 1.0, netns: NetnsArg = None) -> Table[LinkRate]:
    """Per-second rates of every link over `interval` seconds."""

class LinkCounters:
    """Counters of every link at one instant."""

    def rates_since(self, earlier: LinkCounters) -> Table[LinkRate]: ...
    def __sub__(self, earlier: LinkCounters) -> Table[LinkRate]: ...
    def __len__(self) -> int: ...

def ethtool_stats_pairs(ifname: str, netns: NetnsArg = None) -> List[Tuple[str, int]]:
    """The driver's statistics (`ethtool -S`) as (name, value) in driver order, repeated names kept."""

def ethtool_driver(ifname: str, netns: NetnsArg = None) -> DriverInfo:
    """Driver information (`ethtool -i`); NotSupportedError where there is none."""

def ethtool(ifname: str, netns: NetnsArg = None) -> EthtoolInfo:
    """Driver information, rings, channels, pause and features (`ethtool -i -g -l -a -k`)."""

#: The fields of `struct tcp_info` netobs reads, in struct order.
TCP_INFO_FIELDS: List[str]

#: The fields of `struct mptcp_info` netobs reads, in struct order.
MPTCP_INFO_FIELDS: List[str]

def sockets(
    kinds: Optional[Union[str, Iterable[str]]] = None,
    states: Optional[Union[str, Iterable[str]]] = None,
    filter: Optional[str] = None,
    info: bool = False,
    memory: bool = False,
    processes: bool = False,
    netns: NetnsArg = None,
) -> Table[Socket]:
    """Sockets of the namespace (`ss -tuxan0`); kinds from tcp, udp, raw, mptcp, sctp, dccp,
    udplite, unix, packet, netlink (default ("tcp",)); states are ss state words (default: all);
    filter is an ss filter, applied to every kind as ss applies it."""

def counters(netns: NetnsArg = None) -> Dict[str, int]:
    """Protocol counters (/proc/net/snmp, netstat, snmp6) by nstat name, like `nstat -a`."""

class DropMonitor:
    """dropwatch on the skb:kfree_skb tracepoint, from a private trace
    instance (removed by `close()` / leaving the `with` block). Iterating
    yields a `Table[DropRow]` per `interval` seconds. Tracepoints are
    global: every namespace's drops are seen; filter with `reasons`,
    `protocol` (EtherType, int or "0x86dd") and `location` (function).
    `stacks=True` records kernel stacks and `tcp=True` names the TCP
    socket of a drop in `events()`; `netns` (implies `tcp=True`) is where
    those sockets' states are looked up with sock_diag. `devices=True`
    names in `events()` the device each dropped skb was last seen on
    (net:netif_receive_skb / net:net_dev_queue joined by skb address), so
    drops of one device or namespace can be kept."""

    def __init__(
        self,
        interval: float = 1.0,
        reasons: Optional[Union[str, Sequence[str]]] = None,
        protocol: Optional[Union[int, str]] = None,
        location: Optional[str] = None,
        stacks: bool = False,
        tcp: bool = False,
        netns: NetnsArg = None,
        devices: bool = False,
    ) -> None: ...
    @property
    def instance(self) -> str: ...
    @property
    def kernel_filter(self) -> Optional[str]: ...
    @property
    def interval(self) -> float: ...
    @property
    def lost(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def summary(self, seconds: Optional[float] = None) -> Table[DropRow]: ...
    def events(self, timeout: Optional[float] = None) -> Table[DropEvent]: ...
    def close(self) -> None: ...
    def __enter__(self) -> DropMonitor: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
    def __iter__(self) -> DropMonitor: ...
    def __next__(self) -> Table[DropRow]: ...

class TraceSession:
    """Tracepoints ("system:event") read from a private trace instance;
    each record is a dict of `event`, `timestamp` (ns, CLOCK_MONOTONIC), `time` (UTC datetime), `cpu`, `pid` and the
    event's fields by their format names (symbolic fields as the kernel's
    names). `filters` maps an event to a kernel filter expression; one the
    kernel rejects raises `FilterError` with its error_log text."""

    def __init__(self, events: Sequence[str], filters: Optional[Dict[str, str]] = None) -> None: ...
    @property
    def instance(self) -> str: ...
    @property
    def lost(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def read(self, timeout: float = 0.0) -> List[Dict[str, Any]]: ...
    def close(self) -> None: ...
    def __enter__(self) -> TraceSession: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
    def __iter__(self) -> TraceSession: ...
    def __next__(self) -> Dict[str, Any]: ...

class Packet:
    """One captured packet with a copy of its bytes; `bytes(packet)` or
    `packet.data` gives them."""

    def __init__(
        self,
        data: bytes,
        timestamp: Optional[int] = None,
        length: Optional[int] = None,
        interface: int = 0,
        direction: Optional[str] = None,
        linktype: int = 1,
        interface_name: Optional[str] = None,
    ) -> None: ...
    @property
    def timestamp(self) -> int:
        """ns since the epoch."""
    @property
    def time(self) -> Optional[datetime]:
        """The time stamp as a UTC datetime (None beyond the year 2262)."""
    @property
    def length(self) -> int:
        """Length on the wire."""
    @property
    def caplen(self) -> int:
        """Bytes captured."""
    @property
    def interface(self) -> int:
        """Interface index (live) or pcapng interface number (files)."""
    @property
    def direction(self) -> Optional[str]:
        """"host", "broadcast", "multicast", "otherhost", "outgoing"; None from files."""
    @property
    def linktype(self) -> int:
        """1: Ethernet; 276: LINUX_SLL2 (a capture on "any")."""
    @property
    def interface_name(self) -> Optional[str]:
        """The interface's name in the captured namespace (live capture)."""
    @property
    def data(self) -> bytes: ...
    def __bytes__(self) -> bytes: ...
    def __len__(self) -> int: ...
    def summary(self) -> str:
        """tcpdump's `-n -S` line after the time stamp (Ethernet only)."""
    def hexdump(self, ascii: bool = True) -> str:
        """tcpdump's -X (-x with ascii=False) dump after the Ethernet header."""

class Capture:
    """A live capture on one interface (TPACKET_V3), like `tcpdump -i`; on
    "any", every interface in cooked mode (LINUX_SLL2), like `tcpdump -i any`."""

    def __init__(
        self,
        interface: str,
        filter: Optional[str] = None,
        snaplen: int = 262144,
        promiscuous: bool = False,
        netns: NetnsArg = None,
    ) -> None: ...
    @property
    def interface(self) -> str: ...
    @property
    def stats(self) -> Dict[str, int]:
        """{"received", "dropped", "freeze_count"} since the capture opened."""
    @property
    def closed(self) -> bool: ...
    def read(self, timeout: float = 0.0) -> List[Packet]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Capture: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
    def __iter__(self) -> Capture: ...
    def __next__(self) -> Packet: ...

def read_pcap(path: Union[str, "os.PathLike[str]"], filter: Optional[str] = None) -> List[Packet]:
    """The packets of a pcap or pcapng file (matching `filter`), like `tcpdump -r`."""

def write_pcap(
    path: Union[str, "os.PathLike[str]"], packets: Iterable[Union[Packet, bytes]], snaplen: int = 262144
) -> int:
    """Writes a pcap file with ns time stamps; returns the count. Plain
    bytes are Ethernet frames stamped now."""

def packet_table(packets: Iterable[Packet]) -> Table[PacketRow]:
    """One row per packet with its headers decoded (`PacketRow`)."""

def compile_filter(
    expr: str, linktype: int = 1, snaplen: int = 262144, live: bool = False
) -> List[Tuple[int, int, int, int]]:
    """The classic BPF program for a pcap-filter expression, as `tcpdump -dd`
    (`live=True`: as `tcpdump -i IF -dd`, VLAN tags and direction from the
    kernel's metadata)."""

def _diagnose(
    netns: Union[NetnsArg, Sequence[NetnsArg]] = None,
    interface: Optional[str] = None,
    port: Optional[int] = None,
    seconds: float = 5.0,
    identify_frames: bool = True,
) -> Tuple[Any, ...]:
    """The triage's parts; `netobs.diagnose()` wraps them in a DiagnoseReport."""
    ...

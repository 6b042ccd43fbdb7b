"""netobs: observe the Linux network stack from Python.

Sockets (`sockets`, like `ss`), interface counters (`links`, `link`, `link_stats`, `link_rates`, `link_counters`) and driver
statistics (`ethtool_stats`, `ethtool`), read from the kernel directly
(sock_diag, rtnetlink, SIOCETHTOOL) by the netobs Rust crates; kernel drop
points (`DropMonitor`, like dropwatch) and any tracepoint (`TraceSession`)
from a private tracefs instance; packets (`Capture`, like tcpdump, with
`read_pcap`, `write_pcap` and `compile_filter`). Every call except the tracing ones takes
`netns=`: a name from `ip netns add`, a namespace file path, or an open
namespace file descriptor. Collections are `Table`s with `to_pandas()`,
`to_arrow()` and `to_dicts()`; rows are frozen named tuples.
"""

from __future__ import annotations

from ._netobs import (
    Capture,
    DropMonitor,
    Packet,
    TraceSession,
    counters,
    LinkCounters,
    __version__,
    compile_filter,
    ethtool,
    ethtool_driver,
    link,
    link_counters,
    link_rates,
    link_stats,
    links,
    packet_table,
    read_pcap,
    sockets,
    write_pcap,
)
from ._diagnose import DiagnoseReport, Verdict, diagnose
from ._ethtool import ethtool_stats
from ._rows import (
    L3_STATS_FIELDS,
    MPTCP_INFO_FIELDS,
    SKMEM_FIELDS,
    STATS64_FIELDS,
    TCP_INFO_FIELDS,
    Channels,
    DriverInfo,
    DropEvent,
    DropRow,
    EthtoolInfo,
    EvidenceRow,
    Feature,
    FrameGroup,
    LayerRow,
    Link,
    LinkRate,
    LinkStats,
    LinkStatsRow,
    PacketRow,
    Pause,
    Rings,
    Socket,
)
from ._table import Table
from .errors import (
    FilterError,
    InterfaceNotFoundError,
    NetobsError,
    NetobsPermissionError,
    NotFoundError,
    NotSupportedError,
)

__all__ = [
    "Capture",
    "Channels",
    "DiagnoseReport",
    "DriverInfo",
    "DropEvent",
    "DropMonitor",
    "DropRow",
    "EthtoolInfo",
    "EvidenceRow",
    "Feature",
    "FilterError",
    "FrameGroup",
    "InterfaceNotFoundError",
    "LayerRow",
    "Link",
    "LinkCounters",
    "LinkRate",
    "LinkStats",
    "LinkStatsRow",
    "PacketRow",
    "L3_STATS_FIELDS",
    "MPTCP_INFO_FIELDS",
    "NetobsError",
    "NetobsPermissionError",
    "NotFoundError",
    "NotSupportedError",
    "Packet",
    "Pause",
    "Rings",
    "SKMEM_FIELDS",
    "STATS64_FIELDS",
    "Socket",
    "TCP_INFO_FIELDS",
    "Table",
    "TraceSession",
    "Verdict",
    "__version__",
    "compile_filter",
    "counters",
    "diagnose",
    "ethtool",
    "ethtool_driver",
    "ethtool_stats",
    "link",
    "link_counters",
    "link_rates",
    "link_stats",
    "links",
    "packet_table",
    "read_pcap",
    "sockets",
    "write_pcap",
]

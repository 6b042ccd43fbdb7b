"""Type stubs of the compiled module `netobs._netobs` (netobs-py/src)."""

import os
from typing import Dict, Iterable, List, Optional, Tuple, Union

from ._rows import DriverInfo, EthtoolInfo, Link, LinkRate, LinkStatsRow, Socket
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

def sockets(
    kinds: Optional[Union[str, Iterable[str]]] = None,
    states: Optional[Union[str, Iterable[str]]] = None,
    filter: Optional[str] = None,
    info: bool = False,
    memory: bool = False,
    processes: bool = False,
    netns: NetnsArg = None,
) -> Table[Socket]:
    """Sockets of the namespace (`ss -tuxan`); kinds from tcp, udp, raw, mptcp, sctp, dccp,
    udplite, unix (default ("tcp",)); states are ss state words (default: all)."""

def counters(netns: NetnsArg = None) -> Dict[str, int]:
    """Protocol counters (/proc/net/snmp, netstat, snmp6) by nstat name, like `nstat -a`."""

"""Driver statistics as a dict (the Rust side hands over the raw pairs)."""

from __future__ import annotations

from typing import Dict, Iterable, Optional, Tuple

from ._netobs import ethtool_stats_pairs


def stats_dict(pairs: Iterable[Tuple[str, int]]) -> Dict[str, int]:
    """(name, value) pairs in driver order -> dict in the same order.

    A driver's string set is a plain array of names, and some drivers repeat
    a name (per-queue counters named alike, for instance). The first
    occurrence keeps the name; later ones become `name#2`, `name#3`, ...
    so no value is lost and the order stays the driver's.
    """
    d: Dict[str, int] = {}
    for name, value in pairs:
        key, n = name, 1
        while key in d:
            n += 1
            key = f"{name}#{n}"
        d[key] = value
    return d


def ethtool_stats(ifname: str, netns: Optional[object] = None) -> Dict[str, int]:
    """The driver's own statistics of `ifname` (`ethtool -S`) as a dict of
    name -> value in driver order; repeated names get `#2`, `#3`, ... (see
    `stats_dict`). A device whose driver keeps no statistics (lo) gives an
    empty dict, where `ethtool -S` says "no stats available"."""
    return stats_dict(ethtool_stats_pairs(ifname, netns))

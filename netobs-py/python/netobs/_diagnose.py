"""The layered triage: `netobs.diagnose()` and its report."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import _netobs
from ._rows import EvidenceRow, FrameGroup, LayerRow
from ._table import Table

NetnsArg = Union[None, str, int, "os.PathLike[str]"]


class Verdict(NamedTuple):
    """Where packets are lost."""

    #: "driver", "interface", "qdisc", "netfilter", "ip", "transport",
    #: "socket", or "none".
    layer: str
    #: The kernel's drop reason ("UNHANDLED_PROTO"), when it gave one.
    reason: Optional[str]
    #: One sentence: what is lost where, and the next thing to look at.
    summary: str


class DiagnoseReport:
    """What `diagnose()` found. In a notebook it shows itself as the stack
    with the losing layer marked and the evidence beside it."""

    def __init__(self, parts: Tuple[Any, ...]) -> None:
        verdict, layers, evidence, frames, details, html, text, js = parts
        self.verdict: Verdict = Verdict(*verdict)
        #: One row per layer from the driver up (`.to_pandas()` works).
        self.layers: Table[LayerRow] = layers
        #: Every piece of evidence, one row each.
        self.evidence: Table[EvidenceRow] = evidence
        #: The frames behind UNHANDLED_PROTO drops, when they were named.
        self.frames: Table[FrameGroup] = frames
        target, seconds, missing, by_reason, frames_note, events_lost = details
        #: The target as words.
        self.target: str = target
        #: How long the window lasted, seconds.
        self.seconds: float = seconds
        #: Sources this kernel or user lacked, with the reason.
        self.missing: List[str] = list(missing)
        #: Host-wide kernel drops that were not the target's, by reason.
        self.unattributed: Dict[str, int] = dict(by_reason)
        #: How the frames were named, or why they could not be.
        self.frames_note: Optional[str] = frames_note
        #: Kernel events the reader lost (counts may be short by this many).
        self.events_lost: int = events_lost
        self._html = html
        self._text = text
        self._json = js

    def _repr_html_(self) -> str:
        return self._html

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<DiagnoseReport {self.target!r}: {self.verdict.layer}" + (
            f" ({self.verdict.reason})>" if self.verdict.reason else ">"
        )

    def to_json(self) -> str:
        """The report as the triage example's `--json` writes it."""
        return self._json

    def to_dict(self) -> Dict[str, Any]:
        """The report as plain Python data (the JSON, parsed)."""
        return json.loads(self._json)


def diagnose(
    netns: Union[NetnsArg, Sequence[NetnsArg]] = None,
    *,
    interface: Optional[str] = None,
    port: Optional[int] = None,
    seconds: float = 5.0,
    identify_frames: bool = True,
) -> DiagnoseReport:
    """Watches a target for `seconds` and says at which layer its packets
    are lost, with the evidence: socket queues and drops, protocol
    counters, softnet backlog drops, qdisc, interface and driver counters,
    and the kernel's drop points (joined to the target's devices; drops
    elsewhere on the host are counted apart). `netns` is one namespace or a
    list of them (None: this one). Ctrl-C ends the window at once and
    raises KeyboardInterrupt (no report). Sources this kernel lacks are
    listed in `missing`; the verdict is reached without them."""
    return DiagnoseReport(_netobs._diagnose(netns, interface, port, seconds, identify_frames))

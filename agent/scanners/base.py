"""The one small interface every scanner implements.

Scanners return observations and never send them: the runner owns delivery,
so a scanner can be run by `headcount-agent scan --once --json` with no
collector at all, and tested without a network peer for its pure half.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar, Protocol

from ..config import AgentConfig
from ..model import Observation

ProgressCallback = Callable[[str, int, int], None]
"""progress(what, done, total): called by long scans; must be cheap and never raise."""


def _no_progress(what: str, done: int, total: int) -> None:
    return None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ScanContext:
    config: AgentConfig
    progress: ProgressCallback = _no_progress
    clock: Callable[[], datetime] = field(default=utc_now)
    # Set when the scan is cancelled (stop, Ctrl-C). Blocking work running in a
    # thread checks it between steps, because a thread cannot be cancelled and
    # a /16 sweep would otherwise hold shutdown for many minutes.
    cancelled: threading.Event = field(default_factory=threading.Event)
    # What earlier scanners of this scan found (set for scanners with `after`).
    earlier: tuple[Observation, ...] = ()
    # One line per target that failed while the scan went on ("198.18.1.9: no answer").
    warnings: list[str] = field(default_factory=list)


class Scanner(Protocol):
    name: ClassVar[str]   # equals the module name and the config section
    # Optional: names of scanners whose results this one needs (it then runs
    # after them, in a second stage). Absent or () for independent scanners.

    def can_run(self, ctx: ScanContext) -> bool:
        """Whether this scanner has anything to do under this configuration."""
        ...

    async def scan(self, ctx: ScanContext) -> list[Observation]:
        """Look, and return what was seen. Raise ScanError on failure."""
        ...

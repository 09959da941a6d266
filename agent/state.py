"""Small on-disk agent state: the per-agent batch sequence counter and the status file.

The counter must survive restarts: the collector drops a batch whose sequence
it has already stored, so a counter that restarted at 1 would silently lose
data. Every write is atomic (temp file, fsync, rename).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import ConfigError

log = logging.getLogger(__name__)


def write_atomically(path: Path, text: str, durable: bool = True) -> None:
    """Readers see the old or the new content, never half; `durable` also survives a power cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class SequenceCounter:
    """Monotonic batch sequence numbers, persisted in STATE_DIR/sequence."""

    def __init__(self, state_dir: Path, source: str = "agent config"):
        self.path = state_dir / "sequence"
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            text = self.path.read_text(encoding="ascii").strip() if self.path.exists() else "0"
            probe = state_dir / ".write-test"
            probe.write_text("ok", encoding="ascii")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"{source}: agent.state_dir = {str(state_dir)!r}: not a writable folder ({exc.strerror})"
            ) from exc
        if not text.isdigit():
            raise ConfigError(f"{self.path}: expected a whole number, found {text[:40]!r}; remove the file to reset")
        self._last = int(text)

    @property
    def last(self) -> int:
        return self._last

    def next(self) -> int:
        self.advance_to(self._last + 1)
        return self._last

    def advance_to(self, value: int) -> None:
        if value > self._last:
            write_atomically(self.path, f"{value}\n")
            self._last = value


def write_status(path: Path, status: dict[str, Any]) -> None:
    """The agent's status file, read by IT staff, monitoring and the demo.

    Rewritten after every scan and ack, and rebuilt from memory each time, so
    it needs no fsync: losing the last version in a power cut loses nothing.
    """
    write_atomically(path, json.dumps(status, indent=2, sort_keys=True) + "\n", durable=False)


def persistent_agent_id(state_dir: Path, hostname: str) -> str:
    """A default agent id that stays unique when schools clone one disk image (same hostname).

    Made once as HOSTNAME-xxxxxxxx and kept in STATE_DIR/agent-id; the
    collector numbers batches per agent id, so two agents sharing one would
    drop each other's batches as duplicates.
    """
    path = state_dir / "agent-id"
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    agent_id = f"{hostname}-{uuid.uuid4().hex[:8]}"
    write_atomically(path, agent_id + "\n")
    return agent_id


# Boots closer together than this are the same boot: psutil derives boot time
# from uptime, which can wobble by a second between reads.
_SAME_BOOT = timedelta(seconds=5)
MAX_REMEMBERED_BOOTS = 1000


@dataclass(frozen=True, slots=True)
class RebootCounts:
    reboot_count: int            # boots seen after the first one the agent recorded
    reboots_last_30_days: int


def count_reboots(boots: list[datetime], boot_time: datetime, now: datetime) -> tuple[list[datetime], RebootCounts]:
    """The boot history with `boot_time` added (if new), and the reboot counts it gives. Pure.

    The first boot the agent ever saw is the install, not a reboot; every
    later one is a reboot (a cart laptop that reboots daily is worth a look).
    """
    history = sorted(boots)
    if not any(abs(seen - boot_time) <= _SAME_BOOT for seen in history):
        history = sorted([*history, boot_time])[-MAX_REMEMBERED_BOOTS:]
    reboots = history[1:]
    recent = [boot for boot in reboots if now - boot <= timedelta(days=30)]
    return history, RebootCounts(len(reboots), len(recent))


class BootHistory:
    """STATE_DIR/boots.json: the boot times this agent has seen on its host."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / "boots.json"

    def record(self, boot_time: datetime, now: datetime) -> RebootCounts:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            boots = [datetime.fromisoformat(text) for text in raw.get("boots", [])]
        except FileNotFoundError:
            boots = []
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            # A damaged file costs the history, not the scan; it is rewritten below.
            log.warning("%s is unreadable (%s); starting the boot history again", self.path, exc)
            boots = []
        history, counts = count_reboots(boots, boot_time, now)
        if history != sorted(boots):
            write_atomically(self.path, json.dumps({"boots": [b.isoformat() for b in history]}) + "\n")
        return counts

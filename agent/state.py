"""Small on-disk agent state: the per-agent batch sequence counter and the status file.

The counter must survive restarts: the collector drops a batch whose sequence
it has already stored, so a counter that restarted at 1 would silently lose
data. Every write is atomic (temp file, fsync, rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import ConfigError


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class SequenceCounter:
    """Monotonic batch sequence numbers, persisted in STATE_DIR/sequence."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / "sequence"
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            text = self.path.read_text(encoding="ascii").strip() if self.path.exists() else "0"
            probe = state_dir / ".write-test"
            probe.write_text("ok", encoding="ascii")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"agent.state_dir = {str(state_dir)!r}: not a writable folder ({exc.strerror})") from exc
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
    """The agent's status file, read by IT staff, monitoring and the demo."""
    write_atomically(path, json.dumps(status, indent=2, sort_keys=True) + "\n")

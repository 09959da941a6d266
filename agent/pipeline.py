"""What happens to observations between the scanners and anything that leaves the agent.

Classification first, while names are still readable (a hostname such as
"Jane-Smiths-iPad" is evidence), then the site's name policy, so the raw name
never reaches the stream, the status file, the logs or `--json` output. Every
path out of the agent (the sink, `scan --json`, the human printout) goes
through `ObservationPipeline.process`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from .classify import EvidenceBook, classify_all, load_rules
from .config import AgentConfig
from .model import HostFacts, Observation
from .privacy import apply_name_policy


class ObservationPipeline:
    """Holds what the agent has learnt about each MAC across scans and passive listening."""

    def __init__(self, config: AgentConfig, max_devices: int | None = None):
        self.privacy = config.privacy
        self.rules = load_rules()
        self.book = EvidenceBook(max_devices=max_devices or config.passive.max_tracked_devices)
        self._lock: asyncio.Lock | None = None   # made on first use, inside the running loop

    async def process_async(self, observations: Sequence[Observation]) -> list[Observation]:
        """`process` on a worker thread, one call at a time: thousands of observations take
        seconds, which must not stall heartbeats and delivery on the event loop, and the
        evidence book is not safe to share between threads."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await asyncio.to_thread(self.process, list(observations))

    def process(self, observations: Sequence[Observation]) -> list[Observation]:
        classified = classify_all(list(observations), self.book, self.rules)
        return [self._private(observation) for observation in classified]

    def _private(self, observation: Observation) -> Observation:
        if isinstance(observation, HostFacts) and not observation.endpoint:
            # The agent's own always-on machine in site mode is infrastructure, not a
            # counted student device; its name is what IT staff know it by.
            return replace(observation, name_policy="keep")
        return apply_name_policy(observation, self.privacy)

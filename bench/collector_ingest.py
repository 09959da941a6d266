"""Collector ingest speed: a 5,000-host ARP sweep stored into a site that already has 100,000 devices.

    .venv/bin/python bench/collector_ingest.py [--devices 100000] [--rounds 3]

Fills a real SQLite store (Store.ingest_batch, 5,000 ARP sightings a batch;
every third MAC randomised), then times --rounds batches in which every 20th
known device answers again and 250 new hosts appear, the shape of a school's
sweep. Each batch goes through the collector's own wire validation first
(not timed) and is stored with merging, in one transaction, as in service.
Prints milliseconds per batch. Peer: the first batch of the fill, into an
empty site, printed alongside.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from headcount.collector import wire
from headcount.collector.model import AgentIdentity
from headcount.collector.store import Store
from headcount.v1 import inventory_pb2 as pb

T0 = datetime(2026, 11, 30, 8, tzinfo=timezone.utc)
AGENT = AgentIdentity(agent_id="bench-agent", site="bench-school")


def sweep(numbers, at: datetime):
    stamp = Timestamp()
    stamp.FromDatetime(at)
    observations = []
    for n in numbers:
        first = 0x02 if n % 3 == 0 else 0x3C
        mac = f"{first:02x}:22:{(n >> 24) & 255:02x}:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"
        message = pb.Observation(observed_at=stamp, scanner="arp", arp=pb.ArpSighting(
            mac=mac, ip=f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}", interface="eth0"))
        observations.append(wire.observation_from_message(message, received_at=at))
    return observations


async def measure(path: Path, devices: int, rounds: int) -> tuple[float, list[float]]:
    async with await Store.open(path) as store:
        await store.register_agent(AGENT, T0)
        batches = devices // 5000
        first = 0.0
        for batch in range(batches):
            observations = sweep(range(batch * 5000, batch * 5000 + 5000), T0)
            started = time.perf_counter()
            await store.ingest_batch(AGENT.agent_id, AGENT.site, batch + 1, observations, T0)
            if batch == 0:
                first = time.perf_counter() - started
        timings = []
        for round_ in range(rounds):
            fresh = devices * 2 + round_ * 250
            numbers = [n * 20 + round_ for n in range(4750)] + list(range(fresh, fresh + 250))
            observations = sweep(numbers, T0 + timedelta(hours=round_ + 1))
            started = time.perf_counter()
            await store.ingest_batch(AGENT.agent_id, AGENT.site, batches + 1 + round_, observations, T0)
            timings.append(time.perf_counter() - started)
        return first, timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100_000, help="devices already stored (default 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed batches (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="headcount-ingest-bench-") as folder:
        first, timings = asyncio.run(measure(Path(folder) / "bench.db", args.devices, args.rounds))
    print(f"5,000-observation ARP batch into an empty site: {first * 1000:.0f} ms")
    print(f"5,000-observation ARP batch into {args.devices:,} devices: "
          + ", ".join(f"{t * 1000:.0f} ms" for t in timings) + f" (best {min(timings) * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

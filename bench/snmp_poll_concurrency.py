"""Concurrent polling: 50 recorded devices at once against the slowest of them alone.

    .venv/bin/python bench/snmp_poll_concurrency.py [--devices 50] [--responders 2] [--repeats 3]

snmpsim serves the LibreNMS recordings on 127.0.0.1 (community = file
name). Each chosen device is first probed alone, one after another, with the
agent's full `probe()` (system group, identity, every table); then all of
them are probed at once with asyncio. Printed: the slowest single device,
the concurrent total, their ratio, and the sum of the single times for
context; repeated, with the median ratio.

snmpsim is one single-threaded Python process per responder and is itself
the slowest part of this set-up (far slower per request than a switch's
agent), so `--responders` runs several, each serving every recording, and
spreads the devices over them. The devices are the first N recordings by
name. Target (issue 4): concurrent total at most 3x the slowest single device.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from headcount.agent.errors import SnmpError  # noqa: E402
from headcount.agent.snmp.client import Target  # noqa: E402
from headcount.agent.snmp.credentials import Credential  # noqa: E402
from headcount.agent.snmp.probe import ProbeSettings, probe  # noqa: E402
from tests.integration.snmp_peers import snmpsim  # noqa: E402

TARGET = 3.0
SETTINGS = ProbeSettings()   # the agent's defaults: 2 s timeout, 1 retry, max-repetitions 25


def now() -> datetime:
    return datetime.now(timezone.utc)


async def probe_one(name: str, port: int) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        device = await probe(Target("127.0.0.1", port), [Credential(name, "2c", community=name)], now, SETTINGS)
        problem = "; ".join(device.errors)
    except SnmpError as exc:
        problem = str(exc)
    return time.perf_counter() - started, problem


async def probe_all(assignments: list[tuple[str, int]]) -> tuple[float, list[tuple[float, str]]]:
    started = time.perf_counter()
    results = await asyncio.gather(*(probe_one(name, port) for name, port in assignments))
    return time.perf_counter() - started, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "librenms")
    parser.add_argument("--devices", type=int, default=50, help="recordings to poll (default 50)")
    parser.add_argument("--responders", type=int, default=2, help="snmpsim processes (default 2, one per core)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of singles-then-concurrent (default 3)")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not (corpus / "expected.json").exists():
        print(f"no corpus at {corpus}; nothing to measure", file=sys.stderr)
        return 0
    names = sorted(entry["name"] for entry in json.loads((corpus / "expected.json").read_text()))[: args.devices]
    ratios = []
    with tempfile.TemporaryDirectory(prefix="hc-pollbench-") as work, ExitStack() as stack:
        print(f"starting {args.responders} snmpsim responder(s) on 127.0.0.1 ...", file=sys.stderr)
        ports = [stack.enter_context(snmpsim(corpus, Path(work) / f"r{i}", names[0])) for i in range(args.responders)]
        assignments = [(name, ports[index % len(ports)]) for index, name in enumerate(names)]
        for repeat in range(1, args.repeats + 1):
            singles = {}
            for name, port in assignments:
                singles[name] = asyncio.run(probe_one(name, port))
            slowest = max(singles, key=lambda n: singles[n][0])
            total, concurrent = asyncio.run(probe_all(assignments))
            ratio = total / singles[slowest][0]
            ratios.append(ratio)
            failed = [name for (name, _), (_, problem) in zip(assignments, concurrent) if "no credential" in problem]
            print(f"round {repeat}: {len(names)} devices; slowest alone {slowest} {singles[slowest][0]:.2f}s; "
                  f"all at once {total:.2f}s; ratio {ratio:.2f}; sum of singles "
                  f"{sum(t for t, _ in singles.values()):.2f}s; unanswered {failed or 'none'}")
    median = statistics.median(ratios)
    print(f"\nmedian ratio concurrent/slowest single: {median:.2f} (target <= {TARGET}) "
          f"{'PASS' if median <= TARGET else 'FAIL'}  [{args.responders} snmpsim responder(s)]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

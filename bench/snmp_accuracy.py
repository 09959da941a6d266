"""How well the SNMP probe identifies real devices: LibreNMS's recordings served live, probed, compared.

    .venv/bin/python bench/snmp_accuracy.py [--corpus ../shared/corpus/librenms] [--json FILE]

snmpsim serves every .snmprec on 127.0.0.1 at a free high port (community =
file name); the agent's real `probe()` reads each one over UDP exactly as it
would a device; the result is compared with expected.json, the values
LibreNMS's own tests assert. A match is equality after trimming and case
folding. Printed: per field (sysName, model, firmware, serial, port count) and
per category, how many devices LibreNMS has a value for and how many we match,
then every miss, then our device class against the corpus category.

Target (issue 4): at least 90% per field.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from headcount.agent.errors import SnmpError  # noqa: E402
from headcount.agent.snmp.client import Options, Target  # noqa: E402
from headcount.agent.snmp.credentials import Credential  # noqa: E402
from headcount.agent.snmp.probe import ProbeSettings, probe  # noqa: E402
from tests.integration.snmp_peers import snmpsim  # noqa: E402

FIELDS = ("sysName", "model", "firmware", "serial", "port count")
TARGET = 0.90


def same(expected, got) -> bool:
    return str(expected).strip().casefold() == str(got).strip().casefold()


def expected_values(entry: dict) -> dict[str, object]:
    """The LibreNMS values we judge against; None = LibreNMS has no value, so the device is not counted."""
    return {
        "sysName": entry.get("sysName"),
        "model": entry.get("hardware"),
        "firmware": entry.get("version"),
        "serial": entry.get("serial"),
        "port count": len(entry["ports"]) if entry.get("ports") else None,
    }


def our_values(device) -> dict[str, object]:
    return {"sysName": device.system.name, "model": device.model, "firmware": device.firmware,
            "serial": device.serial, "port count": device.port_count}


async def probe_all(port: int, names: list[str], concurrency: int) -> dict[str, object]:
    limit = asyncio.Semaphore(concurrency)
    settings = ProbeSettings(options=Options(timeout_s=5.0, retries=1))
    results: dict[str, object] = {}

    async def one(name: str) -> None:
        async with limit:
            try:
                results[name] = await probe(Target("127.0.0.1", port), [Credential(name, "2c", community=name)],
                                            lambda: datetime.now(timezone.utc), settings)
            except SnmpError as exc:
                results[name] = exc

    await asyncio.gather(*(one(name) for name in names))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "librenms",
                        help="folder with *.snmprec and expected.json (default: ../shared/corpus/librenms)")
    parser.add_argument("--concurrency", type=int, default=8, help="devices probed at once (default 8)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures and misses as JSON")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not (corpus / "expected.json").exists():
        print(f"no corpus at {corpus} (expected.json missing); nothing to measure", file=sys.stderr)
        return 0
    expected = json.loads((corpus / "expected.json").read_text())
    names = [entry["name"] for entry in expected]
    with tempfile.TemporaryDirectory(prefix="hc-accuracy-") as work:
        print(f"starting snmpsim on 127.0.0.1 with {len(names)} recordings ...", file=sys.stderr)
        with snmpsim(corpus, Path(work), names[0]) as port:
            started = time.monotonic()
            results = asyncio.run(probe_all(port, names, args.concurrency))
            elapsed = time.monotonic() - started
    print(f"probed {len(names)} recordings in {elapsed:.1f}s\n")

    counted: dict[tuple[str, str], int] = Counter()
    matched: dict[tuple[str, str], int] = Counter()
    misses: list[str] = []
    classes: dict[str, Counter] = defaultdict(Counter)
    for entry in expected:
        name, category = entry["name"], entry["category"]
        result = results[name]
        if isinstance(result, Exception):
            misses.append(f"{name}: probe failed: {result}")
            ours = dict.fromkeys(FIELDS, "")
            classes[category]["(no answer)"] += 1
        else:
            ours = our_values(result)
            classes[category][result.device_class] += 1
        for field, value in expected_values(entry).items():
            if value is None:
                continue
            for group in (category, "all"):
                counted[(field, group)] += 1
            if same(value, ours[field]):
                for group in (category, "all"):
                    matched[(field, group)] += 1
            else:
                misses.append(f"{name} ({category}) {field}: expected={value!r} got={ours[field]!r}")

    categories = sorted({entry["category"] for entry in expected}) + ["all"]
    width = max(len(c) for c in categories)
    print(f"{'field':<11} " + "  ".join(f"{c:>{max(width, 9)}}" for c in categories))
    failing = []
    for field in FIELDS:
        cells = []
        for category in categories:
            total = counted[(field, category)]
            cells.append(f"{matched[(field, category)]}/{total}".rjust(max(width, 9)) if total else "-".rjust(max(width, 9)))
        share = matched[(field, "all")] / counted[(field, "all")] if counted[(field, "all")] else 1.0
        verdict = "PASS" if share >= TARGET else "FAIL"
        if share < TARGET:
            failing.append(field)
        print(f"{field:<11} " + "  ".join(cells) + f"   {100 * share:5.1f}% {verdict}")
    print(f"\ntarget: at least {TARGET:.0%} per field over the devices LibreNMS has a value for")
    print("\ndevice class by corpus category:")
    for category in sorted(classes):
        print(f"  {category:<20} " + ", ".join(f"{cls} {n}" for cls, n in classes[category].most_common()))
    print(f"\nmisses ({len(misses)}):")
    for miss in misses:
        print("  " + miss)
    if args.json:
        args.json.write_text(json.dumps({
            "counted": {f"{f}|{c}": n for (f, c), n in counted.items()},
            "matched": {f"{f}|{c}": n for (f, c), n in matched.items()},
            "misses": misses, "seconds": elapsed,
        }, indent=2))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())

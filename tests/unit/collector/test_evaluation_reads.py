"""The evaluation's narrowed reads leave out only rows that cannot change a result.

Store.console_rows with district.asset_bounds reads only the console rows
of devices that can have a management finding; the findings must be the same
as from every row. Dates are drawn around each bound, on both sides.
"""

import asyncio
import random
from datetime import date, datetime, timedelta, timezone

from headcount.collector.assets import ASSET_REGISTER, GOOGLE_ADMIN_CHROMEOS, AssetMatch, AssetRecord, \
    management_findings
from headcount.collector.district import _stored_matches, asset_bounds
from headcount.collector.flags import FlagPolicy
from headcount.collector.model import format_timestamp
from headcount.collector.store import ShardReader, Store

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)
SITES = ("lincoln-elementary", "jefferson-middle")


def test_bounded_console_reads_give_the_same_findings_as_every_row(tmp_path):
    rng = random.Random(1124)
    policy = FlagPolicy()
    today = NOW.date()
    offsets = [timedelta(seconds=s) for s in (-1, 0, 1)] + [timedelta(days=d) for d in (-400, -15, -1, 1, 15, 400)]
    devices, network, matches = [], [], []
    for n in range(1, 400):
        SITE = SITES[n % 2]
        mac = (0x0A0000000000 + n).to_bytes(6, "big").hex(":")
        seen = NOW - timedelta(days=14) + rng.choice(offsets)
        devices.append((SITE, mac, f"198.18.{n // 250}.{n % 250 + 1}", "Vendor", format_timestamp(seen - timedelta(
            days=90)), format_timestamp(seen), n, "chromebook"))
        if n % 7 == 0:
            continue        # no console row at all
        aue = today + timedelta(days=180 + rng.choice((-400, -181, -180, -179, -1, 0, 1, 2, 900)))
        sync = NOW - timedelta(days=14) + rng.choice(offsets) if rng.random() < 0.8 else None
        matches.append(AssetMatch(AssetRecord(GOOGLE_ADMIN_CHROMEOS, n + 1, serial=f"SN{n}", macs=(mac,),
                                              model="Chromebook 3100", aue_date=aue if rng.random() < 0.9 else None,
                                              last_sync=sync, file="chromeos.csv"), SITE, str(n), "serial"))
        if n % 3 == 0:
            matches.append(AssetMatch(AssetRecord(ASSET_REGISTER, n + 1, serial=f"SN{n}", macs=(mac,),
                                                  purchase_date=date(2021, 8, 15), file="register.csv"),
                                      SITE, str(n), "serial"))

    async def read():
        async with await Store.open(tmp_path / "a.db", retention_days=0) as store:
            await store.bulk_load([(n, SITES[n % 2], "chromebook") for n in range(1, 400)], devices, network)
            await store.import_assets(matches, NOW)
            bounds = asset_bounds(policy, NOW)
            return (await store.stored_assets(), await store.network_last_seen(), *await store.console_rows(*bounds))

    every, every_seen, bounded, bounded_seen = asyncio.run(read())
    warning = policy.for_class("chromebook").aue_warning_days
    full = management_findings(_stored_matches(every), every_seen, NOW, warning)
    narrow = management_findings(_stored_matches(bounded), bounded_seen, NOW, warning)
    assert narrow == full
    # Each school's share reads its own rows only (the evaluation's worker processes), and together they
    # find the same.
    shared = []
    bounds = asset_bounds(policy, NOW)
    for site in SITES:
        with ShardReader(tmp_path / "a.db", [site]) as reader:
            rows, seen = reader.console_rows(*bounds)
        assert {row[0] for row in rows} == {site} and {key[0] for key in seen} == {site}
        shared += management_findings(_stored_matches(rows), seen, NOW, warning)
    assert sorted(shared, key=lambda f: (f.site, f.device_id, f.kind)) == full
    # Only meaningful if the bounds left rows out and both kinds of finding occur.
    assert len(bounded) < len(every) and len(bounded_seen) < len(every_seen)
    assert {f.kind for f in full} == {"aue_passed", "aue_near", "off_network"}

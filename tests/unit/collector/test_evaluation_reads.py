"""The evaluation's narrowed reads leave out only rows that cannot change a result.

Store.console_rows with district.asset_bounds reads only the console rows
of devices that can have a management finding; the findings must be the same
as from every row. Dates are drawn around each bound, on both sides.
"""

import asyncio
import random
import sqlite3
from datetime import date, datetime, timedelta, timezone

from headcount.collector.assets import ASSET_REGISTER, GOOGLE_ADMIN_CHROMEOS, AssetMatch, AssetRecord, \
    management_findings
from headcount.collector.district import _stored_matches, asset_bounds
from headcount.collector.flags import PRESENCE_KINDS, FlagPolicy
from headcount.collector.model import format_timestamp
from headcount.collector.quiet import EVERY, NOT_QUIET
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
    bounds = asset_bounds(policy, NOW)
    for bundled in (False, True):       # through sqlite3 (this process's share) and apsw (a worker's)
        shared = []
        for site in SITES:
            with ShardReader(tmp_path / "a.db", [site], bundled=bundled) as reader:
                rows, seen = reader.console_rows(*bounds)
            assert {row[0] for row in rows} == {site} and {key[0] for key in seen} == {site}
            shared += management_findings(_stored_matches(rows), seen, NOW, warning)
        assert sorted(shared, key=lambda f: (f.site, f.device_id, f.kind)) == full, bundled
    # The lost candidates that split_inventory finds narrow the search for lost devices and change nothing:
    # some devices have a second MAC seen later than the primary one, and one device's console row sits at
    # the other school.
    with sqlite3.connect(tmp_path / "a.db") as conn:
        for n in range(3, 400, 10):
            conn.execute("INSERT INTO devices (site, mac, ip, ip_key, vendor, locally_administered, hostname,"
                         " first_seen, last_seen, sources, device_id, is_primary) SELECT site, ?, ip, ip_key, vendor,"
                         " 1, hostname, first_seen, ?, sources, device_id, 0 FROM devices WHERE device_id = ?",
                         ((0x1A0000000000 + n).to_bytes(6, "big").hex(":"), format_timestamp(NOW - timedelta(days=1)),
                          n))
        moved = conn.execute("SELECT device_id FROM assets WHERE last_sync > '' AND site = ? LIMIT 1",
                             (SITES[0],)).fetchone()[0]
        conn.execute("UPDATE assets SET site = ? WHERE device_id = ?", (SITES[1], moved))
    narrowed = 0
    for share, bundled in [(share, bundled) for share in ([SITES[0]], [SITES[1]], list(SITES))
                           for bundled in (False, True)]:
        with ShardReader(tmp_path / "a.db", share, bundled=bundled) as reader:
            split = reader.split_inventory(lambda site, device_class: (NOT_QUIET, NOT_QUIET, EVERY),
                                           sorted(PRESENCE_KINDS), bounds[1:])
            assert reader.console_rows(*bounds, split.lost_candidates) == reader.console_rows(*bounds)
            narrowed += len(split.lost_candidates)
            everyone = {int(row[1]) for row in reader.console_rows(bounds[0], "", "9999")[0]}
            assert len(split.lost_candidates) < len(everyone)
    assert narrowed > 0
    # Only meaningful if the bounds left rows out and both kinds of finding occur.
    assert len(bounded) < len(every) and len(bounded_seen) < len(every_seen)
    assert {f.kind for f in full} == {"aue_passed", "aue_near", "off_network"}


def test_a_share_of_some_sites_reads_their_devices_as_the_whole_read_does(tmp_path):
    """A share of named sites reads assets in site order; each device's rows must still come in source order."""
    sites = ("lincoln-elementary", "jefferson-middle", "roosevelt-high")
    devices, matches = [], []
    for n in range(1, 61):
        site = sites[n % 3]
        mac = (0x0A0000000000 + n).to_bytes(6, "big").hex(":")
        devices.append((site, mac, f"198.18.0.{n}", "Vendor", format_timestamp(NOW - timedelta(days=900 + n)),
                        format_timestamp(NOW - timedelta(hours=n)), n, "chromebook"))
        # Two consoles of one preference, whose model and OS version differ: the order they are merged in shows.
        for source, model in ((GOOGLE_ADMIN_CHROMEOS, f"Console model {n}"), ("jamf_ipad", f"Jamf model {n}")):
            matches.append(AssetMatch(AssetRecord(source, n + 1, serial=f"SN{n}", macs=(mac,), model=model,
                                                  os_version=f"{n}.{len(source)}", file="x.csv"), site, str(n),
                                      "serial"))
        if n % 2:
            matches.append(AssetMatch(AssetRecord(ASSET_REGISTER, n + 1, serial=f"SN{n}", macs=(mac,),
                                                  purchase_date=date(2020, 8, 15), file="register.csv"),
                                      site, str(n), "serial"))

    async def build():
        async with await Store.open(tmp_path / "s.db", retention_days=0) as store:
            await store.bulk_load([(n, sites[n % 3], "chromebook") for n in range(1, 61)], devices, [])
            await store.import_assets(matches, NOW)
            return await store.inventory_tuples()

    asyncio.run(build())
    with sqlite3.connect(tmp_path / "s.db") as conn:
        # A device whose rows sit under two sites, the later site holding the earlier source: site order and
        # source order differ for it.
        conn.execute("UPDATE assets SET site = 'roosevelt-high' WHERE device_id = 4 AND source_format = ?",
                     (GOOGLE_ADMIN_CHROMEOS,))
    with ShardReader(tmp_path / "s.db", None) as reader:
        every = reader.inventory_tuples()
    # Of two consoles of one preference the later in source order wins: the merge order shows in the model.
    assert {row[5] for row in every} == {f"Jamf model {n}" for n in range(1, 61)}
    by_site = sorted(every, key=lambda row: (row[0], int(row[1])))     # a share's order: site, then number
    for share in ([sites[0], sites[1]], [sites[1], sites[2]], list(sites)):
        for bundled in (False, True):       # through sqlite3 and through apsw's own SQLite: the same rows
            with ShardReader(tmp_path / "s.db", share, bundled=bundled) as reader:
                assert reader.inventory_tuples() == [row for row in by_site if row[0] in share], share
            with ShardReader(tmp_path / "s.db", share, excluding=True, bundled=bundled) as reader:
                assert reader.inventory_tuples() == [row for row in by_site if row[0] not in share], share


def test_a_share_of_every_site_but_some_names_each_site_any_table_holds(tmp_path):
    """ShardReader(..., excluding=True) lists the sites it reads by stepping through each table's site
    index; it must find what "site NOT IN (the others)" over every table would: sites that hold only an
    agent, scans, assets or flags, a site named '' and one after every other, and none of the excluded."""
    path = tmp_path / "s.db"

    async def build():
        async with await Store.open(path, retention_days=0) as store:
            devices = [(site, (0x0A0000000000 + n).to_bytes(6, "big").hex(":"), f"198.18.0.{n}", "Vendor",
                        format_timestamp(NOW), format_timestamp(NOW), n, "chromebook")
                       for n, site in enumerate(("a-school", "b-school", "c-school", "zz-devices-only"), start=1)]
            await store.bulk_load([(row[6], row[0], "chromebook") for row in devices], devices, [],
                                  [("scanner-1", "scans-only", format_timestamp(NOW), format_timestamp(NOW), 1)])

    asyncio.run(build())
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO agents (agent_id, site, first_seen, last_seen) VALUES ('x', 'agent-only', ?, ?)",
                     (format_timestamp(NOW), format_timestamp(NOW)))
        conn.execute("INSERT INTO agents (agent_id, site, first_seen, last_seen) VALUES ('y', '', ?, ?)",
                     (format_timestamp(NOW), format_timestamp(NOW)))
        conn.execute("INSERT INTO assets (device_id, site, source_format, file, line, imported_at) VALUES (99,"
                     " 'assets-only', 'asset_register', 'f.csv', 2, ?)", (format_timestamp(NOW),))
        conn.execute("INSERT INTO flags (site, device_id, kind, reason, raised_at) VALUES ('flags-only', '7',"
                     " 'age', 'old', ?)", (format_timestamp(NOW),))
        tables = ("merged_devices", "network_devices", "device_keys", "assets", "scans", "agents", "flags")
        every = {site for (site,) in conn.execute(" UNION ".join(f"SELECT site FROM {t}" for t in tables))
                 if site is not None}
    assert {"", "agent-only", "assets-only", "flags-only", "scans-only", "zz-devices-only"} <= every
    for excluded in ([], ["b-school"], ["a-school", "flags-only", ""], sorted(every)):
        for bundled in (False, True):
            with ShardReader(path, excluded, excluding=True, bundled=bundled) as reader:
                named = {site for (site,) in reader.db.conn.execute("SELECT site FROM temp.shard_sites")}
            assert named == every - set(excluded), (excluded, bundled)


def test_migration_0009_gives_stored_histories_their_digests_and_the_reads_take_them(tmp_path):
    """A store made before health digests (migration 0009) gets them on opening, in place of the JSON; the
    evaluation's reads then take each device's digest, and the JSON of a history that has none."""
    from headcount.collector.health import fold_health, health_digest

    path = tmp_path / "h.db"
    histories = {}
    for n, in_errors in ((1, "5"), (2, "18446744073709551615"), (3, None)):
        history = None
        for hours in (30, 20, 10, 1) if in_errors is not None else ():
            history = fold_health(history, NOW - timedelta(hours=hours),
                                  {"system": {"uptime_centiseconds": str(hours * 360_000)},
                                   "interfaces": [{"in_errors": in_errors}]})
        histories[(0x0A0000000000 + n).to_bytes(6, "big").hex(":")] = history
    seen = format_timestamp(NOW)

    async def build():
        async with await Store.open(path, retention_days=0) as store:
            await store.bulk_load([(n, SITES[0], "switch") for n in (1, 2, 3)],
                                  [(SITES[0], mac, f"198.18.0.{n}", "V", seen, seen, n, "switch")
                                   for n, mac in enumerate(histories, 1)],
                                  [(SITES[0], mac, f"198.18.0.{n}", "V", "M", f"SN{n}", "1.0", "switch", seen, history)
                                   for n, (mac, history) in enumerate(histories.items(), 1)])
    asyncio.run(build())
    with sqlite3.connect(path) as db:      # back to the schema before 0009, each history kept as JSON
        db.execute("ALTER TABLE network_devices DROP COLUMN health_digest")
        db.executemany("UPDATE network_devices SET health = ? WHERE mac = ?",
                       [(history, mac) for mac, history in histories.items()])
        db.execute("DELETE FROM _sqlite_migrations WHERE name = '0009_device_health_digest'")

    async def reopen():
        async with await Store.open(path, retention_days=0) as store:
            return store.migrated_on_open, await store.inventory_tuples()
    migrated, rows = asyncio.run(reopen())
    assert migrated == ("0009_device_health_digest",)
    with sqlite3.connect(path) as db:
        stored = {mac: (history, digest) for mac, history, digest in db.execute(
            "SELECT mac, health, health_digest FROM network_devices")}
    # Kept as its digest alone where it has one (the first), as JSON where it has none (a counter past 63 bits).
    first, second, third = histories
    assert stored == {first: (None, health_digest(histories[first])), second: (histories[second], None),
                      third: (None, None)}
    assert isinstance(stored[first][1], bytes)
    health = {row[2]: row[13] for row in rows}
    assert health == {mac: history or digest for mac, (history, digest) in stored.items()}
    for bundled in (False, True):       # a digest is a blob: bytes through either copy of SQLite
        with ShardReader(path, [SITES[0]], bundled=bundled) as reader:
            assert {row[2]: row[13] for row in reader.inventory_tuples()} == health

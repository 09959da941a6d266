"""Asset imports and uniformity evaluation against a real store file: the store methods and the CLI commands."""

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from headcount.collector.assets import read_import, match_assets
from headcount.collector.errors import StoreError
from headcount.collector.model import (AgentIdentity, Classification, DeviceSighting, Observation,
                                       UniformitySnapshot)
from headcount.collector.store import Store

DATA = Path(__file__).parent / "data"
STANDARDS = Path(__file__).resolve().parents[3] / "standards"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
LINCOLN = "lincoln-elementary"
JEFFERSON = "jefferson-middle"


def run(coroutine):
    return asyncio.run(coroutine)


def rows(path, sql, *params):
    with sqlite3.connect(path) as connection:
        return connection.execute(sql, params).fetchall()


def seen(mac: str, ip: str, device_class: str = "") -> Observation:
    return Observation(kind="arp", observed_at=T0, scanner="arp", mac=mac, data={"mac": mac, "ip": ip},
                       sighting=DeviceSighting(mac=mac, ip=ip),
                       classification=Classification(device_class, ("test",)) if device_class else None)


def snmp(mac: str, ip: str, device_class: str, model: str, firmware: str) -> Observation:
    return Observation(kind="snmp", observed_at=T0, scanner="snmp", mac=mac,
                       data={"address": ip, "model": model, "firmware": firmware, "device_class": device_class},
                       sighting=DeviceSighting(mac=mac, ip=ip))


async def fill(path: Path, batches: dict[str, list[Observation]]) -> None:
    async with await Store.open(path) as store:
        for site, observations in batches.items():
            await store.register_agent(AgentIdentity(agent_id=f"{site}-agent", site=site), T0)
            await store.ingest_batch(f"{site}-agent", site, 1, observations, T0)


def asset_macs_store(path: Path) -> None:
    """Devices whose MACs the fixture CSVs name (register rows 1-3, Google Admin rows, Jamf iPads)."""
    run(fill(path, {
        LINCOLN: [seen("00:00:5e:00:53:01", "198.18.0.11", "chromebook"),
                  seen("00:00:5e:00:53:02", "198.18.0.12", "chromebook"),
                  seen("00:00:5e:00:53:41", "198.18.0.41", "ipad")],
        "washington-elementary": [seen("00:00:5e:00:53:03", "198.18.4.13", "chromebook")],
        "roosevelt-high": [seen("00:00:5e:00:53:20", "198.18.12.20", "chromebook")],
    }))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headcount.collector", *args], capture_output=True, text=True,
                          timeout=120)


# ---------------------------------------------------------------- store methods


def test_migration_0004_adds_assets_and_snapshots(tmp_path):
    path = tmp_path / "h.db"

    async def scenario():
        async with await Store.open(path) as store:
            return await store.applied_migrations()

    assert run(scenario())[-7:] == ["0004_assets_and_uniformity_snapshots", "0005_flags",
                                     "0006_scans_and_device_health", "0007_flag_evaluations",
                                     "0008_merged_devices_site_index", "0009_device_health_digest",
                                     "0010_assets_site_index_covers_the_evaluation"]
    tables = {name for (name,) in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"assets", "uniformity_snapshots"} <= tables


def test_imported_assets_reach_the_inventory_and_a_failing_import_stores_nothing(tmp_path):
    path = tmp_path / "h.db"
    asset_macs_store(path)

    async def scenario():
        async with await Store.open(path) as store:
            imported = read_import(DATA / "assets_register.csv")
            report = match_assets(imported.records, await store.asset_candidates(), [])
            outcome = await store.import_assets(report.matched, T0)
            first = [row for page in [p async for p in store.inventory_pages(page_size=2)] for row in page]
            # A batch with one broken row (a device id that is not a number) fails whole: nothing of it is stored.
            google = read_import(DATA / "assets_google_admin.csv")
            matched = match_assets(google.records, await store.asset_candidates(), []).matched
            broken = [*matched, type(matched[0])(matched[0].record, LINCOLN, "not-a-number", "serial")]
            with pytest.raises((StoreError, ValueError)):
                await store.import_assets(broken, T0)
            after_failure = rows(path, "SELECT device_id, source_format FROM assets ORDER BY device_id")
            return report, outcome, first, matched, after_failure

    report, outcome, inventory, google_matched, after_failure = run(scenario())
    assert outcome.stored == len(report.matched) >= 2 and outcome.stale == ()
    assert all(fmt == "asset_register" for _, fmt in after_failure) and len(after_failure) == outcome.stored
    assert google_matched
    by_mac = {row.mac: row for row in inventory}
    assert len(inventory) == 5 and len({row.device_id for row in inventory}) == 5
    first = by_mac["00:00:5e:00:53:01"]
    assert first.purchase_date == date(2021, 8, 16) and first.device_class == "chromebook"
    assert not first.is_infrastructure and by_mac["00:00:5e:00:53:41"].purchase_date is None


def test_a_stale_device_id_is_reported_not_stored(tmp_path):
    path = tmp_path / "h.db"
    asset_macs_store(path)

    async def scenario():
        async with await Store.open(path) as store:
            report = match_assets(read_import(DATA / "assets_register.csv").records, await store.asset_candidates(),
                                  [])
            ghost = type(report.matched[0])(report.matched[0].record, LINCOLN, "99999", "serial")
            return await store.import_assets([ghost], T0)

    outcome = run(scenario())
    assert outcome.stored == 0 and outcome.stale == ((LINCOLN, "99999"),)


def test_snapshots_are_saved_and_listed_newest_first(tmp_path):
    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            for day in range(3):
                await store.save_snapshots([
                    UniformitySnapshot(T0 + timedelta(days=day), "district", "", 50.0 + day, {"a": 1}, [], ["s"],
                                       ["n"]),
                    UniformitySnapshot(T0 + timedelta(days=day), "school", LINCOLN, 40.0 + day, {}, [], [], [])])
            with pytest.raises(StoreError):
                await store.save_snapshots([UniformitySnapshot(T0, "county", "", 1.0, {}, [], [], [])])
            return (await store.list_snapshots(scope="district"),
                    await store.list_snapshots(scope="school", school_id=LINCOLN, limit=1))

    district, school = run(scenario())
    assert [s.score for s in district] == [52.0, 51.0, 50.0] and district[0].parts == {"a": 1}
    assert district[0].strengths == ["s"] and district[0].needs == ["n"]
    assert [(s.school_id, s.score) for s in school] == [(LINCOLN, 42.0)]


# ---------------------------------------------------------------- assets import command


def test_assets_import_command_reports_matches_unmatched_and_stores(tmp_path):
    path = tmp_path / "h.db"
    asset_macs_store(path)
    done = cli("assets", "import", str(DATA / "assets_register.csv"), "--db", str(path), "--standards",
               str(STANDARDS))
    assert done.returncode == 0, done.stderr
    assert "matched: 3 (stored 3)" in done.stdout
    assert "unmatched: 6" in done.stdout and "  assets_register.csv:6: no known device has serial NXTEST0004" \
        in done.stdout
    # Names the registry does not hold ("Washington Middle"), with file:line and the close names.
    assert "unknown schools: 9" in done.stdout
    assert "assets_register.csv:4: school 'Washington Middle' is not in the schools registry" in done.stdout
    assert "bad rows: 6" in done.stdout and "  assets_register.csv:8: 10 cells where the header has 9" in done.stdout
    assert rows(path, "SELECT count(*) FROM assets") == [(3,)]

    jamf = cli("assets", "import", str(DATA / "assets_jamf_ipads.csv"), "--db", str(path))
    assert jamf.returncode == 0, jamf.stderr
    assert "matched: 1 (stored 1)" in jamf.stdout
    assert "bad rows: " in jamf.stdout and "bad rows: 0" not in jamf.stdout
    assert "assets_jamf_ipads.csv:3" in jamf.stdout        # the row with the broken quote
    assert "unmatched: " in jamf.stdout and "assets_jamf_ipads.csv:4:" in jamf.stdout
    # The earlier register rows are still there; the iPad row was added.
    assert rows(path, "SELECT source_format, count(*) FROM assets GROUP BY 1 ORDER BY 1") == [
        ("asset_register", 3), ("jamf_ipad", 1)]


@pytest.mark.parametrize("name", ["assets_unknown_header.csv", "assets_not_text.csv", "missing.csv"])
def test_assets_import_command_exits_2_on_an_unreadable_file_and_keeps_what_is_stored(tmp_path, name):
    path = tmp_path / "h.db"
    asset_macs_store(path)
    assert cli("assets", "import", str(DATA / "assets_register.csv"), "--db", str(path)).returncode == 0
    done = cli("assets", "import", str(DATA / name), "--db", str(path))
    assert done.returncode == 2
    assert name in done.stderr
    assert rows(path, "SELECT count(*) FROM assets") == [(3,)]


def test_assets_import_reads_a_latin1_file_and_names_unknown_schools(tmp_path):
    path = tmp_path / "h.db"
    asset_macs_store(path)
    done = cli("assets", "import", str(DATA / "assets_register_latin1.csv"), "--db", str(path), "--standards",
               str(STANDARDS))
    assert done.returncode == 0, done.stderr
    assert "matched: 0" in done.stdout and "unmatched: 2" in done.stdout
    assert "assets_register_latin1.csv:2" in done.stdout and "assets_register_latin1.csv:3" in done.stdout
    assert "unknown schools: 2" in done.stdout


# ---------------------------------------------------------------- evaluate command


def district_store(path: Path) -> None:
    lincoln = [seen(f"00:00:5e:00:60:{i:02x}", f"198.18.0.{10 + i}", "chromebook") for i in range(6)]
    lincoln += [snmp("00:00:5e:00:61:01", "198.18.0.2", "access_point", "Aruba AP-515", "8.10.0.12"),
                snmp("00:00:5e:00:61:02", "198.18.0.3", "access_point", "Aruba AP-515", "8.9.0.1"),
                snmp("00:00:5e:00:61:03", "198.18.0.4", "switch", "Cisco CBS350-24FP-4X", "3.3.0.16")]
    jefferson = [seen(f"00:00:5e:00:62:{i:02x}", f"198.18.8.{10 + i}", "chromebook") for i in range(4)]
    jefferson += [snmp("00:00:5e:00:63:01", "198.18.8.2", "access_point", "Ubiquiti U6-Lite", "6.5.28")]
    run(fill(path, {LINCOLN: lincoln, JEFFERSON: jefferson, "unlisted-annex": [seen("00:00:5e:00:64:01", "10.9.9.9")]}))


def test_evaluate_command_prints_the_score_and_keeps_dated_snapshots(tmp_path):
    path = tmp_path / "h.db"
    district_store(path)
    done = cli("evaluate", "--db", str(path), "--standards", str(STANDARDS), "--now", "2026-11-23T12:00:00Z")
    assert done.returncode == 0, done.stderr
    assert "uniformity score" in done.stdout and "approved models" in done.stdout
    assert "firmware uniformity" in done.stdout
    assert "Aruba AP-515: 2 versions" in done.stdout
    assert "APs per classroom" in done.stdout or "access points" in done.stdout
    snapshots = rows(path, "SELECT taken_at, scope, school_id FROM uniformity_snapshots ORDER BY scope, school_id")
    assert snapshots[0] == ("2026-11-23T12:00:00.000000Z", "district", "")
    assert [s for _, scope, s in snapshots if scope == "school"] == sorted(
        ["lincoln-elementary", "washington-elementary", "jefferson-middle", "roosevelt-high"])

    again = cli("evaluate", "--db", str(path), "--standards", str(STANDARDS), "--now", "2026-11-30T12:00:00Z",
                "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["devices"] == 14 and report["unassigned"] == {"unlisted-annex": 1}
    lincoln = next(s for s in report["schools"] if s["id"] == LINCOLN)
    assert lincoln["devices"] == 9
    jefferson = next(s for s in report["schools"] if s["id"] == JEFFERSON)
    models = next(r for r in jefferson["rules"] if r["rule"] == "infrastructure-models:access_point")
    assert (models["numerator"], models["denominator"]) == (0, 1)
    assert report["parts"]["firmware_versions"]["Aruba AP-515"] == 2
    assert rows(path, "SELECT count(DISTINCT taken_at) FROM uniformity_snapshots WHERE scope = 'district'") == [(2,)]


def test_evaluate_command_refuses_bad_standards_and_stores_nothing(tmp_path):
    path = tmp_path / "h.db"
    district_store(path)
    bad = tmp_path / "standards"
    shutil.copytree(STANDARDS, bad)
    schools = bad / "schools.toml"
    schools.write_text(schools.read_text().replace("enrollment = 412", "enrollment = -3"))
    done = cli("evaluate", "--db", str(path), "--standards", str(bad))
    assert done.returncode == 2
    assert "schools.toml" in done.stderr and "enrollment" in done.stderr
    assert rows(path, "SELECT count(*) FROM uniformity_snapshots") == [(0,)]


# ---------------------------------------------------------------- the fast whole-district path


def _synthetic_store(path: Path, standards) -> None:
    """A small district through bulk_load and import_assets, with every input the fast path caches on varied."""
    import random

    from headcount.collector.assets import ASSET_REGISTER, AssetMatch, AssetRecord
    from headcount.collector.model import format_timestamp

    from headcount.collector.health import fold_health

    rng = random.Random(7)
    now = T0 + timedelta(days=3)
    sites = [school.id for school in standards.schools] + ["unlisted-annex"]
    merged, devices, network, assets = [], [], [], []
    # The first school's agent reports its scans: its devices' missed polls are counted, not estimated.
    scans = [(f"{sites[0]}-agent", sites[0], format_timestamp(now - timedelta(minutes=15 * k)),
              format_timestamp(now - timedelta(minutes=15 * k - 3)), int(k % 7 != 0)) for k in range(200)]
    infra = [("access_point", ["Aruba AP-515", "Ubiquiti U6-Lite", "Odd AP"], ["8.10.0.12", "8.9.0.1", "6.5.28", "junk"]),
             ("switch", ["Cisco CBS350-24FP-4X", "Other Switch"], ["3.3.0.16", "3.3", "1.0"]),
             ("printer", ["Any Printer"], ["1.0", ""]), ("ups", ["APC SMT1500"], ["2.0"])]
    device_id = 0
    for site in sites:
        for n in range(60):
            device_id += 1
            mac = (0x0A0000000000 + device_id).to_bytes(6, "big").hex(":")
            last = format_timestamp(now - timedelta(minutes=15 * int(rng.expovariate(1 / 300))))
            first = format_timestamp(now - timedelta(days=rng.randrange(0, 3000)))
            if n % 5 == 0:
                cls, models, firmwares = infra[rng.randrange(len(infra))]
                merged.append((device_id, site, cls if n % 10 else ""))
                devices.append((site, mac, f"10.0.{n}.{device_id % 250}", "V", first, last, device_id, cls))
                health = None
                if n % 3 == 0:      # SNMP health history: reboots every few hours on some, rising errors
                    every = timedelta(hours=rng.choice([2, 30, 1000]))
                    surge = rng.choice([1, 40])      # errors per poll in the last day; one per poll before
                    for k in range(0, 72 * 4, 3):
                        moment = now - timedelta(minutes=15 * k)
                        uptime = int((moment - now + 10 * every).total_seconds()) % int(every.total_seconds())
                        data = {"system": {"uptime_centiseconds": str(uptime * 100 + 1)},
                                "interfaces": [{"in_errors": str(100_000 - (k * surge if k < 96
                                                                            else 96 * surge + k - 96))}],
                                "supplies": [{"description": "Toner", "level": rng.choice([2, 50]),
                                              "max_capacity": 100}]}
                        health = fold_health(health, moment, data)
                network.append((site, mac, "10.0.0.1", "V", rng.choice(models), f"SN{device_id}",
                                rng.choice(firmwares), cls, last, health))
            else:
                cls = rng.choice(["chromebook", "ipad", "windows_pc", "phone", ""])
                merged.append((device_id, site, cls))
                devices.append((site, mac, f"10.0.{n}.{device_id % 250}", "V", first, last, device_id, cls))
                if n % 3 == 0:
                    record = AssetRecord(ASSET_REGISTER, n + 2, serial=f"SN{device_id}", macs=(mac,),
                                         model=rng.choice(["Lenovo 300e Gen 3", "Old Model 1", ""]),
                                         os_version=rng.choice(["", "10.0", "126.0", "17.1"]),
                                         purchase_date=date(2018 + device_id % 8, 8, 15), file="t.csv")
                    assets.append(AssetMatch(record, site, str(device_id), "serial"))

    async def build():
        async with await Store.open(path) as store:
            for k, site in enumerate(sites[:-1]):
                heard = now - timedelta(minutes=(1, 5, 120)[k % 3]) if k != 1 else now
                await store.register_agent(AgentIdentity(agent_id=f"{site}-agent", site=site), heard)
            await store.bulk_load(merged, devices, network, scans)
            await store.import_assets(assets, now)

    run(build())


def test_the_fast_district_path_gives_the_same_rows_report_statuses_and_flags(tmp_path):
    from collections import Counter

    from headcount.collector.district import (evaluate_tuples, firmware_rules, flag_inventory, inventory_device,
                                              inventory_row, read_inventory, read_inventory_tuples)
    from headcount.collector.flags import AgentState, DeviceState, FlagPolicy, offline_status, refurbish_flags
    from headcount.collector.health import load_health
    from headcount.collector.model import format_timestamp
    from headcount.collector.standards import load_standards
    from headcount.collector.uniformity import evaluate

    standards = load_standards(STANDARDS)
    path = tmp_path / "h.db"
    _synthetic_store(path, standards)

    async def read():
        async with await Store.open(path) as store:
            slow = []
            async for page in store.inventory_pages(page_size=7):
                slow += page
            return (slow, await read_inventory(store), await read_inventory_tuples(store),
                    await store.agents_last_heard(), await store.recent_polls())

    slow, read_slow, fast, heard, polls = run(read())
    assert list(polls) == [standards.schools[0].id] and len(polls[standards.schools[0].id]) == 96
    assert len(slow) == len(fast) == 60 * (len(standards.schools) + 1) and read_slow == slow
    assert [inventory_row(values) for values in fast] == slow
    assert any(row.purchase_date for row in slow) and any(row.is_infrastructure for row in slow)

    states: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    flagged = 0
    for now in (T0 + timedelta(days=3), T0 + timedelta(days=3, hours=2), T0 + timedelta(days=9)):
        assert evaluate_tuples(standards, fast, now=now) == evaluate(standards, map(inventory_device, slow), now=now)
        agents = {site: AgentState(site, at) for site, at in heard.items()}
        scan = timedelta(minutes=15)
        expected = []
        for row in slow:
            agent = agents.get(row.site) or AgentState(row.site, None)
            last_heard = agent.last_heard or now
            if row.site in polls:
                missed = sum(1 for started in polls[row.site] if started > format_timestamp(row.last_seen))
            else:
                missed = int((last_heard - row.last_seen) / scan) if last_heard > row.last_seen else 0
            standard = standards.infrastructure_standard(row.device_class) if row.is_infrastructure else None
            approved = standard.approved(row.model) if standard else None
            minimum = str(approved.minimum_firmware) if approved and approved.minimum_firmware else None
            readings = load_health(row.health)
            extra = {} if readings is None else dict(
                uptime_samples=readings.uptime_samples, interface_errors=readings.interface_errors,
                printer_supplies=readings.printer_supplies)
            device = DeviceState(row.site, row.device_id, row.mac, row.device_class, row.is_infrastructure,
                                 row.last_seen, row.first_seen, missed, row.purchase_date, row.model, row.firmware,
                                 minimum_firmware=minimum, aue_date=row.aue_date, **extra)
            expected.append((row.device_id, offline_status(device, agent, standards.calendar, FlagPolicy(), now),
                             refurbish_flags(device, FlagPolicy(), now)))
        got = list(flag_inventory(fast, agents, standards.calendar, FlagPolicy(), now, scan, polls=polls,
                                  firmware=firmware_rules(standards, now.date())))
        assert got == expected
        states.update(status.state for _, status, _ in got)
        flagged += sum(1 for _, _, flags in got if flags)
        kinds.update(flag.kind for _, _, found in got for flag in found)
    assert set(states) == {"online", "offline", "missing", "unknown (agent silent)"}, states
    assert flagged
    assert {"firmware", "reboots", "interface_errors", "printer_supplies", "age"} <= set(kinds), kinds


# ---------------------------------------------------------------- flags kept by the evaluate command


def seen_at(mac: str, ip: str, device_class: str, at: datetime) -> Observation:
    return Observation(kind="arp", observed_at=at, scanner="arp", mac=mac, data={"mac": mac, "ip": ip},
                       sighting=DeviceSighting(mac=mac, ip=ip),
                       classification=Classification(device_class, ("test",)))


def evaluate_json(path: Path, now: str) -> dict:
    done = cli("evaluate", "--db", str(path), "--standards", str(STANDARDS), "--now", now, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["flags"]


def stored_flags(path: Path, kind: str) -> list[tuple]:
    """(device_id, raised_at, cleared_at, last present): a NULL last_present_at is the latest evaluation's time."""
    return rows(path, "SELECT device_id, raised_at, cleared_at, coalesce(last_present_at, (SELECT evaluated_at"
                      " FROM flag_evaluations ORDER BY id DESC LIMIT 1)) FROM flags WHERE kind = ? ORDER BY id", kind)


def test_evaluate_keeps_flags_raised_held_while_the_agent_is_silent_and_cleared_after_the_hold_down(tmp_path):
    path = tmp_path / "h.db"
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)     # a school week: Monday 7 to Friday 11 December
    friday = monday + timedelta(days=4)
    gone, stays = "00:00:5e:00:70:01", "00:00:5e:00:70:02"
    agent = f"{LINCOLN}-agent"

    async def first_days():
        async with await Store.open(path) as store:
            await store.register_agent(AgentIdentity(agent_id=agent, site=LINCOLN), monday)
            await store.ingest_batch(agent, LINCOLN, 1, [seen_at(gone, "198.18.0.21", "chromebook", monday),
                                                         seen_at(stays, "198.18.0.22", "chromebook", monday)], monday)
            # Friday: the agent sweeps and sees only the second Chromebook; the first is unseen for 4 school days.
            await store.ingest_batch(agent, LINCOLN, 2, [seen_at(stays, "198.18.0.22", "chromebook", friday)], friday)

    run(first_days())
    first = evaluate_json(path, "2026-12-11T09:10:00Z")
    assert first["raised"] == 1 and first["open_by_kind"] == {"missing": 1}
    (raised,) = first["first_raised"]
    assert raised["kind"] == "missing" and raised["site"] == LINCOLN and "4 school days" in raised["reason"]
    device = raised["device_id"]
    assert stored_flags(path, "missing") == [(device, "2026-12-11T09:10:00.000000Z", None,
                                               "2026-12-11T09:10:00.000000Z")]

    # Ten minutes later: still open, one row, refreshed; nothing new.
    done = cli("evaluate", "--db", str(path), "--standards", str(STANDARDS), "--now", "2026-12-11T09:20:00Z")
    assert done.returncode == 0, done.stderr
    assert "Flags: 1 open, 0 raised and 0 cleared in this run" in done.stdout and "missing" in done.stdout
    assert stored_flags(path, "missing") == [(device, "2026-12-11T09:10:00.000000Z", None,
                                               "2026-12-11T09:20:00.000000Z")]
    # The unchanged flag was not rewritten: its row still says "held at the latest evaluation".
    assert rows(path, "SELECT last_present_at FROM flags WHERE kind = 'missing'") == [(None,)]
    assert [at for (at,) in rows(path, "SELECT evaluated_at FROM flag_evaluations ORDER BY id")] == [
        "2026-12-11T09:10:00.000000Z", "2026-12-11T09:20:00.000000Z"]

    # Noon: the agent has been silent for 3 hours. Its devices are unknown: the missing flag is held, not
    # cleared, and the agent is flagged instead.
    silent = evaluate_json(path, "2026-12-11T12:00:00Z")
    assert [(f["kind"], f["device_id"]) for f in silent["first_raised"]] == [("agent_silent", f"agent:{LINCOLN}")]
    assert silent["cleared"] == 0 and silent["open_by_kind"] == {"agent_silent": 1, "missing": 1}
    assert stored_flags(path, "missing") == [(device, "2026-12-11T09:10:00.000000Z", None,
                                               "2026-12-11T12:00:00.000000Z")]

    async def back(at: datetime, sequence: int | None):
        async with await Store.open(path) as store:
            if sequence is None:
                await store.record_heartbeat(agent, at)
            else:
                await store.ingest_batch(agent, LINCOLN, sequence, [seen_at(gone, "198.18.0.21", "chromebook", at)],
                                         at)

    # The agent reports again and the Chromebook is back: within the hold-down both flags stay open.
    run(back(datetime(2026, 12, 11, 12, 5, tzinfo=timezone.utc), 3))
    held = evaluate_json(path, "2026-12-11T12:10:00Z")
    assert held["raised"] == held["cleared"] == 0 and held["open_by_kind"] == {"agent_silent": 1, "missing": 1}

    # Past the hold-down (30 minutes since either condition last held): both cleared.
    run(back(datetime(2026, 12, 11, 12, 40, tzinfo=timezone.utc), None))
    cleared = evaluate_json(path, "2026-12-11T12:45:00Z")
    assert cleared["cleared"] == 2 and cleared["raised"] == 0 and cleared["open_by_kind"] == {}
    assert stored_flags(path, "missing") == [(device, "2026-12-11T09:10:00.000000Z", "2026-12-11T12:45:00.000000Z",
                                               "2026-12-11T12:00:00.000000Z")]
    assert [cleared_at for _, _, cleared_at, _ in stored_flags(path, "agent_silent")] == [
        "2026-12-11T12:45:00.000000Z"]
    assert rows(path, "SELECT count(*) FROM flags WHERE cleared_at IS NULL") == [(0,)]


def test_evaluate_flags_an_aue_passed_chromebook_and_an_off_network_device_is_not_missing(tmp_path):
    path = tmp_path / "h.db"
    asset_macs_store(path)             # seen on 23 November; the school days since then make them missing
    header, first_row, *_ = (DATA / "assets_google_admin.csv").read_text().splitlines()
    # The console heard from the second Lincoln Chromebook yesterday: it is off the network, not missing.
    synced = first_row.replace("5CD2TEST01", "5CD2TEST02").replace("2026-11-20T14:03:11.000Z",
                                                                   "2026-12-07T10:00:00Z")
    synced = synced.replace("00005E005301", "00005E005302").replace("June 2025", "2031-06")
    export = tmp_path / "google.csv"
    export.write_text("\n".join([header, first_row, synced]) + "\n")
    imported = cli("assets", "import", str(export), "--db", str(path))
    assert imported.returncode == 0 and "matched: 2 (stored 2)" in imported.stdout, imported.stdout

    async def heartbeat():
        async with await Store.open(path) as store:
            await store.record_heartbeat(f"{LINCOLN}-agent", datetime(2026, 12, 8, 8, 55, tzinfo=timezone.utc))

    run(heartbeat())
    flags = evaluate_json(path, "2026-12-08T09:00:00Z")
    by_device = {}
    for site, device_id, kind, evidence in rows(path, "SELECT site, device_id, kind, evidence FROM flags"
                                                      " WHERE cleared_at IS NULL"):
        by_device.setdefault(device_id, {})[kind] = (site, json.loads(evidence))
    devices = {mac: device_id for mac, device_id in rows(path, "SELECT mac, CAST(device_id AS TEXT) FROM devices")}
    expired, off, ipad = (by_device[devices[f"00:00:5e:00:53:{n}"]] for n in ("01", "02", "41"))
    site, evidence = expired["aue_passed"]
    assert site == LINCOLN and "AUE date 2025-06-30" in evidence
    assert "aue" not in expired                     # the finding replaces the refurbish AUE reason, not doubled
    assert "off_network" in off and "missing" not in off
    assert "missing" in ipad and "missing" in expired
    assert flags["open_by_kind"]["aue_passed"] == 1 and flags["open_by_kind"]["off_network"] == 1
    # Other sites' agents were last heard on 23 November: their devices are unknown and their agents flagged.
    assert flags["open_by_kind"]["agent_silent"] == 2


def test_refurbish_judgements_are_shared_only_for_an_equal_policy_at_the_same_moment():
    """flag_inventory keeps its refurbish judgements for the process's next call (the next share a worker
    judges) when the policy is equal and `now` is the same instant in the same zone: the texts name dates, and
    the same instant is another date in another zone."""
    from datetime import timezone as tz

    from headcount.collector.district import _refurbish_templates
    from headcount.collector.flags import ClassPolicy, FlagPolicy

    now = datetime(2026, 11, 24, 23, 30, tzinfo=tz.utc)
    first = _refurbish_templates(FlagPolicy(), now)
    first[("marker",)] = ()
    assert _refurbish_templates(FlagPolicy(), now) is first                     # equal, not the same object
    assert _refurbish_templates(FlagPolicy(), now + timedelta(hours=1)) is not first
    assert _refurbish_templates(FlagPolicy(), now) is not first                 # the later moment replaced it
    again = _refurbish_templates(FlagPolicy(), now)
    assert _refurbish_templates(FlagPolicy(), now.astimezone(tz(timedelta(hours=2)))) is not again
    other = FlagPolicy(default=ClassPolicy(lifecycle_years=2))
    assert _refurbish_templates(other, now) is not _refurbish_templates(FlagPolicy(), now)

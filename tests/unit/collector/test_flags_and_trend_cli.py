"""`headcount-collector flags` and `trend` against a real database file, run as the real command."""

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from headcount.collector.flags import Flag
from headcount.collector.model import UniformitySnapshot, format_timestamp
from headcount.collector.store import Store

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
LINCOLN = "lincoln-elementary"
JEFFERSON = "jefferson-middle"
SWITCH_MAC = "00:00:5e:00:53:0a"
PRINTER_MAC = "00:00:5e:00:53:0b"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headcount.collector", *args], capture_output=True, text=True,
                          timeout=120)


def snapshot(when: datetime, score: float, *, school_id: str = "", needs=(), parts=None) -> UniformitySnapshot:
    return UniformitySnapshot(
        taken_at=when, scope="school" if school_id else "district", school_id=school_id, score=score,
        parts=parts or {"approved_share": 0.8, "firmware_uniformity": 0.5, "ratio_score": 0.75},
        rules=[], strengths=["every classroom has an access point"], needs=list(needs))


async def fill(path: Path) -> None:
    first, last = format_timestamp(T0 - timedelta(days=30)), format_timestamp(T0 - timedelta(days=2))
    store = await Store.open(path, retention_days=0)
    try:
        await store.bulk_load(
            merged=[(1, LINCOLN, "switch"), (2, JEFFERSON, "printer")],
            devices=[(LINCOLN, SWITCH_MAC, "198.18.0.2", "Cisco", first, last, 1, "switch"),
                     (JEFFERSON, PRINTER_MAC, "198.18.8.9", "HP", first, last, 2, "printer")],
            network=[])
        offline = Flag("offline", "1", "switch not seen in 3 network polls",
                       ("last seen 2026-11-21 09:00 UTC", "missed polls at 06:00, 07:00, 08:00"),
                       raised_at=T0 - timedelta(hours=2))
        supplies = Flag("printer_supplies", "2", "black toner at 3%", ("toner black 3% (threshold 10%)",),
                        raised_at=T0 - timedelta(hours=1))
        silent = Flag("agent_silent", f"agent:{JEFFERSON}", "the school's agent has not reported for 2 hours",
                      ("last heard 2026-11-23 07:00 UTC",), raised_at=T0)
        old = Flag("offline", "2", "printer not seen in 3 network polls", ("came back 2026-11-20",),
                   raised_at=T0 - timedelta(days=5))
        await store.apply_flags(raised=[(LINCOLN, offline), (JEFFERSON, supplies), (JEFFERSON, silent),
                                        (JEFFERSON, old)], still_open=[], cleared=[])
        cleared = Flag(old.kind, old.device_id, old.reason, old.evidence, old.raised_at,
                       cleared_at=T0 - timedelta(days=3))
        await store.apply_flags(raised=[], still_open=[], cleared=[(JEFFERSON, cleared)])
        await store.save_snapshots([
            snapshot(T0 - timedelta(days=14), 70.0),
            snapshot(T0 - timedelta(days=14), 61.0, school_id=LINCOLN),
        ])
        await store.save_snapshots([
            snapshot(T0 - timedelta(days=7), 73.25, needs=["old need"]),
            snapshot(T0 - timedelta(days=7), 58.5, school_id=LINCOLN, needs=["replace 4 unapproved switches"]),
        ])
        await store.save_snapshots([
            snapshot(T0, 71.0, needs=["bring 12 access points to firmware 17.9", "2 more devices per classroom"],
                     parts={"approved_share": 0.9, "firmware_uniformity": None, "ratio_score": 0.6}),
        ])
    finally:
        await store.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("flags") / "headcount.db"
    asyncio.run(fill(path))
    return path


# ---------------------------------------------------------------- flags


def test_flags_lists_open_flags_with_mac_reason_and_evidence(db):
    done = cli("flags", "--db", str(db))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Open flags: 3" in out
    assert "switch not seen in 3 network polls" in out
    assert "last seen 2026-11-21 09:00 UTC" in out and "missed polls at 06:00, 07:00, 08:00" in out
    assert SWITCH_MAC in out and PRINTER_MAC in out
    assert "black toner at 3%" in out and "toner black 3% (threshold 10%)" in out
    assert f"agent {JEFFERSON}" in out
    # the cleared flag is hidden by default
    assert "came back 2026-11-20" not in out
    # newest raise first: the agent's flag, the printer's, the switch's
    assert out.index("has not reported") < out.index("black toner") < out.index("switch not seen")
    # the summary: per kind and per site
    summary = out[:out.index("switch not seen")]
    assert "offline" in summary and "printer_supplies" in summary and "agent_silent" in summary
    assert f"{JEFFERSON}" in summary and f"{LINCOLN}" in summary


def test_flags_kind_and_site_filter(db):
    done = cli("flags", "--db", str(db), "--kind", "offline")
    assert done.returncode == 0, done.stderr
    assert "switch not seen" in done.stdout
    assert "black toner" not in done.stdout and "has not reported" not in done.stdout
    assert "Open flags: 1 (kind offline)" in done.stdout
    done = cli("flags", "--db", str(db), "--site", JEFFERSON)
    assert "switch not seen" not in done.stdout and "black toner" in done.stdout


def test_flags_all_shows_the_cleared_flag(db):
    done = cli("flags", "--db", str(db), "--all")
    assert done.returncode == 0, done.stderr
    assert "printer not seen in 3 network polls" in done.stdout
    assert "came back 2026-11-20" in done.stdout
    assert "cleared 2026-11-20 09:00 UTC" in done.stdout
    assert "Open flags: 3" in done.stdout   # the summary counts open flags only


def test_flags_limit_says_more_may_exist(db):
    done = cli("flags", "--db", str(db), "--limit", "1")
    assert "has not reported" in done.stdout and "black toner" not in done.stdout
    assert "raise --limit" in done.stdout
    assert cli("flags", "--db", str(db), "--limit", "0").returncode == 2


def test_flags_json(db):
    done = cli("flags", "--db", str(db), "--all", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["open"] == 3
    assert report["open_by_kind"] == {"agent_silent": 1, "offline": 1, "printer_supplies": 1}
    assert report["open_by_site"] == {JEFFERSON: 2, LINCOLN: 1}
    by_reason = {flag["reason"]: flag for flag in report["flags"]}
    switch = by_reason["switch not seen in 3 network polls"]
    assert switch["mac"] == SWITCH_MAC and switch["site"] == LINCOLN and switch["cleared_at"] is None
    assert switch["evidence"] == ["last seen 2026-11-21 09:00 UTC", "missed polls at 06:00, 07:00, 08:00"]
    assert by_reason["the school's agent has not reported for 2 hours"]["mac"] == ""
    assert by_reason["printer not seen in 3 network polls"]["cleared_at"].startswith("2026-11-20T09:00")


# ---------------------------------------------------------------- trend


def test_trend_district_oldest_first_with_signed_changes(db):
    done = cli("trend", "--db", str(db))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = [line.split() for line in lines if line.strip().startswith("2026-")]
    assert [row[0] for row in rows] == ["2026-11-09", "2026-11-16", "2026-11-23"]
    assert [row[2] for row in rows] == ["70.0", "73.2", "71.0"]
    assert [row[3] for row in rows] == ["-", "+3.2", "-2.2"]
    assert rows[0][4:] == ["0.80", "0.50", "0.75"]
    assert rows[2][4:] == ["0.90", "-", "0.60"]   # firmware not measured
    needs = done.stdout[done.stdout.index("Needs"):]
    assert "bring 12 access points to firmware 17.9" in needs and "2 more devices per classroom" in needs
    assert "old need" not in needs


def test_trend_school_and_limit(db):
    done = cli("trend", "--db", str(db), "--school", LINCOLN)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.strip().startswith("2026-")]
    assert [(row[2], row[3]) for row in rows] == [("61.0", "-"), ("58.5", "-2.5")]
    assert "replace 4 unapproved switches" in done.stdout
    done = cli("trend", "--db", str(db), "--limit", "2")
    rows = [line.split() for line in done.stdout.splitlines() if line.strip().startswith("2026-")]
    assert [(row[2], row[3]) for row in rows] == [("73.2", "-"), ("71.0", "-2.2")]


def test_trend_json(db):
    done = cli("trend", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["scope"] == "district"
    assert [s["score"] for s in report["snapshots"]] == [70.0, 73.25, 71.0]
    assert [s["change"] for s in report["snapshots"]] == [None, 3.2, -2.2]
    assert report["newest"]["needs"] == ["bring 12 access points to firmware 17.9", "2 more devices per classroom"]


def test_trend_unknown_school_says_no_snapshots(db):
    done = cli("trend", "--db", str(db), "--school", "no-such-school")
    assert done.returncode == 0, done.stderr
    assert "No uniformity snapshots for school no-such-school" in done.stdout
    report = json.loads(cli("trend", "--db", str(db), "--school", "no-such-school", "--json").stdout)
    assert report["snapshots"] == [] and report["newest"] is None


# ---------------------------------------------------------------- both


@pytest.mark.parametrize("command", ["flags", "trend"])
def test_missing_database_exits_2_and_creates_nothing(tmp_path, command):
    missing = tmp_path / "nowhere.db"
    done = cli(command, "--db", str(missing))
    assert done.returncode == 2
    assert done.stderr.strip() == f"headcount-collector: {missing}: no such database"
    assert not missing.exists()


@pytest.mark.parametrize("command", ["flags", "trend"])
def test_help_has_examples(command):
    done = cli(command, "--help")
    assert done.returncode == 0
    assert f"headcount-collector {command} --db headcount.db" in done.stdout

"""What agents report reaches the flag rules: scan summaries count missed polls, SNMP polls feed refurbish flags.

Messages go through the collector's real decoding (wire.observations_from_batch),
the real store file and the real `headcount-collector evaluate` and `flags` commands,
with the shipped example standards (standards/flags.toml: a switch is offline
after 3 missed polls).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from headcount.collector.model import AgentIdentity
from headcount.collector.store import Store
from headcount.collector.wire import observations_from_batch, timestamp
from headcount.v1 import inventory_pb2 as pb

STANDARDS = Path(__file__).resolve().parents[3] / "standards"
SITE = "lincoln-elementary"
AGENT = "lincoln-agent"
START = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)      # a Monday
POLL = timedelta(minutes=15)
SWITCH, PRINTER, UPS, AP = "00:00:5e:00:53:11", "00:00:5e:00:53:12", "00:00:5e:00:53:13", "00:00:5e:00:53:14"


def run(coroutine):
    return asyncio.run(coroutine)


def snmp(mac: str, at: datetime, model: str, firmware: str, device_class: str, uptime_s: int, errors: int = 0,
         **extra) -> pb.Observation:
    device = pb.SnmpDevice(mac=mac, address=f"198.18.0.{int(mac[-2:], 16)}", model=model, firmware=firmware,
                           device_class=device_class, vendor="Example",
                           system=pb.SystemGroup(name=f"dev-{mac[-2:]}", uptime_centiseconds=uptime_s * 100),
                           interfaces=[pb.SnmpInterface(if_index=1, name="uplink", in_errors=errors)], **extra)
    return pb.Observation(observed_at=timestamp(at), scanner="snmp", snmp=device)


def scan(started: datetime, completed=("arp", "snmp"), failed=()) -> pb.Observation:
    return pb.Observation(observed_at=timestamp(started + timedelta(minutes=2)), scanner="agent",
                          scan=pb.ScanSummary(started_at=timestamp(started), completed=list(completed),
                                              failed=list(failed), observations=4))


def ingest_polls(path: Path, polls: list[list[pb.Observation]], first_sequence: int) -> None:
    async def go():
        async with await Store.open(path) as store:
            await store.register_agent(AgentIdentity(agent_id=AGENT, site=SITE), START)
            for offset, messages in enumerate(polls):
                received = START + POLL * (first_sequence + offset) + timedelta(minutes=3)
                observations, rejected = observations_from_batch(
                    pb.Batch(sequence=first_sequence + offset, observations=messages), received)
                assert not rejected, rejected
                await store.ingest_batch(AGENT, SITE, first_sequence + offset, observations, received)
    run(go())


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headcount.collector", *args], capture_output=True, text=True,
                          timeout=120)


def evaluate(path: Path, now: datetime) -> dict:
    done = cli("evaluate", "--db", str(path), "--standards", str(STANDARDS), "--now",
               now.isoformat().replace("+00:00", "Z"), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["flags"]


def open_flags(path: Path) -> dict[tuple[str, str], dict]:
    """(device name, kind) -> the stored open flag, read back through the store."""
    async def go():
        async with await Store.open(path) as store:
            return await store.list_flags(limit=1000)
    names = {SWITCH: "switch", PRINTER: "printer", UPS: "ups", AP: "ap"}
    return {(names.get(mac, flag.device_id), flag.kind): {"reason": flag.reason, "evidence": list(flag.evidence)}
            for _, mac, flag in run(go())}


def test_polls_feed_missed_polls_reboots_supplies_ups_battery_and_firmware(tmp_path):
    path = tmp_path / "h.db"
    boot = START - timedelta(days=20)
    polls = []
    for k in range(4 * 24 * 2):     # two days of 15-minute polls
        at = START + POLL * k
        if k in (30, 60, 90, 120, 150):
            boot = at - timedelta(minutes=1)   # the switch reboots five times
        uptime = int((at - boot).total_seconds())
        polls.append([
            scan(at),
            snmp(SWITCH, at + timedelta(seconds=30), "Cisco CBS350-24FP-4X", "3.2.1.1", "switch", uptime, errors=k),
            snmp(PRINTER, at + timedelta(seconds=31), "HP LaserJet Pro M404dn", "002.2409A", "printer", 86_400 + k * 900,
                 supplies=[pb.PrinterSupply(description="Black Toner", type="toner", level=3, max_capacity=100)]),
            snmp(UPS, at + timedelta(seconds=32), "APC Smart-UPS 1500", "v7.0.6", "ups", 86_400 + k * 900,
                 ups_battery=pb.UpsBattery(status="low", charge_percent=35)),
            snmp(AP, at + timedelta(seconds=33), "Aruba AP-515", "8.10.0.12", "access_point", 86_400 + k * 900),
        ])
    ingest_polls(path, polls, 1)
    end = START + POLL * len(polls)

    # Each poll folds into the stored history, kept as its digest alone, which the evaluation reads (health.py).
    import sqlite3
    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT health, health_digest FROM network_devices ORDER BY mac").fetchall()
    assert len(stored) == 4 and all(history is None and digest for history, digest in stored)

    first = evaluate(path, end)
    flags = open_flags(path)
    assert first["open_by_kind"] == {"battery": 1, "firmware": 1, "printer_supplies": 1, "reboots": 1}, first
    assert flags[("switch", "reboots")]["reason"] == "rebooted 5 times in the last 30 days"
    assert "firmware 3.2.1.1 is below the standard 3.3.0.16" in flags[("switch", "firmware")]["reason"]
    assert "Black Toner at 3%" in flags[("printer", "printer_supplies")]["reason"]
    assert "UPS battery reports low while on mains power" in flags[("ups", "battery")]["reason"]
    assert not any(name == "ap" for name, _ in flags)

    # The switch stops answering. Two scans that finished without it, and one whose sweep and poll failed
    # (its absence proves nothing): two missed polls, under the switch's threshold of three.
    quiet = len(polls) + 1
    others = lambda at, k: [  # noqa: E731 - the three devices that still answer
        snmp(PRINTER, at, "HP LaserJet Pro M404dn", "002.2409A", "printer", 200_000 + k * 900),
        snmp(UPS, at, "APC Smart-UPS 1500", "v7.0.6", "ups", 200_000 + k * 900),
        snmp(AP, at, "Aruba AP-515", "8.10.0.12", "access_point", 200_000 + k * 900)]
    later = [end + POLL * k for k in range(4)]
    ingest_polls(path, [[scan(later[0]), *others(later[0], 0)],
                        [scan(later[1], completed=(), failed=("arp", "snmp"))],
                        [scan(later[2]), *others(later[2], 2)]], quiet)
    assert "offline" not in evaluate(path, later[2] + timedelta(minutes=5))["open_by_kind"]

    # The third missed poll: offline, with its last sighting and the missed polls as evidence.
    ingest_polls(path, [[scan(later[3]), *others(later[3], 3)]], quiet + 3)
    third = evaluate(path, later[3] + timedelta(minutes=5))
    assert third["open_by_kind"].get("offline") == 1, third
    offline = open_flags(path)[("switch", "offline")]
    assert offline["reason"] == "missed 3 polls in a row (offline after 3)"
    assert "missed polls in a row: 3" in offline["evidence"]

    # The command district engineers read shows the same flags with their evidence.
    shown = cli("flags", "--db", str(path), "--kind", "offline")
    assert shown.returncode == 0, shown.stderr
    assert SWITCH in shown.stdout and "offline" in shown.stdout


def test_a_site_whose_agents_report_no_scans_falls_back_to_the_agents_last_report(tmp_path):
    # Older agents send no scan summaries: missed polls are estimated from how long the agent kept reporting.
    path = tmp_path / "h.db"
    polls = [[snmp(SWITCH, START + POLL * k, "Cisco CBS350-24FP-4X", "3.3.0.16", "switch", 90_000 + 900 * k),
              snmp(AP, START + POLL * k, "Aruba AP-515", "8.10.0.12", "access_point", 90_000 + 900 * k)]
             for k in range(4)]
    polls += [[snmp(AP, START + POLL * k, "Aruba AP-515", "8.10.0.12", "access_point", 90_000 + 900 * k)]
              for k in range(4, 9)]
    ingest_polls(path, polls, 1)
    flags = evaluate(path, START + POLL * 9)
    assert flags["open_by_kind"] == {"offline": 1}, flags
    assert ("switch", "offline") in open_flags(path)

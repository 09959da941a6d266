"""The scan summary: one per completed scan of the run loop, so the collector can count polls.

The run-loop test runs the real run_agent against a real collector (Store and
gRPC server in this process, on a loopback port) and reads what it stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from datetime import datetime, timedelta, timezone

from headcount.agent import runner, wire
from headcount.agent.config import AgentConfig
from headcount.agent.model import ScanSummary
from headcount.agent.runner import ScanResult, scan_summary
from headcount.collector import wire as collector_wire
from headcount.collector.server import start_server
from headcount.collector.store import Store
from headcount.v1 import inventory_pb2 as pb

STARTED = datetime(2026, 11, 22, 8, 30, 0, tzinfo=timezone.utc)
FINISHED = STARTED + timedelta(seconds=42, microseconds=250000)


class Named:
    def __init__(self, name: str):
        self.name = name


def test_a_summary_names_the_scanners_that_finished_and_those_that_failed():
    result = ScanResult(started_at=STARTED, finished_at=FINISHED, observations=[object()] * 3,
                        errors={"snmp": "no credentials answered"})
    summary = scan_summary([Named("arp"), Named("snmp"), Named("hostfacts")], result)
    assert summary == ScanSummary(started_at=STARTED, finished_at=FINISHED, completed=("arp", "hostfacts"),
                                  failed=("snmp",), observations=3)
    assert (summary.kind, summary.scanner, summary.observed_at) == ("scan", "agent", FINISHED)


def test_a_summary_survives_the_wire_from_agent_to_collector():
    summary = ScanSummary(started_at=STARTED, finished_at=FINISHED, completed=("arp", "hostfacts"),
                          failed=("snmp",), observations=1234)
    encoded = wire.batch_message(9, FINISHED, [summary]).SerializeToString()
    batch = pb.AgentMessage.FromString(encoded).batch
    assert batch.observations[0].WhichOneof("kind") == "scan"
    received = FINISHED + timedelta(seconds=2)
    accepted, rejected = collector_wire.observations_from_batch(batch, received)
    assert rejected == []
    (observation,) = accepted
    assert (observation.kind, observation.scanner, observation.mac, observation.observed_at) == (
        "scan", "agent", "", FINISHED)
    assert observation.sighting is None and observation.classification is None
    assert observation.data == {"started_at": "2026-11-22T08:30:00.000000Z", "completed": ["arp", "hostfacts"],
                                "failed": ["snmp"], "observations": 1234}


def test_run_agent_sends_one_summary_per_scan_and_the_collector_stores_it(tmp_path):
    db = tmp_path / "headcount.db"

    async def scenario():
        store = await Store.open(db)
        server, port = await start_server(store)
        try:
            config = dataclasses.replace(AgentConfig(), site="s1", agent_id="s1-agent",
                                         collector=f"127.0.0.1:{port}", state_dir=tmp_path / "state")
            for _ in range(2):
                code = await asyncio.wait_for(runner.run_agent(config, progress=lambda *a, **k: None, once=True), 60)
                assert code == 0
        finally:
            await server.stop(None)
            await store.close()

    asyncio.run(scenario())
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT kind, scanner, mac, sequence, observed_at, data FROM observations"
                            " ORDER BY sequence, id").fetchall()
    # Each --once run is one scan: its host facts, then its summary, in one batch.
    assert [(kind, sequence) for kind, _, _, sequence, _, _ in rows] == [
        ("host", 1), ("scan", 1), ("host", 2), ("scan", 2)]
    for kind, scanner, mac, _, observed_at, data in rows:
        if kind != "scan":
            continue
        summary = json.loads(data)
        assert (scanner, mac) == ("agent", "")
        assert summary["completed"] == ["hostfacts"] and summary["failed"] == []
        assert summary["observations"] == 1
        assert summary["started_at"] <= observed_at and summary["started_at"].endswith("Z")

"""The agent keeps running while the collector is down, backs off, and delivers once it is up.

No root needed: the agent runs with host facts only, against a real collector
process on a loopback port that is at first closed.
"""

from __future__ import annotations

import json

from .helpers import free_port, query, read_status, start_agent, start_collector, stop, wait_for, write_agent_config


def test_agent_survives_a_missing_collector_then_delivers(tmp_path):
    port = free_port()
    address = f"127.0.0.1:{port}"
    config = write_agent_config(tmp_path / "agent.toml", site="lincoln-elementary", collector=address,
                                state_dir=tmp_path / "state", scan_interval=2)
    status = tmp_path / "status.json"
    agent = start_agent(config, status, tmp_path / "agent.log")
    collector = None
    try:
        # Several scans happen while nobody listens; the agent neither crashes nor stops scanning.
        wait_for(lambda: read_status(status).get("scans_completed", 0) >= 3, 60, "three scans with the collector down")
        state = read_status(status)
        assert agent.poll() is None, "agent exited while the collector was down"
        assert state["connected"] is False and "UNAVAILABLE" in state["last_error"]
        assert state["pending_batches"] >= 3 and state["delivered_sequence"] == 0
        log = (tmp_path / "agent.log").read_text()
        assert "retrying in" in log and "Traceback" not in log

        collector, bound = start_collector(tmp_path, listen=address)
        assert bound.endswith(f":{port}")
        wait_for(lambda: read_status(status).get("pending_batches", 1) == 0
                 and read_status(status).get("connected"), 90, "the backlog to be delivered after the collector came up")
        state = read_status(status)
        assert state["delivered_sequence"] >= 3

        sites = query(address, "sites", "--format", "json")
        assert sites.returncode == 0, sites.stderr
        (site,) = [s for s in json.loads(sites.stdout) if s["site"] == "lincoln-elementary"]
        assert "lincoln-elementary-agent" in site["agents"]
        # Host facts alone never create device rows (the agent's machine is not a swept host).
        assert site["devices"] == 0
    finally:
        stop(agent)
        if collector:
            stop(collector)


def test_sequence_numbers_survive_an_agent_restart(tmp_path):
    collector, address = start_collector(tmp_path)
    config = write_agent_config(tmp_path / "agent.toml", site="s1", collector=address, state_dir=tmp_path / "state")
    try:
        for run in range(2):
            status = tmp_path / f"status-{run}.json"
            agent = start_agent(config, status, tmp_path / "agent.log", "--once")
            assert agent.wait(timeout=90) == 0, (tmp_path / "agent.log").read_text()[-2000:]
            delivered = read_status(status)["delivered_sequence"]
            assert delivered == run + 1, f"run {run}: delivered sequence {delivered}"
        assert (tmp_path / "state" / "sequence").read_text().strip() == "2"
    finally:
        stop(collector)

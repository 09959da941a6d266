"""Stopping the agent in the middle of a long sweep takes seconds, not the rest of the sweep.

A /20 swept in 256-address blocks takes a minute here; systemd's stop timeout
is 90 s and a person's patience at Ctrl-C is shorter.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from headcount.agent.simlan import SimDistrict

from .helpers import read_status, start_agent, start_collector, stop, wait_for, write_agent_config

pytestmark = [pytest.mark.netns, pytest.mark.slow]


def wide_subnet(school) -> str:
    # The /20 around the school's /24: all inside 198.18.0.0/15, on the test's own bridge.
    return str(school.network.supernet(new_prefix=20))


def test_sigterm_during_a_sweep_stops_the_agent_promptly(tmp_path, netns_allowed, no_leftover_namespaces):
    with SimDistrict(schools=1, hosts_per_school=2, first_subnet=122) as district:
        no_leftover_namespaces(district.tag)
        school = district.schools[0]
        collector, address = start_collector(tmp_path)
        config = write_agent_config(tmp_path / "agent.toml", site="s", collector=address, state_dir=tmp_path / "state",
                                    interface=school.bridge, subnet=wide_subnet(school), hostfacts=False)
        agent = start_agent(config, tmp_path / "status.json", tmp_path / "agent.log")
        try:
            wait_for(lambda: read_status(tmp_path / "status.json").get("connected"), 30, "the agent to connect")
            time.sleep(2)   # well inside the first sweep
            assert agent.poll() is None
            sent = time.monotonic()
            agent.send_signal(signal.SIGTERM)
            code = agent.wait(timeout=30)
            waited = time.monotonic() - sent
        finally:
            stop(agent)
            stop(collector)
        log = (tmp_path / "agent.log").read_text()
        assert code == 0, log[-2000:]
        assert waited < 15, f"took {waited:.1f}s to stop"
        assert "scan cancelled" in log and "Traceback" not in log


def test_ctrl_c_during_scan_once_returns_promptly(netns_allowed, no_leftover_namespaces):
    with SimDistrict(schools=1, hosts_per_school=2, first_subnet=123) as district:
        no_leftover_namespaces(district.tag)
        school = district.schools[0]
        process = subprocess.Popen(
            [sys.executable, "-m", "headcount.agent", "scan", "--once", "--json", "--no-hostfacts",
             "--subnet", wide_subnet(school), "--interface", school.bridge],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            time.sleep(4)
            assert process.poll() is None
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
            waited = time.monotonic() - sent
        finally:
            stop(process)
        assert process.returncode == 130, err
        assert waited < 15, f"took {waited:.1f}s to stop"
        assert "Traceback" not in err

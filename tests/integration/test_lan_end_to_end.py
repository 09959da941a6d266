"""The real agent sweeps real namespaced hosts and the real collector stores exactly them.

Two schools of 30 hosts each (60 namespaces, each answering ARP from its own
kernel), one `headcount-agent run` per school, one `headcount-collector serve`
on loopback with a SQLite file, and the `headcount` CLI to read it back.
"""

from __future__ import annotations

import json
import time

import pytest

from headcount.agent.simlan import SimDistrict

from .helpers import (peak_rss_kib, query, read_status, start_agent, start_collector, stop, wait_for,
                      write_agent_config)

pytestmark = [pytest.mark.netns, pytest.mark.slow]

HOSTS_PER_SCHOOL = 30


def test_agents_stream_exactly_the_live_hosts_to_the_collector(tmp_path, netns_allowed, no_leftover_namespaces):
    district = SimDistrict(schools=2, hosts_per_school=HOSTS_PER_SCHOOL, first_subnet=101)
    no_leftover_namespaces(district.tag)
    processes = []
    try:
        with district:
            collector, address = start_collector(tmp_path)
            processes.append(collector)
            agents = []
            started = time.monotonic()
            for school in district.schools:
                config = write_agent_config(
                    tmp_path / f"{school.name}.toml", site=school.name, collector=address,
                    state_dir=tmp_path / f"{school.name}-state", interface=school.bridge, subnet=str(school.network),
                )
                status = tmp_path / f"{school.name}-status.json"
                agent = start_agent(config, status, tmp_path / f"{school.name}-agent.log")
                processes.append(agent)
                agents.append((school, agent, status))

            def all_delivered():
                states = [read_status(status) for _, _, status in agents]
                return all(s.get("scans_completed", 0) >= 1 and s.get("pending_batches", 1) == 0
                           and s.get("delivered_sequence", 0) > 0 for s in states)

            wait_for(all_delivered, 120, "both agents to deliver their first scan")
            elapsed = time.monotonic() - started
            peaks = {school.name: peak_rss_kib(agent.pid) for school, agent, _ in agents}

            listing = query(address, "devices", "--format", "json")
            assert listing.returncode == 0, listing.stderr
            stored = json.loads(listing.stdout)

            expected = {(s.name, h.mac, h.ip) for s in district.schools for h in s.hosts}
            found = {(d["site"], d["mac"], d["ip"]) for d in stored}
            assert len(stored) == len(found), "one row per (site, MAC)"
            assert found == expected, f"missing {expected - found}, extra {found - expected}"
            by_mac = {d["mac"]: d for d in stored}
            for school in district.schools:
                for host in school.hosts:
                    row = by_mac[host.mac]
                    randomised = int(host.mac[:2], 16) & 2 != 0
                    assert row["locally_administered"] is randomised
                    assert (row["vendor"] == "") is randomised, row

            per_site = query(address, "devices", "--site", district.schools[0].name, "--format", "json")
            assert {d["mac"] for d in json.loads(per_site.stdout)} == {h.mac for h in district.schools[0].hosts}

            one = district.schools[1].hosts[3]
            detail = query(address, "device", one.mac.upper().replace(":", "-"))
            assert detail.returncode == 0 and one.ip in detail.stdout and district.schools[1].name in detail.stdout

            print(f"\nE2E FIGURES: hosts expected {len(expected)}, found {len(found)}, "
                  f"first scans delivered after {elapsed:.1f}s, agent peak RSS (VmHWM) "
                  + ", ".join(f"{name} {kib / 1024:.1f} MiB" for name, kib in peaks.items()))
    finally:
        for process in reversed(processes):
            stop(process)

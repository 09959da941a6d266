"""The agent probes SNMP devices it is told about and ones its ARP sweep finds, and the collector answers for them.

A namespaced school LAN: one host is a managed switch (snmpsim inside its
namespace, answering on its LAN address) whose forwarding table holds the
other hosts' MACs; a printer answers on loopback as an explicit target. The
real agent sweeps, probes (trying a wrong community first), streams to the
real collector, and `headcount device MAC` shows the switch's model, serial,
firmware and ports, and the switch port each end device was last seen on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from headcount.agent.simlan import SimDistrict
from headcount.agent.snmp.credentials import Credential

from .helpers import query, read_status, start_agent, start_collector, stop, wait_for, write_agent_config
from .snmp_peers import answers, snmpsim
from .snmprec_builder import OCTETS, INTEGER, switch_rows, system_rows, write_snmprec

pytestmark = [pytest.mark.netns, pytest.mark.slow]

SWITCH_MODEL = "HC-SW-8P"
SWITCH_SERIAL = "HCS0001TEST"
SWITCH_FIRMWARE = "4.2.1"
SWITCH_COMMUNITY = "school-switch"


def start_snmpsim_in_namespace(namespace: str, address: str, data_dir: Path, work: Path) -> subprocess.Popen:
    responder = Path(sys.executable).parent / "snmpsim-command-responder"
    log = open(work / "switch-snmpsim.log", "ab")
    return subprocess.Popen(
        ["ip", "netns", "exec", namespace, str(responder), f"--data-dir={data_dir}",
         f"--cache-dir={work / 'switch-cache'}", f"--agent-udpv4-endpoint={address}:161", "--log-level=error"],
        stdout=log, stderr=log, env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"},
    )


def test_agent_probes_switch_found_by_arp_and_collector_places_devices_on_ports(
        tmp_path, netns_allowed, no_leftover_namespaces):
    district = SimDistrict(schools=1, hosts_per_school=6, first_subnet=160)
    no_leftover_namespaces(district.tag)
    school = district.schools[0]
    switch_host, end_hosts = school.hosts[0], school.hosts[1:]
    learned = {host.mac: port for port, host in enumerate(end_hosts, start=2)}
    switch_data = tmp_path / "switch-data"
    switch_data.mkdir()
    write_snmprec(switch_data / f"{SWITCH_COMMUNITY}.snmprec", switch_rows(
        name="sw-room101", base_mac=switch_host.mac, ports=8, learned=learned, model=SWITCH_MODEL,
        serial=SWITCH_SERIAL, firmware=SWITCH_FIRMWARE, uplink=8, uplink_macs=["02:00:5e:00:53:01"],
    ))
    printer_data = tmp_path / "printer-data"
    printer_data.mkdir()
    printer_rows = system_rows("Test LaserWriter 9000 printer", "1.3.6.1.4.1.8072.3.2.10", "office-printer")
    printer_rows.update({
        "1.3.6.1.2.1.2.2.1.1.1": (INTEGER, "1"), "1.3.6.1.2.1.2.2.1.2.1": (OCTETS, "eth0"),
        "1.3.6.1.2.1.2.2.1.3.1": (INTEGER, "6"), "1.3.6.1.2.1.2.2.1.6.1": (OCTETS + "x", "0000aa112233"),
        "1.3.6.1.2.1.2.2.1.8.1": (INTEGER, "1"),
        "1.3.6.1.2.1.43.11.1.1.5.1.1": (INTEGER, "3"), "1.3.6.1.2.1.43.11.1.1.6.1.1": (OCTETS, "Black Toner"),
        "1.3.6.1.2.1.43.11.1.1.8.1.1": (INTEGER, "100"), "1.3.6.1.2.1.43.11.1.1.9.1.1": (INTEGER, "7"),
    })
    write_snmprec(printer_data / "office.snmprec", printer_rows)

    processes = []
    try:
        with district, snmpsim(printer_data, tmp_path / "printer-work", "office") as printer_port:
            switch = start_snmpsim_in_namespace(switch_host.namespace, switch_host.ip, switch_data, tmp_path)
            processes.append(switch)
            wait_for(lambda: answers_at(switch_host.ip, SWITCH_COMMUNITY), 90, "the switch's SNMP agent")
            collector, address = start_collector(tmp_path)
            processes.append(collector)
            config = write_agent_config(
                tmp_path / "agent.toml", site=school.name, collector=address, state_dir=tmp_path / "state",
                interface=school.bridge, subnet=str(school.network), hostfacts=False,
            )
            with open(config, "a") as extra:
                extra.write(
                    "[snmp]\n"
                    f"subnets = [\"{school.network}\"]\n"
                    f"targets = [\"127.0.0.1:{printer_port}\"]\n"
                    "timeout = 1\nretries = 0\n"
                    # A wrong community first: the agent must fall through to the next one.
                    "[[snmp.credentials]]\nname = \"old-default\"\nversion = \"2c\"\ncommunity = \"wrong-secret-1\"\n"
                    "[[snmp.credentials]]\nname = \"district-switches\"\nversion = \"2c\"\n"
                    f"community = \"{SWITCH_COMMUNITY}\"\napplies_to = [\"{school.network}\"]\n"
                    "[[snmp.credentials]]\nname = \"printers\"\nversion = \"2c\"\ncommunity = \"office\"\n"
                    "applies_to = [\"127.0.0.1/32\"]\n"
                )
            status = tmp_path / "status.json"
            agent = start_agent(config, status, tmp_path / "agent.log", "--once")
            processes.append(agent)
            assert agent.wait(timeout=180) == 0, (tmp_path / "agent.log").read_text()[-3000:]
            state = read_status(status)
            assert state["last_scan"]["errors"] == {}

            # The switch: identity and ports from its own MIBs.
            shown = query(address, "device", switch_host.mac)
            assert shown.returncode == 0, shown.stderr
            assert SWITCH_MODEL in shown.stdout and SWITCH_SERIAL in shown.stdout and SWITCH_FIRMWARE in shown.stdout
            assert "Gi0/3" in shown.stdout and "district-core" in shown.stdout   # a port row and its LLDP neighbour
            detail = json.loads(query(address, "device", switch_host.mac, "--format", "json").stdout)
            network = detail["devices"][0]["network"]
            assert (network["model"], network["serial"], network["firmware"]) == (
                SWITCH_MODEL, SWITCH_SERIAL, SWITCH_FIRMWARE)
            assert network["port_count"] == 8 and len(network["ports"]) == 8
            assert network["sys_name"] == "sw-room101"

            # Every end device: the switch port its MAC was learned on.
            for host in end_hosts:
                detail = json.loads(query(address, "device", host.mac, "--format", "json").stdout)
                port = detail["devices"][0]["switch_port"]
                assert (port["switch_name"], port["port_name"]) == ("sw-room101", f"Gi0/{learned[host.mac]}"), host
            text = query(address, "device", end_hosts[0].mac).stdout
            assert "SWITCH PORT" in text and "sw-room101 Gi0/2" in text

            # The explicit loopback target (no ARP entry): keyed by its interface MAC, supplies read.
            printer = json.loads(query(address, "device", "00:00:aa:11:22:33", "--format", "json").stdout)
            assert printer["devices"][0]["hostname"] == "office-printer"
            history = [h for h in printer["history"] if h["kind"] == "snmp"]
            assert history and history[0]["data"]["supplies"][0]["description"] == "Black Toner"
            assert history[0]["data"]["credential_name"] == "printers"

            # Which credential worked is remembered by name, and no secret is written anywhere we keep.
            remembered = json.loads((tmp_path / "state" / "snmp-credentials.json").read_text())
            assert remembered[f"{switch_host.ip}:161"] == "district-switches"
            for path in [status, tmp_path / "agent.log", tmp_path / "state" / "snmp-credentials.json"]:
                assert "wrong-secret-1" not in path.read_text()
            # Nor in what was streamed: the collector's database holds every observation it received.
            streamed = b"".join(p.read_bytes() for p in tmp_path.glob("headcount.db*"))
            assert b"wrong-secret-1" not in streamed and SWITCH_COMMUNITY.encode() not in streamed
            assert b"district-switches" in streamed   # the credential's name is what travels
    finally:
        for process in reversed(processes):
            stop(process)


def answers_at(host: str, community: str) -> bool:
    return answers(161, Credential("probe", "2c", community=community), host=host)

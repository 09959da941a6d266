"""The shipped deploy files and standards files must be usable as they are."""

import configparser
import ipaddress
import tomllib
from pathlib import Path

import pytest

from headcount.agent.config import parse_config
from headcount.collector.standards import load_standards

REPO = Path(__file__).resolve().parents[2]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, empty_lines_in_values=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(REPO / "deploy" / name)
    return parser


def test_agent_unit_runs_unprivileged_with_only_cap_net_raw():
    service = unit("headcount-agent.service")["Service"]
    assert service["User"] not in ("", "root")
    assert service["AmbientCapabilities"].split() == ["CAP_NET_RAW"]
    assert service["CapabilityBoundingSet"].split() == ["CAP_NET_RAW"]
    assert service["NoNewPrivileges"] == "yes"
    assert "headcount-agent run --config" in service["ExecStart"]
    assert "AF_PACKET" in service["RestrictAddressFamilies"]  # raw ARP frames


def test_collector_unit_has_no_capabilities():
    service = unit("headcount-collector.service")["Service"]
    assert service["User"] not in ("", "root")
    assert service["CapabilityBoundingSet"] == "" and service["AmbientCapabilities"] == ""
    assert "headcount-collector serve --db" in service["ExecStart"] and "--listen" in service["ExecStart"]


def test_example_agent_config_is_valid():
    raw = tomllib.loads((REPO / "deploy" / "agent.example.toml").read_text())
    # The example names the school's interfaces; this machine has "lo" for sure.
    raw["arp"]["interface"] = "lo"
    for entry in raw["arp"]["subnets"]:
        if isinstance(entry, dict):
            entry["interface"] = "lo"
    config = parse_config(raw, "deploy/agent.example.toml")
    assert config.site and config.collector and len(config.arp.subnets) == 2


@pytest.mark.parametrize("path", sorted((REPO / "standards").glob("*.toml")), ids=lambda p: p.name)
def test_every_standards_file_is_utf8_toml(path):
    assert tomllib.loads(path.read_text(encoding="utf-8"))


def test_the_example_district_loads_and_has_every_core_section():
    standards = load_standards(REPO / "standards")
    assert standards.district.name and standards.district.timezone
    bands = standards.grade_bands
    assert bands and all(band.grades and band.student_devices_per_student > 0 and band.student_devices
                         for band in bands)
    assert all(device.models and device.minimum_os for band in bands for device in band.student_devices)
    # At least 3 schools, covering every grade band, and together every grade K-12.
    assert len(standards.schools) >= 3
    assert {school.grade_band for school in standards.schools} == {band.id for band in bands}
    assert {g for s in standards.schools for g in standards.band_of(s).grades} >= {"K", *map(str, range(1, 13))}
    # Approved models, firmware floors and ages for every infrastructure class the issue names.
    for device_class in ("switch", "access_point", "wireless_controller", "printer", "ups"):
        standard = standards.infrastructure_standard(device_class)
        assert standard and standard.models and standard.max_age_years, device_class
        assert any(model.minimum_firmware for model in standard.models), device_class
    assert standards.infrastructure_standard("access_point").access_points_per_classroom
    assert standards.infrastructure_standard("switch").minimum_uplink_mbps
    assert standards.infrastructure_standard("switch").poe_budget_headroom_percent is not None
    assert standards.calendar.holidays and standards.calendar.term_start and standards.calendar.term_end
    assert standards.rooms


def test_the_example_district_uses_only_documentation_and_benchmark_addresses():
    allowed = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15")]
    for school in load_standards(REPO / "standards").schools:
        for subnet in school.subnets:
            assert any(subnet.subnet_of(net) for net in allowed), f"{school.id}: {subnet}"


def test_there_is_an_example_district():
    assert (REPO / "standards" / "district.toml").exists() and (REPO / "standards" / "schools.toml").exists()

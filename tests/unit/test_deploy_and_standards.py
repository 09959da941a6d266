"""The shipped deploy files and standards files must be usable as they are."""

import configparser
import tomllib
from pathlib import Path

import pytest

from headcount.agent.config import parse_config

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
def test_every_standards_file_parses_and_has_the_core_sections(path):
    document = tomllib.loads(path.read_text())
    assert document["district"]["name"]
    bands = document["grade_band"]
    assert bands and all(band["grades"] and band["student_devices_per_student"] > 0 for band in bands)
    assert document["approved_models"] and document["lifecycle"]["offline_after_days"] > 0


def test_there_is_an_example_district():
    assert (REPO / "standards" / "example-district.toml").exists()

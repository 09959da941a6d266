"""The `headcount` query CLI without a collector: its options, help, and how it prints answers."""

import csv
import io
import json
import sys
from datetime import datetime, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from headcount.collector import cli
from headcount.v1 import inventory_pb2 as pb

AT = datetime(2026, 11, 22, 8, 30, 15, 250000, tzinfo=timezone.utc)


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def devices():
    return [
        pb.Device(site="lincoln-elementary", mac="3c:22:fb:00:00:01", ip="10.0.0.1", vendor="Apple, Inc.",
                  first_seen=stamp(AT), last_seen=stamp(AT), sources=["arp"]),
        pb.Device(site="lincoln-elementary", mac="da:a1:19:00:00:07", ip="10.0.0.107", locally_administered=True,
                  first_seen=stamp(AT), last_seen=stamp(AT), sources=["arp", "dhcp"], hostname="phone"),
    ]


@pytest.mark.parametrize("command", [["devices"], ["device", "3c:22:fb:00:00:01"], ["sites"]])
def test_every_query_subcommand_takes_collector_defaulting_to_the_environment(command, monkeypatch):
    monkeypatch.delenv("HEADCOUNT_COLLECTOR", raising=False)
    assert cli.build_parser().parse_args(command).collector == "127.0.0.1:50051"
    assert cli.build_parser().parse_args([*command, "--collector", "c.example:1"]).collector == "c.example:1"
    monkeypatch.setenv("HEADCOUNT_COLLECTOR", "collector.district.example:50051")
    assert cli.build_parser().parse_args(command).collector == "collector.district.example:50051"


@pytest.mark.parametrize("command", [[], ["devices"], ["device"], ["sites"], ["demo"]])
def test_help_explains_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([*command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text and "headcount" in text
    if command == ["demo"]:
        assert "needs root" in text and "network namespaces" in text


def test_demo_still_has_help_and_says_what_to_install_when_its_module_is_missing(monkeypatch, capsys):
    import headcount.collector
    from headcount.collector import demo

    # Never build a real district from a unit test, even if the stub below were not taken.
    monkeypatch.setattr(demo, "run", lambda args: pytest.fail("the real demo ran"))
    monkeypatch.delattr(headcount.collector, "demo")
    monkeypatch.setitem(sys.modules, "headcount.collector.demo", None)   # makes `from . import demo` fail
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    assert "needs root" in capsys.readouterr().out
    assert cli.main(["demo"]) == 2
    assert "pip install 'headcount[agent,collector]'" in capsys.readouterr().err


def test_devices_table_is_aligned_with_the_agreed_columns():
    lines = cli.devices_table(devices()).splitlines()
    assert lines[0].split("  ")[0] == "SITE"
    for header in ("SITE", "MAC", "IP", "VENDOR", "RANDOMISED", "FIRST SEEN", "LAST SEEN"):
        assert header in lines[0]
    mac_column = lines[0].index("MAC")
    assert all(line[mac_column:].startswith(("MAC", "3c:22", "da:a1")) for line in lines)
    assert lines[2][lines[0].index("RANDOMISED"):].startswith("yes")
    assert lines[1][lines[0].index("RANDOMISED"):].startswith("  ") or "yes" not in lines[1]
    assert "2026-11-22 08:30:15Z" in lines[1]


def test_devices_json_and_csv_share_keys_and_iso_utc_times():
    out = io.StringIO()
    cli.write_json_list((cli.device_json(d) for d in devices()), out)
    parsed = json.loads(out.getvalue())
    assert list(parsed[0]) == list(cli.DEVICE_FIELDS)
    assert parsed[0]["first_seen"] == "2026-11-22T08:30:15.250000Z"
    assert parsed[1]["locally_administered"] is True and parsed[1]["sources"] == ["arp", "dhcp"]

    out = io.StringIO()
    cli.write_csv((cli.device_json(d) for d in devices()), out)
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert out.getvalue().splitlines()[0] == ",".join(cli.DEVICE_FIELDS)
    assert table[1]["locally_administered"] == "true" and table[1]["sources"] == "arp;dhcp"
    assert table[0]["vendor"] == "Apple, Inc."   # quoted comma survives

    empty = io.StringIO()
    cli.write_json_list([], empty)
    assert json.loads(empty.getvalue()) == []


def test_sites_output_has_counts_and_null_for_never_heard():
    sites = [pb.SiteSummary(site="school-1", devices=20, locally_administered=3, agents=["school-1-agent"],
                            last_seen=stamp(AT)),
             pb.SiteSummary(site="school-2", agents=["school-2-agent"])]
    text = cli.sites_table(sites)
    assert text.splitlines()[1].split()[:3] == ["school-1", "20", "3"]
    assert [cli.site_json(s) for s in sites] == [
        {"site": "school-1", "devices": 20, "locally_administered": 3, "agents": ["school-1-agent"],
         "last_seen": "2026-11-22T08:30:15.250000Z"},
        {"site": "school-2", "devices": 0, "locally_administered": 0, "agents": ["school-2-agent"], "last_seen": None},
    ]


def test_device_detail_shows_each_site_and_the_history():
    response = pb.GetDeviceResponse(devices=devices()[:1], history=[
        pb.ObservationRecord(site="lincoln-elementary", agent_id="lincoln-agent", kind="arp", observed_at=stamp(AT),
                             data_json=json.dumps({"ip": "10.0.0.1", "mac": "3c:22:fb:00:00:01"}))])
    text = cli.device_detail_text(response)
    assert text.startswith("lincoln-elementary\n") and "10.0.0.1" in text and "RANDOMISED  no" in text
    assert "recent history, newest first (1)" in text and "lincoln-agent" in text and "ip=10.0.0.1" in text

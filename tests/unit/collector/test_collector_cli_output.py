"""The `headcount` query CLI without a collector: its options, help, and how it prints answers."""

import csv
import io
import json
import re
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
                            last_seen=stamp(AT), stable_devices=18, randomised_devices=2,
                            classes=[pb.ClassCount(device_class="ipad", devices=12),
                                     pb.ClassCount(device_class="unknown", devices=8)]),
             pb.SiteSummary(site="school-2", agents=["school-2-agent"])]
    text = cli.sites_table(sites)
    lines = text.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["SITE", "DEVICES", "STABLE", "RANDOMISED", "RANDOMISED MACS", "AGENTS",
                                             "LAST SEEN"]
    # devices, stable devices, randomised devices, then randomised (locally administered) MACs
    assert lines[1].split()[:5] == ["school-1", "20", "18", "2", "3"]
    assert lines[2].split()[:5] == ["school-2", "0", "0", "0", "0"]
    by_class = lines[lines.index("devices by class:") + 1:]
    assert by_class[0].split() == ["SITE", "IPAD", "UNKNOWN"]
    assert by_class[1].split() == ["school-1", "12", "8"] and by_class[2].split() == ["school-2", "0", "0"]
    assert [cli.site_json(s) for s in sites] == [
        {"site": "school-1", "devices": 20, "stable_devices": 18, "randomised_devices": 2,
         "classes": {"ipad": 12, "unknown": 8}, "locally_administered": 3, "agents": ["school-1-agent"],
         "last_seen": "2026-11-22T08:30:15.250000Z"},
        {"site": "school-2", "devices": 0, "stable_devices": 0, "randomised_devices": 0, "classes": {},
         "locally_administered": 0, "agents": ["school-2-agent"], "last_seen": None},
    ]


def test_device_detail_shows_each_site_and_the_history():
    response = pb.GetDeviceResponse(devices=devices()[:1], history=[
        pb.ObservationRecord(site="lincoln-elementary", agent_id="lincoln-agent", kind="arp", observed_at=stamp(AT),
                             data_json=json.dumps({"ip": "10.0.0.1", "mac": "3c:22:fb:00:00:01"}))])
    text = cli.device_detail_text(response)
    assert text.startswith("lincoln-elementary\n") and "10.0.0.1" in text and "RANDOMISED  no" in text
    assert "recent history, newest first (1)" in text and "lincoln-agent" in text and "ip=10.0.0.1" in text


def merged_ipad() -> pb.Device:
    return pb.Device(site="lincoln-elementary", mac="fa:99:88:77:66:05", ip="10.0.0.54", locally_administered=True,
                     first_seen=stamp(AT), last_seen=stamp(AT), sources=["arp", "mdns", "passive"],
                     hostname="p:0f1e0f1e", device_class="ipad", device_id="17",
                     class_evidence=["dhcp fingerprint 1,121,3,6,15 -> ipad (+4)", "mdns _companion-link -> ipad (+2)"],
                     linked_macs=["ae:01:02:03:04:04", "3c:22:fb:00:00:aa"],
                     link_evidence=["dhcp client id ff:6b:1c links 3c:22:fb:00:00:aa, ae:01:02:03:04:04, "
                                    "fa:99:88:77:66:05",
                                    "mdns host p:0f1e0f1e links ae:01:02:03:04:04, fa:99:88:77:66:05"])


def test_devices_table_and_files_show_class_and_how_many_macs_a_device_used():
    rows = [*devices(), merged_ipad()]
    lines = cli.devices_table(rows).splitlines()
    assert lines[0].split() == ["SITE", "MAC", "IP", "VENDOR", "CLASS", "MACS", "RANDOMISED", "FIRST", "SEEN", "LAST",
                                "SEEN"]
    assert lines[3][lines[0].index("CLASS"):].split()[:3] == ["ipad", "3", "yes"]
    assert lines[1][lines[0].index("MACS"):].split()[0] == "1"
    out = io.StringIO()
    cli.write_csv((cli.device_json(d) for d in rows), out)
    ipad = list(csv.DictReader(io.StringIO(out.getvalue())))[2]
    assert (ipad["device_class"], ipad["macs"], ipad["device_id"]) == ("ipad", "3", "17")
    assert ipad["linked_macs"] == "ae:01:02:03:04:04;3c:22:fb:00:00:aa"
    assert cli.device_json(rows[2])["linked_macs"] == ["ae:01:02:03:04:04", "3c:22:fb:00:00:aa"]


def test_device_detail_shows_class_evidence_linked_macs_and_why():
    text = cli.device_detail_text(pb.GetDeviceResponse(devices=[merged_ipad()]))
    lines = text.splitlines()
    assert "  DEVICE      17 (3 MACs)" in lines
    at = lines.index("  CLASS       ipad")
    assert lines[at + 1:at + 3] == ["                dhcp fingerprint 1,121,3,6,15 -> ipad (+4)",
                                    "                mdns _companion-link -> ipad (+2)"]
    at = lines.index("  LINKED      ae:01:02:03:04:04  (randomised)")
    assert lines[at + 1] == "              3c:22:fb:00:00:aa"
    assert lines[at + 2].startswith("  WHY         dhcp client id ff:6b:1c links 3c:22:fb:00:00:aa")
    assert lines[at + 3] == "              mdns host p:0f1e0f1e links ae:01:02:03:04:04, fa:99:88:77:66:05"


def test_device_detail_shows_an_endpoints_own_host_facts():
    boot = datetime(2026, 11, 22, 6, 58, tzinfo=timezone.utc)
    device = pb.Device(site="lincoln-elementary", mac="3c:22:fb:00:00:07", device_id="3", device_class="windows_pc",
                       first_seen=stamp(AT), last_seen=stamp(AT), host=pb.HostFacts(
                           hostname="LAB-PC-07", os="Windows", os_release="Windows 11 Education", kernel="10.0.22631",
                           architecture="AMD64", cpu_model="Intel(R) Core(TM) i5-1235U", cpu_logical=12,
                           memory_total_bytes=16 * 2**30, memory_available_bytes=9 * 2**30,
                           boot_time=stamp(boot), endpoint=True, reboot_count=41, reboots_last_30_days=6,
                           disks=[pb.Disk(mountpoint="C:\\", fstype="NTFS", total_bytes=256 * 2**30,
                                          used_bytes=120 * 2**30)],
                           battery=pb.Battery(present=True, percent=78, design_capacity=50_000_000,
                                              full_capacity=41_000_000, cycle_count=312)))
    lines = cli.device_detail_text(pb.GetDeviceResponse(devices=[device])).splitlines()
    assert "  HOST        LAB-PC-07  Windows 11 Education, kernel 10.0.22631, AMD64" in lines
    assert "  HARDWARE    Intel(R) Core(TM) i5-1235U (12 threads); 9.0 GiB of 16.0 GiB memory free" in lines
    assert "  BOOTED      2026-11-22 06:58:00Z" in lines
    assert "  REBOOTS     41 since the agent was installed, 6 in the last 30 days" in lines
    assert "  DISKS       C:\\  47% used (120.0 GiB of 256.0 GiB, NTFS)" in lines
    assert ("  BATTERY     78% charged; holds 82% of its design capacity (full 41000000, design 50000000), "
            "312 cycles") in lines


def test_history_lines_lead_with_what_identifies_the_observation():
    from headcount.collector.cli import _summary

    line = _summary({"classification": {"device_class": "ipad", "evidence": ["x"]}, "name_policy": "pseudonymise",
                     "vendor_class": "MSFT 5.0", "hostname": "p:ab12", "message_type": "REQUEST", "ip": "198.18.1.9",
                     "mac": "3c:22:fb:00:00:01"}, limit=200)
    assert line.startswith("message_type=REQUEST ip=198.18.1.9 hostname=p:ab12 vendor_class=MSFT 5.0")
    assert "classification" not in line and "name_policy" not in line and "3c:22:fb" not in line

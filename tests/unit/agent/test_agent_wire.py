from datetime import datetime, timezone

from headcount.agent import wire
from headcount.agent.model import ArpSighting, BatteryHealth, DiskUsage, HostFacts, HostInterface, as_json

AT = datetime(2026, 11, 22, 8, 30, 15, 250000, tzinfo=timezone.utc)


def sighting(**changes):
    fields = dict(mac="3c:22:fb:00:00:01", ip="198.51.100.3", vendor="Apple, Inc.",
                  locally_administered=False, interface="eth0", observed_at=AT)
    fields.update(changes)
    return ArpSighting(**fields)


def facts():
    return HostFacts(
        hostname="lab-pc-1", os="Linux", os_release="Debian GNU/Linux 12", kernel="6.1", architecture="x86_64",
        cpu_model="CPU", cpu_logical=4, cpu_physical=2, memory_total_bytes=8 << 30, memory_available_bytes=4 << 30,
        disks=(DiskUsage("/", "/dev/sda1", "ext4", 100, 60),),
        interfaces=(HostInterface("eth0", "3c:22:fb:00:00:01", ("198.51.100.3/24",), True, 1000),),
        boot_time=datetime(2026, 11, 20, tzinfo=timezone.utc), observed_at=AT,
        battery=BatteryHealth(True, 80, 57000000, 41040000, 412),
    )


def test_batch_carries_sequence_and_every_arp_field():
    message = wire.batch_message(42, AT, [sighting(), sighting(mac="da:a1:19:00:00:07", ip="198.51.100.7",
                                                               vendor="", locally_administered=True)])
    assert message.WhichOneof("body") == "batch"
    batch = message.batch
    assert batch.sequence == 42 and batch.created_at.ToDatetime(timezone.utc) == AT
    first, second = batch.observations
    assert first.WhichOneof("kind") == "arp" and first.scanner == "arp"
    assert first.observed_at.ToDatetime(timezone.utc) == AT
    assert (first.arp.mac, first.arp.ip, first.arp.vendor, first.arp.interface) == (
        "3c:22:fb:00:00:01", "198.51.100.3", "Apple, Inc.", "eth0")
    assert second.arp.locally_administered and not first.arp.locally_administered


def test_host_facts_round_trip_through_bytes():
    from headcount.v1 import inventory_pb2 as pb

    encoded = wire.batch_message(1, AT, [facts()]).SerializeToString()
    host = pb.AgentMessage.FromString(encoded).batch.observations[0].host
    assert host.hostname == "lab-pc-1" and host.cpu_logical == 4 and host.memory_total_bytes == 8 << 30
    assert host.disks[0].used_bytes == 60 and host.interfaces[0].addresses == ["198.51.100.3/24"]
    assert host.battery.design_capacity == 57000000 and host.battery.full_capacity == 41040000
    assert host.boot_time.ToDatetime(timezone.utc) == datetime(2026, 11, 20, tzinfo=timezone.utc)


def test_hello_and_heartbeat():
    identity = wire.identity_message("a1", "school-1", "0.1.0", "host", ["arp", "hostfacts"])
    assert wire.hello_message(identity).hello.agent.site == "school-1"
    beat = wire.heartbeat_message(AT, 7, 2).heartbeat
    assert (beat.last_sequence, beat.pending_batches) == (7, 2)


def test_json_shape_for_scan_output():
    doc = as_json(sighting())
    assert doc == {"kind": "arp", "mac": "3c:22:fb:00:00:01", "ip": "198.51.100.3", "vendor": "Apple, Inc.",
                   "locally_administered": False, "interface": "eth0",
                   "observed_at": "2026-11-22T08:30:15.250000Z", "scanner": "arp",
                   "classification": None, "name_policy": ""}
    assert as_json(facts())["battery"]["cycle_count"] == 412


def test_scan_summary_is_sent_as_a_scan_observed_when_the_scan_finished():
    from headcount.agent.model import ScanSummary

    started = datetime(2026, 11, 22, 8, 29, 50, tzinfo=timezone.utc)
    summary = ScanSummary(started_at=started, finished_at=AT, completed=("arp", "hostfacts"), failed=("snmp",),
                          observations=250)
    message = wire.observation_message(summary)
    assert message.WhichOneof("kind") == "scan" and message.scanner == "agent"
    assert message.observed_at.ToDatetime(timezone.utc) == AT
    assert message.scan.started_at.ToDatetime(timezone.utc) == started
    assert (list(message.scan.completed), list(message.scan.failed), message.scan.observations) == (
        ["arp", "hostfacts"], ["snmp"], 250)
    assert not message.HasField("classification") and message.name_policy == ""

"""collector/wire.py on hand-built headcount.v1 messages: valid ones convert, malformed ones are refused one by one."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from headcount.collector import wire
from headcount.collector.errors import InvalidHelloError, InvalidObservationError
from headcount.collector.model import (Device, DeviceDetail, HistoryEntry, IngestOutcome, IngestStatus, SiteSummary)
from headcount.v1 import inventory_pb2 as pb

AT = datetime(2026, 11, 22, 8, 30, 15, 250000, tzinfo=timezone.utc)
RECEIVED = AT + timedelta(seconds=3)


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def arp(mac="3C-22-FB-00-00-01", ip="198.51.100.3", **extra) -> pb.Observation:
    return pb.Observation(observed_at=stamp(AT), scanner="arp",
                          arp=pb.ArpSighting(mac=mac, ip=ip, vendor="Apple, Inc.", interface="eth0", **extra))


def test_arp_becomes_a_device_making_observation_with_a_normalised_mac():
    observation = wire.observation_from_message(arp(), RECEIVED)
    assert (observation.kind, observation.scanner, observation.observed_at, observation.mac) == (
        "arp", "arp", AT, "3c:22:fb:00:00:01")
    assert observation.observed_at.tzinfo is not None
    assert observation.data == {"mac": "3c:22:fb:00:00:01", "ip": "198.51.100.3", "vendor": "Apple, Inc.",
                                "interface": "eth0"}
    sighting = observation.sighting
    assert (sighting.mac, sighting.ip, sighting.vendor, sighting.creates_device) == (
        "3c:22:fb:00:00:01", "198.51.100.3", "Apple, Inc.", True)


@pytest.mark.parametrize("mac, ip, fragment", [
    ("zz:zz:zz:zz:zz:zz", "198.51.100.3", "arp.mac: 'zz:zz:zz:zz:zz:zz' is not a MAC address"),
    ("", "198.51.100.3", "arp.mac: '' is not a MAC address"),
    ("ff:ff:ff:ff:ff:ff", "198.51.100.3", "arp.mac: ff:ff:ff:ff:ff:ff is a group or all-zero address"),
    ("3c:22:fb:00:00:01", "198.51.100.300", "arp.ip: '198.51.100.300' is not an IPv4 address"),
    ("3c:22:fb:00:00:01", "", "arp.ip: missing IPv4 address"),
    ("3c:22:fb:00:00:01", "2001:db8::1", "arp.ip: '2001:db8::1' is not an IPv4 address"),
])
def test_malformed_arp_is_refused_with_the_field_and_value(mac, ip, fragment):
    with pytest.raises(InvalidObservationError, match=fragment.replace(".", r"\.").replace("(", r"\(")):
        wire.observation_from_message(arp(mac=mac, ip=ip), RECEIVED)


def test_a_bad_observation_is_rejected_alone_and_the_rest_of_the_batch_survives():
    batch = pb.Batch(sequence=7, created_at=stamp(AT), observations=[
        arp(), arp(mac="nonsense"), pb.Observation(observed_at=stamp(AT)), arp(mac="3c:22:fb:00:00:02", ip="x"),
        pb.Observation(observed_at=stamp(AT), scanner="hostfacts", host=pb.HostFacts(hostname="lab-pc", cpu_logical=4)),
    ])
    accepted, rejected = wire.observations_from_batch(batch, RECEIVED)
    assert [o.kind for o in accepted] == ["arp", "host"]
    assert [(r.index, r.kind) for r in rejected] == [(1, "arp"), (2, "unset"), (3, "arp")]
    assert "no kind set" in rejected[1].reason
    detail = wire.describe_rejections(rejected, len(batch.observations))
    assert detail.startswith("rejected 3 of 5 observations: ")
    assert "'nonsense' is not a MAC address" in detail and "no kind set" in detail and "'x' is not an IPv4" in detail


def test_ack_detail_stays_short_when_reasons_are_many():
    batch = pb.Batch(sequence=1, observations=[arp(mac=f"bad-{i}") for i in range(50)] + [arp(ip="no")] * 3)
    _, rejected = wire.observations_from_batch(batch, RECEIVED)
    detail = wire.describe_rejections(rejected, 53)
    assert detail.startswith("rejected 53 of 53 observations: ")
    # 51 distinct reasons: the commonest (3 times) first, two more, then a count of the rest.
    assert detail.index("'no' is not an IPv4 address (x3)") < detail.index("'bad-0'")
    assert detail.endswith("; and 48 other reasons") and len(detail) <= wire.MAX_ACK_DETAIL


def test_huge_bad_values_are_shortened_in_reasons():
    with pytest.raises(InvalidObservationError) as caught:
        wire.observation_from_message(arp(mac="a" * 10_000), RECEIVED)
    assert len(str(caught.value)) < 150 and "..." in str(caught.value)


def test_host_facts_carry_data_without_a_sighting_and_snmp_sights_its_own_mac():
    host = wire.observation_from_message(pb.Observation(
        observed_at=stamp(AT), scanner="hostfacts",
        host=pb.HostFacts(hostname="lab-pc", interfaces=[pb.HostInterface(name="eth0", mac="3c:22:fb:00:00:09")])),
        RECEIVED)
    assert host.kind == "host" and host.sighting is None and host.mac == ""
    assert host.data["hostname"] == "lab-pc" and host.data["interfaces"][0]["mac"] == "3c:22:fb:00:00:09"
    # An SNMP device is a device at the site (keyed by its own MAC); the MACs in
    # its forwarding table are not sightings of their own.
    snmp = wire.observation_from_message(pb.Observation(
        observed_at=stamp(AT), snmp=pb.SnmpDevice(address="10.0.0.2", mac="3c:22:fb:00:00:0a", vendor="HP",
                                                  system=pb.SystemGroup(name="sw-1"),
                                                  fdb=[pb.FdbEntry(mac="3c:22:fb:00:00:10")])),
        RECEIVED)
    assert snmp.kind == "snmp" and snmp.scanner == "snmp"
    assert (snmp.sighting.mac, snmp.sighting.ip, snmp.sighting.hostname) == ("3c:22:fb:00:00:0a", "10.0.0.2", "sw-1")
    assert snmp.learned == ()
    json.dumps(snmp.data)   # plain JSON-ready values


def test_dhcp_creates_and_mdns_only_refreshes():
    dhcp = wire.observation_from_message(pb.Observation(
        observed_at=stamp(AT), dhcp=pb.DhcpSighting(mac="3c22.fb00.0003", ip="0.0.0.0", hostname="chromebook-12")),
        RECEIVED)
    assert dhcp.sighting.mac == "3c:22:fb:00:00:03" and dhcp.sighting.ip == "" and dhcp.sighting.creates_device
    assert dhcp.sighting.hostname == "chromebook-12"
    mdns = wire.observation_from_message(pb.Observation(
        observed_at=stamp(AT), mdns=pb.MdnsService(service_type="_ipp._tcp.local.", host="lab-printer.local.",
                                                   mac="3c22fb000004")), RECEIVED)
    assert mdns.sighting.hostname == "lab-printer.local" and not mdns.sighting.creates_device
    anonymous = wire.observation_from_message(pb.Observation(
        observed_at=stamp(AT), mdns=pb.MdnsService(service_type="_ipp._tcp.local.", host="x.local.")), RECEIVED)
    assert anonymous.sighting is None and anonymous.mac == ""
    with pytest.raises(InvalidObservationError, match="mdns.mac"):
        wire.observation_from_message(pb.Observation(mdns=pb.MdnsService(mac="12345")), RECEIVED)


def test_unset_observed_at_means_when_it_was_received():
    observation = wire.observation_from_message(pb.Observation(arp=pb.ArpSighting(mac="3c:22:fb:00:00:01",
                                                                                  ip="10.0.0.1")), RECEIVED)
    assert observation.observed_at == RECEIVED and observation.scanner == "arp"


def test_hello_needs_agent_id_and_site_and_names_the_missing_field():
    identity = wire.identity_from_hello(pb.Hello(agent=pb.AgentIdentity(
        agent_id="lincoln-agent", site="lincoln-elementary", version="0.1.0", hostname="lab-pc",
        scanners=["arp", "hostfacts"])))
    assert (identity.agent_id, identity.site, identity.scanners) == ("lincoln-agent", "lincoln-elementary",
                                                                     ("arp", "hostfacts"))
    with pytest.raises(InvalidHelloError, match=r"Hello\.agent\.agent_id is empty"):
        wire.identity_from_hello(pb.Hello(agent=pb.AgentIdentity(site="s1")))
    with pytest.raises(InvalidHelloError, match=r"Hello\.agent\.site is empty"):
        wire.identity_from_hello(pb.Hello(agent=pb.AgentIdentity(agent_id="a1", site="   ")))


def test_domain_records_to_query_messages():
    device = Device(site="s1", mac="da:a1:19:00:00:07", ip="10.0.0.7", vendor="", locally_administered=True,
                    hostname="phone", first_seen=AT, last_seen=RECEIVED, sources=("arp", "dhcp"))
    message = wire.device_message(device)
    assert (message.site, message.mac, message.ip, message.locally_administered, message.hostname) == (
        "s1", "da:a1:19:00:00:07", "10.0.0.7", True, "phone")
    assert message.first_seen.ToDatetime(tzinfo=timezone.utc) == AT
    assert message.last_seen.ToDatetime(tzinfo=timezone.utc) == RECEIVED
    assert list(message.sources) == ["arp", "dhcp"]

    site = wire.site_message(SiteSummary(site="s1", devices=3, locally_administered=1, agents=("a1",), last_seen=AT))
    assert (site.devices, site.locally_administered, list(site.agents)) == (3, 1, ["a1"]) and site.HasField("last_seen")
    assert not wire.site_message(SiteSummary("s2", 0, 0, ("a2",), None)).HasField("last_seen")

    entry = HistoryEntry(site="s1", agent_id="a1", sequence=4, kind="arp", mac=device.mac, observed_at=AT,
                         received_at=RECEIVED, data={"ip": "10.0.0.7", "mac": device.mac})
    response = wire.device_detail_response(DeviceDetail(devices=(device,), history=(entry,)))
    assert response.devices[0].mac == device.mac
    (record,) = response.history
    assert (record.site, record.agent_id, record.kind) == ("s1", "a1", "arp")
    assert json.loads(record.data_json) == {"ip": "10.0.0.7", "mac": device.mac}


def test_acks_carry_sequence_status_and_count():
    stored = wire.ack_message(9, IngestOutcome(IngestStatus.STORED, 12, 9), "rejected 1 of 13 observations: x").ack
    assert (stored.sequence, stored.status, stored.observations_stored) == (9, pb.Ack.STORED, 12)
    assert stored.detail.startswith("rejected 1")
    duplicate = wire.ack_message(9, IngestOutcome(IngestStatus.DUPLICATE, 0, 11)).ack
    assert (duplicate.status, duplicate.observations_stored, duplicate.detail) == (pb.Ack.DUPLICATE, 0, "")
    assert wire.rejected_ack_message(0, "bad").ack.status == pb.Ack.REJECTED
    assert wire.heartbeat_ack_message(AT).heartbeat_ack.received_at.ToDatetime(tzinfo=timezone.utc) == AT
    assert wire.welcome_message(41).welcome.last_stored_sequence == 41

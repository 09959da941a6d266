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


# ---------------------------------------------------------------- DHCP, mDNS, host facts, classification, names


PSEUDONYM = "p:" + "0f1e" * 16


def dhcp(policy="keep", **fields) -> pb.Observation:
    values = dict(mac="da:a1:19:00:00:07", ip="10.0.0.7", hostname="Janes-iPad", vendor_class="",
                  client_id=bytes.fromhex("ff0001020300010001"), parameter_request_list=[1, 121, 3, 6, 15],
                  message_type="REQUEST", requested_ip="10.0.0.7", source="client")
    values.update(fields)
    return pb.Observation(observed_at=stamp(AT), scanner="passive", name_policy=policy,
                          classification=pb.Classification(device_class="ipad", evidence=["dhcp 55 -> ipad (+4)"]),
                          dhcp=pb.DhcpSighting(**values))


def test_dhcp_carries_client_id_fingerprint_classification_and_name_policy():
    observation = wire.observation_from_message(dhcp(), RECEIVED)
    assert (observation.mac, observation.client_id, observation.name_policy) == (
        "da:a1:19:00:00:07", bytes.fromhex("ff0001020300010001"), "keep")
    assert (observation.sighting.ip, observation.sighting.hostname) == ("10.0.0.7", "Janes-iPad")
    assert observation.classification.device_class == "ipad"
    assert observation.classification.evidence == ("dhcp 55 -> ipad (+4)",)
    # History shows the client id readably (hex pairs, or text when it is text) and the classification.
    assert observation.data["client_id"] == "ff:00:01:02:03:00:01:00:01"
    assert observation.data["classification"] == {"device_class": "ipad", "evidence": ["dhcp 55 -> ipad (+4)"]}
    assert observation.data["parameter_request_list"] == [1, 121, 3, 6, 15]
    assert observation.data["name_policy"] == "keep"
    text_id = wire.observation_from_message(dhcp(client_id=PSEUDONYM.encode()), RECEIVED)
    assert text_id.data["client_id"] == PSEUDONYM
    json.dumps(observation.data)


def test_names_arrive_pseudonymised_dropped_or_raw_and_are_stored_as_they_arrive():
    pseudonymised = wire.observation_from_message(dhcp("pseudonymise", hostname=PSEUDONYM,
                                                       client_id=PSEUDONYM.encode()), RECEIVED)
    assert pseudonymised.sighting.hostname == PSEUDONYM and pseudonymised.client_id == PSEUDONYM.encode()
    # The agent leaves generic names (and a type-1 MAC client id) as they are: they name nobody.
    generic = wire.observation_from_message(dhcp("pseudonymise", hostname="iPad (2)",
                                                 client_id=bytes.fromhex("01daa11900000" + "7")), RECEIVED)
    assert generic.sighting.hostname == "iPad (2)" and generic.client_id == bytes.fromhex("01daa119000007")
    mdns = wire.observation_from_message(pb.Observation(name_policy="pseudonymise", mdns=pb.MdnsService(
        host=PSEUDONYM + ".local.", instance_name="a1b2c3d4e5f6@" + PSEUDONYM, mac="da:a1:19:00:00:07")), RECEIVED)
    assert mdns.sighting.hostname == PSEUDONYM + ".local" and mdns.data["instance_name"].endswith(PSEUDONYM)
    dropped = wire.observation_from_message(dhcp("drop", hostname="", client_id=b""), RECEIVED)
    assert dropped.sighting.hostname == "" and dropped.name_policy == "drop"
    unsaid = wire.observation_from_message(dhcp("", hostname="LIB-PC-14"), RECEIVED)   # an agent older than policies
    assert unsaid.sighting.hostname == "LIB-PC-14"


@pytest.mark.parametrize("policy, hostname, client_id", [
    ("pseudonymise", "Janes-iPad", bytes.fromhex("ff0001020300010001")),
    ("pseudonymise", "Janes-iPad", b"\x00Janes-iPad"),
    ("drop", "Janes-iPad", b"\x00p:0f1e0f1e0f1e0f1e"),
])
def test_a_name_the_policy_says_was_not_sent_is_withheld_and_the_sighting_kept(policy, hostname, client_id):
    observation = wire.observation_from_message(dhcp(policy, hostname=hostname, client_id=client_id), RECEIVED)
    assert (observation.mac, observation.sighting.ip) == ("da:a1:19:00:00:07", "10.0.0.7")
    assert (observation.sighting.hostname, observation.client_id) == ("", b"")
    assert observation.data["hostname"] == "" and "client_id" not in observation.data
    assert observation.data["withheld_names"] == ["dhcp.hostname", "dhcp.client_id"]
    assert "Janes" not in json.dumps(observation.data)
    facts = wire.observation_from_message(pb.Observation(name_policy=policy, host=pb.HostFacts(
        hostname="Janes-Laptop", endpoint=True, interfaces=[pb.HostInterface(name="eth0", mac="3c:22:fb:00:00:07")])),
        RECEIVED)
    assert facts.host_sightings[0].hostname == "" and facts.data["hostname"] == ""


@pytest.mark.parametrize("message, fragment", [
    (dhcp(hostname="x" * 256), "dhcp.hostname is 256 characters long; at most 255"),
    (dhcp(hostname="bad\x1b[31mname"), "dhcp.hostname: 'bad\\x1b[31mname' contains control characters"),
    (dhcp(client_id=b"\x01" * 256), "dhcp.client_id is 256 bytes"),
    (dhcp(parameter_request_list=[1, 300]), "dhcp.parameter_request_list"),
    (dhcp(source="relay"), "dhcp.source: 'relay' is not"),
    (dhcp(requested_ip="10.0.0.300"), "dhcp.requested_ip: '10.0.0.300' is not an IPv4 address"),
    (dhcp(mac="01:00:5e:00:00:01"), "dhcp.mac: 01:00:5e:00:00:01 is a group"),
    (dhcp("forget"), "name_policy: 'forget' is not one of keep, pseudonymise, drop"),
    (pb.Observation(arp=pb.ArpSighting(mac="3c:22:fb:00:00:01", ip="10.0.0.1"),
                    classification=pb.Classification(device_class="iPad!")), "classification.device_class"),
    (pb.Observation(arp=pb.ArpSighting(mac="3c:22:fb:00:00:01", ip="10.0.0.1"),
                    classification=pb.Classification(device_class="ipad", evidence=["x"] * 51)),
     "classification.evidence: 51 lines; at most 50"),
    (pb.Observation(arp=pb.ArpSighting(mac="3c:22:fb:00:00:01", ip="10.0.0.1"),
                    classification=pb.Classification(device_class="ipad", evidence=["x" * 501])),
     "classification.evidence: a line of 501 characters"),
    (pb.Observation(mdns=pb.MdnsService(host="a.local.", addresses=["10.0.0.1", "not-an-address"])),
     "mdns.addresses: 'not-an-address' is not an IP address"),
    (pb.Observation(mdns=pb.MdnsService(host="h" * 300)), "mdns.host is 300 characters long"),
    (pb.Observation(mdns=pb.MdnsService(host="a.local.", port=70000)), "mdns.port: 70000"),
    (pb.Observation(host=pb.HostFacts(hostname="x" * 256)), "host.hostname is 256 characters long"),
])
def test_malformed_new_observations_are_refused_naming_the_field(message, fragment):
    with pytest.raises(InvalidObservationError) as caught:
        wire.observation_from_message(message, RECEIVED)
    assert fragment in str(caught.value)
    assert len(str(caught.value)) < 200


def test_one_malformed_dhcp_costs_only_itself():
    batch = pb.Batch(sequence=3, observations=[dhcp(), dhcp(hostname="y" * 300), arp()])
    accepted, rejected = wire.observations_from_batch(batch, RECEIVED)
    assert [o.kind for o in accepted] == ["dhcp", "arp"]
    assert [(r.index, r.kind) for r in rejected] == [(1, "dhcp")] and "dhcp.hostname" in rejected[0].reason


def test_mdns_with_and_without_a_mac():
    bound = wire.observation_from_message(pb.Observation(observed_at=stamp(AT), mdns=pb.MdnsService(
        service_type="_airplay._tcp.local.", instance_name="Room 12 TV", host="Room-12-TV.local.", port=7000,
        addresses=["10.0.0.12", "fe80::1"], mac="3c:22:fb:00:00:12",
        txt=[pb.TxtEntry(key="model", value=b"AppleTV6,2", has_value=True)])), RECEIVED)
    assert (bound.mac, bound.sighting.hostname, bound.sighting.creates_device) == (
        "3c:22:fb:00:00:12", "Room-12-TV.local", False)
    assert bound.data["addresses"] == ["10.0.0.12", "fe80::1"]
    unbound = wire.observation_from_message(pb.Observation(observed_at=stamp(AT), mdns=pb.MdnsService(
        service_type="_ipp._tcp.local.", host="printer.local.", addresses=["10.0.0.9"])), RECEIVED)
    assert (unbound.mac, unbound.sighting) == ("", None) and unbound.data["addresses"] == ["10.0.0.9"]


def test_endpoint_host_facts_are_sightings_of_their_own_interfaces():
    facts = pb.HostFacts(hostname="lab-pc-07", endpoint=True, reboot_count=4, reboots_last_30_days=1, interfaces=[
        pb.HostInterface(name="lo", mac="00:00:00:00:00:00", addresses=["127.0.0.1/8"]),
        pb.HostInterface(name="eth0", mac="3C:22:FB:00:00:07", addresses=["fe80::1/64", "10.0.0.7/24"]),
        pb.HostInterface(name="wlan0", mac="3c:22:fb:00:00:08"),
        pb.HostInterface(name="docker0", mac="02:42:ac:11:00:01", addresses=["172.17.0.1/16"]),
        pb.HostInterface(name="tun0", mac=""), pb.HostInterface(name="odd", mac="not-a-mac"),
        pb.HostInterface(name="eth0.10", mac="3c:22:fb:00:00:07"),       # a VLAN on eth0: the same MAC once
    ])
    observation = wire.observation_from_message(pb.Observation(observed_at=stamp(AT), scanner="hostfacts",
                                                               host=facts), RECEIVED)
    assert observation.endpoint and observation.mac == "3c:22:fb:00:00:07"
    assert [(s.mac, s.ip, s.hostname, s.creates_device) for s in observation.host_sightings] == [
        ("3c:22:fb:00:00:07", "10.0.0.7", "lab-pc-07", True), ("3c:22:fb:00:00:08", "", "lab-pc-07", True)]
    assert observation.data["reboot_count"] == 4 and observation.data["endpoint"] is True
    site_agent = wire.observation_from_message(pb.Observation(host=pb.HostFacts(
        hostname="lab-pc", interfaces=[pb.HostInterface(name="eth0", mac="3c:22:fb:00:00:09")])), RECEIVED)
    assert not site_agent.endpoint and site_agent.mac == "" and len(site_agent.host_sightings) == 1


def test_hello_carries_the_agent_mode_and_an_unknown_mode_is_a_site_agent():
    def mode_of(mode):
        return wire.identity_from_hello(pb.Hello(agent=pb.AgentIdentity(agent_id="a", site="s", mode=mode))).mode

    assert (mode_of("endpoint"), mode_of("site"), mode_of(""), mode_of("hybrid")) == ("endpoint", "site", "", "")


def test_merged_devices_and_site_counts_to_query_messages():
    device = Device(site="s1", mac="da:a1:19:00:00:07", ip="10.0.0.7", vendor="Apple, Inc.",
                    locally_administered=True, hostname=PSEUDONYM, first_seen=AT, last_seen=RECEIVED,
                    device_class="ipad", class_evidence=("dhcp 55 -> ipad (+4)",), device_id="42",
                    linked_macs=("6e:11:22:33:44:02",), link_evidence=("dhcp client id ff:00 links ...",),
                    host_facts={"hostname": "lab-pc-07", "reboot_count": 3, "memory_total_bytes": "8000000000",
                                "battery": {"present": True, "design_capacity": "50000000"},
                                "a_field_from_a_newer_agent": 1})
    message = wire.device_message(device)
    assert (message.device_id, message.device_class, list(message.linked_macs)) == (
        "42", "ipad", ["6e:11:22:33:44:02"])
    assert list(message.class_evidence) == ["dhcp 55 -> ipad (+4)"] and len(message.link_evidence) == 1
    assert (message.host.hostname, message.host.reboot_count, message.host.memory_total_bytes) == (
        "lab-pc-07", 3, 8_000_000_000)
    assert message.host.battery.design_capacity == 50_000_000
    bare = wire.device_message(Device(site="s1", mac="3c:22:fb:00:00:01", ip="", vendor="",
                                      locally_administered=False, hostname="", first_seen=AT, last_seen=AT,
                                      device_id="7"))
    assert bare.device_class == "unknown" and not bare.HasField("host")
    site = wire.site_message(SiteSummary(site="s1", devices=3, locally_administered=4, agents=("a1",), last_seen=AT,
                                         stable_devices=1, randomised_devices=2,
                                         classes=(("ipad", 2), ("unknown", 1))))
    assert (site.devices, site.stable_devices, site.randomised_devices, site.locally_administered) == (3, 1, 2, 4)
    assert [(c.device_class, c.devices) for c in site.classes] == [("ipad", 2), ("unknown", 1)]


def scan(started_at=AT - timedelta(seconds=40), completed=("arp", "hostfacts"), failed=("snmp",),
         observed_at=AT, **extra) -> pb.Observation:
    body = pb.ScanSummary(completed=list(completed), failed=list(failed), observations=17)
    if started_at is not None:
        body.started_at.CopyFrom(stamp(started_at))
    return pb.Observation(observed_at=stamp(observed_at), scanner="agent", scan=body, **extra)


def test_a_scan_summary_is_a_poll_about_no_device():
    observation = wire.observation_from_message(scan(), RECEIVED)
    assert (observation.kind, observation.scanner, observation.mac, observation.observed_at) == (
        "scan", "agent", "", AT)
    assert observation.sighting is None and not observation.learned and not observation.host_sightings
    assert observation.data == {"started_at": "2026-11-22T08:29:35.250000Z", "completed": ["arp", "hostfacts"],
                                "failed": ["snmp"], "observations": 17}
    # Classification and name policy are about devices and names; a summary has neither.
    classified = wire.observation_from_message(
        scan(classification=pb.Classification(device_class="ipad"), name_policy="keep"), RECEIVED)
    assert classified.classification is None and classified.data == observation.data
    # A scan that took no time is still a scan.
    assert wire.observation_from_message(scan(started_at=AT), RECEIVED).data["started_at"] == wire.format_timestamp(AT)


@pytest.mark.parametrize("message, fragment", [
    (scan(started_at=None), "scan.started_at is missing"),
    (scan(started_at=AT + timedelta(seconds=1)),
     "scan.started_at 2026-11-22T08:30:16.250000Z is after the scan finished "
     "(observed_at 2026-11-22T08:30:15.250000Z)"),
    (scan(completed=["arp", "ARP!"]), "scan.completed: 'ARP!' is not a scanner name"),
    (scan(failed=["x" * 33]), "scan.failed: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is not a scanner name"),
    (scan(failed=[""]), "scan.failed: '' is not a scanner name"),
    (scan(completed=[f"s{i}" for i in range(65)]), "scan.completed: 65 scanner names; at most 64"),
    (scan(completed=["arp"], failed=["arp"]), "scan.failed: 'arp' is also in scan.completed"),
])
def test_a_malformed_scan_summary_is_refused_naming_the_field(message, fragment):
    with pytest.raises(InvalidObservationError) as caught:
        wire.observation_from_message(message, RECEIVED)
    assert fragment in str(caught.value)


def test_a_bad_scan_summary_costs_only_itself():
    batch = pb.Batch(sequence=4, observations=[arp(), scan(started_at=AT + timedelta(minutes=1)), scan()])
    accepted, rejected = wire.observations_from_batch(batch, RECEIVED)
    assert [o.kind for o in accepted] == ["arp", "scan"]
    assert [(r.index, r.kind) for r in rejected] == [(1, "scan")] and "scan.started_at" in rejected[0].reason

"""The mDNS scanner's pure half: TXT records, device models, packet checks, record building and caps.

The packets and TXT records in data/mdns_responses.json were recorded once from
real python-zeroconf responders (tests/integration/mdns_responder.py serve) on
a test bridge; data/mdns_hostile.json holds what the hostile sender sends, as
captured on the same bridge. No sockets here.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from zeroconf import DNSIncoming

from headcount.agent.config import AgentConfig, MdnsSettings, SubnetTarget
from headcount.agent.model import ArpSighting, TxtEntry
from headcount.agent.scanners import SCANNERS
from headcount.agent.scanners.base import ScanContext
from headcount.agent.scanners.mdns import (
    DATAGRAM_BAD_RECORDS, DATAGRAM_MALFORMED, DATAGRAM_OK, DATAGRAM_OVERSIZED, MAX_ADDRESSES, MAX_TXT_ENTRIES,
    MdnsCounters, MdnsScanner, PacketRateLimiter, ResolvedInstance, _PacketTap, base_service_type, build_services,
    classify_datagram, instance_label, is_valid_name, mac_table, model_from_txt, parse_neighbour_table, parse_txt,
    record_types, txt_value,
)

DATA = Path(__file__).with_name("data")
RECORDED = json.loads((DATA / "mdns_responses.json").read_text(encoding="utf-8"))
HOSTILE = json.loads((DATA / "mdns_hostile.json").read_text(encoding="utf-8"))["packets"]
RESPONSES = [bytes.fromhex(p["hex"]) for p in RECORDED["packets"]]
TXT = {name: bytes.fromhex(rdata) for name, rdata in RECORDED["txt_rdata"].items()}
AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
IPAD = "Jane Doe’s iPad"


def entries(*raw: str) -> tuple[TxtEntry, ...]:
    return parse_txt(b"".join(bytes([len(r.encode())]) + r.encode() for r in raw))


# --- TXT ----------------------------------------------------------------------------

def test_recorded_txt_keeps_order_duplicates_and_bare_keys():
    assert parse_txt(TXT[f"{IPAD}._companion-link._tcp.local."]) == (
        TxtEntry("rpMd", b"iPad13,1"), TxtEntry("rpFl", b"0x20000"), TxtEntry("rpFl", b"0x1"),
        TxtEntry("rpHA", b"", has_value=False), TxtEntry("rpBA", b"", has_value=True),
    )
    printer = parse_txt(TXT["Room 12 Printer._ipp._tcp.local."])
    assert [e.key for e in printer] == ["txtvers", "ty", "product", "usb_MFG", "usb_MDL", "pdl"]
    assert txt_value(printer, "pdl") == b"application/pdf,image/urf"


def test_an_empty_txt_record_is_no_entries():
    assert TXT["lab-pc-07._ssh._tcp.local."] == b"\x00"
    assert parse_txt(b"\x00") == () == parse_txt(b"")


def test_txt_ignores_empty_strings_keyless_entries_torn_strings_and_non_ascii_keys():
    data = b"\x00" + b"\x06=value" + b"\x03a=1" + b"\x05k\xc3\xa9=1" + b"\x07b=x=y=z" + b"\x04c=\x00\xff" + b"\x09cut"
    assert parse_txt(data) == (TxtEntry("a", b"1"), TxtEntry("b", b"x=y=z"), TxtEntry("c", b"\x00\xff"))


def test_txt_caps_entries_and_bytes():
    many = b"".join(bytes([len(f"k{i}=v".encode())]) + f"k{i}=v".encode() for i in range(1000))
    assert len(parse_txt(many)) == MAX_TXT_ENTRIES
    assert len(parse_txt(many, max_entries=5)) == 5
    assert parse_txt(b"\x03a=1\x03b=2", max_bytes=6) == (TxtEntry("a", b"1"),)   # "b=2" would cross the cap


def test_txt_value_is_the_first_occurrence_case_insensitively():
    txt = entries("Model=first", "model=second", "flag")
    assert txt_value(txt, "MODEL") == b"first"
    assert txt_value(txt, "flag") == b""
    assert txt_value(txt, "absent") is None


# --- device models ------------------------------------------------------------------------

@pytest.mark.parametrize("service_type, raw, model", [
    ("_device-info._tcp.local.", ["model=iPad13,1", "osxvers=21"], "iPad13,1"),
    ("_device-info._tcp.local.", ["model=MacBookPro18,3"], "MacBookPro18,3"),
    ("_device-info._tcp", ["model=MacBookPro18,3"], "MacBookPro18,3"),            # without .local.
    ("_companion-link._tcp.local.", ["rpMd=iPad13,1", "rpFl=0x20000"], "iPad13,1"),
    ("_googlecast._tcp.local.", ["id=6b1c", "md=Chromecast", "fn=Room 12 TV"], "Chromecast"),
    ("_googlecast._tcp.local.", ["md=Google Nest Hub"], "Google Nest Hub"),
    ("_airplay._tcp.local.", ["model=AppleTV11,1", "am=ignored"], "AppleTV11,1"),
    ("_airplay._tcp.local.", ["am=AppleTV3,2"], "AppleTV3,2"),
    ("_raop._tcp.local.", ["am=AudioAccessory5,1"], "AudioAccessory5,1"),
    ("_ipp._tcp.local.", ["ty=HP LaserJet Pro M404n", "product=(other)"], "HP LaserJet Pro M404n"),
    ("_ipps._tcp.local.", ["product=(EPSON ET-4850 Series)"], "EPSON ET-4850 Series"),
    ("_printer._tcp.local.", ["usb_MFG=Brother", "usb_MDL=HL-L2350DW"], "Brother HL-L2350DW"),
    ("_pdl-datastream._tcp.local.", ["usb_MFG=HP", "usb_MDL=HP LaserJet 4000"], "HP LaserJet 4000"),
    ("_ipp._tcp.local.", ["ty=", "product=()", "usb_MDL=LaserJet 4000"], "LaserJet 4000"),   # empty ones skipped
    ("_universal._sub._ipp._tcp.local.", ["ty=Canon MF743C"], "Canon MF743C"),                # a subtype
    ("_device-info._tcp.local.", ["model"], ""),                                              # bare key: no value
    ("_device-info._tcp.local.", ["model=  iPad\t13,1 \x07"], "iPad 13,1"),                   # cleaned
    ("_ssh._tcp.local.", ["model=ignored"], ""),                                              # not a model key here
    ("_workstation._tcp.local.", [], ""),
    ("_unknown._udp.local.", ["md=x"], ""),
])
def test_model_from_txt(service_type, raw, model):
    assert model_from_txt(service_type, entries(*raw)) == model


def test_model_from_recorded_txt():
    def model(name: str, service_type: str) -> str:
        return model_from_txt(service_type, parse_txt(TXT[f"{name}.{service_type}"]))

    assert model(IPAD, "_device-info._tcp.local.") == "iPad13,1"
    assert model(IPAD, "_companion-link._tcp.local.") == "iPad13,1"
    assert model("Chromecast-6b1c29d4", "_googlecast._tcp.local.") == "Chromecast"
    assert model("Room 12 Printer", "_ipp._tcp.local.") == "HP LaserJet Pro M404n"
    assert model("lab-pc-07", "_ssh._tcp.local.") == ""


def test_model_is_capped_and_accepts_any_iterable():
    assert len(model_from_txt("_googlecast._tcp.local.", iter(entries("md=" + "x" * 250)))) == 128
    assert base_service_type("_IPP._TCP.local.") == "_ipp._tcp"


# --- received datagrams -------------------------------------------------------------------

def test_recorded_responses_are_well_formed():
    assert len(RESPONSES) == 6
    for data in RESPONSES:
        assert classify_datagram(data) == DATAGRAM_OK
        message = DNSIncoming(data)
        assert len(record_types(data)) == message.num_answers + message.num_authorities + message.num_additionals


EXPECTED_VERDICTS = {
    "name_too_long": DATAGRAM_MALFORMED, "unknown_label_type": DATAGRAM_MALFORMED,
    "pointer_to_itself": DATAGRAM_MALFORMED, "pointer_loop": DATAGRAM_MALFORMED,
    "pointer_past_end": DATAGRAM_MALFORMED, "truncated_header": DATAGRAM_MALFORMED,
    "truncated_record": DATAGRAM_MALFORMED, "answer_count_lies": DATAGRAM_MALFORMED,
    "label_past_end": DATAGRAM_MALFORMED,
    "txt_overruns_packet": DATAGRAM_BAD_RECORDS, "ptr_target_loops": DATAGRAM_BAD_RECORDS,
    "oversized": DATAGRAM_OVERSIZED,
    # Well formed: their abuse (names, 40 addresses, 300 keys) is caught when records are built.
    "control_characters_in_name": DATAGRAM_OK, "ptr_to_foreign_name": DATAGRAM_OK,
    "forty_addresses": DATAGRAM_OK, "txt_300_keys": DATAGRAM_OK,
}


@pytest.mark.parametrize("name", sorted(EXPECTED_VERDICTS))
def test_hostile_packets_are_classified(name):
    assert classify_datagram(bytes.fromhex(HOSTILE[name])) == EXPECTED_VERDICTS[name]


def test_every_truncation_of_a_recorded_response_is_caught():
    for data in RESPONSES:
        for cut in range(len(data)):
            assert classify_datagram(data[:cut]) != DATAGRAM_OK, cut


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise(data):
    assert classify_datagram(data) in (DATAGRAM_OK, DATAGRAM_MALFORMED, DATAGRAM_BAD_RECORDS)
    record_types(data)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(RESPONSES), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8))
def test_corrupted_recorded_responses_never_raise(data, flips):
    corrupted = bytearray(data)
    for position, value in flips:
        corrupted[position % len(corrupted)] = value
    assert classify_datagram(bytes(corrupted)) in (DATAGRAM_OK, DATAGRAM_MALFORMED, DATAGRAM_BAD_RECORDS)


# --- the tap that counts ---------------------------------------------------------------------

class FakeListener:
    def __init__(self):
        self.forwarded: list[bytes] = []

    def datagram_received(self, data, addr):
        self.forwarded.append(data)


def test_tap_counts_and_drops_malformed_packets_and_forwards_the_rest():
    inner, counters = FakeListener(), MdnsCounters()
    tap = _PacketTap(inner, counters, PacketRateLimiter(), clock=lambda: 100.0)
    for data in RESPONSES:
        tap.datagram_received(data, ("198.18.214.11", 5353))
    for hexdata in HOSTILE.values():
        tap.datagram_received(bytes.fromhex(hexdata), ("198.18.214.20", 5353))
    assert counters.packets_received == 6 + 16
    assert (counters.packets_malformed, counters.packets_bad_records, counters.packets_oversized) == (9, 2, 1)
    assert counters.malformed_total == 12
    # Whole-malformed and oversized packets stop at the tap; broken-record packets go on (their good records count).
    assert len(inner.forwarded) == 6 + 4 + 2
    assert MdnsCounters(packets_malformed=9, packets_bad_records=2, packets_oversized=1).warnings(4096) == [
        "mdns: ignored 12 malformed packets"]


def test_tap_rate_caps_a_flooding_sender_but_not_the_others():
    inner, counters = FakeListener(), MdnsCounters()
    now = [50.0]
    tap = _PacketTap(inner, counters, PacketRateLimiter(total=1000, per_source=100), clock=lambda: now[0])
    flood = bytes.fromhex(HOSTILE["name_too_long"])
    for _ in range(5000):
        tap.datagram_received(flood, ("198.18.214.20", 5353))
    tap.datagram_received(RESPONSES[0], ("198.18.214.11", 5353))
    assert counters.packets_rate_limited == 4900 and counters.packets_malformed == 100
    assert inner.forwarded == [RESPONSES[0]]
    now[0] = 51.0   # a new window
    tap.datagram_received(flood, ("198.18.214.20", 5353))
    assert counters.packets_malformed == 101


def test_rate_limiter_windows_totals_and_source_table_cap():
    limiter = PacketRateLimiter(total=5, per_source=2, max_sources=2)
    assert [limiter.allow("a", 1.0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("b", 1.1) and limiter.allow("b", 1.2)
    assert limiter.allow("c", 1.3)          # beyond two tracked sources: the shared bucket
    assert limiter.allow("d", 1.4) is False  # shares that bucket, and the total of 5 is used up
    assert limiter.allow("a", 2.0)           # next window
    limiter = PacketRateLimiter(total=3, per_source=10)
    assert [limiter.allow(str(i), 7.5) for i in range(4)] == [True, True, True, False]


# --- names and records ------------------------------------------------------------------------

def test_instance_labels_and_name_checks():
    assert instance_label("_ipp._tcp.local.", "Room 12.1 Printer._ipp._tcp.local.") == "Room 12.1 Printer"
    assert instance_label("_ipp._tcp.local.", "Room 12._IPP._tcp.local") == "Room 12"
    assert instance_label("_ipp._tcp.local.", "_ipp._tcp.local.") is None
    assert instance_label("_ipp._tcp.local.", "evil.example.") is None
    assert is_valid_name(f"{IPAD}._device-info._tcp.local.")
    assert not is_valid_name("Bell\x07Ring._ipp._tcp.local.")
    assert not is_valid_name("x\x7f") and not is_valid_name("x\x85") and not is_valid_name("")
    assert is_valid_name("x" * 255) and not is_valid_name("x" * 256)


def resolved_from_recorded() -> list[ResolvedInstance]:
    """What resolving gives, assembled straight from the recorded packets (PTR, SRV, TXT, A)."""
    ptrs, srv, txt, addresses = [], {}, {}, {}
    for data in RESPONSES:
        for record in DNSIncoming(data).answers():
            if record.type == 12:
                ptrs.append((record.name, record.alias))
            elif record.type == 33:
                srv[record.name] = (record.server, record.port)
            elif record.type == 16:
                txt[record.name] = record.text
            elif record.type == 1:
                addresses.setdefault(record.name, []).append(".".join(str(b) for b in record.address))
    return [ResolvedInstance(service_type, name, srv[name][0], srv[name][1],
                             tuple(addresses.get(srv[name][0], ())), txt.get(name, b""))
            for service_type, name in ptrs]


def test_build_services_from_recorded_responses():
    macs = {"198.18.216.11": "3c:22:fb:d6:00:11", "198.18.216.13": "3c:d9:2b:d6:00:13"}
    services, report = build_services(resolved_from_recorded(), AT, macs, max_services=100)
    assert report.invalid_names == report.over_max_services == report.addresses_dropped == 0
    assert [(s.service_type, s.instance_name, s.host, s.port, s.addresses, s.mac) for s in services] == [
        ("_companion-link._tcp.local.", IPAD, "Jane-Does-iPad.local.", 49152, ("198.18.216.11",), "3c:22:fb:d6:00:11"),
        ("_device-info._tcp.local.", IPAD, "Jane-Does-iPad.local.", 0, ("198.18.216.11",), "3c:22:fb:d6:00:11"),
        ("_googlecast._tcp.local.", "Chromecast-6b1c29d4", "6b1c29d4.local.", 8009, ("198.18.216.12",), ""),
        ("_ipp._tcp.local.", "Room 12 Printer", "room-12-printer.local.", 631, ("198.18.216.13",),
         "3c:d9:2b:d6:00:13"),
        ("_ssh._tcp.local.", "lab-pc-07", "lab-pc-07.local.", 22, ("198.18.216.14",), ""),
        ("_workstation._tcp.local.", "lab-pc-07 [00:14:22:d6:00:14]", "lab-pc-07.local.", 9, ("198.18.216.14",), ""),
    ]
    assert all(s.observed_at == AT and s.kind == "mdns" for s in services)
    assert services[1].txt == (TxtEntry("model", b"iPad13,1"), TxtEntry("osxvers", b"21"))


def instance(name: str, service_type: str = "_ipp._tcp.local.", host: str = "h.local.",
             addresses: tuple[str, ...] = ("198.18.214.5",)) -> ResolvedInstance:
    return ResolvedInstance(service_type, f"{name}.{service_type}", host, 631, addresses, b"\x00")


def test_build_services_drops_invalid_names():
    found = [
        instance("ok"),
        instance("x" * 250),                                           # the full name is over 255 characters
        instance("Bell\x07Ring"),                                      # a control character
        instance("tab\there"),
        instance("fine", host="bad\x00host.local."),                   # the SRV target is the problem
        instance("long-host", host="h" * 256),
        ResolvedInstance("_ipp._tcp.local.", "evil.example.", "h.local.", 631, (), b""),   # not of the type
    ]
    services, report = build_services(found, AT, {}, max_services=100)
    assert [s.instance_name for s in services] == ["ok"]
    assert report.invalid_names == 6


def test_build_services_keeps_max_services_round_robin_across_types():
    flood = [instance(f"flood-{i:04d}", "_hcflood._tcp.local.") for i in range(50)]
    good = [instance("Room 12 Printer"), instance("Room 14 Printer"), instance("TV", "_googlecast._tcp.local.")]
    services, report = build_services(flood[:10] + good + flood[10:], AT, {}, max_services=8)
    names = {s.instance_name for s in services}
    assert len(services) == 8 and report.over_max_services == 53 - 8
    assert {"Room 12 Printer", "Room 14 Printer", "TV"} <= names
    assert {f"flood-{i:04d}" for i in range(5)} <= names       # within a type, first found first kept


def test_build_services_deduplicates_and_caps_addresses():
    many = tuple(f"198.18.211.{i}" for i in range(1, 41))
    mixed = ("fe80::1%eth0", "198.18.214.9", "not-an-ip", "198.18.214.9", "2001:db8::1", "198.18.214.8")
    services, report = build_services([instance("many", addresses=many), instance("mixed", addresses=mixed)], AT,
                                      {"198.18.214.8": "00:14:22:00:00:08"}, max_services=10)
    by_name = {s.instance_name: s for s in services}
    assert by_name["many"].addresses == many[:MAX_ADDRESSES]
    assert by_name["mixed"].addresses == ("198.18.214.9", "198.18.214.8", "fe80::1", "2001:db8::1")
    assert by_name["mixed"].mac == "00:14:22:00:00:08"
    assert report.addresses_dropped == (40 - MAX_ADDRESSES) + 1


def test_build_services_merges_one_instance_seen_twice():
    services, _ = build_services([instance("a"), instance("A")], AT, {}, max_services=10)
    assert len(services) == 1


def test_hostile_service_packets_hit_the_caps():
    """The well-formed but abusive packets of the hostile sender, assembled and built."""
    found = []
    for name in ("control_characters_in_name", "forty_addresses", "txt_300_keys"):
        message = DNSIncoming(bytes.fromhex(HOSTILE[name]))
        records = message.answers()
        ptr = next(r for r in records if r.type == 12)
        srv = next(r for r in records if r.type == 33)
        txt = next(r for r in records if r.type == 16)
        addresses = tuple(".".join(str(b) for b in r.address) for r in records if r.type == 1)
        found.append(ResolvedInstance(ptr.name, ptr.alias, srv.server, srv.port, addresses, txt.text))
    services, report = build_services(found, AT, {}, max_services=10)
    assert [s.instance_name for s in services] == ["huge-txt", "many-addresses"]
    assert report.invalid_names == 1
    assert len(services[0].txt) == MAX_TXT_ENTRIES and len(services[1].addresses) == MAX_ADDRESSES


# --- MAC binding ---------------------------------------------------------------------------------

PROC_NET_ARP = """IP address       HW type     Flags       HW address            Mask     Device
198.18.214.14    0x1         0x2         00:14:22:D6:00:14     *        hmbr
198.18.214.15    0x1         0x0         00:00:00:00:00:00     *        hmbr
198.18.214.16    0x1         0x2         00:14:22:d6:00:16     *        eth0
198.18.214.17    0x1         0x2         01:00:5e:00:00:fb     *        hmbr
garbage line
198.18.214.18    0x1         0xZ         00:14:22:d6:00:18     *        hmbr
"""


def test_neighbour_table_keeps_complete_unicast_entries_on_our_interfaces():
    assert parse_neighbour_table(PROC_NET_ARP, ["hmbr"]) == {"198.18.214.14": "00:14:22:d6:00:14"}
    assert parse_neighbour_table("", ["hmbr"]) == {}


def test_arp_sightings_come_before_the_neighbour_table():
    earlier = [
        ArpSighting("3c:22:fb:00:00:14", "198.18.214.14", "", False, "hmbr", AT),
        ArpSighting("3c:22:fb:00:00:99", "198.18.214.99", "", False, "eth1", AT),   # another interface
    ]
    assert mac_table(earlier, ["hmbr"], PROC_NET_ARP) == {"198.18.214.14": "3c:22:fb:00:00:14"}


# --- the scanner's switches ------------------------------------------------------------------------

def test_registered_and_runs_only_in_site_mode_with_an_interface():
    # It browses beside the sweep (no `after`): the sweep's MACs are joined by bind_macs afterwards.
    assert SCANNERS["mdns"] is MdnsScanner and not getattr(MdnsScanner, "after", ())
    scanner = MdnsScanner()
    with_interface = AgentConfig(mdns=MdnsSettings(interfaces=("eth0",)))
    assert scanner.can_run(ScanContext(with_interface))
    assert not scanner.can_run(ScanContext(AgentConfig()))                       # no interface at all
    assert not scanner.can_run(ScanContext(AgentConfig(mdns=MdnsSettings(enabled=False, interfaces=("eth0",)))))
    assert not scanner.can_run(ScanContext(AgentConfig(mode="endpoint", mdns=MdnsSettings(interfaces=("eth0",)))))
    import ipaddress
    from headcount.agent.config import ArpSettings

    from_arp = AgentConfig(arp=ArpSettings(subnets=(SubnetTarget(ipaddress.IPv4Network("198.18.214.0/24"), "br0"),)))
    assert scanner.can_run(ScanContext(from_arp))


def test_warnings_are_counts_only_and_absent_when_all_was_well():
    assert MdnsCounters(packets_received=40, services_returned=6).warnings(4096) == []
    lines = MdnsCounters(packets_rate_limited=7, services_over_cap=3, instances_untracked=2, invalid_names=1,
                         addresses_dropped=24).warnings(12)
    assert lines == [
        "mdns: dropped 7 packets over the rate cap (500/s per sender, 5000/s in all)",
        "mdns: dropped 5 services over max_services (12)",
        "mdns: ignored 1 services with invalid names",
        "mdns: ignored 24 addresses (invalid, or over 16 per service)",
    ]


def test_services_get_their_mac_from_the_same_scans_arp_sightings():
    from datetime import datetime, timezone

    from headcount.agent.model import ArpSighting, MdnsService
    from headcount.agent.scanners.mdns import bind_macs

    at = datetime(2026, 11, 30, tzinfo=timezone.utc)
    arp = ArpSighting(mac="3c:22:fb:00:00:07", ip="198.18.210.7", vendor="Apple, Inc.", locally_administered=False,
                      interface="br0", observed_at=at)
    printer = MdnsService(service_type="_ipp._tcp.local.", instance_name="Room 12", host="room-12.local.", port=631,
                          addresses=("198.18.210.9", "198.18.210.7"), txt=(), observed_at=at)
    elsewhere = MdnsService(service_type="_ipp._tcp.local.", instance_name="Room 13", host="room-13.local.", port=631,
                            addresses=("198.18.210.99",), txt=(), observed_at=at)
    known = MdnsService(service_type="_ipp._tcp.local.", instance_name="Room 14", host="room-14.local.", port=631,
                        addresses=("198.18.210.7",), txt=(), observed_at=at, mac="00:26:ab:00:00:01")
    bound = bind_macs([printer, arp, elsewhere, known])
    assert [getattr(o, "mac") for o in bound] == ["3c:22:fb:00:00:07", "3c:22:fb:00:00:07", "", "00:26:ab:00:00:01"]

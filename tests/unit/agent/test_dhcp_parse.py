"""The pure DHCP and ARP parsers of passive listening, on recorded frames and on hostile ones.

The known answers are real frames: tcpdump on a bridge joining dnsmasq 2.90,
busybox udhcpc and ISC dhclient in network namespaces (data/dhcp_frames.json
says how; tests/integration/dhcp_lan.py `capture` regenerates it). The hostile
cases start from those frames and break one thing at a time; the property
tests throw random and mutated bytes at the parser, which may only ever
return a sighting or None, or raise MalformedDhcpError.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest
from headcount.agent.dhcp import (MalformedDhcpError, MalformedFrameError, clean_text, parse_arp_frame,
                                  parse_dhcp_frame)
from headcount.agent.errors import ScanError
from headcount.agent.model import DhcpSighting
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

AT = datetime(2026, 11, 30, 7, 45, tzinfo=timezone.utc)
RECORDED = json.loads((Path(__file__).parent / "data" / "dhcp_frames.json").read_text())
FRAMES = [bytes.fromhex(text) for text in RECORDED["frames"]]
UDHCPC, DHCLIENT, REBOOTING = RECORDED["udhcpc"], RECORDED["dhclient"], RECORDED["rebooting"]
SERVER = RECORDED["server"]
LEASE_NETWORK_PREFIX = "198.18.200."

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(frame: bytes) -> DhcpSighting | None:
    return parse_dhcp_frame(frame, "br0", AT)


def recorded(mac: str, message_type: str) -> list[DhcpSighting]:
    found = [s for s in map(parse, FRAMES) if s is not None and s.mac == mac and s.message_type == message_type]
    assert found, f"no recorded {message_type} for {mac}"
    return found


# ---------------------------------------------------------------- building frames from the recorded ones

DISCOVER = next(f for f in FRAMES if (s := parse(f)) and s.mac == UDHCPC["mac"] and s.message_type == "DISCOVER")
ETHERNET, IP_HEADER = DISCOVER[:14], DISCOVER[14:34]
BOOTP_HEADER = DISCOVER[42:42 + 236]          # op .. file of the recorded udhcpc DISCOVER
COOKIE = b"\x63\x82\x53\x63"


def wrap(message: bytes, *, ethernet: bytes = ETHERNET, ip_total: int | None = None,
         udp_length: int | None = None) -> bytes:
    """The recorded DISCOVER's Ethernet/IPv4/UDP headers around `message`, lengths fixed up (or forced)."""
    udp = struct.pack("!HHHH", 68, 67, 8 + len(message) if udp_length is None else udp_length, 0) + message
    ip = bytearray(IP_HEADER)
    ip[2:4] = (20 + len(udp) if ip_total is None else ip_total).to_bytes(2, "big")
    return ethernet + bytes(ip) + udp


def message(options: bytes, *, header: bytes = BOOTP_HEADER, cookie: bytes = COOKIE) -> bytes:
    return header + cookie + options


def header_with(**fields: int | bytes) -> bytes:
    """The recorded BOOTP header with some fields replaced: op, htype, hlen, ciaddr, yiaddr, chaddr, sname, file."""
    header = bytearray(BOOTP_HEADER)
    offsets = {"op": (0, 1), "htype": (1, 1), "hlen": (2, 1), "ciaddr": (12, 4), "yiaddr": (16, 4),
               "chaddr": (28, 16), "sname": (44, 64), "file": (108, 128)}
    for name, value in fields.items():
        start, size = offsets[name]
        raw = value.to_bytes(size, "big") if isinstance(value, int) else value.ljust(size, b"\0")
        assert len(raw) == size
        header[start:start + size] = raw
    return bytes(header)


def option(code: int, value: bytes) -> bytes:
    return bytes((code, len(value))) + value


DISCOVER_TYPE = option(53, b"\x01")


# ---------------------------------------------------------------- recorded exchanges


def test_every_recorded_frame_is_dhcp_or_arp_and_nothing_is_malformed():
    kinds = []
    for frame in FRAMES:
        dhcp, arp = parse(frame), parse_arp_frame(frame)
        assert (dhcp is None) != (arp is None), frame.hex()
        kinds.append("dhcp" if dhcp else "arp")
    assert kinds.count("dhcp") >= 14 and kinds.count("arp") >= 3


def test_udhcpc_discover_carries_hostname_vendor_class_client_id_and_fingerprint():
    (discover,) = recorded(UDHCPC["mac"], "DISCOVER")[:1]
    assert discover == DhcpSighting(
        mac="3c:22:fb:c8:00:0a", ip="", hostname="cart07-ipad", vendor_class="udhcp-test-vendor",
        client_id=bytes.fromhex("013c22fbc8000a"), parameter_request_list=(1, 3, 6, 12, 15, 28, 42),
        message_type="DISCOVER", interface="br0", observed_at=AT, requested_ip="", source="client",
        scanner="passive")
    assert discover.fingerprint == "1,3,6,12,15,28,42"


def test_udhcpc_request_names_the_offered_address_and_the_server_acks_it():
    (offer,) = recorded(UDHCPC["mac"], "OFFER")
    (request,) = recorded(UDHCPC["mac"], "REQUEST")
    (ack,) = recorded(UDHCPC["mac"], "ACK")
    assert offer.source == ack.source == "server" and request.source == "client"
    assert offer.ip.startswith(LEASE_NETWORK_PREFIX)
    assert request.requested_ip == offer.ip == ack.ip
    assert request.ip == ""                  # ciaddr is 0.0.0.0 while selecting
    assert request.hostname == "cart07-ipad" and request.client_id == bytes.fromhex(UDHCPC["client_id"])
    assert offer.parameter_request_list == () and offer.vendor_class == ""


def test_dhclient_exchange_and_release():
    (discover,) = recorded(DHCLIENT["mac"], "DISCOVER")
    assert (discover.hostname, discover.vendor_class, discover.client_id) == (
        "lab3-desktop-12", "dhclient-test-vendor", b"")             # dhclient sends no option 61 unless told
    assert discover.fingerprint == "1,28,2,3,15,6,119,12,26,121,42"
    (ack,) = recorded(DHCLIENT["mac"], "ACK")
    assert ack.hostname == "lab3-desktop-12"                          # dnsmasq echoes the name it will use
    (release,) = recorded(DHCLIENT["mac"], "RELEASE")
    assert release.source == "client" and release.ip == ack.ip        # a RELEASE names the lease in ciaddr


def test_init_reboot_request_for_another_lan_is_nakked():
    requests = recorded(REBOOTING["mac"], "REQUEST")
    assert requests[0].requested_ip == REBOOTING["remembered_ip"] and requests[0].hostname == ""
    (nak,) = recorded(REBOOTING["mac"], "NAK")
    assert nak.source == "server" and nak.ip == "" and nak.requested_ip == ""
    (ack,) = recorded(REBOOTING["mac"], "ACK")
    assert ack.ip.startswith(LEASE_NETWORK_PREFIX)


def test_recorded_arp_frames_give_each_host_and_its_address():
    heard = {parse_arp_frame(frame) for frame in FRAMES} - {None}
    leases = {s.mac: s.ip for s in map(parse, FRAMES) if s and s.message_type == "ACK"}
    assert (UDHCPC["mac"], leases[UDHCPC["mac"]]) in heard
    assert (DHCLIENT["mac"], leases[DHCLIENT["mac"]]) in heard
    assert (SERVER["mac"], SERVER["ip"]) in heard


def test_vlan_tagged_frames_parse_like_untagged_ones():
    tag = b"\x81\x00\x00\x64"                 # 802.1Q, VLAN 100
    tagged = DISCOVER[:12] + tag + DISCOVER[12:]
    assert parse(tagged) == parse(DISCOVER)
    arp = next(f for f in FRAMES if parse_arp_frame(f))
    assert parse_arp_frame(arp[:12] + tag + arp[12:]) == parse_arp_frame(arp)
    # Two stacked tags (QinQ) are not unwrapped: that frame is simply not ours.
    assert parse(DISCOVER[:12] + tag + tag + DISCOVER[12:]) is None


# ---------------------------------------------------------------- building blocks on synthetic messages


def test_rebuilt_discover_parses_like_the_recording():
    options = DISCOVER[42 + 240:]
    assert parse(wrap(message(options))) == parse(DISCOVER)


@pytest.mark.parametrize("code, name", [(1, "DISCOVER"), (2, "OFFER"), (3, "REQUEST"), (4, "DECLINE"), (5, "ACK"),
                                        (6, "NAK"), (7, "RELEASE"), (8, "INFORM"), (42, "TYPE42")])
def test_message_type_names(code, name):
    assert parse(wrap(message(option(53, bytes([code])) + b"\xff"))).message_type == name


def test_plain_bootp_without_message_type():
    assert parse(wrap(message(b"\xff"))).message_type == "BOOTP"


def test_address_comes_from_yiaddr_for_offers_and_acks_else_ciaddr():
    given_out, own = (198, 18, 200, 7), (198, 18, 200, 8)
    reply = header_with(op=2, yiaddr=bytes(given_out), ciaddr=bytes(own))
    assert parse(wrap(message(option(53, b"\x02") + b"\xff", header=reply))).ip == "198.18.200.7"
    assert parse(wrap(message(option(53, b"\x05") + b"\xff", header=reply))).ip == "198.18.200.7"
    assert parse(wrap(message(option(53, b"\x06") + b"\xff", header=reply))).ip == "198.18.200.8"
    renewing = header_with(ciaddr=bytes(own))
    sighting = parse(wrap(message(option(53, b"\x03") + option(50, bytes(given_out)) + b"\xff", header=renewing)))
    assert (sighting.ip, sighting.requested_ip, sighting.source) == ("198.18.200.8", "198.18.200.7", "client")
    ack_to_inform = header_with(op=2, ciaddr=bytes(own))              # yiaddr 0: the client already has one
    assert parse(wrap(message(option(53, b"\x05") + b"\xff", header=ack_to_inform))).ip == "198.18.200.8"


def test_option_overload_moves_options_into_file_and_sname():
    header = header_with(file=option(12, b"from-file") + b"\xff", sname=option(60, b"from-sname") + b"\xff")
    both = parse(wrap(message(DISCOVER_TYPE + option(52, b"\x03") + b"\xff", header=header)))
    assert (both.hostname, both.vendor_class, both.message_type) == ("from-file", "from-sname", "DISCOVER")
    file_only = parse(wrap(message(DISCOVER_TYPE + option(52, b"\x01") + b"\xff", header=header)))
    assert (file_only.hostname, file_only.vendor_class) == ("from-file", "")
    # Without option 52 the same bytes are a boot file name, not options.
    plain = parse(wrap(message(DISCOVER_TYPE + b"\xff", header=header)))
    assert (plain.hostname, plain.vendor_class) == ("", "")


def test_repeated_options_are_concatenated_and_pads_skipped():
    options = b"\0\0" + option(12, b"room-") + b"\0" + option(12, b"12") + option(55, b"\x01\x03") + \
        option(55, b"\x06") + DISCOVER_TYPE + b"\xff" + option(12, b"after-end-ignored")
    sighting = parse(wrap(message(options)))
    assert sighting.hostname == "room-12" and sighting.parameter_request_list == (1, 3, 6)


def test_missing_end_option_is_tolerated():
    assert parse(wrap(message(DISCOVER_TYPE + option(12, b"no-end")))).hostname == "no-end"


def test_frames_that_are_not_dhcp_are_none():
    arp = next(f for f in FRAMES if parse_arp_frame(f))
    assert parse(arp) is None
    assert parse(b"") is None and parse(DISCOVER[:13]) is None
    tcp = bytearray(DISCOVER)
    tcp[14 + 9] = 6
    assert parse(bytes(tcp)) is None
    other_ports = bytearray(DISCOVER)
    other_ports[34:38] = struct.pack("!HH", 5353, 5353)
    assert parse(bytes(other_ports)) is None
    fragment = bytearray(DISCOVER)
    fragment[14 + 6:14 + 8] = b"\x20\x00"        # more fragments follow
    assert parse(bytes(fragment)) is None
    infiniband = wrap(message(DISCOVER_TYPE + b"\xff", header=header_with(htype=32, hlen=0)))
    assert parse(infiniband) is None


# ---------------------------------------------------------------- hostile input


def malformed(frame: bytes, match: str) -> None:
    with pytest.raises(MalformedDhcpError, match=match):
        parse(frame)


def test_option_length_past_the_end():
    malformed(wrap(message(DISCOVER_TYPE + b"\x0c\xf0short")), "runs .* past the end")
    malformed(wrap(message(DISCOVER_TYPE + b"\x0c")), "no length byte")
    header = header_with(file=b"\x0c\x7f" + b"x" * 126)                   # 2 + 127 > 128 bytes of file
    malformed(wrap(message(DISCOVER_TYPE + option(52, b"\x01") + b"\xff", header=header)), "file field")


def test_ten_thousand_byte_hostname_is_capped():
    # One option holds 255 bytes; RFC 3396 concatenation lets a sender go on and on.
    huge = b"".join(option(12, b"a" * 250) for _ in range(40))
    frame = wrap(message(DISCOVER_TYPE + huge + b"\xff"))
    assert len(frame) > 10_000
    sighting = parse(frame)
    assert sighting.hostname == "a" * 255
    wide = b"".join(option(12, "é".encode() * 125) for _ in range(40))   # 2 bytes a character
    assert parse(wrap(message(DISCOVER_TYPE + wide + b"\xff"))).hostname == "é" * 255
    many = b"".join(option(55, bytes(range(1, 251))) for _ in range(4)) + b"".join(
        option(61, b"\x01" * 250) for _ in range(4))
    capped = parse(wrap(message(DISCOVER_TYPE + many + b"\xff")))
    assert len(capped.parameter_request_list) == 255 and len(capped.client_id) == 255


def test_absurd_frame_size_is_refused_before_parsing():
    malformed(DISCOVER + b"\0" * 70_000, "larger than any IPv4 datagram")


def test_zero_length_options():
    options = option(12, b"") + option(60, b"") + option(61, b"") + option(55, b"") + DISCOVER_TYPE + b"\xff"
    sighting = parse(wrap(message(options)))
    assert (sighting.hostname, sighting.vendor_class, sighting.client_id, sighting.parameter_request_list) == (
        "", "", b"", ())
    malformed(wrap(message(option(53, b"") + b"\xff")), "option 53")
    malformed(wrap(message(DISCOVER_TYPE + option(50, b"") + b"\xff")), "option 50")
    malformed(wrap(message(DISCOVER_TYPE + option(52, b"") + b"\xff")), "option 52")


def test_missing_or_wrong_magic_cookie():
    malformed(wrap(message(DISCOVER_TYPE + b"\xff", cookie=b"\0\0\0\0")), "magic cookie")
    malformed(wrap(BOOTP_HEADER), "truncated")                             # BOOTP with no vendor area


def test_truncated_header_and_lying_lengths():
    malformed(wrap(BOOTP_HEADER[:100]), "truncated at 100")
    malformed(DISCOVER[:14 + 12], "IPv4 header truncated")
    malformed(DISCOVER[:14 + 20 + 5], "total length")                      # frame cut, IP length still says 328
    malformed(wrap(message(b"\xff"), ip_total=19), "total length")
    malformed(wrap(message(b"\xff"), ip_total=22), "UDP header truncated")
    malformed(wrap(message(b"\xff"), udp_length=7), "UDP length 7")
    malformed(wrap(message(b"\xff"), udp_length=5000), "UDP length 5000")
    bad_ihl = bytearray(DISCOVER)
    bad_ihl[14] = 0x44
    malformed(bytes(bad_ihl), "header length 16")
    version_6 = bytearray(DISCOVER)
    version_6[14] = 0x65
    malformed(bytes(version_6), "IP version 6")
    # Ethernet padding after the datagram is not part of it.
    assert parse(DISCOVER + b"\0" * 30) == parse(DISCOVER)


def test_every_truncation_of_a_real_frame_is_none_or_malformed():
    for frame in FRAMES:
        for end in range(len(frame)):
            try:
                result = parse(frame[:end])
            except MalformedDhcpError:
                continue
            assert result is None, (frame.hex(), end)


@pytest.mark.parametrize("fields, match", [
    ({"hlen": 16}, "hardware address length 16"),
    ({"hlen": 0}, "hardware address length 0"),
    ({"op": 3}, "op 3"),
    ({"chaddr": bytes.fromhex("ffffffffffff")}, "group or all-zero"),
    ({"chaddr": bytes(6)}, "group or all-zero"),
])
def test_bad_bootp_header_fields(fields, match):
    malformed(wrap(message(DISCOVER_TYPE + b"\xff", header=header_with(**fields))), match)


def test_bad_overload_values():
    for value in (b"\x00", b"\x04", b"\x01\x02"):
        malformed(wrap(message(DISCOVER_TYPE + option(52, value) + b"\xff")), "option 52")


def test_invalid_utf8_and_control_characters_are_cleaned():
    raw = b"caf\xe9\xff-\x00\x1b[31mroom\x07\xe2\x80\xae12\x00\x00"          # latin-1 é, ESC, BEL, RLO, NULs
    sighting = parse(wrap(message(DISCOVER_TYPE + option(12, raw) + option(60, b"\x00\x00MSFT 5.0\x00") + b"\xff")))
    assert sighting.hostname == "caf\ufffd\ufffd-[31mroom12"
    assert sighting.vendor_class == "MSFT 5.0"
    # The client id stays raw bytes: it is an identifier, not text.
    raw_id = parse(wrap(message(DISCOVER_TYPE + option(61, b"\x00\xff\x1b") + b"\xff"))).client_id
    assert raw_id == b"\x00\xff\x1b"


def test_clean_text():
    assert clean_text(b"  plain  ") == "plain"
    assert clean_text("Ünïcödé-名前".encode()) == "Ünïcödé-名前"
    assert clean_text(b"\xc3") == "\ufffd"                                 # a cut multi-byte character
    assert clean_text(b"x" * 5000) == "x" * 255


def test_malformed_dhcp_is_a_scan_error():
    assert issubclass(MalformedDhcpError, MalformedFrameError) and issubclass(MalformedFrameError, ScanError)


# ---------------------------------------------------------------- passive ARP


def arp_frame(opcode: int, sender_mac: str, sender_ip: str, *, lengths: bytes = b"\x06\x04",
              hardware: int = 1, protocol: int = 0x0800) -> bytes:
    mac = bytes.fromhex(sender_mac.replace(":", ""))
    body = struct.pack("!HH", hardware, protocol) + lengths + struct.pack("!H", opcode) + mac + bytes(
        int(part) for part in sender_ip.split(".")) + b"\0" * 6 + bytes((198, 18, 200, 1))
    return b"\xff" * 6 + mac + b"\x08\x06" + body


def test_arp_requests_and_replies_both_count():
    assert parse_arp_frame(arp_frame(1, "3C:22:FB:00:00:01", "198.18.200.7")) == ("3c:22:fb:00:00:01", "198.18.200.7")
    assert parse_arp_frame(arp_frame(2, "3c:22:fb:00:00:01", "198.18.200.7")) == ("3c:22:fb:00:00:01", "198.18.200.7")


@pytest.mark.parametrize("frame", [
    arp_frame(1, "3c:22:fb:00:00:01", "0.0.0.0"),            # RFC 5227 probe: the address is not theirs yet
    arp_frame(1, "01:00:5e:00:00:01", "198.18.200.7"),       # group MAC
    arp_frame(1, "00:00:00:00:00:00", "198.18.200.7"),
    arp_frame(1, "3c:22:fb:00:00:01", "255.255.255.255"),
    arp_frame(1, "3c:22:fb:00:00:01", "224.0.0.1"),
    arp_frame(1, "3c:22:fb:00:00:01", "127.0.0.1"),
    arp_frame(3, "3c:22:fb:00:00:01", "198.18.200.7"),       # RARP request
    arp_frame(1, "3c:22:fb:00:00:01", "198.18.200.7", hardware=6),
    arp_frame(1, "3c:22:fb:00:00:01", "198.18.200.7", protocol=0x86DD),
    DISCOVER,
    b"",
])
def test_arp_frames_that_name_no_host_are_none(frame):
    assert parse_arp_frame(frame) is None


def test_broken_arp_is_malformed():
    with pytest.raises(MalformedFrameError, match="truncated"):
        parse_arp_frame(arp_frame(1, "3c:22:fb:00:00:01", "198.18.200.7")[:30])
    with pytest.raises(MalformedFrameError, match="6/4"):
        parse_arp_frame(arp_frame(1, "3c:22:fb:00:00:01", "198.18.200.7", lengths=b"\x08\x04"))


# ---------------------------------------------------------------- properties


def check_result(result) -> None:
    """A sighting is well formed whatever the input was."""
    if result is None:
        return
    assert isinstance(result, DhcpSighting)
    assert len(result.mac) == 17 and result.mac == result.mac.lower() and int(result.mac[:2], 16) & 1 == 0
    for text in (result.hostname, result.vendor_class):
        assert len(text) <= 255
        assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)
    assert len(result.client_id) <= 255 and len(result.parameter_request_list) <= 255
    assert result.source in ("client", "server")


def parse_or_malformed(frame: bytes) -> None:
    try:
        result = parse(frame)
    except MalformedDhcpError:
        return
    check_result(result)


@FUZZ
@given(st.binary(max_size=1600))
def test_fuzz_random_frames(frame):
    parse_or_malformed(frame)
    try:
        result = parse_arp_frame(frame)
    except MalformedFrameError:
        return
    assert result is None or (isinstance(result, tuple) and len(result) == 2)


@FUZZ
@given(st.binary(max_size=1400))
def test_fuzz_random_dhcp_payloads_in_real_headers(payload):
    parse_or_malformed(wrap(payload))
    parse_or_malformed(wrap(BOOTP_HEADER + COOKIE + payload))
    parse_or_malformed(wrap(header_with(file=payload[:128], sname=payload[128:192])
                            + COOKIE + option(52, b"\x03") + payload[192:]))


@FUZZ
@given(st.sampled_from(range(len(FRAMES))), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)),
                                                      min_size=1, max_size=12),
       st.integers(0, 400), st.binary(max_size=40))
def test_fuzz_mutated_recorded_frames(index, changes, cut, inserted):
    frame = bytearray(FRAMES[index])
    for position, value in changes:
        if position < len(frame):
            frame[position] = value
    parse_or_malformed(bytes(frame))
    parse_or_malformed(bytes(frame[:cut]) + inserted + bytes(frame[cut:]))
    parse_or_malformed(bytes(frame[:cut]))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300)), max_size=20))
def test_fuzz_option_lists(options):
    """Options with arbitrary codes and values, each with a length byte that may lie."""
    raw = b"".join(bytes((code, min(len(value) + (code % 3) - 1, 255) % 256)) + value[:255]
                   for code, value in options)
    parse_or_malformed(wrap(message(raw)))

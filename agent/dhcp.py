"""Pure parsers for what the passive listener hears: DHCP and ARP, from whole Ethernet frames.

No I/O here: agent/passive.py reads frames from raw sockets and hands them to
`parse_dhcp_frame` and `parse_arp_frame`. The bytes come from anyone on the
LAN, including a broken or hostile host, so every length is checked before it
is used, and anything that does not add up raises MalformedDhcpError (or, for
ARP, MalformedFrameError), which the listener counts and otherwise ignores.
A frame that is well formed but simply not for us (another protocol, an IP
fragment, a non-Ethernet DHCP client) is None, not an error.

What DHCP clients say about themselves (option 12 host name, 60 vendor class,
61 client id, 55 parameter request list) is the best passive evidence of what
a device is. Host names are often a student's name, so they are returned to
the caller (who applies the site's name policy) and never logged here.
"""

from __future__ import annotations

import socket
import unicodedata
from datetime import datetime

from .errors import ScanError
from .model import DhcpSighting

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_VLAN = 0x8100          # 802.1Q: one tag is unwrapped; stacked (QinQ) tags are not ours to read
ETHERNET_HEADER = 14
VLAN_TAG = 4
IPPROTO_UDP = 17
DHCP_SERVER_PORT = 67
DHCP_CLIENT_PORT = 68
# An IPv4 datagram is at most 65,535 bytes, plus Ethernet, a VLAN tag and a frame check
# sequence: anything longer did not come off a wire, and is refused before any work.
MAX_FRAME = 65535 + ETHERNET_HEADER + VLAN_TAG + 4

BOOTREQUEST, BOOTREPLY = 1, 2
HTYPE_ETHERNET = 1
BOOTP_FIXED_HEADER = 236         # op .. file, before the magic cookie
MAGIC_COOKIE = bytes((99, 130, 83, 99))
OPTIONS_START = BOOTP_FIXED_HEADER + len(MAGIC_COOKIE)
SNAME = slice(44, 108)           # 64 bytes; may carry options when option 52 says so
FILE = slice(108, 236)           # 128 bytes; likewise

OPTION_PAD, OPTION_END = 0, 255
OPTION_HOSTNAME = 12
OPTION_REQUESTED_IP = 50
OPTION_OVERLOAD = 52
OPTION_MESSAGE_TYPE = 53
OPTION_PARAMETER_REQUEST_LIST = 55
OPTION_VENDOR_CLASS = 60
OPTION_CLIENT_ID = 61

MESSAGE_TYPES = {
    1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE", 8: "INFORM",
    # RFC 3203 and RFC 4388: rare on a school LAN, but named rather than shown as numbers.
    9: "FORCERENEW", 10: "LEASEQUERY", 11: "LEASEUNASSIGNED", 12: "LEASEUNKNOWN", 13: "LEASEACTIVE",
}
NO_MESSAGE_TYPE = "BOOTP"        # a plain BOOTP packet (old printers and PXE ROMs still send them)

# Text and byte fields are capped: one device must not be able to make every
# later stage (the de-duplication keys, the wire, the database) carry kilobytes.
MAX_TEXT = 255
MAX_CLIENT_ID = 255
MAX_PARAMETERS = 255


class MalformedFrameError(ScanError):
    """Bytes heard on the wire are not a well-formed frame of the protocol they claim to be."""


class MalformedDhcpError(MalformedFrameError):
    """A frame addressed to the DHCP ports is not a well-formed IPv4/UDP/DHCP message."""


def parse_dhcp_frame(frame: bytes, interface: str, observed_at: datetime) -> DhcpSighting | None:
    """The DHCP message in an Ethernet frame, as a sighting of its client; None when it is not DHCP.

    Raises MalformedDhcpError when the frame claims to be IPv4/UDP to or from
    port 67/68 but its headers or the DHCP message inside do not add up.
    """
    if len(frame) > MAX_FRAME:
        raise MalformedDhcpError(f"frame of {len(frame)} bytes is larger than any IPv4 datagram")
    ethertype, offset = _ethertype(frame)
    if ethertype != ETHERTYPE_IPV4:
        return None
    payload = _udp_payload(frame, offset)
    if payload is None:
        return None
    return _parse_bootp(payload, interface, observed_at)


def parse_arp_frame(frame: bytes) -> tuple[str, str] | None:
    """(sender MAC, sender IPv4) of an ARP request or reply, for passive listening.

    None for anything that is not Ethernet/IPv4 ARP, for probes (sender
    0.0.0.0, RFC 5227: the host does not own the address yet) and for
    senders that cannot be a host (group or all-zero MAC, multicast or
    broadcast IP). Raises MalformedFrameError for a truncated ARP packet.
    """
    ethertype, offset = _ethertype(frame)
    if ethertype != ETHERTYPE_ARP:
        return None
    arp = frame[offset:offset + 28]
    if len(arp) < 28:
        raise MalformedFrameError(f"ARP packet truncated at {len(arp)} of 28 bytes")
    hardware, protocol = int.from_bytes(arp[0:2], "big"), int.from_bytes(arp[2:4], "big")
    hardware_len, protocol_len = arp[4], arp[5]
    if hardware != HTYPE_ETHERNET or protocol != ETHERTYPE_IPV4:
        return None   # ARP for another link or protocol (e.g. over IEEE 1394): nothing to count
    if hardware_len != 6 or protocol_len != 4:
        raise MalformedFrameError(f"Ethernet/IPv4 ARP with address lengths {hardware_len}/{protocol_len}, not 6/4")
    if int.from_bytes(arp[6:8], "big") not in (1, 2):
        return None   # RARP and InARP opcodes say nothing about the sender's IPv4 address
    sender_mac, sender_ip = arp[8:14], arp[14:18]
    if not _is_unicast_mac(sender_mac) or not _is_host_ip(sender_ip):
        return None
    return _mac_text(sender_mac), socket.inet_ntoa(sender_ip)


# ---------------------------------------------------------------- layers


def _ethertype(frame: bytes) -> tuple[int, int]:
    """(ethertype, offset of the payload), looking through one 802.1Q tag; (-1, 0) when too short."""
    if len(frame) < ETHERNET_HEADER:
        return -1, 0
    ethertype = int.from_bytes(frame[12:14], "big")
    if ethertype != ETHERTYPE_VLAN:
        return ethertype, ETHERNET_HEADER
    if len(frame) < ETHERNET_HEADER + VLAN_TAG:
        return -1, 0
    return int.from_bytes(frame[16:18], "big"), ETHERNET_HEADER + VLAN_TAG


def _udp_payload(frame: bytes, offset: int) -> bytes | None:
    """The UDP payload of an IPv4 datagram to or from the DHCP ports; None when it is something else."""
    header = frame[offset:offset + 20]
    if len(header) < 20:
        raise MalformedDhcpError(f"IPv4 header truncated at {len(header)} of 20 bytes")
    version, header_len = header[0] >> 4, (header[0] & 0x0F) * 4
    if version != 4:
        raise MalformedDhcpError(f"IPv4 ethertype carrying IP version {version}")
    if header_len < 20:
        raise MalformedDhcpError(f"IPv4 header length {header_len} is shorter than 20")
    total_len = int.from_bytes(header[2:4], "big")
    # Ethernet pads short frames to 60 bytes, so the datagram may be shorter than what
    # follows the header, never longer.
    if total_len < header_len or offset + total_len > len(frame):
        raise MalformedDhcpError(f"IPv4 total length {total_len} does not fit the {len(frame) - offset} bytes "
                                 f"received (header {header_len})")
    if header[9] != IPPROTO_UDP:
        return None
    if int.from_bytes(header[6:8], "big") & 0x3FFF:
        return None   # a fragment: the DHCP message is not whole here, and no DHCP stack fragments
    datagram = frame[offset + header_len:offset + total_len]
    if len(datagram) < 8:
        raise MalformedDhcpError(f"UDP header truncated at {len(datagram)} of 8 bytes")
    source_port, destination_port = int.from_bytes(datagram[0:2], "big"), int.from_bytes(datagram[2:4], "big")
    if not {source_port, destination_port} & {DHCP_SERVER_PORT, DHCP_CLIENT_PORT}:
        return None
    udp_len = int.from_bytes(datagram[4:6], "big")
    if udp_len < 8 or udp_len > len(datagram):
        raise MalformedDhcpError(f"UDP length {udp_len} does not fit the {len(datagram)}-byte datagram")
    # The UDP checksum is not checked: frames between local namespaces (and from NICs
    # with offload) legitimately carry unfinished checksums.
    return datagram[8:udp_len]


def _parse_bootp(message: bytes, interface: str, observed_at: datetime) -> DhcpSighting | None:
    if len(message) < OPTIONS_START:
        raise MalformedDhcpError(f"DHCP message truncated at {len(message)} of at least {OPTIONS_START} bytes")
    op, hardware_type, hardware_len = message[0], message[1], message[2]
    if op not in (BOOTREQUEST, BOOTREPLY):
        raise MalformedDhcpError(f"BOOTP op {op} is neither request (1) nor reply (2)")
    if message[BOOTP_FIXED_HEADER:OPTIONS_START] != MAGIC_COOKIE:
        raise MalformedDhcpError("no DHCP magic cookie (99.130.83.99) after the BOOTP header")
    if hardware_type != HTYPE_ETHERNET:
        return None   # InfiniBand and other links carry no MAC we could count
    if hardware_len != 6:
        raise MalformedDhcpError(f"Ethernet client with hardware address length {hardware_len}, not 6")
    client_mac = message[28:34]
    if not _is_unicast_mac(client_mac):
        raise MalformedDhcpError("client hardware address is a group or all-zero MAC")
    options = _options(message)

    message_type = NO_MESSAGE_TYPE
    if OPTION_MESSAGE_TYPE in options:
        value = options[OPTION_MESSAGE_TYPE]
        if len(value) != 1:
            raise MalformedDhcpError(f"option 53 (message type) of length {len(value)}, not 1")
        message_type = MESSAGE_TYPES.get(value[0], f"TYPE{value[0]}")
    requested_ip = ""
    if OPTION_REQUESTED_IP in options:
        value = options[OPTION_REQUESTED_IP]
        if len(value) != 4:
            raise MalformedDhcpError(f"option 50 (requested address) of length {len(value)}, not 4")
        requested_ip = _address_or_empty(value)

    client_address, your_address = _address_or_empty(message[12:16]), _address_or_empty(message[16:20])
    # A server's OFFER or ACK names the address it gives in yiaddr; everything else
    # (a renewing client's REQUEST, an INFORM, an ACK to an INFORM) uses ciaddr.
    if op == BOOTREPLY and message_type in ("OFFER", "ACK") and your_address:
        ip = your_address
    else:
        ip = client_address
    return DhcpSighting(
        mac=_mac_text(client_mac),
        ip=ip,
        hostname=clean_text(options.get(OPTION_HOSTNAME, b"")),
        vendor_class=clean_text(options.get(OPTION_VENDOR_CLASS, b"")),
        client_id=options.get(OPTION_CLIENT_ID, b"")[:MAX_CLIENT_ID],
        parameter_request_list=tuple(options.get(OPTION_PARAMETER_REQUEST_LIST, b"")[:MAX_PARAMETERS]),
        message_type=message_type,
        interface=interface,
        observed_at=observed_at,
        requested_ip=requested_ip,
        source="client" if op == BOOTREQUEST else "server",
    )


def _options(message: bytes) -> dict[int, bytes]:
    """Every option by code; repeated codes are concatenated (RFC 3396 long options).

    Option 52 (overload) moves further options into the file and/or sname
    fields; they are read after the options field, file first (RFC 2131 4.1).
    """
    options: dict[int, bytearray] = {}
    _read_options(message, OPTIONS_START, len(message), options, "options")
    overload = options.pop(OPTION_OVERLOAD, None)
    if overload is not None:
        if len(overload) != 1 or overload[0] not in (1, 2, 3):
            raise MalformedDhcpError(f"option 52 (overload) is {bytes(overload).hex()}, not 1, 2 or 3")
        if overload[0] & 1:
            _read_options(message, FILE.start, FILE.stop, options, "file field")
        if overload[0] & 2:
            _read_options(message, SNAME.start, SNAME.stop, options, "sname field")
        options.pop(OPTION_OVERLOAD, None)   # an overload inside an overloaded field means nothing
    return {code: bytes(value) for code, value in options.items()}


def _read_options(message: bytes, start: int, stop: int, into: dict[int, bytearray], where: str) -> None:
    position = start
    while position < stop:
        code = message[position]
        if code == OPTION_END:
            return
        if code == OPTION_PAD:
            position += 1
            continue
        if position + 1 >= stop:
            raise MalformedDhcpError(f"option {code} in the {where} has no length byte")
        length = message[position + 1]
        end = position + 2 + length
        if end > stop:
            raise MalformedDhcpError(f"option {code} of length {length} runs {end - stop} bytes past the end "
                                     f"of the {where}")
        into.setdefault(code, bytearray()).extend(message[position + 2:end])
        position = end
    # No end option: tolerated, since some embedded stacks stop at the last option.


# ---------------------------------------------------------------- values


def clean_text(raw: bytes) -> str:
    """Printable text from an option a device chose: UTF-8 (bad bytes replaced), no control or format
    characters (NULs, escapes, bidi overrides that would garble a terminal or a CSV), at most 255 characters."""
    text = raw[:MAX_TEXT * 4].decode("utf-8", errors="replace")   # 4 bytes per character at most
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return kept.strip()[:MAX_TEXT]


# socket.inet_ntoa only formats bytes (no I/O); it is ten times faster than ipaddress,
# which matters when a flood is parsed at the rate cap.
_NO_ADDRESS = b"\x00\x00\x00\x00"
_LIMITED_BROADCAST = b"\xff\xff\xff\xff"


def _address_or_empty(raw: bytes) -> str:
    return "" if raw == _NO_ADDRESS else socket.inet_ntoa(raw)


def _mac_text(raw: bytes) -> str:
    return raw.hex(":")


def _is_unicast_mac(raw: bytes) -> bool:
    # The group bit marks multicast and broadcast; all zeros is nobody's address.
    return not raw[0] & 0x01 and raw != b"\x00" * 6


def _is_host_ip(raw: bytes) -> bool:
    """Not 0.0.0.0, loopback (127/8), multicast (224/4) or the limited broadcast."""
    return raw not in (_NO_ADDRESS, _LIMITED_BROADCAST) and raw[0] != 127 and not 224 <= raw[0] <= 239

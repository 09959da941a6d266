"""mDNS/DNS-SD scanner: ask the school LAN which services its devices offer, and resolve each one.

For browse_time seconds it browses every configured service type with
python-zeroconf's asyncio API, bound only to the IPv4 addresses of the
configured interfaces, resolves each instance it hears of (SRV host and
port, A/AAAA addresses, TXT), and returns one MdnsService per resolved
instance, with the MAC taken from this scan's ARP sightings or the kernel's
neighbour table.

The pure half, used without sockets by the tests and by device
classification, is: `parse_txt` (RFC 6763 TXT bytes to TxtEntry tuples),
`model_from_txt` (the device model a service type's TXT keys give),
`classify_datagram` (is a received datagram malformed), `build_services`
(records with caps on names, services and addresses), `parse_neighbour_table`
and `PacketRateLimiter`.

Hostile input: every datagram zeroconf receives first passes a tap (see
`_PacketTap`) that drops floods beyond a per-source and a total rate, and
counts and drops packets zeroconf's own parser rejects. What was dropped is
reported as counts in ctx.warnings, never with a name.

Student privacy: instance names and host names often carry a student's name
("Jane-Smiths-iPad"). They are returned raw (the name policy is applied
later, before anything leaves the agent) and are never logged: log lines and
warnings carry counts only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import socket
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from headcount import macaddr

from ..errors import ScanError
from ..model import ArpSighting, MdnsService, Observation, TxtEntry
from .base import ScanContext

log = logging.getLogger(__name__)

# --- limits -----------------------------------------------------------------

# RFC 1035 caps a name at 255 octets; zeroconf's parser already refuses names
# over 253 characters, this guards records built by other means too.
MAX_NAME_LENGTH = 255
# One host with dozens of addresses is a broken or hostile responder; a real
# device has an IPv4 address and a few IPv6 ones.
MAX_ADDRESSES = 16
# A TXT record may be 65,535 bytes of 255-byte strings. Real ones (AirPlay,
# IPP) have 10-40 keys in a few hundred bytes; the rest of a larger one is
# ignored so a hostile record cannot cost more than this per service.
MAX_TXT_ENTRIES = 64
MAX_TXT_BYTES = 8192
MAX_MODEL_LENGTH = 128
# zeroconf's own guard (_MAX_MSG_ABSOLUTE, RFC 6762 section 17's 9000-byte
# packet less the IP and UDP headers): it discards larger datagrams unparsed,
# so they are counted here with the same limit.
MAX_PACKET_BYTES = 8966
# Rate caps on received datagrams, per one-second window. A school's whole
# LAN answering one query is a few hundred to a few thousand packets, most
# within the first second; one responder answering all the browsed types
# sends a handful. Beyond these a flood is dropped unparsed (and counted), so
# its CPU cost is bounded, and the per-source cap keeps one noisy host from
# using up the total.
MAX_PACKETS_PER_SECOND = 5000
MAX_PACKETS_PER_SOURCE_PER_SECOND = 500
MAX_TRACKED_SOURCES = 4096
# Instances tracked beyond max_services, so that one flooded service type
# (it is held to max_services) cannot take every slot from the other types.
RESERVED_PER_TYPE = 64
# Resolving: at most this many instances queried at once (each sends a few
# multicast queries, so this also bounds how much a flood of bare PTR records
# can make us send), and how long after the browse answers may still arrive.
RESOLVE_CONCURRENCY = 16
RESOLVE_GRACE_S = 1.0
PROGRESS_INTERVAL_S = 1.0

# Record types zeroconf's DNSIncoming decodes; others it skips on purpose.
_TYPE_A, _TYPE_CNAME, _TYPE_PTR, _TYPE_HINFO, _TYPE_TXT, _TYPE_AAAA, _TYPE_SRV, _TYPE_NSEC = (
    1, 5, 12, 13, 16, 28, 33, 47)
_DECODED_TYPES = frozenset({_TYPE_A, _TYPE_CNAME, _TYPE_PTR, _TYPE_HINFO, _TYPE_TXT, _TYPE_AAAA, _TYPE_SRV,
                            _TYPE_NSEC})

# Linux: receive only the multicast groups this socket joined, on the
# interfaces it joined them on (see _restrict_to_joined_groups).
_IP_MULTICAST_ALL = getattr(socket, "IP_MULTICAST_ALL", 49)


# --- TXT records and device models (pure) -------------------------------------

def parse_txt(data: bytes, max_entries: int = MAX_TXT_ENTRIES, max_bytes: int = MAX_TXT_BYTES) -> tuple[TxtEntry, ...]:
    """A TXT record's RDATA (RFC 6763 section 6: length-prefixed strings) as TxtEntry tuples, in order.

    "key" (a boolean attribute) stays distinct from "key=" (an empty value):
    has_value tells them apart. Duplicate keys are kept as sent; readers take
    the first (RFC 6763 section 6.4), as `txt_value` does. Empty strings
    (the lone zero byte of an empty TXT record), strings starting with "=",
    keys that are not printable US-ASCII, and a final string cut short are
    ignored. At most max_entries entries from the first max_bytes bytes.
    """
    entries: list[TxtEntry] = []
    end = min(len(data), max_bytes)
    offset = 0
    while offset < end and len(entries) < max_entries:
        length = data[offset]
        start, stop = offset + 1, offset + 1 + length
        if stop > end:
            break   # cut short (or past the byte cap): a torn string is not a value
        offset = stop
        chunk = data[start:stop]
        if not chunk or chunk[0] == 0x3D:   # "" or "=value": no key, RFC 6763 section 6.4
            continue
        key, sep, value = chunk.partition(b"=")
        if not all(0x20 <= byte <= 0x7E for byte in key):
            continue
        entries.append(TxtEntry(key=key.decode("ascii"), value=bytes(value), has_value=bool(sep)))
    return tuple(entries)


def txt_value(txt: Iterable[TxtEntry], key: str) -> bytes | None:
    """The first value of `key` (case-insensitive, RFC 6763 section 6.4); b"" for a bare key; None if absent."""
    wanted = key.lower()
    for entry in txt:
        if entry.key.lower() == wanted:
            return entry.value
    return None


def base_service_type(service_type: str) -> str:
    """ "_ipp._tcp.local." -> "_ipp._tcp"; subtypes ("_universal._sub._ipp._tcp.local.") give their base type."""
    labels = [label for label in service_type.lower().split(".") if label]
    for index in range(len(labels) - 1, 0, -1):
        if labels[index] in ("_tcp", "_udp"):
            return f"{labels[index - 1]}.{labels[index]}"
    return ".".join(labels)


# Which TXT keys name the device's model, per service type, in order of preference.
_MODEL_KEYS: dict[str, tuple[str, ...]] = {
    # Apple's device-info record: model=iPad13,1, MacBookPro18,3, AppleTV11,1.
    "_device-info._tcp": ("model",),
    # Apple devices (Continuity): rpMd=iPad13,1 on recent OS versions.
    "_companion-link._tcp": ("rpMd",),
    # AirPlay 2 receivers say model=; older ones and RAOP say am= ("Apple model").
    "_airplay._tcp": ("model", "am"),
    "_raop._tcp": ("am", "model"),
    # Google Cast: md=Chromecast, "Google Nest Hub", vendor TVs.
    "_googlecast._tcp": ("md",),
}
# Bonjour Printing: ty= is the make and model for people; product= is the
# PostScript product string in parentheses; usb_MFG/usb_MDL are the IEEE 1284
# device ID's manufacturer and model.
_PRINTER_TYPES = frozenset({"_ipp._tcp", "_ipps._tcp", "_printer._tcp", "_pdl-datastream._tcp"})


def model_from_txt(service_type: str, txt: Iterable[TxtEntry]) -> str:
    """The device model a service's TXT record states, or "" if this type's keys give none.

    service_type: "_device-info._tcp.local." (".local." and the trailing dot
    optional). Keys: model (_device-info), rpMd (_companion-link), model/am
    (_airplay), am (_raop), md (_googlecast), and for printers (_ipp, _ipps,
    _printer, _pdl-datastream) ty, then product without its parentheses,
    then usb_MFG + usb_MDL. The first non-empty value wins. The result is
    printable text, whitespace collapsed, at most MAX_MODEL_LENGTH characters.
    """
    txt = tuple(txt)
    kind = base_service_type(service_type)
    if kind in _PRINTER_TYPES:
        for key in ("ty", "product"):
            text = _clean_text(txt_value(txt, key))
            if key == "product" and text.startswith("(") and text.endswith(")"):
                text = text[1:-1].strip()
            if text:
                return text[:MAX_MODEL_LENGTH]
        model = _clean_text(txt_value(txt, "usb_MDL"))
        maker = _clean_text(txt_value(txt, "usb_MFG"))
        if model and maker and not model.lower().startswith(maker.lower()):
            model = f"{maker} {model}"
        return model[:MAX_MODEL_LENGTH]
    for key in _MODEL_KEYS.get(kind, ()):
        text = _clean_text(txt_value(txt, key))
        if text:
            return text[:MAX_MODEL_LENGTH]
    return ""


def _clean_text(value: bytes | None) -> str:
    if not value:
        return ""
    text = value[: MAX_MODEL_LENGTH * 4].decode("utf-8", "replace")
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(text.split())


# --- names and records (pure) -------------------------------------------------

def is_valid_name(name: str) -> bool:
    """A DNS-SD name we accept: non-empty, at most 255 characters, no control characters.

    RFC 6763 section 4.1.1 forbids control characters in instance names; a
    name carrying them is a broken or hostile responder, and would corrupt
    logs and terminals downstream.
    """
    return 0 < len(name) <= MAX_NAME_LENGTH and not any(unicodedata.category(c) == "Cc" for c in name)


def instance_label(service_type: str, name: str) -> str | None:
    """The instance part of a service instance name ("Room 12._ipp._tcp.local." -> "Room 12"), or None.

    None when the name does not end in the browsed type (a PTR record may
    point anywhere) or has nothing before it.
    """
    suffix = "." + service_type.lower().rstrip(".") + "."
    full = name if name.endswith(".") else name + "."
    if not full.lower().endswith(suffix):
        return None
    label = full[: -len(suffix)]
    return label or None


@dataclass(frozen=True, slots=True)
class ResolvedInstance:
    """What resolving one instance gave, before the caps: the input of `build_services`."""

    service_type: str          # as browsed, e.g. "_ipp._tcp.local."
    name: str                  # the full instance name, e.g. "Room 12._ipp._tcp.local."
    host: str                  # SRV target
    port: int
    addresses: tuple[str, ...]
    txt: bytes                 # TXT RDATA as received


@dataclass
class BuildReport:
    """What `build_services` left out, as counts."""

    invalid_names: int = 0        # instance or host name too long, control characters, not of the type
    over_max_services: int = 0    # resolved but beyond max_services
    addresses_dropped: int = 0    # beyond max_addresses, or not an IP address


def build_services(
    found: Iterable[ResolvedInstance],
    observed_at: datetime,
    macs: Mapping[str, str],
    max_services: int,
    max_addresses: int = MAX_ADDRESSES,
) -> tuple[list[MdnsService], BuildReport]:
    """MdnsService records from resolved instances, with every cap applied; also what was left out.

    Instances with an invalid instance or host name are dropped. Beyond
    max_services, instances are kept round-robin across service types (in
    the order found within a type), so a flood of one type cannot crowd out
    the printers and displays of another. Addresses are de-duplicated, IPv4
    first, at most max_addresses. The MAC is that of the first address found
    in `macs` (IP -> MAC). Sorted by service type, then instance name.
    """
    report = BuildReport()
    by_type: dict[str, list[ResolvedInstance]] = {}
    seen: set[tuple[str, str]] = set()
    for item in found:
        label = instance_label(item.service_type, item.name)
        if label is None or not is_valid_name(item.name) or not is_valid_name(label) or not is_valid_name(item.host):
            report.invalid_names += 1
            continue
        key = (item.service_type.lower(), item.name.lower())
        if key in seen:
            continue
        seen.add(key)
        by_type.setdefault(item.service_type.lower(), []).append(item)

    chosen: list[ResolvedInstance] = []
    queues = [list(reversed(items)) for items in by_type.values()]
    while queues and len(chosen) < max_services:
        for queue in queues:
            if queue and len(chosen) < max_services:
                chosen.append(queue.pop())
        queues = [queue for queue in queues if queue]
    report.over_max_services = sum(len(queue) for queue in queues)

    services = []
    for item in chosen:
        addresses, dropped = _capped_addresses(item.addresses, max_addresses)
        report.addresses_dropped += dropped
        services.append(MdnsService(
            service_type=item.service_type,
            instance_name=instance_label(item.service_type, item.name) or "",
            host=item.host,
            port=item.port,
            addresses=addresses,
            txt=parse_txt(item.txt),
            observed_at=observed_at,
            mac=next((macs[a] for a in addresses if a in macs), ""),
        ))
    services.sort(key=lambda s: (s.service_type.lower(), s.instance_name.lower(), s.host.lower()))
    return services, report


def _capped_addresses(raw: Iterable[str], limit: int) -> tuple[tuple[str, ...], int]:
    parsed: dict[str, ipaddress.IPv4Address | ipaddress.IPv6Address] = {}
    dropped = 0
    for text in raw:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            dropped += 1
            continue
        parsed.setdefault(str(address), address)
    ordered = sorted(parsed, key=lambda a: parsed[a].version)   # stable: IPv4 first, arrival order kept
    dropped += max(0, len(ordered) - limit)
    return tuple(ordered[:limit]), dropped


def parse_neighbour_table(text: str, interfaces: Iterable[str]) -> dict[str, str]:
    """IP -> MAC from /proc/net/arp: complete entries on the given interfaces only.

    An address on another interface may be another host entirely, and an
    incomplete entry (flag ATF_COM unset, MAC all zeros) binds nothing.
    """
    wanted = set(interfaces)
    table: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 6 or fields[5] not in wanted:
            continue
        ip, flags, mac = fields[0], fields[2], fields[3]
        try:
            complete = int(flags, 16) & 0x2
            mac = macaddr.normalise(mac)
            ipaddress.IPv4Address(ip)
        except ValueError:
            continue
        if complete and macaddr.is_unicast(mac) and mac != "00:00:00:00:00:00":
            table.setdefault(ip, mac)
    return table


def mac_table(earlier: Iterable[Observation], interfaces: Iterable[str], neighbour_text: str = "") -> dict[str, str]:
    """IP -> MAC: this scan's ARP sightings on these interfaces first, then the kernel's neighbour table."""
    wanted = set(interfaces)
    table = {o.ip: o.mac for o in earlier if isinstance(o, ArpSighting) and o.interface in wanted}
    for ip, mac in parse_neighbour_table(neighbour_text, wanted).items():
        table.setdefault(ip, mac)
    return table


# --- received datagrams (pure) ------------------------------------------------

DATAGRAM_OK = "ok"
DATAGRAM_OVERSIZED = "oversized"      # larger than zeroconf accepts
DATAGRAM_MALFORMED = "malformed"      # zeroconf's parser rejects it whole
DATAGRAM_BAD_RECORDS = "bad_records"  # parses, but some records in it are broken and are skipped


def classify_datagram(data: bytes) -> str:
    """Whether a received mDNS datagram is well formed, judged by zeroconf's own parser (DNSIncoming).

    Using zeroconf's parser means "malformed" here is exactly what zeroconf
    would drop. It also reports packets zeroconf accepts while silently
    skipping some of their records (a TXT whose length overruns the packet, a
    PTR whose target loops): those are found by counting the records of types
    DNSIncoming decodes and comparing with what it returned.
    """
    from zeroconf import DNSIncoming

    if len(data) > MAX_PACKET_BYTES:
        return DATAGRAM_OVERSIZED
    try:
        message = DNSIncoming(data)
        if not message.valid:
            return DATAGRAM_MALFORMED
        decoded = len(message.answers())
    except Exception:   # noqa: BLE001 - a parser bug on hostile bytes is still a malformed packet, never a crash
        return DATAGRAM_MALFORMED
    types = record_types(data)
    if types is None or decoded < sum(1 for t in types if t in _DECODED_TYPES):
        return DATAGRAM_BAD_RECORDS
    return DATAGRAM_OK


def record_types(data: bytes) -> list[int] | None:
    """The type of every resource record (answers, authorities, additionals); None if the framing is broken.

    Walks only the framing (name lengths, pointers, RDLENGTH), never
    following a pointer, so it is linear in the packet and cannot loop.
    """
    if len(data) < 12:
        return None
    counts = [int.from_bytes(data[i:i + 2], "big") for i in range(4, 12, 2)]
    offset = 12
    try:
        for _ in range(counts[0]):
            offset = _skip_name(data, offset) + 4
        types = []
        for _ in range(sum(counts[1:])):
            offset = _skip_name(data, offset)
            if offset + 10 > len(data):
                return None
            types.append(int.from_bytes(data[offset:offset + 2], "big"))
            offset += 10 + int.from_bytes(data[offset + 8:offset + 10], "big")
            if offset > len(data):
                return None
    except IndexError:
        return None
    return types if offset <= len(data) else None


def _skip_name(data: bytes, offset: int) -> int:
    while True:
        length = data[offset]
        if length == 0:
            return offset + 1
        if length >= 0xC0:
            if offset + 2 > len(data):
                raise IndexError("pointer cut short")
            return offset + 2
        if length >= 0x40:
            raise IndexError("unknown label type")
        offset += 1 + length


class PacketRateLimiter:
    """Admit at most `per_source` packets per source and `total` packets per one-second window.

    Pure: the caller passes the time. The per-source table is cleared every
    window and holds at most max_sources entries, so a flood of spoofed
    sources costs bounded memory (beyond it they share one bucket).
    """

    _OTHERS = "<others>"

    def __init__(self, total: int = MAX_PACKETS_PER_SECOND, per_source: int = MAX_PACKETS_PER_SOURCE_PER_SECOND,
                 max_sources: int = MAX_TRACKED_SOURCES):
        self.total, self.per_source, self.max_sources = total, per_source, max_sources
        self._window = -1
        self._admitted = 0
        self._by_source: dict[str, int] = {}

    def allow(self, source: str, now: float) -> bool:
        window = int(now)
        if window != self._window:
            self._window, self._admitted = window, 0
            self._by_source.clear()
        if source not in self._by_source and len(self._by_source) >= self.max_sources:
            source = self._OTHERS
        count = self._by_source.get(source, 0)
        # The per-source check comes first, so one noisy host's excess does not use up the total.
        if count >= self.per_source or self._admitted >= self.total:
            return False
        self._by_source[source] = count + 1
        self._admitted += 1
        return True


# --- counters -------------------------------------------------------------------

@dataclass
class MdnsCounters:
    """What one scan received, dropped and returned: counts only, never names."""

    packets_received: int = 0
    packets_rate_limited: int = 0     # over the per-source or total rate: dropped unparsed
    packets_oversized: int = 0
    packets_malformed: int = 0        # rejected whole by the parser: dropped
    packets_bad_records: int = 0      # some records broken (skipped by zeroconf), the rest used
    instances_seen: int = 0           # distinct instance names heard of
    instances_untracked: int = 0      # beyond the tracking caps: never resolved
    instances_unresolved: int = 0     # no SRV record arrived in time
    invalid_names: int = 0
    services_over_cap: int = 0        # resolved, but beyond max_services
    addresses_dropped: int = 0
    services_returned: int = 0

    @property
    def malformed_total(self) -> int:
        """Every packet ignored in whole or in part because it was malformed."""
        return self.packets_oversized + self.packets_malformed + self.packets_bad_records

    def as_dict(self) -> dict[str, int]:
        return {**dataclasses.asdict(self), "malformed_total": self.malformed_total}

    def warnings(self, max_services: int) -> list[str]:
        """Short lines for ctx.warnings: what was ignored, with counts and no names."""
        lines = []
        if self.malformed_total:
            lines.append(f"mdns: ignored {self.malformed_total} malformed packets")
        if self.packets_rate_limited:
            lines.append(f"mdns: dropped {self.packets_rate_limited} packets over the rate cap "
                         f"({MAX_PACKETS_PER_SOURCE_PER_SECOND}/s per sender, {MAX_PACKETS_PER_SECOND}/s in all)")
        dropped_services = self.services_over_cap + self.instances_untracked
        if dropped_services:
            lines.append(f"mdns: dropped {dropped_services} services over max_services ({max_services})")
        if self.invalid_names:
            lines.append(f"mdns: ignored {self.invalid_names} services with invalid names")
        if self.addresses_dropped:
            lines.append(f"mdns: ignored {self.addresses_dropped} addresses (invalid, or over {MAX_ADDRESSES} "
                         f"per service)")
        return lines


_last_counters = MdnsCounters()


def last_scan_counters() -> MdnsCounters:
    """A copy of the counters of the most recent mDNS scan in this process (for tests and status)."""
    return dataclasses.replace(_last_counters)


# --- I/O --------------------------------------------------------------------------

class _PacketTap(asyncio.DatagramProtocol):
    """Sits in front of one zeroconf listener: rate-caps, classifies and counts every datagram.

    Why a tap, and not a hook in zeroconf: its listener (AsyncListener) is a
    compiled Cython class, created inside its engine with no factory to
    override, that drops invalid packets with only a debug log line and
    suppresses repeats before parsing, so nothing it exposes counts them.
    Replacing each transport's protocol with this wrapper (asyncio's
    Transport.set_protocol) touches only our own Zeroconf instance and needs
    no change to zeroconf. Each datagram is parsed once more here with
    zeroconf's own DNSIncoming; the rate cap runs first, so that double parse
    is bounded too. Malformed and oversized packets stop here (zeroconf
    would drop them anyway); packets with some broken records go on, since
    zeroconf uses their good records.
    """

    def __init__(self, inner: Any, counters: MdnsCounters, limiter: PacketRateLimiter,
                 clock: Callable[[], float] = time.monotonic):
        self.inner, self.counters, self.limiter, self.clock = inner, counters, limiter, clock

    def datagram_received(self, data: bytes, addr: Any) -> None:
        counters = self.counters
        counters.packets_received += 1
        source = addr[0] if isinstance(addr, tuple) and addr else "?"
        if not self.limiter.allow(str(source), self.clock()):
            counters.packets_rate_limited += 1
            return
        verdict = classify_datagram(data)
        if verdict == DATAGRAM_OVERSIZED:
            counters.packets_oversized += 1
            return
        if verdict == DATAGRAM_MALFORMED:
            counters.packets_malformed += 1
            return
        if verdict == DATAGRAM_BAD_RECORDS:
            counters.packets_bad_records += 1
        try:
            self.inner.datagram_received(data, addr)
        except Exception as exc:  # noqa: BLE001 - zeroconf choking on one packet costs that packet only
            # Only the type: zeroconf's messages can carry names from the packet.
            counters.packets_malformed += 1
            log.debug("mdns: zeroconf could not process a packet: %s", type(exc).__name__)

    def error_received(self, exc: Exception) -> None:
        self.inner.error_received(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)


def _install_taps(zc: Any, counters: MdnsCounters) -> int:
    """Put a _PacketTap in front of every socket zeroconf reads; returns how many."""
    limiter = PacketRateLimiter()
    installed = 0
    for reader in zc.engine.readers:
        transport = reader.transport
        protocol = transport.get_protocol()
        if not isinstance(protocol, _PacketTap):
            transport.set_protocol(_PacketTap(protocol, counters, limiter))
            _restrict_to_joined_groups(reader.sock)
            installed += 1
    return installed


def _restrict_to_joined_groups(sock: Any) -> None:
    """Turn off Linux's IP_MULTICAST_ALL on a zeroconf socket.

    zeroconf's listen socket is bound to 0.0.0.0:5353 and joins 224.0.0.251
    only on our interfaces; but by default Linux also hands it mDNS arriving
    on any other interface where some other program (avahi, another scan)
    joined the group. With the option off it gets only what arrives on the
    interfaces it joined on.
    """
    try:
        sock.setsockopt(socket.IPPROTO_IP, _IP_MULTICAST_ALL, 0)
    except (OSError, AttributeError):
        pass   # not Linux: the kernel does not have the option, and does not need it


def interface_ipv4_addresses(interfaces: Iterable[str]) -> dict[str, list[str]]:
    """Interface -> its IPv4 addresses (from psutil), for the interfaces given."""
    import psutil

    known = psutil.net_if_addrs()
    return {name: [a.address for a in known.get(name, []) if a.family == socket.AF_INET] for name in interfaces}


@dataclass
class _Tracked:
    service_type: str
    name: str
    info: Any          # zeroconf AsyncServiceInfo


def bind_macs(observations: list[Observation]) -> list[Observation]:
    """Services still without a MAC get one from the same scan's ARP sightings of their addresses. Pure.

    The browse runs beside the sweep, not after it (it would add its whole
    browse time to every scan), so the sweep's answers are joined here.
    """
    by_ip = {o.ip: o.mac for o in observations if isinstance(o, ArpSighting)}
    bound = []
    for observation in observations:
        if isinstance(observation, MdnsService) and not observation.mac:
            mac = next((by_ip[a] for a in observation.addresses if a in by_ip), "")
            if mac:
                observation = replace(observation, mac=mac)
        bound.append(observation)
    return bound


class MdnsScanner:
    name: ClassVar[str] = "mdns"

    def __init__(self) -> None:
        self.last_counters = MdnsCounters()

    def can_run(self, ctx: ScanContext) -> bool:
        config = ctx.config
        # Also nothing to do with an empty service_types list (a config may say so).
        return (config.mdns.enabled and config.mode == "site" and bool(config.mdns.service_types)
                and bool(config.listening_interfaces(config.mdns.interfaces)))

    async def scan(self, ctx: ScanContext) -> list[MdnsService]:
        global _last_counters
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncZeroconf

        settings = ctx.config.mdns
        interfaces = ctx.config.listening_interfaces(settings.interfaces)
        by_interface = interface_ipv4_addresses(interfaces)
        bare = [name for name, found in by_interface.items() if not found]
        if bare:
            log.warning("mdns: %s has no IPv4 address; not browsing there", ", ".join(bare))
            ctx.warnings.append(f"mdns: {', '.join(bare)} has no IPv4 address; not browsing there")
        addresses = list(dict.fromkeys(a for found in by_interface.values() for a in found))
        if not addresses:
            raise ScanError(f"mDNS browse on {', '.join(interfaces)}: no IPv4 address to listen on")
        counters = self.last_counters = _last_counters = MdnsCounters()
        observed_at = ctx.clock()
        started = time.monotonic()
        try:
            # Only these addresses: zeroconf joins the group and sends only on them.
            aiozc = AsyncZeroconf(interfaces=addresses, ip_version=IPVersion.V4Only)
        except (OSError, RuntimeError) as exc:
            raise ScanError(f"mDNS browse on {', '.join(interfaces)}: cannot open the mDNS sockets ({exc}); "
                            f"another mDNS stack may hold port 5353 without SO_REUSEPORT") from exc
        # Before the first await, so not one packet from another interface is read: the sockets
        # exist now, and zeroconf adopts them into the event loop only once we yield.
        engine = aiozc.zeroconf.engine
        for sock in [getattr(engine, "_listen_socket", None), *getattr(engine, "_respond_sockets", ())]:
            if sock is not None:
                _restrict_to_joined_groups(sock)
        try:
            found = await self._browse(aiozc, ctx, counters)
        finally:
            # Shielded: a second cancellation while closing must not leave the sockets open.
            await asyncio.shield(aiozc.async_close())
        try:
            neighbours = Path("/proc/net/arp").read_text(encoding="ascii", errors="replace")
        except OSError:
            neighbours = ""
        services, report = build_services(found, observed_at, mac_table(ctx.earlier, interfaces, neighbours),
                                          settings.max_services)
        counters.invalid_names += report.invalid_names
        counters.services_over_cap += report.over_max_services
        counters.addresses_dropped += report.addresses_dropped
        counters.services_returned = len(services)
        ctx.warnings.extend(counters.warnings(settings.max_services))
        ctx.progress("mdns", len(services), len(services))
        log.info("mdns on %s: %d services from %d instances heard of in %.1fs (%d packets, %d malformed, "
                 "%d over the rate cap)", ", ".join(interfaces), len(services), counters.instances_seen,
                 time.monotonic() - started, counters.packets_received, counters.malformed_total,
                 counters.packets_rate_limited)
        return services

    async def _browse(self, aiozc: Any, ctx: ScanContext, counters: MdnsCounters) -> list[ResolvedInstance]:
        from zeroconf import BadTypeInNameException, ServiceStateChange
        from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo

        settings = ctx.config.mdns
        zc = aiozc.zeroconf
        try:
            await zc.async_wait_for_start()
        except Exception as exc:  # noqa: BLE001 - zeroconf's NotRunningException or a timeout
            raise ScanError(f"mDNS browse: zeroconf did not start ({type(exc).__name__})") from exc
        if not zc.engine.senders:
            raise ScanError("mDNS browse: could not open a socket on any of the interface addresses")
        _install_taps(zc, counters)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.browse_time_s
        types = list(settings.service_types)
        tracking_cap = settings.max_services + RESERVED_PER_TYPE * len(types)
        tracked: dict[tuple[str, str], _Tracked] = {}
        per_type: dict[str, int] = {}
        tasks: set[asyncio.Task] = set()
        limit = asyncio.Semaphore(RESOLVE_CONCURRENCY)
        resolved = 0

        async def resolve(item: _Tracked) -> None:
            nonlocal resolved
            try:
                if not item.info.load_from_cache(zc):
                    async with limit:
                        wait_ms = max(0.0, deadline - loop.time() + RESOLVE_GRACE_S) * 1000
                        await item.info.async_request(zc, wait_ms)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one odd instance never stops the scan
                log.debug("mdns: resolving one instance failed: %s", type(exc).__name__)
            resolved += 1

        def on_change(zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
            # Called inside zeroconf's record processing: must be quick and never raise.
            try:
                track(service_type, name, state_change)
            except Exception as exc:  # noqa: BLE001
                counters.invalid_names += 1
                log.debug("mdns: could not track one instance: %s", type(exc).__name__)

        def track(service_type: str, name: str, state_change: Any) -> None:
            if state_change is not ServiceStateChange.Added:
                return   # updates are re-read from the cache at the end; a goodbye still means it was here
            key = (service_type.lower(), name.lower())
            if key in tracked:
                return
            counters.instances_seen += 1
            if instance_label(service_type, name) is None or not is_valid_name(name):
                counters.invalid_names += 1
                return
            if len(tracked) >= tracking_cap or per_type.get(key[0], 0) >= settings.max_services:
                counters.instances_untracked += 1
                return
            try:
                info = AsyncServiceInfo(service_type, name)
            except BadTypeInNameException:
                counters.invalid_names += 1
                return
            item = tracked[key] = _Tracked(service_type, name, info)
            per_type[key[0]] = per_type.get(key[0], 0) + 1
            task = loop.create_task(resolve(item))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        browser = AsyncServiceBrowser(zc, types, handlers=[on_change])
        browsed = False
        try:
            next_progress = loop.time() + PROGRESS_INTERVAL_S
            while loop.time() < deadline and not ctx.cancelled.is_set():
                await asyncio.sleep(min(0.1, max(0.0, deadline - loop.time())))
                if loop.time() >= next_progress and tracked:
                    ctx.progress("mdns", resolved, len(tracked))
                    next_progress = loop.time() + PROGRESS_INTERVAL_S
            browsed = not ctx.cancelled.is_set()
        finally:
            await browser.async_cancel()
            pending = set(tasks)
            if pending and browsed:
                # Answers to the last queries may still be on their way (not when cancelled: stop now).
                await asyncio.wait(pending, timeout=RESOLVE_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        results = []
        for item in tracked.values():
            info = item.info
            try:
                info.load_from_cache(zc)   # the newest SRV/TXT/addresses, also for ones still pending
                host, port = info.server, info.port
                addresses = tuple(info.parsed_addresses())
                txt = info.text or b""
            except Exception as exc:  # noqa: BLE001
                log.debug("mdns: reading one instance failed: %s", type(exc).__name__)
                host, port = None, None
            if not host or port is None:
                counters.instances_unresolved += 1
                continue
            results.append(ResolvedInstance(item.service_type, item.name, host, int(port), addresses, txt))
        return results

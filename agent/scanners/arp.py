"""ARP sweep of the configured IPv4 subnets: one raw socket, a prebuilt frame, a rate cap.

The I/O half (`sweep_subnet`) sends who-has frames from an AF_PACKET socket
at a capped rate, re-asks silent addresses for the configured number of
rounds, and reads replies through an in-kernel BPF filter. (scapy's `srp`
built a Python object per packet and managed about 120 packets/s here.) The
pure half (`sightings_from_replies`) turns (mac, ip) pairs into ArpSighting
records, looks the vendor up in scapy's bundled copy of the IEEE OUI
registry, and marks locally administered (usually randomised) MACs.

Only the subnets the configuration names are swept, and never one larger than
the configured maximum prefix.
"""

from __future__ import annotations

import asyncio
import functools
import io
import ipaddress
import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import ClassVar

from headcount import macaddr

from ..config import SubnetTarget
from ..errors import ScanError, ScanRefusedError
from ..model import ArpSighting
from .base import ProgressCallback, ScanContext

log = logging.getLogger(__name__)



def oui_vendor(mac: str) -> str:
    """Vendor from the IEEE registry scapy ships; "" when unknown or locally administered."""
    if macaddr.is_locally_administered(mac):
        return ""  # the OUI bits of a randomised MAC name nobody
    try:
        value = int(macaddr.normalise(mac).replace(":", ""), 16)
    except ValueError:
        return ""
    tables = _vendor_tables()
    # The longest registered prefix wins: MA-S (/36) and MA-M (/28) blocks sit inside MA-L (/24) ones.
    for bits in (36, 28, 24):
        name = tables.get(bits, {}).get(value >> (48 - bits))
        if name:
            return name
    return ""


@functools.cache
def _vendor_tables() -> dict[int, dict[int, str]]:
    """prefix length -> {prefix: vendor}, from scapy's bundled copy of Wireshark's manuf (the IEEE registry).

    Read straight from scapy.libs.manuf rather than through scapy's
    conf.manufdb: that path imports most of scapy and keeps two names per
    entry, about 35 MiB of a school PC's memory for the agent's whole life;
    this table is a few MiB, and the decompressed text is released after.
    """
    import sys

    import scapy.libs.manuf as manuf

    tables: dict[int, dict[int, str]] = {24: {}, 28: {}, 36: {}}
    names: dict[str, str] = {}   # one string per vendor, however many prefixes it holds
    try:
        for line in io.StringIO(manuf.DATA):
            if line.startswith("#") or "\t" not in line:
                continue
            fields = line.rstrip("\n").split("\t")
            prefix, _, length = fields[0].strip().partition("/")
            bits = int(length) if length.isdigit() else 24
            digits = prefix.replace(":", "").replace("-", "")
            name = (fields[2] if len(fields) > 2 else fields[1]).strip()
            if bits not in tables or len(digits) < bits // 4 or not name:
                continue
            try:
                value = int(digits, 16) >> (len(digits) * 4 - bits)
            except ValueError:
                continue
            tables[bits][value] = names.setdefault(name, name)
    finally:
        del manuf
        sys.modules.pop("scapy.libs.manuf", None)
    _give_back_freed_memory()
    return tables


def _give_back_freed_memory() -> None:
    """Return the decompressed registry's freed pages to the OS (glibc keeps them otherwise: ~16 MiB)."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # not glibc: the memory is merely kept for reuse
        pass


def sightings_from_replies(
    replies: Iterable[tuple[str, str]],
    network: ipaddress.IPv4Network,
    interface: str,
    seen_at: datetime,
    vendor_of: Callable[[str], str] = oui_vendor,
) -> list[ArpSighting]:
    """Turn raw (mac, ip) reply pairs into sightings: validated, in-subnet, de-duplicated."""
    sightings: dict[tuple[str, str], ArpSighting] = {}
    for raw_mac, raw_ip in replies:
        try:
            mac = macaddr.normalise(raw_mac)
            ip = ipaddress.IPv4Address(raw_ip)
        except ValueError:
            log.debug("ignoring malformed ARP reply %r / %r", raw_mac, raw_ip)
            continue
        # A multicast or all-zero sender, or an address outside the swept
        # subnet, is not a host we asked about: proxy-ARP noise or a bad stack.
        if not macaddr.is_unicast(mac) or ip not in network:
            continue
        key = (mac, str(ip))
        if key not in sightings:
            sightings[key] = ArpSighting(
                mac=mac,
                ip=str(ip),
                vendor=vendor_of(mac),
                locally_administered=macaddr.is_locally_administered(mac),
                interface=interface,
                observed_at=seen_at,
            )
    return sorted(sightings.values(), key=lambda s: (ipaddress.IPv4Address(s.ip), s.mac))


ETH_P_ARP = 0x0806
SO_ATTACH_FILTER = 26
# Classic BPF, run in the kernel: keep ARP replies (ethertype 0x0806, opcode 2), drop
# everything else before it is copied to us. On a busy school LAN the socket
# otherwise wakes for every broadcast request of every laptop.
_ARP_REPLY_FILTER = (
    (0x28, 0, 0, 12),          # ldh [12]         ethertype
    (0x15, 0, 3, ETH_P_ARP),   # jeq #0x806       else drop
    (0x28, 0, 0, 20),          # ldh [20]         ARP opcode
    (0x15, 0, 1, 2),           # jeq #2 (reply)   else drop
    (0x06, 0, 0, 0xFFFF),      # ret #65535       keep
    (0x06, 0, 0, 0),           # ret #0           drop
)
# After the last request, wait for late replies four times the slowest round trip
# seen in this sweep (at least this long), and never longer than arp.timeout: a LAN
# answers in milliseconds, and a host that is slower than that gets the next round.
_MIN_LATE_WAIT_S = 0.1


def interface_addresses(interface: str, network: ipaddress.IPv4Network) -> tuple[bytes, bytes]:
    """(MAC, IPv4) of the interface, preferring an address inside the swept network."""
    import psutil

    addresses = psutil.net_if_addrs().get(interface, [])
    mac = next((a.address for a in addresses if a.family == socket.AF_PACKET), "")
    ipv4 = [ipaddress.IPv4Address(a.address) for a in addresses if a.family == socket.AF_INET]
    if not mac:
        raise ScanError(f"ARP sweep of {network}: interface {interface} has no MAC address")
    if not ipv4:
        raise ScanError(f"ARP sweep of {network}: interface {interface} has no IPv4 address to ask from")
    source = next((a for a in ipv4 if a in network), ipv4[0])
    return bytes.fromhex(macaddr.normalise(mac).replace(":", "")), source.packed


def _attach_reply_filter(sock: socket.socket) -> None:
    import ctypes

    program = b"".join(struct.pack("HBBI", *instruction) for instruction in _ARP_REPLY_FILTER)
    buffer = ctypes.create_string_buffer(program)
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                    struct.pack("HL", len(_ARP_REPLY_FILTER), ctypes.addressof(buffer)))


def request_template(source_mac: bytes, source_ip: bytes) -> bytearray:
    """A broadcast who-has frame; only the target address (bytes 38..41) changes per request."""
    frame = bytearray(b"\xff" * 6 + source_mac + struct.pack("!H", ETH_P_ARP))
    frame += struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + source_mac + source_ip + b"\x00" * 6 + b"\x00" * 4
    return frame + b"\x00" * (60 - len(frame))   # Ethernet's minimum frame, padded here


def parse_reply(frame: bytes) -> tuple[bytes, int] | None:
    """(sender MAC, sender IPv4 as int) of an ARP reply frame; None for anything else."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x06" or frame[20:22] != b"\x00\x02":
        return None
    return frame[22:28], int.from_bytes(frame[28:32], "big")


def sweep_subnet(
    target: SubnetTarget,
    timeout_s: float,
    retries: int,
    progress: ProgressCallback,
    cancelled: threading.Event,
    rate_pps: float = 1000.0,
) -> list[tuple[str, str]]:
    """Ask every host address of the subnet who-has, at most `rate_pps` frames a second. Blocking.

    One raw AF_PACKET socket: a prebuilt frame whose target address is
    patched per request, replies read through an in-kernel BPF filter. Each
    round asks only the addresses still silent; after the last, it waits for
    late replies four slowest round trips, at most `timeout_s`. Stops early
    once `cancelled` is set, returning what it has.
    """
    what = f"arp {target.network} on {target.interface}"
    source_mac, source_ip = interface_addresses(target.interface, target.network)
    own = int.from_bytes(source_ip, "big")
    hosts = [int(ip) for ip in target.network.hosts() if int(ip) != own]
    wanted = set(hosts)
    answered: dict[int, bytes] = {}
    sent_at: dict[int, float] = {}
    slowest_rtt = 0.0
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    except PermissionError as exc:
        raise ScanError(
            f"ARP sweep of {target.network} on {target.interface} needs raw sockets: run as root "
            f"or grant CAP_NET_RAW (see deploy/headcount-agent.service)"
        ) from exc
    try:
        sock.bind((target.interface, ETH_P_ARP))
        _attach_reply_filter(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.setblocking(False)

        def drain() -> None:
            nonlocal slowest_rtt
            while True:
                try:
                    frame = sock.recv(128)
                except BlockingIOError:
                    return
                parsed = parse_reply(frame)
                if parsed is not None and parsed[1] in wanted and parsed[1] not in answered:
                    answered[parsed[1]] = parsed[0]
                    slowest_rtt = max(slowest_rtt, time.monotonic() - sent_at.get(parsed[1], time.monotonic()))

        def wait(seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while not cancelled.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                select.select([sock], [], [], min(left, 0.1))
                drain()

        frame = request_template(source_mac, source_ip)
        interval = 1.0 / rate_pps
        sent_total = 0
        progress(what, 0, len(hosts))
        for round_number in range(1 + retries):
            todo = [host for host in hosts if host not in answered]
            if not todo or cancelled.is_set():
                break
            started = time.monotonic()
            for index, host in enumerate(todo):
                # Pace by the schedule, not by sleeping a fixed gap: the sweep keeps its
                # rate even when a reply burst or the scheduler delays one send.
                due = started + index * interval
                while True:
                    now = time.monotonic()
                    if now >= due:
                        break
                    select.select([sock], [], [], due - now)
                    drain()
                frame[38:42] = host.to_bytes(4, "big")
                sock.send(frame)
                sent_at[host] = time.monotonic()
                sent_total += 1
                if index % 256 == 255:
                    drain()
                    if cancelled.is_set():
                        log.info("%s: cancelled after %d requests", what, sent_total)
                        break
                    if round_number == 0:
                        progress(what, index + 1, len(hosts))
            if round_number == 0:
                progress(what, len(hosts), len(hosts))
            # The next round starts at once: answers to this one still count while it runs.
            if round_number == retries or not [host for host in hosts if host not in answered]:
                wait(min(timeout_s, max(_MIN_LATE_WAIT_S, 4 * slowest_rtt)))
        drain()
    except OSError as exc:
        raise ScanError(f"ARP sweep of {target.network} on {target.interface} failed: {exc}") from exc
    finally:
        sock.close()
    return [(macaddr.normalise(mac.hex()), str(ipaddress.IPv4Address(ip))) for ip, mac in answered.items()]


class ArpScanner:
    name: ClassVar[str] = "arp"

    def can_run(self, ctx: ScanContext) -> bool:
        return ctx.config.arp.enabled and bool(ctx.config.arp.subnets)

    async def scan(self, ctx: ScanContext) -> list[ArpSighting]:
        settings = ctx.config.arp
        found: list[ArpSighting] = []
        for target in settings.subnets:
            if target.network.prefixlen < ctx.config.max_subnet_prefix:
                # Config loading already refuses these; this guards programmatic use.
                raise ScanRefusedError(
                    f"refusing to sweep {target.network}: larger than /{ctx.config.max_subnet_prefix}"
                )
            seen_at = ctx.clock()
            try:
                replies = await asyncio.to_thread(
                    sweep_subnet, target, settings.timeout_s, settings.retries, ctx.progress, ctx.cancelled,
                    settings.rate_pps)
            except asyncio.CancelledError:
                ctx.cancelled.set()   # the sweeping thread stops at its next block
                raise
            sightings = sightings_from_replies(replies, target.network, target.interface, seen_at)
            log.info("arp %s on %s: %d hosts answered", target.network, target.interface, len(sightings))
            found.extend(sightings)
        return found

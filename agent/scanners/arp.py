"""ARP sweep of the configured IPv4 subnets with scapy.

The I/O half (`sweep_subnet`) sends who-has requests in blocks and collects
(mac, ip) pairs; the pure half (`sightings_from_replies`) turns pairs into
ArpSighting records, looks the vendor up in scapy's bundled copy of the IEEE
OUI registry, and marks locally administered (usually randomised) MACs.

Only the subnets the configuration names are swept, and never one larger than
the configured maximum prefix.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import ClassVar

from headcount import macaddr

from ..config import SubnetTarget
from ..errors import ScanError, ScanRefusedError
from ..model import ArpSighting
from .base import ProgressCallback, ScanContext

log = logging.getLogger(__name__)

# Requests go out in blocks so that a long sweep can report progress and a
# /16 never holds 65,536 scapy packets in memory at once.
BLOCK_SIZE = 256


def oui_vendor(mac: str) -> str:
    """Vendor from the IEEE registry scapy ships; "" when unknown or locally administered."""
    if macaddr.is_locally_administered(mac):
        return ""  # the OUI bits of a randomised MAC name nobody
    from scapy.config import conf

    _short, long_name = conf.manufdb.lookup(mac)
    # scapy echoes the MAC back when the prefix is not registered.
    return "" if _looks_like_mac(long_name) else long_name


def _looks_like_mac(text: str) -> bool:
    try:
        macaddr.normalise(text)
    except ValueError:
        return False
    return True


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


def sweep_subnet(
    target: SubnetTarget,
    timeout_s: float,
    retries: int,
    progress: ProgressCallback,
    cancelled: threading.Event,
) -> list[tuple[str, str]]:
    """Send who-has for every host address of the subnet; return (mac, ip) replies. Blocking.

    Stops between blocks once `cancelled` is set, returning what it has.
    """
    from scapy.layers.l2 import ARP, Ether
    from scapy.sendrecv import srp

    hosts = [str(ip) for ip in target.network.hosts()]
    what = f"arp {target.network} on {target.interface}"
    replies: list[tuple[str, str]] = []
    progress(what, 0, len(hosts))
    for start in range(0, len(hosts), BLOCK_SIZE):
        if cancelled.is_set():
            log.info("%s: cancelled after %d of %d addresses", what, start, len(hosts))
            break
        block = hosts[start : start + BLOCK_SIZE]
        request = Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op="who-has", pdst=block)
        try:
            answered, _ = srp(request, iface=target.interface, timeout=timeout_s, retry=retries, verbose=0)
        except PermissionError as exc:
            raise ScanError(
                f"ARP sweep of {target.network} on {target.interface} needs raw sockets: run as root "
                f"or grant CAP_NET_RAW (see deploy/headcount-agent.service)"
            ) from exc
        except OSError as exc:
            raise ScanError(f"ARP sweep of {target.network} on {target.interface} failed: {exc}") from exc
        replies.extend((reply[ARP].hwsrc, reply[ARP].psrc) for _, reply in answered)
        progress(what, min(start + BLOCK_SIZE, len(hosts)), len(hosts))
    return replies


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
                    sweep_subnet, target, settings.timeout_s, settings.retries, ctx.progress, ctx.cancelled)
            except asyncio.CancelledError:
                ctx.cancelled.set()   # the sweeping thread stops at its next block
                raise
            sightings = sightings_from_replies(replies, target.network, target.interface, seen_at)
            log.info("arp %s on %s: %d hosts answered", target.network, target.interface, len(sightings))
            found.extend(sightings)
        return found

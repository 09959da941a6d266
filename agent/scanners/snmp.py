"""SNMP scanner: probe the configured targets and the ARP-found hosts of the SNMP subnets.

It returns one SnmpDevice per device that answered. A device that does not
answer, or fails half-way, never stops the others: its problem becomes a
warning on the scan (and in the status file), and the devices that did answer
are returned. The credential that worked on each device is remembered in
state_dir (by name only), so the next scan tries it first.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from pathlib import Path
from typing import ClassVar

from ..errors import SnmpError
from ..model import ArpSighting, Observation
from ..snmp.client import Options, Target
from ..state import write_atomically
from .base import ScanContext

log = logging.getLogger(__name__)

REMEMBERED_FILE = "snmp-credentials.json"


def targets_for(ctx: ScanContext) -> dict[Target, str]:
    """Explicit targets plus ARP-found hosts in the SNMP subnets -> the MAC the sweep saw ("" if none)."""
    settings = ctx.config.snmp
    found: dict[Target, str] = {}
    for text in settings.targets:
        found[Target.parse(text)] = ""
    for observation in ctx.earlier:
        if not isinstance(observation, ArpSighting):
            continue
        address = ipaddress.ip_address(observation.ip)
        target = Target(observation.ip)
        if any(address in subnet for subnet in settings.subnets):
            found[target] = observation.mac
        elif target in found and not found[target]:
            found[target] = observation.mac
    return found


def load_remembered(state_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((state_dir / REMEMBERED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}   # first run, or a damaged file: just try credentials in config order
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


class SnmpScanner:
    name: ClassVar[str] = "snmp"
    after: ClassVar[tuple[str, ...]] = ("arp",)

    def can_run(self, ctx: ScanContext) -> bool:
        settings = ctx.config.snmp
        return settings.enabled and bool(settings.credentials) and bool(settings.targets or settings.subnets)

    async def scan(self, ctx: ScanContext) -> list[Observation]:
        # Imported here: the probe's MIB parsers and identification rules cost a
        # tenth of a second of start-up that an agent without SNMP should not pay.
        from ..snmp.probe import ProbeSettings, probe

        settings = ctx.config.snmp
        targets = targets_for(ctx)
        probe_settings = ProbeSettings(
            options=Options(timeout_s=settings.timeout_s, retries=settings.retries,
                            max_repetitions=settings.max_repetitions, max_rows=settings.max_rows),
            engine=settings.engine,
        )
        remembered = load_remembered(ctx.config.state_dir)
        limit = asyncio.Semaphore(settings.concurrency)
        done = 0
        devices: list[Observation] = []
        ctx.progress("snmp", 0, len(targets))

        async def one(target: Target, mac: str) -> None:
            nonlocal done
            async with limit:
                if ctx.cancelled.is_set():
                    return
                try:
                    device = await probe(target, settings.credentials, ctx.clock, probe_settings,
                                         remembered=remembered.get(str(target), ""), known_mac=mac)
                except SnmpError as exc:
                    log.warning("snmp: %s", exc)
                    ctx.warnings.append(f"snmp: {exc}")
                else:
                    devices.append(device)
                    remembered[str(target)] = device.credential_name
                    for problem in device.errors:
                        log.info("snmp: %s: %s", target, problem)
                finally:
                    done += 1
                    ctx.progress("snmp", done, len(targets))

        await asyncio.gather(*(one(target, mac) for target, mac in targets.items()))
        try:
            ctx.config.state_dir.mkdir(parents=True, exist_ok=True)
            write_atomically(ctx.config.state_dir / REMEMBERED_FILE, json.dumps(remembered, indent=1, sort_keys=True))
        except OSError as exc:
            log.warning("snmp: cannot remember which credentials worked (%s); next scan tries them in order", exc)
        log.info("snmp: %d of %d devices answered", len(devices), len(targets))
        return devices

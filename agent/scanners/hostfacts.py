"""Facts about the agent's own machine, read with psutil and /sys.

`read_battery_health` is the pure half: it parses a power_supply folder
(Linux's /sys/class/power_supply/BAT*), so it is tested on recorded files.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import platform
import socket
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar

from ..model import BatteryHealth, DiskUsage, HostFacts, HostInterface
from ..state import BootHistory, RebootCounts
from .base import ScanContext

log = logging.getLogger(__name__)

POWER_SUPPLY_ROOT = Path("/sys/class/power_supply")


def read_battery_health(supply_dir: Path) -> BatteryHealth | None:
    """Design vs. full capacity from one sysfs power_supply folder; None if it is not a battery."""

    def read(name: str) -> str:
        try:
            return (supply_dir / name).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def number(name: str) -> int:
        text = read(name)
        return int(text) if text.isdigit() else 0

    if read("type") != "Battery":
        return None
    # Drivers report energy (µWh) or charge (µAh); the ratio means the same.
    prefix = "energy" if (supply_dir / "energy_full_design").exists() else "charge"
    return BatteryHealth(
        present=read("present") in ("1", ""),
        percent=number("capacity"),
        design_capacity=number(f"{prefix}_full_design"),
        full_capacity=number(f"{prefix}_full"),
        cycle_count=number("cycle_count"),
    )


def first_battery(root: Path = POWER_SUPPLY_ROOT) -> BatteryHealth | None:
    try:
        candidates = sorted(root.iterdir())
    except OSError:
        return None
    for supply_dir in candidates:
        battery = read_battery_health(supply_dir)
        if battery is not None:
            return battery
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _os_release() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        return f"{platform.system()} {platform.release()}"


def _prefix_length(netmask: str) -> int:
    """255.255.255.0 -> 24, ffff:ffff:ffff:ffff:: -> 64."""
    return bin(int(ipaddress.ip_address(netmask))).count("1")


def collect_host_facts(observed_at: datetime) -> HostFacts:
    """Read this machine's facts now. Blocking: call through a thread."""
    import psutil

    disks = []
    for partition in psutil.disk_partitions(all=False):
        try:
            usage = psutil.disk_usage(partition.mountpoint)
        except OSError:
            continue  # e.g. a CD drive with no medium, or a mount we may not stat
        disks.append(DiskUsage(partition.mountpoint, partition.device, partition.fstype, usage.total, usage.used))

    stats = psutil.net_if_stats()
    interfaces = []
    for name, addresses in sorted(psutil.net_if_addrs().items()):
        mac = ""
        cidrs = []
        for address in addresses:
            if address.family == psutil.AF_LINK:
                mac = address.address.lower()
            elif address.family in (socket.AF_INET, socket.AF_INET6) and address.netmask:
                host = address.address.split("%", 1)[0]  # drop an IPv6 zone id
                cidrs.append(f"{host}/{_prefix_length(address.netmask)}")
        stat = stats.get(name)
        interfaces.append(
            HostInterface(
                name=name,
                mac=mac,
                addresses=tuple(cidrs),
                is_up=bool(stat and stat.isup),
                speed_mbps=int(stat.speed) if stat and stat.speed > 0 else 0,
            )
        )

    memory = psutil.virtual_memory()
    uname = platform.uname()
    return HostFacts(
        hostname=socket.gethostname(),
        os=uname.system,
        os_release=_os_release(),
        kernel=uname.release,
        architecture=uname.machine,
        cpu_model=_cpu_model(),
        cpu_logical=psutil.cpu_count(logical=True) or 0,
        cpu_physical=psutil.cpu_count(logical=False) or 0,
        memory_total_bytes=memory.total,
        memory_available_bytes=memory.available,
        disks=tuple(disks),
        interfaces=tuple(interfaces),
        boot_time=datetime.fromtimestamp(psutil.boot_time(), timezone.utc),
        observed_at=observed_at,
        battery=first_battery(),
    )


class HostfactsScanner:
    name: ClassVar[str] = "hostfacts"

    def can_run(self, ctx: ScanContext) -> bool:
        return ctx.config.hostfacts_enabled

    async def scan(self, ctx: ScanContext) -> list[HostFacts]:
        facts = await asyncio.to_thread(collect_host_facts, ctx.clock())
        counts = await asyncio.to_thread(_record_boot, ctx, facts.boot_time)
        return [replace(facts, endpoint=ctx.config.mode == "endpoint",
                        reboot_count=counts.reboot_count if counts else 0,
                        reboots_last_30_days=counts.reboots_last_30_days if counts else 0)]


def _record_boot(ctx: ScanContext, boot_time: datetime) -> RebootCounts | None:
    """Add this boot to the agent's boot history; None when there is no state folder to keep it in.

    Only an existing state folder is used (the service creates it): a one-off
    `scan --once` by hand must not leave files behind.
    """
    state_dir = ctx.config.state_dir
    if not state_dir.is_dir():
        return None
    try:
        return BootHistory(state_dir).record(boot_time, ctx.clock())
    except OSError as exc:
        ctx.warnings.append(f"hostfacts: cannot keep the boot history in {state_dir}: {exc.strerror}")
        return None

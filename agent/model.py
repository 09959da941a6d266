"""What scanners return: plain, frozen observation records with no protobuf in sight.

Every observation carries the time it was made (`observed_at`, aware UTC) and the
name of the scanner that made it. agent/wire.py turns them into headcount.v1
messages; `as_json()` gives the shape printed by `headcount-agent scan --json`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Union

if TYPE_CHECKING:
    from .snmp.model import SnmpDevice


@dataclass(frozen=True, slots=True)
class ArpSighting:
    """A host answered ARP: it is alive at this IP with this MAC."""

    kind: ClassVar[str] = "arp"
    mac: str
    ip: str
    vendor: str
    locally_administered: bool
    interface: str
    observed_at: datetime
    scanner: str = "arp"


@dataclass(frozen=True, slots=True)
class DiskUsage:
    mountpoint: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int


@dataclass(frozen=True, slots=True)
class HostInterface:
    name: str
    mac: str
    addresses: tuple[str, ...]
    is_up: bool
    speed_mbps: int


@dataclass(frozen=True, slots=True)
class BatteryHealth:
    present: bool
    percent: int = 0
    design_capacity: int = 0
    full_capacity: int = 0
    cycle_count: int = 0


@dataclass(frozen=True, slots=True)
class HostFacts:
    """Facts about the machine the agent runs on."""

    kind: ClassVar[str] = "host"
    hostname: str
    os: str
    os_release: str
    kernel: str
    architecture: str
    cpu_model: str
    cpu_logical: int
    cpu_physical: int
    memory_total_bytes: int
    memory_available_bytes: int
    disks: tuple[DiskUsage, ...]
    interfaces: tuple[HostInterface, ...]
    boot_time: datetime
    observed_at: datetime
    battery: BatteryHealth | None = None
    scanner: str = field(default="hostfacts")


Observation = Union[ArpSighting, HostFacts, "SnmpDevice"]


def as_json(observation: Observation) -> dict[str, Any]:
    """A JSON-ready dict: datetimes as ISO-8601 UTC, tuples as lists, plus `kind`."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        if dataclasses.is_dataclass(value):
            return {f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        return value

    return {"kind": observation.kind, **convert(observation)}

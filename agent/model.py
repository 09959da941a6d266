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


DEVICE_CLASSES = ("chromebook", "ipad", "mac", "windows_pc", "linux_pc", "phone", "printer", "display", "iot",
                  "unknown")
NAME_POLICIES = ("keep", "pseudonymise", "drop")


@dataclass(frozen=True, slots=True)
class Classification:
    """What kind of end device a MAC is, and every rule that said so."""

    device_class: str = "unknown"          # one of DEVICE_CLASSES
    evidence: tuple[str, ...] = ()
    # Every class that scored at all, best first (agent/classify.py). Agent-internal: the name
    # policy treats the device as any of them (agent/privacy.py); agent/wire.py never sends it.
    candidates: tuple[str, ...] = ()


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
    classification: Classification | None = None
    name_policy: str = ""


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
    endpoint: bool = False               # the agent runs in endpoint mode: this host is itself a counted device
    reboot_count: int = 0                # boots seen by the agent on this host since it was installed
    reboots_last_30_days: int = 0
    classification: Classification | None = None
    name_policy: str = ""


@dataclass(frozen=True, slots=True)
class DhcpSighting:
    """A DHCP packet heard on the wire, about one client MAC (passive listening)."""

    kind: ClassVar[str] = "dhcp"
    mac: str                             # the client's hardware address (chaddr)
    ip: str                              # yiaddr/ciaddr where known, else ""
    hostname: str                        # option 12 (after the site's name policy)
    vendor_class: str                    # option 60
    client_id: bytes                     # option 61, raw (after the name policy when it is text)
    parameter_request_list: tuple[int, ...]   # option 55 in order: the fingerprint
    message_type: str                    # DISCOVER, REQUEST, ACK, ...
    interface: str
    observed_at: datetime
    requested_ip: str = ""               # option 50
    source: str = "client"               # client, or server (an OFFER/ACK naming the client)
    scanner: str = "passive"
    classification: Classification | None = None
    name_policy: str = ""

    @property
    def fingerprint(self) -> str:
        """Option 55 as fingerbank writes it: "1,3,6,15"."""
        return ",".join(str(code) for code in self.parameter_request_list)


@dataclass(frozen=True, slots=True)
class TxtEntry:
    key: str
    value: bytes
    has_value: bool = True               # "key" alone differs from "key="


@dataclass(frozen=True, slots=True)
class MdnsService:
    """One DNS-SD service instance, resolved: who offers it, where, and its TXT record."""

    kind: ClassVar[str] = "mdns"
    service_type: str                    # e.g. _ipp._tcp.local.
    instance_name: str                   # (after the site's name policy)
    host: str                            # SRV target, e.g. room-12-printer.local. (after the name policy)
    port: int
    addresses: tuple[str, ...]
    txt: tuple[TxtEntry, ...]
    observed_at: datetime
    mac: str = ""                        # when the agent could bind an address to a MAC (ARP, neighbour table)
    scanner: str = "mdns"
    classification: Classification | None = None
    name_policy: str = ""


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """One completed scan: which scanners ran to the end and how much they saw.

    Sent after the scan's observations so that the collector can count polls
    and tell "looked and did not see it" from "did not look". Only the run
    loop sends it; `scan --once` never prints one.
    """

    kind: ClassVar[str] = "scan"
    scanner: ClassVar[str] = "agent"     # made by the run loop, not by a scanner
    started_at: datetime
    finished_at: datetime
    completed: tuple[str, ...]           # scanners that finished without a scanner-level error
    failed: tuple[str, ...]              # scanners that errored
    observations: int                    # how many observations the scan made

    @property
    def observed_at(self) -> datetime:
        return self.finished_at


Observation = Union[ArpSighting, HostFacts, DhcpSighting, MdnsService, "SnmpDevice", ScanSummary]


def as_json(observation: Observation) -> dict[str, Any]:
    """A JSON-ready dict: datetimes as ISO-8601 UTC, tuples as lists, plus `kind`."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        if dataclasses.is_dataclass(value):
            return {f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        if isinstance(value, bytes):
            # DHCP client ids and TXT values are bytes: text when printable, else hex.
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                return "hex:" + value.hex()
            return text if text.isprintable() else "hex:" + value.hex()
        return value

    return {"kind": observation.kind, **convert(observation)}

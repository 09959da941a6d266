"""The collector's domain records and pure helpers; no protobuf, no database.

Timestamps are aware UTC datetimes in memory. In the database and in JSON they
are ISO-8601 UTC text of one fixed shape, `2026-11-22T08:30:15.250000Z`
(always microseconds, always `Z`), so that comparing the text orders by time:
SQLite's min(), max() and ORDER BY on those columns are chronological.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from dataclasses import dataclass, field, replace
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from headcount import macaddr
from headcount.macaddr import is_locally_administered, is_unicast  # noqa: F401  (part of this module's API)

from .errors import InvalidMacError

OBSERVATION_KINDS = ("arp", "snmp", "mdns", "dhcp", "host", "scan")

def normalize_mac(text: str) -> str:
    """aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or aabbccddeeff -> aa:bb:cc:dd:ee:ff."""
    try:
        return macaddr.normalise(text)
    except ValueError as exc:
        raise InvalidMacError(text) from exc


def ip_sort_key(ip: str) -> str:
    """Text that sorts addresses numerically (IPv4 before IPv6); unknown addresses sort last."""
    # Dotted IPv4 (what agents send, stored canonical) without the ipaddress
    # module: a 5,000-host sweep computes this for every row it writes.
    octets = ip.split(".")
    if len(octets) == 4 and all(o.isascii() and o.isdigit() and len(o) <= 3 and (o == "0" or o[0] != "0")
                                for o in octets):
        values = [int(o) for o in octets]
        if all(v <= 255 for v in values):
            return f"4:{(values[0] << 24) | (values[1] << 16) | (values[2] << 8) | values[3]:032x}"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "~"
    return f"{address.version}:{int(address):032x}"


# A batch carries a handful of distinct times for thousands of rows, and a
# table read parses the same few texts again and again: cache both ways.
@functools.lru_cache(maxsize=4096)
def format_timestamp(moment: datetime) -> str:
    """Aware datetime -> the fixed-shape UTC text described in the module docstring."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the collector only handles aware UTC times")
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@functools.lru_cache(maxsize=65536)
def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- what agents send


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    agent_id: str
    site: str
    version: str = ""
    hostname: str = ""
    scanners: tuple[str, ...] = ()
    mode: str = ""                 # "site", "endpoint", or "" from agents older than the field


@dataclass(frozen=True, slots=True)
class Classification:
    """What an agent concluded a device is (chromebook, ipad, ..., unknown) and every rule that said so."""

    device_class: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceSighting:
    """What one observation says about a device at the agent's site.

    ARP, DHCP, SNMP and an endpoint's own interfaces create a device row; mDNS
    answers and switch forwarding tables only refresh a row that exists (an
    mDNS answer alone does not prove the device sits on a swept subnet, and a
    core switch learns MACs from everywhere). Empty strings mean "not known"
    and never erase a known value.
    """

    mac: str
    ip: str = ""
    vendor: str = ""
    hostname: str = ""
    creates_device: bool = True


@dataclass(frozen=True, slots=True)
class Observation:
    """One observation from a batch, validated; `data` is its fields as plain JSON-ready values."""

    kind: str
    observed_at: datetime
    scanner: str
    data: dict[str, Any]
    mac: str = ""                        # normalised; empty when the observation is not about one MAC
    sighting: DeviceSighting | None = None
    # Second-hand sightings carried by the observation: hosts in a router's or
    # switch's ARP table (how hosts on subnets the agent cannot sweep appear).
    learned: tuple[DeviceSighting, ...] = ()
    # MACs in a switch's forwarding table: proof that a known device is alive,
    # never a new device (a core switch learns MACs from every VLAN).
    refreshed: tuple[DeviceSighting, ...] = ()
    classification: Classification | None = None
    name_policy: str = ""                # keep, pseudonymise, drop, or "" (not said)
    client_id: bytes = b""               # DHCP option 61, as it arrived
    # Host facts: the machine's own interfaces. They are sightings of one
    # device only when the agent runs in endpoint mode (`endpoint`, or the
    # agent's mode); a site agent's own PC is not a swept host.
    endpoint: bool = False
    host_sightings: tuple[DeviceSighting, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejection:
    """An observation the collector refused; the rest of its batch is still stored."""

    index: int
    kind: str
    reason: str


class IngestStatus(enum.Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    status: IngestStatus
    observations_stored: int
    last_sequence: int


# ---------------------------------------------------------------- what engineers read


@dataclass(frozen=True, slots=True)
class Device:
    site: str
    mac: str
    ip: str
    vendor: str
    locally_administered: bool
    hostname: str
    first_seen: datetime
    last_seen: datetime
    sources: tuple[str, ...] = ()
    # What the device is: the newest classification other than "unknown",
    # among every MAC of the merged device, and when it was made.
    device_class: str = ""
    class_evidence: tuple[str, ...] = ()
    classified_at: datetime | None = None
    # The merged device (one physical device, however many MACs it used) and
    # why its MACs are one device. Empty on a bare MAC row.
    device_id: str = ""
    linked_macs: tuple[str, ...] = ()    # the device's other MACs, newest first
    link_evidence: tuple[str, ...] = ()
    host_facts: dict[str, Any] | None = field(default=None, compare=False)   # HostFacts JSON of an endpoint


@dataclass(frozen=True, slots=True)
class SiteSummary:
    site: str
    devices: int                   # merged devices: one per physical device
    locally_administered: int      # MAC rows with the U/L bit set
    agents: tuple[str, ...]
    last_seen: datetime | None     # newest device sighting or agent contact; None if neither
    stable_devices: int = 0        # merged devices with at least one globally unique MAC
    randomised_devices: int = 0    # merged devices seen only through randomised MACs
    classes: tuple[tuple[str, int], ...] = ()   # (device_class, merged devices), by class name


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    site: str
    agent_id: str
    sequence: int
    kind: str
    mac: str
    observed_at: datetime
    received_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentStatus:
    agent_id: str
    site: str
    version: str
    hostname: str
    scanners: tuple[str, ...]
    last_sequence: int
    first_seen: datetime
    last_seen: datetime
    last_heartbeat: datetime | None
    host_facts: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PortState:
    if_index: int
    name: str = ""
    alias: str = ""
    oper_status: str = ""
    admin_status: str = ""
    speed_bps: int = 0
    learned_macs: int = 0
    neighbor: str = ""
    type: int = 0


@dataclass(frozen=True, slots=True)
class NetworkIdentity:
    """The newest SNMP identity of a device (switch, AP, printer, UPS...)."""

    site: str
    mac: str
    address: str
    observed_at: datetime
    vendor: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    hardware_revision: str = ""
    device_class: str = ""
    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    location: str = ""
    port_count: int = 0
    ports: tuple[PortState, ...] = ()
    errors: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SwitchPortLocation:
    """A switch forwarding table held this MAC on this port."""

    site: str
    end_mac: str
    switch_mac: str
    seen_at: datetime
    switch_name: str = ""
    switch_address: str = ""
    port_name: str = ""
    if_index: int = 0
    vlan: int = 0
    macs_on_port: int = 0


@dataclass(frozen=True, slots=True)
class DeviceDetail:
    devices: tuple[Device, ...]        # one per site holding the MAC
    history: tuple[HistoryEntry, ...]  # newest first, bounded
    network: tuple[NetworkIdentity, ...] = ()          # per site, when the device answered SNMP
    switch_ports: tuple[SwitchPortLocation, ...] = ()  # per site, the port it was last learned on


def access_port(locations: Sequence[SwitchPortLocation], window: timedelta = timedelta(hours=1)
                ) -> SwitchPortLocation | None:
    """The port a device is plugged into, from every switch that learned its MAC.

    Every switch on the path learns the MAC (on its uplink too), so among the
    sightings of the newest round, the port with the fewest MACs is the
    access port; an uplink carries many.
    """
    if not locations:
        return None
    newest = max(location.seen_at for location in locations)
    recent = [location for location in locations if location.seen_at >= newest - window]
    return min(recent, key=lambda location: (location.macs_on_port or 1 << 30, -location.seen_at.timestamp()))


def ports_with_activity(interfaces: Sequence[dict[str, Any]], fdb: Sequence[dict[str, Any]],
                        neighbors: Sequence[dict[str, Any]]) -> tuple[PortState, ...]:
    """Interfaces joined with how many MACs each learned and which neighbour it faces (JSON-shaped input)."""
    learned: dict[int, int] = {}
    for entry in fdb:
        index = int(entry.get("if_index", 0) or 0)
        if index:
            learned[index] = learned.get(index, 0) + 1
    facing: dict[int, str] = {}
    for neighbor in neighbors:
        index = int(neighbor.get("local_if_index", 0) or 0)
        if index and index not in facing:
            facing[index] = " ".join(p for p in (neighbor.get("sys_name") or neighbor.get("chassis_id", ""),
                                                 neighbor.get("port_id", "")) if p)
    return tuple(
        PortState(if_index=int(i.get("if_index", 0)), name=i.get("name") or i.get("descr", ""),
                  alias=i.get("alias", ""), oper_status=i.get("oper_status", ""),
                  admin_status=i.get("admin_status", ""), speed_bps=int(i.get("speed_bps", 0) or 0),
                  learned_macs=learned.get(int(i.get("if_index", 0)), 0),
                  neighbor=facing.get(int(i.get("if_index", 0)), ""), type=int(i.get("type", 0) or 0))
        for i in interfaces
    )


def merge_sighting(existing: Device | None, site: str, sighting: DeviceSighting,
                   observed_at: datetime, source: str) -> Device | None:
    """The device row after one more sighting; None when the sighting may not create a row.

    Batches can arrive out of order (an agent's backlog after an outage), so
    first_seen/last_seen only ever widen, and ip/vendor/hostname follow the
    newest sighting that knows them.
    """
    sources = tuple(sorted({*(existing.sources if existing else ()), source} - {""}))
    if existing is None:
        if not sighting.creates_device:
            return None
        return Device(site=site, mac=sighting.mac, ip=sighting.ip, vendor=sighting.vendor,
                      locally_administered=is_locally_administered(sighting.mac), hostname=sighting.hostname,
                      first_seen=observed_at, last_seen=observed_at, sources=sources)
    newest = observed_at >= existing.last_seen

    def pick(current: str, offered: str) -> str:
        return offered if offered and (newest or not current) else current

    return replace(
        existing,
        ip=pick(existing.ip, sighting.ip),
        vendor=pick(existing.vendor, sighting.vendor),
        hostname=pick(existing.hostname, sighting.hostname),
        first_seen=min(existing.first_seen, observed_at),
        last_seen=max(existing.last_seen, observed_at),
        sources=sources,
    )


# ---------------------------------------------------------------- inventory, assets, snapshots


@dataclass(frozen=True, slots=True)
class InventoryRow:
    """One merged device as the uniformity and flag rules read it (Store.inventory_pages).

    model/firmware come from the device's SNMP identity (network_devices, by its
    primary MAC) for infrastructure; for end devices the model and OS version come
    from the imported assets (management consoles first, then the register),
    else the endpoint agent's host facts. Empty strings mean "not known".
    """

    site: str
    device_id: str
    mac: str                             # the device's primary (newest) MAC
    device_class: str                    # 'unknown' when no rule classified it
    is_infrastructure: bool
    model: str
    firmware: str
    os_version: str
    first_seen: datetime
    last_seen: datetime
    purchase_date: date | None = None    # from the asset register
    aue_date: date | None = None         # ChromeOS auto-update expiration (earliest imported)
    last_sync: datetime | None = None    # newest management-console sync
    # An SNMP device's folded health history: its digest (health.health_digest's bytes), else fold_health's JSON.
    health: str | bytes | None = None
    host_facts: str | None = None        # an endpoint's newest host facts (JSON), for its battery, disks, reboots


@dataclass(frozen=True, slots=True)
class AssetImportOutcome:
    stored: int                          # rows written (inserted or replacing the same format's row)
    stale: tuple[tuple[str, str], ...]   # (site, device_id) that no longer exist: nothing stored for them


@dataclass(frozen=True, slots=True)
class UniformitySnapshot:
    taken_at: datetime
    scope: str                           # "district" or "school"
    school_id: str                       # "" for the district
    score: float
    parts: dict[str, Any]
    rules: list[dict[str, Any]]
    strengths: list[str]
    needs: list[str]
    id: int | None = None

"""What the SNMP scanner returns about one device: frozen records, no protobuf, no pysnmp.

Field names follow the headcount.v1 contract (SnmpDevice and friends), so
agent/wire.py maps them one to one, and `as_json()` gives the shape of
`headcount-agent probe snmp --json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class SystemGroup:
    descr: str = ""
    object_id: str = ""
    uptime_centiseconds: int = 0
    contact: str = ""
    name: str = ""
    location: str = ""
    services: int = 0


@dataclass(frozen=True, slots=True)
class Interface:
    if_index: int
    name: str = ""            # ifName (ifXTable)
    descr: str = ""           # ifDescr
    alias: str = ""           # ifAlias
    type: int = 0             # IANAifType number
    type_name: str = ""       # IANAifType label, e.g. ethernetCsmacd
    speed_bps: int = 0        # ifHighSpeed * 1e6 when ifSpeed saturates, else ifSpeed
    admin_status: str = ""    # up, down, testing
    oper_status: str = ""     # up, down, testing, unknown, dormant, notPresent, lowerLayerDown
    mac: str = ""             # aa:bb:cc:dd:ee:ff, "" when none
    in_errors: int = 0
    out_errors: int = 0
    in_discards: int = 0
    out_discards: int = 0
    in_octets: int = 0
    out_octets: int = 0


@dataclass(frozen=True, slots=True)
class FdbEntry:
    """A MAC address the switch forwards out of a port (BRIDGE-MIB / Q-BRIDGE-MIB)."""

    mac: str
    vlan: int = 0             # 0 when the table is not per VLAN (plain BRIDGE-MIB)
    if_index: int = 0         # 0 when the bridge port has no ifIndex mapping
    port_name: str = ""
    status: str = ""          # learned, mgmt, self, other, invalid


@dataclass(frozen=True, slots=True)
class LinkNeighbor:
    protocol: str             # lldp or cdp
    local_if_index: int = 0
    local_port: str = ""
    chassis_id: str = ""
    port_id: str = ""
    port_descr: str = ""
    sys_name: str = ""
    sys_descr: str = ""
    management_address: str = ""
    platform: str = ""


@dataclass(frozen=True, slots=True)
class LearnedArpEntry:
    ip: str
    mac: str
    if_index: int = 0


@dataclass(frozen=True, slots=True)
class PoePort:
    group: int
    port: int
    enabled: bool = False
    detection_status: str = ""   # disabled, searching, deliveringPower, fault, test, otherFault
    power_milliwatts: int = 0
    if_index: int = 0            # 0 when the PSE port cannot be tied to an interface


@dataclass(frozen=True, slots=True)
class PrinterSupply:
    description: str
    type: str = ""               # toner, ink, drum, ... (prtMarkerSuppliesType label)
    level: int = -2              # -1 other, -2 unknown, -3 some remaining (RFC 3805)
    max_capacity: int = -2


@dataclass(frozen=True, slots=True)
class UpsBattery:
    status: str = "unknown"      # normal, low, depleted, unknown
    charge_percent: int = 0
    minutes_remaining: int = 0
    on_battery: bool = False


@dataclass(frozen=True, slots=True)
class SnmpDevice:
    """Everything one SNMP probe learned about one device, and what went wrong while learning it."""

    kind: ClassVar[str] = "snmp"
    address: str                 # the management address that answered, host or host:port
    observed_at: datetime
    system: SystemGroup = field(default_factory=SystemGroup)
    vendor: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    hardware_revision: str = ""
    device_class: str = "other"
    mac: str = ""                # the device's own MAC where known ("" otherwise)
    interfaces: tuple[Interface, ...] = ()
    port_count: int = 0
    fdb: tuple[FdbEntry, ...] = ()
    neighbors: tuple[LinkNeighbor, ...] = ()
    arp_entries: tuple[LearnedArpEntry, ...] = ()
    poe_ports: tuple[PoePort, ...] = ()
    poe_budget_watts: int = 0    # POWER-ETHERNET-MIB pethMainPsePower summed over PSE groups
    poe_consumption_watts: int = 0
    supplies: tuple[PrinterSupply, ...] = ()
    ups_battery: UpsBattery | None = None
    credential_name: str = ""    # the name of the credential that worked, never its secret
    evidence: tuple[str, ...] = ()   # how each identity field was decided
    errors: tuple[str, ...] = ()     # per-table problems; the rest of the device is still reported
    scanner: str = "snmp"

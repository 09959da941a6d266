"""Pure parsers: walked MIB columns in, interface/FDB/neighbour/... records out.

Input is what the probe fetched, as `{column OID: [varbinds]}` plus a flat
`{OID: (tag, value)}` for scalars; nothing here touches the network, so every
parser is tested on recordings (tests/unit/agent/snmp/test_snmp_parse.py).

Device data is untrusted: a value of the wrong type, an index of the wrong
shape or a garbage string is skipped and noted in `problems` (one line per
column, with a count), never raised, so one odd row costs only that row.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Mapping, Sequence

from . import mibs
from .model import (
    FdbEntry,
    Interface,
    LearnedArpEntry,
    LinkNeighbor,
    PoePort,
    PrinterSupply,
    SystemGroup,
    UpsBattery,
)
from .values import (
    INTEGER_TAGS,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    OPAQUE,
    TAG_NAMES,
    Oid,
    Value,
    VarBind,
    format_oid,
)

Walked = Mapping[Oid, Sequence[VarBind]]
Scalars = Mapping[Oid, tuple[int, Value]]
Index = tuple[int, ...]

_STRING_TAGS = frozenset({OCTET_STRING, OPAQUE})


def text(value: bytes) -> str:
    """Device strings: UTF-8 where valid, else Latin-1; NULs and surrounding blanks/quotes dropped."""
    try:
        decoded = value.decode("utf-8")
    except UnicodeDecodeError:
        decoded = value.decode("latin-1")
    decoded = decoded.replace("\x00", "").strip()
    if len(decoded) >= 2 and decoded[0] == decoded[-1] == '"':
        decoded = decoded[1:-1].strip()
    return decoded


def mac_text(value: bytes) -> str:
    """Six octets -> aa:bb:cc:dd:ee:ff; anything else (or all zeros) -> ""."""
    if len(value) != 6 or not any(value):
        return ""
    return ":".join(f"{octet:02x}" for octet in value)


class Columns:
    """Typed access to walked columns, collecting one problem line per column with bad rows."""

    def __init__(self, walked: Walked, problems: list[str]) -> None:
        self._walked = walked
        self.problems = problems

    def _typed(self, column: Oid, name: str, accept: frozenset[int], expected: str) -> dict[Index, Value]:
        found: dict[Index, Value] = {}
        bad = 0
        example = ""
        depth = len(column)
        for oid, tag, value in self._walked.get(column, ()):
            if tag in accept and value is not None:
                found[oid[depth:]] = value
            elif tag not in (0x80, 0x81, 0x82):
                bad += 1
                example = example or f"{format_oid(oid)} is {TAG_NAMES.get(tag, hex(tag))}"
        if bad:
            self.problems.append(f"{name}: {bad} rows skipped, expected {expected} (e.g. {example})")
        return found

    def ints(self, column: Oid, name: str) -> dict[Index, int]:
        return self._typed(column, name, INTEGER_TAGS, "an integer")  # type: ignore[return-value]

    def octets(self, column: Oid, name: str) -> dict[Index, bytes]:
        return self._typed(column, name, _STRING_TAGS, "an OCTET STRING")  # type: ignore[return-value]

    def strings(self, column: Oid, name: str) -> dict[Index, str]:
        return {index: text(value) for index, value in self.octets(column, name).items()}


def system_group(scalars: Scalars) -> SystemGroup:
    def string(oid: Oid) -> str:
        tag, value = scalars.get(oid, (0, None))
        return text(value) if tag in _STRING_TAGS and isinstance(value, bytes) else ""

    def number(oid: Oid) -> int:
        tag, value = scalars.get(oid, (0, None))
        return value if tag in INTEGER_TAGS and isinstance(value, int) else 0

    tag, object_id = scalars.get(mibs.SYS_OBJECT_ID, (0, None))
    return SystemGroup(
        descr=string(mibs.SYS_DESCR),
        object_id=format_oid(object_id) if tag == OBJECT_IDENTIFIER and object_id else "",
        uptime_centiseconds=number(mibs.SYS_UPTIME),
        contact=string(mibs.SYS_CONTACT),
        name=string(mibs.SYS_NAME),
        location=string(mibs.SYS_LOCATION),
        services=number(mibs.SYS_SERVICES),
    )


def interfaces(walked: Walked, problems: list[str]) -> list[Interface]:
    """IF-MIB ifTable joined with ifXTable on ifIndex; 64-bit counters and ifHighSpeed preferred where given."""
    c = Columns(walked, problems)
    descr = c.strings(mibs.IF_DESCR, "IF-MIB ifDescr")
    types = c.ints(mibs.IF_TYPE, "IF-MIB ifType")
    speed = c.ints(mibs.IF_SPEED, "IF-MIB ifSpeed")
    phys = c.octets(mibs.IF_PHYS_ADDRESS, "IF-MIB ifPhysAddress")
    admin = c.ints(mibs.IF_ADMIN_STATUS, "IF-MIB ifAdminStatus")
    oper = c.ints(mibs.IF_OPER_STATUS, "IF-MIB ifOperStatus")
    in_octets = c.ints(mibs.IF_IN_OCTETS, "IF-MIB ifInOctets")
    in_discards = c.ints(mibs.IF_IN_DISCARDS, "IF-MIB ifInDiscards")
    in_errors = c.ints(mibs.IF_IN_ERRORS, "IF-MIB ifInErrors")
    out_octets = c.ints(mibs.IF_OUT_OCTETS, "IF-MIB ifOutOctets")
    out_discards = c.ints(mibs.IF_OUT_DISCARDS, "IF-MIB ifOutDiscards")
    out_errors = c.ints(mibs.IF_OUT_ERRORS, "IF-MIB ifOutErrors")
    name = c.strings(mibs.IF_NAME, "IF-MIB ifName")
    hc_in = c.ints(mibs.IF_HC_IN_OCTETS, "IF-MIB ifHCInOctets")
    hc_out = c.ints(mibs.IF_HC_OUT_OCTETS, "IF-MIB ifHCOutOctets")
    high_speed = c.ints(mibs.IF_HIGH_SPEED, "IF-MIB ifHighSpeed")
    alias = c.strings(mibs.IF_ALIAS, "IF-MIB ifAlias")

    # A row exists if any of these columns lists it, even with a value of the wrong type.
    indexes = {oid[len(column):] for column in (mibs.IF_DESCR, mibs.IF_TYPE, mibs.IF_OPER_STATUS, mibs.IF_NAME)
               for oid, tag, _ in walked.get(column, ()) if tag not in (0x80, 0x81, 0x82)}
    indexes = {i for i in indexes if len(i) == 1}
    result = []
    for index in sorted(indexes):
        if_type = types.get(index, 0)
        # ifSpeed saturates at 4,294,967,295 bit/s; RFC 2863 says to use ifHighSpeed (Mbit/s) then.
        bps = speed.get(index, 0)
        if index in high_speed and (bps >= 0xFFFFFFFF or bps == 0):
            bps = high_speed[index] * 1_000_000
        result.append(Interface(
            if_index=index[0],
            name=name.get(index, ""),
            descr=descr.get(index, ""),
            alias=alias.get(index, ""),
            type=if_type,
            type_name=mibs.IF_TYPE_NAMES.get(if_type, str(if_type) if if_type else ""),
            speed_bps=bps,
            admin_status=mibs.ADMIN_STATUS.get(admin.get(index, 0), ""),
            oper_status=mibs.OPER_STATUS.get(oper.get(index, 0), ""),
            mac=mac_text(phys.get(index, b"")),
            in_errors=in_errors.get(index, 0),
            out_errors=out_errors.get(index, 0),
            in_discards=in_discards.get(index, 0),
            out_discards=out_discards.get(index, 0),
            in_octets=hc_in.get(index, in_octets.get(index, 0)),
            out_octets=hc_out.get(index, out_octets.get(index, 0)),
        ))
    return result


def _mac_from_index(index: Index) -> str:
    if len(index) != 6 or any(not 0 <= part <= 255 for part in index):
        return ""
    return mac_text(bytes(index))


def forwarding_table(walked: Walked, problems: list[str], ifaces: Sequence[Interface]) -> list[FdbEntry]:
    """MAC -> port, from Q-BRIDGE-MIB (per VLAN) where the switch has it, else BRIDGE-MIB."""
    c = Columns(walked, problems)
    port_if_index = {i[0]: v for i, v in c.ints(mibs.DOT1D_BASE_PORT_IF_INDEX, "BRIDGE-MIB dot1dBasePortIfIndex").items()
                     if len(i) == 1}
    names = {iface.if_index: iface.name or iface.descr for iface in ifaces}

    def entry(mac: str, vlan: int, bridge_port: int, status: int) -> FdbEntry:
        # Bridge port 0 means "not learned on a port" (the switch's own MAC, say).
        if_index = port_if_index.get(bridge_port, 0)
        return FdbEntry(mac=mac, vlan=vlan, if_index=if_index, port_name=names.get(if_index, ""),
                        status=mibs.FDB_STATUS.get(status, ""))

    result: list[FdbEntry] = []
    q_ports = c.ints(mibs.DOT1Q_TP_FDB_PORT, "Q-BRIDGE-MIB dot1qTpFdbPort")
    if q_ports:
        q_status = c.ints(mibs.DOT1Q_TP_FDB_STATUS, "Q-BRIDGE-MIB dot1qTpFdbStatus")
        # dot1qVlanFdbId maps VLAN -> filtering database; the FDB is indexed by the database id.
        fdb_to_vlan: dict[int, int] = {}
        for index, fdb_id in c.ints(mibs.DOT1Q_VLAN_FDB_ID, "Q-BRIDGE-MIB dot1qVlanFdbId").items():
            if len(index) == 2 and fdb_id:
                fdb_to_vlan.setdefault(fdb_id, index[1])
        for index, port in q_ports.items():
            mac = _mac_from_index(index[1:])
            if len(index) != 7 or not mac:
                continue
            status = q_status.get(index, 3)
            if status == 2:
                continue
            result.append(entry(mac, fdb_to_vlan.get(index[0], index[0]), port, status))
        return result
    d_status = c.ints(mibs.DOT1D_TP_FDB_STATUS, "BRIDGE-MIB dot1dTpFdbStatus")
    for index, port in c.ints(mibs.DOT1D_TP_FDB_PORT, "BRIDGE-MIB dot1dTpFdbPort").items():
        mac = _mac_from_index(index)
        status = d_status.get(index, 3)
        if mac and status != 2:
            result.append(entry(mac, 0, port, status))
    return result


def _address_text(raw: bytes) -> str:
    if len(raw) in (4, 16):
        return str(ipaddress.ip_address(raw))
    return ""


def _lldp_id(subtype: int, raw: bytes, mac_subtype: int, network_subtype: int) -> str:
    if subtype == mac_subtype and len(raw) == 6:
        return mac_text(raw) or raw.hex()
    if subtype == network_subtype and len(raw) in (5, 17):
        return _address_text(raw[1:])   # first octet is the IANA address family
    decoded = text(raw)
    return decoded if decoded.isprintable() else raw.hex(":")


def neighbours(walked: Walked, problems: list[str], ifaces: Sequence[Interface]) -> list[LinkNeighbor]:
    """LLDP remote systems and, where present, the CDP cache."""
    c = Columns(walked, problems)
    by_if_index = {iface.if_index: iface for iface in ifaces}
    by_name = {}
    for iface in ifaces:
        for label in (iface.name, iface.descr):
            if label:
                by_name.setdefault(label, iface)
    port_if_index = {i[0]: v for i, v in c.ints(mibs.DOT1D_BASE_PORT_IF_INDEX, "BRIDGE-MIB dot1dBasePortIfIndex").items()
                     if len(i) == 1}
    loc_port_id = c.strings(mibs.LLDP_LOC_PORT_ID, "LLDP-MIB lldpLocPortId")

    def local_interface(port_num: int) -> Interface | None:
        # lldpPortNumber is not an ifIndex by definition; agents use the ifIndex,
        # the bridge port, or a private numbering. Try the named port first.
        label = loc_port_id.get((port_num,), "")
        if label in by_name:
            return by_name[label]
        if port_num in port_if_index and port_if_index[port_num] in by_if_index:
            return by_if_index[port_if_index[port_num]]
        return by_if_index.get(port_num)

    result: list[LinkNeighbor] = []
    chassis_subtype = c.ints(mibs.LLDP_REM_CHASSIS_ID_SUBTYPE, "LLDP-MIB lldpRemChassisIdSubtype")
    chassis = c.octets(mibs.LLDP_REM_CHASSIS_ID, "LLDP-MIB lldpRemChassisId")
    port_subtype = c.ints(mibs.LLDP_REM_PORT_ID_SUBTYPE, "LLDP-MIB lldpRemPortIdSubtype")
    port_id = c.octets(mibs.LLDP_REM_PORT_ID, "LLDP-MIB lldpRemPortId")
    port_descr = c.strings(mibs.LLDP_REM_PORT_DESC, "LLDP-MIB lldpRemPortDesc")
    sys_name = c.strings(mibs.LLDP_REM_SYS_NAME, "LLDP-MIB lldpRemSysName")
    sys_descr = c.strings(mibs.LLDP_REM_SYS_DESC, "LLDP-MIB lldpRemSysDesc")
    management: dict[Index, str] = {}
    depth = len(mibs.LLDP_REM_MAN_ADDR_IF_SUBTYPE)
    for oid, _, _ in walked.get(mibs.LLDP_REM_MAN_ADDR_IF_SUBTYPE, ()):
        # index: timeMark.localPort.remIndex.addrSubtype.addrLen.addr...
        index = oid[depth:]
        if len(index) >= 5 and index[3] in (1, 2) and index[4] == len(index) - 5 and index[4] in (4, 16):
            if all(0 <= part <= 255 for part in index[5:]):
                management.setdefault(index[:3], _address_text(bytes(index[5:])))
    for index in sorted(set(chassis) | set(sys_name) | set(port_id)):
        if len(index) != 3:
            continue
        local = local_interface(index[1])
        result.append(LinkNeighbor(
            protocol="lldp",
            local_if_index=local.if_index if local else 0,
            local_port=(local.name or local.descr) if local else loc_port_id.get((index[1],), str(index[1])),
            chassis_id=_lldp_id(chassis_subtype.get(index, 0), chassis.get(index, b""),
                                mibs.LLDP_CHASSIS_MAC, mibs.LLDP_CHASSIS_NETWORK_ADDRESS),
            port_id=_lldp_id(port_subtype.get(index, 0), port_id.get(index, b""),
                             mibs.LLDP_PORT_MAC, mibs.LLDP_PORT_NETWORK_ADDRESS),
            port_descr=port_descr.get(index, ""),
            sys_name=sys_name.get(index, ""),
            sys_descr=sys_descr.get(index, ""),
            management_address=management.get(index, ""),
        ))

    cdp_device = c.strings(mibs.CDP_CACHE_DEVICE_ID, "CISCO-CDP-MIB cdpCacheDeviceId")
    cdp_port = c.strings(mibs.CDP_CACHE_DEVICE_PORT, "CISCO-CDP-MIB cdpCacheDevicePort")
    cdp_platform = c.strings(mibs.CDP_CACHE_PLATFORM, "CISCO-CDP-MIB cdpCachePlatform")
    cdp_address = c.octets(mibs.CDP_CACHE_ADDRESS, "CISCO-CDP-MIB cdpCacheAddress")
    cdp_address_type = c.ints(mibs.CDP_CACHE_ADDRESS_TYPE, "CISCO-CDP-MIB cdpCacheAddressType")
    for index in sorted(set(cdp_device) | set(cdp_port)):
        if len(index) != 2:
            continue
        local = by_if_index.get(index[0])
        address = cdp_address.get(index, b"")
        result.append(LinkNeighbor(
            protocol="cdp",
            local_if_index=index[0],
            local_port=(local.name or local.descr) if local else "",
            chassis_id=cdp_device.get(index, ""),
            port_id=cdp_port.get(index, ""),
            sys_name=cdp_device.get(index, ""),
            platform=cdp_platform.get(index, ""),
            management_address=_address_text(address) if cdp_address_type.get(index, 1) == 1 else "",
        ))
    return result


def learned_arp(walked: Walked, problems: list[str]) -> list[LearnedArpEntry]:
    """The device's own ARP/neighbour cache: how a router shows hosts on subnets we cannot sweep."""
    c = Columns(walked, problems)
    result: dict[tuple[str, int], LearnedArpEntry] = {}
    media_type = c.ints(mibs.IP_NET_TO_MEDIA_TYPE, "IP-MIB ipNetToMediaType")
    for index, raw in c.octets(mibs.IP_NET_TO_MEDIA_PHYS_ADDRESS, "IP-MIB ipNetToMediaPhysAddress").items():
        mac = mac_text(raw)
        if len(index) != 5 or not mac or media_type.get(index) == 2 or not all(0 <= p <= 255 for p in index[1:]):
            continue   # type 2 = invalid: the entry is being flushed
        ip = ".".join(map(str, index[1:]))
        result[(ip, index[0])] = LearnedArpEntry(ip=ip, mac=mac, if_index=index[0])
    for index, raw in c.octets(mibs.IP_NET_TO_PHYSICAL_PHYS_ADDRESS, "IP-MIB ipNetToPhysicalPhysAddress").items():
        # index: ifIndex.addressType.length.address...
        mac = mac_text(raw)
        if len(index) < 3 or not mac or index[2] != len(index) - 3 or index[2] not in (4, 16):
            continue
        if not all(0 <= p <= 255 for p in index[3:]):
            continue
        ip = _address_text(bytes(index[3:]))
        result.setdefault((ip, index[0]), LearnedArpEntry(ip=ip, mac=mac, if_index=index[0]))
    return sorted(result.values(), key=lambda e: (e.if_index, e.ip))


def poe(walked: Walked, problems: list[str], ifaces: Sequence[Interface]) -> tuple[list[PoePort], int, int]:
    """POWER-ETHERNET-MIB ports, and the total PSE budget and draw in watts (0 when not given)."""
    c = Columns(walked, problems)
    enabled = c.ints(mibs.PETH_PSE_PORT_ADMIN_ENABLE, "POWER-ETHERNET-MIB pethPsePortAdminEnable")
    detection = c.ints(mibs.PETH_PSE_PORT_DETECTION_STATUS, "POWER-ETHERNET-MIB pethPsePortDetectionStatus")
    budget = sum(c.ints(mibs.PETH_MAIN_PSE_POWER, "POWER-ETHERNET-MIB pethMainPsePower").values())
    draw = sum(c.ints(mibs.PETH_MAIN_PSE_CONSUMPTION, "POWER-ETHERNET-MIB pethMainPseConsumptionPower").values())
    by_if_index = {iface.if_index for iface in ifaces}
    ports = []
    for index in sorted(set(enabled) | set(detection)):
        if len(index) != 2:
            continue
        # RFC 3621 leaves the PSE port -> ifIndex mapping to the vendor; with one
        # group, most number the ports as their ifIndex, so use that when it exists.
        group, port = index
        ports.append(PoePort(
            group=group, port=port, enabled=enabled.get(index) == 1,
            detection_status=mibs.POE_DETECTION.get(detection.get(index, 0), ""),
            if_index=port if group == 1 and port in by_if_index else 0,
        ))
    return ports, budget, draw


def printer_supplies(walked: Walked, problems: list[str]) -> list[PrinterSupply]:
    c = Columns(walked, problems)
    descr = c.strings(mibs.PRT_SUPPLIES_DESCRIPTION, "Printer-MIB prtMarkerSuppliesDescription")
    kind = c.ints(mibs.PRT_SUPPLIES_TYPE, "Printer-MIB prtMarkerSuppliesType")
    capacity = c.ints(mibs.PRT_SUPPLIES_MAX_CAPACITY, "Printer-MIB prtMarkerSuppliesMaxCapacity")
    level = c.ints(mibs.PRT_SUPPLIES_LEVEL, "Printer-MIB prtMarkerSuppliesLevel")
    return [
        PrinterSupply(
            description=descr.get(index, ""),
            type=mibs.SUPPLY_TYPES.get(kind.get(index, 0), ""),
            level=_signed32(level.get(index, -2)),
            max_capacity=_signed32(capacity.get(index, -2)),
        )
        for index in sorted(set(descr) | set(level))
    ]


def _signed32(value: int) -> int:
    # Some printers send -3 ("some remaining") as an unsigned 4294967293.
    return value - (1 << 32) if value >= (1 << 31) else value


def ups_battery(scalars: Scalars) -> UpsBattery | None:
    """UPS-MIB where the card exposes it, else APC PowerNet or Eaton XUPS objects; None if none."""

    def number(oid: Oid) -> int | None:
        tag, value = scalars.get(oid, (0, None))
        return value if tag in INTEGER_TAGS and isinstance(value, int) else None

    status = number(mibs.UPS_BATTERY_STATUS)
    if status is not None:
        on_battery = (number(mibs.UPS_SECONDS_ON_BATTERY) or 0) > 0
        return UpsBattery(status=mibs.UPS_BATTERY_STATES.get(status, "unknown"),
                          charge_percent=number(mibs.UPS_CHARGE_REMAINING) or 0,
                          minutes_remaining=number(mibs.UPS_MINUTES_REMAINING) or 0,
                          on_battery=on_battery)
    apc_status = number(mibs.APC_BASIC_BATTERY_STATUS)
    if apc_status is not None:
        return UpsBattery(status=mibs.APC_BATTERY_STATES.get(apc_status, "unknown"),
                          charge_percent=number(mibs.APC_ADV_BATTERY_CAPACITY) or 0,
                          minutes_remaining=(number(mibs.APC_ADV_BATTERY_RUNTIME) or 0) // 6000,
                          on_battery=number(mibs.APC_BASIC_OUTPUT_STATUS) == mibs.APC_ON_BATTERY)
    capacity = number(mibs.XUPS_BAT_CAPACITY)
    if capacity is not None:
        return UpsBattery(status="unknown", charge_percent=capacity,
                          minutes_remaining=(number(mibs.XUPS_BAT_TIME_REMAINING) or 0) // 60,
                          on_battery=number(mibs.XUPS_OUTPUT_SOURCE) == mibs.XUPS_ON_BATTERY)
    return None


def own_mac(scalars: Scalars, ifaces: Sequence[Interface], management_if_index: int) -> str:
    """The device's own MAC: the management interface's, else the bridge address, else the first port's."""
    by_index = {iface.if_index: iface for iface in ifaces}
    if management_if_index in by_index and by_index[management_if_index].mac:
        return by_index[management_if_index].mac
    tag, value = scalars.get(mibs.DOT1D_BASE_BRIDGE_ADDRESS, (0, None))
    if tag in _STRING_TAGS and isinstance(value, bytes) and mac_text(value):
        return mac_text(value)
    for iface in ifaces:
        if iface.mac:
            return iface.mac
    return ""


def group_by_column(rows: Sequence[VarBind], columns: Sequence[Oid]) -> dict[Oid, list[VarBind]]:
    """Split one walk's rows by column (for callers that walk whole tables)."""
    grouped: dict[Oid, list[VarBind]] = defaultdict(list)
    for row in rows:
        for column in columns:
            if row[0][: len(column)] == column:
                grouped[column].append(row)
                break
    return dict(grouped)


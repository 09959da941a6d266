"""How a probed device is shown: the `probe snmp --json` document and the human summary.

The JSON key names are a published interface (tooling parses them):
vendor, model, firmware, serial, sys_name, sys_descr, sys_object_id,
device_class, interfaces[{if_index, name, descr, type, speed, admin_status,
oper_status, mac}], neighbors, fdb. New keys may be added; these stay.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, TextIO

from .model import SnmpDevice


def probe_document(device: SnmpDevice) -> dict[str, Any]:
    return {
        "address": device.address,
        "vendor": device.vendor,
        "model": device.model,
        "firmware": device.firmware,
        "serial": device.serial,
        "hardware_revision": device.hardware_revision,
        "device_class": device.device_class,
        "sys_name": device.system.name,
        "sys_descr": device.system.descr,
        "sys_object_id": device.system.object_id,
        "sys_uptime_centiseconds": device.system.uptime_centiseconds,
        "sys_contact": device.system.contact,
        "sys_location": device.system.location,
        "mac": device.mac,
        "port_count": device.port_count,
        "interfaces": [
            {
                "if_index": i.if_index, "name": i.name, "descr": i.descr, "alias": i.alias,
                "type": i.type_name or i.type, "type_number": i.type, "speed": i.speed_bps,
                "admin_status": i.admin_status, "oper_status": i.oper_status, "mac": i.mac,
                "in_errors": i.in_errors, "out_errors": i.out_errors,
                "in_discards": i.in_discards, "out_discards": i.out_discards,
                "in_octets": i.in_octets, "out_octets": i.out_octets,
            }
            for i in device.interfaces
        ],
        "neighbors": [asdict(n) for n in device.neighbors],
        "fdb": [asdict(e) for e in device.fdb],
        "arp": [asdict(e) for e in device.arp_entries],
        "poe": {
            "budget_watts": device.poe_budget_watts,
            "consumption_watts": device.poe_consumption_watts,
            "ports": [asdict(p) for p in device.poe_ports],
        },
        "supplies": [asdict(s) for s in device.supplies],
        "ups_battery": asdict(device.ups_battery) if device.ups_battery else None,
        "credential": device.credential_name,
        "evidence": list(device.evidence),
        "errors": list(device.errors),
        "observed_at": device.observed_at.isoformat().replace("+00:00", "Z"),
    }


def print_summary(device: SnmpDevice, stream: TextIO) -> None:
    write = stream.write
    write(f"{device.address}: {device.vendor or 'unknown vendor'} {device.model or 'unknown model'} "
          f"({device.device_class})\n")
    for label, value in (("name", device.system.name), ("serial", device.serial), ("firmware", device.firmware),
                         ("hardware rev", device.hardware_revision), ("MAC", device.mac),
                         ("credential", device.credential_name), ("sysObjectID", device.system.object_id)):
        if value:
            write(f"  {label:<13} {value}\n")
    up = sum(1 for i in device.interfaces if i.oper_status == "up")
    write(f"  {'ports':<13} {device.port_count} ({len(device.interfaces)} interfaces, {up} up)\n")
    if device.fdb:
        write(f"  {'MACs learned':<13} {len(device.fdb)}\n")
    for neighbour in device.neighbors:
        write(f"  {neighbour.protocol} neighbour on {neighbour.local_port or neighbour.local_if_index}: "
              f"{neighbour.sys_name or neighbour.chassis_id} port {neighbour.port_id}\n")
    if device.arp_entries:
        write(f"  {'ARP entries':<13} {len(device.arp_entries)}\n")
    if device.poe_ports:
        delivering = sum(1 for p in device.poe_ports if p.detection_status == "deliveringPower")
        write(f"  {'PoE':<13} {delivering}/{len(device.poe_ports)} ports powered, "
              f"{device.poe_consumption_watts}/{device.poe_budget_watts} W\n")
    for supply in device.supplies:
        level = f"{supply.level}/{supply.max_capacity}" if supply.level >= 0 else "unknown"
        write(f"  supply {supply.description or supply.type}: {level}\n")
    if device.ups_battery:
        b = device.ups_battery
        write(f"  battery       {b.status}, {b.charge_percent}% , {b.minutes_remaining} min"
              f"{', ON BATTERY' if b.on_battery else ''}\n")
    for line in device.evidence:
        write(f"  evidence: {line}\n")
    for problem in device.errors:
        write(f"  problem: {problem}\n")

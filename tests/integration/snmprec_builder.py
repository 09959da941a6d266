"""Write small .snmprec recordings for tests: a switch with a forwarding table, a printer, odd devices.

snmpsim serves them as real SNMP agents; the community is the file name.
Lines are written in numeric OID order, as snmpsim expects.
"""

from __future__ import annotations

from pathlib import Path

INTEGER, OCTETS, OID, COUNTER32, GAUGE32, TIMETICKS = "2", "4", "6", "65", "66", "67"


def write_snmprec(path: Path, rows: dict[str, tuple[str, str]]) -> Path:
    def key(oid: str) -> tuple[int, ...]:
        return tuple(int(part) for part in oid.split("."))

    lines = [f"{oid}|{tag}|{value}" for oid, (tag, value) in sorted(rows.items(), key=lambda item: key(item[0]))]
    path.write_text("\n".join(lines) + "\n")
    return path


def mac_hex(mac: str) -> str:
    return mac.replace(":", "").lower()


def mac_index(mac: str) -> str:
    return ".".join(str(int(part, 16)) for part in mac.split(":"))


def system_rows(descr: str, object_id: str, name: str) -> dict[str, tuple[str, str]]:
    return {
        "1.3.6.1.2.1.1.1.0": (OCTETS, descr),
        "1.3.6.1.2.1.1.2.0": (OID, object_id),
        "1.3.6.1.2.1.1.3.0": (TIMETICKS, "4242424"),
        "1.3.6.1.2.1.1.4.0": (OCTETS, "it@district.example"),
        "1.3.6.1.2.1.1.5.0": (OCTETS, name),
        "1.3.6.1.2.1.1.6.0": (OCTETS, "Room 101"),
        "1.3.6.1.2.1.1.7.0": (INTEGER, "2"),
    }


def switch_rows(*, name: str, base_mac: str, ports: int, learned: dict[str, int], model: str, serial: str,
                firmware: str, uplink: int | None = None, uplink_macs: list[str] = ()) -> dict[str, tuple[str, str]]:
    """A managed switch: ifTable/ifXTable, ENTITY-MIB chassis, BRIDGE-MIB FDB (MAC -> port), LLDP on the uplink."""
    rows = system_rows(f"{model} {ports}-port managed switch, firmware {firmware}",
                       "1.3.6.1.4.1.8072.3.2.10", name)
    base = [int(part, 16) for part in base_mac.split(":")]
    for port in range(1, ports + 1):
        mac = ":".join(f"{b:02x}" for b in base[:5] + [(base[5] + port) & 0xFF])
        rows[f"1.3.6.1.2.1.2.2.1.1.{port}"] = (INTEGER, str(port))
        rows[f"1.3.6.1.2.1.2.2.1.2.{port}"] = (OCTETS, f"GigabitEthernet0/{port}")
        rows[f"1.3.6.1.2.1.2.2.1.3.{port}"] = (INTEGER, "6")
        rows[f"1.3.6.1.2.1.2.2.1.5.{port}"] = (GAUGE32, "1000000000")
        rows[f"1.3.6.1.2.1.2.2.1.6.{port}"] = (OCTETS + "x", mac_hex(mac))
        rows[f"1.3.6.1.2.1.2.2.1.7.{port}"] = (INTEGER, "1")
        up = port in learned.values() or port == uplink
        rows[f"1.3.6.1.2.1.2.2.1.8.{port}"] = (INTEGER, "1" if up else "2")
        rows[f"1.3.6.1.2.1.2.2.1.14.{port}"] = (COUNTER32, str(port * 3))
        rows[f"1.3.6.1.2.1.31.1.1.1.1.{port}"] = (OCTETS, f"Gi0/{port}")
        rows[f"1.3.6.1.2.1.31.1.1.1.15.{port}"] = (GAUGE32, "1000")
        rows[f"1.3.6.1.2.1.31.1.1.1.18.{port}"] = (OCTETS, "uplink" if port == uplink else f"classroom {port}")
        rows[f"1.3.6.1.2.1.17.1.4.1.2.{port}"] = (INTEGER, str(port))
    rows["1.3.6.1.2.1.17.1.1.0"] = (OCTETS + "x", mac_hex(base_mac))
    for mac, port in list(learned.items()) + [(m, uplink) for m in uplink_macs]:
        rows[f"1.3.6.1.2.1.17.4.3.1.1.{mac_index(mac)}"] = (OCTETS + "x", mac_hex(mac))
        rows[f"1.3.6.1.2.1.17.4.3.1.2.{mac_index(mac)}"] = (INTEGER, str(port))
        rows[f"1.3.6.1.2.1.17.4.3.1.3.{mac_index(mac)}"] = (INTEGER, "3")
    # ENTITY-MIB: one chassis (entPhysicalClass 3).
    entity = "1.3.6.1.2.1.47.1.1.1.1"
    rows.update({
        f"{entity}.2.1": (OCTETS, f"{model} chassis"),
        f"{entity}.4.1": (INTEGER, "0"),
        f"{entity}.5.1": (INTEGER, "3"),
        f"{entity}.7.1": (OCTETS, name),
        f"{entity}.8.1": (OCTETS, "B0"),
        f"{entity}.10.1": (OCTETS, firmware),
        f"{entity}.11.1": (OCTETS, serial),
        f"{entity}.12.1": (OCTETS, "Test Networks"),
        f"{entity}.13.1": (OCTETS, model),
    })
    if uplink:
        remote = "1.0.8802.1.1.2.1.4.1.1"
        rows[f"1.0.8802.1.1.2.1.3.7.1.3.{uplink}"] = (OCTETS, f"Gi0/{uplink}")
        rows[f"{remote}.4.0.{uplink}.1"] = (INTEGER, "4")
        rows[f"{remote}.5.0.{uplink}.1"] = (OCTETS + "x", "02aabbccdd01")
        rows[f"{remote}.6.0.{uplink}.1"] = (INTEGER, "5")
        rows[f"{remote}.7.0.{uplink}.1"] = (OCTETS, "Te1/0/24")
        rows[f"{remote}.9.0.{uplink}.1"] = (OCTETS, "district-core")
    return rows

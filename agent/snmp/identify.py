"""Identify a device from what it said over SNMP: the small engine that applies identity_rules.

Pure: `identify(values)` takes every fetched `OID -> (tag, value)` and returns
vendor, model, firmware, serial, hardware revision, class and the evidence
for each. `identity_requests()` says what to fetch after the system group,
so a device is only asked for its own vendor's objects.

Precedence, per field: the profiles whose sysObjectID prefix (or sysDescr
pattern) matches, most specific first, then the standard MIBs (GENERIC).
Vendor objects come first because where a vendor MIB names the model, it is
the name the vendor's own tools and asset registers use; ENTITY-MIB comes
next because it is structured; sysDescr patterns last, as they are prose.
Device data is untrusted: a missing object, an exception value or a value
of the wrong type is simply no evidence, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping

from . import identity_rules as rules
from .identity_rules import Descr, Entity, FirstRow, Get, Opt, Product, Profile, Source, Template
from .parse import text
from .values import INTEGER_TAGS, OBJECT_IDENTIFIER, OCTET_STRING, OPAQUE, Oid, Value, format_oid

Values = Mapping[Oid, tuple[int, Value]]

SYSTEM_OIDS: tuple[Oid, ...] = tuple((1, 3, 6, 1, 2, 1, 1, n, 0) for n in range(1, 8))
_SYS_DESCR = SYSTEM_OIDS[0]
_SYS_OBJECT_ID = SYSTEM_OIDS[1]
_SYS_NAME = SYSTEM_OIDS[4]
_SYS_SERVICES = SYSTEM_OIDS[6]
_FIELDS = ("model", "firmware", "serial", "hardware_revision")


@dataclass(frozen=True, slots=True)
class IdentityRequests:
    gets: tuple[Oid, ...]
    walks: tuple[Oid, ...]
    # ENTITY-MIB entPhysicalTable columns the rules read. The probe fetches only
    # the rows that can matter (chassis, top level): a modular chassis lists
    # thousands of sensors and transceivers nobody identifies a device by.
    entity_columns: tuple[Oid, ...] = ()


@dataclass(frozen=True, slots=True)
class Identity:
    vendor: str
    model: str
    firmware: str
    serial: str
    hardware_revision: str
    device_class: str
    sys_name: str
    evidence: tuple[str, ...]


def _brother_model(value: str) -> str:
    # "Brother HL-5370DW series [001ba90ba752]" -> "HL-5370DW [001ba90ba752]"
    return re.sub(r"^Brother\s+", "", value).replace(" series", "")


def _pml(value: str) -> str:
    # HP PML strings start with two framing bytes (type and length) before the text.
    return value.lstrip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x10\x11\x12\x13\x14\x15\x16").split("\n")[0].strip()


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "": lambda value: value,
    "upper": str.upper,
    "brother_model": _brother_model,
    "pml": _pml,
}


def matching_profiles(object_id: Oid | None, descr: str) -> list[Profile]:
    """Profiles that apply to this device, most specific first, then GENERIC."""
    matched = []
    for profile in rules.PROFILES:
        by_oid = bool(profile.object_id_prefix) and object_id is not None and \
            object_id[: len(profile.object_id_prefix)] == profile.object_id_prefix
        by_descr = bool(profile.descr_match) and _search(profile.descr_match, descr) is not None
        if by_oid or by_descr:
            matched.append(profile)
    matched.sort(key=lambda p: (not p.descr_match, -len(p.object_id_prefix)))
    return [*matched, rules.GENERIC]


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if pattern.startswith("(?i)") else 0)


def _search(pattern: str, value: str) -> re.Match[str] | None:
    return _compiled(pattern).search(value)


def _sources(source: Source):
    if isinstance(source, Template):
        for part in source.parts:
            if isinstance(part, Opt):
                yield from _sources(part.source)
            elif not isinstance(part, str):
                yield from _sources(part)
    else:
        yield source


def identity_requests(sys_object_id: Oid | None, sys_descr: str) -> IdentityRequests:
    gets: dict[Oid, None] = {}
    walks: dict[Oid, None] = {}
    entity = tuple(rules.ENTITY_TABLE + (rules.ENTITY_COLUMNS[name],) for name in rules.ENTITY_READ)
    for profile in matching_profiles(sys_object_id, sys_descr):
        for field in _FIELDS:
            for source in getattr(profile, field):
                for leaf in _sources(source):
                    if isinstance(leaf, Get):
                        gets[leaf.oid] = None
                    elif isinstance(leaf, FirstRow):
                        walks[leaf.column] = None
    return IdentityRequests(gets=tuple(gets), walks=tuple(walks), entity_columns=entity)


class _Device:
    """Typed, forgiving access to one device's values for the rule engine."""

    def __init__(self, values: Values):
        self.values = values
        tag, value = values.get(_SYS_OBJECT_ID, (0, None))
        self.object_id: Oid | None = value if tag == OBJECT_IDENTIFIER and isinstance(value, tuple) else None
        self.descr = self.string(_SYS_DESCR)
        self._entity: dict[int, dict[int, Value]] | None = None

    def string(self, oid: Oid) -> str:
        tag, value = self.values.get(oid, (0, None))
        if tag in (OCTET_STRING, OPAQUE) and isinstance(value, bytes):
            return text(value)
        return ""

    def number(self, oid: Oid) -> int | None:
        tag, value = self.values.get(oid, (0, None))
        return value if tag in INTEGER_TAGS and isinstance(value, int) else None

    def first_row(self, column: Oid) -> str:
        depth = len(column)
        rows = sorted(oid for oid in self.values if oid[:depth] == column and len(oid) > depth)
        for oid in rows:
            found = self.string(oid)
            if found:
                return found
        return ""

    def entity_rows(self) -> dict[int, dict[int, Value]]:
        if self._entity is None:
            rows: dict[int, dict[int, Value]] = {}
            depth = len(rules.ENTITY_TABLE)
            for oid, (tag, value) in self.values.items():
                if oid[:depth] == rules.ENTITY_TABLE and len(oid) == depth + 2 and value is not None:
                    if tag in (OCTET_STRING, OPAQUE) and isinstance(value, bytes):
                        rows.setdefault(oid[depth + 1], {})[oid[depth]] = text(value)
                    elif tag in INTEGER_TAGS:
                        rows.setdefault(oid[depth + 1], {})[oid[depth]] = value
            self._entity = rows
        return self._entity

    def entity(self, column: str) -> tuple[str, str]:
        """(value, which row) from the chassis, else the top-level entity, else the first row that has it."""
        number = rules.ENTITY_COLUMNS[column]
        rows = self.entity_rows()
        ordered = sorted(rows)
        chassis = [i for i in ordered if rows[i].get(rules.ENTITY_COLUMNS["class"]) == rules.ENTITY_CHASSIS]
        top = [i for i in ordered if rows[i].get(rules.ENTITY_COLUMNS["contained_in"]) == 0]
        for label, candidates in (("chassis", chassis), ("top-level entity", top), ("entity", ordered)):
            for index in candidates:
                value = rows[index].get(number)
                if isinstance(value, str) and value:
                    return value, f"{label} {index}"
        return "", ""

    def product_name(self) -> str:
        return rules.PRODUCT_NAMES.get(self.object_id, "") if self.object_id else ""


def _apply(pattern: str, transform: str, value: str) -> str:
    if value and pattern:
        match = _search(pattern, value)
        value = (match.group(1) if match.groups() else match.group(0)) if match else ""
    return TRANSFORMS.get(transform, TRANSFORMS[""])(value.strip()).strip() if value else ""


def _evaluate(source: Source, device: _Device) -> tuple[str, str]:
    """(value, description of where it came from); value "" when the source has nothing."""
    if isinstance(source, Get):
        return _apply(source.pattern, source.transform, device.string(source.oid)), f"GET {format_oid(source.oid)}"
    if isinstance(source, FirstRow):
        return (_apply(source.pattern, source.transform, device.first_row(source.column)),
                f"first row of {format_oid(source.column)}")
    if isinstance(source, Entity):
        value, row = device.entity(source.column)
        return _apply(source.pattern, source.transform, value), f"ENTITY-MIB entPhysical {source.column} ({row})"
    if isinstance(source, Descr):
        return _apply(source.pattern, source.transform, device.descr), f"sysDescr /{source.pattern}/"
    if isinstance(source, Product):
        return _apply("", source.transform, device.product_name()), "products-MIB name of sysObjectID"
    if isinstance(source, Template):
        pieces, whence = [], []
        for part in source.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            optional = isinstance(part, Opt)
            value, where = _evaluate(part.source if optional else part, device)
            if not value:
                if optional:
                    continue
                return "", ""
            pieces.append((part.text if optional else "") + value)
            whence.append(where)
        return "".join(pieces).strip(), " + ".join(whence)
    raise TypeError(f"unknown rule source {source!r}")


def _classify(profiles: list[Profile], device: _Device, model: str) -> tuple[str, str]:
    # The model outranks the vendor profile: one sysObjectID family can hold both
    # access points and controllers (Ruckus), or an OEM's controller (Dell W-series).
    for pattern, device_class in rules.CLASS_BY_MODEL:
        if model and _search(pattern, model):
            return device_class, f"class: model {model!r} matches /{pattern}/"
    for profile in profiles:
        if profile.device_class:
            return profile.device_class, f"class: {profile.name} profile"
    for pattern, device_class in rules.CLASS_BY_DESCR:
        if _search("(?i)" + pattern if not pattern.startswith("(?i)") else pattern, device.descr):
            return device_class, f"class: sysDescr matches /{pattern}/"
    if device.first_row(rules.PRT_GENERAL_SERIAL_1[:-1]) or device.string(rules.PRT_GENERAL_SERIAL_1):
        return "printer", "class: answers Printer-MIB"
    if device.string(rules.UPS_IDENT_MODEL) or device.string(rules.UPS_IDENT_MANUFACTURER):
        return "ups", "class: answers UPS-MIB"
    services = device.number(_SYS_SERVICES) or 0
    if services & rules.SERVICES_ROUTER:
        return "router", "class: sysServices has the internet layer"
    if services & rules.SERVICES_BRIDGE:
        return "switch", "class: sysServices has the datalink layer"
    return "other", "class: no rule matched"


def identify(values: Values) -> Identity:
    device = _Device(values)
    profiles = matching_profiles(device.object_id, device.descr)
    found: dict[str, str] = {}
    evidence: list[str] = []
    for field in _FIELDS:
        found[field] = ""
        for profile in profiles:
            for source in getattr(profile, field):
                value, where = _evaluate(source, device)
                if value:
                    found[field] = value
                    evidence.append(f"{field.replace('_', ' ')}: {where} ({profile.name})")
                    break
            if found[field]:
                break
    vendor = next((p.vendor for p in profiles if p.vendor), "")
    if vendor:
        evidence.insert(0, f"vendor: {next(p.name for p in profiles if p.vendor)} profile")
    elif device.object_id and device.object_id[:6] == rules.PEN and len(device.object_id) > 6:
        vendor = rules.ENTERPRISES.get(device.object_id[6], "")
        if vendor:
            evidence.insert(0, f"vendor: enterprise number {device.object_id[6]} in sysObjectID")
    device_class, why = _classify(profiles, device, found["model"])
    evidence.append(why)
    return Identity(vendor=vendor, model=found["model"], firmware=found["firmware"], serial=found["serial"],
                    hardware_revision=found["hardware_revision"], device_class=device_class,
                    sys_name=device.string(_SYS_NAME), evidence=tuple(evidence))

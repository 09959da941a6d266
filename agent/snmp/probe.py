"""Probe one device: find a credential that works, identify it, read its tables.

This is the only place that decides *what* to fetch; client.py decides *how*,
parse.py and identify.py turn what came back into records. A failure in one
table is written into the device's `errors` and the probe goes on; only "no
credential got an answer" fails the whole device.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, Sequence

from ..errors import SnmpError, SnmpTimeoutError
from . import mibs, parse
from .client import Options, Session, Target, open_session
from .credentials import Credential, credentials_for, redact
from .identify import SYSTEM_OIDS, identify, identity_requests
from .model import SnmpDevice
from .ports import select_ports
from .values import EXCEPTION_TAGS, OBJECT_IDENTIFIER, OCTET_STRING, Oid, Value, VarBind

log = logging.getLogger(__name__)

# GETs go in small groups: some agents answer tooBig or genErr to long lists,
# and v1 fails a whole request for one missing object.
_GET_CHUNK = 16
# After this many walks in a row got no answer at all, the device is gone:
# stop instead of waiting out a timeout for each of the remaining tables.
_GIVE_UP_AFTER_TIMEOUTS = 2


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    options: Options = Options()
    engine: str = "fast"              # "fast" (own v1/v2c codec) or "pysnmp" (every version through pysnmp)
    sections: tuple[str, ...] = tuple(mibs.SECTIONS)


@dataclass(slots=True)
class _Fetched:
    scalars: dict[Oid, tuple[int, Value]] = field(default_factory=dict)
    walked: dict[Oid, list[VarBind]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    silent_walks: int = 0


async def connect(target: Target, credentials: Sequence[Credential], settings: ProbeSettings = ProbeSettings(),
                  remembered: str = "", pysnmp_engine=None) -> tuple[Session, dict[Oid, tuple[int, Value]]]:
    """Try each applicable credential in order; return the session that answered and the system group."""
    candidates = credentials_for(target.host, credentials, remembered)
    if not candidates:
        raise SnmpError(f"{target}: no SNMP credential applies to this address (check applies_to)")
    failures = []
    for credential in candidates:
        session = open_session(target, credential, settings.options, settings.engine, pysnmp_engine)
        try:
            system = await session.get(SYSTEM_OIDS)
        except SnmpTimeoutError as exc:
            # Keep what the transport saw (malformed replies, ICMP errors): it is the useful part.
            detail = str(exc).split("; ", 1)[1] if "; " in str(exc) else ""
            failures.append(f"{credential.describe()}: no answer{'; ' + detail if detail else ''}")
        except SnmpError as exc:
            failures.append(f"{credential.describe()}: {exc}")
        else:
            return session, {oid: (tag, value) for oid, tag, value in system}
        session.close()
    raise SnmpError(redact(f"{target}: no credential got an answer ({'; '.join(failures)})", credentials))


async def probe(target: Target, credentials: Sequence[Credential], clock: Callable[[], datetime],
                settings: ProbeSettings = ProbeSettings(), remembered: str = "", pysnmp_engine=None,
                known_mac: str = "") -> SnmpDevice:
    """Everything about one device. Raises SnmpError only when no credential got an answer."""
    session, system = await connect(target, credentials, settings, remembered, pysnmp_engine)
    try:
        fetched = _Fetched(scalars=dict(system))
        await _collect(session, fetched, settings)
    finally:
        session.close()
    device = build_device(str(target), fetched.scalars, fetched.walked, fetched.problems, clock(),
                          management_ip=target.host, known_mac=known_mac)
    errors = tuple(redact(problem, credentials) for problem in device.errors)
    return replace(device, credential_name=session.credential.name, errors=errors)


async def _collect(session: Session, fetched: _Fetched, settings: ProbeSettings) -> None:
    object_id = fetched.scalars.get(mibs.SYS_OBJECT_ID, (0, None))
    descr = fetched.scalars.get(mibs.SYS_DESCR, (0, None))
    requests = identity_requests(
        object_id[1] if object_id[0] == OBJECT_IDENTIFIER else None,
        parse.text(descr[1]) if descr[0] == OCTET_STRING and isinstance(descr[1], bytes) else "",
    )
    # The class from the system group alone (sysObjectID, sysDescr) decides which
    # tables are worth reading; the full identification comes after the GETs.
    early_class = identify(fetched.scalars).device_class
    wanted = mibs.SECTIONS_BY_CLASS.get(early_class, tuple(mibs.SECTIONS))
    sections = [section for section in settings.sections if section in wanted]
    if object_id[0] == OBJECT_IDENTIFIER and object_id[1][:7] != mibs.CISCO_ENTERPRISE and "cdp" in sections:
        sections.remove("cdp")   # CISCO-CDP-MIB is Cisco's own; other vendors speak LLDP
    gets = list(requests.gets) + [mibs.DOT1D_BASE_BRIDGE_ADDRESS]
    if early_class in ("ups", "other"):
        gets += mibs.UPS_GETS
    management = _ip_address_index(session.target.host)
    if management:
        gets.append(mibs.IP_AD_ENT_IF_INDEX + management)
    for start in range(0, len(gets), _GET_CHUNK):
        chunk = gets[start:start + _GET_CHUNK]
        try:
            for oid, tag, value in await session.get(chunk):
                if tag not in EXCEPTION_TAGS:
                    fetched.scalars[oid] = (tag, value)
        except SnmpError as exc:
            fetched.problems.append(f"GET of {len(chunk)} identity objects failed: {exc}")
    await _read_entity_rows(session, fetched, requests.entity_columns)
    # Columns are read in groups, one cursor per column in each GETBULK: the identity
    # columns together, then each section (interfaces, bridge, LLDP, ...) together.
    groups = [list(requests.walks)] + [list(mibs.SECTIONS[section]) for section in sections]
    groups = [group for group in groups if group]
    for number, columns in enumerate(groups):
        if fetched.silent_walks >= _GIVE_UP_AFTER_TIMEOUTS:
            fetched.problems.append(
                f"stopped reading tables: the device stopped answering "
                f"({len(groups) - number} of {len(groups)} table groups not read)"
            )
            return
        results = await session.walk_columns(columns)
        silent = bool(results) and all("no answer" in r.problem and not r.rows for r in results.values())
        for column, result in results.items():
            fetched.walked[column] = result.rows
        problems = [r.problem for r in results.values() if r.problem]
        if silent:
            # One line for the group, not one per column: the device simply did not answer.
            fetched.problems.append(problems[0] + f" (and {len(problems) - 1} more columns of this group)"
                                    if len(problems) > 1 else problems[0])
        else:
            fetched.problems.extend(problems)
        fetched.silent_walks = fetched.silent_walks + 1 if silent else 0


# Up to this many entPhysicalTable rows, the whole of the needed columns is read;
# above it, only the chassis, top-level and first rows are fetched by GET.
_ENTITY_WALK_ALL_ROWS = 32
_ENTITY_CANDIDATES = 8


async def _read_entity_rows(session: Session, fetched: _Fetched, columns: tuple[Oid, ...]) -> None:
    """The ENTITY-MIB rows identification can use, without walking a big chassis's every sensor."""
    if not columns:
        return
    class_column, contained_column = columns[0], columns[1]   # ENTITY_READ starts with these two
    results = await session.walk_columns([class_column, contained_column])
    for column, result in results.items():
        fetched.walked[column] = result.rows
        if result.problem:
            fetched.problems.append(result.problem)
    kinds = {oid[len(class_column):]: value for oid, _, value in results[class_column].rows}
    parents = {oid[len(contained_column):]: value for oid, _, value in results[contained_column].rows}
    indexes = sorted(set(kinds) | set(parents))
    if len(indexes) <= _ENTITY_WALK_ALL_ROWS:
        for column, result in (await session.walk_columns(list(columns[2:]))).items():
            fetched.walked[column] = result.rows
            if result.problem:
                fetched.problems.append(result.problem)
        return
    chassis = [i for i in indexes if kinds.get(i) == 3]
    top = [i for i in indexes if parents.get(i) == 0]
    candidates = list(dict.fromkeys(chassis[:_ENTITY_CANDIDATES] + top[:_ENTITY_CANDIDATES] + indexes[:4]))
    oids = [column + index for index in candidates for column in columns[2:]]
    for start in range(0, len(oids), _GET_CHUNK):
        try:
            for oid, tag, value in await session.get(oids[start:start + _GET_CHUNK]):
                if tag not in EXCEPTION_TAGS:
                    fetched.walked.setdefault(next(c for c in columns[2:] if oid[:len(c)] == c), []).append(
                        (oid, tag, value))
        except SnmpError as exc:
            fetched.problems.append(f"ENTITY-MIB rows: GET failed: {exc}")
            return


def _ip_address_index(host: str) -> Oid:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ()
    return tuple(address.packed) if address.version == 4 else ()


def build_device(address: str, scalars: dict[Oid, tuple[int, Value]], walked: dict[Oid, list[VarBind]],
                 problems: Sequence[str], observed_at: datetime, management_ip: str = "",
                 known_mac: str = "") -> SnmpDevice:
    """Pure: fetched values -> SnmpDevice. Also used on recordings by tests and bench/snmp_accuracy.py."""
    problems = list(problems)
    values: dict[Oid, tuple[int, Value]] = dict(scalars)
    for rows in walked.values():
        for oid, tag, value in rows:
            values[oid] = (tag, value)
    identity = identify(values)
    system = parse.system_group(scalars)
    interfaces = parse.interfaces(walked, problems)
    management_if_index = 0
    index = _ip_address_index(management_ip)
    if index:
        tag, value = scalars.get(mibs.IP_AD_ENT_IF_INDEX + index, (0, None))
        management_if_index = value if isinstance(value, int) else 0
    poe_ports, budget, draw = parse.poe(walked, problems, interfaces)
    return SnmpDevice(
        address=address,
        observed_at=observed_at,
        system=system,
        vendor=identity.vendor,
        model=identity.model,
        serial=identity.serial,
        firmware=identity.firmware,
        hardware_revision=identity.hardware_revision,
        device_class=identity.device_class,
        mac=known_mac or parse.own_mac(scalars, interfaces, management_if_index),
        interfaces=tuple(interfaces),
        port_count=len(select_ports(interfaces)),
        fdb=tuple(parse.forwarding_table(walked, problems, interfaces)),
        neighbors=tuple(parse.neighbours(walked, problems, interfaces)),
        arp_entries=tuple(parse.learned_arp(walked, problems)),
        poe_ports=tuple(poe_ports),
        poe_budget_watts=budget,
        poe_consumption_watts=draw,
        supplies=tuple(parse.printer_supplies(walked, problems)),
        ups_battery=parse.ups_battery(scalars),
        evidence=identity.evidence,
        errors=tuple(problems),
    )

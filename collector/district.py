"""District jobs run from the command line: importing asset files and evaluating uniformity.

Glue only: the reading and matching rules are assets.py's, the checks are
uniformity.py's, the database is store.py's. Each job takes an open Store
and returns what it did, so __main__ only parses arguments and prints.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import heapq
import json
import multiprocessing
import os
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate, chain
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

from .assets import OFF_NETWORK_AFTER_DAYS, AssetMatch, AssetRecord, ImportFile, MatchReport, management_findings, match_assets, read_import
from .calendar import SchoolCalendar
from .health import endpoint_readings, load_health
from .flags import (AGENT_KEY_PREFIX, KIND_AUE, MISSING, OFFLINE, ONLINE, PRESENCE_KINDS, UNKNOWN_AGENT_SILENT,
                    AgentState, Condition, DeviceState, Flag, FlagPolicy, RefurbishFlag, Status, advance_flags,
                    agent_flag, agent_is_silent, clearly_healthy, health_flags, missed_polls, offline_status,
                    refurbish_flags, status_condition)
from .quiet import QuietCutoffs
from .model import AssetImportOutcome, InventoryRow, UniformitySnapshot, format_timestamp, parse_timestamp
from .standards import INFRASTRUCTURE_CLASSES, Standards
from .store import (FlagRows, ShardReader, Store, StoredFlags, TemplatedDevice, evidence_from_json,
                    evidence_json as _evidence_json, flag_rows, snapshot_rows)
from .uniformity import (DistrictReport, InventoryDevice, RuleResult, SchoolReport, SchoolsCounted, ScoreParts,
                         count_schools, district_report, evaluate_counts)


@dataclass(frozen=True)
class AssetImport:
    file: ImportFile
    report: MatchReport
    outcome: AssetImportOutcome


async def import_asset_file(store: Store, path: Path, standards: Standards | None, now: datetime) -> AssetImport:
    """Read `path`, match its rows to the store's devices, store the matches in one transaction.

    Raises assets.AssetImportError when the file cannot be read at all; bad rows are in the result.
    """
    imported = read_import(path)
    schools: list[str] = []
    if standards is not None:
        for school in standards.schools:
            schools += [school.id, school.name, school.short_name]
    report = match_assets(imported.records, await store.asset_candidates(), schools)
    outcome = await store.import_assets(report.matched, now)
    return AssetImport(imported, report, outcome)


def inventory_device(row: InventoryRow) -> InventoryDevice:
    return InventoryDevice(site=row.site, device_id=row.device_id, device_class=row.device_class,
                           model=row.model or None, firmware=row.firmware or None,
                           os_version=row.os_version or None, is_infrastructure=row.is_infrastructure)


async def read_inventory(store: Store) -> list[InventoryRow]:
    rows: list[InventoryRow] = []
    async for page in store.inventory_pages():
        rows += page
    return rows


_RULE_FIELDS = tuple(field.name for field in dataclasses.fields(RuleResult))


def _rules(rules: Iterable[RuleResult]) -> list[dict[str, Any]]:
    # dataclasses.asdict's deep copy is most of the cost of a thousand schools' snapshots; the fields are flat.
    return [dict({name: getattr(rule, name) for name in _RULE_FIELDS}, detail=list(rule.detail)) for rule in rules]


def _parts(parts: ScoreParts) -> dict[str, Any]:
    return {"approved_share": parts.approved_share, "approved_devices": parts.approved_devices,
            "measured_devices": parts.measured_devices, "firmware_versions": dict(parts.firmware_versions),
            "firmware_uniformity": parts.firmware_uniformity, "ratios": dict(parts.ratios),
            "ratio_score": parts.ratio_score}


def snapshots_of(report: DistrictReport) -> list[UniformitySnapshot]:
    """The district's snapshot first, then one per school, all dated report.taken_at."""
    found = [UniformitySnapshot(report.taken_at, "district", "", report.score.value, _parts(report.score.parts),
                                _rules(report.rules), list(report.strengths), list(report.needs))]
    found += [_school_snapshot(report.taken_at, school) for school in report.schools]
    return found


def _school_snapshot(taken_at: datetime, school: SchoolReport) -> UniformitySnapshot:
    return UniformitySnapshot(taken_at, "school", school.school_id, school.score.value, _parts(school.score.parts),
                              _rules(school.rules), list(school.strengths), list(school.needs))


def snapshot_rows_of(report: DistrictReport, prepared: Mapping[str, tuple]) -> list[tuple]:
    """snapshot_rows(snapshots_of(report)), taking each school's row from `prepared` (school id -> row, as
    the shares shape them for their schools) where it is."""
    rows = snapshot_rows(snapshots_of(dataclasses.replace(report, schools=())))
    for school in report.schools:
        row = prepared.get(school.school_id)
        rows.append(row if row is not None else snapshot_rows([_school_snapshot(report.taken_at, school)])[0])
    return rows


async def evaluate_district(store: Store, standards: Standards, now: datetime,
                            *, save: bool = True) -> tuple[DistrictReport, list[tuple]]:
    """Read the inventory, evaluate every school and the district, keep the dated snapshots.

    Returns the report and the inventory tuples read (flag_conditions takes them, to read the store once).
    """
    rows = await store.inventory_tuples()
    report = evaluate_tuples(standards, rows, now=now)
    if save:
        await store.save_snapshots(snapshots_of(report))
    return report, rows


def report_json(report: DistrictReport) -> dict[str, Any]:
    return {
        "taken_at": report.taken_at.isoformat(), "district": report.name, "devices": report.devices,
        "score": report.score.value, "parts": _parts(report.score.parts), "rules": _rules(report.rules),
        "strengths": list(report.strengths), "needs": list(report.needs), "unassigned": dict(report.unassigned),
        "schools": [{"id": s.school_id, "name": s.name, "devices": s.devices, "score": s.score.value,
                     "parts": _parts(s.score.parts), "rules": _rules(s.rules), "strengths": list(s.strengths),
                     "needs": list(s.needs)} for s in report.schools],
    }


def _fraction(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.2f}"


def report_text(report: DistrictReport) -> str:
    parts = report.score.parts
    lines = [f"{report.name}: uniformity score {report.score.value:.1f} / 100 "
             f"({report.devices:,} devices, {len(report.schools)} schools, {report.taken_at:%Y-%m-%d %H:%M} UTC)",
             f"  approved models       {_fraction(parts.approved_share)} "
             f"({parts.approved_devices:,} of {parts.measured_devices:,} measured devices)",
             f"  firmware uniformity   {_fraction(parts.firmware_uniformity)}"
             + (" (" + ", ".join(f"{model}: {n} version{'s' if n != 1 else ''}"
                                for model, n in sorted(parts.firmware_versions.items())) + ")"
                if parts.firmware_versions else ""),
             f"  ratios against standard {_fraction(parts.ratio_score)}"
             + (" (" + ", ".join(f"{rule} {value:.2f}" for rule, value in sorted(parts.ratios.items())) + ")"
                if parts.ratios else "")]
    lines.append("District strengths and needs:")
    lines += [f"  + {text}" for text in report.strengths]
    lines += [f"  - {text}" for text in report.needs]
    if not report.strengths and not report.needs:
        lines.append("  (none)")
    for school in report.schools:
        lines.append(f"{school.name}: score {school.score.value:.1f} ({school.devices:,} devices)")
        lines += [f"  + {text}" for text in school.strengths]
        lines += [f"  - {text}" for text in school.needs]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- the fast path
#
# The whole district at once (a million devices): the inventory as plain tuples
# (Store.inventory_tuples: InventoryRow's fields in its order, timestamps as the
# stored fixed-shape text), counted for uniformity in one C-level pass, and the
# flags judged once per distinct input rather than once per device. Same results
# as inventory_device + evaluate and as offline_status + refurbish_flags per device
# (tests/unit/collector/test_district_jobs.py checks both ways on a small store).

# Field positions in an inventory tuple (InventoryRow's order).
SITE, DEVICE_ID, MAC, DEVICE_CLASS, INFRASTRUCTURE, MODEL, FIRMWARE, OS_VERSION, FIRST_SEEN, LAST_SEEN, \
    PURCHASE_DATE, AUE_DATE, LAST_SYNC, HEALTH, HOST_FACTS = range(15)
_COUNT_KEY = itemgetter(SITE, DEVICE_CLASS, MODEL, FIRMWARE, OS_VERSION, INFRASTRUCTURE)


async def read_inventory_tuples(store: Store) -> list[tuple]:
    return await store.inventory_tuples()


def inventory_row(values: tuple) -> InventoryRow:
    """An inventory tuple as the InventoryRow that Store.inventory_pages gives for the device."""
    return InventoryRow(*values[:FIRST_SEEN], parse_timestamp(values[FIRST_SEEN]), parse_timestamp(values[LAST_SEEN]),
                        *values[PURCHASE_DATE:])


def evaluate_tuples(standards: Standards, rows: Iterable[tuple], *, now: datetime) -> DistrictReport:
    """uniformity.evaluate over inventory tuples: the same report as evaluate(map(inventory_device, rows))."""
    return evaluate_counts(standards, Counter(map(_COUNT_KEY, rows)), now=now)


FirmwareRules = Mapping[tuple[str, str], tuple[str | None, bool]]


def firmware_rules(standards: Standards | None, today: date) -> dict[tuple[str, str], tuple[str | None, bool]]:
    """(class, model as SNMP reports it, case-folded) -> (minimum firmware or None, past its end of life on `today`)."""
    found: dict[tuple[str, str], tuple[str | None, bool]] = {}
    for standard in standards.infrastructure if standards is not None else ():
        for approved in standard.models:
            end_of_life = getattr(approved, "end_of_life", None)
            minimum = str(approved.minimum_firmware) if approved.minimum_firmware is not None else None
            past = end_of_life is not None and today >= end_of_life
            if minimum is not None or past:
                found[(standard.device_class, approved.model.casefold())] = (minimum, past)
    return found


def student_lifecycles(standards: Standards | None) -> dict[tuple[str, str], float]:
    """(school id, student device class) -> the years its grade band plans for the class (max_age_years):
    the age at which a student device of that school is due, over its class's lifecycle_years."""
    found: dict[tuple[str, str], float] = {}
    for school in standards.schools if standards is not None else ():
        for standard in standards.band_of(school).student_devices:
            if standard.max_age_years is not None:
                found[(school.id, standard.device_class)] = float(standard.max_age_years)
    return found


def _readings(snmp_health: str | None, host_facts: str | None) -> dict[str, Any]:
    """DeviceState fields from what a device's SNMP polls and its endpoint agent say about its health."""
    found: dict[str, Any] = {}
    polled = load_health(snmp_health) if snmp_health else None
    if polled is not None:
        found.update(uptime_samples=polled.uptime_samples, interface_errors=polled.interface_errors,
                     printer_supplies=polled.printer_supplies, ups_battery_status=polled.ups_battery_status,
                     ups_on_battery=polled.ups_on_battery)
    if host_facts:
        try:
            facts = json.loads(host_facts)
        except ValueError:
            facts = None
        reported = endpoint_readings(facts) if isinstance(facts, dict) else None
        if reported is not None:
            found.update(battery_design_capacity=reported.battery_design_capacity,
                         battery_full_capacity=reported.battery_full_capacity, disk_used=reported.disk_used,
                         disk_total=reported.disk_total, reboot_count_30d=reported.reboot_count_30d)
    return found


# The refurbish judgements of the latest (policy, now) in this process: a worker process judges several shares
# of one evaluation one after another, and their devices share most keys (see flag_inventory).
_TEMPLATES: tuple[FlagPolicy | None, datetime | None, dict[tuple, tuple[RefurbishFlag, ...]]] = (None, None, {})


def _refurbish_templates(policy: FlagPolicy, now: datetime) -> dict[tuple, tuple[RefurbishFlag, ...]]:
    """The shared refurbish judgements for `policy` at `now` (same instant, same zone: the texts name dates)."""
    global _TEMPLATES
    known_policy, known_now, templates = _TEMPLATES
    if not (known_now is not None and known_now == now and known_now.tzinfo == now.tzinfo
            and (known_policy is policy or known_policy == policy)):
        templates = {}
        _TEMPLATES = (policy, now, templates)
    return templates


def _judge_refurbish(templates: dict[tuple, tuple[RefurbishFlag, ...]], key: tuple, policy: FlagPolicy,
                     now: datetime) -> tuple[RefurbishFlag, ...]:
    """The refurbish flags (device id '') of any device without health readings whose refurbish inputs are
    `key` (flag_inventory's), judged by refurbish_flags and kept in `templates`."""
    device_class, infrastructure, purchase, first_day, aue, model, version, rule, lifecycle = key
    # The refurbish rules read the first sighting only for its UTC date (the age rule, without a purchase
    # date): devices first seen on one day share their judgement, whatever the time of day.
    first_seen = datetime.fromisoformat(first_day or "1970-01-01").replace(tzinfo=timezone.utc)
    minimum, end_of_life = rule or (None, False)
    device = DeviceState("", "", "", device_class, infrastructure, first_seen, first_seen,
                         purchase_date=purchase, aue_date=aue, model=model or "", firmware=version or "",
                         minimum_firmware=minimum, firmware_end_of_life=end_of_life, lifecycle_years=lifecycle)
    found = templates[key] = tuple(refurbish_flags(device, policy, now))
    return found


def templated_flags(templated: Iterable[TemplatedDevice], policy: FlagPolicy, now: datetime,
                    lifecycles: Mapping[tuple[str, str], float] | None = None
                    ) -> Iterator[tuple[str, str, tuple[RefurbishFlag, ...]]]:
    """(site, device id, refurbish flags with device id '') of each templated device (store.split_inventory):
    the refurbish_flags that flag_inventory gives it, judged once per distinct template and shared with this
    process's later calls for the same policy and moment (_refurbish_templates)."""
    templates = _refurbish_templates(policy, now)
    get_template, get_lifecycle = templates.get, (lifecycles or {}).get
    for site, device_id, device_class, infrastructure, started, first_day, aue in templated:
        lifecycle = None if infrastructure or not lifecycles else get_lifecycle((site, device_class))
        # Keyed by the stored text (cheaper than dates); of another length than flag_inventory's keys.
        key = (device_class, infrastructure, started, first_day, aue, lifecycle)
        found = get_template(key)
        if found is None:
            # flag_inventory's key for the same device: no model standard, no health readings.
            full = (device_class, infrastructure, date.fromisoformat(started) if started else None, first_day,
                    date.fromisoformat(aue) if aue else None, None, None, None, lifecycle)
            found = templates.get(full)
            if found is None:
                found = _judge_refurbish(templates, full, policy, now)
            templates[key] = found
        yield site, device_id, found


def flag_inventory(rows: Iterable[tuple], agents: Mapping[str, AgentState], calendar: SchoolCalendar,
                   policy: FlagPolicy, now: datetime, scan_interval: timedelta, *,
                   polls: Mapping[str, Sequence[str]] | None = None, firmware: FirmwareRules | None = None,
                   lifecycles: Mapping[tuple[str, str], float] | None = None,
                   seen_from: Callable[[str, str, bool], str] | None = None,
                   ) -> Iterator[tuple[str, Status, list[RefurbishFlag]]]:
    """(device_id, offline status, refurbish flags) of each inventory tuple, in order.

    The same as, per device: its site's agent (AgentState(site, None) when
    there is none), its missed polls (`missed_polls`, from `polls`: site ->
    start times of its newest network polls), then flags.offline_status and
    flags.refurbish_flags on its DeviceState, with its model's firmware
    standard from `firmware` (firmware_rules), a student device's lifecycle
    from `lifecycles` ((site, class) -> years: student_lifecycles) and, where
    the store has them, its health readings (SNMP history, endpoint host facts).

    A device without health readings depends only on its agent, class, last
    sighting and missed polls for its status, and on its class, purchase
    date, first sighting, AUE date, firmware standard and lifecycle for its
    refurbish flags: each distinct combination is judged once (with
    offline_status and refurbish_flags themselves) and shared, the refurbish
    judgements also with this process's later calls for the same policy and
    moment (_refurbish_templates); flags are
    rebuilt per device with its own id. A polled device shares those and
    has its health judged on its own; an endpoint is judged on its own.

    With `seen_from` (quiet.QuietCutoffs.seen_from: (site, class,
    infrastructure) -> the sighting from which on a device can be neither
    offline nor missing), a device seen since gets the shared status
    SEEN_SINCE_CUTOFF (online) instead of its own reason.
    """
    polls = polls or {}
    firmware = firmware or {}
    sites: dict[str, tuple[Status | None, datetime, Sequence[str] | None]] = {}
    statuses: dict[tuple, Status] = {}
    refurbish = _refurbish_templates(policy, now)

    def site_agent(site: str) -> tuple[Status | None, datetime, Sequence[str] | None]:
        agent = agents.get(site) or AgentState(site, None)
        status = None
        if agent_is_silent(agent, policy, now):
            # Any device: a silent agent's devices all get its status.
            status = offline_status(DeviceState(site, "", "", "unknown", False, now, now), agent, calendar, policy,
                                    now)
        found = sites[site] = (status, agent.last_heard or now, polls.get(site))
        return found

    def judge_status(key: tuple) -> Status:
        heard, device_class, infrastructure, last_text, missed = key
        last_seen = parse_timestamp(last_text) if last_text is not None else now
        if missed is None:
            missed = missed_polls(None, heard, last_text, last_seen, scan_interval)
        device = DeviceState("", "", "", device_class, infrastructure, last_seen, last_seen, missed)
        status = statuses[key] = offline_status(device, AgentState("", heard), calendar, policy, now)
        return status

    def judge_refurbish(key: tuple) -> tuple[RefurbishFlag, ...]:
        return _judge_refurbish(refurbish, key, policy, now)

    get_site, get_status, get_refurbish, get_rule = sites.get, statuses.get, refurbish.get, firmware.get
    get_lifecycle = (lifecycles or {}).get
    parse = parse_timestamp
    for (site, device_id, mac, device_class, infrastructure, model, version, _, first_seen, last_seen, purchase, aue,
         _, snmp_health, host_facts) in rows:
        status, heard, site_polls = get_site(site) or site_agent(site)
        if status is None and seen_from is not None and last_seen >= seen_from(site, device_class, infrastructure):
            status = SEEN_SINCE_CUTOFF
        if status is None:
            # None: no scans reported at the site; judge_status estimates from the agent's last report.
            missed = None if site_polls is None else len(site_polls) - bisect_right(site_polls, last_seen)
            # Infrastructure's status depends on its missed polls alone: its sighting is no part of the key.
            key = (heard, device_class, infrastructure, None if infrastructure and missed is not None else last_seen,
                   missed)
            status = get_status(key) or judge_status(key)
        rule = get_rule((device_class, model.casefold())) if infrastructure and model else None
        lifecycle = None if infrastructure or not lifecycles else get_lifecycle((site, device_class))
        if host_facts:
            minimum, end_of_life = rule or (None, False)
            first = parse(first_seen)
            device = DeviceState(site, device_id, mac, device_class, infrastructure, parse(last_seen), first,
                                 purchase_date=purchase, aue_date=aue, model=model, firmware=version,
                                 minimum_firmware=minimum, firmware_end_of_life=end_of_life,
                                 lifecycle_years=lifecycle, **_readings(snmp_health, host_facts))
            yield device_id, status, refurbish_flags(device, policy, now)
            continue
        rkey = (device_class, infrastructure, purchase, None if purchase else first_seen[:10], aue,
                model if rule else None, version if rule else None, rule, lifecycle)
        templates = get_refurbish(rkey)
        if templates is None:
            templates = judge_refurbish(rkey)
        found = [RefurbishFlag(t.kind, device_id, t.reason, t.evidence, t.since) for t in templates] if templates \
            else []
        if snmp_health:
            # A polled device: age, firmware and AUE as for any device (shared), its health on its own.
            polled = load_health(snmp_health)
            if polled is not None and not clearly_healthy(polled, policy.for_class(device_class), now):
                device = DeviceState(site, device_id, mac, device_class, infrastructure, parse(last_seen),
                                     parse(first_seen), uptime_samples=polled.uptime_samples,
                                     interface_errors=polled.interface_errors,
                                     printer_supplies=polled.printer_supplies,
                                     ups_battery_status=polled.ups_battery_status,
                                     ups_on_battery=polled.ups_on_battery)
                health = health_flags(device, policy, now)
                if health:
                    # refurbish_flags' order: age and firmware, then health, then AUE.
                    aue_last = [flag for flag in found if flag.kind == KIND_AUE]
                    found = [flag for flag in found if flag.kind != KIND_AUE] + health + aue_last
        yield device_id, status, found


# ---------------------------------------------------------------------------------------------- flags in the store
#
# The evaluate command's flag step: every device's offline/missing and refurbish
# conditions (flag_inventory + flags.status_condition), every agent's silence
# (flags.agent_flag) and the device-management findings of the imported assets
# (assets.management_findings: AUE passed or near, off the network), advanced
# against the stored open flags as flags.advance_flags does (advance_stored:
# the flags that hold word for word as stored are left alone), and the changes
# stored in one transaction (Store.write_flag_parts, each share's as it is done).

SCAN_INTERVAL = timedelta(minutes=15)     # the agents' default sweep: missed polls are counted in it
# The status of a device seen since its site's cutoff (quiet.py): not offline or missing, reason not worked out.
SEEN_SINCE_CUTOFF = Status(ONLINE, "seen since the last sighting that could make it offline or missing")
FIRST_RAISED_SHOWN = 20
# Management findings take over the refurbish AUE reason (they carry the file and line).
_FINDING_AUE_KINDS = frozenset({"aue_passed", "aue_near"})
OFF_NETWORK = "off_network"


@dataclass(frozen=True)
class FlagRun:
    """What one evaluation did to the stored flags."""

    open_by_kind: dict[str, int]           # open after this run, by kind
    raised: int                            # newly raised in this run
    cleared: int                           # cleared in this run
    first_raised: list[tuple[str, Flag]]   # (site, flag): the first FIRST_RAISED_SHOWN raised, by site and device


def _shown_order(item: tuple[str, Flag]) -> tuple:
    site, flag = item
    device = flag.device_id
    return (site, 0, int(device), flag.kind) if device.isdigit() else (site, 1, device, flag.kind)


def _first_raised(inserts: Sequence[tuple]) -> list[tuple[str, Flag]]:
    """_first_shown of the flags that flag_rows' `inserts` store (in their order, by site first): only the rows
    of the sites of the first FIRST_RAISED_SHOWN rows can hold them, and only those become flags again."""
    if len(inserts) > FIRST_RAISED_SHOWN:
        last_site, end = inserts[FIRST_RAISED_SHOWN - 1][0], FIRST_RAISED_SHOWN
        while end < len(inserts) and inserts[end][0] <= last_site:
            end += 1
        inserts = inserts[:end]
    return _first_shown([(site, Flag(kind, device_id, reason, evidence_from_json(evidence), parse_timestamp(raised),
                                     None, parse_timestamp(present or raised)))
                         for site, device_id, kind, reason, evidence, raised, present in inserts])


def _first_shown(raised: list[tuple[str, Flag]]) -> list[tuple[str, Flag]]:
    """The FIRST_RAISED_SHOWN first of (site, flag) in _shown_order, which sorts by site first: only the
    sites of the first few by site alone can hold them (a first evaluation raises hundreds of thousands)."""
    if len(raised) > FIRST_RAISED_SHOWN:
        last_site = heapq.nsmallest(FIRST_RAISED_SHOWN, map(itemgetter(0), raised))[-1]
        raised = [item for item in raised if item[0] <= last_site]
    return heapq.nsmallest(FIRST_RAISED_SHOWN, raised, key=_shown_order)


@dataclass(frozen=True)
class FlagJudgement:
    """One share of a district's flags after an evaluation: what to show and what to write."""

    open_by_kind: Counter
    raised: int
    cleared: int
    first_raised: list[tuple[str, Flag]]
    rows: FlagRows

    @staticmethod
    def combined(shares: Sequence[FlagJudgement]) -> FlagRun:
        first = sorted((item for share in shares for item in share.first_raised), key=_shown_order)
        return FlagRun(dict(sum((share.open_by_kind for share in shares), Counter())),
                       sum(share.raised for share in shares), sum(share.cleared for share in shares),
                       first[:FIRST_RAISED_SHOWN])


def _stored_matches(assets: Iterable[tuple]) -> list[AssetMatch]:
    found = []
    for site, device_id, source_format, model, aue, last_sync, file, line in assets:
        # AssetRecord's fields by position (a district has hundreds of thousands of console rows): source
        # format, line, serial, MACs, asset tag, model, OS, purchase, warranty end, school, last sync, AUE,
        # organisational unit, file.
        record = AssetRecord(source_format, line, "", (), "", model, "", None, None, "",
                             parse_timestamp(last_sync) if last_sync else None,
                             date.fromisoformat(aue) if aue else None, "", file)
        found.append(AssetMatch(record, site, device_id, "stored"))
    return found


def flag_conditions(rows: list[tuple], agents: Mapping[str, AgentState], matches: Iterable[AssetMatch],
                    network_last_seen: Mapping[tuple[str, str], datetime], calendar: SchoolCalendar,
                    policy: FlagPolicy, now: datetime, scan_interval: timedelta = SCAN_INTERVAL, *,
                    polls: Mapping[str, Sequence[str]] | None = None, firmware: FirmwareRules | None = None,
                    lifecycles: Mapping[tuple[str, str], float] | None = None,
                    device_sites: Collection[str] | None = None,
                    seen_from: Callable[[str, str, bool], str] | None = None,
                    templated: Sequence[TemplatedDevice] = (),
                    ) -> tuple[list[Condition], Collection[str], dict[str, str]]:
    """(conditions that hold at `now`, device ids whose presence is unknown, device id -> site).

    `device_sites`: every site with devices, when `rows` leave some out (default: the sites of `rows`).
    `templated`: the templated devices (store.split_inventory), which are not in `rows`: seen since their
    site's cutoff, so neither offline nor missing, and judged by templated_flags.

    A device that management_findings says is off the network gets that
    flag and never a missing (or offline) one; a device with an AUE finding
    gets it instead of the refurbish AUE reason.
    """
    # Device id -> site for every device, in one pass in C (a million devices).
    sites: dict[str, str] = dict(zip(map(itemgetter(DEVICE_ID), rows), map(itemgetter(SITE), rows)))
    conditions: list[Condition] = []
    silent: set[str] = set()
    aue_warning = policy.for_class("chromebook").aue_warning_days
    findings = management_findings(matches, network_last_seen, now, aue_warning)
    off_network = {f.device_id for f in findings if f.kind == OFF_NETWORK}
    finding_aue = {f.device_id for f in findings if f.kind in _FINDING_AUE_KINDS}
    polls = polls or {}
    judged = flag_inventory(rows, agents, calendar, policy, now, scan_interval, polls=polls, firmware=firmware,
                            lifecycles=lifecycles, seen_from=seen_from)
    for row, (device_id, status, refurbish) in zip(rows, judged):
        state = status.state
        if state == UNKNOWN_AGENT_SILENT:
            silent.add(row[SITE])
        elif (state == MISSING or state == OFFLINE) and device_id not in off_network:
            site = row[SITE]
            last_seen = parse_timestamp(row[LAST_SEEN])
            agent = agents.get(site)
            heard = (agent.last_heard if agent is not None else None) or now
            missed = missed_polls(polls.get(site), heard, row[LAST_SEEN], last_seen, scan_interval)
            device = DeviceState(site, device_id, row[MAC], row[DEVICE_CLASS], row[INFRASTRUCTURE], last_seen,
                                 parse_timestamp(row[FIRST_SEEN]), missed)
            condition = status_condition(device, status)
            if condition is not None:
                conditions.append(condition)
        for flag in refurbish:
            if flag.kind == KIND_AUE and device_id in finding_aue:
                continue
            conditions.append(flag)
    if templated:
        silent_sites: dict[str, bool] = {}
        for site, device_id, templates in templated_flags(templated, policy, now, lifecycles):
            sites[device_id] = site
            quiet_agent = silent_sites.get(site)
            if quiet_agent is None:
                quiet_agent = silent_sites[site] = agent_is_silent(agents.get(site) or AgentState(site, None),
                                                                   policy, now)
                if quiet_agent:
                    silent.add(site)      # its devices' presence is unknown, as flag_inventory's status says
            for template in templates:
                if template.kind == KIND_AUE and device_id in finding_aue:
                    continue
                conditions.append(RefurbishFlag(template.kind, device_id, template.reason, template.evidence,
                                                template.since))
    unknown = _DevicesAt(silent, dict(sites))     # before the findings and agents add keys of their own
    for finding in findings:
        sites.setdefault(finding.device_id, finding.site)
        conditions.append(Condition(finding.kind, finding.device_id, finding.message, finding.evidence))
    if device_sites is None:
        device_sites = {*map(itemgetter(SITE), rows), *(device[0] for device in templated)}
    for site in sorted(set(agents) | set(device_sites)):
        condition = agent_flag(agents.get(site) or AgentState(site, None), policy, now)
        sites[AGENT_KEY_PREFIX + site] = site
        if condition is not None:
            conditions.append(condition)
    return conditions, unknown, sites


class _DevicesAt(Collection):
    """The inventory's devices at some sites (those of silent agents), without listing them: a silent
    agent's school may hold thousands, and the flag lifecycle only asks whether a device is one of them."""

    def __init__(self, sites: set[str], site_of: Mapping[str, str]):
        self._sites, self._site_of = sites, site_of

    def __contains__(self, device_id: object) -> bool:
        return self._site_of.get(device_id) in self._sites    # type: ignore[call-overload]

    def __iter__(self) -> Iterator[str]:
        return (device for device, site in self._site_of.items() if site in self._sites)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def changed_flags(before: Iterable[Flag], still_open: Iterable[Flag],
                  held: Collection[tuple[str, str, datetime]], now: datetime) -> list[Flag]:
    """The flags of `still_open` whose stored row must be rewritten after an evaluation at `now`.

    `before` are the open flags as read, `held` the (kind, device_id,
    raised_at) of those stored as "held at the latest evaluation"
    (Store.flags_for_evaluation). A flag
    that holds now and held then, with the same reason and evidence, is
    already right in the store: a district's open flags mostly are.
    """
    previous = {(flag.kind, flag.device_id, flag.raised_at): flag for flag in before}
    found = []
    for flag in still_open:
        old = previous.get((flag.kind, flag.device_id, flag.raised_at))
        # A flag that does not hold now keeps the last-present time it was read with; only the change from
        # "held at the latest evaluation" (stored as NULL) to that explicit time needs writing.
        if (old is None or old.reason != flag.reason or old.evidence != flag.evidence
                or (flag.last_present_at == now) != ((flag.kind, flag.device_id, flag.raised_at) in held)):
            found.append(flag)
    return found


def asset_bounds(policy: FlagPolicy, now: datetime) -> tuple[str, str, str]:
    """(aue_until, synced_since, seen_before) for Store.console_rows: the bounds of the console rows that can
    give a management finding at `now` (an AUE passed or near; a recent sync of a device the network lost)."""
    today = now.astimezone(timezone.utc).date()
    warning = policy.for_class("chromebook").aue_warning_days
    recent = format_timestamp(now - timedelta(days=OFF_NETWORK_AFTER_DAYS))
    return (today + timedelta(days=warning)).isoformat(), recent, recent


def judge_flags(rows: list[tuple], agents: Mapping[str, AgentState], assets: Iterable[tuple],
                network_last_seen: Mapping[tuple[str, str], datetime], polls: Mapping[str, Sequence[str]],
                stored: StoredFlags, standards: Standards, policy: FlagPolicy, now: datetime,
                scan_interval: timedelta, *, clock: _StepClock | None = None,
                device_sites: Collection[str] | None = None,
                seen_from: Callable[[str, str, bool], str] | None = None,
                templated: Sequence[TemplatedDevice] = ()) -> FlagJudgement:
    """Every device's and agent's conditions at `now` (flag_conditions) advanced against the stored flags
    (flags.advance_flags): the rows to write and what to report. No I/O: the callers read and write.

    `rows` may leave out quiet devices (quiet.py), which have no condition, and templated ones, which are in
    `templated` (flag_conditions); `device_sites` then names every site with devices, for the agent flags
    (default: the sites of `rows` and `templated`)."""
    today = now.astimezone(policy.timezone).date() if policy.timezone is not None else now.date()
    matches = _stored_matches(assets)
    conditions, unknown, sites = flag_conditions(rows, agents, matches, network_last_seen if matches else {},
                                                 standards.calendar, policy, now, scan_interval, polls=polls,
                                                 firmware=firmware_rules(standards, today),
                                                 lifecycles=student_lifecycles(standards), device_sites=device_sites,
                                                 seen_from=seen_from, templated=templated)
    if clock is not None:
        clock.mark("judge devices and agents")
    advanced = advance_stored(stored, conditions, now, policy, unknown)
    if clock is not None:
        clock.mark("advance flags")
    for site, flag in (*advanced.before, *stored.recently_cleared):
        sites.setdefault(flag.device_id, site)

    def with_site(flags: list[Flag]) -> list[tuple[str, Flag]]:
        return [(sites.get(flag.device_id, ""), flag) for flag in flags]

    changed = changed_flags([flag for _, flag in advanced.before], advanced.still_open, stored.held, now)
    rows = flag_rows(with_site(advanced.judged_raised), with_site(changed), with_site(advanced.cleared),
                     format_timestamp(now), advanced.raised_now, sites)
    judged = FlagJudgement(advanced.unchanged + Counter(map(_KIND, chain(advanced.still_open, advanced.judged_raised,
                                                                         advanced.raised_now))),
                           len(advanced.judged_raised) + len(advanced.raised_now), len(advanced.cleared),
                           _first_raised(rows.inserts), rows)
    if clock is not None:
        clock.mark("rows to write")
    return judged


@dataclass(frozen=True)
class Advanced:
    still_open: list[Flag]                 # open before and after, as advance_flags gives them
    judged_raised: list[Flag]              # raised by advance_flags
    raised_now: list[Condition]            # raised at `now` as advance_flags would, no Flag built (a first
    #                                        evaluation raises hundreds of thousands): see flag_rows
    cleared: list[Flag]
    unchanged: Counter                     # by kind: open flags that held before and hold now, word for word
    before: list[tuple[str, Flag]]         # (site, flag): the open flags that went through advance_flags
    now: datetime

    @property
    def raised(self) -> list[Flag]:
        """Every flag raised, as advance_flags gives them."""
        return self.judged_raised + [Flag(condition.kind, condition.device_id, condition.reason, condition.evidence,
                                          self.now, None, self.now) for condition in self.raised_now]


def advance_stored(stored: StoredFlags, conditions: Iterable[Condition], now: datetime, policy: FlagPolicy,
                   unknown: Collection[str]) -> Advanced:
    """flags.advance_flags over the stored flags, without building the flags that need nothing.

    A flag that held at the latest evaluation and holds now with the same
    reason and evidence stays as it is stored: advance_flags would keep it
    open, present now, with the same words (stored as "held at the latest
    evaluation" again). A condition whose key has no open flag and no flag
    cleared within the cool-down is raised now, as advance_flags raises it
    (a first evaluation raises hundreds of thousands). Only the rest go
    through advance_flags: the same result, for a fraction of the work.
    """
    held_rows = stored.held_rows
    encode = _evidence_json
    # Keys with an open flag that is not a held row, or a flag cleared within the cool-down: advance_flags'.
    theirs = {(flag.kind, flag.device_id) for _, flag in stored.open}
    theirs.update((flag.kind, flag.device_id) for _, flag in stored.recently_cleared if flag.cleared_at is not None)
    # Key -> what became of its first condition (advance_flags takes the first): KEPT, RAISED or JUDGED.
    decided: dict[tuple[str, str], int] = {}
    unchanged: Counter = Counter()
    rest: list[Condition] = []
    raised_now: list[Condition] = []
    for condition in conditions:
        key = (condition.kind, condition.device_id)
        earlier = decided.get(key)
        if earlier is not None:
            if earlier == _JUDGED:
                rest.append(condition)
            continue
        row = held_rows.get(key)
        if row is not None and row[1] == condition.reason and row[2] == encode(condition.evidence):
            decided[key] = _KEPT
            unchanged[condition.kind] += 1
        elif row is None and key not in theirs:
            decided[key] = _RAISED
            raised_now.append(condition)
        else:
            decided[key] = _JUDGED
            rest.append(condition)
    before = list(stored.open)
    before += [stored.held_flag(key) for key in held_rows if decided.get(key) != _KEPT]
    still_open, raised, cleared = advance_flags([flag for _, flag in before], rest, now, policy,
                                                recently_cleared=[flag for _, flag in stored.recently_cleared],
                                                unknown_devices=unknown)
    return Advanced(still_open, raised, raised_now, cleared, unchanged, before, now)


_KEPT, _RAISED, _JUDGED = 1, 2, 3
_KIND = attrgetter("kind")


# ---------------------------------------------------------------------------------------------- in parallel
#
# A district evaluation is a million devices' worth of Python work that splits
# by school without remainder: a school's devices, agent, scans, assets and
# flags concern no other school, and the uniformity counts add up. So
# `evaluate` shares the schools out over the machine's cores, each share read
# through its own connection (store.ShardReader) and judged on its own (one in
# this process, the rest in worker processes), and writes the results itself,
# in one transaction. A small district is one share, judged in this process.


@dataclass(frozen=True)
class ShardResult:
    schools: SchoolsCounted         # uniformity, per school of the share (uniformity.count_schools)
    devices: int
    flags: FlagJudgement
    steps: dict[str, float]         # seconds per step (_StepClock)
    snapshot_rows: dict[str, tuple]     # school id -> its snapshot's row (store.snapshot_rows), dated `now`


def evaluate_shard(path: Path, sites: Sequence[str] | None, standards: Standards, policy: FlagPolicy,
                   now: datetime, scan_interval: timedelta = SCAN_INTERVAL, *, excluding: bool = False,
                   bundled: bool = False) -> ShardResult:
    """Read and judge the devices, agents and flags of `sites` only (None: every site; `excluding`: every site
    but those), in any process: it opens its own reader (`bundled`: through apsw's SQLite, in a worker process
    that has the store open no other way; see store.ShardReader).

    The cyclic garbage collector is off meanwhile (as `evaluate` runs from
    the command line): the share is hundreds of thousands of long-lived
    objects without cycles, which it would only rescan again and again.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _evaluate_shard(path, sites, standards, policy, now, scan_interval, excluding, bundled)
    finally:
        if collecting:
            gc.enable()


def _evaluate_shard(path: Path, sites: Sequence[str] | None, standards: Standards, policy: FlagPolicy, now: datetime,
                    scan_interval: timedelta, excluding: bool, bundled: bool) -> ShardResult:
    clock = _StepClock()
    with ShardReader(path, sites, excluding=excluding, bundled=bundled) as reader:
        agents = {site: AgentState(site, heard) for site, heard in reader.agents_last_heard().items()}
        polls = reader.recent_polls()
        clock.mark("read agents and scans")
        cutoffs = QuietCutoffs(agents, polls, student_lifecycles(standards), INFRASTRUCTURE_CLASSES,
                               standards.calendar, policy, now, scan_interval)
        aue_until, synced_since, seen_before = asset_bounds(policy, now)
        rows, quiet_counts, device_sites, lost, templated = reader.split_inventory(
            cutoffs, sorted(PRESENCE_KINDS), (synced_since, seen_before), templated=True)
        clock.mark("count quiet devices, read the rest")
        assets, seen = reader.console_rows(aue_until, synced_since, seen_before, lost)
        clock.mark("read console rows")
        stored = reader.flags_for_evaluation(format_timestamp(now - policy.cool_down))
        clock.mark("read open flags")
    counts = Counter(map(_COUNT_KEY, rows))
    counts.update(quiet_counts)
    schools = count_schools(standards, counts)
    # The share's schools' snapshot rows are shaped here, beside the other shares, not after the last of them.
    school_rows = {school_id: row for school_id, row in zip(schools.schools, snapshot_rows(
        [_school_snapshot(now, school) for school in schools.schools.values()]))}
    clock.mark("count for uniformity")
    judged = judge_flags(rows, agents, assets, seen, polls, stored, standards, policy, now, scan_interval,
                         clock=clock, device_sites=device_sites, seen_from=cutoffs.seen_from, templated=templated)
    return ShardResult(schools, len(rows) + sum(quiet_counts.values()), judged, clock.steps, school_rows)


class _StepClock:
    """Seconds spent per step of one share's evaluation, for the benchmark's breakdown."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, step: str) -> None:
        now = time.perf_counter()
        self.steps[step] = self.steps.get(step, 0.0) + now - self._last
        self._last = now


def _worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: forked from a fork server that has imported this module.

    Not forked from this process, which runs threads (the store's, the event
    loop's executor): a fork copies their locks in whatever state they are.
    Not spawned: each worker would import this module anew, about 0.4 s of
    CPU, where the fork server imports it once (and stays for the next
    evaluation). Where there is no fork server (not POSIX), spawn.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _worker_started() -> None:
    """Nothing: submitted first, so that a worker process starts while this one counts the sites."""


def _started_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes, each started (ProcessPoolExecutor starts them as work is submitted)."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context())
    for _ in range(workers):
        pool.submit(_worker_started)
    return pool


def share_sites(loads: Mapping[str, int], shares: int | Sequence[float]) -> list[list[str]]:
    """The sites split into lists of devices in proportion to `shares` (a number: that many equal shares):
    runs of sites in name order, each site in the share its middle device falls in (a site counts one device
    more than it has).

    Runs, not sites dealt out by size: the flags a first evaluation raises
    are written share by share into indexes ordered by site, and a share's
    rows then go in at one place in them rather than all over (a quarter
    fewer instructions for the writes), and its reads keep to one stretch of
    each site index.
    """
    parts = [1.0] * max(1, shares) if isinstance(shares, int) else [float(part) for part in shares]
    found: list[list[str]] = [[] for _ in parts]
    total, whole = sum(load + 1 for load in loads.values()), sum(parts)
    ends = [total * reached / whole for reached in accumulate(parts)]      # where each share ends, in devices
    share, before = 0, 0
    for site in sorted(loads):
        weight = loads[site] + 1
        while share < len(parts) - 1 and before + weight / 2 > ends[share]:
            share += 1
        found[share].append(site)
        before += weight
    return found


def share_parts(workers: int) -> list[float]:
    """The parts of a district that evaluate cuts for `workers` processes, in the order they are taken: one
    round of shares per process for each of ROUND_PARTS, each round's smaller. The processes end together
    when the last shares are small (one process idles while the other finishes the last), and the last
    shares' flags, written after them by this process alone, are few."""
    return [part for part in ROUND_PARTS for _ in range(workers)]


MAX_WORKERS = 8
DEVICES_PER_WORKER = 50_000      # a district this large or more keeps a worker busy for seconds
# The relative sizes of each worker process's shares, in the order taken: more, smaller shares keep the
# processes busy to the end (the last share done is all that is left to write after the judging); each share
# costs a few reads of its own. With two processes the last two are a 54th of the district each, and this
# process judges one of the two before them (a 27th) while the workers start.
ROUND_PARTS = (3.0, 2.0, 1.0, 0.5, 0.25)
SHARES_PER_WORKER = len(ROUND_PARTS)
# A share's flag changes are written as soon as it is done when they are this many or more (a first
# evaluation: thousands per share, over ten thousand in the smallest), else with the last share's: see evaluate.
WRITTEN_AT_ONCE = 5_000


def flag_parts(done: Iterable[FlagRows], at_once: int = WRITTEN_AT_ONCE) -> Iterator[FlagRows]:
    """The shares' flag changes in the order to write them, as the shares are `done`: a share's at once if it
    has `at_once` rows or more, the others after the last share. The first write takes the database's write
    lock until the commit, and meanwhile the ingest of the agents' batches waits (up to the store's busy
    timeout): an evaluation that changes few flags holds it only at the end."""
    waiting = []
    for rows in done:
        if len(rows.inserts) + len(rows.updates) + len(rows.clears) >= at_once:
            yield rows
        else:
            waiting.append(rows)
    yield from waiting


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
                      MAX_WORKERS))


async def evaluate(store: Store, standards: Standards, now: datetime, *, workers: int | None = None,
                   policy: FlagPolicy | None = None, scan_interval: timedelta = SCAN_INTERVAL,
                   save: bool = True, steps: dict[str, float] | None = None) -> tuple[DistrictReport, FlagRun]:
    """Uniformity and flags for the whole district at `now`, the work shared out over `workers` processes
    (default: one per core, one per DEVICES_PER_WORKER devices at most): the same report, snapshots and flags
    whatever the number of processes.

    With one, this process judges the district on a thread of its own. With
    more, the sites are cut into SHARES_PER_WORKER shares per worker process,
    which take them one after another (this process judges one of them on a
    thread while the worker processes start), and this process writes each
    share's flag changes as it comes back, when they are many
    (WRITTEN_AT_ONCE): the writing, which a first evaluation of a large
    district has hundreds of thousands of rows of, is done beside the judging
    rather than after it. The dated snapshots follow the last share's flags.
    All of it is one transaction, so a share that fails leaves the stored
    flags and snapshots as they were.

    `steps`, when given, receives the seconds spent per step, this process's and each share's.

    Its commit does not wait for the WAL's checkpoint, which follows on the
    store's thread (Store.checkpoint_afterwards): the results are durable
    at the commit.
    """
    async with store.checkpoint_afterwards():
        return await _evaluate(store, standards, now, workers, policy, scan_interval, save, steps)


async def _evaluate(store: Store, standards: Standards, now: datetime, workers: int | None, policy: FlagPolicy | None,
                    scan_interval: timedelta, save: bool, steps: dict[str, float] | None
                    ) -> tuple[DistrictReport, FlagRun]:
    policy = policy or standards.flag_policy
    clock = _StepClock()
    if workers is None:
        # A worker process costs about half a second to start: worth it only for a large district.
        workers = max(1, min(default_workers(), await store.devices_at_most() // DEVICES_PER_WORKER))
    # This process judges a share of its own on a thread: with worker processes, the smallest, taken while
    # they start (their fork server takes a core for a few tenths of a second before the first evaluation).
    local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaluate")
    pool: Executor = local
    # Started on a thread of its own: starting a worker process waits for the fork server to be ready.
    starting = asyncio.ensure_future(asyncio.to_thread(_started_pool, workers)) if workers > 1 else None
    futures: list[Future] = []
    snapshots_ready: Future = Future()
    try:
        try:
            loads = await store.site_loads() if workers > 1 else {}
            shares = [share for share in share_sites(loads, share_parts(workers)) if share] or [[]]
            # Sites without devices (only an agent, scans, assets or flags) are in no share: the first takes
            # every site the others do not. So does a school whose first devices arrive after the sites were
            # counted.
            others = [site for share in shares[1:] for site in share]
            # This process's share: one of the round before the last (the smallest would leave it idle before
            # the workers have started).
            mine = max(1, len(shares) - workers - 1) if len(shares) > 1 else None
            if mine is not None:
                futures.append(local.submit(evaluate_shard, store.path, shares[mine], standards, policy, now,
                                            scan_interval))
        finally:
            if starting is not None:
                pool = await starting
        # A worker process reads through apsw's SQLite (faster to Python); this one has the store open through
        # sqlite3, and a file is never open through both in one process (store.ShardReader).
        bundled = pool is not local
        futures.append(pool.submit(evaluate_shard, store.path, others or None, standards, policy, now,
                                   scan_interval, excluding=True, bundled=bundled))
        futures += [pool.submit(evaluate_shard, store.path, share, standards, policy, now, scan_interval,
                                bundled=bundled)
                    for number, share in enumerate(shares) if number not in (0, mine)]

        # Iterated on the store's thread, inside its transaction: it waits for each share there, and then for
        # the snapshots' rows, which are written in the same transaction.
        parts = flag_parts(future.result().flags.rows for future in as_completed(futures))
        writing = asyncio.ensure_future(store.write_flag_parts(parts, now, snapshots_ready if save else None))
        try:
            results: list[ShardResult] = [await asyncio.wrap_future(future) for future in futures]
        except BaseException:
            snapshots_ready.cancel()        # if every share came back, the writing waits for the snapshots
            await asyncio.gather(writing, return_exceptions=True)     # it fails too, and writes nothing
            raise
    finally:
        # The workers are done and end while the results are written. If a share failed, those not started are
        # cancelled, except in a broken pool (a worker died), whose own thread fails every share already.
        broken = any(future.done() and not future.cancelled() and isinstance(future.exception(), BrokenExecutor)
                     for future in futures)
        pool.shutdown(wait=False, cancel_futures=not broken)
        local.shutdown(wait=False, cancel_futures=True)
    clock.mark("shares (in parallel, flags written as each is done)")
    try:
        # Each share has worked out its schools' reports: the district's adds them up.
        report = district_report(standards, [result.schools for result in results], now=now)
        # Shaped while the store's thread still writes flags (the last shares' rows), which then writes these
        # rows in the same transaction: one commit for the whole evaluation.
        if save:
            prepared = {school: row for result in results for school, row in result.snapshot_rows.items()}
            snapshots_ready.set_result(snapshot_rows_of(report, prepared))
    except BaseException:
        snapshots_ready.cancel()            # the flags' transaction, waiting for them, is rolled back
        await asyncio.gather(writing, return_exceptions=True)
        raise
    clock.mark("uniformity")
    await writing
    clock.mark("write flags and snapshots (what is left after the shares)")
    if steps is not None:
        steps.update(clock.steps)
        for number, result in enumerate(results):
            steps.update({f"share {number + 1}: {step}": seconds for step, seconds in result.steps.items()})
    return report, FlagJudgement.combined([result.flags for result in results])


def flag_run_json(run: FlagRun) -> dict[str, Any]:
    return {"open_by_kind": dict(sorted(run.open_by_kind.items())), "open": sum(run.open_by_kind.values()),
            "raised": run.raised, "cleared": run.cleared,
            "first_raised": [{"site": site, "device_id": flag.device_id, "kind": flag.kind, "reason": flag.reason,
                              "evidence": list(flag.evidence)} for site, flag in run.first_raised]}


def flag_run_text(run: FlagRun) -> str:
    total = sum(run.open_by_kind.values())
    lines = [f"Flags: {total:,} open, {run.raised:,} raised and {run.cleared:,} cleared in this run"]
    lines += [f"  {kind:<20} {count:,}" for kind, count in sorted(run.open_by_kind.items())]
    if run.first_raised:
        shown = run.first_raised
        more = f" (first {len(shown)} of {run.raised:,})" if run.raised > len(shown) else ""
        lines.append(f"Newly raised{more}:")
        lines += [f"  {site or '-'}/{flag.device_id} {flag.kind}: {flag.reason}" for site, flag in shown]
    return "\n".join(lines)

"""Uniformity checks: every school and the district measured against the district standards.

Pure: no database, no I/O. The caller hands in the standards, the inventory (one `InventoryDevice`
per device), optionally what was seen room by room (`RoomCoverage`), and `now` (the report's date,
so reports can be kept as dated snapshots); `evaluate` returns a `DistrictReport`.

Rules, per school (ids are stable, for storing and comparing snapshots):

- `student-devices-per-student`   devices of a class the school's grade band approves for students
                                  (any model), per enrolled student, against the band's standard;
- `student-models:CLASS`          of those devices, the share on the band's approved models;
- `student-os:CLASS`              the share at or above the class's minimum OS (an OS version that is
                                  missing or not a version cannot be shown to comply and counts as below);
- `infrastructure-models:CLASS`   infrastructure devices of a class with a standard: share on approved models;
- `firmware:MODEL`                devices of an approved model with a minimum firmware: share at or above
                                  it (missing or unreadable firmware counts as below);
- `access-points-per-classroom`   access_point devices (any model) per classroom, against the standard;
- `classroom-coverage`            where rooms are given: the share of classrooms where an AP was seen;
                                  each uncovered classroom is named in the needs.

End devices of a class the band does not approve (a staff Windows PC at an elementary school, a phone,
a display) are not student devices and are not measured. Infrastructure classes without a standard are
not measured either. Devices whose site is not a school in the registry are left out of every school
and of the district totals, and reported in `DistrictReport.unassigned` and as a district need.

A "share" rule has numerator = devices meeting it, denominator = devices measured, expected 1.0 and
shortfall = devices not meeting it. A "ratio" rule has numerator = devices, denominator = students or
classrooms, expected = the standard, shortfall = devices missing to reach it (rounded up). The district's
rules add up the schools' numerators, denominators and shortfalls (a surplus at one school does not
cover a shortfall at another), so district totals are always the sum of the schools.

Uniformity score, 0..100, with its parts (`ScoreParts`):

    score = 100 * (0.4 * approved_share + 0.2 * firmware_uniformity + 0.4 * ratio_score)

- approved_share       devices on approved models / devices measured (student devices plus
                       infrastructure with a standard);
- firmware_uniformity  per infrastructure model, 1 / (distinct firmware versions of that model),
                       averaged weighted by the model's device count: 1.0 when every model runs one
                       version, 0.5 when each runs two. Versions compare as versions ("3.3" == "3.3.0").
                       `firmware_versions` gives the count per model (district-wide for the district,
                       within the school for a school);
- ratio_score          the mean of the ratio rules' actual / expected, each capped at 1.0 (a surplus
                       does not earn points); for the district each is weighted by students/classrooms.

A part that cannot be measured (no devices at all, no infrastructure with firmware) is left out and the
remaining weights are scaled up to 1; a school without devices scores on its ratios alone, i.e. 0.

Speed: the inventory is counted once into a Counter keyed by (site, class, model, firmware, OS,
infrastructure); everything after works on the distinct keys, and version parsing and model approval
are cached, so 1,000,000 devices cost one C-level pass plus work proportional to the distinct keys.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter

from .standards import GradeBand, School, Standards, Version, parse_version

WEIGHTS = {"approved_share": 0.4, "firmware_uniformity": 0.2, "ratio_score": 0.4}
_EPS = 1e-9


# ---------------------------------------------------------------------------------------------- input

@dataclass(frozen=True, slots=True)
class InventoryDevice:
    site: str                          # the school's id (School.id, the agent's site)
    device_id: str
    device_class: str                  # an end-device or infrastructure class
    model: str | None
    firmware: str | None               # infrastructure firmware
    os_version: str | None             # end-device OS
    is_infrastructure: bool


@dataclass(frozen=True, slots=True)
class RoomCoverage:
    site: str
    room: str                          # Room.name in the standards (compared without case)
    access_points_seen: int


# ---------------------------------------------------------------------------------------------- output

@dataclass(frozen=True)
class RuleResult:
    rule: str                          # e.g. "student-os:chromebook"
    description: str
    kind: str                          # "share" or "ratio"
    passed: bool
    actual: float                      # share (0..1) or ratio
    expected: float                    # 1.0 for a share, the standard for a ratio
    shortfall: int                     # devices (or classrooms) short
    numerator: int
    denominator: int
    detail: tuple[str, ...] = ()       # e.g. the uncovered classrooms


@dataclass(frozen=True)
class ScoreParts:
    approved_share: float | None
    approved_devices: int
    measured_devices: int
    firmware_versions: Mapping[str, int]       # model -> distinct firmware versions
    firmware_uniformity: float | None
    ratios: Mapping[str, float]                # ratio rule -> actual / expected, capped at 1.0
    ratio_score: float | None


@dataclass(frozen=True)
class Score:
    value: float                       # 0..100, one decimal
    parts: ScoreParts


@dataclass(frozen=True)
class SchoolReport:
    school_id: str
    name: str                          # the short name
    devices: int
    rules: tuple[RuleResult, ...]
    score: Score
    strengths: tuple[str, ...]
    needs: tuple[str, ...]

    def rule(self, rule_id: str) -> RuleResult | None:
        return next((r for r in self.rules if r.rule == rule_id), None)


@dataclass(frozen=True)
class DistrictReport:
    taken_at: datetime
    name: str
    devices: int
    schools: tuple[SchoolReport, ...]
    rules: tuple[RuleResult, ...]
    score: Score
    strengths: tuple[str, ...]
    needs: tuple[str, ...]
    unassigned: Mapping[str, int] = field(default_factory=dict)   # unknown site -> devices

    def school(self, school_id: str) -> SchoolReport | None:
        return next((s for s in self.schools if s.school_id == school_id), None)

    def rule(self, rule_id: str) -> RuleResult | None:
        return next((r for r in self.rules if r.rule == rule_id), None)


# ---------------------------------------------------------------------------------------------- words

_PLURALS = {
    "chromebook": "Chromebooks", "ipad": "iPads", "mac": "Macs", "windows_pc": "Windows PCs",
    "linux_pc": "Linux PCs", "phone": "phones", "printer": "printers", "display": "displays",
    "iot": "IoT devices", "switch": "switches", "router": "routers", "access_point": "access points",
    "wireless_controller": "wireless controllers", "ups": "UPSes",
}


def _plural(device_class: str) -> str:
    return _PLURALS.get(device_class, device_class.replace("_", " ") + "s")


def _num(value: float) -> str:
    """A standard as written: 1.0, 0.5, 1.25."""
    return str(float(value))


# ---------------------------------------------------------------------------------------------- aggregation

class _Site:
    __slots__ = ("devices", "aps", "student_total", "student_approved", "os_total", "os_ok", "infra_total",
                 "infra_approved", "fw_total", "fw_ok", "fw_versions", "fw_counts")

    def __init__(self) -> None:
        self.devices = 0
        self.aps = 0
        self.student_total: Counter[str] = Counter()
        self.student_approved: Counter[str] = Counter()
        self.os_total: Counter[str] = Counter()
        self.os_ok: Counter[str] = Counter()
        self.infra_total: Counter[str] = Counter()
        self.infra_approved: Counter[str] = Counter()
        self.fw_total: Counter[str] = Counter()          # approved model with a minimum -> devices
        self.fw_ok: Counter[str] = Counter()
        self.fw_versions: dict[str, set] = defaultdict(set)   # model -> version keys
        self.fw_counts: Counter[str] = Counter()         # model -> devices with a firmware


_MISSING = object()


class _Versions:
    def __init__(self) -> None:
        self.cache: dict[str, Version | None] = {}

    def __call__(self, text: str | None) -> Version | None:
        if text is None:
            return None
        found = self.cache.get(text, _MISSING)
        if found is _MISSING:
            try:
                found = parse_version(text)
            except ValueError:
                found = None
            self.cache[text] = found
        return found  # type: ignore[return-value]


def _meets(version: Version | None, minimum: Version) -> bool:
    return version is not None and version >= minimum


def evaluate(standards: Standards, devices: Iterable[InventoryDevice], rooms: Iterable[RoomCoverage] = (),
             *, now: datetime) -> DistrictReport:
    """Every school and the district against `standards`; `now` dates the report."""
    counts = Counter(map(attrgetter("site", "device_class", "model", "firmware", "os_version", "is_infrastructure"),
                         devices))
    return evaluate_counts(standards, counts, rooms, now=now)


def evaluate_counts(standards: Standards, counts: Mapping[tuple, int], rooms: Iterable[RoomCoverage] = (),
                    *, now: datetime) -> DistrictReport:
    """`evaluate`, given the inventory already counted: (site, device_class, model, firmware, os_version,
    is_infrastructure) -> devices. An empty string counts as None (not known) for model, firmware and OS."""
    return district_report(standards, [count_schools(standards, counts, rooms)], now=now)


@dataclass(frozen=True)
class SchoolsCounted:
    """What evaluate_counts works out from some sites' counts: the reports of the registry's schools among
    them, and what the district's report adds up over every school (district_report)."""

    schools: dict[str, SchoolReport]       # school id -> its report
    fw_versions: dict[str, set]            # approved model as shown -> the firmware versions seen (keys)
    fw_counts: Counter[str]                # approved model as shown -> devices with a firmware
    unassigned: Counter[str]               # site outside the registry -> devices


def count_schools(standards: Standards, counts: Mapping[tuple, int],
                  rooms: Iterable[RoomCoverage] = ()) -> SchoolsCounted:
    """evaluate_counts' work per school, for the schools that `counts` or `rooms` name: a district
    evaluation does it per share of the sites, in its worker processes, and adds up (district_report)."""
    version = _Versions()
    registry = {school.id: school for school in standards.schools}
    sites: dict[str, _Site] = {}
    bands = {school.id: standards.band_of(school) for school in standards.schools}
    unassigned: Counter[str] = Counter()
    district_fw_versions: dict[str, set] = defaultdict(set)
    district_fw_counts: Counter[str] = Counter()
    infra_cache: dict[tuple[str, str], tuple] = {}
    student_cache: dict[tuple[str, str, str], tuple] = {}

    for (site, cls, model, firmware, os_version, infra), n in counts.items():
        agg = sites.get(site)
        if agg is None:
            if site not in registry:
                unassigned[site] += n
                continue
            agg = sites[site] = _Site()
        agg.devices += n
        model = (model or "").strip()
        firmware = firmware or None
        os_version = os_version or None
        if infra:
            if cls == "access_point":
                agg.aps += n
            key = (cls, model.casefold())
            cached = infra_cache.get(key)
            if cached is None:
                standard = standards.infrastructure_standard(cls)
                approved = standard.approved(model) if standard is not None and model else None
                cached = infra_cache[key] = (standard is not None, approved,
                                             approved.model if approved else (model or f"unknown {cls}"))
            has_standard, approved, shown = cached
            if not has_standard:
                continue
            agg.infra_total[cls] += n
            if approved is not None:
                agg.infra_approved[cls] += n
                if approved.minimum_firmware is not None:
                    agg.fw_total[shown] += n
                    if _meets(version(firmware), approved.minimum_firmware):
                        agg.fw_ok[shown] += n
            if firmware and firmware.strip():
                parsed = version(firmware)
                vkey = parsed.key if parsed is not None else firmware.strip().casefold()
                agg.fw_versions[shown].add(vkey)
                agg.fw_counts[shown] += n
                district_fw_versions[shown].add(vkey)
                district_fw_counts[shown] += n
        else:
            band = bands[site]
            key3 = (band.id, cls, model.casefold())
            cached = student_cache.get(key3)
            if cached is None:
                standard = band.device_standard(cls)
                cached = student_cache[key3] = (standard, standard is not None and bool(model)
                                                and standard.approves(model))
            standard, approves = cached
            if standard is None:
                continue
            agg.student_total[cls] += n
            if approves:
                agg.student_approved[cls] += n
            if standard.minimum_os is not None:
                agg.os_total[cls] += n
                if _meets(version(os_version), standard.minimum_os):
                    agg.os_ok[cls] += n

    coverage: dict[str, dict[str, int]] = defaultdict(dict)
    shown_rooms: dict[tuple[str, str], str] = {}
    for seen in rooms:
        room_key = seen.room.strip().casefold()
        coverage[seen.site][room_key] = max(coverage[seen.site].get(room_key, 0), seen.access_points_seen)
        shown_rooms.setdefault((seen.site, room_key), seen.room.strip())

    ap_per_classroom = _ap_per_classroom(standards)
    reports = {school.id: _school_report(standards, school, bands[school.id], sites.get(school.id) or _Site(),
                                         ap_per_classroom, coverage.get(school.id), shown_rooms)
               for school in standards.schools if school.id in sites or school.id in coverage}
    return SchoolsCounted(reports, dict(district_fw_versions), district_fw_counts, unassigned)


def district_report(standards: Standards, parts: Iterable[SchoolsCounted], *, now: datetime) -> DistrictReport:
    """The district's report from count_schools' results for disjoint sets of sites: a school that none of
    them names reports no devices."""
    reports: dict[str, SchoolReport] = {}
    fw_versions: dict[str, set] = defaultdict(set)
    fw_counts: Counter[str] = Counter()
    unassigned: Counter[str] = Counter()
    for part in parts:
        reports.update(part.schools)
        for model, versions in part.fw_versions.items():
            fw_versions[model].update(versions)
        fw_counts.update(part.fw_counts)
        unassigned.update(part.unassigned)
    ap_per_classroom = _ap_per_classroom(standards)
    schools = tuple(reports.get(school.id) or _school_report(standards, school, standards.band_of(school), _Site(),
                                                             ap_per_classroom, None, {})
                    for school in standards.schools)
    return _district_report(standards, now, schools, fw_versions, fw_counts, Counter(dict(sorted(unassigned.items()))))


def _ap_per_classroom(standards: Standards) -> float | None:
    ap_standard = standards.infrastructure_standard("access_point")
    return ap_standard.access_points_per_classroom if ap_standard is not None else None


# ---------------------------------------------------------------------------------------------- per school

def _share(rule: str, description: str, meeting: int, measured: int, detail: tuple[str, ...] = ()) -> RuleResult:
    return RuleResult(rule, description, "share", meeting == measured, meeting / measured if measured else 1.0,
                      1.0, measured - meeting, meeting, measured, detail)


def _ratio(rule: str, description: str, have: int, per: int, standard: float) -> RuleResult:
    needed = math.ceil(standard * per - _EPS)
    shortfall = max(0, needed - have)
    return RuleResult(rule, description, "ratio", shortfall == 0, have / per if per else 0.0, standard, shortfall,
                      have, per)


def _ratio_sentence(name: str, unit: str, rule: RuleResult) -> str:
    """A school's ratio rule as its strength or its need, e.g. "Lincoln ES: 0.62 APs per classroom, ..."."""
    if rule.passed:
        return f"{name}: {rule.actual:.2f} {unit}, meets the standard of {_num(rule.expected)}"
    return f"{name}: {rule.actual:.2f} {unit}, standard is {_num(rule.expected)} ({rule.shortfall} short)"


def _school_report(standards: Standards, school: School, band: GradeBand, agg: _Site, ap_per_classroom: float | None,
                   seen_rooms: dict[str, int] | None, shown_rooms: dict[tuple[str, str], str]) -> SchoolReport:
    name = school.short_name
    rules: list[RuleResult] = []
    strengths: list[str] = []
    needs: list[str] = []
    if agg.devices == 0:
        needs.append(f"{name}: no devices reported")

    # Student devices per student.
    have = sum(agg.student_total.values())
    rule = _ratio("student-devices-per-student", f"student devices per student ({band.id})", have, school.enrollment,
                  band.student_devices_per_student)
    rules.append(rule)
    (strengths if rule.passed else needs).append(_ratio_sentence(name, "student devices per student", rule))

    for standard in band.student_devices:
        cls = standard.device_class
        total = agg.student_total[cls]
        if not total:
            continue
        rules.append(_share(f"student-models:{cls}", f"{_plural(cls)} on approved models", agg.student_approved[cls],
                            total))
        if standard.minimum_os is not None:
            rules.append(_share(f"student-os:{cls}", f"{_plural(cls)} at or above OS {standard.minimum_os}",
                                agg.os_ok[cls], agg.os_total[cls]))

    for infra in standards.infrastructure:
        cls = infra.device_class
        total = agg.infra_total[cls]
        if total:
            rules.append(_share(f"infrastructure-models:{cls}", f"{_plural(cls)} on approved models",
                                agg.infra_approved[cls], total))
        for approved in infra.models:
            if approved.minimum_firmware is not None and agg.fw_total[approved.model]:
                rules.append(_share(f"firmware:{approved.model}",
                                    f"{approved.model} at or above firmware {approved.minimum_firmware}",
                                    agg.fw_ok[approved.model], agg.fw_total[approved.model]))

    for rule in rules[1:]:
        what, _, key = rule.rule.partition(":")
        if what == "student-models" or what == "infrastructure-models":
            plural = _plural(key)
            if rule.passed:
                strengths.append(f"{name}: all {rule.denominator} {plural} on approved models")
            else:
                needs.append(f"{name}: {rule.shortfall} of {rule.denominator} {plural} not on approved models")
        elif what == "student-os":
            minimum = band.device_standard(key).minimum_os
            if rule.passed:
                strengths.append(f"{name}: all {rule.denominator} {_plural(key)} at or above OS {minimum}")
            else:
                needs.append(f"{name}: {rule.shortfall} of {rule.denominator} {_plural(key)} below OS {minimum}")
        elif what == "firmware":
            minimum = rule.description.rsplit(" ", 1)[-1]
            if rule.passed:
                strengths.append(f"{name}: all {rule.denominator} {key} at or above firmware {minimum}")
            else:
                needs.append(f"{name}: {rule.shortfall} of {rule.denominator} {key} below firmware {minimum}")

    if ap_per_classroom is not None and school.classrooms > 0:
        rule = _ratio("access-points-per-classroom", "access points per classroom", agg.aps, school.classrooms,
                      ap_per_classroom)
        rules.append(rule)
        (strengths if rule.passed else needs).append(_ratio_sentence(name, "APs per classroom", rule))

    if seen_rooms is not None:
        classrooms: dict[str, str] = {}
        listed: set[str] = set()
        for room in standards.rooms_of(school.id):
            key = room.name.strip().casefold()
            listed.add(key)
            if room.classroom:
                classrooms[key] = room.name
        for key in seen_rooms:
            if key not in listed:          # a room the standards do not list: taken as a classroom
                classrooms[key] = shown_rooms[(school.id, key)]
        uncovered = tuple(shown for key, shown in classrooms.items() if seen_rooms.get(key, 0) <= 0)
        if classrooms:
            rule = _share("classroom-coverage", "classrooms where an access point was seen",
                          len(classrooms) - len(uncovered), len(classrooms), uncovered)
            rules.append(rule)
            if rule.passed:
                strengths.append(f"{name}: all {len(classrooms)} listed classrooms have access point coverage")
            for room_name in uncovered:
                needs.append(f"{name}: classroom {room_name} has no access point coverage")

    fw_versions = dict(sorted((model, len(vs)) for model, vs in agg.fw_versions.items()))
    score = _score(rules, fw_versions, agg.fw_counts)
    return SchoolReport(school.id, name, agg.devices, tuple(rules), score, tuple(strengths), tuple(needs))


# ---------------------------------------------------------------------------------------------- scoring

def _score(rules: Iterable[RuleResult], fw_versions: Mapping[str, int], fw_counts: Mapping[str, int],
           ratio_parts: Mapping[str, float] | None = None) -> Score:
    approved = measured = 0
    for rule in rules:
        if rule.rule.startswith(("student-models:", "infrastructure-models:")):
            approved += rule.numerator
            measured += rule.denominator
    approved_share = approved / measured if measured else None

    counted = sum(fw_counts[m] for m in fw_versions)
    uniformity = (sum(fw_counts[m] / v for m, v in fw_versions.items()) / counted) if counted else None

    if ratio_parts is None:
        ratio_parts = {r.rule: min(1.0, r.actual / r.expected) if r.expected > 0 else 1.0
                       for r in rules if r.kind == "ratio"}
    ratio_score = sum(ratio_parts.values()) / len(ratio_parts) if ratio_parts else None

    parts = {"approved_share": approved_share, "firmware_uniformity": uniformity, "ratio_score": ratio_score}
    weight = sum(WEIGHTS[k] for k, v in parts.items() if v is not None)
    value = 100 * sum(WEIGHTS[k] * v for k, v in parts.items() if v is not None) / weight if weight else 0.0
    return Score(round(value, 1), ScoreParts(approved_share, approved, measured, dict(fw_versions), uniformity,
                                             dict(ratio_parts), ratio_score))


# ---------------------------------------------------------------------------------------------- district

def _district_report(standards: Standards, now: datetime, schools: tuple[SchoolReport, ...],
                     fw_versions: dict[str, set], fw_counts: Counter[str], unassigned: Counter[str]) -> DistrictReport:
    grouped: dict[str, list[RuleResult]] = {}
    for school in schools:
        for rule in school.rules:
            grouped.setdefault(rule.rule, []).append(rule)
    rules: list[RuleResult] = []
    ratio_parts: dict[str, float] = {}
    for rule_id, results in grouped.items():
        first = results[0]
        numerator = sum(r.numerator for r in results)
        denominator = sum(r.denominator for r in results)
        shortfall = sum(r.shortfall for r in results)
        detail = tuple(d for r in results for d in r.detail)
        if first.kind == "ratio":
            expected = sum(r.expected * r.denominator for r in results) / denominator if denominator else first.expected
            actual = numerator / denominator if denominator else 0.0
            capped = [min(1.0, r.actual / r.expected) if r.expected > 0 else 1.0 for r in results]
            ratio_parts[rule_id] = (sum(c * r.denominator for c, r in zip(capped, results)) / denominator
                                    if denominator else 0.0)
        else:
            expected = 1.0
            actual = numerator / denominator if denominator else 1.0
        rules.append(RuleResult(rule_id, first.description, first.kind, shortfall == 0, actual, expected, shortfall,
                                numerator, denominator, detail))

    versions = dict(sorted((model, len(vs)) for model, vs in fw_versions.items()))
    score = _score(rules, versions, fw_counts, ratio_parts=ratio_parts)

    strengths: list[str] = []
    needs: list[str] = []
    for model, count in versions.items():
        if count == 1:
            strengths.append(f"District: all {fw_counts[model]} {model} on one firmware version")
        else:
            needs.append(f"District: {model} runs {count} firmware versions across {fw_counts[model]} devices")
    for rule in rules:
        if rule.kind == "ratio":
            unit = "APs per classroom" if rule.rule == "access-points-per-classroom" else "student devices per student"
            if rule.passed:
                strengths.append(f"District: every school meets its {unit} standard")
            else:
                short = sum(1 for s in schools if (r := s.rule(rule.rule)) is not None and not r.passed)
                needs.append(f"District: {rule.actual:.2f} {unit}, standard is {rule.expected:.2f} "
                             f"({rule.shortfall} short at {short} of {len(schools)} schools)")
    silent = [s.name for s in schools if s.devices == 0]
    if silent:
        needs.append(f"District: {len(silent)} of {len(schools)} schools report no devices ({', '.join(silent)})")
    if unassigned:
        needs.append(f"District: {sum(unassigned.values())} devices at sites not in the schools registry "
                     f"({', '.join(sorted(unassigned))})")
    return DistrictReport(now, standards.district.name, sum(s.devices for s in schools), schools, tuple(rules), score,
                          tuple(strengths), tuple(needs), dict(unassigned))

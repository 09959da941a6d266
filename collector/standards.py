"""District standards as data: the TOML files in `standards/`, read, checked and turned into frozen records.

`load_standards(path)` reads one file or a folder of `*.toml` files (in name
order) and returns a `Standards`, or raises `StandardsError` carrying every
problem it found, each with its file, line and dotted field, e.g.

    standards/schools.toml:14: schools[1].enrollment = -3: expected a whole number of students, 1 or more

Sections (`standards/README.md` and the example district document each key):

- `[district]`            the profile: name, time zone, effective date, contact;
- `[[schools]]`           the registry: id, name, grade band, enrollment, classrooms, subnets;
- `[[rooms]]`             optional: the switch ports and access points that serve each room;
- `[calendar]`            school weekdays, term dates, `[[calendar.holidays]]` ranges;
- `[[grade_bands]]`       student devices per student, and per approved class its models,
                          minimum OS and maximum age;
- `[infrastructure.CLASS]` per infrastructure class: approved models with their minimum
                          firmware and end of software support, maximum age, uplink speed,
                          APs per classroom, PoE headroom;
- `[flags]`               optional: the offline/missing and refurbish flag thresholds, district-wide
                          and per device class (`Standards.flag_policy`, a `flags.FlagPolicy`).

Array sections (`[[...]]`) may be spread over several files and add up; each
table section lives in one file only, so no file silently overrides another.
Indexes in messages (`schools[1]`) count within the file they name.

Line numbers: tomllib parses (it is the one TOML parser that decides what the
file means) but keeps no positions, so `_locate` scans the same text once more
and maps every dotted key path to the line it is written on. The scan only
runs on text tomllib accepted, and a path it cannot place falls back to its
nearest placed parent (the table header), so a message never lacks a line.

A bad file never replaces good standards: `StandardsHolder.reload` keeps the
previous `Standards` when the new ones do not load.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import json
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Union

from headcount import macaddr

from .calendar import SchoolCalendar
from .errors import StandardsError
from .flags import DEFAULT_CLASS_POLICIES, ClassPolicy, FlagPolicy

# The agent's end-device classes (headcount.agent.model.DEVICE_CLASSES; a test keeps the two equal,
# without the collector importing the agent) and the SNMP-identified infrastructure classes.
END_DEVICE_CLASSES = ("chromebook", "ipad", "mac", "windows_pc", "linux_pc", "phone", "printer", "display", "iot",
                      "unknown")
INFRASTRUCTURE_CLASSES = ("switch", "router", "access_point", "wireless_controller", "printer", "ups")
# What a grade band can approve for students: any real end-device class ("unknown" is not a kind of device).
STUDENT_DEVICE_CLASSES = tuple(c for c in END_DEVICE_CLASSES if c != "unknown")
# What [flags.classes.CLASS] may name: every class with built-in thresholds and every class a device can have.
FLAG_CLASSES = tuple(dict.fromkeys((*DEFAULT_CLASS_POLICIES, *END_DEVICE_CLASSES, *INFRASTRUCTURE_CLASSES)))
GRADES = ("PK", "TK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


# ---------------------------------------------------------------------------------------------- versions

# An optional platform prefix ("PL.10.13.1010" on ArubaOS-CX, "WC.16.11.0012" on ProCurve, "v7.2.5" on
# FortiOS), a numeric core, and an optional suffix for rebuilds and trains ("17.9.4a", "15.2(7)E8",
# "21.4R3-S5"). The prefix names the hardware platform, not the release, so it does not take part in ordering.
_VERSION = re.compile(r"(?P<prefix>[A-Za-z][A-Za-z-]*[. ]|[vV])?(?P<core>\d+(?:\.\d+)*)"
                      r"(?P<suffix>(?:[A-Za-z0-9()_-][A-Za-z0-9()._-]*)?)")


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A firmware or OS version, ordered part by part: numbers as numbers, then the suffix.

    "3.3" == "3.3.0" (trailing zeros do not count); "17.9.4" < "17.9.4a" < "17.9.5"; "15.2(7)E8" < "15.2(7)E10".
    A pre-release suffix ("1.0-rc1") orders after its release: standards name releases, not betas.
    """

    text: str
    key: tuple[tuple[int, int | str], ...] = field(repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> Version:
    """Raises ValueError for anything that is not a version ("latest", "3.x", "", "1..2")."""
    if not isinstance(text, str):
        raise ValueError(f"not a version: {text!r}")
    stripped = text.strip()
    match = _VERSION.fullmatch(stripped) if len(stripped) <= 64 else None
    suffix = match["suffix"] if match else ""
    if not match or ".." in suffix or suffix.endswith((".", "-", "_")):
        raise ValueError(f"not a version: {text!r}")
    core = [int(part) for part in match["core"].split(".")]
    while len(core) > 1 and core[-1] == 0:
        core.pop()
    tail = tuple((0, int(token)) if token.isdigit() else (1, token.lower())
                 for token in re.findall(r"\d+|[A-Za-z]+", suffix))
    return Version(stripped, tuple((0, part) for part in core) + tail)


# ---------------------------------------------------------------------------------------------- the model

@dataclass(frozen=True)
class District:
    name: str
    timezone: str                      # IANA name: which local day a device was last seen on
    effective: date | None = None      # when these standards take effect
    contact: str | None = None


@dataclass(frozen=True)
class School:
    id: str                            # the agent's `site`: how devices are tied to their school
    name: str
    short_name: str                    # for reports ("Lincoln ES"); the name when not given
    grade_band: str                    # a GradeBand.id
    enrollment: int
    classrooms: int
    subnets: tuple[Network, ...]


@dataclass(frozen=True)
class SwitchPort:
    switch: str                        # the switch's name (sysName) or its MAC, lower-case colon form
    port: str                          # the port's name as the switch reports it (ifName), e.g. "Gi1/0/5"


@dataclass(frozen=True)
class Room:
    school: str                        # a School.id
    name: str
    classroom: bool                    # False for a library, gym or office: it does not count per classroom
    access_points: tuple[str, ...]     # names or MACs (lower-case colon form)
    switch_ports: tuple[SwitchPort, ...]


@dataclass(frozen=True)
class StudentDeviceStandard:
    device_class: str                  # one of STUDENT_DEVICE_CLASSES
    models: tuple[str, ...]            # approved models; empty: any model of the class
    minimum_os: Version | None
    max_age_years: float | None

    def approves(self, model: str) -> bool:
        return not self.models or model.strip().casefold() in {m.casefold() for m in self.models}


@dataclass(frozen=True)
class GradeBand:
    id: str                            # e.g. "K-5"
    name: str
    grades: tuple[str, ...]
    student_devices_per_student: float
    student_devices: tuple[StudentDeviceStandard, ...]

    @property
    def approved_classes(self) -> tuple[str, ...]:
        return tuple(standard.device_class for standard in self.student_devices)

    def device_standard(self, device_class: str) -> StudentDeviceStandard | None:
        return next((s for s in self.student_devices if s.device_class == device_class), None)


@dataclass(frozen=True)
class ApprovedModel:
    model: str
    minimum_firmware: Version | None
    end_of_life: date | None = None    # the vendor's end of software support for the model


@dataclass(frozen=True)
class InfrastructureStandard:
    device_class: str                  # one of INFRASTRUCTURE_CLASSES
    models: tuple[ApprovedModel, ...]
    max_age_years: float | None = None
    minimum_uplink_mbps: int | None = None
    access_points_per_classroom: float | None = None    # access_point only
    poe_budget_headroom_percent: float | None = None    # switch only: share of the PoE budget kept free

    def approved(self, model: str) -> ApprovedModel | None:
        wanted = model.strip().casefold()
        return next((m for m in self.models if m.model.casefold() == wanted), None)


@dataclass(frozen=True)
class Standards:
    district: District
    schools: tuple[School, ...]
    grade_bands: tuple[GradeBand, ...]
    calendar: SchoolCalendar
    infrastructure: tuple[InfrastructureStandard, ...] = ()
    rooms: tuple[Room, ...] = ()
    sources: tuple[Path, ...] = ()
    # The flag thresholds ([flags] merged over the built-in DEFAULT_CLASS_POLICIES, lifecycles from
    # [infrastructure.CLASS].max_age_years). Left out: the built-in policy in the district's time zone.
    flag_policy: FlagPolicy = None    # type: ignore[assignment]   # never None after __post_init__
    flag_classes: tuple[str, ...] = ()    # the classes with a [flags.classes.CLASS] table of their own

    # Lookups by id, built once: checks ask them for every device of the district.
    _schools: Mapping[str, School] = field(init=False, repr=False, compare=False)
    _bands: Mapping[str, GradeBand] = field(init=False, repr=False, compare=False)
    _infrastructure: Mapping[str, InfrastructureStandard] = field(init=False, repr=False, compare=False)
    _rooms: Mapping[str, tuple[Room, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rooms: dict[str, list[Room]] = {}
        for room in self.rooms:
            rooms.setdefault(room.school, []).append(room)
        object.__setattr__(self, "_schools", {s.id: s for s in self.schools})
        object.__setattr__(self, "_bands", {b.id: b for b in self.grade_bands})
        object.__setattr__(self, "_infrastructure", {i.device_class: i for i in self.infrastructure})
        object.__setattr__(self, "_rooms", {k: tuple(v) for k, v in rooms.items()})
        if self.flag_policy is None:
            object.__setattr__(self, "flag_policy", FlagPolicy(timezone=_zone(self.district.timezone)))

    def school(self, school_id: str) -> School | None:
        return self._schools.get(school_id)

    def grade_band(self, band_id: str) -> GradeBand | None:
        return self._bands.get(band_id)

    def band_of(self, school: School) -> GradeBand:
        return self._bands[school.grade_band]    # load_standards guarantees every school's band exists

    def infrastructure_standard(self, device_class: str) -> InfrastructureStandard | None:
        return self._infrastructure.get(device_class)

    def rooms_of(self, school_id: str) -> tuple[Room, ...]:
        return self._rooms.get(school_id, ())

    def summary(self) -> str:
        students = sum(s.enrollment for s in self.schools)
        classrooms = sum(s.classrooms for s in self.schools)
        return (f"{len(self.schools)} schools, {len(self.grade_bands)} grade bands, "
                f"{len(self.infrastructure)} infrastructure classes, {len(self.rooms)} rooms, "
                f"{len(self.calendar.holidays)} holidays; {students:,} students in {classrooms:,} classrooms; "
                + (f"flag thresholds set for {len(self.flag_classes)} classes ({', '.join(self.flag_classes)})"
                   if self.flag_classes else "built-in flag thresholds"))


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The district's zone; None when this machine has no time zone database (dates are then UTC's)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


# ---------------------------------------------------------------------------------------------- problems

@dataclass(frozen=True)
class Problem:
    """One thing wrong in the standards: where (file, line, dotted field) and what was expected."""

    file: str
    line: int | None                   # None only for a file that cannot be read at all
    field: str                         # "" for the file as a whole (encoding, syntax)
    message: str                       # what was found and what was expected

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if not self.field:
            return f"{where}: {self.message}"
        # "schools[1].enrollment = -3: expected ..." or "schools[1].enrollment: missing; expected ..."
        joiner = " " if self.message.startswith("= ") else ": "
        return f"{where}: {self.field}{joiner}{self.message}"


# ---------------------------------------------------------------------------------------------- positions

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# A local date-time may hold one space ("2026-09-07 08:00:00"); every other scalar ends at a space.
_SCALAR = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?"
                     r"|[^\s,\]}#]+")

_BLANKS = re.compile(r"[ \t]*")
_GAP = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")

KeyPath = tuple[Union[str, int], ...]


class _Locator:
    """One pass over TOML text that tomllib accepted, recording the line of every key and array item."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self.arrays: dict[KeyPath, int] = {}    # array-of-tables path -> items so far

    def run(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        while self.pos < len(self.text):
            self._blank()
            char = self._peek()
            if char == "[":
                table = self._header()
            elif char not in ("#", "\n", "\r", ""):
                self._pair(table)
            self._end_of_line()
        return self.lines

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _blank(self) -> None:
        self.pos = _BLANKS.match(self.text, self.pos).end()

    def _gap(self) -> None:
        """Blanks, newlines and comments: what may sit between array items."""
        end = _GAP.match(self.text, self.pos).end()
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def _end_of_line(self) -> None:
        end = self.text.find("\n", self.pos)
        if end < 0:
            self.pos = len(self.text)
        else:
            self.pos = end + 1
            self.line += 1

    def _mark(self, path: KeyPath) -> None:
        for end in range(1, len(path)):
            self.lines.setdefault(path[:end], self.line)
        self.lines[path] = self.line

    def _resolve(self, keys: KeyPath) -> KeyPath:
        """[a.b] inside [[a]] means the newest item of a."""
        resolved: KeyPath = ()
        for key in keys:
            resolved += (key,)
            if resolved in self.arrays:
                resolved += (self.arrays[resolved] - 1,)
        return resolved

    def _header(self) -> KeyPath:
        array = self.text.startswith("[[", self.pos)
        self.pos += 2 if array else 1
        keys = self._key()
        self.pos += 2 if array else 1
        path = self._resolve(keys[:-1]) + keys[-1:]
        if array:
            count = self.arrays.get(path, 0)
            self.arrays[path] = count + 1
            self.lines.setdefault(path, self.line)
            path += (count,)
        self._mark(path)
        return path

    def _pair(self, table: KeyPath) -> None:
        """One `key = value` under `table` (a table's line or an inline table's item): mark it, read its value."""
        path = table + self._key()
        self._mark(path)
        self._blank()
        self.pos += 1   # "="
        self._blank()
        self._value(path)

    def _key(self) -> KeyPath:
        keys: list[str] = []
        while True:
            self._blank()
            if self._peek() in ('"', "'"):
                start = self.pos
                self._string()
                # The quoted key's text is a TOML string: let tomllib unescape it rather than a second decoder.
                keys.append(tomllib.loads("k = " + self.text[start:self.pos])["k"])
            else:
                match = _BARE_KEY.match(self.text, self.pos)
                if not match:
                    raise ValueError(f"no key at line {self.line}")
                keys.append(match.group())
                self.pos = match.end()
            self._blank()
            if self._peek() != ".":
                return tuple(keys)
            self.pos += 1

    def _string(self) -> None:
        quote = self._peek()
        triple = self.text.startswith(quote * 3, self.pos)
        start = self.pos
        index = self.pos + (3 if triple else 1)
        while index < len(self.text):
            char = self.text[index]
            if char == "\\" and quote == '"':
                index += 2
                continue
            if triple and self.text.startswith(quote * 3, index):
                # A multi-line string may end with one or two quotes of its own: """a""""" holds 'a""'.
                end = index + 3
                while end < len(self.text) and self.text[end] == quote and end - index < 5:
                    end += 1
                index = end
                break
            if not triple and char == quote:
                index += 1
                break
            index += 1
        self.line += self.text.count("\n", start, index)
        self.pos = index

    def _value(self, path: KeyPath) -> None:
        char = self._peek()
        if char in ('"', "'"):
            self._string()
        elif char == "[":
            self.pos += 1
            index = 0
            while True:
                self._gap()
                if self._peek() in ("]", ""):
                    self.pos += 1
                    return
                self._mark(path + (index,))
                self._value(path + (index,))
                index += 1
                self._gap()
                if self._peek() == ",":
                    self.pos += 1
        elif char == "{":
            self.pos += 1
            while True:
                self._gap()
                if self._peek() in ("}", ""):
                    self.pos += 1
                    return
                self._pair(path)
                self._gap()
                if self._peek() == ",":
                    self.pos += 1
        else:
            match = _SCALAR.match(self.text, self.pos)
            self.pos = match.end() if match else self.pos + 1


def locate(text: str) -> dict[KeyPath, int]:
    """Dotted key path (keys and array indexes, as tomllib returns them) -> 1-based line, for valid TOML text.

    Best effort by design: if the scan meets something it does not expect it returns what it placed so far,
    and callers fall back to a parent's line.
    """
    locator = _Locator(text)
    try:
        return locator.run()
    except (ValueError, IndexError, tomllib.TOMLDecodeError):
        return locator.lines


# ---------------------------------------------------------------------------------------------- reading values

_MISSING = object()
_INVALID = object()   # a value that failed its check; its problem is already recorded


def dotted(path: KeyPath) -> str:
    """("schools", 1, "enrollment") -> "schools[1].enrollment"; keys that are not bare are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            out += f".{text}" if out else text
    return out


def _show(value: Any) -> str:
    """A value as TOML would write it, cut short: messages quote what was found, never a whole table."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (datetime, date)):
        text = value.isoformat()
    elif isinstance(value, dict):
        text = "{...}"
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(item) for item in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class _File:
    """One parsed file and the problems found in it (appended by the readers below)."""

    name: str
    text: str
    problems: list[Problem]
    _lines: dict[KeyPath, int] | None = None

    def line(self, path: KeyPath) -> int:
        if self._lines is None:   # only a file with a problem needs its positions
            self._lines = locate(self.text)
        for end in range(len(path), 0, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return 1

    def where(self, path: KeyPath) -> str:
        return f"{dotted(path)} at {self.name}:{self.line(path)}"

    def fail(self, path: KeyPath, expected: str, value: Any = _MISSING) -> object:
        shown = "missing; " if value is _MISSING else f"= {_show(value)}: "
        self.problems.append(Problem(self.name, self.line(path), dotted(path), shown + expected))
        return _INVALID

    def unknown(self, path: KeyPath, value: Any, known: tuple[str, ...], noun: str = "key", why: str = "") -> None:
        close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.7)
        hint = f" ({why})" if why else f" (did you mean {close[0]}?)" if close else ""
        self.fail(path, f"unknown {noun}{hint}; expected one of: {', '.join(known)}", value)


Reader = Callable[[_File, KeyPath, Any, str], Any]


@dataclass(frozen=True)
class _Field:
    expected: str                      # what a good value is, in words, for messages
    read: Reader
    required: bool = True
    default: Any = None


def _number_text(value: Any) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _hint(value: Any, wanted: str, expected: str) -> str:
    """A word on the likely slip: quotes around a number, or none around text (unless `expected` says so)."""
    if wanted == "number" and isinstance(value, str) and _number_text(value):
        return " (write it without quotes)"
    if (wanted == "text" and isinstance(value, (int, float, date)) and not isinstance(value, bool)
            and "quotes" not in expected):
        return " (in quotes)"
    return ""


def _text(pattern: re.Pattern[str] | None = None, max_length: int = 200) -> Reader:
    def read(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
        if (isinstance(value, str) and value.strip() and len(value) <= max_length
                and (pattern is None or pattern.fullmatch(value.strip()))):
            return value.strip()
        return file.fail(path, f"expected {expected}{_hint(value, 'text', expected)}", value)
    return read


def _whole(low: int, high: int | None = None) -> Reader:
    def read(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high):
            return value
        return file.fail(path, f"expected {expected}{_hint(value, 'number', expected)}", value)
    return read


def _number(low: float, high: float, low_open: bool = False) -> Reader:
    def read(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
        if (isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
                and (value > low if low_open else value >= low) and value <= high):
            return float(value)
        return file.fail(path, f"expected {expected}{_hint(value, 'number', expected)}", value)
    return read


def _boolean(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    if isinstance(value, bool):
        return value
    return file.fail(path, f"expected {expected}", value)


def _date(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return file.fail(path, f"expected {expected}: a date alone, without a time", value)
    return file.fail(path, f"expected {expected}", value)   # every date's `expected` already says "no quotes"


def _version(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # 3.30 would silently become 3.3: a version is text.
        return file.fail(path, f"expected {expected}, in quotes (a TOML number loses trailing zeros)", value)
    try:
        return parse_version(value)
    except ValueError:
        return file.fail(path, f"expected {expected}; this does not parse as a version (digits and dots, "
                               f"optionally a platform prefix like \"PL.\" or a suffix like \"a\" or \"(7)E8\")", value)


def _subnet(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    if not isinstance(value, str):
        return file.fail(path, f"expected {expected}{_hint(value, 'text', expected)}", value)
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return file.fail(path, f"expected {expected}", value)
    return file.fail(path, f"host bits are set; expected the network address, \"{network}\"", value)


def _time_zone(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    name = _text(re.compile(r"[A-Za-z0-9_+\-/]+"), 64)(file, path, value, expected)
    if name is _INVALID:
        return name
    try:
        zoneinfo.ZoneInfo(name)
        return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        if not zoneinfo.available_timezones():
            return name   # no time zone database on this machine: the name cannot be checked here
    return file.fail(path, f"expected {expected}; no such time zone", value)


def _device_ref(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    """A device by name (as it reports itself) or by MAC; MACs are kept in the collector's colon form."""
    name = _text(max_length=128)(file, path, value, expected)
    if name is _INVALID:
        return name
    try:
        return macaddr.normalise(name)
    except ValueError:
        return name


def _same(value: Any) -> Any:
    return value


def _list(item: Reader, item_expected: str, min_items: int = 0, noun: str = "item",
          identity: Callable[[Any], Any] | None = _same) -> Reader:
    """An array whose items each pass `item`; the same item twice (by `identity`, unless None) is a problem too."""
    def read(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
        if not isinstance(value, list) or len(value) < min_items:
            return file.fail(path, f"expected {expected}", value)
        out = []
        seen: dict[Any, int] = {}
        for index, raw in enumerate(value):
            parsed = item(file, path + (index,), raw, item_expected)
            out.append(parsed)
            if parsed is _INVALID or identity is None:
                continue
            key = identity(parsed)
            if key in seen:
                file.fail(path + (index,), f"listed twice (also {dotted(path + (seen[key],))}); "
                                           f"expected each {noun} once", raw)
            else:
                seen[key] = index
        return tuple(out)
    return read


def _table(fields: Mapping[str, _Field], what: str = "a table", elsewhere: Mapping[str, str] | None = None) -> Reader:
    """A table with exactly these keys: unknown keys, missing required keys and bad values are all reported.

    `elsewhere` explains keys that are right in a neighbouring table but not in this one.
    """
    def read(file: _File, path: KeyPath, value: Any, expected: str = "") -> Any:
        if not isinstance(value, dict):
            return file.fail(path, f"expected {expected or what}", value)
        known = tuple(sorted(fields))
        misspelt = set()
        for key, raw in value.items():
            if key not in fields:
                file.unknown(path + (key,), raw, known, why=(elsewhere or {}).get(key, ""))
                misspelt.update(difflib.get_close_matches(key, known, n=1, cutoff=0.7))
        out: dict[str, Any] = {}
        for key, spec in fields.items():
            if key in value:
                out[key] = spec.read(file, path + (key,), value[key], spec.expected)
            elif spec.required:
                # "enrolment = 338" is one mistake: the unknown key already says "did you mean enrollment?".
                out[key] = _INVALID if key in misspelt else file.fail(path + (key,), f"expected {spec.expected}")
            else:
                out[key] = spec.default
        return out
    return read


def _keyed(options: tuple[str, ...], item: Callable[[str], Reader], noun: str) -> Reader:
    """A table keyed by names from `options` (device classes), each value read by item(name)."""
    def read(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
        if not isinstance(value, dict):
            return file.fail(path, f"expected {expected}", value)
        out: dict[str, Any] = {}
        for key, raw in value.items():
            if key in options:
                out[key] = item(key)(file, path + (key,), raw, f"a table of settings for {key}")
            else:
                file.unknown(path + (key,), raw, options, noun)
        return out
    return read


def _valid(parsed: Any) -> bool:
    """True when nothing in a parsed value (tables and arrays included) failed its check."""
    if parsed is _INVALID:
        return False
    if isinstance(parsed, dict):
        return all(_valid(v) for v in parsed.values())
    if isinstance(parsed, tuple):
        return all(_valid(v) for v in parsed)
    return True


# ---------------------------------------------------------------------------------------------- the format

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_WEEKDAY_SPELLINGS = {**{d: i for i, d in enumerate(WEEKDAYS)}, **{d[:3]: i for i, d in enumerate(WEEKDAYS)}}


def _weekday(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    if isinstance(value, str) and value.strip().lower() in _WEEKDAY_SPELLINGS:
        return _WEEKDAY_SPELLINGS[value.strip().lower()]
    return file.fail(path, f"expected {expected}", value)


def _grade(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    text = str(value).strip().upper() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text in GRADES:
        return text
    return file.fail(path, f"expected {expected}", value)


def _approved_model(file: _File, path: KeyPath, value: Any, expected: str) -> Any:
    """A model's name alone, or a table with the model, its minimum firmware and its end of support."""
    if isinstance(value, str):
        model = _text(max_length=128)(file, path, value, expected)
        return model if model is _INVALID else {"model": model, "minimum_firmware": None, "end_of_life": None}
    return _table(_MODEL_FIELDS)(file, path, value, expected)


_MODEL_FIELDS = {
    "model": _Field("the model's name as the device reports it, e.g. \"Aruba AP-515\"", _text(max_length=128)),
    "minimum_firmware": _Field("the lowest firmware version allowed for this model, e.g. \"8.10.0.12\"", _version,
                               required=False),
    "end_of_life": _Field("the date the vendor ends software support for this model, e.g. 2025-10-31 (a TOML "
                          "date, no quotes)", _date, required=False),
}

_DISTRICT_FIELDS = {
    "name": _Field("the district's name in quotes, e.g. \"Example Unified School District\"", _text()),
    "timezone": _Field("the district's IANA time zone in quotes, e.g. \"America/Chicago\"", _time_zone),
    "effective": _Field("the date these standards take effect, e.g. 2026-08-01 (a TOML date, no quotes)", _date,
                        required=False),
    "contact": _Field("who answers for these standards, in quotes, e.g. \"Network Services <it@district.example>\"",
                      _text(), required=False),
}

_SCHOOL_FIELDS = {
    "id": _Field("the school's id as its agent reports it (agent.site): letters, digits, '.', '_' or '-', "
                 "e.g. \"lincoln-elementary\"", _text(_ID, 64)),
    "name": _Field("the school's full name in quotes, e.g. \"Lincoln Elementary School\"", _text()),
    "short_name": _Field("a short name for reports, in quotes, e.g. \"Lincoln ES\"", _text(max_length=40),
                         required=False),
    "grade_band": _Field("the id of one of the [[grade_bands]], e.g. \"K-5\"", _text()),
    "enrollment": _Field("a whole number of students, 1 or more", _whole(1)),
    "classrooms": _Field("a whole number of classrooms, 1 or more", _whole(1)),
    "subnets": _Field("a list of one or more subnets in CIDR form, e.g. [\"198.18.0.0/22\"]",
                      _list(_subnet, "a subnet in CIDR form, e.g. \"198.18.0.0/22\"", 1, "subnet")),
}

_SWITCH_PORT_FIELDS = {
    "switch": _Field("the switch's name (as it reports itself) or its MAC, e.g. \"LES-IDF1-SW1\"", _device_ref),
    "port": _Field("the port's name as the switch reports it, in quotes, e.g. \"Gi1/0/5\"", _text(max_length=64)),
}

_ROOM_FIELDS = {
    "school": _Field("the id of one of the [[schools]], e.g. \"lincoln-elementary\"", _text()),
    "name": _Field("the room's name in quotes, e.g. \"Room 101\"", _text(max_length=64)),
    "classroom": _Field("true for a classroom, false for a library, gym or office", _boolean, required=False,
                        default=True),
    "access_points": _Field("a list of access point names or MACs, e.g. [\"LES-AP-101\"]",
                            _list(_device_ref, "an access point's name or MAC, e.g. \"LES-AP-101\"",
                                  noun="access point"), required=False, default=()),
    "switch_ports": _Field("a list of switch ports, e.g. [{ switch = \"LES-IDF1-SW1\", port = \"Gi1/0/5\" }]",
                           _list(_table(_SWITCH_PORT_FIELDS),
                                 "a switch port, e.g. { switch = \"LES-IDF1-SW1\", port = \"Gi1/0/5\" }",
                                 noun="switch port",
                                 identity=lambda p: (p["switch"], p["port"]) if _valid(p) else id(p)),
                           required=False, default=()),
}

_HOLIDAY_FIELDS = {
    "name": _Field("the holiday's name in quotes, e.g. \"Thanksgiving break\"", _text()),
    "start": _Field("the first day off, e.g. 2026-11-23 (a TOML date, no quotes)", _date),
    "end": _Field("the last day off, e.g. 2026-11-27 (a TOML date, no quotes); leave it out for one day", _date,
                  required=False),
}

_CALENDAR_FIELDS = {
    "school_weekdays": _Field("a list of the weekdays school is held, e.g. [\"monday\", \"tuesday\", \"wednesday\", "
                              "\"thursday\", \"friday\"]",
                              _list(_weekday, f"a weekday name, one of {', '.join(WEEKDAYS)}", 1, "weekday")),
    "term_start": _Field("the first day of the school year, e.g. 2026-08-12 (a TOML date, no quotes)", _date,
                         required=False),
    "term_end": _Field("the last day of the school year, e.g. 2027-05-27 (a TOML date, no quotes)", _date,
                       required=False),
    "holidays": _Field("holidays as [[calendar.holidays]] sections with name, start and end",
                       _list(_table(_HOLIDAY_FIELDS), "a holiday with name, start and end", identity=None),
                       required=False, default=()),
}

_STUDENT_DEVICE_FIELDS = {
    "models": _Field("a list of approved models, e.g. [\"Lenovo 100e Chromebook Gen 4\"] (leave it out to approve "
                     "every model of the class)",
                     _list(_text(max_length=128), "a model's name in quotes", 1, "model", str.casefold),
                     required=False, default=()),
    "minimum_os": _Field("the lowest OS version allowed, e.g. \"17.0\"", _version, required=False),
    "max_age_years": _Field("the age in years after which a device is due for replacement, above 0 and at most 30",
                            _number(0, 30, low_open=True), required=False),
}

_GRADE_BAND_FIELDS = {
    "id": _Field("the band's id, e.g. \"K-5\", as schools name it in grade_band", _text(_ID, 32)),
    "name": _Field("the band's name in quotes, e.g. \"Elementary\"", _text(), required=False),
    "grades": _Field(f"a list of the band's grades, each one of {', '.join(GRADES)}",
                     _list(_grade, f"a grade, one of {', '.join(GRADES)}", 1, "grade")),
    "student_devices_per_student": _Field("student devices per enrolled student, 0 to 5 (e.g. 1.0 for one-to-one, "
                                          "0.5 for one per two students)", _number(0, 5)),
    "student_devices": _Field("per approved device class a table, e.g. [grade_bands.student_devices.chromebook]",
                              _keyed(STUDENT_DEVICE_CLASSES, lambda _: _table(_STUDENT_DEVICE_FIELDS),
                                     "student device class"),
                              required=False, default={}),
}


def _infrastructure_fields(device_class: str) -> dict[str, _Field]:
    """Every class has models and an age limit; the rest only where it means something."""
    fields = {
        "models": _Field("a list of approved models, each \"Model\" or { model = \"Model\", minimum_firmware = "
                         "\"1.2.3\" }",
                         _list(_approved_model, "\"Model\" or { model = \"Model\", minimum_firmware = \"1.2.3\" }",
                               1, "model", lambda m: m["model"].casefold() if _valid(m) else id(m))),
        "max_age_years": _Field("the age in years after which a device is due for replacement, above 0 and at "
                                "most 30", _number(0, 30, low_open=True), required=False),
    }
    if device_class in ("switch", "router", "access_point", "wireless_controller"):
        fields["minimum_uplink_mbps"] = _Field("the slowest uplink allowed in Mbit/s, a whole number from 10 to "
                                               "400000, e.g. 10000 for 10 Gbit/s", _whole(10, 400_000),
                                               required=False)
    if device_class == "access_point":
        fields["access_points_per_classroom"] = _Field("access points per classroom, above 0 and at most 4, "
                                                       "e.g. 1.0", _number(0, 4, low_open=True), required=False)
    if device_class == "switch":
        fields["poe_budget_headroom_percent"] = _Field("the share of each switch's PoE budget to keep free, in "
                                                       "percent, 0 to 90, e.g. 20", _number(0, 90), required=False)
    return fields


_INFRASTRUCTURE_ELSEWHERE = {
    "minimum_uplink_mbps": "only switch, router, access_point and wireless_controller have it",
    "access_points_per_classroom": "it belongs under [infrastructure.access_point]",
    "poe_budget_headroom_percent": "it belongs under [infrastructure.switch]",
}
_INFRASTRUCTURE = _keyed(INFRASTRUCTURE_CLASSES,
                         lambda c: _table(_infrastructure_fields(c), elsewhere=_INFRASTRUCTURE_ELSEWHERE),
                         "infrastructure class")

# [flags.default] and [flags.classes.CLASS]: every ClassPolicy field, with its unit in the name where ClassPolicy
# holds a timedelta. Key -> (the ClassPolicy field, how the value becomes it, the _Field).
_FLAG_CLASS_KEYS: dict[str, tuple[str, Callable[[Any], Any], _Field]] = {
    "offline_after_missed_polls": ("offline_after_missed_polls", int, _Field(
        "how many consecutive scans of its agent may miss an infrastructure device before it is offline, a whole "
        "number from 1 to 1000", _whole(1, 1000), required=False)),
    "missing_after_school_days": ("missing_after_school_days", int, _Field(
        "how many school days a student device may go unseen before it is missing, a whole number from 1 to 200",
        _whole(1, 200), required=False)),
    "min_missed_sweeps": ("min_missed_sweeps", int, _Field(
        "how many consecutive sweeps must miss a device before it is offline or missing, a whole number from 1 to "
        "1000", _whole(1, 1000), required=False)),
    "lifecycle_years": ("lifecycle_years", float, _Field(
        "the age in years at which a device is due for refurbishing or replacement, above 0 and at most 30",
        _number(0, 30, low_open=True), required=False)),
    "battery_floor_percent": ("battery_floor_percent", float, _Field(
        "the battery health (full-charge over design capacity) below which a battery is flagged, in percent, 0 to "
        "100", _number(0, 100), required=False)),
    "disk_full_percent": ("disk_full_percent", float, _Field(
        "the share of a disk in use at or above which it is flagged, in percent, above 0 and at most 100",
        _number(0, 100, low_open=True), required=False)),
    "error_window_hours": ("error_window", lambda hours: timedelta(hours=hours), _Field(
        "the length in hours of the window whose interface error rate is compared with the window before it, above "
        "0 and at most 720 (30 days)", _number(0, 720, low_open=True), required=False)),
    "error_rise_factor": ("error_rise_factor", float, _Field(
        "how many times the previous window's error rate the newest window's must be to flag, 1 to 1000",
        _number(1, 1000), required=False)),
    "error_min_per_hour": ("error_min_per_hour", float, _Field(
        "the fewest interface errors an hour that can raise a flag, 0 to 1000000", _number(0, 1_000_000),
        required=False)),
    "reboots_per_30d": ("reboots_per_30d", int, _Field(
        "how many reboots in 30 days raise a flag, a whole number from 1 to 1000", _whole(1, 1000),
        required=False)),
    "supply_floor_percent": ("supply_floor_percent", float, _Field(
        "the printer supply level below which it is flagged, in percent, 0 to 100", _number(0, 100),
        required=False)),
    "aue_warning_days": ("aue_warning_days", int, _Field(
        "how many days before a Chromebook's auto-update expiration to flag it, a whole number from 0 to 3650",
        _whole(0, 3650), required=False)),
}
_FLAG_CLASS_FIELDS = {key: spec for key, (_, _, spec) in _FLAG_CLASS_KEYS.items()}
_FLAG_DURATIONS = ("agent_silent_after_minutes", "hold_down_minutes", "cool_down_minutes", "min_duration_minutes")
# A duration written without its unit ("hold_down = 30") is the likely slip: name the key with the unit.
_UNITS_IN_NAMES = {key.rsplit("_", 1)[0]: f"did you mean {key}? the unit is part of the name"
                   for key in (*_FLAG_DURATIONS, "error_window_hours")}
_FLAG_CLASS = _table(_FLAG_CLASS_FIELDS, elsewhere=_UNITS_IN_NAMES)

_FLAGS_FIELDS = {
    "agent_silent_after_minutes": _Field("how many minutes an agent may be quiet before its school's devices are "
                                         "\"unknown (agent silent)\", a whole number from 1 to 10080 (a week)",
                                         _whole(1, 10_080), required=False),
    "hold_down_minutes": _Field("how many minutes a condition must stay gone before its flag is cleared, a whole "
                                "number from 0 to 10080 (a week)", _whole(0, 10_080), required=False),
    "cool_down_minutes": _Field("for how many minutes after a flag is cleared it comes back only once its condition "
                                "has lasted min_duration_minutes, a whole number from 0 to 43200 (30 days)",
                                _whole(0, 43_200), required=False),
    "min_duration_minutes": _Field("how many minutes a condition must last to raise its flag again during the "
                                   "cool-down, a whole number from 0 to 10080 (a week)", _whole(0, 10_080),
                                   required=False),
    "default": _Field("a table of thresholds, written [flags.default]", _FLAG_CLASS, required=False, default={}),
    "classes": _Field("per device class a table, e.g. [flags.classes.chromebook]",
                      _keyed(FLAG_CLASSES, lambda _: _FLAG_CLASS, "device class"), required=False, default={}),
}

# Top-level sections: (reader of one table, is it an array of tables, required).
_TABLE_SECTIONS = {
    "district": (_table(_DISTRICT_FIELDS), True),
    "calendar": (_table(_CALENDAR_FIELDS), True),
    "infrastructure": (_INFRASTRUCTURE, False),
    "flags": (_table(_FLAGS_FIELDS, elsewhere=_UNITS_IN_NAMES), False),
}
_ARRAY_SECTIONS = {
    "schools": (_table(_SCHOOL_FIELDS), True),
    "grade_bands": (_table(_GRADE_BAND_FIELDS), True),
    "rooms": (_table(_ROOM_FIELDS), False),
}
SECTIONS = tuple(sorted((*_TABLE_SECTIONS, *_ARRAY_SECTIONS)))


# ---------------------------------------------------------------------------------------------- files

def _decode(name: str, data: bytes, problems: list[Problem]) -> str | None:
    try:
        # A byte-order mark (Windows Notepad writes one) is not content; TOML itself would reject it.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(Problem(name, line, "", f"not UTF-8: byte 0x{data[exc.start]:02x} at column {column} "
                                                f"cannot be decoded; expected a UTF-8 text file (TOML files are "
                                                f"always UTF-8): save it again as UTF-8"))
        return None


def _parse(name: str, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", reason)
        if match:
            line, column = int(match[1]), int(match[2])
            reason = reason[:match.start()]
        else:
            reason = re.sub(r"\s*\(at end of document\)$", "", reason)
            line, column = text.count("\n") + 1, None
        source = text.splitlines()[line - 1].strip() if line <= len(text.splitlines()) else ""
        at = f" at column {column}" if column else " at the end of the file"
        shown = f" in {_show(source)}" if source else ""
        problems.append(Problem(name, line, "", f"not valid TOML: {reason[:1].lower()}{reason[1:]}{at}{shown}"))
        return None


def _files(path: Path, problems: list[Problem]) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.glob("*.toml") if p.is_file())
        if not found:
            problems.append(Problem(str(path), None, "", "no *.toml files in this folder; expected the district's "
                                                         "standards files, e.g. district.toml and schools.toml"))
        return found
    if not path.exists():
        problems.append(Problem(str(path), None, "", "no such file or folder; expected a standards .toml file or a "
                                                     "folder of them"))
        return []
    return [path]


@dataclass
class _Section:
    """One parsed top-level section and the file it came from (arrays: one per item)."""

    file: _File
    path: KeyPath
    value: dict[str, Any]


def _read_file(file: _File, document: dict[str, Any], tables: dict[str, list[_Section]],
               arrays: dict[str, list[_Section]], seen: set[str]) -> None:
    seen.update(document)
    for key, value in document.items():
        if key in _TABLE_SECTIONS:
            reader, _ = _TABLE_SECTIONS[key]
            if not isinstance(value, dict):
                file.fail((key,), f"expected a table, written [{key}]", value)
                continue
            tables.setdefault(key, []).append(_Section(file, (key,), reader(file, (key,), value, "")))
        elif key in _ARRAY_SECTIONS:
            reader, _ = _ARRAY_SECTIONS[key]
            if not isinstance(value, list):
                file.fail((key,), f"expected an array of tables, each written [[{key}]] (double brackets)", value)
                continue
            for index, item in enumerate(value):
                parsed = reader(file, (key, index), item, f"a table, written [[{key}]]")
                if parsed is not _INVALID:
                    arrays.setdefault(key, []).append(_Section(file, (key, index), parsed))
        else:
            file.unknown((key,), value, SECTIONS, "section")
            # "[[school]]" is one mistake: "did you mean schools?" says it; "schools: missing" would say it twice.
            seen.update(difflib.get_close_matches(key, SECTIONS, n=1, cutoff=0.7))


# ---------------------------------------------------------------------------------------------- cross-checks

def _good(section: _Section, key: str) -> Any:
    value = section.value.get(key)
    return value if _valid(value) and value is not None else None


def _check_unique(sections: list[_Section], key: str, what: str) -> None:
    first: dict[Any, _Section] = {}
    for section in sections:
        value = _good(section, key)
        if value is None:
            continue
        if value in first:
            earlier = first[value]
            section.file.fail(section.path + (key,), f"duplicate {what}; expected each {what} once (already used "
                                                     f"by {earlier.file.where(earlier.path + (key,))})", value)
        else:
            first[value] = section


def _check_subnets(schools: list[_Section]) -> None:
    """No address may belong to two schools (or twice to one): sorted by start, each subnet must begin after
    every earlier one ends. O(n log n): a 1,000-school district has thousands of subnets."""
    spans = []
    for section in schools:
        subnets = section.value.get("subnets")
        for index, network in enumerate(subnets if isinstance(subnets, tuple) else ()):
            if network is not _INVALID:
                spans.append((network.version, int(network.network_address), int(network.broadcast_address),
                              section, index, network))
    spans.sort(key=lambda s: (s[0], s[1], -s[2]))
    widest = None
    for span in spans:
        version, start, end, section, index, network = span
        if widest is not None and widest[0] == version and start <= widest[2]:
            other = widest[3]
            owner = "the same school" if other is section else f"school {_show(_good(other, 'id'))}"
            section.file.fail(section.path + ("subnets", index),
                              f"overlaps {widest[5]} of {owner} ({other.file.where(other.path + ('subnets', widest[4]))})"
                              f"; expected every address to belong to one school", str(network))
        if widest is None or widest[0] != version or end > widest[2]:
            widest = span


def _check_references(sections: list[_Section], key: str, known: dict[str, Any], what: str, where: str) -> None:
    names = ", ".join(known) if len(known) <= 12 else ", ".join(list(known)[:12]) + ", ..."
    for section in sections:
        value = _good(section, key)
        if value is not None and value not in known:
            close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            section.file.fail(section.path + (key,), f"unknown {what}{hint}; expected one of the ids in {where}: "
                                                     f"{names}", value)


def _check_bands(bands: list[_Section]) -> None:
    for band in bands:
        ratio = _good(band, "student_devices_per_student")
        devices = band.value.get("student_devices")
        if ratio and isinstance(devices, dict) and not devices:
            band.file.fail(band.path + ("student_devices",),
                           f"expected at least one approved class, e.g. [grade_bands.student_devices.chromebook], "
                           f"because student_devices_per_student = {ratio:g}")


def _check_calendar(calendar: _Section) -> None:
    file, value = calendar.file, calendar.value
    start, end = _good(calendar, "term_start"), _good(calendar, "term_end")
    if start and end and end < start:
        file.fail(calendar.path + ("term_end",), f"the term ends before it starts ({start.isoformat()}); expected "
                                                 f"a date on or after term_start", end)
        start = end = None   # which of the two is wrong is unknown: do not measure holidays against either
    holidays = value.get("holidays")
    for index, holiday in enumerate(holidays if isinstance(holidays, tuple) else ()):
        if not isinstance(holiday, dict):
            continue
        first, last = holiday.get("start"), holiday.get("end")
        path = calendar.path + ("holidays", index)
        if isinstance(first, date) and isinstance(last, date) and last < first:
            file.fail(path + ("end",), f"the holiday ends before it starts ({first.isoformat()}); expected a date "
                                       f"on or after start", last)
            continue
        last = last if isinstance(last, date) else first
        # A holiday wholly outside the term is almost always the wrong year typed.
        if isinstance(first, date) and ((start and last < start) or (end and first > end)):
            file.fail(path + ("start",), f"the holiday falls outside the term ({start or '...'} to {end or '...'}); "
                                         f"expected dates within the term (wrong year?)", first)


def _check_lifecycles(flags: _Section, infrastructure: _Section) -> None:
    """One number for one thing: a class's lifecycle_years and its max_age_years, when both are set, agree."""
    classes = flags.value.get("classes")
    for device_class, table in (classes.items() if isinstance(classes, dict) else ()):
        standard = infrastructure.value.get(device_class) if isinstance(infrastructure.value, dict) else None
        if not isinstance(table, dict) or not isinstance(standard, dict):
            continue
        years, max_age = table.get("lifecycle_years"), standard.get("max_age_years")
        if isinstance(years, float) and isinstance(max_age, float) and years != max_age:
            other = infrastructure.path + (device_class, "max_age_years")
            flags.file.fail(flags.path + ("classes", device_class, "lifecycle_years"),
                            f"differs from max_age_years = {max_age:g} ({infrastructure.file.where(other)}); expected "
                            f"one number for one thing: leave lifecycle_years out (max_age_years then sets it) or "
                            f"make the two equal", int(years) if years.is_integer() else years)


def _check_rooms(rooms: list[_Section], schools: dict[str, _Section]) -> None:
    seen: dict[tuple[str, str], _Section] = {}
    classrooms: dict[str, list[_Section]] = {}
    for room in rooms:
        school, name = _good(room, "school"), _good(room, "name")
        if school is None or school not in schools or name is None:
            continue
        key = (school, name.casefold())
        if key in seen:
            earlier = seen[key]
            room.file.fail(room.path + ("name",), f"a second room with this name in {school}; expected each room "
                                                  f"once per school (already "
                                                  f"{earlier.file.where(earlier.path + ('name',))})",
                           name)
        else:
            seen[key] = room
        if room.value.get("classroom") is True:
            classrooms.setdefault(school, []).append(room)
    for school, listed in classrooms.items():
        declared = _good(schools[school], "classrooms")
        if declared is not None and len(listed) > declared:
            extra = listed[declared]
            extra.file.fail(extra.path + ("classroom",),
                            f"{school} has {len(listed)} rooms marked as classrooms but classrooms = {declared} "
                            f"({schools[school].file.where(schools[school].path + ('classrooms',))}); expected at "
                            f"most {declared}: raise classrooms or mark libraries and offices classroom = false",
                            True)


# ---------------------------------------------------------------------------------------------- building

def _build(tables: dict[str, _Section], arrays: dict[str, list[_Section]], sources: tuple[Path, ...]) -> Standards:
    district = tables["district"].value
    calendar = tables["calendar"].value
    holidays = calendar["holidays"]
    infrastructure = tables["infrastructure"].value if "infrastructure" in tables else {}
    return Standards(
        district=District(name=district["name"], timezone=district["timezone"], effective=district["effective"],
                          contact=district["contact"]),
        schools=tuple(School(id=s["id"], name=s["name"], short_name=s["short_name"] or s["name"],
                             grade_band=s["grade_band"], enrollment=s["enrollment"], classrooms=s["classrooms"],
                             subnets=s["subnets"])
                      for s in (section.value for section in arrays.get("schools", []))),
        grade_bands=tuple(
            GradeBand(id=b["id"], name=b["name"] or b["id"], grades=b["grades"],
                      student_devices_per_student=b["student_devices_per_student"],
                      student_devices=tuple(StudentDeviceStandard(device_class=cls, models=d["models"],
                                                                  minimum_os=d["minimum_os"],
                                                                  max_age_years=d["max_age_years"])
                                            for cls, d in b["student_devices"].items()))
            for b in (section.value for section in arrays.get("grade_bands", []))),
        calendar=SchoolCalendar(school_weekdays=frozenset(calendar["school_weekdays"]),
                                holidays=tuple((h["start"], h["end"] or h["start"]) for h in holidays),
                                holiday_names=tuple(h["name"] for h in holidays),
                                term_start=calendar["term_start"], term_end=calendar["term_end"]),
        infrastructure=tuple(
            InfrastructureStandard(device_class=cls,
                                   models=tuple(ApprovedModel(m["model"], m["minimum_firmware"], m["end_of_life"])
                                                for m in i["models"]),
                                   max_age_years=i["max_age_years"],
                                   minimum_uplink_mbps=i.get("minimum_uplink_mbps"),
                                   access_points_per_classroom=i.get("access_points_per_classroom"),
                                   poe_budget_headroom_percent=i.get("poe_budget_headroom_percent"))
            for cls, i in infrastructure.items()),
        rooms=tuple(Room(school=r["school"], name=r["name"], classroom=r["classroom"],
                         access_points=r["access_points"],
                         switch_ports=tuple(SwitchPort(p["switch"], p["port"]) for p in r["switch_ports"]))
                    for r in (section.value for section in arrays.get("rooms", []))),
        sources=sources,
        flag_policy=_flag_policy(tables["flags"].value if "flags" in tables else {}, infrastructure,
                                 district["timezone"]),
        flag_classes=tuple(tables["flags"].value["classes"]) if "flags" in tables else (),
    )


def _class_policy(base: ClassPolicy, table: Mapping[str, Any]) -> ClassPolicy:
    """`base` with the keys `table` gives (each already checked), in ClassPolicy's units."""
    changes = {}
    for key, value in table.items():
        if value is not None:
            name, convert, _ = _FLAG_CLASS_KEYS[key]
            changes[name] = convert(value)
    return replace(base, **changes) if changes else base


def _flag_policy(flags: Mapping[str, Any], infrastructure: Mapping[str, Any], timezone: str) -> FlagPolicy:
    """Each class: its built-in thresholds, then its [flags.classes.CLASS] keys; lifecycle_years, when that table
    leaves it out, from [infrastructure.CLASS].max_age_years (check_standards makes sure the two never differ).
    [flags.default] is over ClassPolicy(), for a class with no built-in thresholds."""
    tables = flags.get("classes", {})
    classes = {}
    for device_class in FLAG_CLASSES:
        base = DEFAULT_CLASS_POLICIES.get(device_class, ClassPolicy())
        max_age = (infrastructure.get(device_class) or {}).get("max_age_years")
        if max_age is not None:
            base = replace(base, lifecycle_years=max_age)
        classes[device_class] = _class_policy(base, tables.get(device_class, {}))
    minutes = {key.removesuffix("_minutes"): timedelta(minutes=flags[key])
               for key in _FLAG_DURATIONS if flags.get(key) is not None}
    return FlagPolicy(classes=classes, default=_class_policy(ClassPolicy(), flags.get("default", {})),
                      timezone=_zone(timezone), **minutes)


def check_standards(path: Path) -> tuple[Standards | None, list[Problem]]:
    """Read and check the standards at `path` (a file or a folder of *.toml): (standards, []) or (None, problems).

    Every file is read and every problem collected, so one run shows them all.
    """
    problems: list[Problem] = []
    paths = _files(Path(path), problems)
    tables: dict[str, list[_Section]] = {}
    arrays: dict[str, list[_Section]] = {}
    files: list[_File] = []
    unreadable = False
    seen: set[str] = set()   # top-level keys written anywhere, even in the wrong shape
    for source in paths:
        name = str(source)
        try:
            data = source.read_bytes()
        except OSError as exc:
            problems.append(Problem(name, None, "", f"cannot be read: {exc.strerror or exc}"))
            unreadable = True
            continue
        text = _decode(name, data, problems)
        document = _parse(name, text, problems) if text is not None else None
        if document is None:
            unreadable = True
            continue
        file = _File(name, text, problems)
        files.append(file)
        _read_file(file, document, tables, arrays, seen)

    for key, sections in tables.items():
        for extra in sections[1:]:
            first = sections[0]
            extra.file.fail(extra.path, f"defined again; expected the [{key}] table in one file only (already at "
                                        f"{first.file.name}:{first.file.line(first.path)})", extra.value)
    # A section missing because its file did not parse was already reported; saying so again would mislead.
    if files and not unreadable:
        required = [k for k, (_, req) in {**_TABLE_SECTIONS, **_ARRAY_SECTIONS}.items() if req]
        for key in required:
            if key not in seen:
                file = next((f for f in files if Path(f.name).stem.replace("-", "_") == key), files[0])
                shape = f"[[{key}]] sections" if key in _ARRAY_SECTIONS else f"a [{key}] table"
                file.fail((key,), f"expected {shape} in {'one of the files' if len(files) > 1 else 'this file'}")

    schools, bands, rooms = arrays.get("schools", []), arrays.get("grade_bands", []), arrays.get("rooms", [])
    _check_unique(schools, "id", "school id")
    _check_unique(bands, "id", "grade band id")
    _check_subnets(schools)
    _check_bands(bands)
    if bands:
        _check_references(schools, "grade_band", {b.value["id"]: b for b in bands if _good(b, "id")},
                          "grade band", "[[grade_bands]]")
    known_schools = {}
    for school in schools:
        known_schools.setdefault(_good(school, "id"), school)
    known_schools.pop(None, None)
    if schools:
        _check_references(rooms, "school", known_schools, "school", "[[schools]]")
    _check_rooms(rooms, known_schools)
    if "calendar" in tables:
        _check_calendar(tables["calendar"][0])
    if "flags" in tables and "infrastructure" in tables:
        _check_lifecycles(tables["flags"][0], tables["infrastructure"][0])

    if problems:
        # In reading order: by file, then by line (cross-checks were found after every file was read).
        order = {str(source): index for index, source in enumerate(paths)}
        return None, sorted(problems, key=lambda p: (order.get(p.file, -1), p.line or 0))
    everything = [*(s[0] for s in tables.values()), *(s for group in arrays.values() for s in group)]
    if not all(_valid(section.value) for section in everything):   # belt and braces: every failure is a problem
        return None, [Problem(str(path), None, "", "invalid standards")]
    return _build({k: v[0] for k, v in tables.items()}, arrays, tuple(paths)), []


def load_standards(path: Path) -> Standards:
    """The standards at `path` (a file or a folder of *.toml); raises StandardsError listing every problem."""
    standards, problems = check_standards(path)
    if standards is None:
        raise StandardsError(problems)
    return standards


class StandardsHolder:
    """The standards in force. A reload that fails keeps the previous good standards and returns the problems.

    Swapping one reference is atomic, so readers in other threads or tasks see the old or the new standards,
    never a mixture.
    """

    def __init__(self, current: Standards | None = None):
        self._current = current

    @property
    def current(self) -> Standards | None:
        return self._current

    def reload(self, path: Path) -> list[str]:
        standards, problems = check_standards(path)
        if standards is None:
            return [str(problem) for problem in problems]
        self._current = standards
        return []

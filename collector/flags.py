"""Offline and refurbish flags: which devices are gone, which are due for refurbishing. Pure: no database, no clock.

Every function takes `now` from its caller, so tests run on a simulated
clock and the store evaluates a whole district at one instant.

Offline (`offline_status`)
--------------------------
One device at a time, with its class's thresholds (`FlagPolicy.for_class`):

1. The school's agent first. An agent not heard for longer than
   `agent_silent_after` says nothing about its devices: every device of that
   school is "unknown (agent silent)", never offline or missing, and the
   agent gets the flag instead (`agent_flag`).
2. Infrastructure (switch, access point, printer, UPS, ...) is polled every
   scan, so it is "offline" after `offline_after_missed_polls` consecutive
   scans of its agent that did not see it.
3. Student devices sleep, go home and sit locked in carts: one is "missing"
   only when it has not been seen for `missing_after_school_days` *school
   days* of the school's calendar (days after the day it was last seen, up
   to and including today; weekends, holidays and the summer do not count).
   The iPad cart locked away over a long weekend is not missing; the third
   school day after it was last seen (threshold 3), it is.
4. Neither state is declared before `min_missed_sweeps` consecutive sweeps
   missed the device. An iPad seen at 15:00 counts one school day unseen at
   the next morning's first sweep while it still sleeps; the guard keeps it
   from flapping to missing and back. The store keeps `missed_polls` for
   every device, not only for infrastructure, for exactly this.

Dates are the school's dates: set `FlagPolicy.timezone` to the district's
zone, or the days are those of the datetimes as given (UTC, as the store
keeps them).

Flag lifecycle (`advance_flags`)
--------------------------------
A condition (offline, missing, agent silent, any refurbish reason) becomes a
`Flag` with `raised_at` and, once it is over, `cleared_at`. Per flag key
(kind, device_id), at each evaluation at time `now`:

- Present and already open: stays open; `last_present_at` becomes `now` and
  the reason and evidence are refreshed (raised_at never moves).
- Absent and open: cleared (`cleared_at = now`) only when the condition has
  been absent for at least `hold_down`, i.e. `now - last_present_at >=
  hold_down`; until then it stays open. A device that blinks back for one
  sweep does not close and reopen its flag.
- Present, not open, and a flag of the key was cleared less than `cool_down`
  ago (`now - cleared_at < cool_down`): raised only when the condition has
  lasted at least `min_duration`, i.e. `now - condition.since >=
  min_duration`. A condition without a known onset (`since` None) counts as
  starting now, so it waits for the cool-down to end.
- Present, not open, no cool-down running: raised at once (`raised_at = now`).
  The first raise needs no minimum duration: the offline thresholds (missed
  polls, school days, missed sweeps) are the debounce.
- For a device whose presence is unknown (its agent is silent), its offline
  and missing flags are held: they stay open and count as present, so the
  hold-down starts again only when the agent reports again.

Offline and missing conditions (`status_condition`) give the device's last
sighting as `since`: in a cool-down, a device that vanishes again is flagged
once it has been gone for `min_duration`.

Refurbish (`refurbish_flags`)
-----------------------------
Each reason is one flag (kind, reason in plain language, evidence strings),
with the thresholds of the device's class (`ClassPolicy`):

- age: days since the purchase date (the asset register), else since first
  seen (then the device is at least that old, and the evidence says which),
  at or past `lifecycle_years` (no limit when None);
- firmware: below `minimum_firmware` by `compare_versions`, or end-of-life;
- battery: full-charge over design capacity under `battery_floor_percent`;
- battery, UPS: the UPS itself reports its battery low or depleted while on
  mains power (charging did not bring it back);
- disk: used over total at or above `disk_full_percent`;
- interface errors: the error rate (per hour, from cumulative counters;
  a counter that goes back was reset and counts from 0) in the newest
  `error_window` up to now, against the window before it: flagged when it
  is at least `error_rise_factor` times the previous rate and at least
  `error_min_per_hour`. Both windows need samples; three (at now - 2
  windows, now - 1 window, now) are enough, more only refine, and the cost
  is linear in the samples, so the store passes a few per device, not every
  poll;
- reboots: boot times (sample time minus sysUpTime) that move later between
  samples, except by the 497-day wrap of the 32-bit counter, within the
  last 30 days; or the agent's own `reboot_count_30d`; the larger of the
  two (never their sum) at or above `reboots_per_30d`;
- printer supplies: any level under `supply_floor_percent` (negative levels
  are SNMP's "other/unknown/some remaining" and are not judged);
- AUE: a Chromebook's auto-update expiration date reached (replace) or
  within `aue_warning_days` (plan), with the date as evidence.

Input that cannot be judged (a junk firmware string, a battery design
capacity of 0, a negative counter) raises no flag; it becomes a note
(`assess_refurbish`), and joins the evidence of the flag of the same reason
where there is one.

Speed: the district evaluates a million devices at once, so the common
device (nothing to flag) costs a handful of attribute reads and comparisons;
version strings are parsed once per distinct string (cached).
"""

from __future__ import annotations

import functools
import math
import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Any

from .calendar import SchoolCalendar
from .records import quick_init

# ---------------------------------------------------------------- states and kinds

ONLINE = "online"
OFFLINE = "offline"
MISSING = "missing"
UNKNOWN_AGENT_SILENT = "unknown (agent silent)"
STATES = (ONLINE, OFFLINE, MISSING, UNKNOWN_AGENT_SILENT)

KIND_OFFLINE = "offline"
KIND_MISSING = "missing"
KIND_AGENT_SILENT = "agent_silent"
# Kinds that only the device's presence decides: held while its agent is silent.
PRESENCE_KINDS = frozenset({KIND_OFFLINE, KIND_MISSING})

KIND_AGE = "age"
KIND_FIRMWARE = "firmware"
KIND_BATTERY = "battery"
KIND_DISK = "disk"
KIND_INTERFACE_ERRORS = "interface_errors"
KIND_REBOOTS = "reboots"
KIND_PRINTER_SUPPLIES = "printer_supplies"
KIND_AUE = "aue"
REFURBISH_KINDS = (KIND_AGE, KIND_FIRMWARE, KIND_BATTERY, KIND_DISK, KIND_INTERFACE_ERRORS, KIND_REBOOTS,
                   KIND_PRINTER_SUPPLIES, KIND_AUE)

AGENT_KEY_PREFIX = "agent:"   # an agent's flags are keyed "agent:<site>"

# sysUpTime is TimeTicks (hundredths of a second, 32 bits): it wraps to 0
# after 497.1 days without any reboot.
SYSUPTIME_WRAP_SECONDS = 2**32 / 100
# How far two estimates of one boot time (sample time minus uptime) may
# differ without a reboot in between: poll latency and clock corrections.
BOOT_TIME_JITTER_SECONDS = 120.0
REBOOT_WINDOW = timedelta(days=30)
MAX_EVIDENCE_ITEMS = 5
_DAYS_PER_YEAR = 365.2425
_INFINITY = float("inf")


# ---------------------------------------------------------------- inputs


class Series(Sequence):
    """A sample series as two columns, times and values, read as (time, value) pairs.

    The store keeps a device's samples as columns; handing them on as
    columns spares the interface-error rule a Python step per sample (it
    reads the columns directly), and everything else sees the pairs.
    """

    __slots__ = ("times", "values")

    def __init__(self, times: Sequence[Any], values: Sequence[Any]):
        if len(times) != len(values):
            raise ValueError(f"{len(times)} sample times for {len(values)} values")
        self.times, self.values = times, values

    def __len__(self) -> int:
        return len(self.times)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(zip(self.times[index], self.values[index]))
        return (self.times[index], self.values[index])

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return zip(self.times, self.values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Series({list(self)!r})"


class CheckedSeries(Series):
    """A Series known to hold non-negative whole numbers in time order (health.health_digest
    checked them when it stored them), and whether it is `steady`: error counters that never go back, uptime
    samples whose first and last date the same boot. The health rules read that instead of checking every
    sample again, for every polled device of a district."""

    __slots__ = ("steady",)

    def __init__(self, times: Sequence[int], values: Sequence[int], steady: bool):
        # Not Series.__init__: the columns were checked to be of one length when stored.
        self.times, self.values, self.steady = times, values, steady


@quick_init
@dataclass(frozen=True, slots=True)
class DeviceState:
    """What the store knows about one merged device, as of its last report."""

    site: str
    device_id: str
    mac: str
    device_class: str
    is_infrastructure: bool
    last_seen: datetime
    first_seen: datetime
    # Consecutive scans of its agent that did not see it (0 when the last one did).
    # For infrastructure it is the offline rule; for every device it is the
    # min_missed_sweeps guard.
    missed_polls: int = 0
    purchase_date: date | None = None          # from the asset register, where known
    model: str = ""
    firmware: str = ""
    minimum_firmware: str | None = None        # the standard for this model, where one is set
    firmware_end_of_life: bool = False
    battery_design_capacity: float | None = None   # any unit, the same for both (mWh, Wh, mAh)
    battery_full_capacity: float | None = None
    disk_used: float | None = None             # any unit, the same for both (bytes)
    disk_total: float | None = None
    # (sample time, in_errors + out_errors) as cumulative counters, oldest first. A sample time is a
    # datetime or POSIX seconds (the store's form: converting a month of samples per device would cost
    # more than judging them), the same form throughout one sequence.
    interface_errors: Sequence[tuple[datetime | float, float]] = ()
    # (sample time, sysUpTime in seconds), oldest first; sample times as for interface_errors.
    uptime_samples: Sequence[tuple[datetime | float, float]] = ()
    # (supply name, level percent); negative levels are SNMP's "other/unknown/some remaining".
    printer_supplies: Sequence[tuple[str, float]] = ()
    aue_date: date | None = None               # Chromebook auto-update expiration
    reboot_count_30d: int | None = None        # reported by the agent in endpoint mode
    # A UPS's own battery verdict (UPS-MIB upsBatteryStatus): normal, low, depleted, unknown; and whether it
    # was running on its battery at the time (then "low" is a power cut draining it, not a worn battery).
    ups_battery_status: str = ""
    ups_on_battery: bool = False
    # The device's own lifecycle where its school plans one (the grade band's max_age_years for a student
    # device); None: its class's (ClassPolicy.lifecycle_years).
    lifecycle_years: float | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class AgentState:
    site: str
    last_heard: datetime | None                # None: never heard


@dataclass(frozen=True, slots=True)
class ClassPolicy:
    """The thresholds of one device class."""

    offline_after_missed_polls: int = 3        # infrastructure: consecutive missed polls
    missing_after_school_days: int = 3         # student devices: school days unseen
    min_missed_sweeps: int = 1                 # no offline/missing before this many missed sweeps
    lifecycle_years: float | None = None       # None: no age limit for the class
    battery_floor_percent: float = 60.0        # full / design capacity below this: flag
    disk_full_percent: float = 90.0            # used / total at or above this: flag
    error_window: timedelta = timedelta(days=1)
    error_rise_factor: float = 3.0             # newest window's error rate >= factor x previous window's
    error_min_per_hour: float = 1.0            # ... and at least this many errors an hour (no flag for 0 -> 1)
    reboots_per_30d: int = 4                   # this many reboots in 30 days or more: flag
    supply_floor_percent: float = 10.0         # a printer supply below this: flag
    aue_warning_days: int = 180                # flag a Chromebook this many days before its AUE date

    def __post_init__(self) -> None:
        for name in ("offline_after_missed_polls", "missing_after_school_days", "min_missed_sweeps",
                     "reboots_per_30d", "aue_warning_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)!r}")
        if self.error_window <= timedelta(0):
            raise ValueError(f"error_window must be positive, got {self.error_window!r}")
        if self.lifecycle_years is not None and self.lifecycle_years <= 0:
            raise ValueError(f"lifecycle_years must be positive, got {self.lifecycle_years!r}")


_STUDENT = dict(missing_after_school_days=3, min_missed_sweeps=3)
_INFRASTRUCTURE = dict(offline_after_missed_polls=3, min_missed_sweeps=1)

# Defaults for the classes the agents report; a district overrides them from its standards.
DEFAULT_CLASS_POLICIES: Mapping[str, ClassPolicy] = MappingProxyType({
    "chromebook": ClassPolicy(**_STUDENT, lifecycle_years=4),
    "ipad": ClassPolicy(**_STUDENT, lifecycle_years=4),
    "mac": ClassPolicy(**_STUDENT, lifecycle_years=5),
    "windows_pc": ClassPolicy(**_STUDENT, lifecycle_years=5),
    "linux_pc": ClassPolicy(**_STUDENT, lifecycle_years=5),
    "phone": ClassPolicy(missing_after_school_days=10, min_missed_sweeps=3, lifecycle_years=3),
    "display": ClassPolicy(missing_after_school_days=5, min_missed_sweeps=3, lifecycle_years=8),
    "iot": ClassPolicy(missing_after_school_days=5, min_missed_sweeps=3),
    "unknown": ClassPolicy(missing_after_school_days=5, min_missed_sweeps=3),
    "printer": ClassPolicy(**_INFRASTRUCTURE, lifecycle_years=7),
    "switch": ClassPolicy(**_INFRASTRUCTURE, lifecycle_years=7),
    "router": ClassPolicy(**_INFRASTRUCTURE, lifecycle_years=7),
    "access_point": ClassPolicy(**_INFRASTRUCTURE, lifecycle_years=6),
    "wireless_controller": ClassPolicy(**_INFRASTRUCTURE, lifecycle_years=7),
    "ups": ClassPolicy(**_INFRASTRUCTURE, lifecycle_years=5, battery_floor_percent=70.0),
})


@dataclass(frozen=True, slots=True)
class FlagPolicy:
    classes: Mapping[str, ClassPolicy] = field(default_factory=lambda: DEFAULT_CLASS_POLICIES)
    default: ClassPolicy = ClassPolicy()       # for a class with no entry
    agent_silent_after: timedelta = timedelta(minutes=30)
    hold_down: timedelta = timedelta(minutes=30)
    cool_down: timedelta = timedelta(hours=6)
    min_duration: timedelta = timedelta(hours=1)
    timezone: tzinfo | None = None             # the district's zone for school days; None: as given

    def __post_init__(self) -> None:
        for name in ("agent_silent_after", "hold_down", "cool_down", "min_duration"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)!r}")
        # A read-only copy: the policy is shared by every evaluation and must not change under it.
        object.__setattr__(self, "classes", MappingProxyType(dict(self.classes)))

    def for_class(self, device_class: str) -> ClassPolicy:
        return self.classes.get(device_class, self.default)

    def __reduce__(self) -> tuple:
        # A mappingproxy does not pickle; the evaluation hands the policy to worker processes.
        return (FlagPolicy, tuple(dict(self.classes) if each.name == "classes" else getattr(self, each.name)
                                  for each in fields(self)))


# ---------------------------------------------------------------- outputs


@quick_init
@dataclass(frozen=True, slots=True)
class Status:
    """A device's presence. Equal statuses are one shared object (see _status): never mutate, never key on id()."""

    state: str                                 # one of STATES
    reason: str
    school_days_unseen: int | None = None      # student devices only (None: infrastructure, or agent silent)


@quick_init
@dataclass(frozen=True, slots=True)
class Condition:
    """A condition that holds now: the input of `advance_flags`.

    `since` is when it started as far as the evaluator knows (None: unknown);
    only the cool-down rule reads it.
    """

    kind: str
    device_id: str
    reason: str
    evidence: tuple[str, ...] = ()
    since: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.device_id)


@quick_init
@dataclass(frozen=True, slots=True)
class RefurbishFlag(Condition):
    """One refurbish reason of one device: a condition like any other for the flag lifecycle."""


@quick_init
@dataclass(frozen=True, slots=True)
class Flag:
    kind: str
    device_id: str
    reason: str
    evidence: tuple[str, ...]
    raised_at: datetime
    cleared_at: datetime | None = None
    # The last evaluation at which the condition held (None: raised_at); the hold-down counts from it.
    last_present_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.device_id)


@dataclass(frozen=True, slots=True)
class RefurbishAssessment:
    flags: list[RefurbishFlag]
    notes: tuple[str, ...]                     # what could not be judged, and why (no flag from it)


# ---------------------------------------------------------------- formatting


def _ago(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


@functools.lru_cache(maxsize=4096)
def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


# ---------------------------------------------------------------- offline


def agent_is_silent(agent: AgentState, policy: FlagPolicy, now: datetime) -> bool:
    return agent.last_heard is None or now - agent.last_heard > policy.agent_silent_after


def agent_flag(agent: AgentState, policy: FlagPolicy, now: datetime) -> Condition | None:
    """The agent_silent condition of a school's agent, or None when it was heard recently enough."""
    if not agent_is_silent(agent, policy, now):
        return None
    if agent.last_heard is None:
        reason = f"the agent of {agent.site} has never reported; its devices are unknown, not offline"
        evidence: tuple[str, ...] = ("last heard: never",)
    else:
        reason = (f"the agent of {agent.site} has been silent for {_ago(now - agent.last_heard)} "
                  f"(silent after {_ago(policy.agent_silent_after)}); its devices are unknown, not offline")
        evidence = (f"last heard {_when(agent.last_heard)}",)
    return Condition(KIND_AGENT_SILENT, AGENT_KEY_PREFIX + agent.site, reason, evidence, agent.last_heard)


# A district has a million devices but few distinct statuses: the reason of
# "not seen for 2 school days since 2026-11-20 (missing after 3)" is the same
# text for every device it describes. So statuses are built once per distinct
# reason and shared (they are immutable), and the reason names nothing
# device-specific; the device's own facts (last seen, missed polls) go into the
# evidence of its condition (status_condition).
@functools.lru_cache(maxsize=65536)
def _status(state: str, reason: str, school_days_unseen: int | None) -> Status:
    return Status(state, reason, school_days_unseen)


@functools.lru_cache(maxsize=4096)
def _agent_silent_status(site: str, last_heard: datetime | None, now: datetime) -> Status:
    heard = "has never reported" if last_heard is None else f"was last heard {_ago(now - last_heard)} ago"
    return Status(UNKNOWN_AGENT_SILENT, f"the agent of {site} {heard}: the device's presence is unknown, not offline")


@functools.lru_cache(maxsize=4096)
def _infrastructure_status(missed: int, threshold: int) -> Status:
    if missed >= threshold:
        return Status(OFFLINE, f"missed {missed} polls in a row (offline after {threshold})")
    if missed == 0:
        return Status(ONLINE, "seen in the last poll")
    return Status(ONLINE, f"missed {_plural(missed, 'poll')} in a row (offline after {threshold})")


@functools.lru_cache(maxsize=65536)
def _student_status(days: int, last_day: date, today: date, needed: int, asleep_missed: int,
                    min_sweeps: int) -> Status:
    """asleep_missed: the missed sweeps when fewer than min_sweeps, else -1 (not part of the reason)."""
    unseen = f"not seen for {_plural(days, 'school day')} since {last_day.isoformat()}"
    if days < needed:
        return Status(ONLINE, f"{unseen} (missing after {needed})", days)
    if asleep_missed >= 0:
        return Status(ONLINE, f"{unseen} but missed only {_plural(asleep_missed, 'sweep')} in a row "
                              f"(missing needs {min_sweeps}; it may be asleep)", days)
    calendar_days = today.toordinal() - last_day.toordinal()
    return Status(MISSING, f"{unseen} (missing after {needed}; {_plural(calendar_days, 'calendar day')})", days)


def missed_polls(polls: Sequence[str] | None, heard: datetime, last_seen_text: str, last_seen: datetime,
                 scan_interval: timedelta) -> int:
    """Polls of the device's site that began after its last sighting.

    `polls` are the start times of the site's newest network polls (stored
    text, oldest first: the scans its agents reported). A site whose agents
    report no scans (agents older than the scan summary) is estimated: whole
    scan intervals between the last sighting and the agent's last report.
    """
    if polls is not None:
        return len(polls) - bisect_right(polls, last_seen_text)
    return int((heard - last_seen) / scan_interval) if heard > last_seen else 0


def offline_status(device: DeviceState, agent: AgentState, calendar: SchoolCalendar, policy: FlagPolicy,
                   now: datetime) -> Status:
    """Online, offline (infrastructure), missing (student devices) or unknown (agent silent), with the reason."""
    if agent.site != device.site:
        raise ValueError(f"device {device.device_id} is at site {device.site!r}, agent is of {agent.site!r}")
    heard = agent.last_heard
    if heard is None or now - heard > policy.agent_silent_after:
        return _agent_silent_status(agent.site, heard, now)
    rules = policy.classes.get(device.device_class, policy.default)
    missed = device.missed_polls
    if device.is_infrastructure:
        threshold = rules.offline_after_missed_polls
        if threshold < rules.min_missed_sweeps:
            threshold = rules.min_missed_sweeps
        return _infrastructure_status(missed, threshold if threshold > 0 else 1)

    zone = policy.timezone
    if zone is None:
        last_day = device.last_seen.date()
        today = now.date()
    else:
        last_day = device.last_seen.astimezone(zone).date()
        today = now.astimezone(zone).date()
    days = calendar.school_days_between(last_day, today)
    if missed <= 0:
        return _status(ONLINE, "seen in the last sweep", days)
    min_sweeps = rules.min_missed_sweeps
    return _student_status(days, last_day, today, rules.missing_after_school_days,
                           missed if missed < min_sweeps else -1, min_sweeps)


def status_condition(device: DeviceState, status: Status) -> Condition | None:
    """The offline or missing condition a status states, or None (online, unknown)."""
    if status.state == OFFLINE:
        kind = KIND_OFFLINE
    elif status.state == MISSING:
        kind = KIND_MISSING
    else:
        return None
    evidence = [f"last seen {_when(device.last_seen)}", f"missed polls in a row: {device.missed_polls}"]
    if status.school_days_unseen is not None:
        evidence.append(f"school days unseen: {status.school_days_unseen}")
    return Condition(kind, device.device_id, status.reason, tuple(evidence), device.last_seen)


# ---------------------------------------------------------------- flag lifecycle


def advance_flags(open_flags: Iterable[Flag], evaluated: Iterable[Condition], now: datetime, policy: FlagPolicy,
                  *, recently_cleared: Iterable[Flag] = (), unknown_devices: Collection[str] = (),
                  ) -> tuple[list[Flag], list[Flag], list[Flag]]:
    """One evaluation step of the flag lifecycle: (still_open, newly_raised, newly_cleared).

    `open_flags` are the flags open before this step (cleared_at None);
    `evaluated` the conditions that hold at `now` (anything absent from it
    does not hold); `recently_cleared` flags cleared within the last
    `policy.cool_down` (older ones are ignored; pass more if convenient);
    `unknown_devices` the device ids whose presence cannot be judged (their
    agent is silent). The rule is in the module docstring.

    An open flag whose key repeats keeps the earliest raise; the others are
    cleared, so a store that duplicated a flag repairs itself.
    """
    conditions: dict[tuple[str, str], Condition] = {}
    for condition in evaluated:
        conditions.setdefault((condition.kind, condition.device_id), condition)
    cleared_at: dict[tuple[str, str], datetime] = {}
    for flag in recently_cleared:
        if flag.cleared_at is not None:
            key = (flag.kind, flag.device_id)
            if key not in cleared_at or flag.cleared_at > cleared_at[key]:
                cleared_at[key] = flag.cleared_at

    still_open: list[Flag] = []
    newly_cleared: list[Flag] = []
    kept: dict[tuple[str, str], int] = {}
    for flag in sorted(open_flags, key=lambda f: f.raised_at):
        if flag.cleared_at is not None:
            raise ValueError(f"flag {flag.kind} of {flag.device_id} is already cleared; pass it as recently_cleared")
        key = (flag.kind, flag.device_id)
        if key in kept:
            newly_cleared.append(replace(flag, cleared_at=now))
            continue
        condition = conditions.get(key)
        if condition is not None:
            flag = replace(flag, reason=condition.reason, evidence=condition.evidence, last_present_at=now)
        elif flag.kind in PRESENCE_KINDS and flag.device_id in unknown_devices:
            # Not known to be gone: hold it, and restart the hold-down from now.
            flag = replace(flag, last_present_at=now)
        else:
            last_present = flag.last_present_at or flag.raised_at
            if now - last_present >= policy.hold_down:
                newly_cleared.append(replace(flag, cleared_at=now))
                continue
        kept[key] = len(still_open)
        still_open.append(flag)

    newly_raised: list[Flag] = []
    for key, condition in conditions.items():
        if key in kept:
            continue
        last_cleared = cleared_at.get(key)
        if last_cleared is not None and now - last_cleared < policy.cool_down:
            since = condition.since if condition.since is not None else now
            if now - since < policy.min_duration:
                continue
        newly_raised.append(Flag(condition.kind, condition.device_id, condition.reason, condition.evidence,
                                 raised_at=now, last_present_at=now))
    return still_open, newly_raised, newly_cleared


# ---------------------------------------------------------------- versions

# A version: optional "v", then a digit, then digits, letters and the usual
# separators. Anything else (empty, "unknown", "N/A", a whole sysDescr) is junk.
_VERSION_SHAPE = re.compile(r"[vV]?[0-9][0-9A-Za-z.()\-_+ ]{0,63}")
_VERSION_TOKEN = re.compile(r"[0-9]+|[A-Za-z]+")
# Letters that mark a version *before* the release it names (1.0rc1 < 1.0).
# Any other letters mark a later build of the same numbers (2.1b > 2.1, as
# firmware vendors use them: 15.2(7)E3, 1.0.2k).
_PRERELEASE_WORDS = frozenset({"alpha", "beta", "rc", "pre", "preview", "dev", "snapshot"})

# Token kinds, ordered as they compare at one position.
_PRE, _END, _NUM, _WORD = 0, 1, 2, 3


def parse_version(text: str) -> tuple[tuple[int, int | str], ...] | None:
    """A version string as comparable tokens, or None when it is not a version (see compare_versions)."""
    return _parse_version(text) if isinstance(text, str) else None


@functools.lru_cache(maxsize=8192)
def _parse_version(text: str) -> tuple[tuple[int, int | str], ...] | None:
    text = text.strip()
    if not _VERSION_SHAPE.fullmatch(text):
        return None
    if text[0] in "vV":
        text = text[1:]
    tokens: list[tuple[int, int | str]] = []
    for token in _VERSION_TOKEN.findall(text):
        if token[0].isdigit():
            tokens.append((_NUM, int(token)))
        else:
            word = token.lower()
            tokens.append((_PRE if word in _PRERELEASE_WORDS else _WORD, word))
    # Trailing zeros say nothing: 8.10 == 8.10.0.0.
    while tokens and tokens[-1] == (_NUM, 0):
        tokens.pop()
    return tuple(tokens)


def compare_versions(a: str, b: str) -> int | None:
    """-1, 0 or 1 as version `a` is below, equal to or above `b`; None when they cannot be compared.

    The rule: each string must look like a version (an optional "v", then a
    digit, then at most 63 more digits, ASCII letters and . ( ) - _ + or
    space); otherwise it is junk and the answer is None. It splits into runs
    of digits (compared as numbers, so 8.10 > 8.9 and 007 == 7) and runs of
    letters (compared case-insensitively, alphabetically); separators only
    separate, so 15.2(7)E3 is 15, 2, 7, E, 3. Tokens compare left to right.
    Where one version has run out, a missing token counts as 0 against a
    number (8.10 == 8.10.0.0), as later than a pre-release word ("alpha",
    "beta", "rc", "pre", "preview", "dev", "snapshot": 1.0rc1 < 1.0) and as
    earlier than any other letters (2.1b > 2.1). A number against letters at
    the same place (2.1b against 2.1.1) is two numbering schemes: None,
    except that a pre-release word is below a number (1.0rc1 < 1.0.1).
    """
    if not isinstance(a, str) or not isinstance(b, str):
        return None
    left = _parse_version(a)
    right = _parse_version(b)
    if left is None or right is None:
        return None
    return _compare_tokens(left, right)


@functools.lru_cache(maxsize=8192)
def _compare_tokens(left: tuple[tuple[int, int | str], ...], right: tuple[tuple[int, int | str], ...]) -> int | None:
    end = (_END, 0)
    zero = (_NUM, 0)
    for position in range(max(len(left), len(right))):
        x = left[position] if position < len(left) else end
        y = right[position] if position < len(right) else end
        # A version that has run out reads as 0 against a number: 8.10 == 8.10.0.0.
        if x[0] == _END and y[0] == _NUM:
            x = zero
        elif y[0] == _END and x[0] == _NUM:
            y = zero
        if x == y:
            continue
        if x[0] == y[0]:
            return -1 if x[1] < y[1] else 1          # type: ignore[operator]
        if {x[0], y[0]} == {_NUM, _WORD}:
            return None                              # two numbering schemes
        # pre-release < run out < other letters, and pre-release < number.
        return -1 if x[0] < y[0] else 1
    return 0


# ---------------------------------------------------------------- refurbish


def refurbish_flags(device: DeviceState, policy: FlagPolicy, now: datetime) -> list[RefurbishFlag]:
    """Every refurbish reason of a device, each with its reason and evidence; [] when there is none."""
    return _refurbish(device, policy, now, None)


def assess_refurbish(device: DeviceState, policy: FlagPolicy, now: datetime) -> RefurbishAssessment:
    """refurbish_flags plus the notes: what could not be judged (junk firmware, impossible capacities)."""
    notes: list[str] = []
    flags = _refurbish(device, policy, now, notes)
    return RefurbishAssessment(flags, tuple(notes))


def health_flags(device: DeviceState, policy: FlagPolicy, now: datetime) -> list[RefurbishFlag]:
    """The refurbish reasons that come from the device's health readings (battery, disk, interface errors,
    reboots, printer supplies), in refurbish_flags' order; the others (age, firmware, AUE) are not judged."""
    flags: list[RefurbishFlag] = []
    _check_health(device, policy.for_class(device.device_class), now, flags, [])
    return flags


def clearly_healthy(readings: Any, rules: ClassPolicy, now: datetime) -> bool:
    """True when health_flags certainly gives no flag to a device whose only health readings are these
    (health.Readings of an SNMP-polled device: uptime, interface errors, printer supplies, UPS battery);
    False when it may, and then health_flags must judge the device.

    Most polled devices are healthy, and judging them in full is most of a district evaluation's health
    work: this answers for the common case (no reboot, counters that only grow, supplies above the floor)
    with the rules' own window sums and boot dating, and leaves every other case to them.
    """
    if readings.ups_battery_status in _WORN_UPS_BATTERY and not readings.ups_on_battery:
        return False
    floor = rules.supply_floor_percent
    for _, level in readings.printer_supplies:
        if type(level) is not float or level != level or 0 <= level < floor:    # noqa: E721 - not a bool
            return False
    errors, uptime = readings.interface_errors, readings.uptime_samples
    window_start, middle, end, reboot_horizon = _posix_bounds(rules.error_window, now)
    if len(errors) >= 3:
        if not isinstance(errors, Series):
            return False
        sums = _steady_sums(errors, window_start, middle, end)
        if sums is None or _errors_rising(sums, rules):
            return False
    if len(uptime) > 1 and not (type(uptime) is CheckedSeries and uptime.steady):   # one boot: _boot_times' []
        if not isinstance(uptime, Series):
            return False
        found = _boots_after(uptime, reboot_horizon)
        if found is None or found:        # junk, or boots that may count: the rule itself judges them
            return False
    return True


# (id(window), id(now)) -> (window, now, _posix_bounds' answer). Every polled device of an evaluation asks with
# the same `now` and one of a few windows: found by identity, since hashing an aware datetime (as an lru_cache
# key) costs more than the arithmetic it would save. The entry holds both objects, so no other can take their id.
_POSIX_BOUNDS: dict[tuple[int, int], tuple[timedelta, datetime, tuple[float, float, float, float]]] = {}


def _posix_bounds(window: timedelta, now: datetime) -> tuple[float, float, float, float]:
    """The health rules' bounds in POSIX seconds: the previous error window's start, its end (the newest
    window's start), now, and the start of the reboot window."""
    key = (id(window), id(now))
    found = _POSIX_BOUNDS.get(key)
    if found is not None and found[0] is window and found[1] is now:
        return found[2]
    middle = now - window
    bounds = ((middle - window).timestamp(), middle.timestamp(), now.timestamp(), (now - REBOOT_WINDOW).timestamp())
    if len(_POSIX_BOUNDS) >= 64:
        _POSIX_BOUNDS.clear()
    _POSIX_BOUNDS[key] = (window, now, bounds)
    return bounds


# clearly_healthy's latest window sums and boot times, (samples, bounds, answer), found by the samples' identity:
# a device that is not clearly healthy has health_flags work them out again at once, from the same series (the
# entry holds it, so no other object can take its id). One tuple, replaced whole: threads may share it.
_LAST_SUMS: tuple = (None, None, None)
_LAST_BOOTS: tuple = (None, None, None)
_NO_BOOTS: list[float] = []     # handed out read only, as every _boots_after answer


def _steady_sums(samples: Sequence, window_start: Any, middle: Any, now: Any) -> tuple[float, float, float, float] | None:
    """_steady_error_windows, answered again without work for the series and bounds it was last asked."""
    global _LAST_SUMS
    known, bounds, sums = _LAST_SUMS
    if known is samples and bounds == (window_start, middle, now):
        return sums
    sums = _steady_error_windows(samples, window_start, middle, now)
    _LAST_SUMS = (samples, (window_start, middle, now), sums)
    return sums


def _boots_after(samples: Sequence, horizon: float) -> list[float] | None:
    """_boot_times (read only: the list may be handed out twice), answered again without work for the series
    and horizon it was last asked."""
    global _LAST_BOOTS
    if type(samples) is CheckedSeries and samples.steady:
        return _NO_BOOTS        # checked when stored: the samples date one boot, so _boot_times gives none
    known, known_horizon, found = _LAST_BOOTS
    if known is samples and known_horizon == horizon:
        return found
    found = _boot_times(samples, horizon)
    _LAST_BOOTS = (samples, horizon, found)
    return found


def _errors_rising(sums: tuple[float, float, float, float], rules: ClassPolicy) -> bool:
    """Whether the newest window's error rate is a flag: risen by the factor and at least the minimum."""
    old_errors, old_seconds, new_errors, new_seconds = sums
    if old_seconds <= 0 or new_seconds <= 0:
        return False        # not enough history for both windows: nothing to compare
    new_rate = new_errors * 3600.0 / new_seconds
    old_rate = old_errors * 3600.0 / old_seconds
    return not (new_errors <= 0 or new_rate < rules.error_min_per_hour or new_rate < rules.error_rise_factor * old_rate)


def _refurbish(device: DeviceState, policy: FlagPolicy, now: datetime, notes: list[str] | None) -> list[RefurbishFlag]:
    # Notes are always collected while judging (a junk value also annotates
    # its own flag); the caller of refurbish_flags just does not see the rest.
    if notes is None:
        notes = []
    rules = policy.classes.get(device.device_class, policy.default)
    flags: list[RefurbishFlag] = []
    today = now.date() if policy.timezone is None else now.astimezone(policy.timezone).date()
    today_ordinal = today.toordinal()
    # Age and AUE concern most devices and flag few: their tests are inline, the texts built only for a flag.
    lifecycle = device.lifecycle_years if device.lifecycle_years is not None else rules.lifecycle_years
    if lifecycle is not None:
        purchased = device.purchase_date
        start = purchased if purchased is not None else device.first_seen.date()
        if today_ordinal - start.toordinal() >= lifecycle * _DAYS_PER_YEAR:
            reason, evidence = _age_text(start, purchased is not None, today, lifecycle, device.device_class)
            flags.append(RefurbishFlag(KIND_AGE, device.device_id, reason, evidence))
    if device.minimum_firmware is not None or device.firmware_end_of_life:
        _check_firmware(device, flags, notes)
    _check_health(device, rules, now, flags, notes)
    aue = device.aue_date
    if aue is not None and aue.toordinal() - today_ordinal <= rules.aue_warning_days:
        reason, evidence = _aue_text(aue, today, rules.aue_warning_days)
        flags.append(RefurbishFlag(KIND_AUE, device.device_id, reason, evidence))
    return flags


def _check_health(device: DeviceState, rules: ClassPolicy, now: datetime, flags: list[RefurbishFlag],
                  notes: list[str]) -> None:
    if device.battery_design_capacity is not None and device.battery_full_capacity is not None:
        _check_battery(device, rules, flags, notes)
    if device.ups_battery_status in _WORN_UPS_BATTERY and not device.ups_on_battery:
        flags.append(_flag(device, KIND_BATTERY,
                           f"UPS battery reports {device.ups_battery_status} while on mains power: replace the battery",
                           (f"upsBatteryStatus {device.ups_battery_status}", "on mains power (not on battery)")))
    if device.disk_total is not None and device.disk_used is not None:
        _check_disk(device, rules, flags, notes)
    if device.interface_errors:
        _check_errors(device, rules, now, flags, notes)
    if device.uptime_samples or device.reboot_count_30d:
        _check_reboots(device, rules, now, flags, notes)
    if device.printer_supplies:
        _check_supplies(device, rules, flags, notes)


# A UPS on mains power charges its battery: still low or depleted means the battery no longer holds a charge.
_WORN_UPS_BATTERY = frozenset({"low", "depleted"})


def _flag(device: DeviceState, kind: str, reason: str, evidence: Iterable[str]) -> RefurbishFlag:
    return RefurbishFlag(kind, device.device_id, reason, tuple(evidence))


# Texts are cached by what they say: a district buys devices by the
# thousand on one date, one model runs one firmware, one AUE date.
@functools.lru_cache(maxsize=16384)
def _age_text(start: date, purchased: bool, today: date, lifecycle_years: float,
              device_class: str) -> tuple[str, tuple[str, ...]]:
    years = (today - start).days / _DAYS_PER_YEAR
    if purchased:
        source = f"purchased {start.isoformat()} (asset register)"
    else:
        source = f"first seen {start.isoformat()} (no purchase date known; at least this old)"
    return (f"{years:.1f} years old, past the {lifecycle_years:g}-year lifecycle of {device_class or 'its class'}",
            (source, f"age {years:.1f} years on {today.isoformat()}", f"lifecycle {lifecycle_years:g} years"))


def _check_firmware(device: DeviceState, flags: list[RefurbishFlag], notes: list[str]) -> None:
    reason, evidence, note = _firmware_text(device.firmware, device.model, device.minimum_firmware,
                                            device.firmware_end_of_life)
    if note is not None:
        notes.append(note)
    if reason is not None:
        flags.append(RefurbishFlag(KIND_FIRMWARE, device.device_id, reason, evidence))


@functools.lru_cache(maxsize=16384)
def _firmware_text(firmware: str, model: str, minimum: str | None,
                   end_of_life: bool) -> tuple[str | None, tuple[str, ...], str | None]:
    """(reason or None, evidence, note or None) for one firmware against its standard."""
    reasons: list[str] = []
    evidence: list[str] = [f"firmware {firmware!r}" + (f" on {model}" if model else "")]
    note = None
    if minimum is not None:
        order = compare_versions(firmware, minimum)
        if order is None:
            note = (f"firmware {firmware!r} cannot be compared with the minimum {minimum!r} "
                    f"(not a version both ways): not judged against the standard")
            evidence.append(note)
        elif order < 0:
            reasons.append(f"firmware {firmware} is below the standard {minimum}")
            evidence.append(f"minimum firmware {minimum!r}")
    if end_of_life:
        reasons.append(f"firmware {firmware or '(unknown version)'} is end-of-life")
        evidence.append("vendor end-of-life: yes")
    return ("; ".join(reasons) if reasons else None), tuple(evidence), note


def _number(value: object) -> float | None:
    """A finite real number, or None for junk (NaN, infinity, text, bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


def _check_battery(device: DeviceState, rules: ClassPolicy, flags: list[RefurbishFlag], notes: list[str]) -> None:
    design = _number(device.battery_design_capacity)
    full = _number(device.battery_full_capacity)
    if design is None or full is None or design <= 0 or full < 0:
        notes.append(f"battery capacities design={device.battery_design_capacity!r} "
                     f"full={device.battery_full_capacity!r} are not usable: battery health not judged")
        return
    health = 100.0 * full / design
    if health < rules.battery_floor_percent:
        flags.append(_flag(device, KIND_BATTERY,
                           f"battery holds {health:.0f}% of its design capacity (floor {rules.battery_floor_percent:g}%)",
                           (f"full charge capacity {full:g}", f"design capacity {design:g}",
                            f"health {health:.1f}%")))


def _check_disk(device: DeviceState, rules: ClassPolicy, flags: list[RefurbishFlag], notes: list[str]) -> None:
    used = _number(device.disk_used)
    total = _number(device.disk_total)
    if used is None or total is None or total <= 0 or used < 0 or used > total:
        notes.append(f"disk used={device.disk_used!r} total={device.disk_total!r} are not usable: disk not judged")
        return
    percent = 100.0 * used / total
    if percent >= rules.disk_full_percent:
        flags.append(_flag(device, KIND_DISK,
                           f"disk {percent:.0f}% full (flag at {rules.disk_full_percent:g}%)",
                           (f"used {used:g} of {total:g}", f"free {total - used:g}", f"{percent:.1f}% used")))


def _error_windows(samples: Sequence[tuple[datetime, float]], window_start: datetime, middle: datetime,
                   now: datetime, infinity: float = _INFINITY) -> tuple[float, float, float, float] | None:
    """(errors, seconds) of the previous window (window_start, middle] and of the newest (middle, now].

    Each pair of consecutive samples belongs to the window of its later
    sample. None when a counter is junk (negative, not finite, not a number)
    or the samples are out of order.
    """
    # This loop is the cost of every switch and access point of the district:
    # per sample it only compares (datetimes compare far faster than they
    # convert). A window's pairs are consecutive, so its duration telescopes
    # to (end of its last pair) - (start of its first pair).
    old_errors = new_errors = 0.0
    old_first = old_last = new_first = new_last = None
    previous_time = None
    previous_count = 0.0
    for sample_time, count in samples:
        if not 0 <= count < infinity:
            return None
        if previous_time is not None:
            if sample_time < previous_time:
                return None
            if window_start < sample_time <= now:
                # A counter that went back was reset (reboot, 32-bit wrap): at
                # least `count` errors happened since; that is all that is known.
                errors = count - previous_count if count >= previous_count else count
                if sample_time > middle:
                    new_errors += errors
                    if new_first is None:
                        new_first = previous_time
                    new_last = sample_time
                else:
                    old_errors += errors
                    if old_first is None:
                        old_first = previous_time
                    old_last = sample_time
        previous_time, previous_count = sample_time, count
    old_seconds = 0.0 if old_first is None else _seconds(old_last - old_first)   # type: ignore[operator]
    new_seconds = 0.0 if new_first is None else _seconds(new_last - new_first)   # type: ignore[operator]
    return old_errors, old_seconds, new_errors, new_seconds


def _steady_error_windows(samples: Sequence[tuple[datetime | float, float]], window_start: Any, middle: Any,
                          now: Any) -> tuple[float, float, float, float] | None:
    """_error_windows for the common case, counters that never went back: None when that is not the case.

    Then a window's errors telescope to (its last count) - (the count before
    its first pair), so two bisections replace the walk over every sample.
    """
    if type(samples) is CheckedSeries:      # checked when stored: only whether the counters went back is left
        if not samples.steady:
            return None
        times, counts = samples.times, samples.values
    else:
        if isinstance(samples, Series):
            times, counts = samples.times, samples.values
        else:
            times = [moment for moment, _ in samples]
            counts = [count for _, count in samples]
        try:
            if (not (0 <= counts[0] and math.isfinite(sum(counts))) or times != sorted(times)
                    or counts != sorted(counts)):
                return None
        except TypeError:
            return None      # junk: _error_windows says which
    low, mid, high = bisect_right(times, window_start), bisect_right(times, middle), bisect_right(times, now)
    sums = []
    # The pair (i - 1, i) belongs to the window holding sample i's time.
    for first, end in ((max(low, 1), mid), (max(mid, 1), high)):
        if first < end:
            sums += [float(counts[end - 1] - counts[first - 1]), _seconds(times[end - 1] - times[first - 1])]
        else:
            sums += [0.0, 0.0]
    return sums[0], sums[1], sums[2], sums[3]


def _seconds(span: timedelta | float) -> float:
    return span.total_seconds() if isinstance(span, timedelta) else float(span)


def _check_errors(device: DeviceState, rules: ClassPolicy, now: datetime, flags: list[RefurbishFlag],
                  notes: list[str]) -> None:
    samples = device.interface_errors
    if len(samples) < 3:
        return              # two windows need at least two intervals
    window = rules.error_window
    middle = now - window
    # The samples are dated as datetimes, or in POSIX seconds (the store's form).
    bounds: tuple = (middle - window, middle, now) if isinstance(samples[0][0], datetime) else \
        _posix_bounds(window, now)[:3]
    try:
        sums = _steady_sums(samples, *bounds)
        if sums is None:
            sums = _error_windows(samples, *bounds)
        if sums is None:
            ordered = sorted(samples, key=lambda sample: sample[0])
            sums = _error_windows(ordered, *bounds) if ordered != list(samples) else None
    except TypeError:
        sums = None
    if sums is None:
        notes.append("interface error counters contain junk (negative, not finite or not a number): "
                     "error rate not judged")
        return
    if not _errors_rising(sums, rules):
        return
    old_errors, old_seconds, new_errors, new_seconds = sums
    new_rate = new_errors * 3600.0 / new_seconds
    old_rate = old_errors * 3600.0 / old_seconds
    rise = "from none" if old_rate == 0 else f"x{new_rate / old_rate:.1f}"
    flags.append(_flag(device, KIND_INTERFACE_ERRORS,
                       f"interface errors rising: {new_rate:.1f}/h in the last {_ago(window)} against "
                       f"{old_rate:.1f}/h the {_ago(window)} before ({rise})",
                       (f"{new_errors:g} errors over {new_seconds / 3600:.1f} h up to {_when(now)}",
                        f"{old_errors:g} errors over {old_seconds / 3600:.1f} h up to {_when(middle)}",
                        f"flag at x{rules.error_rise_factor:g} the previous rate and at least "
                        f"{rules.error_min_per_hour:g}/h")))


def _boot_times(samples: Sequence[tuple[datetime, float]], horizon: datetime, infinity: float = _INFINITY,
                jitter: float = BOOT_TIME_JITTER_SECONDS, wrap: float = SYSUPTIME_WRAP_SECONDS) -> list[float] | None:
    """The boot times (POSIX seconds) after `horizon` that the samples show; None for junk or disorder.

    Samples before the horizon are skipped but the last of them, which dates
    the boot that a later sample may show was followed by another. (The
    constants are default arguments only to make them locals: this loop runs
    for every polled device.)
    """
    # Fast path, the common case: validate and check the order with cheap
    # comparisons only, then date the boot at both ends. A reboot always
    # moves the boot time later, and nothing moves it back by more than the
    # jitter, so equal boot times at both ends mean no reboot in between.
    previous_time = None
    for sample_time, uptime in samples:
        if not 0 <= uptime < infinity or (previous_time is not None and sample_time < previous_time):
            return None
        previous_time = sample_time
    if isinstance(samples, Series):     # the store's form: read the columns, not pairs made for the purpose
        times, uptimes = samples.times, samples.values
        first_time, first_uptime, last_time, last_uptime = times[0], uptimes[0], times[-1], uptimes[-1]
    else:
        first_time, first_uptime = samples[0]
        last_time, last_uptime = samples[-1]
    if isinstance(first_time, datetime):
        samples = [(sample_time.timestamp(), uptime) for sample_time, uptime in samples]
        first_time, last_time = samples[0][0], samples[-1][0]
    if not isinstance(horizon, float):
        horizon = horizon.timestamp()
    if abs((last_time - last_uptime) - (first_time - first_uptime)) <= jitter:
        return []

    resets: list[float] = []
    previous_boot: float | None = None
    baseline: tuple[datetime, float] | None = None
    for sample_time, uptime in samples:
        if sample_time < horizon:
            baseline = (sample_time, uptime)
            continue
        if baseline is not None:
            previous_boot = baseline[0] - baseline[1]
            baseline = None
        # Each sample dates the boot: sample time minus uptime. A later boot
        # time is a reboot in between, even when the uptime grew past its old
        # value (samples days apart); a jump by the counter's whole range is
        # the 497-day wrap of sysUpTime, not a reboot.
        boot = sample_time - uptime
        if previous_boot is None:
            previous_boot = boot
        elif boot - previous_boot > jitter:
            if abs(boot - previous_boot - wrap) > jitter:
                resets.append(boot)
            previous_boot = boot
    return resets


def _check_reboots(device: DeviceState, rules: ClassPolicy, now: datetime, flags: list[RefurbishFlag],
                   notes: list[str]) -> None:
    resets: list[float] = []
    samples = device.uptime_samples
    if len(samples) > 1:
        horizon = _posix_bounds(rules.error_window, now)[3]       # now - REBOOT_WINDOW
        try:
            found = _boots_after(samples, horizon)
            if found is None:
                ordered = sorted(samples, key=lambda sample: sample[0])
                found = _boot_times(ordered, horizon) if ordered != list(samples) else None
        except TypeError:
            found = None
        if found is None:
            notes.append("sysUpTime samples contain junk (negative, not finite or not a number): "
                         "reboots counted from the device's own report only")
        else:
            resets = [boot for boot in found if boot > horizon]
    reported = device.reboot_count_30d or 0
    # The report and the samples may count the same reboots: take the larger, never the sum.
    count = max(len(resets), reported)
    if count < rules.reboots_per_30d or count == 0:
        return
    evidence: list[str] = []
    if resets:
        shown = ", ".join(_when(datetime.fromtimestamp(moment, now.tzinfo)) for moment in resets[-MAX_EVIDENCE_ITEMS:])
        more = f" (latest {MAX_EVIDENCE_ITEMS} shown)" if len(resets) > MAX_EVIDENCE_ITEMS else ""
        evidence.append(f"{_plural(len(resets), 'sysUpTime reset')} in 30 days; booted at about {shown}{more}")
    if reported:
        evidence.append(f"{_plural(reported, 'reboot')} in 30 days reported by the device's agent")
    evidence.append(f"flag at {rules.reboots_per_30d} in 30 days")
    flags.append(_flag(device, KIND_REBOOTS, f"rebooted {_plural(count, 'time')} in the last 30 days", evidence))


def _check_supplies(device: DeviceState, rules: ClassPolicy, flags: list[RefurbishFlag], notes: list[str]) -> None:
    low: list[str] = []
    for name, level in device.printer_supplies:
        value = _number(level)
        if value is None or value > 100:
            notes.append(f"printer supply {name!r} level {level!r} is not a percentage: not judged")
            continue
        if value < 0:
            continue   # SNMP's -1 other, -2 unknown, -3 "some remaining": no level to judge
        if value < rules.supply_floor_percent:
            low.append(f"{name} at {value:g}%")
    if low:
        flags.append(_flag(device, KIND_PRINTER_SUPPLIES,
                           f"{_plural(len(low), 'printer supply', 'printer supplies')} below {rules.supply_floor_percent:g}%: "
                           + ", ".join(low),
                           (*low, f"floor {rules.supply_floor_percent:g}%")))


@functools.lru_cache(maxsize=4096)
def _aue_text(aue: date, today: date, warning_days: int) -> tuple[str, tuple[str, ...]]:
    days_left = (aue - today).days
    evidence = (f"auto-update expiration (AUE) {aue.isoformat()}", f"today {today.isoformat()}")
    if days_left <= 0:
        return (f"past its auto-update expiration (AUE) on {aue.isoformat()}: no more ChromeOS updates; replace",
                evidence)
    return (f"reaches its auto-update expiration (AUE) on {aue.isoformat()}, in {_plural(days_left, 'day')}; "
            f"plan its replacement", (*evidence, f"warning {warning_days} days ahead"))

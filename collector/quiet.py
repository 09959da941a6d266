"""Quiet devices: the sightings past which a device can have no flag at `now`, so it is only counted.

Most of a district's devices are quiet at any evaluation: seen in the
latest sweeps, younger than their lifecycle, past no AUE warning, with no
health readings. Their only part in the evaluation is a count for
uniformity, yet judging each one in full (offline status, refurbish
reasons, the flag lifecycle) was a large part of an evaluation's time. So
for each site and device class this module works out three cutoffs, and
store.ShardReader.split_inventory counts the devices past all three instead
of handing them on to be judged:

- `seen_from`: the oldest last sighting (stored timestamp text) from which
  on flags.offline_status gives neither "offline" nor "missing";
- `first_from`: the oldest start of service (purchase date, else the first
  sighting's UTC date; ISO text) from which on flags.refurbish_flags gives
  no age flag;
- `aue_until`: the newest auto-update expiration date that
  flags.refurbish_flags flags.

The cutoffs come from the rules themselves, asked at the moments where
their answer can change (a poll of the site starts; a day begins in the
district's zone), never from a second copy of their arithmetic. Each rule
only gets worse as a sighting gets older (more polls missed, more school
days unseen, more years in service, an AUE date nearer), so a binary
search over those moments finds each cutoff. A device older than the oldest
moment looked at is simply not quiet: it is judged in full, like every
device with an SNMP identity, host facts or an open offline or missing flag.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from .calendar import SchoolCalendar
from .flags import MISSING, OFFLINE, AgentState, DeviceState, FlagPolicy, agent_is_silent, missed_polls, \
    offline_status, refurbish_flags
from .model import format_timestamp, parse_timestamp

# How far back the status cutoff looks for the day a device turns missing. A
# class whose rule needs longer (a display missing after 5 school days needs a
# week or two) is well inside it; past it, devices are read and judged in full.
STATUS_HORIZON = timedelta(days=120)
# The oldest start of service the age cutoff considers: any lifecycle is shorter.
AGE_HORIZON_DAYS = 100 * 366
# Without scan records a site's missed polls are estimated in whole scan intervals (flags.missed_polls);
# this many intervals back are looked at, past them devices are read in full.
ESTIMATED_POLLS = 300
_MICROSECOND = timedelta(microseconds=1)     # the stored timestamps' resolution
NOT_QUIET = "~"      # a cutoff above every stored timestamp and date: no device of the class is quiet
EVERY = ""           # a cutoff below every one: no device of the class gets the flag it stands for


def _last_true(candidates: Sequence[datetime], flagged) -> int:
    """The index of the newest candidate that `flagged` holds for, -1 for none (it holds for a prefix)."""
    lo, hi = 0, len(candidates)          # invariant: flagged for all < lo, not for all >= hi
    while lo < hi:
        middle = (lo + hi) // 2
        if flagged(candidates[middle]):
            lo = middle + 1
        else:
            hi = middle
    return lo - 1


def _local_midnights(start: datetime, end: datetime, zone: tzinfo | None) -> list[datetime]:
    """The UTC instants at which a day begins in `zone` (UTC when None), from `start` to `end`."""
    zone = zone or timezone.utc
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date() + timedelta(days=1)
    found = []
    while day <= last:
        found.append(datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc))
        day += timedelta(days=1)
    return found


def status_cutoff(site: str, device_class: str, infrastructure: bool, agent: AgentState,
                  polls: Sequence[str] | None, midnights: Sequence[datetime], calendar: SchoolCalendar,
                  policy: FlagPolicy, now: datetime, scan_interval: timedelta,
                  candidates: Sequence[datetime] | None = None) -> str:
    """seen_from for devices of `device_class` at `site` (see the module docstring).

    `polls` are the start times of the site's newest network polls (stored
    text, oldest first; None when its agents report no scans), as
    flags.missed_polls counts them; `midnights` the starts of days
    (local_midnights) over the span to look at; `candidates`, when given,
    status_moments' answer for the site (the same for each of its classes).
    """
    if agent_is_silent(agent, policy, now):
        return EVERY         # every device of the site is "unknown (agent silent)", none offline or missing
    heard = agent.last_heard or now
    if candidates is None:
        candidates = status_moments(agent, polls, midnights, now, scan_interval)

    def flagged(moment: datetime) -> bool:
        # The state of a device last seen at `moment`: constant until the next candidate (the
        # missed polls change only at a poll's start, the day it was last seen only at midnight).
        missed = missed_polls(polls, heard, format_timestamp(moment), moment, scan_interval)
        device = DeviceState(site, "", "", device_class, infrastructure, moment, moment, missed)
        return offline_status(device, agent, calendar, policy, now).state in (OFFLINE, MISSING)

    newest_flagged = _last_true(candidates, flagged)
    if newest_flagged + 1 >= len(candidates):
        return NOT_QUIET     # flagged even when seen at the newest moment: never expected, judged in full
    return format_timestamp(candidates[newest_flagged + 1])


def status_moments(agent: AgentState, polls: Sequence[str] | None, midnights: Sequence[datetime], now: datetime,
                   scan_interval: timedelta) -> list[datetime]:
    """The moments, oldest first, at which offline_status's answer for a device of the site can change with
    its last sighting: its polls' starts (or the estimate's steps), the days' starts, and `now`."""
    heard = agent.last_heard or now
    if polls is not None:
        moments = [parse_timestamp(text) for text in polls]
    else:
        # The estimate counts whole intervals: it steps up just past each whole interval before `heard`.
        moments = [heard - scan_interval * k + _MICROSECOND for k in range(ESTIMATED_POLLS, 0, -1)]
    oldest = now - STATUS_HORIZON
    # Any moments would give a right cutoff (the rule only worsens with age); these are where its answer can
    # change, so the cutoff is the exact one.
    return sorted({moment for moment in (*moments, *midnights, now) if moment >= oldest})


def _today(policy: FlagPolicy, now: datetime) -> date:
    return now.date() if policy.timezone is None else now.astimezone(policy.timezone).date()


def age_cutoff(device_class: str, infrastructure: bool, lifecycle_years: float | None, policy: FlagPolicy,
               now: datetime) -> str:
    """first_from for a device of the class: the oldest start of service (purchase date, else first sighting's
    UTC date) that refurbish_flags gives no age flag (see the module docstring)."""
    today = _today(policy, now)

    def flagged(day_ordinal: int) -> bool:
        first = datetime.combine(date.fromordinal(day_ordinal), time(0), tzinfo=timezone.utc)
        device = DeviceState("", "", "", device_class, infrastructure, first, first, lifecycle_years=lifecycle_years)
        return bool(refurbish_flags(device, policy, now))

    days = range(today.toordinal() - AGE_HORIZON_DAYS, today.toordinal() + 2)
    newest_flagged = _last_true(days, flagged)
    if newest_flagged + 1 >= len(days):
        return NOT_QUIET
    # With no day flagged, the oldest day looked at: no device in service before it is quiet (there are none).
    return date.fromordinal(days[newest_flagged + 1]).isoformat()


def aue_cutoff(device_class: str, policy: FlagPolicy, now: datetime) -> str:
    """The newest auto-update expiration date (ISO text) that refurbish_flags flags for a device of the class:
    an AUE date after it gives no AUE flag."""
    today = _today(policy, now)
    young = now      # in service since now: no age flag beside the AUE one

    def flagged(day_ordinal: int) -> bool:
        device = DeviceState("", "", "", device_class, False, young, young, aue_date=date.fromordinal(day_ordinal))
        return bool(refurbish_flags(device, policy, now))

    days = range(today.toordinal() - AGE_HORIZON_DAYS, today.toordinal() + AGE_HORIZON_DAYS)
    newest_flagged = _last_true(days, flagged)
    if newest_flagged + 1 >= len(days):
        return NOT_QUIET     # every AUE date flags: no device with one is quiet
    return date.fromordinal(days[newest_flagged]).isoformat() if newest_flagged >= 0 else EVERY


class QuietCutoffs:
    """(site, stored device class) -> (seen_from, first_from, aue_until), worked out when first asked.

    For a device with no SNMP identity and no host facts: its class is the
    stored one ("unknown" when empty), infrastructure when the class is one;
    a student device ages by its school's lifecycle for the class
    (`lifecycles`, district.student_lifecycles). aue_until: an AUE date on
    or before it is flagged.
    """

    def __init__(self, agents: Mapping[str, AgentState], polls: Mapping[str, Sequence[str]],
                 lifecycles: Mapping[tuple[str, str], float], infrastructure_classes: frozenset[str],
                 calendar: SchoolCalendar, policy: FlagPolicy, now: datetime, scan_interval: timedelta):
        self.agents, self.polls, self.lifecycles = agents, polls, lifecycles
        self.infrastructure_classes = infrastructure_classes
        self.calendar, self.policy, self.now, self.scan_interval = calendar, policy, now, scan_interval
        self.midnights = _local_midnights(now - STATUS_HORIZON - timedelta(days=1), now, policy.timezone)
        self.found: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._moments: dict[str, list[datetime]] = {}
        self._ages: dict[tuple, str] = {}
        self._aues: dict[str, str] = {}
        self._seen: dict[tuple[str, str, bool], str] = {}

    def __call__(self, site: str, stored_class: str) -> tuple[str, str, str]:
        found = self.found.get((site, stored_class))
        if found is None:
            found = self.found[(site, stored_class)] = self._work_out(site, stored_class)
        return found

    def _work_out(self, site: str, stored_class: str) -> tuple[str, str, str]:
        device_class = stored_class or "unknown"
        infrastructure = device_class in self.infrastructure_classes
        lifecycle = None if infrastructure else self.lifecycles.get((site, device_class))
        age_key = (device_class, infrastructure, lifecycle)
        if age_key not in self._ages:
            self._ages[age_key] = age_cutoff(device_class, infrastructure, lifecycle, self.policy, self.now)
        if device_class not in self._aues:
            self._aues[device_class] = aue_cutoff(device_class, self.policy, self.now)
        return self.seen_from(site, device_class, infrastructure), self._ages[age_key], self._aues[device_class]

    def seen_from(self, site: str, device_class: str, infrastructure: bool) -> str:
        """status_cutoff for any device of the site: its class and whether it is infrastructure as judged
        (an SNMP identity makes a device infrastructure whatever its class)."""
        key = (site, device_class, infrastructure)
        found = self._seen.get(key)
        if found is None:
            agent = self.agents.get(site) or AgentState(site, None)
            polls = self.polls.get(site)
            if site not in self._moments:
                self._moments[site] = status_moments(agent, polls, self.midnights, self.now, self.scan_interval)
            found = self._seen[key] = status_cutoff(site, device_class, infrastructure, agent, polls, self.midnights,
                                                    self.calendar, self.policy, self.now, self.scan_interval,
                                                    self._moments[site])
        return found

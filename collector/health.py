"""Device health readings for the refurbish rules: what an SNMP poll or an endpoint's host facts say.

Pure functions, no database. The store keeps, per SNMP device, a short
history folded by `fold_health` on every poll, and reads it back with
`load_health`; the district evaluation turns both kinds of readings into
the fields of flags.DeviceState (`snmp_readings`, `endpoint_readings`).

Why a folded history and not every sample: a district's switches, access
points and printers answer a poll every 15 minutes, which is millions of
samples a month. The rules only need

- the boot times of the last 30 days: of a run of samples that date the
  same boot (sample time minus sysUpTime), the first and the last say all
  that the rest do;
- the interface error counter over the last two error windows: the newest
  sample of each clock hour is plenty to compare one day's error rate with the day before's.

So a device that never reboots keeps two uptime samples, and one whose
counters tick keeps at most ERROR_SAMPLES_KEPT error samples. Times are
POSIX seconds (integers) to keep the stored JSON small.
"""

from __future__ import annotations

import json
import math
import struct
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

import orjson

from .flags import BOOT_TIME_JITTER_SECONDS, CheckedSeries, Series
from .records import quick_init

# Same tolerance as flags.BOOT_TIME_JITTER_SECONDS: two samples whose boot
# times are this close date one boot.
BOOT_JITTER_SECONDS = 120
UPTIME_HISTORY = timedelta(days=31)          # the 30-day reboot window, and the sample that dates its first boot
ERROR_HISTORY = timedelta(hours=74)          # two one-day windows and the samples around them
ERROR_SAMPLE_SPACING = timedelta(hours=1)
ERROR_SAMPLES_KEPT = 80
MAX_SUPPLIES = 32                            # a printer lists a handful; a hostile reply does not grow the row


@quick_init
@dataclass(frozen=True, slots=True)
class Readings:
    """What the refurbish rules read about one device's health (any field may be unknown)."""

    uptime_samples: Sequence[tuple[int, int]] = ()              # (sample time POSIX seconds, sysUpTime seconds)
    interface_errors: Sequence[tuple[int, int]] = ()            # (sample time POSIX seconds, in + out errors)
    printer_supplies: tuple[tuple[str, float], ...] = ()        # (name, percent; negative: level unknown)
    ups_battery_status: str = ""                                # UPS-MIB: normal, low, depleted, unknown
    ups_on_battery: bool = False
    battery_design_capacity: float | None = None
    battery_full_capacity: float | None = None
    disk_used: float | None = None
    disk_total: float | None = None
    reboot_count_30d: int | None = None


def _whole(value: Any) -> int | None:
    """An SNMP counter as JSON carries it (64-bit numbers come as text); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def poll_sample(data: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(sysUpTime in seconds, total in+out interface errors) of one SNMP observation's data; None when absent."""
    system = data.get("system")
    uptime = None
    if isinstance(system, Mapping):
        ticks = _whole(system.get("uptime_centiseconds"))
        if ticks:      # 0 is "not reported": a device that just booted reports at least a tick
            uptime = ticks // 100
    errors = None
    interfaces = data.get("interfaces")
    if isinstance(interfaces, list) and interfaces:
        total = 0
        for interface in interfaces:
            if not isinstance(interface, Mapping):
                continue
            for key in ("in_errors", "out_errors"):
                count = _whole(interface.get(key, 0))
                if count is not None:
                    total += count
        errors = total
    return uptime, errors


def poll_supplies(data: Mapping[str, Any]) -> list[list[Any]]:
    """[[name, percent], ...] of a printer's supplies; a negative level keeps SNMP's "unknown" code."""
    found = []
    supplies = data.get("supplies")
    for supply in supplies[:MAX_SUPPLIES] if isinstance(supplies, list) else ():
        if not isinstance(supply, Mapping):
            continue
        name = str(supply.get("description") or supply.get("type") or "supply")[:80]
        level = supply.get("level", 0)
        capacity = supply.get("max_capacity", 0)
        if not isinstance(level, int) or isinstance(level, bool):
            continue
        if level < 0:
            found.append([name, level])
        elif isinstance(capacity, int) and capacity > 0:
            found.append([name, round(100.0 * level / capacity, 1)])
        elif level <= 100:
            # No maximum: RFC 3805 lets a printer give the level as a percentage.
            found.append([name, level])
    return found


def fold_health(stored: str | bytes | None, observed_at: datetime, data: Mapping[str, Any]) -> str:
    """The device's health JSON after one more poll; `stored` is its JSON or its digest (health_digest), as
    stored_forms gives them, or None or junk: start afresh."""
    try:
        health = _digest_dict(stored) if isinstance(stored, bytes) else json.loads(stored) if stored else {}
    except ValueError:
        health = {}
    if not isinstance(health, dict):
        health = {}
    moment = int(observed_at.timestamp())
    uptime, errors = poll_sample(data)
    if uptime is not None:
        health["uptime"] = _columns(_fold_uptime(_pairs(health.get("uptime")), moment, uptime))
    if errors is not None:
        health["errors"] = _columns(_fold_errors(_pairs(health.get("errors")), moment, errors))
    if "supplies" in data:
        health["supplies"] = poll_supplies(data)
    battery = data.get("ups_battery")
    if isinstance(battery, Mapping):
        health["ups"] = [str(battery.get("status", ""))[:20], bool(battery.get("on_battery", False))]
    return json.dumps(health, separators=(",", ":"))


# A series is stored as two columns, [[times...], [values...]]: read back, it becomes pairs with one zip in C,
# where a list of pairs would cost a Python step per sample (a district has 100,000 polled devices).
def _columns(pairs: Sequence[Sequence[int]]) -> list[list[int]]:
    return [[moment for moment, _ in pairs], [value for _, value in pairs]]


def _pairs(value: Any) -> list[list[int]]:
    """A stored series as [time, value] pairs, keeping only whole-number pairs (anything else: a damaged row)."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(column, list) for column in value)):
        return []
    return [[moment, count] for moment, count in zip(*value)
            if type(moment) is int and type(count) is int]   # noqa: E721 - bool is not a sample


def _fold_uptime(samples: list[list[int]], moment: int, uptime: int) -> list[list[int]]:
    # A poll re-sent after a reconnect may be older than the newest: it is put in its place.
    samples = [s for s in samples if s[0] != moment] + [[moment, uptime]]
    samples.sort()
    horizon = samples[-1][0] - int(UPTIME_HISTORY.total_seconds())
    # Keep the last sample before the horizon: it dates the boot that the next one may show was followed by another.
    first_kept = 0
    for index, (sampled, _) in enumerate(samples):
        if sampled < horizon:
            first_kept = index
    samples = samples[first_kept:]
    kept: list[list[int]] = []
    for sample in samples:
        # Three samples in a row dating the same boot: the middle one says nothing the others do not.
        if len(kept) >= 2 and _same_boot(kept[-2], kept[-1]) and _same_boot(kept[-1], sample):
            kept[-1] = sample
        else:
            kept.append(sample)
    return kept


def _same_boot(a: list[int], b: list[int]) -> bool:
    return abs((a[0] - a[1]) - (b[0] - b[1])) <= BOOT_JITTER_SECONDS


def _fold_errors(samples: list[list[int]], moment: int, total: int) -> list[list[int]]:
    # The newest sample of each hour (by the clock, so the result does not depend on the order polls arrive in).
    spacing = int(ERROR_SAMPLE_SPACING.total_seconds())
    by_hour = {sample[0] // spacing: sample for sample in sorted(samples + [[moment, total]])}
    kept = sorted(by_hour.values())
    horizon = kept[-1][0] - int(ERROR_HISTORY.total_seconds())
    return [sample for sample in kept if sample[0] >= horizon][-ERROR_SAMPLES_KEPT:]


def _samples(value: Any, floats: bool = True) -> Sequence[tuple[int, int]] | None:
    """A stored series as (time, value) pairs (the columns as they are, when they are numbers); () for a
    damaged one. With floats=False, None when a column holds a float (see load_health)."""
    if not (isinstance(value, list) and len(value) == 2):
        return ()
    times, counts = value
    if not (isinstance(times, list) and isinstance(counts, list) and len(times) == len(counts)):
        return ()
    try:
        total = sum(times) + sum(counts)    # text raises; a float anywhere makes the total a float
    except TypeError:
        # Damaged: the whole-number pairs are kept, so a whole number that orjson made a float must be read again.
        return None if not floats else tuple((moment, count) for moment, count in _pairs(value))
    if type(total) is float:    # noqa: E721 - exactly the type a float makes
        if not floats:
            return None
        if not math.isfinite(total):     # NaN and infinity: damaged
            return tuple((moment, count) for moment, count in _pairs(value))
    return Series(times, counts)


def _series(health: dict, floats: bool) -> tuple[Sequence[tuple[int, int]] | None, Sequence[tuple[int, int]] | None]:
    """_samples of the uptime and error columns."""
    return _samples(health.get("uptime", ()), floats), _samples(health.get("errors", ()), floats)


def load_health(stored: str | bytes | None) -> Readings | None:
    """The readings in a stored health JSON (fold_health's) or its digest (health_digest's); None when there are
    none or it is unreadable.

    orjson reads it, faster than json; json reads again what orjson refuses
    (NaN: a damaged row) and a row whose sample columns came out with a float
    in them, since orjson makes an integer beyond 64 bits a float (a counter
    summed over many interfaces can be one). So both say the same.
    """
    if not stored:
        return None
    if type(stored) is bytes:
        return _load_digest(stored)
    try:
        health = orjson.loads(stored)
    except orjson.JSONDecodeError:
        health = None
    series = _series(health, floats=False) if isinstance(health, dict) else None
    if health is None or (series is not None and (series[0] is None or series[1] is None)):
        try:
            health = json.loads(stored)
        except ValueError:
            return None
        series = _series(health, floats=True) if isinstance(health, dict) else None
    if series is None:          # not a JSON object
        return None
    uptime, errors = series
    ups = health.get("ups")
    status, on_battery = (str(ups[0]), bool(ups[1])) if isinstance(ups, list) and len(ups) == 2 else ("", False)
    listed = health.get("supplies")
    supplies = tuple((str(name), float(level)) for name, level in
                     (s for s in listed if isinstance(s, list) and len(s) == 2)
                     if isinstance(level, (int, float)) and not isinstance(level, bool)) if listed else ()
    # Positional: the fields' order (uptime, errors, supplies, UPS status, on battery); keywords cost more,
    # once per polled device of a district.
    return Readings(uptime, errors, supplies, status, on_battery)     # type: ignore[arg-type]


# ---------------------------------------------------------------- the digest
#
# Reading the JSON back is most of an evaluation's health work: parsing a
# hundred and fifty numbers per device, then checking that each is a whole
# number in time order, for 100,000 polled devices, every evaluation. So the
# store keeps each history as its digest (network_devices.health_digest;
# stored_forms): the same samples, checked once when stored, packed as
# fixed-size integers that load_health reads in place (no parsing, no
# checking), and the supplies and UPS verdict as a short JSON tail;
# fold_health folds the next poll into it. A history whose samples are not
# all whole numbers in order and in range (a damaged row, a counter past 63
# bits) has no digest and is kept and read as JSON, as before.

DIGEST_VERSION = 1
# version, flags (_ONE_BOOT, _STEADY_ERRORS), padding to 16 bytes, uptime samples, error samples; then, little-endian,
# the uptime samples' times and values and the error samples' times (32-bit unsigned: POSIX seconds to 2106, and
# sysUpTime in seconds is less), the error counts (64-bit signed); then the rest (supplies, UPS) as JSON.
_DIGEST_HEADER = struct.Struct("<BB6xII")
_ONE_BOOT = 1          # the first and last uptime samples date the same boot (flags.CheckedSeries.steady)
_STEADY_ERRORS = 2     # the error counters never went back
_UINT32_MAX, _INT64_MAX = 2**32 - 1, 2**63 - 1
# Read in place, as views: only the few samples a rule looks at become Python integers (a digest's hundred and
# fifty would cost more than the rest of its reading). A big-endian machine unpacks them all instead.
_IN_PLACE = sys.byteorder == "little"


def _whole_up_to(numbers: list[Any], top: int) -> bool:
    return all(type(number) is int and 0 <= number <= top for number in numbers)   # noqa: E721 - not a bool


def health_digest(stored: str | None) -> bytes | None:
    """The digest of a stored health JSON (see above); None when it has no readings, or samples out of time
    order or out of the digest's ranges (then load_health reads the JSON itself)."""
    readings = load_health(stored) if stored else None
    if readings is None:
        return None
    uptime_times, uptimes = _columns(readings.uptime_samples)
    error_times, errors = _columns(readings.interface_errors)
    if not (_whole_up_to(uptime_times, _UINT32_MAX) and _whole_up_to(uptimes, _UINT32_MAX)
            and _whole_up_to(error_times, _UINT32_MAX) and _whole_up_to(errors, _INT64_MAX)
            and uptime_times == sorted(uptime_times) and error_times == sorted(error_times)):
        return None
    if not all(math.isfinite(level) for _, level in readings.printer_supplies):
        return None         # JSON (the tail) has no NaN
    flags = _STEADY_ERRORS if errors == sorted(errors) else 0
    if uptimes and abs((uptime_times[-1] - uptimes[-1]) - (uptime_times[0] - uptimes[0])) <= BOOT_TIME_JITTER_SECONDS:
        flags |= _ONE_BOOT
    rest = _supplies_and_ups(readings)
    small = uptime_times + uptimes + error_times
    return (_DIGEST_HEADER.pack(DIGEST_VERSION, flags, len(uptimes), len(errors))
            + struct.pack(f"<{len(small)}I{len(errors)}q", *small, *errors) + (orjson.dumps(rest) if rest else b""))


def stored_forms(health: str | None) -> tuple[str | None, bytes | None]:
    """(JSON, digest) to store for a health JSON: its digest alone when it has one, else the JSON alone.

    The digest holds all that load_health reads from the JSON, and fold_health folds the next poll into it
    as into the JSON: keeping both would double a district's largest rows for nothing.
    """
    digest = health_digest(health)
    return (None, digest) if digest is not None else (health, None)


def _digest_dict(digest: bytes) -> dict[str, Any]:
    """The health JSON's object as fold_health keeps it, from its digest (an unreadable one: {})."""
    readings = _load_digest(digest)
    if readings is None:
        return {}
    found = {key: _columns(series) for key, series in (("uptime", readings.uptime_samples),
                                                         ("errors", readings.interface_errors)) if series}
    return {**found, **_supplies_and_ups(readings)}


def _supplies_and_ups(readings: Readings) -> dict[str, Any]:
    """The health JSON's "supplies" and "ups", as fold_health keeps them, where the readings have them."""
    found: dict[str, Any] = {}
    if readings.printer_supplies:
        found["supplies"] = [list(supply) for supply in readings.printer_supplies]
    if readings.ups_battery_status or readings.ups_on_battery:
        found["ups"] = [readings.ups_battery_status, readings.ups_on_battery]
    return found


def _load_digest(digest: bytes) -> Readings | None:
    """load_health of the JSON that `digest` was made from (health_digest); None for an unknown version."""
    if len(digest) < _DIGEST_HEADER.size or digest[0] != DIGEST_VERSION:
        return None
    _, flags, uptimes, errors = _DIGEST_HEADER.unpack_from(digest)
    start = _DIGEST_HEADER.size
    counts_start = start + 4 * (2 * uptimes + errors)
    end = counts_start + 8 * errors
    if len(digest) < end:
        return None
    small: Sequence[int]
    counts: Sequence[int]
    if _IN_PLACE:
        view = memoryview(digest)
        small, counts = view[start:counts_start].cast("I"), view[counts_start:end].cast("q")
    else:
        small = struct.unpack_from(f"<{2 * uptimes + errors}I", digest, start)
        counts = struct.unpack_from(f"<{errors}q", digest, counts_start)
    uptime = CheckedSeries(small[:uptimes], small[uptimes:2 * uptimes], bool(flags & _ONE_BOOT)) \
        if uptimes else ()
    error_series = CheckedSeries(small[2 * uptimes:], counts, bool(flags & _STEADY_ERRORS)) if errors else ()
    status, on_battery, supplies = "", False, ()
    if len(digest) > end:
        rest = orjson.loads(digest[end:])
        if "ups" in rest:
            status, on_battery = rest["ups"]
        supplies = tuple((name, level) for name, level in rest.get("supplies", ()))
    return Readings(uptime, error_series, supplies, status, on_battery)     # type: ignore[arg-type]


def endpoint_readings(facts: Mapping[str, Any]) -> Readings | None:
    """Battery, the fullest disk and the 30-day reboot count from an endpoint agent's host facts (JSON data)."""
    design = full = used = total = None
    battery = facts.get("battery")
    if isinstance(battery, Mapping) and battery.get("present", True):
        design, full = _whole(battery.get("design_capacity")), _whole(battery.get("full_capacity"))
        if not design:
            design = full = None      # no design capacity reported: health cannot be judged
    fullest = None
    for disk in facts.get("disks") or ():
        if not isinstance(disk, Mapping):
            continue
        disk_total, disk_used = _whole(disk.get("total_bytes")), _whole(disk.get("used_bytes"))
        if not disk_total or disk_used is None:
            continue
        share = disk_used / disk_total
        if fullest is None or share > fullest:
            fullest, used, total = share, disk_used, disk_total
    reboots = _whole(facts.get("reboots_last_30_days"))
    if design is None and total is None and not reboots:
        return None
    return Readings(battery_design_capacity=None if design is None else float(design),
                    battery_full_capacity=None if full is None else float(full),
                    disk_used=None if used is None else float(used), disk_total=None if total is None else float(total),
                    reboot_count_30d=reboots or None)

"""Flag rules speed: offline_status + refurbish_flags over 1,000,000 synthetic devices, and school-day counting.

    .venv/bin/python bench/flags_speed.py [--devices 1000000] [--schools 1000] [--naive-sample 20000] [--rounds 3]

Builds --devices DeviceStates across --schools schools (one agent each, 2% of
the agents silent): 88% student devices (Chromebooks and iPads, last seen
anywhere in the past three school years, so school-day spans run to years),
12% infrastructure (switches, access points, printers, UPSes) with firmware
against a minimum, interface error counters, sysUpTime samples and printer
supplies, and a share of devices with battery, disk and AUE facts. Building
is not timed; then it times --rounds passes of offline_status and
refurbish_flags over every device (pure Python, one process) and prints the
best, every round, and the states and flags found. The rounds after the
first reuse the caches of reason texts (a collector evaluating every few
minutes does too); the first round is the cold figure.

Peer: school_days_between against a naive day-by-day loop (is_school_day
for each day of the span) over the same spans of a --naive-sample of the
student devices, the loop being what a straightforward implementation does.
Prints microseconds per call of each and the ratio; the two counts are
checked equal. This machine's clock drifts: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone

from headcount.collector.calendar import SchoolCalendar
from headcount.collector.flags import (AgentState, DeviceState, FlagPolicy, offline_status, refurbish_flags)

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)


def district_calendar() -> SchoolCalendar:
    """Three school years of holidays (winter, spring, summer as holidays, a few single days), no term bounds."""
    holidays: list[tuple[date, date]] = []
    names: list[str] = []
    for year in (2023, 2024, 2025, 2026):
        holidays += [(date(year, 1, 1), date(year, 1, 2)), (date(year, 1, 19), date(year, 1, 19)),
                     (date(year, 3, 23), date(year, 3, 27)), (date(year, 6, 14), date(year, 8, 25)),
                     (date(year, 9, 7), date(year, 9, 7)), (date(year, 11, 25), date(year, 11, 27)),
                     (date(year, 12, 21), date(year, 12, 31))]
        names += ["new year", "mlk day", "spring break", "summer", "labor day", "thanksgiving", "winter break"]
    return SchoolCalendar(holidays=tuple(holidays), holiday_names=tuple(names))


def build_devices(count: int, schools: int, rng: random.Random) -> list[DeviceState]:
    devices = []
    infra_classes = ("switch", "access_point", "printer", "ups")
    firmwares = {"switch": ("15.2(7)E3", "15.2(7)E2", "15.2(4)E10", "junk fw"),
                 "access_point": ("8.10.0.0", "8.9.0.3", "8.11.2.1", "v2.1b"),
                 "printer": ("3.3.0.16", "3.2.9", "2.0"), "ups": ("1.5", "1.4b", "unknown")}
    minimum = {"switch": "15.2(7)E3", "access_point": "8.10.0.0", "printer": "3.3.0", "ups": "1.5"}
    for index in range(count):
        site = f"school-{index % schools:04d}"
        infrastructure = rng.random() < 0.12
        first_seen = NOW - timedelta(days=rng.randint(30, 2000))
        if infrastructure:
            device_class = rng.choice(infra_classes)
            last_seen = NOW - timedelta(minutes=rng.randint(0, 90))
            missed = 0 if rng.random() < 0.95 else rng.randint(1, 6)
            errors = tuple((NOW - timedelta(hours=6 * step), float(max(0, 1000 - step * rng.randint(0, 40))))
                           for step in range(8, -1, -1))
            base_uptime = rng.uniform(0, 4e6)
            uptimes = tuple((NOW - timedelta(days=step), base_uptime + (40 - step) * 86400.0 if rng.random() < 0.97
                             else rng.uniform(0, 3600)) for step in range(40, -1, -5))
            supplies = (("black toner", float(rng.randint(-2, 100))), ("drum", float(rng.randint(0, 100)))) \
                if device_class == "printer" else ()
            devices.append(DeviceState(
                site=site, device_id=f"d{index}", mac=f"02:00:{index >> 16 & 255:02x}:{index >> 8 & 255:02x}:"
                                                      f"{index & 255:02x}:01",
                device_class=device_class, is_infrastructure=True, last_seen=last_seen, first_seen=first_seen,
                missed_polls=missed, purchase_date=(first_seen - timedelta(days=30)).date() if rng.random() < 0.5
                else None, model="model", firmware=rng.choice(firmwares[device_class]),
                minimum_firmware=minimum[device_class], firmware_end_of_life=rng.random() < 0.02,
                battery_design_capacity=1000.0 if device_class == "ups" else None,
                battery_full_capacity=float(rng.randint(400, 1000)) if device_class == "ups" else None,
                interface_errors=errors, uptime_samples=uptimes, printer_supplies=supplies))
        else:
            device_class = "chromebook" if rng.random() < 0.7 else "ipad"
            # Most seen within the week; a tail unseen for up to three years.
            hours = rng.expovariate(1 / 30) if rng.random() < 0.9 else rng.uniform(0, 3 * 365 * 24)
            last_seen = max(first_seen, NOW - timedelta(hours=hours))
            missed = 0 if hours < 1 else int(hours * 2)
            endpoint = rng.random() < 0.1
            devices.append(DeviceState(
                site=site, device_id=f"d{index}", mac=f"da:a1:{index >> 16 & 255:02x}:{index >> 8 & 255:02x}:"
                                                      f"{index & 255:02x}:02",
                device_class=device_class, is_infrastructure=False, last_seen=last_seen, first_seen=first_seen,
                missed_polls=missed,
                battery_design_capacity=50000.0 if endpoint else None,
                battery_full_capacity=float(rng.randint(20000, 50000)) if endpoint else None,
                disk_used=float(rng.randint(1, 32)) if endpoint else None, disk_total=32.0 if endpoint else None,
                reboot_count_30d=rng.randint(0, 6) if endpoint else None,
                aue_date=date(rng.randint(2025, 2031), rng.randint(1, 12), 1) if device_class == "chromebook"
                else None))
    return devices


def naive_school_days(calendar: SchoolCalendar, start: date, end: date) -> int:
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        count += calendar.is_school_day(day)
        day += timedelta(days=1)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--naive-sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="evaluation passes; the best is the figure")
    options = parser.parse_args(argv)
    rng = random.Random(options.seed)
    calendar = district_calendar()
    policy = FlagPolicy()

    started = time.perf_counter()
    devices = build_devices(options.devices, options.schools, rng)
    agents = {f"school-{i:04d}": AgentState(f"school-{i:04d}", NOW - timedelta(
        minutes=rng.randint(0, 10) if rng.random() < 0.98 else rng.randint(60, 5000))) for i in range(options.schools)}
    print(f"built {len(devices):,} devices at {options.schools:,} schools in {time.perf_counter() - started:.1f} s "
          f"(not timed below)", file=sys.stderr)

    # The evaluation allocates (statuses, flags, lists); with a million
    # devices held in memory, every full garbage collection would walk all of
    # them. The store evaluates rows as it reads them, not a resident million,
    # so the collector's long-lived objects are frozen out of the collections
    # here, as a server does after start-up.
    gc.collect()
    gc.freeze()
    timings = []
    for _ in range(options.rounds):
        # Results are kept, as the store would write them, and counted after the clock stops.
        statuses = []
        found = []
        started = time.perf_counter()
        for device in devices:
            statuses.append(offline_status(device, agents[device.site], calendar, policy, NOW))
            found += refurbish_flags(device, policy, NOW)
        timings.append(time.perf_counter() - started)
    states = Counter(status.state for status in statuses)
    flag_kinds = Counter(flag.kind for flag in found)
    best = min(timings)
    print(f"offline_status + refurbish_flags over {len(devices):,} devices: best {best:.2f} s "
          f"({best / len(devices) * 1e6:.2f} us/device) of rounds " + ", ".join(f"{t:.2f}" for t in timings))
    print("  states: " + ", ".join(f"{state} {count:,}" for state, count in sorted(states.items())))
    print(f"  refurbish flags ({sum(flag_kinds.values()):,}): "
          + ", ".join(f"{kind} {count:,}" for kind, count in sorted(flag_kinds.items())))

    # school_days_between against the per-day loop, on the same spans.
    students = [d for d in devices if not d.is_infrastructure]
    sample = rng.sample(students, min(options.naive_sample, len(students)))
    spans = [(d.last_seen.date(), NOW.date()) for d in sample]
    started = time.perf_counter()
    fast = [calendar.count_school_days(start, end) for start, end in spans]
    fast_time = time.perf_counter() - started
    started = time.perf_counter()
    cached = [calendar.school_days_between(start, end) for start, end in spans]
    cached_time = time.perf_counter() - started
    started = time.perf_counter()
    slow = [naive_school_days(calendar, start, end) for start, end in spans]
    slow_time = time.perf_counter() - started
    if not fast == cached == slow:
        print("MISMATCH between school_days_between and the naive loop", file=sys.stderr)
        return 1
    # Multi-year spans: the arithmetic does not care, the loop grows with the span.
    long_spans = [(start - timedelta(days=rng.randint(365, 3 * 365)), end) for start, end in spans[:2000]]
    started = time.perf_counter()
    long_fast = [calendar.count_school_days(start, end) for start, end in long_spans]
    long_fast_time = time.perf_counter() - started
    started = time.perf_counter()
    long_slow = [naive_school_days(calendar, start, end) for start, end in long_spans]
    long_slow_time = time.perf_counter() - started
    if long_fast != long_slow:
        print("MISMATCH between count_school_days and the naive loop on long spans", file=sys.stderr)
        return 1
    mean_days = sum((end - start).days for start, end in spans) / len(spans)
    print(f"school_days_between over {len(spans):,} device spans (mean {mean_days:.0f} calendar days): "
          f"arithmetic {fast_time / len(spans) * 1e6:.2f} us/call, with its cache "
          f"{cached_time / len(spans) * 1e6:.2f} us/call; naive per-day loop {slow_time / len(spans) * 1e6:.2f} "
          f"us/call; ratio naive/arithmetic {slow_time / fast_time:.0f}x (counts equal)")
    mean_days = sum((end - start).days for start, end in long_spans) / len(long_spans)
    print(f"  over {len(long_spans):,} spans of 1-3+ years (mean {mean_days:.0f} calendar days): arithmetic "
          f"{long_fast_time / len(long_spans) * 1e6:.2f} us/call; naive loop "
          f"{long_slow_time / len(long_spans) * 1e6:.0f} us/call; ratio {long_slow_time / long_fast_time:.0f}x "
          f"(counts equal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

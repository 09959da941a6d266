"""health.py: the folded SNMP health history keeps what the refurbish rules need, and survives junk."""

from __future__ import annotations

import json
import random

import pytest
from datetime import datetime, timedelta, timezone

from headcount.collector.flags import (KIND_BATTERY, KIND_DISK, KIND_INTERFACE_ERRORS, KIND_PRINTER_SUPPLIES,
                                       KIND_REBOOTS, DeviceState, FlagPolicy, refurbish_flags)
from headcount.collector.health import (ERROR_SAMPLES_KEPT, endpoint_readings, fold_health, load_health, poll_sample,
                                        poll_supplies)

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def snmp_data(uptime_s: int, errors: int = 0, **extra) -> dict:
    # As collector/wire.py's MessageToDict gives it: 64-bit counters as text, zero fields left out.
    interfaces = [{"name": "Gi1/0/1", "in_errors": str(errors // 2)}, {"name": "Gi1/0/2", "out_errors": str(errors - errors // 2)}]
    return {"system": {"uptime_centiseconds": str(uptime_s * 100)}, "interfaces": interfaces, **extra}


def fold_polls(polls):
    stored = None
    for moment, data in polls:
        stored = fold_health(stored, moment, data)
    return stored


def switch(**readings) -> DeviceState:
    return DeviceState("s", "7", "00:00:5e:00:53:01", "switch", True, T0, T0 - timedelta(days=400), **readings)


def test_poll_sample_reads_text_counters_and_ignores_junk():
    assert poll_sample(snmp_data(3600, 10)) == (3600, 10)
    assert poll_sample({"system": {"uptime_centiseconds": "-5"}, "interfaces": [{"in_errors": "x"}, "junk"]}) == (None, 0)
    assert poll_sample({}) == (None, None)


def test_a_month_of_15_minute_polls_folds_to_a_few_samples_and_finds_the_same_reboots():
    # 31 days of polls every 15 minutes; the switch reboots 5 times; errors tick slowly, then surge on the last day.
    boots = [T0 - timedelta(days=40)] + [T0 + timedelta(days=d, hours=3) for d in (4, 9, 15, 22, 27)]
    polls, full_uptime, full_errors = [], [], []
    errors = 0
    moment = T0
    end = T0 + timedelta(days=31)
    while moment <= end:
        boot = max(b for b in boots if b <= moment)
        errors += 40 if moment > end - timedelta(days=1) else 1
        uptime = int((moment - boot).total_seconds())
        polls.append((moment, snmp_data(uptime, errors)))
        full_uptime.append((moment, float(uptime)))
        full_errors.append((moment, float(errors)))
        moment += timedelta(minutes=15)
    stored = fold_polls(polls)
    readings = load_health(stored)
    assert len(readings.uptime_samples) <= 2 * len(boots)       # a month of 2,977 polls
    assert len(readings.interface_errors) <= ERROR_SAMPLES_KEPT
    assert len(stored) < 2500
    policy = FlagPolicy()
    folded = {f.kind: f for f in refurbish_flags(switch(uptime_samples=readings.uptime_samples,
                                                        interface_errors=readings.interface_errors), policy, end)}
    everything = {f.kind: f for f in refurbish_flags(switch(uptime_samples=tuple(full_uptime),
                                                            interface_errors=tuple(full_errors)), policy, end)}
    assert set(folded) == set(everything) == {KIND_REBOOTS, KIND_INTERFACE_ERRORS}
    assert folded[KIND_REBOOTS].reason == everything[KIND_REBOOTS].reason == "rebooted 5 times in the last 30 days"
    assert "interface errors rising" in folded[KIND_INTERFACE_ERRORS].reason


def test_a_steady_device_keeps_two_uptime_samples_and_raises_nothing():
    polls = [(T0 + timedelta(minutes=15 * k), snmp_data(10_000 + 900 * k, 7)) for k in range(500)]
    readings = load_health(fold_polls(polls))
    assert len(readings.uptime_samples) == 2
    assert refurbish_flags(switch(uptime_samples=readings.uptime_samples,
                                  interface_errors=readings.interface_errors), FlagPolicy(), polls[-1][0]) == []


def test_polls_arriving_out_of_order_give_the_same_history():
    polls = [(T0 + timedelta(minutes=15 * k), snmp_data(900 * k + (0 if k < 50 else -900 * 50 + 60), k))
             for k in range(120)]
    shuffled = polls[:]
    random.Random(3).shuffle(shuffled)
    in_order, out_of_order = load_health(fold_polls(polls)), load_health(fold_polls(shuffled))
    assert [t for t, _ in in_order.uptime_samples][-1] == polls[-1][0].timestamp()
    # One reboot either way: the boot times the two histories date are the same.
    boots = {round(t - u) for t, u in in_order.uptime_samples}
    assert boots == {round(t - u) for t, u in out_of_order.uptime_samples}
    assert len(boots) == 2
    assert in_order.interface_errors == out_of_order.interface_errors
    assert len(in_order.interface_errors) == 30        # 30 hours of polls: the newest of each hour


def test_printer_supplies_as_percentages_and_unknown_levels_kept_as_codes():
    data = {"supplies": [{"description": "Black Toner", "level": 3, "max_capacity": 100},
                         {"description": "Drum", "level": 1500, "max_capacity": 30000},
                         {"description": "Waste", "level": -3, "max_capacity": 100},
                         {"description": "Cyan", "level": "lots"}, "junk"]}
    assert poll_supplies(data) == [["Black Toner", 3.0], ["Drum", 5.0], ["Waste", -3]]
    readings = load_health(fold_health(None, T0, data))
    flags = refurbish_flags(DeviceState("s", "9", "", "printer", True, T0, T0,
                                        printer_supplies=readings.printer_supplies), FlagPolicy(), T0)
    assert [f.kind for f in flags] == [KIND_PRINTER_SUPPLIES]
    assert "Black Toner at 3%" in flags[0].reason and "Drum at 5%" in flags[0].reason


def test_ups_battery_low_on_mains_is_a_battery_flag_but_not_while_on_battery():
    worn = load_health(fold_health(None, T0, {"ups_battery": {"status": "low", "charge_percent": 20}}))
    draining = load_health(fold_health(None, T0, {"ups_battery": {"status": "low", "on_battery": True}}))

    def kinds(readings):
        device = DeviceState("s", "4", "", "ups", True, T0, T0, ups_battery_status=readings.ups_battery_status,
                             ups_on_battery=readings.ups_on_battery)
        return [f.kind for f in refurbish_flags(device, FlagPolicy(), T0)]
    assert kinds(worn) == [KIND_BATTERY] and kinds(draining) == []


def test_junk_stored_health_starts_afresh_and_loads_as_nothing():
    assert load_health("not json") is None and load_health("[1, 2]") is None and load_health(None) is None
    # Stored as two columns, times and values.
    assert json.loads(fold_health("{broken", T0, snmp_data(60)))["uptime"] == [[int(T0.timestamp())], [60]]
    assert load_health('{"uptime": [[1, 3], [2, 4]]}').uptime_samples == ((1, 2), (3, 4))
    # A damaged column keeps its whole-number pairs only.
    assert load_health('{"uptime": [[1, 2, 5], [3, "x", true]]}').uptime_samples == ((1, 3),)
    hostile = json.dumps({"uptime": [[1, "x"], "y", [True, 3]], "errors": 5, "supplies": [["a", "b"]], "ups": [1]})
    readings = load_health(hostile)
    assert readings.uptime_samples == () and readings.interface_errors == () and readings.printer_supplies == ()


def test_endpoint_readings_take_the_fullest_disk_the_battery_and_reboots():
    facts = {"disks": [{"mountpoint": "/", "total_bytes": "100", "used_bytes": "95"},
                       {"mountpoint": "/data", "total_bytes": "1000", "used_bytes": "10"},
                       {"mountpoint": "/bad", "total_bytes": "0", "used_bytes": "0"}],
             "battery": {"present": True, "design_capacity": 50000, "full_capacity": 24000},
             "reboots_last_30_days": 9}
    readings = endpoint_readings(facts)
    assert (readings.disk_used, readings.disk_total) == (95.0, 100.0)
    device = DeviceState("s", "3", "", "windows_pc", False, T0, T0,
                         battery_design_capacity=readings.battery_design_capacity,
                         battery_full_capacity=readings.battery_full_capacity, disk_used=readings.disk_used,
                         disk_total=readings.disk_total, reboot_count_30d=readings.reboot_count_30d)
    assert sorted(f.kind for f in refurbish_flags(device, FlagPolicy(), T0)) == [KIND_BATTERY, KIND_DISK,
                                                                                   KIND_REBOOTS]
    assert endpoint_readings({"battery": {"present": False}, "disks": []}) is None


def test_the_steady_counter_shortcut_gives_the_walks_sums():
    from headcount.collector.flags import _error_windows, _steady_error_windows

    rng = random.Random(11)
    now = T0.timestamp()
    compared = 0
    for _ in range(2000):
        moments = sorted(now - rng.randrange(0, 4 * 86_400) for _ in range(rng.randrange(1, 60)))
        counts, total = [], rng.randrange(0, 1000)
        for _ in moments:
            total += rng.choice((0, 0, 1, 7, 300)) if rng.random() > 0.05 else -total    # a reset now and then
            counts.append(total)
        samples = tuple(zip(moments, counts))
        bounds = (now - 2 * 86_400.0, now - 86_400.0, now)
        steady = _steady_error_windows(samples, *bounds)
        if steady is not None:
            compared += 1
            assert steady == pytest.approx(_error_windows(samples, *bounds))
        else:
            assert counts != sorted(counts)
    assert compared > 500

"""flags.clearly_healthy, the evaluation's shortcut for healthy polled devices, against flags.health_flags.

It may only say "clear" where health_flags gives no flag. Histories are
folded by health.fold_health from random polls (steady devices, reboots,
counter resets and wraps, error bursts, polls out of order, junk counters)
plus hand-damaged stored rows, and judged at several moments.
"""

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from headcount.collector.flags import DEFAULT_CLASS_POLICIES, DeviceState, FlagPolicy, clearly_healthy, health_flags
from headcount.collector.health import fold_health, health_digest, load_health, stored_forms

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)
POLICY = FlagPolicy()


def history(rng: random.Random, device_class: str, stored_as_kept: bool = False) -> str:
    """A random device's folded history; with `stored_as_kept`, each poll folds into the history as the store
    keeps it between polls (health.stored_forms: its digest, where it has one)."""
    pattern = rng.randrange(7)
    boot = NOW - timedelta(days=rng.randrange(1, 400))
    errors = rng.randrange(0, 10**6)
    stored = None
    polls = list(range(rng.choice([2, 4, 50, 300]), -1, -1))
    if pattern == 6:
        rng.shuffle(polls)                       # polls arriving out of order
    for poll in polls:
        moment = NOW - timedelta(minutes=15 * poll + rng.randrange(0, 3))
        if pattern == 1 and rng.random() < 0.02:
            boot = moment - timedelta(seconds=rng.randrange(30, 600))     # a reboot
        errors += {2: rng.choice((0, 50, 400)) if poll < 96 else rng.choice((0, 1)),
                   3: -errors if rng.random() < 0.01 else 1}.get(pattern, rng.choice((0, 0, 1)))
        data = {"system": {"uptime_centiseconds": str(max(0, int((moment - boot).total_seconds())) * 100)},
                "interfaces": [{"in_errors": str(errors)}, {"out_errors": "0"}]}
        if pattern == 4:
            data["interfaces"] = [{"in_errors": rng.choice(["junk", "-5", str(errors)])}]
        if device_class == "printer":
            data["supplies"] = [{"description": "Black Toner", "level": rng.choice((3, 9, 10, 55, 100, -3, -2)),
                                 "max_capacity": 100}]
        if device_class == "ups":
            data["ups_battery"] = {"status": rng.choice(("normal", "low", "depleted", "unknown")),
                                   "on_battery": rng.random() < 0.3}
        stored = fold_health(stored, moment, data)
        if stored_as_kept:
            json_form, digest = stored_forms(stored)
            stored = digest if digest is not None else json_form
    return fold_health(stored, NOW, {}) if stored_as_kept and isinstance(stored, bytes) else stored


def damaged(rng: random.Random) -> str:
    good = json.loads(history(rng, "switch"))
    column = rng.choice(["uptime", "errors"])
    if column in good:
        times, values = good[column]
        if times:
            k = rng.randrange(len(times))
            mutation = rng.randrange(4)
            if mutation == 0:
                values[k] = -values[k] - 1
            elif mutation == 1:
                times[k], times[0] = times[0], times[k]
            elif mutation == 2:
                values[k] = float("nan")
            else:
                values[k] = "7"
    return json.dumps(good)


def polled(rng: random.Random, count: int = 300):
    """(class, stored row, readings) of up to `count` random polled devices, one row in ten hand-damaged."""
    for n in range(count):
        device_class = rng.choice(["switch", "access_point", "printer", "ups"])
        stored = damaged(rng) if n % 10 == 0 else history(rng, device_class)
        readings = load_health(stored)
        if readings is not None:
            yield device_class, stored, readings


def polled_device(device_class: str, readings, now: datetime) -> DeviceState:
    return DeviceState("s", "1", "m", device_class, True, now, now, uptime_samples=readings.uptime_samples,
                       interface_errors=readings.interface_errors, printer_supplies=readings.printer_supplies,
                       ups_battery_status=readings.ups_battery_status, ups_on_battery=readings.ups_on_battery)


@pytest.mark.parametrize("seed", range(6))
def test_clear_only_where_health_flags_gives_nothing(seed):
    clear = judged = 0
    for device_class, stored, readings in polled(random.Random(seed)):
        rules = POLICY.classes.get(device_class, POLICY.default)
        for now in (NOW, NOW + timedelta(minutes=7), NOW + timedelta(days=2)):
            device = polled_device(device_class, readings, now)
            judged += 1
            if clearly_healthy(readings, rules, now):
                clear += 1
                assert health_flags(device, POLICY, now) == [], stored
    # Both answers occur: the shortcut is taken, and left to the rules.
    assert 0.2 * judged < clear < 0.95 * judged, (clear, judged)


def digestible(readings) -> bool:
    """What health_digest takes: whole numbers in time order, below 2**32 but error counts (2**63), and finite
    supply levels."""
    for series, top in ((readings.uptime_samples, 2**32), (readings.interface_errors, 2**63)):
        times = [moment for moment, _ in series]
        numbers = [(number, top if k else 2**32) for sample in series for k, number in enumerate(sample)]
        if any(type(n) is not int or not 0 <= n < below for n, below in numbers) or times != sorted(times):
            return False
    return all(level == level and abs(level) != float("inf") for _, level in readings.printer_supplies)


@pytest.mark.parametrize("seed", range(3))
def test_a_digest_reads_back_as_its_history_and_gets_the_same_flags(seed):
    """The evaluation reads a history's digest (health.health_digest), not its JSON: the same readings, the same
    flags at any moment, and "clearly healthy" only where there are none. A damaged history that is not
    whole numbers in order has no digest (its JSON is read)."""
    digests = damaged_left = 0
    for device_class, stored, readings in polled(random.Random(seed + 70)):
        digest = health_digest(stored)
        assert (digest is not None) == digestible(readings), stored
        if digest is None:
            damaged_left += 1
            continue
        digests += 1
        packed = load_health(digest)
        assert packed == readings
        rules = POLICY.classes.get(device_class, POLICY.default)
        for now in (NOW, NOW + timedelta(minutes=7), NOW + timedelta(days=2), NOW + timedelta(days=31)):
            flags = health_flags(polled_device(device_class, packed, now), POLICY, now)
            assert flags == health_flags(polled_device(device_class, readings, now), POLICY, now), stored
            if clearly_healthy(packed, rules, now):
                assert flags == []
            if clearly_healthy(readings, rules, now):      # the JSON's shortcut never sees more than the digest's
                assert clearly_healthy(packed, rules, now)
    assert digests > 200 and damaged_left


@pytest.mark.parametrize("device_class", ["switch", "printer", "ups"])
def test_polls_folded_into_the_digest_keep_what_polls_folded_into_json_keep(device_class):
    """The store keeps a history as its digest alone, and folds each poll into that: the same readings, poll
    after poll, as folding into the JSON."""
    for seed in range(40):
        as_json = history(random.Random(seed), device_class)
        as_kept = history(random.Random(seed), device_class, stored_as_kept=True)
        assert load_health(as_kept) == load_health(as_json), seed


def test_a_digest_unpacked_rather_than_read_in_place_reads_the_same(monkeypatch):
    """A big-endian machine cannot read the little-endian numbers in place: it unpacks them all."""
    from headcount.collector import health

    histories = [history(random.Random(seed), device_class) for seed, device_class in
                 enumerate(["switch", "printer", "ups", "access_point"] * 5)]
    in_place = [load_health(health_digest(stored)) for stored in histories]
    monkeypatch.setattr(health, "_IN_PLACE", False)
    unpacked = [load_health(health_digest(stored)) for stored in histories]
    assert unpacked == in_place == [load_health(stored) for stored in histories]
    assert all(type(readings.interface_errors.values) is tuple for readings in unpacked if readings.interface_errors)


def test_a_digest_of_an_unknown_version_or_cut_short_reads_as_nothing():
    digest = health_digest(history(random.Random(5), "printer"))
    assert load_health(digest) is not None
    assert load_health(bytes([99]) + digest[1:]) is None
    assert load_health(digest[:10]) is None and load_health(digest[:40]) is None


def test_a_digest_takes_its_numbers_only_within_its_ranges():
    def stored(uptime_time=1_700_000_000, uptime=90, error_count=5):
        return json.dumps({"uptime": [[uptime_time], [uptime]],
                           "errors": [[1_700_000_000, 1_700_003_600], [0, error_count]]})

    for inside in (stored(), stored(uptime_time=2**32 - 1, uptime=2**32 - 1), stored(error_count=2**63 - 1)):
        assert load_health(health_digest(inside)) == load_health(inside)
    for outside in (stored(uptime_time=2**32), stored(uptime=2**32), stored(error_count=2**63)):
        assert health_digest(outside) is None and load_health(outside) is not None


def test_a_tighter_class_policy_is_respected():
    rng = random.Random(99)
    strict = DEFAULT_CLASS_POLICIES["switch"].__class__(error_rise_factor=1.01, error_min_per_hour=0.0,
                                                        reboots_per_30d=1, supply_floor_percent=99.0)
    policy = FlagPolicy(classes={"switch": strict, "printer": strict})
    for _ in range(200):
        device_class = rng.choice(["switch", "printer"])
        readings = load_health(history(rng, device_class))
        device = DeviceState("s", "1", "m", device_class, True, NOW, NOW, uptime_samples=readings.uptime_samples,
                             interface_errors=readings.interface_errors, printer_supplies=readings.printer_supplies)
        if clearly_healthy(readings, strict, NOW):
            assert health_flags(device, policy, NOW) == []


def test_counters_past_64_bits_read_as_whole_numbers_as_json_reads_them():
    """A counter summed over many interfaces can pass 2**64; the fast JSON reader would make it a float."""
    stored = None
    for hours, out_errors in ((47, 0), (30, 10), (20, 20), (10, 100), (1, 3000)):
        stored = fold_health(stored, NOW - timedelta(hours=hours),
                             {"interfaces": [{"in_errors": "18446744073709551615"}, {"out_errors": str(out_errors)}]})
    readings = load_health(stored)
    assert health_digest(stored) is None        # past 64 bits: no digest, its JSON is read
    assert list(readings.interface_errors) == [(t, c) for t, c in zip(*json.loads(stored)["errors"])]
    assert all(type(count) is int for _, count in readings.interface_errors)
    device = DeviceState("s", "1", "m", "switch", True, NOW, NOW, interface_errors=readings.interface_errors)
    (flag,) = health_flags(device, POLICY, NOW)
    assert "2990 errors" in flag.evidence[0] and "(x" in flag.reason


def test_health_flags_right_after_clearly_healthy_equal_those_of_fresh_readings():
    """health_flags reuses the window sums and boot times that clearly_healthy just worked out for the same
    series (flags._steady_sums, _boots_after), only for the same bounds: asked of the same readings again and
    again, with other windows and at other moments, it must give what it gives for a fresh copy each time."""
    from headcount.collector.flags import ClassPolicy

    half_day = FlagPolicy(classes={cls: ClassPolicy(error_window=timedelta(hours=12))
                                   for cls in ("switch", "access_point", "printer", "ups")})
    # A later moment first: its reboot window holds none of the boots that the earlier ones' do.
    asks = [(now, asked, policy) for now in (NOW + timedelta(days=30), NOW, NOW + timedelta(minutes=7),
                                             NOW + timedelta(days=2))
            for asked, policy in ((POLICY, POLICY), (POLICY, half_day), (half_day, POLICY))]
    differ = 0
    for device_class, stored, readings in polled(random.Random(1201)):
        got = []
        for now, asked, policy in asks:       # one series asked again and again, nothing else in between
            clearly_healthy(readings, asked.classes.get(device_class, asked.default), now)
            got.append(health_flags(polled_device(device_class, readings, now), policy, now))
        for found, (now, asked, policy) in zip(got, asks):
            fresh = polled_device(device_class, load_health(stored), now)
            assert found == health_flags(fresh, policy, now), (stored, now)
            differ += found != health_flags(fresh, asked, now)
    assert differ      # the two windows do judge some histories differently: reusing across them would show

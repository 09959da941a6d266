"""collector/flags.py: offline and refurbish flags on a simulated clock (pure rules, no database)."""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headcount.collector import flags
from headcount.collector.calendar import SchoolCalendar
from headcount.collector.flags import (MISSING, OFFLINE, ONLINE, UNKNOWN_AGENT_SILENT, AgentState, ClassPolicy,
                                       Condition, DeviceState, Flag, FlagPolicy, advance_flags, agent_flag,
                                       assess_refurbish, compare_versions, offline_status, refurbish_flags,
                                       status_condition)

UTC = timezone.utc
SITE = "lincoln-es"
# Thanksgiving break is Thursday 26 and Friday 27 November 2026.
CALENDAR = SchoolCalendar(holidays=((date(2026, 11, 26), date(2026, 11, 27)), (date(2026, 12, 21), date(2027, 1, 1))),
                          holiday_names=("thanksgiving", "winter break"),
                          term_start=date(2026, 8, 24), term_end=date(2027, 6, 11))
FRIDAY_3PM = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)        # a Tuesday
POLICY = FlagPolicy()


class Clock:
    """The simulated clock: time moves only when a test says so."""

    def __init__(self, start: datetime):
        self.now = start

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def device(**overrides) -> DeviceState:
    fields = dict(site=SITE, device_id="ipad-1", mac="da:a1:19:00:00:01", device_class="ipad", is_infrastructure=False,
                  last_seen=NOW, first_seen=NOW - timedelta(days=100))
    fields.update(overrides)
    return DeviceState(**fields)


def switch(**overrides) -> DeviceState:
    fields = dict(device_id="switch-1", mac="3c:22:fb:00:00:01", device_class="switch", is_infrastructure=True)
    fields.update(overrides)
    return device(**fields)


def heard(at: datetime) -> AgentState:
    return AgentState(SITE, at)


def unseen_since(last_seen: datetime, now: datetime, sweep: timedelta = timedelta(minutes=15), **overrides):
    """A device last seen at `last_seen`, missed by every sweep since (one every `sweep`)."""
    return device(last_seen=last_seen, missed_polls=int((now - last_seen) / sweep), **overrides)


def states_until(clock: Clock, end: datetime, make, step=timedelta(hours=1)):
    """(time, state) at every step of the simulated clock, the agent heard at each step."""
    seen = []
    while clock.now < end:
        clock.advance(seconds=step.total_seconds())
        status = offline_status(make(clock.now), heard(clock.now), CALENDAR, POLICY, clock.now)
        seen.append((clock.now, status.state))
    return seen


# ---------------------------------------------------------------- offline: student devices and school days


def test_a_weekend_does_not_make_an_ipad_missing_the_third_school_day_does():
    clock = Clock(FRIDAY_3PM)
    timeline = states_until(clock, datetime(2026, 11, 26, 0, 0, tzinfo=UTC),
                            lambda now: unseen_since(FRIDAY_3PM, now))
    missing_from = next(at for at, state in timeline if state == MISSING)
    # Saturday, Sunday: nothing. Monday 1, Tuesday 2, Wednesday 3: missing from Wednesday's first hour.
    assert missing_from == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    assert all(state == ONLINE for at, state in timeline if at < missing_from)
    assert all(state == MISSING for at, state in timeline if at >= missing_from)
    status = offline_status(unseen_since(FRIDAY_3PM, missing_from), heard(missing_from), CALENDAR, POLICY,
                            missing_from)
    assert status.school_days_unseen == 3
    assert status.reason == "not seen for 3 school days since 2026-11-20 (missing after 3; 5 calendar days)"


def test_a_holiday_does_not_make_a_cart_of_ipads_missing():
    last_seen = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)       # Tuesday before Thanksgiving
    clock = Clock(last_seen)
    timeline = states_until(clock, datetime(2026, 12, 2, 0, 0, tzinfo=UTC), lambda now: unseen_since(last_seen, now))
    missing_from = next(at for at, state in timeline if state == MISSING)
    # Wednesday 1; Thursday, Friday (holiday), the weekend: nothing; Monday 2; Tuesday 1 December 3.
    assert missing_from == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    monday = offline_status(unseen_since(last_seen, datetime(2026, 11, 30, 12, tzinfo=UTC)),
                            heard(datetime(2026, 11, 30, 12, tzinfo=UTC)), CALENDAR, POLICY,
                            datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert (monday.state, monday.school_days_unseen) == (ONLINE, 2)
    assert monday.reason == "not seen for 2 school days since 2026-11-24 (missing after 3)"


def test_the_winter_break_and_the_summer_never_make_anything_missing():
    last_seen = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)       # the last Friday before the break
    clock = Clock(last_seen)
    timeline = states_until(clock, datetime(2027, 1, 4, 0, 0, tzinfo=UTC), lambda now: unseen_since(last_seen, now),
                            step=timedelta(hours=6))
    assert {state for _, state in timeline} == {ONLINE}
    last_day = datetime(2027, 6, 11, 15, 0, tzinfo=UTC)         # the last day of the term
    august = datetime(2027, 8, 20, 9, 0, tzinfo=UTC)
    assert offline_status(unseen_since(last_day, august), heard(august), CALENDAR, POLICY, august).state == ONLINE


def test_a_sleeping_ipad_does_not_flap():
    # A class strict enough that one school day unseen is missing: only the missed-sweep guard stands in the way.
    policy = FlagPolicy(classes={"ipad": ClassPolicy(missing_after_school_days=1, min_missed_sweeps=3)})
    last_seen = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)       # Monday afternoon
    clock = Clock(datetime(2026, 11, 24, 7, 45, tzinfo=UTC))     # Tuesday, before the first sweep
    open_flags: list[Flag] = []
    raised: list[Flag] = []
    # Tuesday morning sweeps: missed (asleep), missed, seen; then missed, seen again between classes.
    for missed in (1, 2, 0, 1, 2, 0):
        now = clock.advance(minutes=15)
        seen_at = now if missed == 0 else last_seen
        status = offline_status(device(last_seen=seen_at, missed_polls=missed), heard(now), CALENDAR, policy, now)
        assert status.state == ONLINE
        if missed and status.school_days_unseen >= 1:
            assert status.reason.endswith(f"but missed only {missed} sweep{'s' if missed > 1 else ''} in a row "
                                          "(missing needs 3; it may be asleep)")
        last_seen = seen_at
        condition = status_condition(device(), status)
        still, new, _ = advance_flags(open_flags, [condition] if condition else [], now, policy)
        open_flags = still + new
        raised += new
    assert raised == [] and open_flags == []
    # Three sweeps in a row without it, a school day after it was last seen: now it is missing.
    now = clock.advance(minutes=45)
    status = offline_status(device(last_seen=datetime(2026, 11, 23, 15, tzinfo=UTC), missed_polls=3), heard(now),
                            CALENDAR, policy, now)
    assert status.state == MISSING


def test_school_days_are_the_district_s_days_when_a_timezone_is_set():
    # Friday 23:30 in Chicago is already Saturday in UTC; Monday 20:00 Chicago is Tuesday 02:00 UTC.
    chicago = ZoneInfo("America/Chicago")
    last_seen = datetime(2026, 11, 20, 23, 30, tzinfo=chicago).astimezone(UTC)
    now = datetime(2026, 11, 23, 20, 0, tzinfo=chicago).astimezone(UTC)
    ipad = unseen_since(last_seen, now)
    in_utc = offline_status(ipad, heard(now), CALENDAR, POLICY, now)
    local = offline_status(ipad, heard(now), CALENDAR, replace(POLICY, timezone=chicago), now)
    assert in_utc.school_days_unseen == 2            # UTC: seen Saturday, now Tuesday
    assert local.school_days_unseen == 1             # Chicago: seen Friday, now Monday


# ---------------------------------------------------------------- offline: infrastructure and agents


def test_infrastructure_goes_offline_after_n_missed_polls():
    states = [offline_status(switch(missed_polls=missed), heard(NOW), CALENDAR, POLICY, NOW) for missed in range(5)]
    assert [s.state for s in states] == [ONLINE, ONLINE, ONLINE, OFFLINE, OFFLINE]
    assert states[0].reason == "seen in the last poll"
    assert states[2].reason == "missed 2 polls in a row (offline after 3)"
    assert states[3].reason == "missed 3 polls in a row (offline after 3)"
    assert states[3].school_days_unseen is None
    # A class that demands more missed sweeps than polls waits for the larger of the two.
    patient = FlagPolicy(classes={"switch": ClassPolicy(offline_after_missed_polls=3, min_missed_sweeps=5)})
    assert offline_status(switch(missed_polls=4), heard(NOW), CALENDAR, patient, NOW).state == ONLINE
    assert offline_status(switch(missed_polls=5), heard(NOW), CALENDAR, patient, NOW).state == OFFLINE
    # Infrastructure is judged by polls, not school days: a weekend changes nothing.
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert offline_status(switch(missed_polls=3, last_seen=sunday), heard(sunday), CALENDAR, POLICY,
                          sunday).state == OFFLINE


def test_a_silent_agent_makes_its_devices_unknown_and_gets_the_flag_itself():
    agent = heard(NOW - timedelta(hours=2))
    gone_switch = switch(missed_polls=40, last_seen=NOW - timedelta(hours=2))
    long_gone_ipad = device(missed_polls=900, last_seen=NOW - timedelta(days=20))
    for each in (gone_switch, long_gone_ipad, device()):
        status = offline_status(each, agent, CALENDAR, POLICY, NOW)
        assert status.state == UNKNOWN_AGENT_SILENT
        assert status.reason == (f"the agent of {SITE} was last heard 2h ago: the device's presence is unknown, "
                                 "not offline")
        assert status_condition(each, status) is None
    condition = agent_flag(agent, POLICY, NOW)
    assert condition is not None
    assert (condition.kind, condition.device_id, condition.since) == ("agent_silent", f"agent:{SITE}", agent.last_heard)
    assert condition.evidence == (f"last heard {agent.last_heard.isoformat(timespec='seconds')}",)
    assert "silent for 2h (silent after 30m)" in condition.reason
    # Heard within agent_silent_after: no agent flag, devices judged as usual.
    assert agent_flag(heard(NOW - timedelta(minutes=29)), POLICY, NOW) is None
    assert offline_status(gone_switch, heard(NOW - timedelta(minutes=29)), CALENDAR, POLICY, NOW).state == OFFLINE
    # Never heard at all.
    never = AgentState(SITE, None)
    assert offline_status(device(), never, CALENDAR, POLICY, NOW).state == UNKNOWN_AGENT_SILENT
    assert agent_flag(never, POLICY, NOW).evidence == ("last heard: never",)


def test_a_device_is_judged_only_with_its_own_school_s_agent():
    with pytest.raises(ValueError, match="is at site 'lincoln-es', agent is of 'adams-ms'"):
        offline_status(device(), AgentState("adams-ms", NOW), CALENDAR, POLICY, NOW)


def test_status_condition_carries_the_device_s_own_evidence():
    gone = switch(missed_polls=7, last_seen=NOW - timedelta(minutes=35))
    condition = status_condition(gone, offline_status(gone, heard(NOW), CALENDAR, POLICY, NOW))
    assert condition == Condition("offline", "switch-1", "missed 7 polls in a row (offline after 3)",
                                  ("last seen 2026-11-24T09:55:00+00:00", "missed polls in a row: 7"),
                                  gone.last_seen)
    ipad = unseen_since(FRIDAY_3PM, datetime(2026, 11, 25, 9, tzinfo=UTC))
    status = offline_status(ipad, heard(datetime(2026, 11, 25, 9, tzinfo=UTC)), CALENDAR, POLICY,
                            datetime(2026, 11, 25, 9, tzinfo=UTC))
    assert status_condition(ipad, status).kind == "missing"
    assert status_condition(ipad, status).evidence[-1] == "school days unseen: 3"
    assert status_condition(device(), offline_status(device(), heard(NOW), CALENDAR, POLICY, NOW)) is None


# ---------------------------------------------------------------- flag lifecycle

LIFECYCLE = FlagPolicy(hold_down=timedelta(minutes=30), cool_down=timedelta(hours=6), min_duration=timedelta(hours=1))


def present(kind="offline", device_id="switch-1", since=None, reason="gone"):
    return Condition(kind, device_id, reason, ("evidence",), since)


def test_a_flag_is_raised_kept_and_cleared_after_the_hold_down():
    clock = Clock(NOW)
    still, raised, cleared = advance_flags([], [present(reason="missed 3")], clock.now, LIFECYCLE)
    assert still == [] and cleared == []
    assert raised == [Flag("offline", "switch-1", "missed 3", ("evidence",), NOW, None, NOW)]
    # Still present later: the same flag, raised_at unchanged, reason refreshed.
    later = clock.advance(minutes=10)
    still, raised, cleared = advance_flags(raised, [present(reason="missed 5")], later, LIFECYCLE)
    assert raised == [] and cleared == []
    assert [(f.raised_at, f.reason, f.last_present_at) for f in still] == [(NOW, "missed 5", later)]
    # Absent for less than the hold-down: still open.
    clock.advance(minutes=29)
    still, raised, cleared = advance_flags(still, [], clock.now, LIFECYCLE)
    assert len(still) == 1 and raised == [] and cleared == []
    # Absent for the hold-down: cleared now.
    clock.advance(minutes=1)
    still, raised, cleared = advance_flags(still, [], clock.now, LIFECYCLE)
    assert still == [] and raised == []
    assert [(f.raised_at, f.cleared_at) for f in cleared] == [(NOW, later + timedelta(minutes=30))]


def test_a_blink_inside_the_hold_down_keeps_the_flag_open():
    clock = Clock(NOW)
    _, open_flags, _ = advance_flags([], [present()], clock.now, LIFECYCLE)
    for condition_holds in (False, False, True, False, True):
        clock.advance(minutes=10)
        open_flags, raised, cleared = advance_flags(open_flags, [present()] if condition_holds else [], clock.now,
                                                    LIFECYCLE)
        assert raised == [] and cleared == []
    assert [f.raised_at for f in open_flags] == [NOW]


def test_no_re_raise_within_the_cool_down_unless_the_condition_lasts_the_min_duration():
    cleared_flag = Flag("offline", "switch-1", "gone", (), NOW - timedelta(hours=3), cleared_at=NOW)
    history = [cleared_flag]
    # Back 30 minutes after clearing, begun 10 minutes ago: suppressed.
    at = NOW + timedelta(minutes=30)
    condition = present(since=at - timedelta(minutes=10))
    assert advance_flags([], [condition], at, LIFECYCLE, recently_cleared=history)[1] == []
    # The same condition an hour after it began, still in the cool-down: raised.
    at = condition.since + timedelta(hours=1)
    raised = advance_flags([], [condition], at, LIFECYCLE, recently_cleared=history)[1]
    assert [(f.kind, f.raised_at) for f in raised] == [("offline", at)]
    # A condition with no known onset waits for the end of the cool-down.
    unknown_onset = present(since=None)
    assert advance_flags([], [unknown_onset], NOW + timedelta(hours=5, minutes=59), LIFECYCLE,
                         recently_cleared=history)[1] == []
    assert len(advance_flags([], [unknown_onset], NOW + timedelta(hours=6), LIFECYCLE,
                             recently_cleared=history)[1]) == 1
    # The cool-down is per flag key: another device or another kind is raised at once.
    assert len(advance_flags([], [present(device_id="switch-2", since=at)], at, LIFECYCLE,
                             recently_cleared=history)[1]) == 1
    assert len(advance_flags([], [present(kind="disk", since=None)], at, LIFECYCLE,
                             recently_cleared=history)[1]) == 1


def test_a_flapping_switch_raises_once_clears_once_and_is_held_by_the_cool_down():
    """Polls every 5 minutes; the switch blinks, settles, then goes again within the cool-down."""
    start = NOW
    seen_at = {0, 20, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100}   # minutes after start it answered
    open_flags: list[Flag] = []
    history: list[Flag] = []
    events = []
    last_seen, missed = start, 0
    for minute in range(0, 200, 5):
        now = start + timedelta(minutes=minute)
        if minute in seen_at:
            last_seen, missed = now, 0
        else:
            missed += 1
        gone = switch(last_seen=last_seen, missed_polls=missed)
        condition = status_condition(gone, offline_status(gone, heard(now), CALENDAR, LIFECYCLE, now))
        still, raised, cleared = advance_flags(open_flags, [condition] if condition else [], now, LIFECYCLE,
                                               recently_cleared=history)
        open_flags = still + raised           # the store keeps both: still_open holds only the flags it was given
        history += cleared
        events += [("raised", minute) for _ in raised] + [("cleared", minute) for _ in cleared]
    # Offline at 15 (3 missed polls); the blink at 20 and the second outage (offline again at 40) keep it open;
    # seen steadily from 45, absent from the last outage at 40 for the 30-minute hold-down: cleared at 70.
    # Gone again after 100, offline at 115 inside the cool-down: raised only when the absence (since the last
    # sighting, 100) has lasted the hour: at 160.
    assert events == [("raised", 15), ("cleared", 70), ("raised", 160)]


def test_flags_of_a_device_behind_a_silent_agent_are_held_not_cleared():
    clock = Clock(NOW)
    _, open_flags, _ = advance_flags([], [present(), present(kind="disk")], clock.now, LIFECYCLE)
    # The agent goes silent: no condition arrives for the switch, but its presence is unknown.
    for _ in range(6):
        clock.advance(minutes=20)
        open_flags, raised, cleared = advance_flags(open_flags, [], clock.now, LIFECYCLE,
                                                    unknown_devices={"switch-1"})
        # The disk flag is not about presence: it clears after its hold-down as usual.
        assert all(f.kind == "disk" for f in cleared)
    assert [f.kind for f in open_flags] == ["offline"]
    # The agent is back and the switch is there: the hold-down counts from the agent's return.
    back = clock.now
    clock.advance(minutes=20)
    assert len(advance_flags(open_flags, [], clock.now, LIFECYCLE)[0]) == 1
    assert advance_flags(open_flags, [], back + timedelta(minutes=30), LIFECYCLE)[2][0].cleared_at == \
        back + timedelta(minutes=30)


def test_duplicated_open_flags_repair_themselves_and_cleared_ones_are_refused():
    first = Flag("offline", "switch-1", "gone", (), NOW - timedelta(hours=2))
    second = Flag("offline", "switch-1", "gone", (), NOW - timedelta(hours=1))
    still, raised, cleared = advance_flags([second, first], [present()], NOW, LIFECYCLE)
    assert [f.raised_at for f in still] == [first.raised_at]
    assert [(f.raised_at, f.cleared_at) for f in cleared] == [(second.raised_at, NOW)]
    assert raised == []
    with pytest.raises(ValueError, match="already cleared"):
        advance_flags([replace(first, cleared_at=NOW)], [], NOW, LIFECYCLE)


# ---------------------------------------------------------------- versions


@pytest.mark.parametrize("a, b, expected", [
    ("15.2(7)E3", "15.2(7)E3", 0),
    ("15.2(7)E2", "15.2(7)E3", -1),
    ("15.2(7)E10", "15.2(7)E3", 1),          # numbers compare as numbers
    ("15.2(4)E10", "15.2(7)E3", -1),
    ("15.2(7)E", "15.2(7)", 1),              # a letter build after the plain release
    ("8.10.0.0", "8.10", 0),                 # trailing zeros say nothing
    ("8.9.0.3", "8.10.0.0", -1),
    ("3.3.0.16", "3.3.0", 1),
    ("3.2.9", "3.3.0", -1),
    ("v2.1b", "2.1", 1),
    ("v2.1b", "V2.1A", 1),                   # case-insensitive letters
    ("2.1b", "2.1.1", None),                 # two numbering schemes
    ("1.0rc1", "1.0", -1),                   # pre-release before the release
    ("1.0rc1", "1.0.1", -1),
    ("1.0-beta2", "1.0-alpha3", 1),
    ("007.1", "7.1", 0),
    (" 3.3.0 ", "3.3.0", 0),
])
def test_compare_versions(a, b, expected):
    assert compare_versions(a, b) == expected
    assert compare_versions(b, a) == (None if expected is None else -expected)


@pytest.mark.parametrize("junk", ["", "   ", "unknown", "N/A", "-", "?", "v", "release", "Cisco IOS, Version 15.2",
                                  "1.2/3", "1.2,3", "\u0661.2", "9" * 70, "1." + "x" * 80, None, 15.2, ["1"], b"1.0"])
def test_junk_versions_compare_as_unknown_and_never_crash(junk):
    assert compare_versions(junk, "1.0") is None
    assert compare_versions("1.0", junk) is None


VERSIONS = st.from_regex(r"[vV]?[0-9]{1,4}([.\-()_ ]?([0-9]{1,3}|[a-zA-Z]{1,5})){0,5}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(a=st.one_of(VERSIONS, st.text(max_size=30)), b=st.one_of(VERSIONS, st.text(max_size=30)))
def test_compare_versions_is_total_on_text_and_antisymmetric(a, b):
    forward = compare_versions(a, b)
    backward = compare_versions(b, a)
    assert forward in (-1, 0, 1, None)
    assert backward == (None if forward is None else -forward)
    if flags.parse_version(a) is not None:
        assert compare_versions(a, a) == 0


# ---------------------------------------------------------------- refurbish


def kinds(found) -> list[str]:
    return [flag.kind for flag in found]


def only(found, kind):
    [flag] = [flag for flag in found if flag.kind == kind]
    return flag


def test_a_healthy_device_has_no_flags_and_no_notes():
    healthy = switch(purchase_date=date(2025, 8, 1), firmware="15.2(7)E3", minimum_firmware="15.2(7)E3",
                     interface_errors=[(NOW - timedelta(hours=h), 100 - h) for h in range(48, -1, -12)],
                     uptime_samples=[(NOW - timedelta(days=d), 86400.0 * (100 - d)) for d in range(30, -1, -5)])
    assert refurbish_flags(healthy, POLICY, NOW) == []
    assert assess_refurbish(healthy, POLICY, NOW).notes == ()


def test_age_past_the_lifecycle_from_the_purchase_date_or_else_first_seen():
    bought = refurbish_flags(device(purchase_date=date(2022, 8, 1)), POLICY, NOW)
    flag = only(bought, "age")
    assert flag.reason == "4.3 years old, past the 4-year lifecycle of ipad"
    assert flag.evidence == ("purchased 2022-08-01 (asset register)", "age 4.3 years on 2026-11-24", "lifecycle 4 years")
    assert flag.device_id == "ipad-1"
    seen = only(refurbish_flags(device(first_seen=datetime(2019, 1, 7, tzinfo=UTC)), POLICY, NOW), "age")
    assert seen.evidence[0] == "first seen 2019-01-07 (no purchase date known; at least this old)"
    # The purchase date wins over an older first sighting; within the lifecycle: no flag.
    assert refurbish_flags(device(purchase_date=date(2024, 1, 1), first_seen=datetime(2018, 1, 1, tzinfo=UTC)),
                           POLICY, NOW) == []
    # A class with no lifecycle is never too old.
    assert refurbish_flags(device(device_class="iot", first_seen=datetime(2010, 1, 1, tzinfo=UTC)), POLICY, NOW) == []


def test_firmware_below_the_standard_or_end_of_life():
    below = only(refurbish_flags(switch(model="C9200-24P", firmware="15.2(7)E2", minimum_firmware="15.2(7)E3"),
                                 POLICY, NOW), "firmware")
    assert below.reason == "firmware 15.2(7)E2 is below the standard 15.2(7)E3"
    assert below.evidence == ("firmware '15.2(7)E2' on C9200-24P", "minimum firmware '15.2(7)E3'")
    assert refurbish_flags(switch(firmware="8.10.0.0", minimum_firmware="8.10"), POLICY, NOW) == []
    eol = only(refurbish_flags(switch(firmware="8.11.2.1", minimum_firmware="8.10.0.0", firmware_end_of_life=True),
                               POLICY, NOW), "firmware")
    assert eol.reason == "firmware 8.11.2.1 is end-of-life"
    assert "vendor end-of-life: yes" in eol.evidence


def test_junk_firmware_raises_no_flag_but_leaves_a_note():
    junk = switch(firmware="unknown", minimum_firmware="15.2(7)E3")
    assessment = assess_refurbish(junk, POLICY, NOW)
    assert assessment.flags == []
    assert assessment.notes == ("firmware 'unknown' cannot be compared with the minimum '15.2(7)E3' "
                                "(not a version both ways): not judged against the standard",)
    assert refurbish_flags(junk, POLICY, NOW) == []
    # End-of-life still counts; the note joins the flag's evidence.
    flag = only(refurbish_flags(replace(junk, firmware_end_of_life=True), POLICY, NOW), "firmware")
    assert flag.reason == "firmware unknown is end-of-life"
    assert any("cannot be compared" in line for line in flag.evidence)


def test_battery_health_under_the_floor():
    flag = only(refurbish_flags(device(battery_design_capacity=50000, battery_full_capacity=24000), POLICY, NOW),
                "battery")
    assert flag.reason == "battery holds 48% of its design capacity (floor 60%)"
    assert flag.evidence == ("full charge capacity 24000", "design capacity 50000", "health 48.0%")
    assert refurbish_flags(device(battery_design_capacity=50000, battery_full_capacity=40000), POLICY, NOW) == []
    assessment = assess_refurbish(device(battery_design_capacity=0, battery_full_capacity=100), POLICY, NOW)
    assert assessment.flags == [] and "battery health not judged" in assessment.notes[0]
    # A UPS has its own floor.
    ups = switch(device_class="ups", battery_design_capacity=100, battery_full_capacity=65)
    assert kinds(refurbish_flags(ups, POLICY, NOW)) == ["battery"]


def test_disk_nearly_full():
    flag = only(refurbish_flags(device(disk_used=30.5, disk_total=32), POLICY, NOW), "disk")
    assert flag.reason == "disk 95% full (flag at 90%)"
    assert flag.evidence == ("used 30.5 of 32", "free 1.5", "95.3% used")
    assert refurbish_flags(device(disk_used=16, disk_total=32), POLICY, NOW) == []
    for used, total in ((1, 0), (-1, 32), (40, 32), (float("nan"), 32), ("full", 32)):
        assessment = assess_refurbish(device(disk_used=used, disk_total=total), POLICY, NOW)
        assert assessment.flags == [] and "disk not judged" in assessment.notes[0]


def counters(*values, every=timedelta(hours=12)):
    """Cumulative error counters ending at NOW, one every 12 hours."""
    return [(NOW - every * (len(values) - 1 - i), value) for i, value in enumerate(values)]


def test_rising_interface_errors_newest_window_against_the_previous_one():
    # Previous 24 h: 24 errors (1/h). Newest 24 h: 176 (7.3/h): rising.
    rising = switch(interface_errors=counters(0, 12, 24, 100, 200))
    flag = only(refurbish_flags(rising, POLICY, NOW), "interface_errors")
    assert flag.reason == "interface errors rising: 7.3/h in the last 24h against 1.0/h the 24h before (x7.3)"
    assert flag.evidence == ("176 errors over 24.0 h up to 2026-11-24T10:30:00+00:00",
                             "24 errors over 24.0 h up to 2026-11-23T10:30:00+00:00",
                             "flag at x3 the previous rate and at least 1/h")
    # Steady, or rising but too few errors to matter: no flag.
    assert refurbish_flags(switch(interface_errors=counters(0, 12, 24, 36, 48)), POLICY, NOW) == []
    assert refurbish_flags(switch(interface_errors=counters(0, 0, 0, 3, 6)), POLICY, NOW) == []
    # No errors at all is never a rise, even with no minimum rate.
    eager = FlagPolicy(classes={"switch": ClassPolicy(error_min_per_hour=0)})
    assert refurbish_flags(switch(interface_errors=counters(7, 7, 7, 7, 7)), eager, NOW) == []
    # From no errors at all to many.
    assert "(from none)" in only(refurbish_flags(switch(interface_errors=counters(5, 5, 5, 60, 90)), POLICY, NOW),
                                 "interface_errors").reason
    # A counter reset (reboot) counts the errors since the reset, never a negative rate.
    reset = only(refurbish_flags(switch(interface_errors=counters(0, 12, 24, 5, 100)), POLICY, NOW),
                 "interface_errors")
    assert reset.evidence[0].startswith("100 errors over 24.0 h")
    # Samples out of order are ordered first.
    shuffled = counters(0, 12, 24, 100, 200)
    shuffled = [shuffled[3], shuffled[0], shuffled[4], shuffled[1], shuffled[2]]
    assert refurbish_flags(switch(interface_errors=shuffled), POLICY, NOW) == refurbish_flags(rising, POLICY, NOW)
    # History that does not reach back into the previous window: nothing to compare.
    assert refurbish_flags(switch(interface_errors=counters(0, 50, 100, every=timedelta(hours=6))),
                           POLICY, NOW) == []
    junk = assess_refurbish(switch(interface_errors=counters(0, -1, 24, 100, 200)), POLICY, NOW)
    assert junk.flags == [] and "error rate not judged" in junk.notes[0]


def uptimes(boots, days=30, step=timedelta(hours=12)):
    """sysUpTime samples every 12 h over `days`, the device booting at each time in `boots`."""
    samples = []
    moment = NOW - timedelta(days=days)
    while moment <= NOW:
        boot = max(b for b in boots if b <= moment)
        samples.append((moment, (moment - boot).total_seconds()))
        moment += step
    return samples


def test_frequent_reboots_from_sysuptime_resets():
    boots = [NOW - timedelta(days=d) for d in (90, 20.5, 10.25, 5.5, 2.75)]
    flag = only(refurbish_flags(switch(uptime_samples=uptimes(boots)), POLICY, NOW), "reboots")
    assert flag.reason == "rebooted 4 times in the last 30 days"
    assert flag.evidence[0] == ("4 sysUpTime resets in 30 days; booted at about 2026-11-03T22:30:00+00:00, "
                                "2026-11-14T04:30:00+00:00, 2026-11-18T22:30:00+00:00, 2026-11-21T16:30:00+00:00")
    assert flag.evidence[-1] == "flag at 4 in 30 days"
    # Three resets are below the default 4.
    assert refurbish_flags(switch(uptime_samples=uptimes(boots[:-1])), POLICY, NOW) == []
    # A reboot between samples days apart is seen even though the uptime grew past its old value.
    sparse = [(NOW - timedelta(days=20), 3600.0), (NOW, 86400.0 * 5)]
    policy = FlagPolicy(classes={"switch": ClassPolicy(reboots_per_30d=1)})
    assert kinds(refurbish_flags(switch(uptime_samples=sparse), policy, NOW)) == ["reboots"]


def test_poll_jitter_is_not_a_reboot():
    # Each sample's uptime off by up to a minute (poll latency, clock steps): the boot time barely moves.
    boot = NOW - timedelta(days=50)
    samples = [(moment, (moment - boot).total_seconds() + (-60, 45, 0, 59)[i % 4])
               for i, moment in enumerate(NOW - timedelta(days=d) for d in range(30, -1, -2))]
    policy = FlagPolicy(classes={"switch": ClassPolicy(reboots_per_30d=1)})
    assert refurbish_flags(switch(uptime_samples=samples), policy, NOW) == []
    # Out of order samples are put in order, not taken for reboots.
    assert refurbish_flags(switch(uptime_samples=samples[::-1]), policy, NOW) == []


def test_the_497_day_sysuptime_wrap_is_not_a_reboot():
    boot = NOW - timedelta(days=600)
    samples = [(moment, (moment - boot).total_seconds() % flags.SYSUPTIME_WRAP_SECONDS)
               for moment in (NOW - timedelta(days=d) for d in range(140, -1, -10))]
    assert any(later[1] < earlier[1] for earlier, later in zip(samples, samples[1:]))     # it did wrap
    policy = FlagPolicy(classes={"switch": ClassPolicy(reboots_per_30d=1)})
    assert refurbish_flags(switch(uptime_samples=samples), policy, NOW) == []


def test_reboots_reported_by_an_endpoint_agent_and_never_counted_twice():
    flag = only(refurbish_flags(device(reboot_count_30d=6), POLICY, NOW), "reboots")
    assert flag.reason == "rebooted 6 times in the last 30 days"
    assert flag.evidence == ("6 reboots in 30 days reported by the device's agent", "flag at 4 in 30 days")
    boots = [NOW - timedelta(days=d) for d in (90, 20.5, 10.25, 5.5, 2.75)]
    both = only(refurbish_flags(switch(uptime_samples=uptimes(boots), reboot_count_30d=2), POLICY, NOW), "reboots")
    assert both.reason == "rebooted 4 times in the last 30 days"           # the larger, not 6
    junk = assess_refurbish(switch(uptime_samples=[(NOW - timedelta(days=1), -5.0), (NOW, 10.0)],
                                   reboot_count_30d=5), POLICY, NOW)
    assert kinds(junk.flags) == ["reboots"] and "counted from the device's own report only" in junk.notes[0]


def test_printer_supplies_low():
    printer = switch(device_class="printer", printer_supplies=[("black toner", 4), ("cyan toner", 55),
                                                               ("waste toner", -2), ("drum", 9.5), ("fuser", 140)])
    assessment = assess_refurbish(printer, POLICY, NOW)
    flag = only(assessment.flags, "printer_supplies")
    assert flag.reason == "2 printer supplies below 10%: black toner at 4%, drum at 9.5%"
    assert flag.evidence == ("black toner at 4%", "drum at 9.5%", "floor 10%")
    assert assessment.notes == ("printer supply 'fuser' level 140 is not a percentage: not judged",)
    assert refurbish_flags(replace(printer, printer_supplies=[("black toner", 80), ("waste", -3)]),
                           POLICY, NOW) == []


def test_a_chromebook_past_or_near_its_aue_date():
    past = only(refurbish_flags(device(device_class="chromebook", aue_date=date(2026, 6, 1)), POLICY, NOW), "aue")
    assert past.reason == "past its auto-update expiration (AUE) on 2026-06-01: no more ChromeOS updates; replace"
    assert past.evidence == ("auto-update expiration (AUE) 2026-06-01", "today 2026-11-24")
    near = only(refurbish_flags(device(device_class="chromebook", aue_date=date(2027, 3, 1)), POLICY, NOW), "aue")
    assert near.reason == "reaches its auto-update expiration (AUE) on 2027-03-01, in 97 days; plan its replacement"
    assert near.evidence[0] == "auto-update expiration (AUE) 2027-03-01"
    assert refurbish_flags(device(device_class="chromebook", aue_date=date(2029, 6, 1)), POLICY, NOW) == []


def test_every_reason_at_once_each_with_evidence():
    everything = switch(
        device_class="printer", purchase_date=date(2015, 1, 1), firmware="2.0", minimum_firmware="3.3.0",
        battery_design_capacity=100, battery_full_capacity=10, disk_used=99, disk_total=100,
        interface_errors=counters(0, 12, 24, 100, 200), reboot_count_30d=9, printer_supplies=[("black toner", 1)],
        aue_date=date(2026, 1, 1))
    found = refurbish_flags(everything, POLICY, NOW)
    assert kinds(found) == ["age", "firmware", "battery", "disk", "interface_errors", "reboots", "printer_supplies",
                            "aue"]
    assert sorted(kinds(found)) == sorted(flags.REFURBISH_KINDS)
    assert all(flag.reason and flag.evidence and flag.device_id == "switch-1" for flag in found)


def test_policies_are_validated_and_read_only():
    with pytest.raises(ValueError, match="min_missed_sweeps must not be negative"):
        ClassPolicy(min_missed_sweeps=-1)
    with pytest.raises(ValueError, match="hold_down must not be negative"):
        FlagPolicy(hold_down=timedelta(minutes=-1))
    classes = {"ipad": ClassPolicy(lifecycle_years=3)}
    policy = FlagPolicy(classes=classes)
    classes["ipad"] = ClassPolicy(lifecycle_years=9)          # the caller's dict changing later changes nothing
    assert policy.for_class("ipad").lifecycle_years == 3
    assert policy.for_class("no such class") == policy.default
    with pytest.raises(TypeError):
        policy.classes["ipad"] = ClassPolicy()               # type: ignore[index]

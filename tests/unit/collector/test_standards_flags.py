"""[flags] in the district standards: the example's thresholds become Standards.flag_policy, merged over the
built-in ones, and every mistake is a problem naming its file, line and dotted field. Also end_of_life."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from standards_edits import EXAMPLE, edit, line_of, problems

from headcount.collector.flags import DEFAULT_CLASS_POLICIES, ClassPolicy, FlagPolicy
from headcount.collector.standards import (END_DEVICE_CLASSES, FLAG_CLASSES, INFRASTRUCTURE_CLASSES, ApprovedModel,
                                           Standards, load_standards)


# ------------------------------------------------------------------------------------------ the example

# flags.toml key -> (ClassPolicy field, how the file's number becomes it)
UNITS = {"error_window_hours": ("error_window", lambda hours: timedelta(hours=hours))}


def test_the_example_flag_policy_has_the_values_of_flags_toml():
    standards = load_standards(EXAMPLE)
    policy = standards.flag_policy
    written = tomllib.loads((EXAMPLE / "flags.toml").read_text(encoding="utf-8"))["flags"]
    assert policy.agent_silent_after == timedelta(minutes=written["agent_silent_after_minutes"]) == timedelta(minutes=30)
    assert policy.hold_down == timedelta(minutes=written["hold_down_minutes"])
    assert policy.cool_down == timedelta(minutes=written["cool_down_minutes"]) == timedelta(hours=6)
    assert policy.min_duration == timedelta(minutes=written["min_duration_minutes"])
    assert policy.timezone == ZoneInfo("America/Chicago")
    for device_class, table in written["classes"].items():
        for key, value in table.items():
            name, convert = UNITS.get(key, (key, lambda v: v))
            assert getattr(policy.for_class(device_class), name) == convert(value), (device_class, key)
    for key, value in written["default"].items():
        assert getattr(policy.default, key) == value

    # The example's choices, as its comments explain them.
    for student in ("chromebook", "ipad"):
        assert policy.for_class(student).missing_after_school_days == 3
        assert policy.for_class(student).min_missed_sweeps == 3
    assert policy.for_class("switch").offline_after_missed_polls == 3
    assert policy.for_class("access_point").offline_after_missed_polls == 2
    assert policy.for_class("printer").offline_after_missed_polls == 4
    assert standards.flag_classes == tuple(written["classes"])
    assert "flag thresholds set for 8 classes (chromebook, ipad, switch," in standards.summary()


def test_infrastructure_lifecycles_come_from_max_age_years():
    standards = load_standards(EXAMPLE)
    for standard in standards.infrastructure:
        assert standard.max_age_years is not None
        assert standards.flag_policy.for_class(standard.device_class).lifecycle_years == standard.max_age_years
    assert standards.flag_policy.for_class("switch").lifecycle_years == 8      # built-in 7, max_age_years 8


def test_a_class_table_overrides_only_the_keys_it_gives(district):
    edit(district, "flags.toml", "[flags.classes.ipad]\n", "[flags.classes.ipad]\nerror_window_hours = 6\n")
    ipad = load_standards(district).flag_policy.for_class("ipad")
    built_in = DEFAULT_CLASS_POLICIES["ipad"]
    assert ipad.battery_floor_percent == 70 and ipad.error_window == timedelta(hours=6)
    assert ipad.lifecycle_years == built_in.lifecycle_years == 4
    assert ipad.disk_full_percent == built_in.disk_full_percent and ipad.aue_warning_days == built_in.aue_warning_days
    # A class with no table keeps its built-in thresholds, not [flags.default]'s.
    assert load_standards(district).flag_policy.for_class("phone") == DEFAULT_CLASS_POLICIES["phone"]


def test_flags_default_is_for_classes_without_built_in_thresholds():
    policy = load_standards(EXAMPLE).flag_policy
    assert policy.for_class("a-class-from-a-newer-agent") == ClassPolicy(missing_after_school_days=5,
                                                                         min_missed_sweeps=3)


def test_without_flags_toml_the_built_in_policy_in_the_district_zone(district):
    (district / "flags.toml").unlink()
    standards = load_standards(district)
    policy = standards.flag_policy
    assert policy.timezone == ZoneInfo("America/Chicago") and policy.hold_down == FlagPolicy().hold_down
    assert policy.for_class("chromebook") == DEFAULT_CLASS_POLICIES["chromebook"]
    assert policy.for_class("ups").lifecycle_years == 10                        # still from max_age_years
    assert standards.flag_classes == ()
    assert standards.summary().endswith("classrooms; built-in flag thresholds")


def test_standards_built_by_hand_get_the_built_in_policy_in_their_zone():
    example = load_standards(EXAMPLE)
    standards = Standards(district=example.district, schools=example.schools, grade_bands=example.grade_bands,
                          calendar=example.calendar)
    assert standards.flag_policy == FlagPolicy(timezone=ZoneInfo("America/Chicago"))


def test_lifecycle_years_may_repeat_max_age_years_or_replace_it(district):
    edit(district, "flags.toml", "[flags.classes.switch]\n", "[flags.classes.switch]\nlifecycle_years = 8\n")
    assert load_standards(district).flag_policy.for_class("switch").lifecycle_years == 8
    edit(district, "infrastructure.toml", "max_age_years = 8\nminimum_uplink_mbps = 10000             # 10",
         "minimum_uplink_mbps = 10000             # 10")
    assert load_standards(district).flag_policy.for_class("switch").lifecycle_years == 8


def test_every_class_a_device_can_have_may_have_a_table():
    assert set(FLAG_CLASSES) == {*DEFAULT_CLASS_POLICIES, *END_DEVICE_CLASSES, *INFRASTRUCTURE_CLASSES}


def test_end_of_life_of_approved_models():
    standards = load_standards(EXAMPLE)
    router = standards.infrastructure_standard("router").approved("Cisco ISR4331/K9")
    assert router.end_of_life == date(2028, 11, 30)
    assert standards.infrastructure_standard("switch").approved("Cisco CBS350-24FP-4X").end_of_life is None
    assert standards.infrastructure_standard("printer").approved("Brother HL-L6200DW") == \
        ApprovedModel("Brother HL-L6200DW", None, None)


# ------------------------------------------------------------------------------------------ mistakes

# (file, text in the example, replacement, text on the line the problem must name, the problem after "file:N: ")
MISTAKES = [
    ("flags.toml", "[flags.classes.ipad]", "[flags.classes.ipads]", "[flags.classes.ipads]",
     "flags.classes.ipads = {...}: unknown device class (did you mean ipad?); expected one of: chromebook, ipad, "
     "mac, windows_pc"),
    ("flags.toml", "offline_after_missed_polls = 2", "offline_after_missed_pols = 2", "offline_after_missed_pols",
     "flags.classes.access_point.offline_after_missed_pols = 2: unknown key (did you mean "
     "offline_after_missed_polls?); expected one of: aue_warning_days, battery_floor_percent, disk_full_percent, "
     "error_min_per_hour, error_rise_factor, error_window_hours, lifecycle_years"),
    ("flags.toml", "hold_down_minutes = 30", "hold_down = 30", "hold_down = 30",
     "flags.hold_down = 30: unknown key (did you mean hold_down_minutes? the unit is part of the name); expected "
     "one of: "
     "agent_silent_after_minutes, classes, cool_down_minutes, default, hold_down_minutes, min_duration_minutes"),
    ("flags.toml", "offline_after_missed_polls = 4", 'offline_after_missed_polls = "4"',
     'offline_after_missed_polls = "4"',
     'flags.classes.printer.offline_after_missed_polls = "4": expected how many consecutive scans of its agent may '
     'miss an infrastructure device before it is offline, a whole number from 1 to 1000 (write it without quotes)'),
    ("flags.toml", "hold_down_minutes = 30", 'hold_down_minutes = "30 minutes"', "hold_down_minutes =",
     'flags.hold_down_minutes = "30 minutes": expected how many minutes a condition must stay gone before its flag '
     'is cleared, a whole number from 0 to 10080'),
    ("flags.toml", "cool_down_minutes = 360", "cool_down_minutes = -5", "cool_down_minutes = -5",
     "flags.cool_down_minutes = -5: expected for how many minutes after a flag is cleared"),
    ("flags.toml", "missing_after_school_days = 3\nmin_missed_sweeps = 3\naue",
     "missing_after_school_days = -1\nmin_missed_sweeps = 3\naue", "missing_after_school_days = -1",
     "flags.classes.chromebook.missing_after_school_days = -1: expected how many school days a student device may "
     "go unseen before it is missing, a whole number from 1 to 200"),
    ("flags.toml", "missing_after_school_days = 3\nmin_missed_sweeps = 3\naue",
     "missing_after_school_days = 2.5\nmin_missed_sweeps = 3\naue", "missing_after_school_days = 2.5",
     "flags.classes.chromebook.missing_after_school_days = 2.5: expected how many school days"),
    ("flags.toml", "battery_floor_percent = 70              # a UPS", "battery_floor_percent = 170  # a UPS",
     "battery_floor_percent = 170",
     "flags.classes.ups.battery_floor_percent = 170: expected the battery health (full-charge over design capacity) "
     "below which a battery is flagged, in percent, 0 to 100"),
    ("flags.toml", "supply_floor_percent = 10", "supply_floor_percent = 100.5", "supply_floor_percent = 100.5",
     "flags.classes.printer.supply_floor_percent = 100.5: expected the printer supply level below which it is "
     "flagged, in percent, 0 to 100"),
    ("flags.toml", "error_window_hours = 24", "error_window_hours = 0", "error_window_hours = 0",
     "flags.classes.switch.error_window_hours = 0: expected the length in hours of the window"),
    ("flags.toml", "[flags.default]\nmissing_after_school_days = 5", "[flags.default]\nmissing_after_school_days = true",
     "missing_after_school_days = true", "flags.default.missing_after_school_days = true: expected how many school days"),
    ("flags.toml", "\n[flags]\n", "\n[[flags]]\n", "[[flags]]", "flags = [{...}]: expected a table, written [flags]"),
    ("flags.toml", "[flags.classes.switch]\n", "[flags.classes.switch]\nlifecycle_years = 7\n", "lifecycle_years = 7",
     "flags.classes.switch.lifecycle_years = 7: differs from max_age_years = 8 (infrastructure.switch.max_age_years "
     "at {dir}/infrastructure.toml:{max_age}); expected one number for one thing: leave lifecycle_years out "
     "(max_age_years then sets it) or make the two equal"),
    ("infrastructure.toml", "end_of_life = 2028-11-30", 'end_of_life = "2028-11-30"', 'end_of_life = "2028-11-30"',
     'infrastructure.router.models[0].end_of_life = "2028-11-30": expected the date the vendor ends software support '
     'for this model, e.g. 2025-10-31 (a TOML date, no quotes)'),
    ("infrastructure.toml", "end_of_life = 2028-11-30", "end_of_life = 2028-11-30T00:00:00",
     "end_of_life = 2028-11-30T00:00:00",
     "infrastructure.router.models[0].end_of_life = 2028-11-30T00:00:00: expected the date the vendor ends software "
     "support for this model, e.g. 2025-10-31 (a TOML date, no quotes): a date alone, without a time"),
    ("infrastructure.toml", "end_of_life = 2028-11-30", "end_of_lfe = 2028-11-30", "end_of_lfe = 2028-11-30",
     "infrastructure.router.models[0].end_of_lfe = 2028-11-30: unknown key (did you mean end_of_life?); expected "
     "one of: end_of_life, minimum_firmware, model"),
]


@pytest.mark.parametrize("name, old, new, marker, expected", MISTAKES,
                         ids=[f"{m[0]}:{m[4].split(' =')[0].split(':')[0]}" for m in MISTAKES])
def test_each_flags_mistake_is_one_problem_naming_file_line_and_field(district, name, old, new, marker, expected):
    path = edit(district, name, old, new)
    found = problems(district)
    assert len(found) == 1, "\n".join(found)
    max_age = line_of(district / "infrastructure.toml", "max_age_years = 8")
    expected = expected.replace("{dir}", str(district)).replace("{max_age}", str(max_age))
    assert found[0].startswith(f"{path}:{line_of(path, marker)}: {expected}"), found[0]


def test_every_flags_mistake_is_reported_in_one_pass(district):
    flags = edit(district, "flags.toml", "hold_down_minutes = 30", "hold_down_minutes = -1")
    edit(district, "flags.toml", "[flags.classes.ipad]", "[flags.classes.tablet]")
    edit(district, "flags.toml", "supply_floor_percent = 10", "supply_floor_percent = 101")
    found = problems(district)
    assert [line.split(": ")[0] for line in found] == [
        f"{flags}:{line_of(flags, 'hold_down_minutes = -1')}",
        f"{flags}:{line_of(flags, '[flags.classes.tablet]')}",
        f"{flags}:{line_of(flags, 'supply_floor_percent = 101')}",
    ]


# ------------------------------------------------------------------------------------------ band lifecycles


def test_a_student_device_ages_by_its_schools_grade_band_and_infrastructure_by_its_class():
    from datetime import datetime, timezone

    from headcount.collector.district import flag_inventory, student_lifecycles
    from headcount.collector.flags import AgentState

    standards = load_standards(EXAMPLE)
    lifecycles = student_lifecycles(standards)
    # grade-bands.toml: K-5 Chromebooks and iPads 5 years, 6-8 and 9-12 Chromebooks 4, high-school labs 6.
    assert lifecycles[("lincoln-elementary", "chromebook")] == lifecycles[("lincoln-elementary", "ipad")] == 5.0
    assert lifecycles[("jefferson-middle", "chromebook")] == lifecycles[("roosevelt-high", "chromebook")] == 4.0
    assert lifecycles[("roosevelt-high", "windows_pc")] == 6.0
    assert ("jefferson-middle", "ipad") not in lifecycles       # the band approves no iPads: the class's own

    now = datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)
    bought = date(2022, 5, 1)        # 4.6 years before: past 4 years, not past 5
    seen = "2026-11-24T10:15:00.000000Z"
    rows = [(site, str(n), f"00:00:5e:00:53:{n:02x}", cls, cls == "switch", "", "", "", "2022-05-01T00:00:00.000000Z",
             seen, bought, None, None, None, None)
            for n, (site, cls) in enumerate((("lincoln-elementary", "chromebook"), ("jefferson-middle", "chromebook"),
                                             ("jefferson-middle", "ipad"), ("lincoln-elementary", "switch")))]
    agents = {site: AgentState(site, now) for site in ("lincoln-elementary", "jefferson-middle")}
    judged = {device: [f.reason for f in flags] for device, _, flags in flag_inventory(
        rows, agents, standards.calendar, standards.flag_policy, now, timedelta(minutes=15),
        lifecycles=lifecycles)}
    assert judged["0"] == []                                   # K-5 plans 5 years
    assert judged["1"] == ["4.6 years old, past the 4-year lifecycle of chromebook"]
    assert judged["2"] == ["4.6 years old, past the 4-year lifecycle of ipad"]     # the class's 4 years
    # Infrastructure ages by its class (infrastructure.toml: switches 8 years), never by a band.
    assert judged["3"] == []

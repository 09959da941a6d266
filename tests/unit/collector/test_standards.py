"""District standards files: the example loads, and every mistake is reported with its file, line and field."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest
from standards_edits import EXAMPLE, edit, line_of, problems

from headcount.collector.calendar import SchoolCalendar
from headcount.collector.errors import CollectorError, StandardsError
from headcount.collector.standards import (END_DEVICE_CLASSES, INFRASTRUCTURE_CLASSES, Standards, StandardsHolder,
                                           Version, check_standards, dotted, load_standards, locate, parse_version)

LOCATION = re.compile(r"^(?P<file>[^\n]+?\.toml):(?P<line>\d+): ")


# ------------------------------------------------------------------------------------------ the example district

def test_the_example_district_loads_with_every_part_of_the_format():
    standards = load_standards(EXAMPLE)
    assert standards.district.name == "Example Unified School District"
    assert standards.district.timezone == "America/Chicago" and standards.district.effective == date(2026, 8, 1)
    assert len(standards.schools) >= 3
    assert {band.id for band in standards.grade_bands} == {"K-5", "6-8", "9-12"}
    covered = {grade for school in standards.schools for grade in standards.band_of(school).grades}
    assert covered >= {"K", *map(str, range(1, 13))}

    lincoln = standards.school("lincoln-elementary")
    assert lincoln.short_name == "Lincoln ES" and lincoln.enrollment == 412 and lincoln.classrooms == 24
    assert [str(net) for net in lincoln.subnets] == ["198.18.0.0/22", "192.0.2.0/26"]
    rooms = standards.rooms_of("lincoln-elementary")
    assert len(rooms) >= 5 and any(not room.access_points for room in rooms)        # a classroom with no AP
    assert [r.classroom for r in rooms].count(False) == 1
    assert rooms[0].switch_ports[1].switch == "LES-IDF1-SW1" and rooms[0].switch_ports[1].port == "Gi1/0/2"
    assert "20:4c:03:1a:2b:3c" in {ap for room in rooms for ap in room.access_points}   # MACs kept in one form

    k5 = standards.grade_band("K-5")
    assert k5.student_devices_per_student == 0.5 and k5.approved_classes == ("chromebook", "ipad")
    assert k5.device_standard("ipad").minimum_os == parse_version("17.5")
    assert k5.device_standard("ipad").approves("ipad (10th GENERATION)") and not k5.device_standard("ipad").approves("iPad mini")
    assert standards.grade_band("9-12").device_standard("windows_pc").minimum_os < parse_version("10.0.26100")

    assert {i.device_class for i in standards.infrastructure} >= {"switch", "access_point", "wireless_controller",
                                                                  "printer", "ups"}
    switch = standards.infrastructure_standard("switch")
    assert switch.poe_budget_headroom_percent == 20 and switch.minimum_uplink_mbps == 10000 and switch.max_age_years == 8
    assert switch.approved("cisco cbs350-24fp-4x").minimum_firmware == parse_version("3.3.0.16")
    assert standards.infrastructure_standard("access_point").access_points_per_classroom == 1.0
    assert standards.infrastructure_standard("printer").approved("Brother HL-L6200DW").minimum_firmware is None

    calendar = standards.calendar
    assert isinstance(calendar, SchoolCalendar) and calendar.school_weekdays == frozenset(range(5))
    assert not calendar.is_school_day(date(2026, 11, 26))          # Thanksgiving break
    assert calendar.is_school_day(date(2026, 11, 30))
    assert "Thanksgiving break" in calendar.holiday_names
    assert len(standards.sources) == len(list(EXAMPLE.glob("*.toml")))


def test_the_device_classes_are_the_agents():
    from headcount.agent.model import DEVICE_CLASSES
    assert END_DEVICE_CLASSES == DEVICE_CLASSES
    assert INFRASTRUCTURE_CLASSES == ("switch", "router", "access_point", "wireless_controller", "printer", "ups")


def test_one_file_or_a_folder_give_the_same_standards(tmp_path):
    one = tmp_path / "district.toml"
    one.write_text("\n".join(p.read_text(encoding="utf-8") for p in sorted(EXAMPLE.glob("*.toml"))), encoding="utf-8")
    assert dataclasses.replace(load_standards(one), sources=()) == dataclasses.replace(load_standards(EXAMPLE),
                                                                                        sources=())


def test_array_sections_add_up_across_files(district):
    schools = district / "schools.toml"
    text = schools.read_text(encoding="utf-8")
    cut = text.index("[[schools]]\nid = \"roosevelt-high\"")
    schools.write_text(text[:cut], encoding="utf-8")
    (district / "schools-roosevelt.toml").write_text(text[cut:], encoding="utf-8")
    standards = load_standards(district)
    assert len(standards.schools) == 4 and standards.school("roosevelt-high").enrollment == 1240
    assert district / "schools-roosevelt.toml" in standards.sources


def test_a_table_section_lives_in_one_file(district):
    (district / "zz-extra.toml").write_text('[calendar]\nschool_weekdays = ["monday"]\n', encoding="utf-8")
    [message] = problems(district)
    assert message.startswith(f"{district}/zz-extra.toml:1: calendar = {{...}}: defined again; expected the "
                              f"[calendar] table in one file only (already at {district}/calendar.toml:")


# ------------------------------------------------------------------------------------------ one mistake at a time

# (file, text in the example, replacement, the text on the line the problem must name, the problem after "file:N: ")
MISTAKES = [
    ("schools.toml", "enrollment = 412", "enrollment = -3", "enrollment = -3",
     "schools[0].enrollment = -3: expected a whole number of students, 1 or more"),
    ("schools.toml", "classrooms = 20", 'classrooms = "20"', 'classrooms = "20"',
     'schools[1].classrooms = "20": expected a whole number of classrooms, 1 or more (write it without quotes)'),
    ("schools.toml", "enrollment = 338", "enrollment = true", "enrollment = true",
     "schools[1].enrollment = true: expected a whole number of students"),
    ("schools.toml", "enrollment = 338", "enrolment = 338", "enrolment = 338",
     "schools[1].enrolment = 338: unknown key (did you mean enrollment?); expected one of: classrooms, enrollment, "
     "grade_band, id, name, short_name, subnets"),
    ("schools.toml", "enrollment = 338\n", "", ("[[schools]]", 2),
     "schools[1].enrollment: missing; expected a whole number of students, 1 or more"),
    ("schools.toml", 'grade_band = "6-8"', 'grade_band = "6-9"', 'grade_band = "6-9"',
     'schools[2].grade_band = "6-9": unknown grade band (did you mean 6-8?); expected one of the ids in '
     '[[grade_bands]]: K-5, 6-8, 9-12'),
    ("schools.toml", 'id = "washington-elementary"', 'id = "lincoln-elementary"', ('id = "lincoln-elementary"', 2),
     'schools[1].id = "lincoln-elementary": duplicate school id; expected each school id once (already used by '
     'schools[0].id at {dir}/schools.toml:16)'),
    ("schools.toml", '"198.18.4.0/22"', '"198.18.2.0/23"', '"198.18.2.0/23"',
     'schools[1].subnets[0] = "198.18.2.0/23": overlaps 198.18.0.0/22 of school "lincoln-elementary" '
     '(schools[0].subnets[0] at {dir}/schools.toml:23); expected every address to belong to one school'),
    ("schools.toml", '"192.0.2.0/26",', '"192.0.2.1/26",', '"192.0.2.1/26"',
     'schools[0].subnets[1] = "192.0.2.1/26": host bits are set; expected the network address, "192.0.2.0/26"'),
    ("schools.toml", 'subnets = ["198.18.4.0/22", "192.0.2.64/26"]', "subnets = []", "subnets = []",
     'schools[1].subnets = []: expected a list of one or more subnets in CIDR form, e.g. ["198.18.0.0/22"]'),
    ("rooms.toml", 'school = "jefferson-middle"', 'school = "jeferson-middle"', 'school = "jeferson-middle"',
     'rooms[7].school = "jeferson-middle": unknown school (did you mean jefferson-middle?); expected one of the ids '
     'in [[schools]]: lincoln-elementary, washington-elementary, jefferson-middle, roosevelt-high'),
    ("rooms.toml", 'name = "Room 102"', 'name = "room 101"', 'name = "room 101"',
     'rooms[1].name = "room 101": a second room with this name in lincoln-elementary; expected each room once per '
     'school (already rooms[0].name at {dir}/rooms.toml:17)'),
    ("rooms.toml", '{ switch = "LES-IDF1-SW1", port = "Gi1/0/2" }', '{ switch = "LES-IDF1-SW1", prot = "Gi1/0/2" }',
     "prot =", 'rooms[0].switch_ports[1].prot = "Gi1/0/2": unknown key (did you mean port?); expected one of: port, '
               'switch'),
    ("rooms.toml", '{ switch = "LES-IDF1-SW1", port = "Gi1/0/2" }', '{ switch = "LES-IDF1-SW1", port = 2 }',
     "port = 2", 'rooms[0].switch_ports[1].port = 2: expected the port\'s name as the switch reports it, in quotes, '
                 'e.g. "Gi1/0/5"'),
    ("calendar.toml", "start = 2026-11-23\nend = 2026-11-27", "start = 2026-11-27\nend = 2026-11-23",
     "end = 2026-11-23",
     "calendar.holidays[3].end = 2026-11-23: the holiday ends before it starts (2026-11-27); expected a date on or "
     "after start"),
    ("calendar.toml", "start = 2027-03-15\nend = 2027-03-19", "start = 2026-03-15\nend = 2026-03-19",
     "start = 2026-03-15",
     "calendar.holidays[7].start = 2026-03-15: the holiday falls outside the term (2026-08-12 to 2027-05-27); "
     "expected dates within the term (wrong year?)"),
    ("calendar.toml", "term_start = 2026-08-12", 'term_start = "2026-08-12"', "term_start =",
     'calendar.term_start = "2026-08-12": expected the first day of the school year, e.g. 2026-08-12 (a TOML date, '
     'no quotes)'),
    ("calendar.toml", '"thursday", "friday"]', '"thursday", "fryday"]', '"fryday"',
     'calendar.school_weekdays[4] = "fryday": expected a weekday name, one of monday, tuesday, wednesday, thursday, '
     'friday, saturday, sunday'),
    ("grade-bands.toml", "[grade_bands.student_devices.ipad]", "[grade_bands.student_devices.ipads]",
     "[grade_bands.student_devices.ipads]",
     "grade_bands[0].student_devices.ipads = {...}: unknown student device class (did you mean ipad?); expected one "
     "of: chromebook, ipad, mac, windows_pc, linux_pc, phone, printer, display, iot"),
    ("grade-bands.toml", "[grade_bands.student_devices.mac]", "[grade_bands.student_devices.unknown]",
     "student_devices.unknown]", "grade_bands[2].student_devices.unknown = {...}: unknown student device class"),
    ("grade-bands.toml", 'minimum_os = "17.5"', "minimum_os = 17.50", "minimum_os = 17.50",
     'grade_bands[0].student_devices.ipad.minimum_os = 17.5: expected the lowest OS version allowed, e.g. "17.0", in '
     'quotes (a TOML number loses trailing zeros)'),
    ("grade-bands.toml", 'grades = ["6", "7", "8"]', 'grades = ["6", "7", "8", "13"]', '"13"',
     'grade_bands[1].grades[3] = "13": expected a grade, one of PK, TK, K, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12'),
    ("infrastructure.toml", '{ model = "Aruba 7210", minimum_firmware = "8.10.0.12",',
     '{ model = "Aruba 7210", minimum_firmware = "latest",', '"latest"',
     'infrastructure.wireless_controller.models[0].minimum_firmware = "latest": expected the lowest firmware version '
     'allowed for this model, e.g. "8.10.0.12"; this does not parse as a version'),
    ("infrastructure.toml", "[infrastructure.access_point]", "[infrastructure.acess_point]", "acess_point]",
     "infrastructure.acess_point = {...}: unknown infrastructure class (did you mean access_point?); expected one "
     "of: switch, router, access_point, wireless_controller, printer, ups"),
    ("infrastructure.toml", "poe_budget_headroom_percent = 20", "access_points_per_classroom = 1.0",
     ("access_points_per_classroom = 1.0", 1),
     "infrastructure.switch.access_points_per_classroom = 1.0: unknown key (it belongs under "
     "[infrastructure.access_point]); expected one of: max_age_years, minimum_uplink_mbps, models, "
     "poe_budget_headroom_percent"),
    ("infrastructure.toml", '    "Brother HL-L6200DW",', '    "Brother HL-L6200DW",\n    "brother hl-l6200dw",',
     '"brother hl-l6200dw"',
     'infrastructure.printer.models[3] = "brother hl-l6200dw": listed twice (also infrastructure.printer.models[2]); '
     'expected each model once'),
    ("infrastructure.toml", "max_age_years = 10", "max_age_years = -1", "max_age_years = -1",
     "infrastructure.ups.max_age_years = -1: expected the age in years after which a device is due for replacement, "
     "above 0 and at most 30"),
    ("district.toml", 'timezone = "America/Chicago"', "timezone = 5", "timezone = 5",
     "district.timezone = 5: expected the district's IANA time zone in quotes, e.g. \"America/Chicago\""),
    ("schools.toml", 'short_name = "Lincoln ES"', "short_name = 5", "short_name = 5",
     "schools[0].short_name = 5: expected a short name for reports, in quotes, e.g. \"Lincoln ES\""),
    ("schools.toml", 'id = "roosevelt-high"', "id = 12", "id = 12",
     "schools[3].id = 12: expected the school's id as its agent reports it (agent.site): letters, digits, '.', '_' "
     "or '-', e.g. \"lincoln-elementary\" (in quotes)"),
    ("district.toml", "\n[district]\n", "\n[[district]]\n", "[[district]]",
     "district = [{...}]: expected a table, written [district]"),
    ("schools.toml", "[[schools]]\nid = \"washington-elementary\"", "[[school]]\nid = \"washington-elementary\"",
     "[[school]]", "school = [{...}]: unknown section (did you mean schools?); expected one of: calendar, district, "
                   "flags, grade_bands, infrastructure, rooms, schools"),
    # A value on the second line of a multi-line array is reported on that line.
    ("schools.toml", '    "192.0.2.0/26",     # switches', '    "192.0.2.0/33",     # switches', "192.0.2.0/33",
     'schools[0].subnets[1] = "192.0.2.0/33": expected a subnet in CIDR form, e.g. "198.18.0.0/22"'),
]


@pytest.mark.parametrize("name, old, new, marker, expected", MISTAKES,
                         ids=[f"{m[0]}:{m[4].split(':')[0].split(' =')[0]}" for m in MISTAKES])
def test_each_mistake_is_one_problem_naming_file_line_and_field(district, name, old, new, marker, expected):
    path = edit(district, name, old, new)
    text, nth = marker if isinstance(marker, tuple) else (marker, 1)
    found = problems(district)
    assert len(found) == 1, "\n".join(found)
    assert found[0].startswith(f"{path}:{line_of(path, text, nth)}: {expected.replace('{dir}', str(district))}"), \
        found[0]


def test_a_duplicate_grade_band_id_and_the_band_it_hides(district):
    grade_bands = edit(district, "grade-bands.toml", 'id = "9-12"', 'id = "6-8"')
    schools = district / "schools.toml"
    first, second = line_of(grade_bands, 'id = "6-8"'), line_of(grade_bands, 'id = "6-8"', 2)
    reference = line_of(schools, 'grade_band = "9-12"')
    assert problems(district) == [
        f'{grade_bands}:{second}: grade_bands[2].id = "6-8": duplicate grade band id; expected each grade band id '
        f'once (already used by grade_bands[1].id at {grade_bands}:{first})',
        f'{schools}:{reference}: schools[3].grade_band = "9-12": unknown grade band; expected one of the ids in '
        f'[[grade_bands]]: K-5, 6-8',
    ]


SIMPLE_LINE = re.compile(r"^(?P<key>[A-Za-z_]+) = (?P<value>[^\[{].*)$")


def test_any_value_of_the_wrong_kind_is_a_located_problem_never_a_crash(district):
    """Every single-line value of the example, replaced by each kind of TOML value in turn."""
    originals = {path: path.read_text(encoding="utf-8") for path in sorted(district.glob("*.toml"))}
    tried = on_the_line = 0
    for path, text in originals.items():
        lines = text.splitlines()
        for number, line in enumerate(lines):
            if not SIMPLE_LINE.match(line):
                continue
            key = SIMPLE_LINE.match(line)["key"]
            for value in ('"x"', "-0.5", "[1, [2]]", "{}", "2026-01-01"):   # text, number, array, table, date
                path.write_text("\n".join([*lines[:number], f"{key} = {value}", *lines[number + 1:]]),
                                encoding="utf-8")
                standards, found = check_standards(district)
                tried += 1
                assert standards is not None or found
                for problem in found:
                    assert LOCATION.match(str(problem)) and problem.line >= 1, str(problem)
                on_the_line += any(p.file == str(path) and p.line == number + 1 for p in found)
        path.write_text(text, encoding="utf-8")
    assert tried > 250
    # Most replacements are wrong where they stand; the rest are valid, or wrong only for what refers to them
    # (a school's id = "x" is fine, the rooms naming the old id are not).
    assert on_the_line > 0.8 * tried, (on_the_line, tried)


def test_rooms_cannot_list_more_classrooms_than_the_school_has(district):
    edit(district, "schools.toml", "classrooms = 24", "classrooms = 5")
    rooms = district / "rooms.toml"
    [found] = problems(district)
    # Lincoln lists 6 classrooms (and a library); the 6th is the one too many.
    line = line_of(rooms, 'name = "Portable P1"') - 2   # the [[rooms]] header: classroom = true is the default
    assert found.startswith(f"{rooms}:{line}: rooms[5].classroom = true: "
                            f"lincoln-elementary has 6 rooms marked as classrooms but classrooms = 5 "
                            f"(schools[0].classrooms at {district}/schools.toml:21)")


def test_a_school_that_owes_devices_needs_an_approved_class(tmp_path, district):
    grade_bands = district / "grade-bands.toml"
    text = grade_bands.read_text(encoding="utf-8")
    start = text.index("[grade_bands.student_devices.chromebook]\nmodels = [\"Lenovo 300e")
    end = text.index("[[grade_bands]]\nid = \"9-12\"")
    grade_bands.write_text(text[:start] + text[end:], encoding="utf-8")
    [found] = problems(district)
    line = line_of(grade_bands, 'id = "6-8"') - 1
    assert found.startswith(f"{grade_bands}:{line}: grade_bands[1].student_devices: missing; expected at least one "
                            f"approved class")


def test_every_problem_is_reported_in_one_pass_in_file_and_line_order(district):
    edit(district, "schools.toml", "enrollment = 412", "enrollment = 0")
    edit(district, "schools.toml", 'grade_band = "9-12"', 'grade_band = "10-12"')
    edit(district, "calendar.toml", "end = 2027-01-01", "end = 2026-12-01")
    edit(district, "infrastructure.toml", 'minimum_firmware = "1.7.5"', 'minimum_firmware = "1.7.x"')
    edit(district, "rooms.toml", "classroom = false", "classroom = \"no\"")
    edit(district, "district.toml", "effective = 2026-08-01", "effective = 2026-08-01T00:00:00")
    found = problems(district)
    assert len(found) == 6, "\n".join(found)
    assert all(LOCATION.match(line) for line in found)
    order = [(LOCATION.match(line)["file"], int(LOCATION.match(line)["line"])) for line in found]
    assert order == sorted(order)
    assert [Path(f).name for f, _ in order] == ["calendar.toml", "district.toml", "infrastructure.toml", "rooms.toml",
                                                "schools.toml", "schools.toml"]
    assert "district.effective = 2026-08-01T00:00:00: expected the date these standards take effect" in found[1]
    assert "a date alone, without a time" in found[1]


def test_a_syntax_error_names_its_line_and_the_other_files_are_still_checked(district):
    rooms = edit(district, "rooms.toml", 'name = "Room 102"', 'name = "Room 102')
    edit(district, "schools.toml", "enrollment = 655", "enrollment = 65.5")
    found = problems(district)
    assert len(found) == 2, "\n".join(found)   # and no "rooms: missing": what a broken file holds is unknown
    assert found[0].startswith(f"{rooms}:{line_of(rooms, 'Room 102')}: not valid TOML: ")
    assert "column" in found[0] and "Room 102" in found[0]
    assert "schools[2].enrollment = 65.5" in found[1]


def test_a_duplicate_key_is_a_syntax_error_with_its_line(district):
    schools = edit(district, "schools.toml", "enrollment = 338\n", "enrollment = 338\nenrollment = 339\n")
    [found] = problems(district)
    assert found.startswith(f"{schools}:{line_of(schools, 'enrollment = 339')}: not valid TOML: ")


def test_a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte(district):
    schools = district / "schools.toml"
    line = line_of(schools, "Roosevelt High School")
    text = schools.read_text(encoding="utf-8").replace("Roosevelt High School", "Roosevelt High School, Sección A")
    schools.write_bytes(text.encode("latin-1"))
    [found] = problems(district)
    assert found.startswith(f"{schools}:{line}: not UTF-8: byte 0xf3 at column 37 cannot be decoded; ")
    assert "save it again as UTF-8" in found


def test_a_byte_order_mark_is_not_content(district):
    path = district / "district.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_standards(district).district.name == "Example Unified School District"


def test_missing_sections_are_named(tmp_path):
    path = tmp_path / "district.toml"
    path.write_text('[district]\nname = "X"\ntimezone = "UTC"\n', encoding="utf-8")
    assert problems(path) == [f"{path}:1: calendar: missing; expected a [calendar] table in this file",
                              f"{path}:1: schools: missing; expected [[schools]] sections in this file",
                              f"{path}:1: grade_bands: missing; expected [[grade_bands]] sections in this file"]


def test_a_table_written_where_an_array_of_tables_belongs(tmp_path):
    path = tmp_path / "district.toml"
    path.write_text('[schools]\nid = "a"\n', encoding="utf-8")
    found = problems(path)
    assert f"{path}:1: schools = {{...}}: expected an array of tables, each written [[schools]] (double brackets)" \
        in found
    assert not any("schools: missing" in line for line in found)


def test_a_misspelt_section_is_one_problem(tmp_path):
    path = tmp_path / "schools.toml"
    path.write_text('[[school]]\nid = "a"\n', encoding="utf-8")
    found = problems(path)
    assert f"{path}:1: school = [{{...}}]: unknown section (did you mean schools?); expected one of: calendar, " \
           f"district, flags, grade_bands, infrastructure, rooms, schools" in found
    assert not any("schools: missing" in line for line in found) and any("district: missing" in l for l in found)


def test_a_missing_path_and_an_empty_folder_are_clear(tmp_path):
    assert problems(tmp_path / "nope.toml") == [f"{tmp_path}/nope.toml: no such file or folder; expected a standards "
                                                f".toml file or a folder of them"]
    assert "no *.toml files in this folder" in problems(tmp_path)[0]


def test_load_standards_raises_one_collector_error_carrying_every_problem(district):
    edit(district, "schools.toml", "enrollment = 412", "enrollment = 0")
    edit(district, "schools.toml", "enrollment = 338", "enrollment = 0")
    with pytest.raises(StandardsError) as caught:
        load_standards(district)
    assert isinstance(caught.value, CollectorError) and len(caught.value.problems) == 2
    assert str(caught.value).count("expected a whole number of students") == 2


# ------------------------------------------------------------------------------------------ the holder

def test_a_bad_reload_keeps_the_good_standards(district):
    holder = StandardsHolder()
    assert holder.current is None
    assert holder.reload(district) == []
    good = holder.current
    assert isinstance(good, Standards) and len(good.schools) == 4

    schools = edit(district, "schools.toml", "enrollment = 412", "enrollment = -3")
    errors = holder.reload(district)
    assert errors == [f"{schools}:20: schools[0].enrollment = -3: expected a whole number of students, 1 or more"]
    assert holder.current is good

    (district / "schools.toml").write_bytes(b"[[schools]]\nname = \"Caf\xe9\"\n")
    assert holder.reload(district)[0].startswith(f"{schools}:2: not UTF-8")
    assert holder.reload(district / "gone") and holder.current is good

    shutil.copy(EXAMPLE / "schools.toml", schools)
    edit(district, "schools.toml", "enrollment = 412", "enrollment = 430")
    assert holder.reload(district) == []
    assert holder.current is not good and holder.current.school("lincoln-elementary").enrollment == 430


# ------------------------------------------------------------------------------------------ versions

@pytest.mark.parametrize("lower, higher", [
    ("3.3.0.16", "3.3.0.17"), ("8.9", "8.10"), ("17.9.4", "17.9.4a"), ("17.9.4a", "17.9.5"),
    ("15.2(7)E8", "15.2(7)E10"), ("PL.10.13.1010", "10.13.1050"), ("v7.0.6", "7.2"), ("124", "124.0.6367.225"),
    ("21.4R3-S4", "21.4R3-S5"), ("002.2409A", "002.2410A"),
])
def test_versions_order_part_by_part(lower, higher):
    assert parse_version(lower) < parse_version(higher) and parse_version(higher) > parse_version(lower)


def test_trailing_zeros_and_platform_prefixes_do_not_count():
    assert parse_version("3.3") == parse_version("3.3.0") == parse_version("v3.3.0.0")
    assert hash(parse_version("3.3")) == hash(parse_version("3.3.0"))
    assert str(parse_version(" PL.10.13.1010 ")) == "PL.10.13.1010"
    assert isinstance(parse_version("1"), Version)


@pytest.mark.parametrize("text", ["", "latest", "3.x", "1..2", "1.2.", "v", "1.2 beta", "1.2-", "x" * 70, "n/a"])
def test_what_is_not_a_version(text):
    with pytest.raises(ValueError):
        parse_version(text)


# ------------------------------------------------------------------------------------------ line numbers

TRICKY = '''\
# comment with [brackets] and key = "value"
title = """
a multi-line string with "quotes" and
[not.a.header]
key = "not a key"
"""
"dotted.key" = 1
literal = \'\'\'one
two\'\'\'
when = 2026-09-07 08:00:00
a.b.c = true

[[schools]]
id = "a"
subnets = [
  "198.18.0.0/24",   # first
  # a comment line
  "198.18.1.0/24",
]
ports = [ { switch = "x", port = "1" },
          { switch = "y", port = "2" } ]

[schools.extra]
note = 'it is'

[[schools]]
id = "b"

[[schools.rooms]]
name = "r"

[[schools]]
id = "c"
'''


def test_locate_places_every_key_and_array_item_on_its_line():
    assert tomllib.loads(TRICKY)   # the test text is valid TOML
    lines = locate(TRICKY)
    assert lines[("title",)] == 2
    assert ("not", "a", "header") not in lines and ("key",) not in lines
    assert lines[("dotted.key",)] == 7 and lines[("literal",)] == 8 and lines[("when",)] == 10
    assert lines[("a", "b", "c")] == 11 and lines[("a",)] == 11
    assert lines[("schools", 0)] == 13 and lines[("schools", 0, "id")] == 14
    assert lines[("schools", 0, "subnets", 0)] == 16 and lines[("schools", 0, "subnets", 1)] == 18
    assert lines[("schools", 0, "ports", 1, "port")] == 21
    assert lines[("schools", 0, "extra", "note")] == 24
    assert lines[("schools", 1, "id")] == 27 and lines[("schools", 1, "rooms", 0, "name")] == 30
    assert lines[("schools", 2, "id")] == 33


def test_locate_handles_windows_line_ends():
    lines = locate(TRICKY.replace("\n", "\r\n"))
    assert lines[("schools", 1, "rooms", 0, "name")] == 30


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, path + (index,))
    yield path


@pytest.mark.parametrize("path", sorted(EXAMPLE.glob("*.toml")), ids=lambda p: p.name)
def test_every_value_of_the_example_is_placed_on_a_line_that_holds_it(path):
    text = path.read_text(encoding="utf-8")
    lines, source = locate(text), text.splitlines()
    for leaf in _leaves(tomllib.loads(text)):
        if not leaf:
            continue
        assert leaf in lines, dotted(leaf)
        if isinstance(leaf[-1], str):
            assert leaf[-1] in source[lines[leaf] - 1], (dotted(leaf), lines[leaf])


# ------------------------------------------------------------------------------------------ the command line

def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headcount.collector", "standards", *args],
                          capture_output=True, text=True, timeout=30)


def test_check_prints_a_summary_and_exits_0_for_the_example():
    done = run_check("check", str(EXAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK: 4 schools, 3 grade bands, 6 infrastructure classes, 8 rooms, 8 holidays; ")
    assert done.stdout.count("\n") == 1


def test_check_lists_every_problem_and_exits_2(district):
    edit(district, "schools.toml", "enrollment = 412", "enrollment = -3")              # wrong value
    edit(district, "schools.toml", 'classrooms = 20', 'classrooms = "twenty"')          # wrong type
    edit(district, "district.toml", "contact =", "contakt =")                          # unknown key
    edit(district, "rooms.toml", 'school = "jefferson-middle"', 'school = "nowhere"')  # cross-check
    (district / "zz-notes.toml").write_bytes("# Sección\n".encode("latin-1"))          # wrong encoding
    done = run_check("check", str(district))
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[-1] == f"5 problems in {district}"
    assert all(LOCATION.match(line) for line in lines[:-1]), done.stdout
    contakt = line_of(district / "district.toml", "contakt =")
    assert f"{district}/district.toml:{contakt}: district.contakt = " in done.stdout
    assert "unknown key (did you mean contact?); expected one of: contact, effective, name, timezone" in done.stdout
    assert f"{district}/schools.toml:20: schools[0].enrollment = -3: expected a whole number of students" in done.stdout
    assert 'schools[1].classrooms = "twenty": expected a whole number of classrooms' in done.stdout
    assert 'rooms[7].school = "nowhere": unknown school' in done.stdout
    assert f"{district}/zz-notes.toml:1: not UTF-8: byte 0xf3 at column 8" in done.stdout


def test_check_reports_a_syntax_error_with_its_line(tmp_path):
    path = tmp_path / "district.toml"
    path.write_text('[district]\nname = "X"\ntimezone = America/Chicago\n', encoding="utf-8")
    done = run_check("check", str(path))
    assert done.returncode == 2
    assert done.stdout.startswith(f"{path}:3: not valid TOML: invalid value at column 12 in "
                                  f"\"timezone = America/Chicago\"")


def test_check_help_explains_the_command():
    done = run_check("check", "--help")
    assert done.returncode == 0
    assert "file, the line and the field" in done.stdout and "exits 2" in done.stdout

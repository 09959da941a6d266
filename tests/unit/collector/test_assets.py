"""Asset register and device-management imports: real files in, records, problems, matches and findings out.

The fixtures in data/assets_* are made-up exports: serials are fake, MACs come
from the documentation range 00:00:5e:00:53:xx, and every user column holds a
"pupil" placeholder that must never come back out of the import.
"""

from dataclasses import fields
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from headcount.collector.assets import (ASSET_REGISTER, GOOGLE_ADMIN_CHROMEOS, JAMF_IPAD, AssetImportError,
                                        AssetMatch, AssetRecord, management_findings, match_assets, read_import)
from headcount.collector.errors import CollectorError

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
SCHOOLS = ["Lincoln Elementary", "Washington Middle", "Jefferson High", "Escuela Montaña Verde",
           "Roosevelt Academy of Arts"]


def by_line(imported):
    return {record.line: record for record in imported.records}


def problem_lines(imported):
    return sorted(problem.line for problem in imported.problems)


def write(tmp_path, text, name="import.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


# ---------------------------------------------------------------- the asset register


def test_register_with_a_bom_is_read_field_by_field():
    imported = read_import(DATA / "assets_register.csv")
    assert imported.source_format == ASSET_REGISTER and imported.encoding == "utf-8-sig"
    assert dict(imported.columns)["asset_tag"] == "Asset Tag"     # the BOM is not part of the first name
    first = by_line(imported)[2]
    assert first == AssetRecord(
        source_format=ASSET_REGISTER, line=2, serial="5CD2TEST01", macs=("00:00:5e:00:53:01",),
        asset_tag="HC-000101", model="HP Chromebook 11 G9 EE, 4GB", purchase_date=date(2021, 8, 16),
        warranty_end=date(2024, 8, 15), school="Lincoln Elementary", file="assets_register.csv")


def test_three_macs_in_one_cell_in_three_spellings_become_one_normalised_tuple():
    record = by_line(read_import(DATA / "assets_register.csv"))[4]
    assert record.macs == ("00:00:5e:00:53:03", "00:00:5e:00:53:04", "00:00:5e:00:53:05")


def test_us_dates_and_a_month_alone_are_read():
    record = by_line(read_import(DATA / "assets_register.csv"))[3]
    assert record.purchase_date == date(2021, 8, 16)          # 8/16/2021
    assert record.warranty_end == date(2024, 8, 31)           # "August 2024": covered to the month's end


def test_each_bad_row_is_reported_by_line_and_the_rest_is_kept():
    imported = read_import(DATA / "assets_register.csv")
    problems = {p.line: p for p in imported.problems}
    assert problem_lines(imported) == [6, 7, 8, 9, 11, 12]
    # A bad value loses that value only; the row is kept.
    assert "day/month/year" in problems[6].message and problems[6].column == "Purchase Date"
    assert by_line(imported)[6].purchase_date is None and by_line(imported)[6].serial == "NXTEST0004"
    assert problems[7].value == "00:00:5e:00:53:zz" and by_line(imported)[7].macs == ()
    assert "Excel turned this serial number into a number" in problems[11].message
    assert by_line(imported)[11].macs == ("00:00:5e:00:53:09",)       # still matchable by MAC
    assert "Excel date serial" in problems[12].message
    # A shifted row (unquoted comma) and a row with nothing to match on are skipped.
    assert "10 cells where the header has 9" in problems[8].message and 8 not in by_line(imported)
    assert "no usable serial number or MAC address" in problems[9].message and 9 not in by_line(imported)
    # The empty line 5 and the row of empty cells on line 13 are neither records nor problems;
    # the row after them is read.
    assert sorted(by_line(imported)) == [2, 3, 4, 6, 7, 10, 11, 12, 14]
    assert all(p.message.startswith(f"assets_register.csv:{p.line}") for p in imported.problems)


def test_latin1_file_is_read_as_windows_1252_with_a_note():
    imported = read_import(DATA / "assets_register_latin1.csv")
    assert imported.encoding == "cp1252"
    assert [r.school for r in imported.records] == ["Escuela Montaña Verde", "École Élan"]
    assert any("not UTF-8" in note and "Windows-1252" in note for note in imported.notes)


# ---------------------------------------------------------------- Google Admin


def test_google_admin_export_with_title_case_columns():
    imported = read_import(DATA / "assets_google_admin.csv")
    assert imported.source_format == GOOGLE_ADMIN_CHROMEOS
    record = by_line(imported)[3]
    assert record.serial == "NXTEST0003" and record.asset_tag == "HC-000103"
    assert record.macs == ("00:00:5e:00:53:03", "00:00:5e:00:53:04")   # Wi-Fi and Ethernet columns
    assert record.os_version == "119.0.6045.212" and record.model == "Acer Chromebook Spin 511"
    assert record.school == "Washington Middle" and record.org_unit == "/Students/Washington Middle"
    assert record.last_sync == datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
    assert record.aue_date == date(2027, 3, 31)                        # "Mar 2027": updates through March
    assert by_line(imported)[2].aue_date == date(2025, 6, 30)          # "June 2025"
    assert by_line(imported)[4].aue_date == date(2031, 6, 30)          # "2031-06"


def test_google_admin_unreadable_last_sync_loses_only_that_value():
    imported = read_import(DATA / "assets_google_admin.csv")
    assert [(p.line, p.column, p.value) for p in imported.problems] == [(5, "Last Sync", "yesterday")]
    assert by_line(imported)[5].last_sync is None and by_line(imported)[5].aue_date == date(2026, 6, 30)


def test_google_admin_export_with_directory_api_field_names():
    imported = read_import(DATA / "assets_google_api_names.csv")
    assert imported.source_format == GOOGLE_ADMIN_CHROMEOS
    (record,) = imported.records
    assert record.serial == "GOTEST0031" and record.asset_tag == "HC-000131"
    assert record.macs == ("00:00:5e:00:53:31", "00:00:5e:00:53:32")
    assert record.last_sync == datetime(2026, 11, 19, 7, 45, 12, 123000, tzinfo=timezone.utc)
    assert record.aue_date == date(2026, 6, 1)                         # milliseconds since 1970


# ---------------------------------------------------------------- Jamf


def test_jamf_inventory_with_quoted_commas():
    imported = read_import(DATA / "assets_jamf_ipads.csv")
    assert imported.source_format == JAMF_IPAD
    record = by_line(imported)[2]
    # "iPad12,1" is quoted: the columns after it stay in place.
    assert (record.serial, record.macs, record.os_version) == ("DMPTEST0201", ("00:00:5e:00:53:41",), "17.5.1")
    assert record.school == "Lincoln Elementary" and record.asset_tag == "HC-000201"
    assert record.last_sync == datetime(2026, 11, 21, 7, 58, 2, tzinfo=timezone.utc)
    assert (record.purchase_date, record.warranty_end) == (date(2022, 7, 15), date(2025, 7, 14))
    assert by_line(imported)[4].last_sync == datetime(2026, 11, 2, 15, 15, tzinfo=timezone.utc)  # 3:15 PM


def test_a_stray_quote_loses_its_own_row_only():
    imported = read_import(DATA / "assets_jamf_ipads.csv")
    assert problem_lines(imported) == [3]
    assert "quote" in imported.problems[0].message
    assert sorted(by_line(imported)) == [2, 4, 5]


def test_excel_unicode_text_utf16_tab_separated():
    imported = read_import(DATA / "assets_jamf_ipads_utf16.txt")
    assert (imported.source_format, imported.encoding, imported.delimiter) == (JAMF_IPAD, "utf-16", "\t")
    assert [r.school for r in imported.records] == ["Escuela Montaña Verde"] * 2
    assert by_line(imported)[2].macs == ("00:00:5e:00:53:51",)
    assert [(p.line, p.column) for p in imported.problems] == [(3, "Wi-Fi MAC Address")]
    assert by_line(imported)[3].serial == "DMPTEST0302"


def test_utf16_without_a_byte_order_mark(tmp_path):
    text = "Serial Number\tAsset Tag\r\nDLTEST0601\tHC-000601\r\n"
    imported = read_import(write(tmp_path, text, encoding="utf-16-le"))
    assert imported.encoding == "utf-16-le" and imported.records[0].asset_tag == "HC-000601"


# ---------------------------------------------------------------- student privacy


@pytest.mark.parametrize("name", ["assets_register.csv", "assets_google_admin.csv", "assets_google_api_names.csv",
                                  "assets_jamf_ipads.csv", "assets_jamf_ipads_utf16.txt"])
def test_user_columns_are_never_kept_not_even_in_problems(name):
    imported = read_import(DATA / name)
    assert "pupil" not in repr(imported).casefold()
    report = match_assets(imported.records, [], SCHOOLS)
    assert "pupil" not in repr(report).casefold() and "pupil" not in " ".join(report.messages()).casefold()
    assert any("never read (personal data)" in note for note in imported.notes)
    assert not {"user", "username", "notes"} & {f.name for f in fields(AssetRecord)}


# ---------------------------------------------------------------- whole-file failures


def test_unknown_header_names_the_file_and_lists_the_formats():
    with pytest.raises(AssetImportError) as caught:
        read_import(DATA / "assets_unknown_header.csv")
    message = str(caught.value)
    assert "assets_unknown_header.csv: line 1" in message and "'Colour'" in message
    for expected in ("asset register", "Google Admin", "Jamf", "Purchase Date", "Last Sync",
                     "Last Inventory Update", "IMPORTS.md"):
        assert expected in message
    assert isinstance(caught.value, CollectorError)


def test_a_header_without_serial_or_mac_is_unknown(tmp_path):
    with pytest.raises(AssetImportError, match="matches no known import format.*'Hostname'"):
        read_import(write(tmp_path, "Hostname,Room\nlab-01,12\n"))


def test_a_header_from_both_consoles_is_refused(tmp_path):
    with pytest.raises(AssetImportError, match="both the Google Admin.*Jamf"):
        read_import(write(tmp_path, "Serial Number,Last Sync,Last Inventory Update\nX1,2026-01-01,2026-01-01\n"))


def test_a_file_that_is_no_text_names_the_file():
    with pytest.raises(AssetImportError, match=r"assets_not_text\.csv: cannot be decoded.*CSV UTF-8"):
        read_import(DATA / "assets_not_text.csv")


def test_nul_bytes_in_otherwise_valid_utf8_are_refused(tmp_path):
    with pytest.raises(AssetImportError, match=r"import\.csv: cannot be decoded as text .*NUL"):
        read_import(write(tmp_path, b"Serial Number,Asset Tag\nX1\x00\x00,\x00T\n"))


def test_damaged_utf16_names_the_file(tmp_path):
    path = write(tmp_path, "Serial Number,Asset Tag\n".encode("utf-16") + b"\x41")   # one byte short
    with pytest.raises(AssetImportError, match=r"import\.csv: starts like UTF-16 .*not valid UTF-16"):
        read_import(path)


def test_an_excel_workbook_is_named_as_such(tmp_path):
    with pytest.raises(AssetImportError, match=r"book\.csv: this is an Excel workbook"):
        read_import(write(tmp_path, b"PK\x03\x04\x14\x00\x06\x00", name="book.csv"))


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(AssetImportError, match=r"nothing\.csv: cannot read the file"):
        read_import(tmp_path / "nothing.csv")
    with pytest.raises(AssetImportError, match=r"empty\.csv: the file is empty"):
        read_import(write(tmp_path, "\r\n\r\n", name="empty.csv"))


def test_semicolons_an_excel_sep_hint_and_a_title_row(tmp_path):
    text = "sep=;\nDevice inventory, exported 2026-11-20\n\nSerial Number;Asset Tag;School\nDLTEST0701;HC-000701;Jefferson High\n"
    imported = read_import(write(tmp_path, text))
    assert imported.delimiter == ";" and imported.header_line == 4
    assert [(r.line, r.serial, r.school) for r in imported.records] == [(5, "DLTEST0701", "Jefferson High")]
    assert any("skipped 1 line(s) before the header" in note for note in imported.notes)


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("text, purchase, warranty", [
    ("2023-07-01", date(2023, 7, 1), date(2023, 7, 1)),
    ("7/1/2023", date(2023, 7, 1), date(2023, 7, 1)),
    ("7/1/23", date(2023, 7, 1), date(2023, 7, 1)),
    ("2023-07-01T00:00:00Z", date(2023, 7, 1), date(2023, 7, 1)),
    ("July 2023", date(2023, 7, 1), date(2023, 7, 31)),
    ("Feb. 2024", date(2024, 2, 1), date(2024, 2, 29)),
    ("2023-07", date(2023, 7, 1), date(2023, 7, 31)),
    ("07/2023", date(2023, 7, 1), date(2023, 7, 31)),
    ("Jul 1, 2023", date(2023, 7, 1), date(2023, 7, 1)),
    ("1 July 2023", date(2023, 7, 1), date(2023, 7, 1)),
])
def test_date_forms(tmp_path, text, purchase, warranty):
    path = write(tmp_path, f'Serial Number,Purchase Date,Warranty End\nDLTEST0801,"{text}","{text}"\n')
    (record,) = read_import(path).records
    assert (record.purchase_date, record.warranty_end) == (purchase, warranty)


@pytest.mark.parametrize("text, fragment", [
    ("2023-02-30", "not a valid date"),
    ("25/12/2023", "day/month/year"),
    ("Smarch 2023", "not a month name"),
    ("0001-01-01", "outside 1990-2100"),
    ("next week", "not a date Headcount reads"),
])
def test_bad_dates_are_row_problems(tmp_path, text, fragment):
    imported = read_import(write(tmp_path, f"Serial Number,Purchase Date\nDLTEST0802,{text}\n"))
    (problem,) = imported.problems
    assert (problem.line, problem.column, problem.value) == (2, "Purchase Date", text)
    assert fragment in problem.message and imported.records[0].serial == "DLTEST0802"


def test_last_sync_times_are_aware_utc(tmp_path):
    text = ("Serial Number,Last Sync\nA1,2026-11-20T09:00:00+02:00\nA2,11/20/2026 9:00 AM\n"
            "A3,2026-11-20 09:00:00 UTC\nA4,November 2026\n")
    imported = read_import(write(tmp_path, text))
    times = {r.serial: r.last_sync for r in imported.records}
    assert times["A1"] == datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc)
    assert times["A2"] == times["A3"] == datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    assert times["A4"] is None and "names a month" in imported.problems[0].message


def test_placeholder_serials_and_group_macs_are_left_out(tmp_path):
    text = ("Serial Number,MAC Address,Asset Tag\nTo be filled by O.E.M.,00:00:5e:00:53:61,T1\n"
            "DLTEST0902,01:00:5e:00:00:fb 00:00:00:00:00:00 00:00:5e:00:53:62,T2\nn/a,,T3\n")
    imported = read_import(write(tmp_path, text))
    assert [(r.serial, r.macs) for r in imported.records] == [
        ("", ("00:00:5e:00:53:61",)), ("DLTEST0902", ("00:00:5e:00:53:62",))]
    assert problem_lines(imported) == [2, 3, 3, 4]


# ---------------------------------------------------------------- matching

KNOWN = [
    ("lincoln-es", "dev-101", ["00:00:5e:00:53:01"], "5CD2TEST01"),
    ("lincoln-es", "dev-102", "00:00:5e:00:53:02", " 5CD2TEST02 "),        # a MAC text and a padded serial
    ("washington-ms", "dev-103", ["00:00:5e:00:53:05", "00-00-5E-00-53-04"], None),
    ("jefferson-hs", "dev-108", ["00:00:5e:00:53:0b"], "DLTEST0008"),
    ("jefferson-hs", "dev-110a", ["00:00:5e:00:53:0a"], ""),
    ("lincoln-es", "dev-110b", ["00:00:5e:00:53:0a", "not-a-mac"], ""),
    ("lincoln-es", "ipad-201", ["00:00:5e:00:53:41"], "DMPTEST0201"),
    ("washington-ms", "ipad-203", ["00:00:5e:00:53:43"], "DMPTEST0203"),
    ("washington-ms", "ipad-204", ["00:00:5e:00:53:44"], "F9FTEST0204"),
]


def all_records():
    return [record for name in ("assets_register.csv", "assets_google_admin.csv", "assets_jamf_ipads.csv")
            for record in read_import(DATA / name).records]


def matched_pairs(report):
    return {(m.record.file, m.record.line): (m.device_id, m.via) for m in report.matched}


def test_match_by_serial_first_then_by_any_mac():
    report = match_assets(all_records(), KNOWN, SCHOOLS)
    pairs = matched_pairs(report)
    assert pairs[("assets_register.csv", 2)] == ("dev-101", "serial")
    assert pairs[("assets_register.csv", 3)] == ("dev-102", "serial")               # "5cd2test02": case ignored
    assert pairs[("assets_register.csv", 4)] == ("dev-103", "mac 00:00:5e:00:53:04")  # second of three MACs
    assert pairs[("assets_google_admin.csv", 3)] == ("dev-103", "mac 00:00:5e:00:53:04")
    # A register row and a Google row for one device complement each other.
    assert pairs[("assets_google_admin.csv", 2)] == ("dev-101", "serial")


def test_unmatched_rows_carry_their_line_numbers():
    report = match_assets(all_records(), KNOWN, SCHOOLS)
    assert [(r.file, r.line) for r in report.unmatched] == [
        ("assets_google_admin.csv", 4), ("assets_google_admin.csv", 5),
        ("assets_register.csv", 6), ("assets_register.csv", 7), ("assets_register.csv", 11)]
    assert "assets_register.csv:7: unmatched: no known device has serial NXTEST0005" in report.messages()


def test_conflicts_match_nothing():
    report = match_assets(all_records(), KNOWN, SCHOOLS)
    conflicts = {c.kind: c for c in report.conflicts}
    several_devices = conflicts["row_matches_several_devices"]
    assert [r.line for r in several_devices.records] == [12]
    assert several_devices.devices == (("jefferson-hs", "dev-110a"), ("lincoln-es", "dev-110b"))
    several_rows = conflicts["device_matches_several_rows"]
    assert [r.line for r in several_rows.records] == [10, 14]    # by serial, and by MAC
    assert several_rows.devices == (("jefferson-hs", "dev-108"),)
    assert "assets_register.csv:10" in several_rows.message and "assets_register.csv:14" in several_rows.message
    pairs = matched_pairs(report)
    assert not {("assets_register.csv", 10), ("assets_register.csv", 12), ("assets_register.csv", 14)} & set(pairs)


def test_an_unknown_school_names_file_and_line_and_suggests():
    report = match_assets(all_records(), KNOWN, SCHOOLS)
    (unknown,) = report.unknown_schools
    assert (unknown.record.file, unknown.record.line, unknown.school) == ("assets_register.csv", 10, "Roosevelt Academy")
    assert unknown.message.startswith("assets_register.csv:10: school 'Roosevelt Academy' is not in the schools")
    assert "did you mean 'Roosevelt Academy of Arts'" in unknown.message
    # Case and spacing are not differences ("lincoln  elementary" on line 3); no registry checks nothing.
    assert not match_assets(all_records(), KNOWN, []).unknown_schools


def test_unknown_school_in_a_utf16_import():
    records = read_import(DATA / "assets_jamf_ipads_utf16.txt").records
    report = match_assets(records, [], ["Lincoln Elementary"])
    assert [(u.record.line, u.school) for u in report.unknown_schools] == [(2, "Escuela Montaña Verde"),
                                                                           (3, "Escuela Montaña Verde")]
    assert match_assets(records, [], SCHOOLS).unknown_schools == ()


# ---------------------------------------------------------------- findings


def findings_for(last_seen):
    report = match_assets(all_records(), KNOWN, SCHOOLS)
    return {(f.device_id, f.kind): f for f in management_findings(report.matched, last_seen, NOW)}


def test_auto_update_expiration_passed_or_near_means_refurbish_or_replace():
    found = findings_for({})
    passed = found[("dev-101", "aue_passed")]
    assert passed.day == date(2025, 6, 30) and "refurbish or replace" in passed.message
    assert "AUE date 2025-06-30" in passed.evidence and "source assets_google_admin.csv:2" in passed.evidence
    near = found[("dev-103", "aue_near")]
    assert near.day == date(2027, 3, 31) and "in 129 days" in near.message
    assert {kind for (_, kind) in found} == {"aue_passed", "aue_near"}


def test_aue_warning_window_edges():
    def match(aue):
        return AssetMatch(AssetRecord(GOOGLE_ADMIN_CHROMEOS, 2, serial="X", aue_date=aue, file="f.csv"),
                          "s", "d", "serial")
    today = NOW.date()
    assert [f.kind for f in management_findings([match(today + timedelta(days=180))], {}, NOW)] == ["aue_near"]
    assert management_findings([match(today + timedelta(days=181))], {}, NOW) == []
    assert [f.kind for f in management_findings([match(today)], {}, NOW)] == ["aue_near"]
    assert [f.kind for f in management_findings([match(today - timedelta(days=1))], {}, NOW)] == ["aue_passed"]
    assert management_findings([match(today + timedelta(days=30))], {}, NOW, aue_warning_days=10) == []


def test_seen_by_the_console_but_not_the_network_is_off_the_network_not_missing():
    found = findings_for({
        ("lincoln-es", "ipad-201"): NOW - timedelta(days=21),      # Jamf 2026-11-21; network three weeks ago
        ("washington-ms", "ipad-203"): NOW - timedelta(days=50),   # Jamf itself last saw it 20 days ago
        ("washington-ms", "ipad-204"): NOW - timedelta(days=1),    # on the network
    })
    off = found[("ipad-201", "off_network")]
    assert "off the network, not missing" in off.message and "Jamf" in off.message
    assert off.day == date(2026, 11, 21)
    assert "last sync 2026-11-21T07:58:02+00:00" in off.evidence
    assert not {key for key in found if key[1] == "off_network"} - {("ipad-201", "off_network")}


def test_off_the_network_needs_fourteen_days_of_network_silence():
    seen_13_days_ago = {("lincoln-es", "ipad-201"): NOW - timedelta(days=13)}
    assert ("ipad-201", "off_network") not in findings_for(seen_13_days_ago)
    seen_14_days_ago = {("lincoln-es", "ipad-201"): NOW - timedelta(days=14)}
    assert ("ipad-201", "off_network") in findings_for(seen_14_days_ago)


def test_findings_need_an_aware_now():
    with pytest.raises(ValueError, match="naive"):
        management_findings([], {}, NOW.replace(tzinfo=None))


def test_jamf_building_wins_over_a_site_of_none(tmp_path):
    text = "Serial Number,Last Inventory Update,Site,Building\nDMPTEST0901,2026-11-20 10:00:00,None,Jefferson High\n"
    (record,) = read_import(write(tmp_path, text)).records
    assert record.school == "Jefferson High"

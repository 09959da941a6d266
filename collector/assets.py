"""Asset register and device-management imports: reading the CSV files and matching them to devices.

Three kinds of file are read, told apart by their header row:

- the district's own asset register (serial or MAC, asset tag, purchase date,
  warranty end, school);
- the ChromeOS device list that the Google Admin console downloads;
- a Jamf-style iPad inventory (serial, Wi-Fi MAC, model, OS version, last
  inventory update).

`standards/IMPORTS.md` lists every column read, so a district can rename the
columns of its own export to match. Everything here is pure: `read_import`
reads one file and returns what it found (it never stops at a bad row), and
`match_assets` / `management_findings` take plain values and return plain
values. Storing the results is the store's business.

Student privacy: columns that name people (User, Annotated User, Recent
Users, Username, Full Name, Email, device names, Notes...) are never read.
Their values are not parsed, kept, logged or quoted in a message; a broken
row is reported by its line number and field count, never by its content.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import difflib
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from operator import attrgetter
from pathlib import Path

from .errors import CollectorError, InvalidMacError
from .model import is_unicast, normalize_mac
from .records import quick_init

__all__ = [
    "ASSET_REGISTER", "GOOGLE_ADMIN_CHROMEOS", "JAMF_IPAD", "FORMATS",
    "AssetImportError", "AssetRecord", "RowProblem", "ImportFile", "read_import",
    "AssetMatch", "UnknownSchool", "MatchConflict", "MatchReport", "match_assets",
    "Finding", "management_findings",
]

ASSET_REGISTER = "asset_register"
GOOGLE_ADMIN_CHROMEOS = "google_admin_chromeos"
JAMF_IPAD = "jamf_ipad"
FORMATS = (ASSET_REGISTER, GOOGLE_ADMIN_CHROMEOS, JAMF_IPAD)

_TITLES = {
    ASSET_REGISTER: "district asset register",
    GOOGLE_ADMIN_CHROMEOS: "Google Admin console ChromeOS devices export",
    JAMF_IPAD: "Jamf-style iPad inventory",
}
# Who "saw" the device, for messages about management consoles.
_CONSOLES = {ASSET_REGISTER: "the asset register", GOOGLE_ADMIN_CHROMEOS: "Google Admin", JAMF_IPAD: "Jamf"}


class AssetImportError(CollectorError):
    """A whole import file cannot be read (missing, not text, unknown header); the message names the file."""


# ---------------------------------------------------------------- records


@quick_init
@dataclass(frozen=True, slots=True)
class AssetRecord:
    """One usable row of an import. Empty strings and None mean "not given"."""

    source_format: str                 # one of FORMATS
    line: int                          # 1-based line of the file where the row starts
    serial: str = ""
    macs: tuple[str, ...] = ()         # normalised aa:bb:cc:dd:ee:ff, in column order, no duplicates
    asset_tag: str = ""
    model: str = ""
    os_version: str = ""
    purchase_date: date | None = None
    warranty_end: date | None = None
    school: str = ""
    last_sync: datetime | None = None  # aware UTC: when the management console last heard from it
    aue_date: date | None = None       # ChromeOS auto-update expiration: last day with updates
    org_unit: str = ""                 # Google Admin organisational unit path
    file: str = ""                     # the file's name, so reports can say file and line


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row, or one value in a row, that could not be used. `column` is the header as written."""

    line: int
    column: str
    value: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportFile:
    path: Path
    source_format: str
    encoding: str                      # the codec that decoded the file
    delimiter: str
    header_line: int
    columns: tuple[tuple[str, str], ...]   # (field, header as written) for every column read
    records: tuple[AssetRecord, ...]
    problems: tuple[RowProblem, ...]
    notes: tuple[str, ...]             # what a human should know: encoding guesses, columns ignored


# ---------------------------------------------------------------- columns

# Header names are compared after dropping case and everything but letters and
# digits, so "Serial Number", "serial_number", "SERIAL NO." and the Directory
# API's "serialNumber" (what the Admin console download uses) are one name.
# Each field lists its names in order of preference; the first present wins.
_FIELDS: dict[str, tuple[str, ...]] = {
    "serial": ("serialnumber", "serial", "serialno", "sn", "servicetag", "deviceserialnumber"),
    "macs": ("macaddress", "mac", "macaddresses", "macs", "wifimacaddress", "wifimac", "wirelessmacaddress",
             "wirelessmac", "wlanmac", "ethernetmacaddress", "ethernetmac", "ethernetmacaddress0",
             "wiredmacaddress", "wiredmac", "lanmac"),
    "asset_tag": ("assettag", "annotatedassetid", "assetid", "asset", "assetnumber", "assettagnumber", "tag",
                  "propertytag", "inventorytag", "inventorynumber"),
    "model": ("model", "modelname", "devicemodel", "makeandmodel", "makemodel", "product", "modelidentifier"),
    # Google's osVersion is the Chrome version that minimum-OS standards quote;
    # platformVersion (the ChromeOS build) only when nothing better is there.
    "os_version": ("osversion", "iosversion", "ipadosversion", "chromeosversion", "chromeversion",
                   "operatingsystemversion", "softwareversion", "platformversion"),
    "purchase_date": ("purchasedate", "datepurchased", "purchased", "dateofpurchase", "acquisitiondate",
                      "acquireddate", "podate", "invoicedate"),
    "warranty_end": ("warrantyend", "warrantyenddate", "warrantyexpiration", "warrantyexpirationdate",
                     "warrantyexpires", "warrantyexpiry", "warrantyexpirydate", "warrantyuntil"),
    # Building before Site: Jamf Pro's "Site" is its own partition and often "None".
    "school": ("school", "schoolname", "campus", "building", "site", "annotatedlocation", "location"),
    "org_unit": ("orgunitpath", "orgunit", "ou", "organizationalunit"),
    "last_sync": ("lastsync", "lastpolicysync", "lastsynctime", "lastinventoryupdate", "lastinventory",
                  "lastcheckin", "lastcheckintime", "lastcontact"),
    "aue_date": ("autoupdateexpiration", "autoupdateexpirationdate", "autoupdateexpirationaue",
                 "autoupdatethrough", "aue", "auedate", "aueexpiration"),
}

# Columns that name or reach people. Never read: recognised only so that the
# import can say they were skipped on purpose. Notes are free text a teacher
# may have typed a student's name into, so they count too.
_PERSONAL = frozenset({
    "user", "users", "username", "annotateduser", "recentusers", "recentuser", "recentusersemail",
    "mostrecentuser", "lastsynceduser", "lastuser", "lastknownuser", "useremail", "email", "emailaddress",
    "fullname", "realname", "name", "devicename", "mobiledevicename", "displayname", "assignedto",
    "assigneduser", "student", "studentname", "studentid", "studentnumber", "owner", "custodian", "phone",
    "phonenumber", "position", "notes", "note", "comments",
})
# Deliberately absent from the MAC names above: a dock's MAC follows the
# dock, not the laptop, and a Bluetooth MAC never appears on the IP network.

# Columns only a management console's export carries: they decide the format.
_GOOGLE_SIGNS = frozenset({
    "lastsync", "orgunitpath", "annotatedassetid", "annotatedlocation", "annotateduser", "platformversion",
    "chromeosversion", "autoupdateexpiration", "autoupdateexpirationdate", "autoupdateexpirationaue",
    "autoupdatethrough", "deviceid", "bootmode", "ethernetmacaddress0",
})
_JAMF_SIGNS = frozenset({
    "lastinventoryupdate", "lastinventory", "lastcheckin", "udid", "mobiledevicename", "mobiledeviceid",
    "modelidentifier", "iosversion", "ipadosversion", "bluetoothmacaddress",
})
# A register needs one column beyond the identifier that says what the
# district knows about the device; otherwise the file matches nothing.
_REGISTER_FIELDS = ("asset_tag", "purchase_date", "warranty_end", "school", "aue_date")

# What each format's header must look like, for the "unknown header" message.
_EXPECTED = {
    ASSET_REGISTER: "Serial Number and/or MAC Address, plus any of Asset Tag, Purchase Date, Warranty End, School",
    GOOGLE_ADMIN_CHROMEOS: "Serial Number (serialNumber) plus any of Last Sync, Org Unit Path, "
                           "Auto Update Expiration, Annotated Asset ID, Annotated Location",
    JAMF_IPAD: "Serial Number or Wi-Fi MAC Address plus any of Last Inventory Update, iOS Version, "
               "Model Identifier, UDID",
}

_PLACEHOLDERS = frozenset({"", "-", "--", "n/a", "na", "none", "null", "unknown", "not available", "#n/a"})
# Serials firmware ships when the vendor left the field blank: many devices
# share them, so matching by one would join unrelated devices.
_PLACEHOLDER_SERIALS = frozenset({
    "0", "00000000", "123456789", "1234567890", "tobefilledbyoem", "defaultstring", "systemserialnumber",
    "none", "oem", "chassisserialnumber", "notapplicable",
})
_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/\-]{0,63}")
_EXCEL_NUMBER = re.compile(r"\d(?:\.\d+)?E\+\d+", re.IGNORECASE)
_MAC_SPLIT = re.compile(r"[\s,;|/]+")
_MAX_TEXT = 200
_HEADER_SEARCH_LINES = 10


def _header_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.replace("\ufeff", "").casefold())


# ---------------------------------------------------------------- decoding


def _decode(raw: bytes, path: Path) -> tuple[str, str, list[str]]:
    """Bytes -> (text, codec, notes). Raises AssetImportError naming the file when it is not text."""
    if raw.startswith(b"PK\x03\x04"):
        raise AssetImportError(f"{path}: this is an Excel workbook (.xlsx), not a CSV file: "
                               "open it and save it as 'CSV UTF-8', then import that file")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise AssetImportError(f"{path}: this is an old Excel workbook (.xls), not a CSV file: "
                               "save it as 'CSV UTF-8', then import that file")
    notes: list[str] = []
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    elif raw.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    else:
        codec = _utf16_without_bom(raw) or ""
    if codec.startswith("utf-16"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            raise AssetImportError(f"{path}: starts like UTF-16 text (Excel 'Unicode text') but byte "
                                   f"{exc.start} is not valid UTF-16 ({exc.reason}): the file is damaged "
                                   "or in another encoding; save it again as 'CSV UTF-8'") from None
        notes.append(f"{path.name}: read as UTF-16 (Excel 'Unicode text')")
    else:
        try:
            text = raw.decode(codec or "utf-8")
            codec = codec or "utf-8"
        except UnicodeDecodeError as exc:
            # Not UTF-8: Excel on Windows saves "CSV (Comma delimited)" in
            # Windows-1252, a superset of Latin-1 for every printable byte.
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                raise AssetImportError(
                    f"{path}: cannot be decoded: byte {exc.start} is not UTF-8, and the file is not "
                    "Windows-1252/Latin-1 or UTF-16 either; save it as 'CSV UTF-8' and import it again"
                ) from None
            codec = "cp1252"
            notes.append(f"{path.name}: not UTF-8 (first bad byte at offset {exc.start}); read as "
                         "Windows-1252/Latin-1: check accented school names, or save the file as 'CSV UTF-8'")
    if "\x00" in text:
        # NUL never occurs in a text export: a binary file, or UTF-16 cut short.
        raise AssetImportError(f"{path}: cannot be decoded as text ({codec} gives NUL characters at "
                               f"character {text.index(chr(0))}): not a CSV export, or saved in an "
                               "encoding Headcount does not read; save it as 'CSV UTF-8'")
    return text, codec, notes


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 without a byte-order mark: ASCII text then has a NUL in every other byte."""
    sample = raw[:512]
    if len(sample) < 8 or len(sample) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


# ---------------------------------------------------------------- header and format


def _delimiter_of(line: str) -> str:
    # Excel writes commas, tabs for "Unicode text", semicolons where the
    # decimal separator is a comma. The header holds no data, so count there.
    counts = {d: line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _split_header(line: str, delimiter: str) -> list[str]:
    line = line.rstrip("\r\n").replace("\ufeff", "")   # a second BOM from files glued together
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


def _column_map(header: list[str]) -> dict[str, list[int]]:
    """field -> column indexes it reads (several only for MACs)."""
    keys = [_header_key(h) for h in header]
    found: dict[str, list[int]] = {}
    for field, aliases in _FIELDS.items():
        if field == "macs":
            columns = [i for i, k in enumerate(keys) if k in aliases]
        else:
            columns = next(([keys.index(a)] for a in aliases if a in keys), [])
        if columns:
            found[field] = columns
    return found


def _detect(header: list[str], path: Path, line: int) -> str:
    keys = {_header_key(h) for h in header}
    google, jamf = sorted(keys & _GOOGLE_SIGNS), sorted(keys & _JAMF_SIGNS)
    if google and jamf:
        raise AssetImportError(
            f"{path}: line {line}: the header has columns of both the {_TITLES[GOOGLE_ADMIN_CHROMEOS]} "
            f"({', '.join(google)}) and a {_TITLES[JAMF_IPAD]} ({', '.join(jamf)}): import each export "
            "in its own file")
    if google:
        return GOOGLE_ADMIN_CHROMEOS
    if jamf:
        return JAMF_IPAD
    if any(f in _column_map(header) for f in _REGISTER_FIELDS):
        return ASSET_REGISTER
    raise _unknown_header(header, path, line)


def _unknown_header(header: list[str], path: Path, line: int) -> AssetImportError:
    shown = ", ".join(repr(h.strip()[:40]) for h in header[:20] if h.strip()) or "(no column names)"
    if len(header) > 20:
        shown += f", ... ({len(header)} columns)"
    expected = "; ".join(f"{_TITLES[f]} ({f}): {_EXPECTED[f]}" for f in FORMATS)
    return AssetImportError(f"{path}: line {line}: the header matches no known import format. "
                            f"Columns found: {shown}. Expected one of: {expected}. "
                            "standards/IMPORTS.md lists every column name read.")


def _find_header(lines: list[str], path: Path) -> tuple[int, str, list[str], list[str]]:
    """-> (index of the header line, delimiter, header cells, notes). The header is the first line
    naming a serial or MAC column; a title row or an Excel "sep=" hint may come before it."""
    notes: list[str] = []
    forced = ""
    candidates = [i for i, text in enumerate(lines) if text.strip()][:_HEADER_SEARCH_LINES]
    if not candidates:
        raise AssetImportError(f"{path}: the file is empty: expected a header row, then one row per device")
    first = candidates[0]
    hint = re.fullmatch(r"sep=(.)", lines[first].strip("\r\n"), re.IGNORECASE)
    if hint:
        forced = hint.group(1)
        candidates = candidates[1:]
    for index in candidates:
        delimiter = forced or _delimiter_of(lines[index])
        header = _split_header(lines[index], delimiter)
        columns = _column_map(header)
        if "serial" in columns or "macs" in columns:
            skipped = sum(1 for i in candidates if i < index)
            if skipped:
                notes.append(f"{path.name}: skipped {skipped} line(s) before the header on line {index + 1}")
            return index, delimiter, header, notes
    index = candidates[0] if candidates else first
    raise _unknown_header(_split_header(lines[index], forced or _delimiter_of(lines[index])), path, index + 1)


# ---------------------------------------------------------------- reading


class _Lines:
    """Feeds lines to csv.reader from a chosen start, counting what it consumed,
    so that each record's first line is known and parsing can restart after a bad one."""

    def __init__(self, lines: list[str], start: int):
        self.lines = lines
        self.pos = start

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _rows(lines: list[str], start: int, delimiter: str, width: int, file: str,
          problems: list[RowProblem]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every non-empty row after the header.

    A row whose cell count differs from the header's is reported and skipped.
    A stray quote makes csv swallow the following lines into one cell; such a
    record is reported at its first line and reading restarts on the next
    line, so one broken row never hides the rows after it.
    """
    position = start
    while position < len(lines):
        feed = _Lines(lines, position)
        reader = csv.reader(feed, delimiter=delimiter, strict=True)
        while True:
            first = feed.pos
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                problems.append(RowProblem(first + 1, "", "", f"{file}:{first + 1}: unreadable CSV ({exc}); "
                                           "a quote that is not closed? The row was skipped"))
                position = first + 1
                break
            if not any(c.strip() for c in cells):
                continue                       # empty line, or a row of empty cells Excel left behind
            if len(cells) != width:
                spanned = feed.pos - first
                hint = (f"a quote opened here runs over {spanned} lines" if spanned > 1 else
                        "a value with the delimiter in it that is not in quotes?" if len(cells) > width else
                        "cells missing at the end of the row?")
                # Say how many cells, never what they hold: a row may carry a student's name.
                problems.append(RowProblem(first + 1, "", "", f"{file}:{first + 1}: {len(cells)} cells where "
                                           f"the header has {width} ({hint}); the row was skipped"))
                if spanned > 1:
                    position = first + 1
                    break
                continue
            yield first + 1, cells


def read_import(path: Path) -> ImportFile:
    """Read one import file; bad rows become RowProblems, whole-file failures raise AssetImportError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AssetImportError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if not raw.strip():
        raise AssetImportError(f"{path}: the file is empty: expected a header row, then one row per device")
    text, codec, notes = _decode(raw, path)
    # newline="" keeps \r\n inside quoted cells and counts lines as csv does.
    lines = list(io.StringIO(text, newline=""))
    header_index, delimiter, header, header_notes = _find_header(lines, path)
    notes += header_notes
    source_format = _detect(header, path, header_index + 1)
    columns = _column_map(header)
    keys = [_header_key(h) for h in header]
    read = {i for indexes in columns.values() for i in indexes}
    personal = [h.strip() for i, (h, k) in enumerate(zip(header, keys)) if k in _PERSONAL and i not in read]
    if personal:
        notes.append(f"{path.name}: never read (personal data): {', '.join(personal)}")
    unused = [h.strip() for i, (h, k) in enumerate(zip(header, keys))
              if i not in read and k not in _PERSONAL and h.strip()]
    if unused:
        notes.append(f"{path.name}: columns not used: {', '.join(unused)}")

    problems: list[RowProblem] = []
    records: list[AssetRecord] = []
    for line, cells in _rows(lines, header_index + 1, delimiter, len(header), path.name, problems):
        record = _record(source_format, line, cells, header, columns, path.name, problems)
        if record is not None:
            records.append(record)
    return ImportFile(
        path=path, source_format=source_format, encoding=codec, delimiter=delimiter,
        header_line=header_index + 1,
        columns=tuple((field, header[i].strip()) for field, indexes in columns.items() for i in indexes),
        records=tuple(records), problems=tuple(problems), notes=tuple(notes))


def _clean(text: str) -> str:
    # Control characters and line breaks inside a cell are spreadsheet debris.
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    text = " ".join(text.split())
    return "" if text.casefold() in _PLACEHOLDERS else text


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:57] + "..."


def _record(source_format: str, line: int, cells: list[str], header: list[str],
            columns: dict[str, list[int]], file: str, problems: list[RowProblem]) -> AssetRecord | None:
    values: dict[str, object] = {}

    def problem(index: int, value: str, message: str) -> None:
        problems.append(RowProblem(line, header[index].strip(), _shown(value),
                                   f"{file}:{line}, column {header[index].strip()!r}: {message}"))

    for field, indexes in columns.items():
        if field == "macs":
            values["macs"] = _macs(cells, indexes, problem)
            continue
        index = indexes[0]
        value = _clean(cells[index])
        if not value:
            continue
        try:
            if field == "serial":
                values[field] = _serial(value)
            elif field in ("purchase_date", "warranty_end", "aue_date"):
                # A month alone ("June 2029") means the whole month: the first
                # day for a purchase, the last day for a warranty or an AUE.
                values[field] = _parse_date(value, month_end=field != "purchase_date")
            elif field == "last_sync":
                values[field] = _parse_datetime(value)
            elif len(value) > _MAX_TEXT:
                raise ValueError(f"longer than {_MAX_TEXT} characters")
            else:
                values[field] = value
        except ValueError as exc:
            problem(index, value, f"{exc}; the value was left out")
    if not values.get("serial") and not values.get("macs"):
        where = columns.get("serial", columns.get("macs", [0]))[0]
        problems.append(RowProblem(line, header[where].strip(), "",
                                   f"{file}:{line}: no usable serial number or MAC address, so the row "
                                   "cannot be matched to a device; the row was skipped"))
        return None
    return AssetRecord(source_format=source_format, line=line, file=file, **values)  # type: ignore[arg-type]


def _serial(value: str) -> str:
    if _EXCEL_NUMBER.fullmatch(value):
        raise ValueError("Excel turned this serial number into a number; format the column as Text "
                         "before saving")
    if not _SERIAL.fullmatch(value):
        raise ValueError("not a serial number (letters, digits, space . _ / - only, at most 64)")
    if _header_key(value) in _PLACEHOLDER_SERIALS:
        raise ValueError("a placeholder that many devices share, not a serial number")
    return value


def _macs(cells: list[str], indexes: list[int], problem: Callable[[int, str, str], None]) -> tuple[str, ...]:
    macs: list[str] = []
    for index in indexes:
        # One cell may hold several MACs (Wi-Fi and Ethernet, or a history),
        # separated by spaces, commas, semicolons, pipes or slashes.
        for token in _MAC_SPLIT.split(cells[index].strip()):
            if _clean(token) == "":
                continue
            try:
                mac = normalize_mac(token)
            except InvalidMacError:
                problem(index, token, "not a MAC address (expected e.g. aa:bb:cc:dd:ee:ff); it was left out")
                continue
            if not is_unicast(mac):
                problem(index, token, "a multicast or all-zero address, not a device's MAC; it was left out")
                continue
            if mac not in macs:
                macs.append(mac)
    return tuple(macs)


# ---------------------------------------------------------------- dates

_MONTHS = {name.casefold(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.casefold(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9

_TIME = r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp][Mm])?)?"
_ZONE = r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + _ZONE, re.IGNORECASE)
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})" + _TIME.replace("[T ]+", r"[T ,]+") + _ZONE,
                 re.IGNORECASE)
_NAMED_DAY = re.compile(r"([A-Za-z]+)\.? (\d{1,2}),? (\d{4})" + _TIME.replace("[T ]+", r"[ ,]+(?:at )?") + _ZONE,
                        re.IGNORECASE)
_DAY_NAMED = re.compile(r"(\d{1,2})[ -]([A-Za-z]+)\.?[ -](\d{4})" + _TIME + _ZONE, re.IGNORECASE)
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_US_MONTH = re.compile(r"(\d{1,2})/(\d{4})")
_NAMED_MONTH = re.compile(r"([A-Za-z]+)\.?,?[ -](\d{4})")
_EPOCH_MS = re.compile(r"\d{12,13}")         # the Directory API's autoUpdateExpiration, as GAM prints it
_EXCEL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")

_FORMS = "YYYY-MM-DD, M/D/YYYY or 'June 2029'"


@dataclass(frozen=True, slots=True)
class _Moment:
    day: date
    whole_month: bool = False
    clock: time | None = None
    zone: timezone | None = None


def _month(name: str) -> int:
    number = _MONTHS.get(name.casefold())
    if number is None:
        raise ValueError(f"{name!r} is not a month name")
    return number


def _year(text: str) -> int:
    # Two-digit years (Excel's short US date) are this century: no school
    # device was bought before 2000.
    return 2000 + int(text) if len(text) == 2 else int(text)


def _clock(hour: str | None, minute: str | None, second: str | None, fraction: str | None,
           meridiem: str | None) -> time | None:
    if hour is None:
        return None
    h = int(hour)
    if meridiem:
        if not 1 <= h <= 12:
            raise ValueError(f"hour {h} with {meridiem.upper()}")
        h = h % 12 + (12 if meridiem.casefold() == "pm" else 0)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return time(h, int(minute or 0), int(second or 0), micro)


def _zone(text: str | None) -> timezone | None:
    if not text:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _moment(text: str) -> _Moment:
    try:
        return _moment_unchecked(text)
    except ValueError as exc:
        if str(exc).startswith("not a date"):
            raise
        raise ValueError(f"not a valid date ({exc}); expected {_FORMS}") from None


def _moment_unchecked(text: str) -> _Moment:
    value = text.strip()
    if m := _ISO.fullmatch(value):
        y, mo, d, *rest = m.groups()
        return _Moment(date(int(y), int(mo), int(d)), clock=_clock(*rest[:5]), zone=_zone(rest[5]))
    if m := _US.fullmatch(value):
        mo, d, y, *rest = m.groups()
        if int(mo) > 12 and int(d) <= 12:
            raise ValueError(f"not a date Headcount reads: {value!r} looks like day/month/year; write "
                             f"{_FORMS} (dates with slashes are read as US month/day/year)")
        return _Moment(date(_year(y), int(mo), int(d)), clock=_clock(*rest[:5]), zone=_zone(rest[5]))
    if m := _NAMED_DAY.fullmatch(value):
        name, d, y, *rest = m.groups()
        return _Moment(date(int(y), _month(name), int(d)), clock=_clock(*rest[:5]), zone=_zone(rest[5]))
    if m := _DAY_NAMED.fullmatch(value):
        d, name, y, *rest = m.groups()
        return _Moment(date(int(y), _month(name), int(d)), clock=_clock(*rest[:5]), zone=_zone(rest[5]))
    if m := _ISO_MONTH.fullmatch(value):
        return _Moment(date(int(m.group(1)), int(m.group(2)), 1), whole_month=True)
    if m := _US_MONTH.fullmatch(value):
        return _Moment(date(int(m.group(2)), int(m.group(1)), 1), whole_month=True)
    if m := _NAMED_MONTH.fullmatch(value):
        return _Moment(date(int(m.group(2)), _month(m.group(1)), 1), whole_month=True)
    if _EPOCH_MS.fullmatch(value):
        moment = datetime.fromtimestamp(int(value) / 1000, timezone.utc)
        return _Moment(moment.date(), clock=moment.time(), zone=timezone.utc)
    if _EXCEL_SERIAL.fullmatch(value):
        raise ValueError(f"not a date Headcount reads: {value!r} looks like an Excel date serial number; "
                         "format the column as a date before saving")
    raise ValueError(f"not a date Headcount reads: {value!r}; expected {_FORMS}")


def _plausible(day: date, text: str) -> None:
    if not 1990 <= day.year <= 2100:
        raise ValueError(f"not a date Headcount reads: {text!r} is outside 1990-2100, a placeholder?")


def _parse_date(text: str, *, month_end: bool) -> date:
    moment = _moment(text)
    day = moment.day
    # A date with a time keeps the day as written: that is the day a person reads in the export.
    if moment.whole_month and month_end:
        day = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    _plausible(day, text)
    return day


def _parse_datetime(text: str) -> datetime:
    moment = _moment(text)
    if moment.whole_month:
        raise ValueError(f"not a date Headcount reads: {text!r} names a month, not a day and time")
    _plausible(moment.day, text)
    # Consoles that print no zone print UTC (the Directory API) or server
    # time; a few hours either way does not move a 14-day threshold.
    moment_at = datetime.combine(moment.day, moment.clock or time(0), moment.zone or timezone.utc)
    return moment_at.astimezone(timezone.utc)


# ---------------------------------------------------------------- matching


@quick_init
@dataclass(frozen=True, slots=True)
class AssetMatch:
    record: AssetRecord
    site: str
    device_id: str
    via: str                   # "serial" or "mac aa:bb:cc:dd:ee:ff"


@dataclass(frozen=True, slots=True)
class UnknownSchool:
    record: AssetRecord
    school: str
    message: str               # names file and line; suggests close registry names


@dataclass(frozen=True, slots=True)
class MatchConflict:
    kind: str                  # "row_matches_several_devices" or "device_matches_several_rows"
    records: tuple[AssetRecord, ...]
    devices: tuple[tuple[str, str], ...]   # (site, device_id)
    message: str


@dataclass(frozen=True, slots=True)
class MatchReport:
    matched: tuple[AssetMatch, ...]
    unmatched: tuple[AssetRecord, ...]
    unknown_schools: tuple[UnknownSchool, ...]
    conflicts: tuple[MatchConflict, ...]

    def messages(self) -> tuple[str, ...]:
        """One plain-language line per row that needs a human, in file and line order."""
        lines = [(r.file, r.line, f"{_where(r)}: unmatched: no known device has {_identity(r)}")
                 for r in self.unmatched]
        lines += [(u.record.file, u.record.line, u.message) for u in self.unknown_schools]
        lines += [(c.records[0].file, c.records[0].line, c.message) for c in self.conflicts]
        return tuple(text for _, _, text in sorted(lines))


def _where(record: AssetRecord) -> str:
    return f"{record.file or '(import)'}:{record.line}"


def _identity(record: AssetRecord) -> str:
    parts = [f"serial {record.serial}"] if record.serial else []
    if record.macs:
        parts.append("MAC " + ", ".join(record.macs))
    return " or ".join(parts)


def _serial_key(serial: str | None) -> str:
    return "".join((serial or "").split()).casefold()


def _school_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _device_macs(macs: Iterable[str] | str | None) -> list[str]:
    tokens = _MAC_SPLIT.split(macs) if isinstance(macs, str) else list(macs or ())
    found = []
    for token in tokens:
        try:
            found.append(normalize_mac(token))
        except InvalidMacError:
            continue               # a stored row with a damaged MAC must not stop the import
    return found


def match_assets(records: Iterable[AssetRecord],
                 known_devices: Iterable[tuple[str, str, Iterable[str], str | None]],
                 known_schools: Iterable[str]) -> MatchReport:
    """Match import rows to known devices: by serial first (case and spaces ignored), else by any MAC.

    `known_devices` holds (site, device_id, macs, serial) per device. A row that
    matches two devices, or a device that two rows of the same format match,
    is a conflict and matched to nothing: guessing would put one device's
    purchase date on another. Rows of different formats (a register row and a
    Google Admin row) matching one device is the point, not a conflict.
    A row's school is checked against `known_schools` (ids or names, case
    ignored) whether or not the row matched; an empty `known_schools` checks nothing.
    """
    by_serial: dict[str, set[tuple[str, str]]] = defaultdict(set)
    by_mac: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for site, device_id, macs, serial in known_devices:
        key = (site, device_id)
        if _serial_key(serial):
            by_serial[_serial_key(serial)].add(key)
        for mac in _device_macs(macs):
            by_mac[mac].add(key)
    # No registry loaded means nothing to check against, not "every school is unknown".
    schools = {_school_key(s): s for s in known_schools if s and s.strip()}

    unmatched: list[AssetRecord] = []
    unknown: list[UnknownSchool] = []
    conflicts: list[MatchConflict] = []
    provisional: list[AssetMatch] = []
    for record in records:
        if schools and record.school and _school_key(record.school) not in schools:
            unknown.append(_unknown_school(record, schools))
        candidates: set[tuple[str, str]] = set()
        via = ""
        if record.serial:
            candidates = set(by_serial.get(_serial_key(record.serial), ()))
            via = "serial"
        if not candidates:
            for mac in record.macs:
                hits = by_mac.get(mac)
                if hits:
                    via = via if candidates else f"mac {mac}"
                    candidates |= hits
        if not candidates:
            unmatched.append(record)
        elif len(candidates) > 1:
            devices = tuple(sorted(candidates))
            conflicts.append(MatchConflict(
                "row_matches_several_devices", (record,), devices,
                f"{_where(record)}: {_identity(record)} matches {len(devices)} devices "
                f"({', '.join('/'.join(d) for d in devices)}); matched to none of them"))
        else:
            (site, device_id), = candidates
            provisional.append(AssetMatch(record, site, device_id, via))

    rows_per_device: dict[tuple[str, str, str], list[AssetMatch]] = defaultdict(list)
    for match in provisional:
        rows_per_device[(match.site, match.device_id, match.record.source_format)].append(match)
    matched: list[AssetMatch] = []
    for (site, device_id, _), matches in rows_per_device.items():
        if len(matches) == 1:
            matched.append(matches[0])
            continue
        rows = tuple(sorted((m.record for m in matches), key=lambda r: (r.file, r.line)))
        conflicts.append(MatchConflict(
            "device_matches_several_rows", rows, ((site, device_id),),
            f"{_where(rows[0])}: {len(rows)} rows match device {site}/{device_id} (rows at "
            f"{', '.join(_where(r) for r in rows)}); none of them was applied"))
    return MatchReport(
        matched=tuple(sorted(matched, key=lambda m: _order(m.record))),
        unmatched=tuple(sorted(unmatched, key=_order)),
        unknown_schools=tuple(sorted(unknown, key=lambda u: _order(u.record))),
        conflicts=tuple(sorted(conflicts, key=lambda c: _order(c.records[0]))))


def _order(record: AssetRecord) -> tuple[str, int]:
    return record.file, record.line


def _unknown_school(record: AssetRecord, schools: Mapping[str, str]) -> UnknownSchool:
    close = difflib.get_close_matches(_school_key(record.school), list(schools), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(schools[c]) for c in close)}?" if close else ""
    return UnknownSchool(record, record.school,
                         f"{_where(record)}: school {record.school!r} is not in the schools registry{hint} "
                         "(the rest of the row was still used)")


# ---------------------------------------------------------------- findings


_CLOCK_SKEW = timedelta(days=1)
# A console sync this recent while the network has not seen the device for as long: off the network.
OFF_NETWORK_AFTER_DAYS = 14


@quick_init
@dataclass(frozen=True, slots=True)
class Finding:
    kind: str                  # "aue_passed", "aue_near" (refurbish or replace) or "off_network"
    site: str
    device_id: str
    message: str
    evidence: tuple[str, ...]
    day: date                  # the AUE date, or the management console's last sync


_FINDING_ORDER = attrgetter("site", "device_id", "kind")


def management_findings(matched: Iterable[AssetMatch],
                        network_last_seen: Mapping[tuple[str, str], datetime],
                        now: datetime, aue_warning_days: int = 180, *,
                        recent_days: int = OFF_NETWORK_AFTER_DAYS) -> list[Finding]:
    """Refurbish-or-replace findings from AUE dates, and "off the network" findings.

    A ChromeOS device whose AUE date has passed, or falls within
    `aue_warning_days`, gets a finding with that date as evidence. A device
    that its management console heard from within `recent_days`, while the
    network (`network_last_seen`, keyed by (site, device_id)) has not seen it
    for `recent_days` or more, is off the network (at home, on another
    network), not missing; offline flags should treat it so. A device absent
    from `network_last_seen` is not judged. One finding per device and kind.
    """
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: findings need an aware time")
    now = now.astimezone(timezone.utc)
    today = now.date()
    recent = timedelta(days=recent_days)
    by_device: dict[tuple[str, str], list[AssetMatch]] = defaultdict(list)
    for match in matched:
        by_device[(match.site, match.device_id)].append(match)

    findings: list[Finding] = []
    for (site, device_id), matches in by_device.items():
        with_aue = [m for m in matches if m.record.aue_date is not None]
        if with_aue:
            # Several sources may disagree; the earliest AUE is the one that bites first.
            source = with_aue[0] if len(with_aue) == 1 else min(with_aue, key=lambda m: m.record.aue_date)
            aue = source.record.aue_date
            evidence = (f"AUE date {aue.isoformat()}", f"source {_where(source.record)}",
                        *((f"model {source.record.model}",) if source.record.model else ()))
            if aue < today:
                findings.append(Finding("aue_passed", site, device_id,
                                        f"{site}/{device_id}: auto-update expiration passed on "
                                        f"{aue.isoformat()}: refurbish or replace", evidence, aue))
            elif (aue - today).days <= aue_warning_days:
                findings.append(Finding("aue_near", site, device_id,
                                        f"{site}/{device_id}: auto-update expiration on {aue.isoformat()}, in "
                                        f"{(aue - today).days} days: refurbish or replace", evidence, aue))
        synced = [m for m in matches if m.record.last_sync is not None]
        seen = network_last_seen.get((site, device_id))
        if not synced or seen is None:
            continue
        source = max(synced, key=lambda m: m.record.last_sync)
        last_sync = source.record.last_sync
        # A console clock a little ahead still counts as recent; a day ahead is a bad value.
        if -_CLOCK_SKEW <= now - last_sync <= recent and now - seen.astimezone(timezone.utc) >= recent:
            console = _CONSOLES.get(source.record.source_format, "the management console")
            findings.append(Finding(
                "off_network", site, device_id,
                f"{site}/{device_id}: {console} heard from it on {last_sync:%Y-%m-%d}, the network last saw it "
                f"on {seen.astimezone(timezone.utc):%Y-%m-%d}: off the network, not missing",
                (f"last sync {last_sync.isoformat()}", f"network last seen {seen.astimezone(timezone.utc).isoformat()}",
                 f"source {_where(source.record)}"),
                last_sync.date()))
    return sorted(findings, key=_FINDING_ORDER)

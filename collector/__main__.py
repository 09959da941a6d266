"""headcount-collector: the district server. Argument parsing, logging set-up and signals live here only."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import sys
import textwrap
import tempfile
from pathlib import Path

import headcount

from .errors import CollectorError, StandardsError
from .server import check_listen_address, format_address, prune_periodically, start_server
from .model import parse_timestamp, utc_now
from .standards import check_standards, load_standards
from .store import DEFAULT_RETENTION_DAYS, Store

log = logging.getLogger("headcount.collector")

# Agents' streams end by themselves at shutdown (between messages); this only
# bounds a query stream that is still sending when SIGTERM arrives.
STOP_GRACE_S = 5.0

DESCRIPTION = """\
Headcount collector: the one district server that every school's agent
streams its discoveries to. It stores them in a SQLite file and answers the
`headcount` command line (devices, device, sites) and the gRPC Query API.
"""

EXAMPLES = """\
example (what deploy/headcount-collector.service runs):
  headcount-collector serve --db /var/lib/headcount-collector/headcount.db \\
      --listen 0.0.0.0:50051 --retention-days 90

Then, from any machine that can reach it:
  headcount sites --collector collector.district.example:50051
"""


def _retention_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError(f"{days} is negative; use 0 to keep history forever")
    return days


def _wrap(text: str) -> str:
    """Subcommand descriptions wrapped for an 80-column terminal (the raw formatter keeps epilogs' layout)."""
    return textwrap.fill(text, width=78)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headcount-collector", description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"headcount-collector {headcount.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="run the collector until stopped (SIGTERM or Ctrl-C)",
        description=_wrap("Accept agents' streams and engineers' queries until stopped. The database is created "
                          "on first start and its schema upgraded automatically. SIGTERM or Ctrl-C stops cleanly: "
                          "batches in flight are finished and the database is closed."),
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--db", type=Path, default=Path("headcount.db"), metavar="PATH",
                       help="SQLite database file, created if missing; its folder must exist and be writable "
                            "(default: headcount.db in the current folder)")
    serve.add_argument("--listen", default="0.0.0.0:50051", metavar="HOST:PORT",
                       help="address to accept agents and queries on (default 0.0.0.0:50051: every IPv4 "
                            "interface; use [::]:50051 for IPv6 too; port 0 picks a free port)")
    serve.add_argument("--retention-days", type=_retention_days, default=DEFAULT_RETENTION_DAYS, metavar="N",
                       help=f"delete observation history older than N days, at start and hourly; device rows "
                            f"(first/last seen) are kept; 0 keeps history forever (default {DEFAULT_RETENTION_DAYS})")
    serve.add_argument("--ready-file", type=Path, metavar="PATH",
                       help="once serving, write the bound HOST:PORT into this file (for scripts and tests that "
                            "listen on port 0); removed again at a clean stop")
    serve.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                       help="log detail on stderr (default INFO: start, stop, agents connecting and leaving)")
    _add_standards_commands(commands)
    _add_assets_commands(commands)
    _add_evaluate_command(commands)
    _add_flags_command(commands)
    _add_trend_command(commands)
    return parser


ASSETS_EPILOG = """\
examples:
  headcount-collector assets import register.csv --db headcount.db --standards standards/
  headcount-collector assets import chromebooks.csv --db headcount.db     # Google Admin ChromeOS export
  headcount-collector assets import ipads.csv --db headcount.db           # Jamf-style iPad inventory

Prints what matched, and every unmatched row, unknown school, conflict and bad
row with its file:line. Exit 0 when the file was read (bad rows included),
2 when it could not be read at all (missing, not text, unknown header).
The columns read are listed in standards/IMPORTS.md.
"""


def _add_assets_commands(commands: argparse._SubParsersAction) -> None:
    assets = commands.add_parser(
        "assets", help="import asset register and device-management (Google Admin, Jamf) CSV files",
        description=_wrap("Match an asset register, a Google Admin ChromeOS export or a Jamf-style iPad inventory "
                          "to the devices in the collector's database, by serial or MAC, and store purchase "
                          "dates, asset tags, warranty ends, AUE dates, models and OS versions."),
        epilog=ASSETS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = assets.add_subparsers(dest="action", required=True, metavar="ACTION")
    imports = actions.add_parser(
        "import", help="match a CSV file to known devices and store the matches",
        description=_wrap("Read FILE, match each row to a known device (serial first, else any MAC) and store "
                          "every match in one transaction: if storing fails, nothing of the file is stored and "
                          "nothing already stored is lost. A bad row is reported with its line and does not stop "
                          "the rest."),
        epilog=ASSETS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imports.add_argument("file", type=Path, metavar="FILE", help="the CSV (or tab-separated) export to import")
    imports.add_argument("--db", type=Path, required=True, metavar="PATH", help="the collector's SQLite database")
    imports.add_argument("--standards", type=Path, metavar="DIR",
                         help="standards folder or file: rows naming a school not in its registry are reported")


def _add_evaluate_command(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="measure every school and the district against the standards; keep a dated snapshot",
        description=_wrap("Read every device from the database, check each school and the district against the "
                          "standards (approved models, OS and firmware minimums, devices per student, access "
                          "points per classroom), print the uniformity score with its parts and the strengths "
                          "and needs, and store a dated snapshot for the district and each school. Then judge "
                          "every device and agent (offline, missing, agent silent, refurbish reasons, AUE and "
                          "off-the-network findings of imported assets), keep the flags with their lifecycle "
                          "(raised, cleared) in the database and print their summary."),
    )
    evaluate.add_argument("--db", type=Path, required=True, metavar="PATH", help="the collector's SQLite database")
    evaluate.add_argument("--standards", type=Path, required=True, metavar="DIR", help="standards folder or file")
    evaluate.add_argument("--now", type=_moment, metavar="ISO",
                          help="the snapshot's date and time, ISO 8601 with a zone (default: now)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument("--workers", type=_positive_workers, metavar="N",
                          help="processes to share the schools over (default: one per CPU core, at most 8, and at "
                               "most one per 50,000 devices: a worker takes about half a second to start)")


def _moment(text: str):
    try:
        moment = parse_timestamp(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +HH:MM")
    return moment


def _load_standards(path: Path | None):
    if path is None:
        return None
    try:
        return load_standards(path)
    except StandardsError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise CollectorError(f"the standards in {path} have {len(exc.problems)} problem(s); nothing was done") \
            from None


async def assets_import(args: argparse.Namespace) -> int:
    from .assets import AssetImportError
    from .district import import_asset_file
    standards = _load_standards(args.standards)
    if not args.file.is_file():   # before the database is created or touched
        print(f"headcount-collector: {args.file}: cannot read the file: no such file", file=sys.stderr)
        return 2
    store = await Store.open(args.db, retention_days=0)
    try:
        try:
            done = await import_asset_file(store, args.file, standards, utc_now())
        except AssetImportError as exc:
            print(f"headcount-collector: {exc}", file=sys.stderr)
            return 2
    finally:
        await store.close()
    imported, report = done.file, done.report
    print(f"{args.file}: {imported.source_format.replace('_', ' ')} ({imported.encoding}), "
          f"{len(imported.records)} rows read, {len(imported.problems)} bad")
    for note in imported.notes:
        print(f"note: {note}")
    print(f"matched: {len(report.matched)} (stored {done.outcome.stored})")
    for site, device_id in done.outcome.stale:
        print(f"  not stored: device {site}/{device_id} no longer exists (merged meanwhile); import again")
    print(f"unmatched: {len(report.unmatched)}")
    for record in report.unmatched:
        identity = " or ".join(([f"serial {record.serial}"] if record.serial else [])
                               + ([f"MAC {', '.join(record.macs)}"] if record.macs else []))
        print(f"  {record.file}:{record.line}: no known device has {identity}")
    print(f"unknown schools: {len(report.unknown_schools)}")
    for unknown in report.unknown_schools:
        print(f"  {unknown.message}")
    print(f"conflicts: {len(report.conflicts)}")
    for conflict in report.conflicts:
        print(f"  {conflict.message}")
    print(f"bad rows: {len(imported.problems)}")
    for problem in imported.problems:
        where = f"{args.file.name}:{problem.line}"
        print(f"  {problem.message}" if problem.message.startswith(where) else f"  {where}: {problem.message}")
    return 0


def _no_database(path: Path) -> bool:
    """True (and said on stderr) when the database file is missing: reading commands never create one."""
    if path.is_file():
        return False
    print(f"headcount-collector: {path}: no such database", file=sys.stderr)
    return True


def _positive_workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes from 1 to 64, got {text!r}")
    return value


async def evaluate_command(args: argparse.Namespace) -> int:
    from .district import evaluate, flag_run_json, flag_run_text, report_json, report_text
    standards = _load_standards(args.standards)
    if _no_database(args.db):
        return 2
    now = args.now or utc_now()
    # A district's evaluation holds millions of small objects that live until it ends and form no cycles;
    # the cyclic collector would only rescan them again and again. (bench/district_eval.py times it so too.)
    gc.disable()
    try:
        async with await Store.open(args.db, retention_days=0) as store:
            report, flags = await evaluate(store, standards, now, workers=args.workers)
            # Printed before the store closes, which first waits for the WAL checkpoint that evaluate queued
            # (the results are committed already).
            if args.json:
                print(json.dumps(dict(report_json(report), flags=flag_run_json(flags)), indent=2, sort_keys=True))
            else:
                print(report_text(report))
                print(flag_run_text(flags))
            sys.stdout.flush()
    finally:
        gc.enable()
    return 0


FLAGS_EPILOG = """\
examples:
  headcount-collector flags --db headcount.db                          # every open flag
  headcount-collector flags --db headcount.db --site lincoln-elementary --kind offline
  headcount-collector flags --db headcount.db --all --limit 200        # cleared ones too
  headcount-collector flags --db headcount.db --json > flags.json

First the open flags per kind and per site (restricted by --site and --kind),
then one block per flag, newest raise first:
  offline  lincoln-elementary  device 12 (00:00:5e:00:53:01)  raised 2026-11-23 09:00 UTC, open
      not seen in 3 network polls
        - last seen 2026-11-22 14:05 UTC
An agent's own flag (agent_silent) names the agent's site instead of a device.
Exit 0, also when there is no flag; 2 when the database does not exist.
"""


def _add_flags_command(commands: argparse._SubParsersAction) -> None:
    flags = commands.add_parser(
        "flags", help="list the flags that evaluate raised (open ones; --all for cleared ones too)",
        description=_wrap("Print the flags stored by `headcount-collector evaluate` (offline, missing, agent "
                          "silent, refurbish reasons, AUE, off the network): a summary of open flags per kind and "
                          "per site, then each flag with its site, device id and MAC, kind, when it was raised "
                          "and cleared, its reason and every evidence line. Nothing is evaluated or changed: run "
                          "evaluate first for current flags."),
        epilog=FLAGS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    flags.add_argument("--db", type=Path, required=True, metavar="PATH", help="the collector's SQLite database")
    flags.add_argument("--site", metavar="SITE", help="only this school's flags (its site id, e.g. "
                                                      "lincoln-elementary)")
    flags.add_argument("--kind", metavar="KIND", help="only flags of this kind (e.g. offline, missing, "
                                                      "agent_silent, age, firmware, battery, aue)")
    flags.add_argument("--all", action="store_true", dest="include_cleared",
                       help="list cleared flags too (the summary still counts open flags only)")
    flags.add_argument("--limit", type=_positive, default=50, metavar="N",
                       help="show at most N flags, newest raise first (default 50)")
    flags.add_argument("--json", action="store_true", help="print one JSON document instead of text")


TREND_EPILOG = """\
examples:
  headcount-collector trend --db headcount.db                          # the district
  headcount-collector trend --db headcount.db --school lincoln-elementary --limit 24
  headcount-collector trend --db headcount.db --json

Prints the snapshots oldest first, each with its score, the change against
the snapshot before it and the three parts of the score (approved models,
firmware uniformity, ratios against standard, each 0.00-1.00; "-" is not
measured), then the newest snapshot's needs:
  date (UTC)        score  change  approved  firmware    ratios
  2026-11-02 06:00   70.0       -      0.80      0.50      0.75
  2026-11-09 06:00   73.2    +3.2      0.85      0.50      0.78
Exit 0, also when there is no snapshot (e.g. an unknown school id: it says
"No uniformity snapshots for school ..."); 2 when the database does not exist.
"""


def _add_trend_command(commands: argparse._SubParsersAction) -> None:
    trend = commands.add_parser(
        "trend", help="show how the uniformity score changed across the stored evaluate snapshots",
        description=_wrap("Print the uniformity snapshots that `headcount-collector evaluate` keeps (one per run "
                          "for the district and one per school), oldest to newest, with the change of score "
                          "between consecutive snapshots, then what the newest snapshot says is needed. Nothing "
                          "is evaluated or changed."),
        epilog=TREND_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    trend.add_argument("--db", type=Path, required=True, metavar="PATH", help="the collector's SQLite database")
    trend.add_argument("--school", metavar="ID",
                       help="this school's snapshots (its id in the standards registry); default: the district's")
    trend.add_argument("--limit", type=_positive, default=12, metavar="N",
                       help="the newest N snapshots (default 12)")
    trend.add_argument("--json", action="store_true", help="print one JSON document instead of text")


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is too small; give 1 or more")
    return number


async def flags_command(args: argparse.Namespace) -> int:
    from .reports import flags_json, flags_text
    if _no_database(args.db):
        return 2
    async with await Store.open(args.db, retention_days=0) as store:
        found = await store.list_flags(include_cleared=args.include_cleared, site=args.site, kind=args.kind,
                                       limit=args.limit)
        counts = await store.count_open_flags()
    shown = dict(include_cleared=args.include_cleared, site=args.site, kind=args.kind, limit=args.limit)
    if args.json:
        print(json.dumps(flags_json(found, counts, **shown), indent=2, sort_keys=True))
    else:
        print(flags_text(found, counts, **shown))
    return 0


async def trend_command(args: argparse.Namespace) -> int:
    from .reports import trend_json, trend_text
    if _no_database(args.db):
        return 2
    scope = ("district", "") if args.school is None else ("school", args.school)
    async with await Store.open(args.db, retention_days=0) as store:
        found = await store.list_snapshots(scope=scope[0], school_id=scope[1], limit=args.limit)
    if args.json:
        print(json.dumps(trend_json(found, school_id=args.school), indent=2, sort_keys=True))
    else:
        print(trend_text(found, school_id=args.school))
    return 0


STANDARDS_EPILOG = """\
examples:
  headcount-collector standards check standards/       # every *.toml in the folder, read together
  headcount-collector standards check district.toml    # a district written in one file

On success it prints a one-line summary and exits 0:
  OK: 4 schools, 3 grade bands, 6 infrastructure classes, 8 rooms, 8 holidays; ...
Otherwise it prints every problem, one a line, and exits 2:
  standards/schools.toml:14: schools[1].enrollment = -3: expected a whole number of students, 1 or more
"""


def _add_standards_commands(commands: argparse._SubParsersAction) -> None:
    standards = commands.add_parser(
        "standards", help="work with the district standards files (standards/*.toml)",
        description=_wrap("The district's standards (the profile, the schools registry, rooms, the school "
                          "calendar, per grade band student devices, per infrastructure class approved models and "
                          "firmware) are TOML files; standards/ in the source holds a complete, commented example "
                          "district."),
        epilog=STANDARDS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = standards.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="check standards files and report every problem",
        description=_wrap("Read PATH (one standards file, or a folder whose *.toml files are read together) and "
                          "check everything: TOML syntax and UTF-8 encoding, every key and value, and the checks "
                          "across files (each school's grade band exists, school ids are unique, no subnet "
                          "belongs to two schools, rooms name known schools, holidays end after they start, device "
                          "classes exist, firmware versions parse). Every problem names the file, the line and the "
                          "field, and says what was expected. Nothing is changed and no collector is contacted."),
        epilog=STANDARDS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("path", type=Path, metavar="PATH", help="a standards .toml file, or a folder of them")


def standards_check(args: argparse.Namespace) -> int:
    standards, problems = check_standards(args.path)
    if standards is None:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {args.path}")
        return 2
    where = f"{len(standards.sources)} files in {args.path}" if args.path.is_dir() else str(args.path)
    print(f"OK: {standards.summary()} ({where})")
    return 0


def write_ready_file(path: Path, text: str) -> None:
    """Write atomically (temp file + rename) so a reader never sees half an address."""
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise CollectorError(f"cannot write the ready file {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise CollectorError(f"cannot write the ready file {path}: {exc.strerror}") from exc


async def serve(args: argparse.Namespace) -> int:
    host, _ = check_listen_address(args.listen)   # a typo or a busy port fails before the database is touched
    store = await Store.open(args.db, retention_days=args.retention_days)
    try:
        stopping = asyncio.Event()
        server, port = await start_server(store, args.listen, stopping=stopping)
        retention = asyncio.create_task(prune_periodically(store))
        try:
            address = format_address(host, port)
            log.info("listening on %s (db %s)", address, args.db)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stopping.set)
            if args.ready_file:
                write_ready_file(args.ready_file, address)
            await stopping.wait()
            log.info("stopping: finishing batches in flight")
        finally:
            stopping.set()
            retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retention
            await server.stop(STOP_GRACE_S)
            if args.ready_file:
                with contextlib.suppress(OSError):
                    args.ready_file.unlink(missing_ok=True)
    finally:
        await store.close()
    log.info("stopped; database %s closed", args.db)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "standards":   # a check prints its findings; it has no log to configure
        return standards_check(args)
    jobs = {"assets": assets_import, "evaluate": evaluate_command, "flags": flags_command, "trend": trend_command}
    if args.command in jobs:
        logging.basicConfig(level="WARNING", stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
        job = jobs[args.command]
        try:
            return asyncio.run(job(args))
        except CollectorError as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(f"headcount-collector: {message}", file=sys.stderr)
            return 2
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(serve(args))
    except CollectorError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"headcount-collector: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:   # Ctrl-C before the signal handlers were installed
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`headcount demo`: a whole district on one machine, to watch Headcount work end to end.

It builds simulated schools in Linux network namespaces (agent/simlan.py),
starts a real collector on loopback with its SQLite file, starts one real
agent per school, waits for every agent's first scan to be stored, and prints
the district inventory through the real query CLI, then the district
evaluation against the standards (by default the repository's example in
standards/) through the real `headcount-collector evaluate` and `flags`
commands. Everything it started is
stopped by PID and every namespace is removed, on success, error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

WAIT_FOR_FIRST_SCAN_S = 180.0

# The repository's example standards, when the package runs from its source tree (an editable install).
EXAMPLE_STANDARDS = Path(__file__).resolve().parents[1] / "standards"


def _default_standards() -> str:
    return str(EXAMPLE_STANDARDS) if EXAMPLE_STANDARDS.is_dir() else "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schools", type=int, default=2, help="number of schools (default 2)")
    parser.add_argument("--hosts", type=int, default=24, help="hosts per school, each its own namespace (default 24)")
    parser.add_argument("--dir", type=Path, metavar="DIR",
                        help="keep the collector's database and the agents' files here (default: a temporary folder, removed at exit)")
    parser.add_argument("--hold", action="store_true",
                        help="keep the district running after the report, for your own queries, until Ctrl-C")
    parser.add_argument("--tag", type=_tag, metavar="TAG",
                        help="prefix for every namespace, bridge and veth it makes, 2-8 lower-case letters "
                             "or digits (default: random); lets scripts find and check what a run made")
    parser.add_argument("--standards", metavar="DIR", default=_default_standards(),
                        help="evaluate the district against these standards after the inventory; the schools' "
                             "agents report the registry's school ids as their sites (default: the repository's "
                             "example standards/ when present; 'none' skips the evaluation)")


def _tag(text: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9]{1,7}", text):
        raise argparse.ArgumentTypeError(f"{text!r}: 2-8 lower-case letters or digits, starting with a letter")
    return text


def _say(text: str) -> None:
    print(text, flush=True)


def _wait_for_file(path: Path, process: subprocess.Popen, what: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before it was ready")
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready after {timeout_s:.0f}s")


def _stop(process: subprocess.Popen) -> None:
    """Stop a child we started, by its PID: TERM, then KILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _agent_config(site: str, bridge: str, network: str, collector: str, state_dir: Path) -> str:
    return (
        "[agent]\n"
        f"site = {json.dumps(site)}\n"
        f"id = {json.dumps(site + '-agent')}\n"
        f"collector = {json.dumps(collector)}\n"
        f"state_dir = {json.dumps(str(state_dir))}\n"
        "scan_interval = 60\n\n"
        "[arp]\n"
        f"interface = {json.dumps(bridge)}\n"
        f"subnets = [{json.dumps(network)}]\n"
    )


def run(args: argparse.Namespace) -> int:
    from headcount.agent.simlan import can_build

    ok, why = can_build()
    if not ok:
        print(f"headcount demo: {why}.\nRun it as root, e.g.: sudo .venv/bin/headcount demo", file=sys.stderr)
        return 2
    if not 1 <= args.schools <= 50 or not 1 <= args.hosts <= 250:
        print("headcount demo: --schools must be 1..50 and --hosts 1..250", file=sys.stderr)
        return 2
    args.standards_path, args.standards_sites = None, ()
    if args.standards and args.standards.lower() != "none":
        from headcount.collector.errors import StandardsError
        from headcount.collector.standards import load_standards
        try:
            standards = load_standards(Path(args.standards))
        except StandardsError as exc:
            print(f"headcount demo: {exc}", file=sys.stderr)
            return 2
        args.standards_path = Path(args.standards).resolve()
        args.standards_sites = tuple(school.id for school in standards.schools)

    # SIGTERM (a supervisor) and SIGHUP (a closed terminal) clean up exactly like Ctrl-C.
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    try:
        return _run_district(args)
    finally:
        _say("cleaned up: every namespace, bridge and process of this run is gone.")


def _ignore_interrupts() -> None:
    """Once cleanup has begun, a second Ctrl-C must not stop it halfway."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)


def _run_district(args: argparse.Namespace) -> int:
    from headcount.agent.simlan import SimDistrict, SimLanError

    with ExitStack() as stack:
        workdir = args.dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="headcount-demo-")))
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            district = SimDistrict(schools=args.schools, hosts_per_school=args.hosts, tag=args.tag)
            _say(f"building {args.schools} schools x {args.hosts} hosts in network namespaces (tag {district.tag}) ...")
            stack.enter_context(district)
            for school in district.schools:
                _say(f"  {school.name}: bridge {school.bridge}, {school.network}, {len(school.hosts)} hosts")

            ready = workdir / "collector.addr"
            ready.unlink(missing_ok=True)
            db = workdir / "headcount.db"
            collector_log = open(workdir / "collector.log", "ab")
            stack.callback(collector_log.close)
            collector = subprocess.Popen(
                [sys.executable, "-m", "headcount.collector", "serve", "--db", str(db),
                 "--listen", "127.0.0.1:0", "--ready-file", str(ready)],
                stdout=collector_log, stderr=collector_log,
            )
            stack.callback(_stop, collector)
            address = _wait_for_file(ready, collector, "the collector", 30)
            _say(f"collector listening on {address} (pid {collector.pid}), database {db}")

            # With standards, each school's agent reports the registry's school id as its site (in order);
            # schools beyond the registry keep their demo names (evaluate reports them as unassigned).
            sites = getattr(args, "standards_sites", ())
            agents = []
            for index, school in enumerate(district.schools):
                site = sites[index] if index < len(sites) else school.name
                config_path = workdir / f"{school.name}.toml"
                config_path.write_text(_agent_config(
                    site, school.bridge, str(school.network), address, workdir / f"{school.name}-state"))
                status = workdir / f"{school.name}-status.json"
                status.unlink(missing_ok=True)
                log_file = open(workdir / f"{school.name}-agent.log", "ab")
                stack.callback(log_file.close)
                agent = subprocess.Popen(
                    [sys.executable, "-m", "headcount.agent", "run", "--config", str(config_path),
                     "--status-file", str(status)],
                    stdout=log_file, stderr=log_file,
                )
                stack.callback(_stop, agent)
                agents.append((school, agent, status))
                named = f"{school.name} (site {site})" if site != school.name else school.name
                _say(f"agent for {named} started (pid {agent.pid})")

            _say("waiting for every agent's first scan to reach the collector ...")
            started = time.monotonic()
            pending = {school.name for school, _, _ in agents}
            while pending:
                if time.monotonic() - started > WAIT_FOR_FIRST_SCAN_S:
                    raise RuntimeError(f"no delivered scan from {', '.join(sorted(pending))} "
                                       f"after {WAIT_FOR_FIRST_SCAN_S:.0f}s; see the logs in {workdir}")
                for school, agent, status in agents:
                    if agent.poll() is not None:
                        raise RuntimeError(f"the agent for {school.name} exited with code {agent.returncode}; "
                                           f"see {workdir / (school.name + '-agent.log')}")
                    if school.name in pending and status.exists():
                        state = json.loads(status.read_text())
                        if state.get("scans_completed", 0) >= 1 and state.get("pending_batches", 1) == 0 \
                                and state.get("delivered_sequence", 0) > 0:
                            last = state["last_scan"]
                            _say(f"  {school.name}: first scan stored ({last['observations']} observations)")
                            pending.discard(school.name)
                time.sleep(0.2)
            _say(f"all first scans stored after {time.monotonic() - started:.1f}s\n")

            query = [sys.executable, "-m", "headcount.collector.cli"]
            _say("$ headcount sites")
            subprocess.run([*query, "sites", "--collector", address], check=True)
            _say("\n$ headcount devices")
            subprocess.run([*query, "devices", "--collector", address], check=True)
            expected = district.host_count
            stored = json.loads(subprocess.run([*query, "devices", "--collector", address, "--format", "json"],
                                               check=True, capture_output=True, text=True).stdout)
            _say(f"\n{len(stored)} devices stored for {expected} simulated hosts.")
            standards_path = getattr(args, "standards_path", None)
            if standards_path is not None:
                collector_cli = [sys.executable, "-m", "headcount.collector"]
                _say(f"\n$ headcount-collector evaluate --db {db} --standards {standards_path}")
                subprocess.run([*collector_cli, "evaluate", "--db", str(db), "--standards", str(standards_path)],
                               check=True)
                _say(f"\n$ headcount-collector flags --db {db} --limit 5")
                subprocess.run([*collector_cli, "flags", "--db", str(db), "--limit", "5"], check=True)
            if args.hold:
                _say(f"\nThe district keeps running. Try:\n"
                     f"  headcount devices --collector {address} --format csv\n"
                     f"  headcount device {district.schools[0].hosts[0].mac} --collector {address}\n"
                     "Press Ctrl-C to stop and clean up.")
                while True:
                    time.sleep(3600)
            return 0 if len(stored) == expected else 1
        except KeyboardInterrupt:
            _say("\ninterrupted: stopping agents and collector, removing namespaces ...")
            return 130
        except (RuntimeError, SimLanError, subprocess.CalledProcessError, OSError) as exc:
            print(f"headcount demo: {exc}", file=sys.stderr)
            return 1
        finally:
            _ignore_interrupts()
            _say("cleaning up ...")

"""headcount-agent: the school-side agent. Argument parsing, logging set-up and output live here only."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import headcount

from .config import AgentConfig, load_config, with_command_line_subnet
from .errors import AgentError, ConfigError
from .model import ArpSighting, DhcpSighting, HostFacts, MdnsService, as_json
from .runner import agent_identity, enabled_scanners, run_agent, run_scan
from .scanners import ScanContext
from .snmp.model import SnmpDevice

log = logging.getLogger("headcount.agent")

DESCRIPTION = """\
Headcount agent: finds the devices on a school's network and reports them to
the district collector. Install it on one always-on machine per school.

  run    scan on a schedule, listen to ARP and DHCP in between, and stream
         results to the collector (the service)
  scan   scan now and print what was found; needs no collector (install check)
  probe  ask one device what it is (SNMP) and print it; needs no collector

A scan sweeps the configured subnets with ARP, browses mDNS/DNS-SD beside it,
probes SNMP devices, and names each device's class (chromebook, ipad, mac,
windows_pc, linux_pc, phone, printer, display, iot, unknown). Student device
names are pseudonymised (or dropped) by [privacy] before anything is printed
or sent. With agent.mode = "endpoint" (or scan --endpoint) the agent reports
only this machine: disks, boot time and reboots, battery health.
"""

EXAMPLES = """\
examples:
  headcount-agent scan --once --json --subnet 198.51.100.0/24 --interface eth0
  headcount-agent scan --once --config /etc/headcount/agent.toml
  headcount-agent run --config /etc/headcount/agent.toml
  headcount-agent probe snmp 198.51.100.2 --community public --json

ARP sweeps need raw sockets: run as root or with CAP_NET_RAW
(deploy/headcount-agent.service grants exactly that to an unprivileged user).
"""


_UNITS = {"snmp": "devices", "mdns": "services"}


class TerminalProgress:
    """Progress for long scans: a live line on a terminal, sparse log lines otherwise."""

    def __init__(self, stream: TextIO, enabled: bool):
        self.stream = stream
        self.live = enabled and stream.isatty()
        self.enabled = enabled
        self._last_logged: dict[str, int] = {}

    def __call__(self, what: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self.live:
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{what}: {done:,}/{total:,} {_UNITS.get(what, 'addresses')} "
                              f"({100 * done // total}%){end}")
            self.stream.flush()
            return
        quarter = 4 * done // total   # log at 0, 25, 50, 75, 100 % for journald
        if total >= 1024 and self._last_logged.get(what) != quarter:
            self._last_logged[what] = quarter
            log.info("%s: %d/%d %s", what, done, total, _UNITS.get(what, "addresses"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headcount-agent", description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"headcount-agent {headcount.__version__}")
    parser.add_argument("--log-level", default=None, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="log detail on stderr (default: INFO for run, WARNING for scan)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="scan on a schedule and stream results to the collector",
        description="Scan every agent.scan_interval seconds and stream observations to agent.collector. "
                    "Between scans, listen to ARP and DHCP ([passive]) so devices that join appear within "
                    "seconds. Keeps scanning while the collector is down and reconnects with backoff.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  headcount-agent run --config /etc/headcount/agent.toml",
    )
    run.add_argument("--config", required=True, type=Path, metavar="FILE",
                     help="agent TOML file (see deploy/agent.example.toml)")
    run.add_argument("--status-file", type=Path, metavar="FILE",
                     help="JSON status written after every scan and delivery (default: STATE_DIR/status.json)")
    run.add_argument("--once", action="store_true",
                     help="scan once, wait until the collector has acknowledged everything, then exit")

    scan = commands.add_parser(
        "scan", help="scan now and print what was found (no collector needed)",
        description="Run the scanners and print the result. Use this to check an install. "
                    "Give either --config, or --subnet with --interface.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  headcount-agent scan --once --json --subnet 198.51.100.0/24 --interface eth0\n"
               "  headcount-agent scan --once --config /etc/headcount/agent.toml",
    )
    scan.add_argument("--once", action="store_true", help="scan one time and exit (otherwise repeat every scan_interval)")
    scan.add_argument("--json", action="store_true", help="print one JSON document per scan on stdout (stderr carries progress)")
    scan.add_argument("--config", type=Path, metavar="FILE", help="agent TOML file")
    scan.add_argument("--subnet", metavar="CIDR", help="IPv4 subnet to sweep, e.g. 198.51.100.0/24 (replaces configured subnets)")
    scan.add_argument("--interface", metavar="IF", help="interface to sweep --subnet from, e.g. eth0")
    scan.add_argument("--rate", type=float, metavar="PPS",
                      help="ARP requests per second (default: arp.rate, else 1000)")
    scan.add_argument("--no-hostfacts", action="store_true", help="skip facts about this machine")
    scan.add_argument("--listen", type=float, metavar="SECONDS", default=0,
                      help="also listen to ARP and DHCP traffic on the sweep's interfaces for this long "
                           "(from the start of the scan) and report who was heard")
    scan.add_argument("--endpoint", action="store_true",
                      help="endpoint mode: report only this machine's own facts (a lab PC or cart laptop)")
    scan.add_argument("--no-progress", action="store_true", help="no progress line on stderr")

    probe = commands.add_parser(
        "probe", help="ask one device what it is and print it (no collector needed)",
        description="Probe one device and print what it says about itself.",
    )
    protocols = probe.add_subparsers(dest="protocol", required=True, metavar="PROTOCOL")
    snmp = protocols.add_parser(
        "snmp", help="identify a switch, access point, printer or UPS over SNMP",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read a device's system group, ENTITY-MIB, IF-MIB, forwarding table, LLDP/CDP neighbours, "
                    "ARP table, PoE, printer supplies and UPS battery, and identify it (vendor, model, firmware, "
                    "serial, class). Credentials come from the flags, or from --config's [[snmp.credentials]] "
                    "(tried in order). Secrets are never printed; prefer the environment variables over flags, "
                    "which other users can see in the process list.",
        epilog="examples:\n"
               "  headcount-agent probe snmp 198.51.100.2 --community public\n"
               "  headcount-agent probe snmp 198.51.100.2:1161 --community public --json\n"
               "  HEADCOUNT_SNMP_AUTH_KEY=... HEADCOUNT_SNMP_PRIV_KEY=... \\\n"
               "    headcount-agent probe snmp 198.51.100.2 --v3-user monitor --auth-protocol SHA-256 "
               "--priv-protocol AES\n"
               "  headcount-agent probe snmp 198.51.100.2 --config /etc/headcount/agent.toml --json\n\n"
               "environment: HEADCOUNT_SNMP_COMMUNITY, HEADCOUNT_SNMP_AUTH_KEY, HEADCOUNT_SNMP_PRIV_KEY\n"
               "exit status: 0 answered, 1 no answer with any credential, 2 bad arguments or config",
    )
    snmp.add_argument("target", metavar="HOST[:PORT]", help="the device (port 161 unless given)")
    snmp.add_argument("--json", action="store_true", help="print one JSON object (stable key names) on stdout")
    snmp.add_argument("--config", type=Path, metavar="FILE", help="use the [snmp] credentials and limits of this agent file")
    snmp.add_argument("--community", metavar="C", help="v1/v2c community (or HEADCOUNT_SNMP_COMMUNITY)")
    snmp.add_argument("--snmp-version", dest="snmp_version", choices=["1", "2c"], default="2c",
                      help="version for --community (default 2c)")
    snmp.add_argument("--v3-user", metavar="USER", help="SNMPv3 user name")
    snmp.add_argument("--auth-protocol", metavar="P", help="SNMPv3 authentication: SHA, SHA-224, SHA-256, SHA-384, SHA-512, MD5")
    snmp.add_argument("--auth-key", metavar="KEY", help="SNMPv3 authentication passphrase (or HEADCOUNT_SNMP_AUTH_KEY)")
    snmp.add_argument("--priv-protocol", metavar="P", help="SNMPv3 privacy: AES, AES-192, AES-256, DES")
    snmp.add_argument("--priv-key", metavar="KEY", help="SNMPv3 privacy passphrase (or HEADCOUNT_SNMP_PRIV_KEY)")
    snmp.add_argument("--context", default="", metavar="NAME", help="SNMPv3 context name")
    snmp.add_argument("--timeout", type=float, metavar="S", help="seconds per request (default 2)")
    snmp.add_argument("--retries", type=int, metavar="N", help="extra tries per request (default 1)")
    snmp.add_argument("--max-rows", type=int, metavar="N", help="cut any table after N rows (default 100000)")
    snmp.add_argument("--engine", choices=["fast", "pysnmp"], help="v1/v2c engine (default fast)")
    return parser


def probe_credentials_and_settings(args: argparse.Namespace):
    """Credentials from the flags (or environment) if any, else from --config; settings from --config then flags."""
    import os

    from .config import SnmpSettings
    from .snmp.credentials import parse_credential

    settings = load_config(args.config).snmp if args.config else SnmpSettings()
    community = args.community or os.environ.get("HEADCOUNT_SNMP_COMMUNITY", "")
    raw = None
    if args.v3_user:
        if community:
            raise ConfigError("command line: give --community or --v3-user, not both")
        raw = {"name": "command-line-v3", "version": "3", "user": args.v3_user}
        for key, value in (("auth_protocol", args.auth_protocol), ("priv_protocol", args.priv_protocol),
                           ("auth_key", args.auth_key or os.environ.get("HEADCOUNT_SNMP_AUTH_KEY")),
                           ("priv_key", args.priv_key or os.environ.get("HEADCOUNT_SNMP_PRIV_KEY")),
                           ("context", args.context)):
            if value:
                raw[key] = value
    elif community:
        raw = {"name": "command-line", "version": args.snmp_version, "community": community}
    if raw is not None:
        settings = replace(settings, credentials=(parse_credential(raw, "command line", "credential"),))
    if not settings.credentials:
        raise ConfigError("command line: no SNMP credential: give --community, --v3-user, or --config with "
                          "[[snmp.credentials]]")
    overrides = {}
    for flag, field_name in (("timeout", "timeout_s"), ("retries", "retries"), ("max_rows", "max_rows"),
                             ("engine", "engine")):
        if getattr(args, flag) is not None:
            overrides[field_name] = getattr(args, flag)
    return replace(settings, **overrides)


async def probe_command(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from .errors import SnmpError
    from .snmp.client import Options, Target
    from .snmp.probe import ProbeSettings, probe
    from .snmp.report import print_summary, probe_document

    settings = probe_credentials_and_settings(args)
    try:
        target = Target.parse(args.target)
    except ValueError as exc:
        raise ConfigError(f"command line: HOST[:PORT] {exc}") from exc
    probe_settings = ProbeSettings(
        options=Options(timeout_s=settings.timeout_s, retries=settings.retries,
                        max_repetitions=settings.max_repetitions, max_rows=settings.max_rows),
        engine=settings.engine,
    )
    try:
        device = await probe(target, settings.credentials, lambda: datetime.now(timezone.utc), probe_settings)
    except SnmpError as exc:
        if args.json:
            sys.stdout.write(json.dumps({"address": str(target), "error": str(exc)}) + "\n")
        print(f"headcount-agent: {exc}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(json.dumps(probe_document(device), indent=2) + "\n")
    else:
        print_summary(device, sys.stdout)
    return 0


def scan_config(args: argparse.Namespace) -> AgentConfig:
    config = load_config(args.config) if args.config else AgentConfig()
    if args.subnet or args.interface:
        if not (args.subnet and args.interface):
            raise ConfigError("command line: --subnet and --interface go together "
                              f"(got --subnet={args.subnet!r} --interface={args.interface!r})")
        config = with_command_line_subnet(config, args.subnet, args.interface)
    elif not args.config and not args.endpoint:
        raise ConfigError("command line: give --config FILE, --subnet CIDR with --interface IF, or --endpoint")
    if args.rate is not None:
        from .config import _rate

        config = replace(config, arp=replace(config.arp, rate_pps=_rate(args.rate, "command line", "--rate")))
    if args.no_hostfacts:
        config = replace(config, hostfacts_enabled=False)
    if args.endpoint:
        config = replace(config, mode="endpoint")
    if args.listen < 0:
        raise ConfigError(f"command line: --listen = {args.listen}: must be 0 or more seconds")
    if not args.config:
        # No file: the district key can still come from the environment.
        from .config import parse_privacy_section

        config = replace(config, privacy=parse_privacy_section({}, "command line"))
    return config


def print_human(result, stream: TextIO) -> None:
    arp = [o for o in result.observations if isinstance(o, ArpSighting)]
    hosts = [o for o in result.observations if isinstance(o, HostFacts)]
    for facts in hosts:
        stream.write(f"this machine: {facts.hostname} ({facts.os_release}, {facts.cpu_logical} CPUs, "
                     f"{facts.memory_total_bytes / 2**30:.1f} GiB)\n")
    if arp:
        stream.write(f"{'IP':<16} {'MAC':<18} {'RANDOMISED':<10} VENDOR\n")
        for s in arp:
            stream.write(f"{s.ip:<16} {s.mac:<18} {'yes' if s.locally_administered else '':<10} {s.vendor}\n")
    stream.write(f"{len(arp)} hosts answered ARP in {(result.finished_at - result.started_at).total_seconds():.1f}s\n")
    for heard in (o for o in result.observations if isinstance(o, DhcpSighting)):
        stream.write(f"dhcp {heard.message_type:<8} {heard.mac} {heard.ip or heard.requested_ip or '-'} "
                     f"host {heard.hostname or '-'} vendor class {heard.vendor_class or '-'} "
                     f"fingerprint {heard.fingerprint or '-'}\n")
    for service in (o for o in result.observations if isinstance(o, MdnsService)):
        stream.write(f"mdns {service.service_type} {service.instance_name!r} on {service.host}:{service.port} "
                     f"{', '.join(service.addresses)} {service.mac}\n")
    classes = [o for o in result.observations if getattr(o, "classification", None) and getattr(o, "mac", "")]
    if classes:
        kinds: dict[str, str] = {}
        for observation in classes:
            kinds[observation.mac] = observation.classification.device_class
        counted: dict[str, int] = {}
        for device_class in kinds.values():
            counted[device_class] = counted.get(device_class, 0) + 1
        stream.write("classes: " + ", ".join(f"{name} {count}" for name, count in sorted(counted.items())) + "\n")
    for device in (o for o in result.observations if isinstance(o, SnmpDevice)):
        stream.write(f"snmp {device.address}: {device.vendor} {device.model} ({device.device_class}), "
                     f"serial {device.serial or '?'}, firmware {device.firmware or '?'}, {device.port_count} ports\n")
    for name, error in result.errors.items():
        stream.write(f"{name} failed: {error}\n")
    for warning in result.warnings:
        stream.write(f"warning: {warning}\n")


async def scan_command(args: argparse.Namespace, config: AgentConfig) -> int:
    from .pipeline import ObservationPipeline

    scanners = enabled_scanners(config)
    progress = TerminalProgress(sys.stderr, enabled=not args.no_progress)
    pipeline = ObservationPipeline(config)
    while True:
        result = await _scan_and_listen(scanners, config, progress, args.listen)
        result.observations = pipeline.process(result.observations)
        if args.json:
            document = {
                "agent": agent_identity(config, scanners),
                "started_at": result.started_at.isoformat(),
                "finished_at": result.finished_at.isoformat(),
                "observations": [as_json(o) for o in result.observations],
                "errors": result.errors,
                "warnings": result.warnings,
            }
            sys.stdout.write(json.dumps(document, indent=None if not args.once else 2) + "\n")
        else:
            print_human(result, sys.stdout)
        sys.stdout.flush()
        if args.once:
            return 1 if result.errors else 0
        await asyncio.sleep(config.scan_interval_s)


async def _scan_and_listen(scanners, config: AgentConfig, progress, listen_s: float):
    """One scan; with listen_s, passive ARP/DHCP listening runs alongside for listen_s seconds from the start."""
    from .runner import passive_interfaces

    interfaces = passive_interfaces(config) if listen_s > 0 else ()
    if not interfaces:
        if listen_s > 0:
            log.warning("--listen: nothing to listen on (give --subnet and --interface, or [arp] subnets)")
        return await run_scan(scanners, ScanContext(config, progress=progress))
    from .passive import PassiveListener

    listener = PassiveListener(interfaces, config.passive)
    await asyncio.to_thread(listener.start)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        result = await run_scan(scanners, ScanContext(config, progress=progress))
        await asyncio.sleep(max(0.0, started + listen_s - loop.time()))
        result.observations.extend(listener.drain())
        stats = listener.stats()
        if stats.get("malformed") or stats.get("dropped_rate_limited"):
            result.warnings.append(f"passive: ignored {stats.get('malformed', 0)} malformed packets, dropped "
                                   f"{stats.get('dropped_rate_limited', 0)} over the rate cap")
    finally:
        await asyncio.to_thread(listener.stop)
    return result


async def run_command(args: argparse.Namespace, config: AgentConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    status_file = args.status_file or config.state_dir / "status.json"
    progress = TerminalProgress(sys.stderr, enabled=True)
    code = await run_agent(config, progress=progress, status_file=status_file, once=args.once, stop=stop)
    log.info("agent stopped")
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = args.log_level or ("INFO" if args.command == "run" else "WARNING")
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("scapy").setLevel(logging.ERROR)  # scapy warns about routes it will not use
    # zeroconf logs packet contents, names included, below ERROR: a student's
    # name must not reach the journal even at --log-level DEBUG.
    logging.getLogger("zeroconf").setLevel(logging.ERROR)
    try:
        if args.command == "scan":
            return asyncio.run(scan_command(args, scan_config(args)))
        if args.command == "probe":
            return asyncio.run(probe_command(args))
        config = load_config(args.config)
        missing = [key for key, value in (("agent.site", config.site), ("agent.collector", config.collector)) if not value]
        if missing:
            raise ConfigError(f"{args.config}: {' and '.join(missing)} must be set for 'run'")
        return asyncio.run(run_command(args, config))
    except ConfigError as exc:
        print(f"headcount-agent: config error: {exc}", file=sys.stderr)
        return 2
    except AgentError as exc:
        print(f"headcount-agent: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

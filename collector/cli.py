"""headcount: ask the district collector what it knows.

Engineers install this with the base package only (grpcio and protobuf), so
it talks to the collector over gRPC and never opens the database itself.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timezone
from typing import Any, TextIO

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

import headcount
from headcount.macaddr import is_locally_administered
from headcount.v1 import inventory_pb2 as pb
from headcount.v1 import inventory_pb2_grpc as pb_grpc

from .errors import QueryError

DEFAULT_COLLECTOR = "127.0.0.1:50051"
COLLECTOR_ENV = "HEADCOUNT_COLLECTOR"
CALL_TIMEOUT_S = 10.0
# A whole district's device list streams in seconds; the deadline only stops a stalled collector.
LISTING_TIMEOUT_S = 300.0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2

DEVICE_FIELDS = ("site", "mac", "ip", "vendor", "locally_administered", "first_seen", "last_seen", "sources",
                 "hostname", "device_id", "device_class", "macs", "linked_macs")

DESCRIPTION = """\
Headcount: ask the district collector which devices every school has.

  devices   every device, or one school's (table, JSON or CSV)
  device    one MAC address: its device, class, linked MACs and recent history
  sites     one line per school: device counts (stable, randomised, per class), agents
  demo      a simulated two-school district on this machine (needs root)
"""

EXAMPLES = """\
examples:
  headcount sites --collector collector.district.example:50051
  headcount devices --site lincoln-elementary --format csv > lincoln.csv
  headcount device 3c:22:fb:12:34:56

--collector defaults to $HEADCOUNT_COLLECTOR, else 127.0.0.1:50051.
Exit status: 0 success, 1 not found, 2 bad input or collector unreachable.
"""

DEMO_HELP = ("build a simulated two-school district in Linux network namespaces, run a collector and one agent "
             "per school, and print the inventory (needs root)")


# ---------------------------------------------------------------- formatting (pure)


def iso_time(stamp: Timestamp, *, present: bool = True) -> str | None:
    """ISO-8601 UTC with microseconds and Z, e.g. 2026-11-22T08:30:15.250000Z; None when unset."""
    if not present or (stamp.seconds == 0 and stamp.nanos == 0):
        return None
    moment = stamp.ToDatetime(tzinfo=timezone.utc)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def short_time(stamp: Timestamp, *, present: bool = True) -> str:
    """Table form: 2026-11-22 08:30:15Z."""
    text = iso_time(stamp, present=present)
    return f"{text[:10]} {text[11:19]}Z" if text else ""


def device_json(device: pb.Device) -> dict[str, Any]:
    return {
        "site": device.site,
        "mac": device.mac,
        "ip": device.ip,
        "vendor": device.vendor,
        "locally_administered": device.locally_administered,
        "first_seen": iso_time(device.first_seen),
        "last_seen": iso_time(device.last_seen),
        "sources": list(device.sources),
        "hostname": device.hostname,
        "device_id": device.device_id,
        "device_class": device.device_class,
        "macs": 1 + len(device.linked_macs),      # the MACs this one device has used
        "linked_macs": list(device.linked_macs),
    }


def site_json(site: pb.SiteSummary) -> dict[str, Any]:
    return {
        "site": site.site,
        "devices": site.devices,
        "stable_devices": site.stable_devices,
        "randomised_devices": site.randomised_devices,
        "classes": {c.device_class: c.devices for c in site.classes},
        "locally_administered": site.locally_administered,
        "agents": list(site.agents),
        "last_seen": iso_time(site.last_seen, present=site.HasField("last_seen")),
    }


def history_json(record: pb.ObservationRecord) -> dict[str, Any]:
    try:
        data = json.loads(record.data_json) if record.data_json else {}
    except json.JSONDecodeError:
        data = {"unparsed": record.data_json}
    return {"site": record.site, "agent_id": record.agent_id, "kind": record.kind,
            "observed_at": iso_time(record.observed_at), "data": data}


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)]) + "\n"


def devices_table(devices: Sequence[pb.Device]) -> str:
    rows = [(d.site, d.mac, d.ip, d.vendor, d.device_class, str(1 + len(d.linked_macs)),
             "yes" if d.locally_administered else "", short_time(d.first_seen), short_time(d.last_seen))
            for d in devices]
    return table(("SITE", "MAC", "IP", "VENDOR", "CLASS", "MACS", "RANDOMISED", "FIRST SEEN", "LAST SEEN"), rows)


def sites_table(sites: Sequence[pb.SiteSummary]) -> str:
    """Counts per school, then (when any device has a class) devices per class per school."""
    rows = [(s.site, str(s.devices), str(s.stable_devices), str(s.randomised_devices), str(s.locally_administered),
             ", ".join(s.agents), short_time(s.last_seen, present=s.HasField("last_seen"))) for s in sites]
    text = table(("SITE", "DEVICES", "STABLE", "RANDOMISED", "RANDOMISED MACS", "AGENTS", "LAST SEEN"), rows)
    names = sorted({c.device_class for s in sites for c in s.classes}, key=lambda name: (name == "unknown", name))
    if names:
        counts = [(s.site, *(str(next((c.devices for c in s.classes if c.device_class == name), 0)) for name in names))
                  for s in sites]
        text += "\ndevices by class:\n" + table(("SITE", *(name.upper() for name in names)), counts)
    return text


def device_detail_text(response: pb.GetDeviceResponse) -> str:
    parts = []
    for device in response.devices:
        fields = [
            ("MAC", device.mac), ("IP", device.ip), ("VENDOR", device.vendor),
            ("RANDOMISED", "yes (locally administered MAC)" if device.locally_administered else "no"),
            ("HOSTNAME", device.hostname), ("FIRST SEEN", short_time(device.first_seen)),
            ("LAST SEEN", short_time(device.last_seen)), ("SOURCES", ", ".join(device.sources)),
        ]
        if device.device_id:
            count = 1 + len(device.linked_macs)
            fields.append(("DEVICE", f"{device.device_id} ({count} MAC{'s' * (count != 1)})"))
        if device.device_class:
            fields += _block("CLASS", [device.device_class, *(f"  {line}" for line in device.class_evidence)])
        if device.linked_macs:
            fields += _block("LINKED", [f"{mac}{'  (randomised)' if is_locally_administered(mac) else ''}"
                                        for mac in device.linked_macs])
        if device.link_evidence:
            fields += _block("WHY", list(device.link_evidence))
        if device.HasField("switch_port"):
            port = device.switch_port
            fields.append(("SWITCH PORT", f"{port.switch_name or port.switch_mac} {port.port_name or port.if_index}"
                                          f"{f' vlan {port.vlan}' if port.vlan else ''}"
                                          f" ({port.macs_on_port} MAC{'s' * (port.macs_on_port != 1)} on the port,"
                                          f" seen {short_time(port.seen_at)})"))
        if device.HasField("host"):
            fields += host_fields(device.host)
        text = f"{device.site}\n" + "".join(f"  {name:<11} {value}".rstrip() + "\n" for name, value in fields)
        if device.HasField("network"):
            text += network_text(device.network)
        parts.append(text)
    if response.history:
        rows = [(short_time(h.observed_at), h.site, h.agent_id, h.kind, _summary(history_json(h)["data"]))
                for h in response.history]
        parts.append(f"recent history, newest first ({len(response.history)}):\n"
                     + table(("OBSERVED", "SITE", "AGENT", "KIND", "DETAILS"), rows))
    return "\n".join(parts)


def _block(name: str, lines: Sequence[str]) -> list[tuple[str, str]]:
    """A field whose value takes several lines: the name on the first only."""
    return [(name if index == 0 else "", line) for index, line in enumerate(lines)]


def host_fields(host: pb.HostFacts) -> list[tuple[str, str]]:
    """An endpoint's own report: system, boots, disks and battery health."""
    system = ", ".join(part for part in (host.os_release or host.os, f"kernel {host.kernel}" if host.kernel else "",
                                         host.architecture) if part)
    fields = [("HOST", f"{host.hostname}  {system}".strip())]
    if host.cpu_model or host.memory_total_bytes:
        memory = (f"{_bytes(host.memory_available_bytes)} of {_bytes(host.memory_total_bytes)} memory free"
                  if host.memory_total_bytes else "")
        cpu = f"{host.cpu_model} ({host.cpu_logical} threads)" if host.cpu_model else ""
        fields.append(("HARDWARE", "; ".join(part for part in (cpu, memory) if part)))
    if host.HasField("boot_time"):
        fields.append(("BOOTED", short_time(host.boot_time)))
    fields.append(("REBOOTS", f"{host.reboot_count} since the agent was installed, {host.reboots_last_30_days} in "
                              "the last 30 days"))
    fields += _block("DISKS", [
        f"{d.mountpoint}  {_percent(d.used_bytes, d.total_bytes)} used ({_bytes(d.used_bytes)} of "
        f"{_bytes(d.total_bytes)}{', ' + d.fstype if d.fstype else ''})" for d in host.disks])
    battery = host.battery
    if host.HasField("battery") and battery.present:
        health = (f"; holds {_percent(battery.full_capacity, battery.design_capacity)} of its design capacity "
                  f"(full {battery.full_capacity}, design {battery.design_capacity})"
                  if battery.design_capacity else "; design capacity not reported")
        cycles = f", {battery.cycle_count} cycles" if battery.cycle_count else ""
        fields.append(("BATTERY", f"{battery.percent}% charged{health}{cycles}"))
    return fields


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "?"


def network_text(network: pb.NetworkIdentity) -> str:
    """What SNMP said: identity, then one line per port with its state and what it faces."""
    fields = [("MODEL", f"{network.vendor} {network.model}".strip()), ("CLASS", network.device_class),
              ("SERIAL", network.serial), ("FIRMWARE", network.firmware), ("SNMP NAME", network.sys_name),
              ("ADDRESS", network.address), ("LOCATION", network.location),
              ("PROBED", short_time(network.observed_at))]
    text = "".join(f"  {name:<11} {value}\n" for name, value in fields if value)
    up = sum(1 for p in network.ports if p.oper_status == "up")
    text += f"  {'PORTS':<11} {network.port_count} ({len(network.ports)} interfaces, {up} up)\n"
    rows = [(str(p.if_index), p.name, p.oper_status, p.admin_status, _speed(p.speed_bps),
             str(p.learned_macs) if p.learned_macs else "", p.neighbor, p.alias) for p in network.ports]
    if rows:
        text += "".join("    " + line + "\n" for line in
                        table(("IFINDEX", "NAME", "OPER", "ADMIN", "SPEED", "MACS", "NEIGHBOUR", "ALIAS"),
                              rows).splitlines())
    for problem in network.errors:
        text += f"  problem: {problem}\n"
    return text


def _speed(bps: int) -> str:
    if not bps:
        return ""
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if bps >= size:
            return f"{bps / size:g}{unit}"
    return str(bps)


# What identifies an observation at a glance, in this order; the class and its
# evidence are shown once above the history, not on every line.
_SUMMARY_FIRST = ("message_type", "ip", "hostname", "service_type", "instance_name", "host", "port", "vendor_class",
                  "address", "model")
_SUMMARY_SKIPPED = {"mac", "classification", "name_policy", "withheld_names"}


def _summary(data: dict[str, Any], limit: int = 60) -> str:
    keys = [key for key in _SUMMARY_FIRST if key in data]
    keys += sorted(key for key in data if key not in _SUMMARY_FIRST)
    text = " ".join(f"{key}={data[key]}" for key in keys if key not in _SUMMARY_SKIPPED)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def write_json_list(items: Iterable[dict[str, Any]], out: TextIO) -> None:
    """A JSON list written item by item, so a huge listing never sits in memory twice."""
    out.write("[")
    for index, item in enumerate(items):
        out.write(("," if index else "") + "\n  " + json.dumps(item))
    out.write("\n]\n")


def write_csv(items: Iterable[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=DEVICE_FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow({**item, "locally_administered": "true" if item["locally_administered"] else "false",
                         "sources": ";".join(item["sources"]), "linked_macs": ";".join(item["linked_macs"])})


# ---------------------------------------------------------------- talking to the collector


def _query_error(exc: grpc.RpcError, collector: str, timeout_s: float) -> QueryError:
    code, details = exc.code(), exc.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE and not details.startswith("the collector"):
        reason = details.rsplit(": ", 1)[-1].strip() or "unavailable"
        return QueryError(f"cannot reach the collector at {collector} ({reason})", EXIT_USAGE)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return QueryError(f"cannot reach the collector at {collector} (no answer within {timeout_s:.0f}s)", EXIT_USAGE)
    if code == grpc.StatusCode.NOT_FOUND:
        return QueryError(details, EXIT_NOT_FOUND)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return QueryError(details, EXIT_USAGE)
    return QueryError(f"the collector at {collector} answered {code.name}: {details}", 1)


def _call(collector: str, timeout_s: float, method: Callable[[pb_grpc.QueryStub], Any]) -> Any:
    with grpc.insecure_channel(collector) as channel:
        try:
            return method(pb_grpc.QueryStub(channel))
        except grpc.RpcError as exc:
            raise _query_error(exc, collector, timeout_s) from exc


def _devices(collector: str, site: str) -> Iterator[pb.Device]:
    """Devices as the collector streams them, so json and csv output start at once and stay small."""
    with grpc.insecure_channel(collector) as channel:
        try:
            yield from pb_grpc.QueryStub(channel).ListDevices(pb.ListDevicesRequest(site=site),
                                                              timeout=LISTING_TIMEOUT_S)
        except grpc.RpcError as exc:
            raise _query_error(exc, collector, LISTING_TIMEOUT_S) from exc


def devices_command(args: argparse.Namespace, out: TextIO) -> int:
    stream = _devices(args.collector, args.site or "")
    first = next(stream, None)   # an unreachable collector fails here, before any output
    devices = itertools.chain([first], stream) if first is not None else iter(())
    if args.format == "json":
        write_json_list((device_json(d) for d in devices), out)
    elif args.format == "csv":
        write_csv((device_json(d) for d in devices), out)
    else:
        devices = list(devices)   # column widths need every row
        out.write(devices_table(devices))
        sites = len({d.site for d in devices})
        macs = sum(1 + len(d.linked_macs) for d in devices)
        out.write(f"{len(devices)} device{'s' * (len(devices) != 1)} at {sites} site{'s' * (sites != 1)}"
                  f" ({macs} MAC{'s' * (macs != 1)})\n")
    return 0


def device_command(args: argparse.Namespace, out: TextIO) -> int:
    request = pb.GetDeviceRequest(mac=args.mac, site=args.site or "")
    response = _call(args.collector, CALL_TIMEOUT_S, lambda stub: stub.GetDevice(request, timeout=CALL_TIMEOUT_S))
    if args.format == "json":
        from google.protobuf.json_format import MessageToDict

        def detail_json(device: pb.Device) -> dict[str, Any]:
            item = device_json(device)
            item["class_evidence"] = list(device.class_evidence)
            item["link_evidence"] = list(device.link_evidence)
            for name in ("network", "switch_port", "host"):
                if device.HasField(name):
                    item[name] = MessageToDict(getattr(device, name), preserving_proto_field_name=True)
            return item

        document = {"devices": [detail_json(d) for d in response.devices],
                    "history": [history_json(h) for h in response.history]}
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(device_detail_text(response))
    return 0


def sites_command(args: argparse.Namespace, out: TextIO) -> int:
    response = _call(args.collector, CALL_TIMEOUT_S,
                     lambda stub: stub.ListSites(pb.ListSitesRequest(), timeout=CALL_TIMEOUT_S))
    if args.format == "json":
        out.write(json.dumps([site_json(s) for s in response.sites], indent=2) + "\n")
    else:
        out.write(sites_table(response.sites))
    return 0


# ---------------------------------------------------------------- command line


def _wrap(text: str) -> str:
    """Subcommand descriptions wrapped for an 80-column terminal (the raw formatter keeps epilogs' layout)."""
    return textwrap.fill(text, width=78)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="headcount", description=DESCRIPTION, epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"headcount {headcount.__version__}")
    # On every query subcommand, so that `headcount devices --collector X` reads naturally.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--collector", metavar="HOST:PORT",
                        default=os.environ.get(COLLECTOR_ENV) or DEFAULT_COLLECTOR,
                        help=f"the collector to ask (default: ${COLLECTOR_ENV}, else {DEFAULT_COLLECTOR})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    devices = commands.add_parser(
        "devices", parents=[common], help="list devices, every school's or one school's",
        description=_wrap("List the devices the collector holds: one row per device per school, ordered by school "
                          "and IP. A device that used several MACs (a phone or tablet with randomised, private "
                          "addresses linked by its DHCP client id or name) is one row showing its newest MAC; "
                          "MACS counts them. CLASS is what the device is (ipad, chromebook, printer, ...). "
                          "RANDOMISED marks a locally administered (usually randomised, private) MAC. "
                          "Times are UTC."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  headcount devices --collector collector.district.example:50051\n"
               "  headcount devices --site lincoln-elementary --format json | jq '.[].ip'\n"
               "  headcount devices --format csv > district.csv\n\n"
               "json and csv fields: " + ", ".join(DEVICE_FIELDS) + " (times ISO-8601 UTC)",
    )
    devices.add_argument("--site", metavar="SITE", help="only this school (its site name as in `headcount sites`)")
    devices.add_argument("--format", choices=("table", "json", "csv"), default="table",
                         help="table for people (default), json or csv for scripts and spreadsheets")
    devices.set_defaults(handler=devices_command)

    device = commands.add_parser(
        "device", parents=[common], help="show one MAC address: each school's record and recent history",
        description=_wrap("Show what the collector knows about one MAC address: the device it belongs to at every "
                          "school that has seen it (its class and every piece of evidence for it, the device's other "
                          "MACs and why they are linked, an endpoint's own host facts), and the newest observations "
                          "of all its MACs. Exits 1 if no school has seen it."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  headcount device 3c:22:fb:12:34:56\n"
               "  headcount device 3C-22-FB-12-34-56 --site lincoln-elementary --format json",
    )
    device.add_argument("mac", metavar="MAC",
                        help="aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or aabbccddeeff")
    device.add_argument("--site", metavar="SITE", help="only this school's record and history")
    device.add_argument("--format", choices=("table", "json"), default="table",
                        help="table for people (default) or json")
    device.set_defaults(handler=device_command)

    sites = commands.add_parser(
        "sites", parents=[common],
        help="one line per school: devices (stable, randomised), randomised MACs, classes, agents, last contact",
        description=_wrap("Summarise every school the collector has heard from: how many devices (each physical "
                          "device once, however many MACs it used), how many of them have a stable burned-in MAC and "
                          "how many were seen only through randomised (locally administered) MACs, how many MACs "
                          "were randomised, how many devices of each class, which agents report it, and when it was "
                          "last heard from (UTC)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  headcount sites\n"
               "  headcount sites --collector collector.district.example:50051 --format json",
    )
    sites.add_argument("--format", choices=("table", "json"), default="table",
                       help="table for people (default) or json")
    sites.set_defaults(handler=sites_command)

    _add_demo(commands)
    return parser


def _add_demo(commands: argparse._SubParsersAction) -> None:
    demo_parser = commands.add_parser(
        "demo", help=DEMO_HELP, description=_wrap(DEMO_HELP[0].upper() + DEMO_HELP[1:] + "."),
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog="example:\n  sudo .venv/bin/headcount demo --hold",
    )
    try:
        from . import demo
    except ImportError as exc:   # a partial install: keep --help working and say what is missing
        missing = exc.name or str(exc)

        def unavailable(args: argparse.Namespace) -> int:
            print(f"headcount demo needs the agent and collector: pip install 'headcount[agent,collector]' "
                  f"({missing} is missing)", file=sys.stderr)
            return EXIT_USAGE

        demo_parser.set_defaults(handler=unavailable)
        return
    demo.add_arguments(demo_parser)

    def run_demo(args: argparse.Namespace) -> int:
        try:
            return demo.run(args)
        except ModuleNotFoundError as exc:
            print(f"headcount demo needs the agent and collector: pip install 'headcount[agent,collector]' "
                  f"({exc.name} is missing)", file=sys.stderr)
            return EXIT_USAGE

    demo_parser.set_defaults(handler=run_demo)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="headcount: %(levelname)s: %(message)s")
    if args.command == "demo":
        return args.handler(args)
    try:
        return args.handler(args, sys.stdout)
    except QueryError as exc:
        print(f"headcount: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:   # e.g. `headcount devices | head`: the reader left; say nothing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())

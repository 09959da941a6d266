"""Agent configuration: a TOML file, overridden by command-line flags.

Every problem is reported as a ConfigError naming the file, the key and the
offending value, because the person reading it is a school IT technician
looking at /etc/headcount/agent.toml, not at this code.
"""

from __future__ import annotations

import ipaddress
import socket
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .snmp.credentials import Credential, parse_credential

DEFAULT_STATE_DIR = Path("/var/lib/headcount-agent")
DEFAULT_SCAN_INTERVAL_S = 900.0
DEFAULT_HEARTBEAT_INTERVAL_S = 30.0
# A /16 is 65,536 addresses: already a long, loud sweep. Anything larger is
# almost always a typo (a /8 instead of a /24), so it is refused, not started.
DEFAULT_MAX_SUBNET_PREFIX = 16


@dataclass(frozen=True, slots=True)
class SubnetTarget:
    network: ipaddress.IPv4Network
    interface: str


@dataclass(frozen=True, slots=True)
class ArpSettings:
    enabled: bool = True
    subnets: tuple[SubnetTarget, ...] = ()
    timeout_s: float = 2.0   # how long to wait for late replies after the last request
    retries: int = 1         # extra rounds for addresses that stayed silent
    # Frames per second. 1,000 64-byte frames/s is about 0.5 Mbit/s: polite on any
    # school LAN, and a /20 is asked in about 4 s.
    rate_pps: float = 1000.0


_ARP_DEFAULTS = ArpSettings()


@dataclass(frozen=True, slots=True)
class SnmpSettings:
    enabled: bool = True
    credentials: tuple[Credential, ...] = ()
    targets: tuple[str, ...] = ()           # HOST or HOST:PORT, probed every scan
    subnets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()   # probe ARP-found hosts in these
    timeout_s: float = 2.0
    retries: int = 1
    max_repetitions: int = 25
    max_rows: int = 100_000                 # per table: a runaway agent is cut off here
    concurrency: int = 32                   # devices probed at once
    engine: str = "fast"                    # fast = own v1/v2c codec; pysnmp = pysnmp for every version


_SNMP_DEFAULTS = SnmpSettings()


@dataclass(frozen=True, slots=True)
class PassiveSettings:
    """Listening to ARP and DHCP between sweeps (site mode only)."""

    enabled: bool = True
    interfaces: tuple[str, ...] = ()        # () = the interfaces of [arp] subnets
    flush_interval_s: float = 2.0           # new or changed devices are sent this often
    # Caps, so that a flood (or a hostile host) costs bounded CPU and memory:
    max_packets_per_second: int = 2000      # packets parsed per second; the rest are dropped and counted
    max_tracked_devices: int = 65536        # MACs remembered between flushes; the oldest are forgotten first


_PASSIVE_DEFAULTS = PassiveSettings()

# DNS-SD service types that school devices advertise: Apple devices (AirPlay,
# RAOP, companion link, device info), cast displays, printers, file sharing,
# Linux workstations and SSH.
DEFAULT_MDNS_SERVICE_TYPES = (
    "_airplay._tcp.local.", "_googlecast._tcp.local.", "_ipp._tcp.local.", "_ipps._tcp.local.",
    "_printer._tcp.local.", "_pdl-datastream._tcp.local.", "_raop._tcp.local.", "_companion-link._tcp.local.",
    "_device-info._tcp.local.", "_smb._tcp.local.", "_workstation._tcp.local.", "_ssh._tcp.local.",
)


@dataclass(frozen=True, slots=True)
class MdnsSettings:
    enabled: bool = True
    service_types: tuple[str, ...] = DEFAULT_MDNS_SERVICE_TYPES
    browse_time_s: float = 5.0              # how long each scan listens for answers
    interfaces: tuple[str, ...] = ()        # () = the interfaces of [arp] subnets
    max_services: int = 4096                # per scan; more are dropped and counted


_MDNS_DEFAULTS = MdnsSettings()

# Classes whose names often carry a student's name ("Jane-Smiths-iPad").
# "unknown" is among them: a name we cannot place is treated as a student's.
STUDENT_DEVICE_CLASSES = ("chromebook", "ipad", "mac", "windows_pc", "linux_pc", "phone", "unknown")
SECRET_ENVIRONMENT_VARIABLE = "HEADCOUNT_DISTRICT_SECRET"


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    """What happens to personal names (hostnames, DHCP client names, mDNS instance names) before they leave."""

    student_names: str = "pseudonymise"     # keep, pseudonymise or drop; for STUDENT_DEVICE_CLASSES
    other_names: str = "keep"               # printers, displays, IoT: names like "Room 12 Epson"
    student_classes: tuple[str, ...] = STUDENT_DEVICE_CLASSES
    # The district's HMAC key: the same in every school, so one name gives one
    # pseudonym everywhere. Without one, "pseudonymise" withholds names (drop).
    secret: bytes = field(default=b"", repr=False)
    secret_source: str = ""                 # where the secret came from, for messages (never the secret)


_PRIVACY_DEFAULTS = PrivacySettings()
AGENT_MODES = ("site", "endpoint")


@dataclass(frozen=True, slots=True)
class AgentConfig:
    site: str = ""
    agent_id: str = ""   # "" = automatic: HOSTNAME-xxxxxxxx, made once and kept in state_dir
    collector: str = ""
    state_dir: Path = DEFAULT_STATE_DIR
    scan_interval_s: float = DEFAULT_SCAN_INTERVAL_S
    heartbeat_interval_s: float = DEFAULT_HEARTBEAT_INTERVAL_S
    max_subnet_prefix: int = DEFAULT_MAX_SUBNET_PREFIX
    arp: ArpSettings = ArpSettings()
    hostfacts_enabled: bool = True
    snmp: SnmpSettings = SnmpSettings()
    # site: sweep and listen on the school's LAN. endpoint: installed on a shared
    # device (lab PC, cart laptop); reports only its own host facts, no sweeps.
    mode: str = "site"
    passive: PassiveSettings = PassiveSettings()
    mdns: MdnsSettings = MdnsSettings()
    privacy: PrivacySettings = PrivacySettings()
    source: str = "command line"   # where the settings came from, for messages

    def listening_interfaces(self, configured: tuple[str, ...]) -> tuple[str, ...]:
        """The configured interfaces, else those of the [arp] subnets, each once, in order."""
        if configured:
            return configured
        return tuple(dict.fromkeys(target.interface for target in self.arp.subnets))


# key -> (type, description). The type drives validation; the description is
# what --help-config style messages and errors show.
_AGENT_KEYS = {
    "site": (str, "the school this agent inventories, e.g. \"lincoln-elementary\""),
    "id": (str, "this agent's stable, unique name (default: HOSTNAME-xxxxxxxx, kept in state_dir)"),
    "collector": (str, "the district collector as HOST:PORT"),
    "state_dir": (str, "where the agent keeps its sequence counter"),
    "scan_interval": ((int, float), "seconds between scans"),
    "heartbeat_interval": ((int, float), "seconds between heartbeats when idle"),
    "max_subnet_prefix": (int, "refuse subnets larger than this prefix (default 16)"),
    "mode": (str, "\"site\" (sweep the school LAN, the default) or \"endpoint\" (report only this host)"),
}
_ARP_KEYS = {
    "enabled": (bool, "run the ARP sweep"),
    "interface": (str, "interface for subnets that do not name one"),
    "subnets": (list, "CIDRs to sweep: \"198.51.100.0/24\" or {cidr=..., interface=...}"),
    "timeout": ((int, float), "seconds to wait for late replies"),
    "retries": (int, "extra rounds for silent addresses"),
    "rate": ((int, float), "ARP requests per second (default 1000)"),
}
_SUBNET_KEYS = {"cidr": (str, "the subnet"), "interface": (str, "interface to sweep it from")}
_HOSTFACTS_KEYS = {"enabled": (bool, "report facts about this machine")}
_SNMP_KEYS = {
    "enabled": (bool, "probe devices over SNMP"),
    "targets": (list, "devices to probe every scan: \"HOST\" or \"HOST:PORT\""),
    "subnets": (list, "CIDRs whose ARP-found hosts are probed too"),
    "timeout": ((int, float), "seconds to wait for each SNMP reply"),
    "retries": (int, "extra tries per request"),
    "max_repetitions": (int, "GETBULK max-repetitions (1..200)"),
    "max_rows": (int, "most rows read from one table before it is cut off"),
    "concurrency": (int, "devices probed at once"),
    "engine": (str, "\"fast\" (default) or \"pysnmp\""),
    "credentials": (list, "[[snmp.credentials]] tables, tried in order"),
}
_PASSIVE_KEYS = {
    "enabled": (bool, "listen to ARP and DHCP between sweeps"),
    "interfaces": (list, "interfaces to listen on (default: those of [arp] subnets)"),
    "flush_interval": ((int, float), "seconds between deliveries of newly heard devices"),
    "max_packets_per_second": (int, "packets parsed per second; a flood beyond it is dropped and counted"),
    "max_tracked_devices": (int, "MACs remembered between deliveries"),
}
_MDNS_KEYS = {
    "enabled": (bool, "browse mDNS/DNS-SD services"),
    "service_types": (list, "service types to browse, e.g. \"_ipp._tcp.local.\""),
    "browse_time": ((int, float), "seconds each scan listens for mDNS answers"),
    "interfaces": (list, "interfaces to browse on (default: those of [arp] subnets)"),
    "max_services": (int, "services kept per scan"),
}
_PRIVACY_KEYS = {
    "student_names": (str, "\"keep\", \"pseudonymise\" (default) or \"drop\" for student devices' names"),
    "other_names": (str, "\"keep\" (default), \"pseudonymise\" or \"drop\" for printers, displays, IoT"),
    "student_classes": (list, "device classes treated as student devices"),
    "secret_file": (str, "file holding the district's pseudonym key (or set HEADCOUNT_DISTRICT_SECRET)"),
}
_TOP_LEVEL = {"agent": _AGENT_KEYS, "arp": _ARP_KEYS, "hostfacts": _HOSTFACTS_KEYS, "snmp": _SNMP_KEYS,
              "passive": _PASSIVE_KEYS, "mdns": _MDNS_KEYS, "privacy": _PRIVACY_KEYS}


def load_config(path: Path) -> AgentConfig:
    """Read and validate an agent TOML file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], source: str) -> AgentConfig:
    """Validate an already-parsed TOML document (pure apart from interface checks)."""
    for section, value in raw.items():
        if section not in _TOP_LEVEL:
            # A table's contents are not echoed: a misspelled [snmp] would print its secrets.
            shown = "{...}" if isinstance(value, dict) else (
                repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...")
            raise ConfigError(
                f"{source}: unknown section or key {section} = {shown} "
                f"(known sections: {', '.join('[' + s + ']' for s in _TOP_LEVEL)})"
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {section} = {value!r}: expected a [{section}] table")
    agent = _checked(raw.get("agent", {}), _AGENT_KEYS, source, "agent")
    arp = _checked(raw.get("arp", {}), _ARP_KEYS, source, "arp")
    hostfacts = _checked(raw.get("hostfacts", {}), _HOSTFACTS_KEYS, source, "hostfacts")

    config = AgentConfig(source=source)
    if "site" in agent:
        config = replace(config, site=_non_empty(agent["site"], source, "agent.site"))
    if "id" in agent:
        config = replace(config, agent_id=_non_empty(agent["id"], source, "agent.id"))
    if "collector" in agent:
        config = replace(config, collector=check_collector_address(agent["collector"], source, "agent.collector"))
    if "state_dir" in agent:
        config = replace(config, state_dir=Path(agent["state_dir"]))
    for key, attr in (("scan_interval", "scan_interval_s"), ("heartbeat_interval", "heartbeat_interval_s")):
        if key in agent:
            config = replace(config, **{attr: _positive(agent[key], source, f"agent.{key}")})
    if "max_subnet_prefix" in agent:
        prefix = agent["max_subnet_prefix"]
        if not 0 <= prefix <= 32:
            raise ConfigError(f"{source}: agent.max_subnet_prefix = {prefix!r}: must be 0..32")
        config = replace(config, max_subnet_prefix=prefix)

    default_interface = arp.get("interface", "")
    if default_interface:
        check_interface(default_interface, source, "arp.interface")
    subnets = []
    for index, entry in enumerate(arp.get("subnets", [])):
        key = f"arp.subnets[{index}]"
        if isinstance(entry, str):
            cidr, interface = entry, default_interface
        elif isinstance(entry, dict):
            entry = _checked(entry, _SUBNET_KEYS, source, key)
            if "cidr" not in entry:
                raise ConfigError(f"{source}: {key} = {entry!r}: missing \"cidr\"")
            cidr = entry["cidr"]
            interface = entry.get("interface", default_interface)
            if "interface" in entry:
                check_interface(interface, source, f"{key}.interface")
        else:
            raise ConfigError(f"{source}: {key} = {entry!r}: expected a CIDR string or a table")
        network = parse_subnet(cidr, source, f"{key}", config.max_subnet_prefix)
        if not interface:
            raise ConfigError(
                f"{source}: {key} = {cidr!r}: no interface to sweep it from; "
                f"set arp.interface or give {{cidr = {cidr!r}, interface = \"eth0\"}}"
            )
        subnets.append(SubnetTarget(network, interface))
    arp_settings = ArpSettings(
        enabled=arp.get("enabled", True),
        subnets=tuple(subnets),
        timeout_s=_positive(arp.get("timeout", _ARP_DEFAULTS.timeout_s), source, "arp.timeout"),
        retries=_non_negative(arp.get("retries", _ARP_DEFAULTS.retries), source, "arp.retries"),
        rate_pps=_rate(arp.get("rate", _ARP_DEFAULTS.rate_pps), source, "arp.rate"),
    )
    snmp = parse_snmp_section(raw.get("snmp", {}), source)
    mode = agent.get("mode", "site")
    if mode not in AGENT_MODES:
        raise ConfigError(f"{source}: agent.mode = {mode!r}: expected \"site\" or \"endpoint\"")
    return replace(config, arp=arp_settings, hostfacts_enabled=hostfacts.get("enabled", True), snmp=snmp,
                   mode=mode, passive=parse_passive_section(raw.get("passive", {}), source),
                   mdns=parse_mdns_section(raw.get("mdns", {}), source),
                   privacy=parse_privacy_section(raw.get("privacy", {}), source))


def _interface_list(values: list[Any], source: str, key: str) -> tuple[str, ...]:
    return tuple(check_interface(value, source, f"{key}[{index}]") for index, value in enumerate(values))


def _whole(value: Any, source: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{source}: {key} = {value!r}: must be a whole number {low}..{high}")
    return value


def parse_passive_section(raw: Any, source: str) -> PassiveSettings:
    section = _checked(raw, _PASSIVE_KEYS, source, "passive")
    return PassiveSettings(
        enabled=section.get("enabled", True),
        interfaces=_interface_list(section.get("interfaces", []), source, "passive.interfaces"),
        flush_interval_s=_positive(section.get("flush_interval", _PASSIVE_DEFAULTS.flush_interval_s), source,
                                   "passive.flush_interval"),
        max_packets_per_second=_whole(section.get("max_packets_per_second", _PASSIVE_DEFAULTS.max_packets_per_second),
                                      source, "passive.max_packets_per_second", 1, 1_000_000),
        max_tracked_devices=_whole(section.get("max_tracked_devices", _PASSIVE_DEFAULTS.max_tracked_devices),
                                   source, "passive.max_tracked_devices", 1, 10_000_000),
    )


def parse_mdns_section(raw: Any, source: str) -> MdnsSettings:
    section = _checked(raw, _MDNS_KEYS, source, "mdns")
    types = []
    for index, value in enumerate(section.get("service_types", list(_MDNS_DEFAULTS.service_types))):
        key = f"mdns.service_types[{index}]"
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {key} = {value!r}: expected a service type such as \"_ipp._tcp.local.\"")
        name = value.strip()
        if not name.endswith("."):
            name += "."
        if not name.endswith(".local."):
            name = name[:-1] + ".local."
        labels = name.split(".")
        if len(labels) < 4 or not labels[0].startswith("_") or labels[1] not in ("_tcp", "_udp") or len(name) > 255:
            raise ConfigError(f"{source}: {key} = {value!r}: expected \"_service._tcp.local.\" or "
                              f"\"_service._udp.local.\"")
        types.append(name)
    return MdnsSettings(
        enabled=section.get("enabled", True),
        service_types=tuple(dict.fromkeys(types)),
        browse_time_s=_positive(section.get("browse_time", _MDNS_DEFAULTS.browse_time_s), source,
                                "mdns.browse_time"),
        interfaces=_interface_list(section.get("interfaces", []), source, "mdns.interfaces"),
        max_services=_whole(section.get("max_services", _MDNS_DEFAULTS.max_services), source,
                            "mdns.max_services", 1, 1_000_000),
    )


def parse_privacy_section(raw: Any, source: str, environ: dict[str, str] | None = None) -> PrivacySettings:
    import os

    from .model import DEVICE_CLASSES, NAME_POLICIES

    environ = os.environ if environ is None else environ
    section = _checked(raw, _PRIVACY_KEYS, source, "privacy")
    policies = {}
    for key, default in (("student_names", _PRIVACY_DEFAULTS.student_names),
                         ("other_names", _PRIVACY_DEFAULTS.other_names)):
        value = section.get(key, default)
        if value not in NAME_POLICIES:
            raise ConfigError(f"{source}: privacy.{key} = {value!r}: expected \"keep\", \"pseudonymise\" or "
                              f"\"drop\"")
        policies[key] = value
    classes = section.get("student_classes", list(STUDENT_DEVICE_CLASSES))
    for index, value in enumerate(classes):
        if value not in DEVICE_CLASSES:
            raise ConfigError(f"{source}: privacy.student_classes[{index}] = {value!r}: expected one of "
                              f"{', '.join(DEVICE_CLASSES)}")
    secret, secret_source = b"", ""
    if "secret_file" in section:
        path = Path(section["secret_file"])
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"{source}: privacy.secret_file = {str(path)!r}: cannot read it ({exc.strerror})") from exc
        if len(secret) < 16:
            raise ConfigError(f"{source}: privacy.secret_file = {str(path)!r}: the key is {len(secret)} bytes; "
                              f"use at least 16 random bytes (e.g. openssl rand -hex 32 > {path})")
        secret_source = str(path)
    elif environ.get(SECRET_ENVIRONMENT_VARIABLE):
        secret = environ[SECRET_ENVIRONMENT_VARIABLE].encode()
        if len(secret) < 16:
            raise ConfigError(f"{SECRET_ENVIRONMENT_VARIABLE}: the key is {len(secret)} bytes; use at least 16")
        secret_source = SECRET_ENVIRONMENT_VARIABLE
    return PrivacySettings(student_names=policies["student_names"], other_names=policies["other_names"],
                           student_classes=tuple(classes), secret=secret, secret_source=secret_source)


def parse_snmp_section(raw: Any, source: str) -> SnmpSettings:
    if isinstance(raw, dict) and "credentials" in raw and not isinstance(raw["credentials"], list):
        # Checked before the generic check, whose message would echo the (secret) value.
        raise ConfigError(f"{source}: snmp.credentials: expected [[snmp.credentials]] tables (an array of tables)")
    section = _checked(raw, _SNMP_KEYS, source, "snmp")
    credentials = []
    for index, entry in enumerate(section.get("credentials", [])):
        credential = parse_credential(entry, source, f"snmp.credentials[{index}]")
        if any(c.name == credential.name for c in credentials):
            raise ConfigError(f"{source}: snmp.credentials[{index}].name = {credential.name!r}: used twice")
        credentials.append(credential)
    from .snmp.client import Target   # late: the SNMP client is not needed to read other sections

    targets = []
    for index, entry in enumerate(section.get("targets", [])):
        try:
            targets.append(str(Target.parse(str(entry))))
        except ValueError as exc:
            raise ConfigError(f"{source}: snmp.targets[{index}] = {entry!r}: expected \"HOST\" or \"HOST:PORT\"") from exc
    subnets = []
    for index, entry in enumerate(section.get("subnets", [])):
        try:
            subnets.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(f"{source}: snmp.subnets[{index}] = {entry!r}: not a valid CIDR ({exc})") from exc
    engine = section.get("engine", _SNMP_DEFAULTS.engine)
    if engine not in ("fast", "pysnmp"):
        raise ConfigError(f"{source}: snmp.engine = {engine!r}: expected \"fast\" or \"pysnmp\"")
    repetitions = section.get("max_repetitions", _SNMP_DEFAULTS.max_repetitions)
    if not 1 <= repetitions <= 200:
        raise ConfigError(f"{source}: snmp.max_repetitions = {repetitions!r}: must be 1..200")
    for key in ("max_rows", "concurrency"):
        if key in section and section[key] < 1:
            raise ConfigError(f"{source}: snmp.{key} = {section[key]!r}: must be 1 or more")
    if (targets or subnets) and not credentials:
        raise ConfigError(f"{source}: [snmp] has targets or subnets but no [[snmp.credentials]] to try on them")
    return SnmpSettings(
        enabled=section.get("enabled", True),
        credentials=tuple(credentials),
        targets=tuple(targets),
        subnets=tuple(subnets),
        timeout_s=_positive(section.get("timeout", _SNMP_DEFAULTS.timeout_s), source, "snmp.timeout"),
        retries=_non_negative(section.get("retries", _SNMP_DEFAULTS.retries), source, "snmp.retries"),
        max_repetitions=repetitions,
        max_rows=section.get("max_rows", _SNMP_DEFAULTS.max_rows),
        concurrency=section.get("concurrency", _SNMP_DEFAULTS.concurrency),
        engine=engine,
    )


def with_command_line_subnet(config: AgentConfig, cidr: str, interface: str) -> AgentConfig:
    """Replace the configured subnets with one given by --subnet/--interface."""
    check_interface(interface, "command line", "--interface")
    network = parse_subnet(cidr, "command line", "--subnet", config.max_subnet_prefix)
    return replace(config, arp=replace(config.arp, enabled=True, subnets=(SubnetTarget(network, interface),)))


def parse_subnet(cidr: Any, source: str, key: str, max_prefix: int) -> ipaddress.IPv4Network:
    """A validated IPv4 network; host bits are allowed ("198.51.100.7/24" means its /24)."""
    if not isinstance(cidr, str):
        raise ConfigError(f"{source}: {key} = {cidr!r}: expected a CIDR string such as \"198.51.100.0/24\"")
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as exc:
        raise ConfigError(f"{source}: {key} = {cidr!r}: not a valid CIDR ({exc})") from exc
    if network.version != 4:
        raise ConfigError(f"{source}: {key} = {cidr!r}: ARP sweeps need an IPv4 subnet")
    if network.prefixlen < max_prefix:
        raise ConfigError(
            f"{source}: {key} = {cidr!r}: refusing to sweep {network.num_addresses:,} addresses; "
            f"subnets larger than /{max_prefix} are refused (raise agent.max_subnet_prefix "
            f"only if you really mean it)"
        )
    return network


def check_interface(name: Any, source: str, key: str) -> str:
    """The interface must exist on this machine now: a typo should fail at start, not at 3 a.m."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}: {key} = {name!r}: expected an interface name such as \"eth0\"")
    try:
        socket.if_nametoindex(name)
    except OSError as exc:
        known = ", ".join(sorted(n for _, n in socket.if_nameindex()))
        raise ConfigError(
            f"{source}: {key} = {name!r}: no such network interface on this machine (have: {known})"
        ) from exc
    return name


def check_collector_address(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{source}: {key} = {value!r}: expected HOST:PORT")
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{source}: {key} = {value!r}: expected HOST:PORT, e.g. \"collector.example.org:50051\"")
    return value.strip()


def _checked(section: Any, known: dict[str, tuple], source: str, where: str) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: {where} = {section!r}: expected a table")
    for key, value in section.items():
        if key not in known:
            raise ConfigError(
                f"{source}: unknown key {where}.{key} = {value!r} (known keys in [{where.split('[')[0]}]: "
                f"{', '.join(known)})"
            )
        expected = known[key][0]
        # bool is an int in Python; reject true/false where a number is meant.
        wrong_bool = isinstance(value, bool) and expected is not bool and bool not in (
            expected if isinstance(expected, tuple) else (expected,)
        )
        if wrong_bool or not isinstance(value, expected):
            raise ConfigError(f"{source}: {where}.{key} = {value!r}: expected {known[key][1]}")
    return section


def _non_empty(value: str, source: str, key: str) -> str:
    if not value.strip():
        raise ConfigError(f"{source}: {key} = {value!r}: must not be empty")
    return value.strip()


def _positive(value: Any, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{source}: {key} = {value!r}: must be a positive number of seconds")
    return float(value)


def _rate(value: Any, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 100_000:
        raise ConfigError(f"{source}: {key} = {value!r}: must be 1..100000 packets per second")
    return float(value)


def _non_negative(value: Any, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{source}: {key} = {value!r}: must be a whole number, 0 or more")
    return value

"""Simulated school LANs in Linux network namespaces, for the demo, the tests and benchmarks.

Each school is a Linux bridge in the current namespace carrying the school's
first address (198.18.N.1/24 by default, from the 198.18.0.0/15 benchmarking
range), so an agent on this machine can sweep it. Each host is its own network
namespace joined to the bridge by a veth pair, so ARP is answered by that
namespace's own kernel. Nothing here touches a real interface.

Every name carries a per-run tag, and `SimDistrict` removes everything it made
on exit, also after an error or Ctrl-C.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field

from .errors import AgentError

log = logging.getLogger(__name__)

SIMULATION_RANGE = ipaddress.IPv4Network("198.18.0.0/15")

# Real IEEE OUIs of kinds of devices a school has, so vendor lookup shows
# something real: Apple (iPads, Macs), Google (Chromebooks, cast), Dell and HP
# (PCs, printers), Seiko Epson (projectors, printers).
SCHOOL_OUIS = ("3c:22:fb", "f4:f5:d8", "00:14:22", "3c:d9:2b", "00:26:ab")
# Every Nth host uses a locally administered (randomised-looking) MAC, as
# phones and tablets with private Wi-Fi addresses do.
RANDOMISED_EVERY = 7


class SimLanError(AgentError):
    """The simulated LAN could not be built (not root, no iproute2, ...)."""


@dataclass(frozen=True)
class SimHost:
    namespace: str
    ip: str
    mac: str


@dataclass
class SimSchool:
    name: str
    bridge: str
    network: ipaddress.IPv4Network
    bridge_ip: str
    hosts: list[SimHost] = field(default_factory=list)


def can_build() -> tuple[bool, str]:
    """Whether this process can create namespaces, and if not, why (for skips and the demo)."""
    if os.geteuid() != 0:
        return False, "needs root (network namespaces, bridges and veth pairs are created with 'ip')"
    if shutil.which("ip") is None:
        return False, "needs the 'ip' command from iproute2"
    if not os.path.isdir("/proc/self/ns") or not os.path.exists("/proc/self/ns/net"):
        return False, "this kernel has no network namespaces"
    return True, ""


def host_mac(school_index: int, host_index: int) -> str:
    """Deterministic MAC for a simulated host; every RANDOMISED_EVERY-th is locally administered."""
    tail = f"{school_index:02x}:{host_index >> 8:02x}:{host_index & 0xFF:02x}"
    if host_index % RANDOMISED_EVERY == 0:
        return f"da:a1:19:{tail}"   # 0xda has the locally administered bit (0x02) set
    return f"{SCHOOL_OUIS[host_index % len(SCHOOL_OUIS)]}:{tail}"


def _ip(*args: str, stdin: str | None = None) -> None:
    completed = subprocess.run(["ip", *args], input=stdin, text=True, capture_output=True)
    if completed.returncode != 0:
        raise SimLanError(f"ip {' '.join(args)} failed: {completed.stderr.strip()}")


class SimDistrict:
    """Context manager: `with SimDistrict(schools=2, hosts_per_school=20) as district:`."""

    def __init__(self, schools: int, hosts_per_school: int, first_subnet: int = 1, tag: str | None = None):
        if not 1 <= hosts_per_school <= 250:
            raise SimLanError(f"hosts_per_school = {hosts_per_school}: must be 1..250 (one /24 per school)")
        self.tag = tag or f"hc{secrets.token_hex(2)}"
        self.schools: list[SimSchool] = []
        for index in range(1, schools + 1):
            network = ipaddress.IPv4Network(f"198.18.{first_subnet + index - 1}.0/24")
            assert network.subnet_of(SIMULATION_RANGE)
            school = SimSchool(
                name=f"school-{index}",
                bridge=f"{self.tag}b{index}",
                network=network,
                bridge_ip=str(network.network_address + 1),
            )
            for host_index in range(1, hosts_per_school + 1):
                school.hosts.append(SimHost(
                    namespace=f"{self.tag}-s{index}-h{host_index:03d}",
                    ip=str(network.network_address + 9 + host_index),   # .10 upwards
                    mac=host_mac(index, host_index),
                ))
            self.schools.append(school)
        self._built = False

    def _veth(self, school_index: int, host_index: int) -> str:
        return f"{self.tag}s{school_index}h{host_index}"   # <= 15 characters, the kernel limit

    def build(self) -> None:
        ok, why = can_build()
        if not ok:
            raise SimLanError(why)
        self._built = True   # from here on, cleanup() has something to remove
        root_commands = []
        for s_index, school in enumerate(self.schools, 1):
            root_commands += [
                f"link add {school.bridge} type bridge",
                f"addr add {school.bridge_ip}/{school.network.prefixlen} dev {school.bridge}",
                f"link set {school.bridge} up",
            ]
            for h_index, host in enumerate(school.hosts, 1):
                veth = self._veth(s_index, h_index)
                root_commands += [
                    f"netns add {host.namespace}",
                    f"link add {veth} type veth peer name eth0 address {host.mac} netns {host.namespace}",
                    f"link set {veth} master {school.bridge} up",
                ]
        _ip("-batch", "-", stdin="\n".join(root_commands) + "\n")
        for school in self.schools:
            for host in school.hosts:
                _ip("-n", host.namespace, "-batch", "-", stdin=(
                    "link set lo up\n"
                    f"addr add {host.ip}/{school.network.prefixlen} dev eth0\n"
                    "link set eth0 up\n"
                ))
        log.info("built %d schools with %d hosts (tag %s)", len(self.schools), self.host_count, self.tag)

    @property
    def host_count(self) -> int:
        return sum(len(s.hosts) for s in self.schools)

    def cleanup(self) -> list[str]:
        """Remove every namespace, veth and bridge of this run; returns what could not be removed."""
        if not self._built:
            return []
        leftovers = []
        for s_index, school in enumerate(self.schools, 1):
            for h_index, host in enumerate(school.hosts, 1):
                subprocess.run(["ip", "link", "del", self._veth(s_index, h_index)], capture_output=True)
                subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True)
            subprocess.run(["ip", "link", "del", school.bridge], capture_output=True)
        existing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        leftovers = [line.split()[0] for line in existing.splitlines() if line.startswith(f"{self.tag}-")]
        self._built = False
        return leftovers

    def __enter__(self) -> SimDistrict:
        try:
            self.build()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        leftovers = self.cleanup()
        if leftovers:
            log.error("could not remove namespaces: %s", ", ".join(leftovers))

"""The mDNS scanner against real responders: python-zeroconf in network namespaces on a test bridge.

Each test builds its own bridge (an address of 198.18.0.0/15) and a few
namespaces joined to it by veth pairs, runs tests/integration/mdns_responder.py
in them (real responders, and a hostile sender), and runs MdnsScanner bound to
the bridge only. Everything is removed in a finally; processes are stopped by
PID.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import socket
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest

from headcount.agent.config import DEFAULT_MDNS_SERVICE_TYPES, AgentConfig, MdnsSettings
from headcount.agent.model import ArpSighting, TxtEntry
from headcount.agent.scanners.base import ScanContext
from headcount.agent.scanners.mdns import (MAX_ADDRESSES, MAX_TXT_ENTRIES, MdnsScanner, last_scan_counters,
                                           model_from_txt)

from .helpers import stop, wait_for

pytestmark = pytest.mark.netns

RESPONDER = Path(__file__).with_name("mdns_responder.py")
FLOOD_TYPE = "_hcflood._tcp.local."
AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def _ip(*args: str) -> None:
    completed = subprocess.run(["ip", *args], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {completed.stderr.strip()}")


class MdnsLan:
    """A bridge in this namespace plus namespaced hosts on it; `close()` removes all of it."""

    def __init__(self, tag: str, subnet: int, tmp_path: Path):
        self.tag, self.tmp_path = tag, tmp_path
        self.prefix = f"198.18.{subnet}"
        self.bridge = f"{tag}br"                      # <= 15 characters
        self.bridge_ip = f"{self.prefix}.1"
        self.namespaces: list[str] = []
        self.veths: list[str] = []
        self.processes: list[subprocess.Popen] = []
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.bridge_ip}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "multicast", "on", "up")

    def add_host(self, index: int, mac: str) -> tuple[str, str]:
        """A namespace at PREFIX.index with this MAC on its eth0; returns (namespace, address)."""
        namespace, veth, address = f"{self.tag}-h{index}", f"{self.tag}v{index}", f"{self.prefix}.{index}"
        _ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "address", mac, "netns", namespace)
        self.veths.append(veth)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "multicast", "on", "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        return namespace, address

    def run(self, namespace: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{namespace}.log", "ab")
        process = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, str(RESPONDER), *args],
                                   stdout=log, stderr=subprocess.STDOUT)
        log.close()   # the child has its own copy
        self.processes.append(process)
        return process

    def serve(self, namespace: str, address: str, host: str, services: list[dict]) -> Path:
        import json

        ready = self.tmp_path / f"{namespace}.ready"
        self.run(namespace, "serve", "--address", address, "--host", host, "--ready-file", str(ready),
                 *[arg for spec in services for arg in ("--service", json.dumps(spec))])
        return ready

    def wait_ready(self, *ready_files: Path) -> None:
        def all_ready() -> bool:
            for process in self.processes:
                if process.poll() is not None and process.returncode != 0:
                    raise AssertionError(f"a responder exited with {process.returncode}: "
                                         + "".join(p.read_text() for p in self.tmp_path.glob("*.log"))[-3000:])
            return all(path.exists() for path in ready_files)

        wait_for(all_ready, 20, "the mDNS responders to announce")

    def close(self) -> None:
        for process in self.processes:
            stop(process, timeout=5)
        for veth in self.veths:
            subprocess.run(["ip", "link", "del", veth], capture_output=True)
        for namespace in self.namespaces:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def _context(bridge: str, earlier=(), **mdns) -> ScanContext:
    settings = dataclasses.replace(MdnsSettings(), interfaces=(bridge,), **mdns)
    return ScanContext(dataclasses.replace(AgentConfig(), mdns=settings), earlier=tuple(earlier), clock=lambda: AT)


def _fill_neighbour_entry(ip: str) -> None:
    """Make the kernel ARP for a namespaced address: one UDP datagram to its discard port (no ping needed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"x", (ip, 9))
    wait_for(lambda: any(line.split()[0] == ip and line.split()[2] == "0x2"
                         for line in Path("/proc/net/arp").read_text().splitlines()[1:]),
             5, f"a neighbour entry for {ip}")


def _own_mdns_sockets() -> set[str]:
    """Inodes of this process's UDP sockets on port 5353 (zeroconf's, while a scan runs)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    bound = {line.split()[9] for line in Path("/proc/net/udp").read_text().splitlines()[1:]
             if line.split()[1].endswith(":14E9")}
    return inodes & bound


async def _cancel_a_scan(bridge: str) -> None:
    """A scan cancelled while browsing closes its sockets at once."""
    task = asyncio.create_task(MdnsScanner().scan(_context(bridge, browse_time_s=30)))
    await asyncio.sleep(0.5)
    assert _own_mdns_sockets(), "the scan should be browsing"
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1
    assert not _own_mdns_sockets()


def _sighting(mac: str, ip: str, interface: str) -> ArpSighting:
    return ArpSighting(mac=mac, ip=ip, vendor="", locally_administered=False, interface=interface, observed_at=AT)


# Real OUIs, as in agent/simlan.py: Apple, Google, HP, Dell.
IPAD_MAC, CAST_MAC = "3c:22:fb:d6:00:11", "f4:f5:d8:d6:00:12"
PRINTER_MAC, PC_MAC = "3c:d9:2b:d6:00:13", "00:14:22:d6:00:14"
IPAD_SERVICES = [
    {"type": "_device-info._tcp.local.", "instance": "Jane Doe’s iPad", "port": 0,
     "txt": ["model=iPad13,1", "osxvers=21"]},
    {"type": "_companion-link._tcp.local.", "instance": "Jane Doe’s iPad", "port": 49152,
     "txt": ["rpMd=iPad13,1", "rpFl=0x20000", "rpFl=0x1", "rpHA", "rpBA="]},
]
CAST_SERVICES = [
    {"type": "_googlecast._tcp.local.", "instance": "Chromecast-6b1c29d4", "port": 8009,
     "txt": ["id=6b1c29d4", "md=Chromecast", "fn=Room 12 TV", "ca=4101"]},
]
PRINTER_SERVICES = [
    {"type": "_ipp._tcp.local.", "instance": "Room 12 Printer", "port": 631,
     "txt": ["txtvers=1", "ty=HP LaserJet Pro M404n", "product=(HP LaserJet Pro M404n)", "usb_MFG=HP",
             "usb_MDL=LaserJet Pro M404n", "pdl=application/pdf,image/urf"]},
]
PC_SERVICES = [
    {"type": "_workstation._tcp.local.", "instance": "lab-pc-07 [00:14:22:d6:00:14]", "port": 9, "txt": []},
    {"type": "_ssh._tcp.local.", "instance": "lab-pc-07", "port": 22, "txt": []},
]


def test_scanner_finds_and_resolves_real_responders(netns_allowed, no_leftover_namespaces, tmp_path, caplog):
    tag = f"hm{secrets.token_hex(2)}"
    no_leftover_namespaces(tag)
    no_leftover_namespaces(f"{tag}d")
    lan = MdnsLan(tag, 214, tmp_path)
    # A second LAN the scanner must not hear: a hostile sender on another bridge, where a socket of
    # this namespace has joined the mDNS group (as avahi would on a real interface).
    decoy = MdnsLan(f"{tag}d", 217, tmp_path)
    member = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        member.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                          socket.inet_aton("224.0.0.251") + socket.inet_aton(decoy.bridge_ip))
        decoy_ns, decoy_ip = decoy.add_host(20, "02:00:00:d9:00:20")
        decoy.run(decoy_ns, "hostile", "--address", decoy_ip, "--duration", "15", "--flood-services", "5",
                  "--rate", "50", "--interval", "0.5")
        ipad_ns, ipad_ip = lan.add_host(11, IPAD_MAC)
        cast_ns, cast_ip = lan.add_host(12, CAST_MAC)
        printer_ns, printer_ip = lan.add_host(13, PRINTER_MAC)
        pc_ns, pc_ip = lan.add_host(14, PC_MAC)
        ready = [
            lan.serve(ipad_ns, ipad_ip, "Jane-Does-iPad.local.", IPAD_SERVICES),
            lan.serve(cast_ns, cast_ip, "6b1c29d4.local.", CAST_SERVICES),
            lan.serve(printer_ns, printer_ip, "room-12-printer.local.", PRINTER_SERVICES),
            lan.serve(pc_ns, pc_ip, "lab-pc-07.local.", PC_SERVICES),
        ]
        lan.wait_ready(*ready)
        # The PC is not among the ARP sightings: its MAC must come from the kernel's neighbour table.
        _fill_neighbour_entry(pc_ip)
        earlier = [_sighting(IPAD_MAC, ipad_ip, lan.bridge), _sighting(CAST_MAC, cast_ip, lan.bridge),
                   _sighting(PRINTER_MAC, printer_ip, lan.bridge)]
        ctx = _context(lan.bridge, earlier, browse_time_s=2.5)
        scanner = MdnsScanner()
        assert scanner.can_run(ctx)
        caplog.set_level(logging.DEBUG, logger="headcount")
        started = time.monotonic()
        services = asyncio.run(scanner.scan(ctx))
        elapsed = time.monotonic() - started
        counters = last_scan_counters()
        assert counters == scanner.last_counters
        assert not _own_mdns_sockets()
        asyncio.run(_cancel_a_scan(lan.bridge))
    finally:
        member.close()
        decoy.close()
        lan.close()

    print(f"mdns scan: {len(services)} services in {elapsed:.2f}s; counters {counters.as_dict()}")
    assert elapsed < 2.5 + 1.5
    by_key = {(s.service_type, s.instance_name): s for s in services}
    assert set(by_key) == {
        ("_device-info._tcp.local.", "Jane Doe’s iPad"), ("_companion-link._tcp.local.", "Jane Doe’s iPad"),
        ("_googlecast._tcp.local.", "Chromecast-6b1c29d4"), ("_ipp._tcp.local.", "Room 12 Printer"),
        ("_workstation._tcp.local.", "lab-pc-07 [00:14:22:d6:00:14]"), ("_ssh._tcp.local.", "lab-pc-07"),
    }
    device_info = by_key[("_device-info._tcp.local.", "Jane Doe’s iPad")]
    assert (device_info.host, device_info.addresses, device_info.mac) == ("Jane-Does-iPad.local.", (ipad_ip,), IPAD_MAC)
    assert model_from_txt(device_info.service_type, device_info.txt) == "iPad13,1"
    companion = by_key[("_companion-link._tcp.local.", "Jane Doe’s iPad")]
    assert companion.port == 49152
    # Duplicate keys kept in order; a bare key differs from an empty value.
    assert companion.txt == (TxtEntry("rpMd", b"iPad13,1"), TxtEntry("rpFl", b"0x20000"), TxtEntry("rpFl", b"0x1"),
                             TxtEntry("rpHA", b"", has_value=False), TxtEntry("rpBA", b"", has_value=True))
    cast = by_key[("_googlecast._tcp.local.", "Chromecast-6b1c29d4")]
    assert (cast.host, cast.port, cast.addresses, cast.mac) == ("6b1c29d4.local.", 8009, (cast_ip,), CAST_MAC)
    assert model_from_txt(cast.service_type, cast.txt) == "Chromecast"
    printer = by_key[("_ipp._tcp.local.", "Room 12 Printer")]
    assert (printer.host, printer.port, printer.addresses, printer.mac) == (
        "room-12-printer.local.", 631, (printer_ip,), PRINTER_MAC)
    assert model_from_txt(printer.service_type, printer.txt) == "HP LaserJet Pro M404n"
    assert [e.key for e in printer.txt] == ["txtvers", "ty", "product", "usb_MFG", "usb_MDL", "pdl"]
    for kind in ("_workstation._tcp.local.", "_ssh._tcp.local."):
        pc = next(s for s in services if s.service_type == kind)
        assert (pc.host, pc.addresses, pc.mac, pc.txt) == ("lab-pc-07.local.", (pc_ip,), PC_MAC, ())
        assert model_from_txt(pc.service_type, pc.txt) == ""
    assert all(s.observed_at == AT and s.scanner == "mdns" for s in services)
    # Nothing from the decoy LAN: no malformed packets, no flood services.
    assert counters.malformed_total == 0 and counters.services_returned == 6
    assert not [w for w in ctx.warnings if "malformed" in w]
    # Student privacy: no instance or host name in any log line.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Jane" not in logged and "lab-pc" not in logged and "Room 12" not in logged


def test_hostile_sender_is_counted_and_capped_while_good_services_are_found(netns_allowed, no_leftover_namespaces,
                                                                            tmp_path):
    tag = f"hm{secrets.token_hex(2)}"
    no_leftover_namespaces(tag)
    lan = MdnsLan(tag, 215, tmp_path)
    max_services = 12
    try:
        good_ns, good_ip = lan.add_host(11, PRINTER_MAC)
        hostile_ns, hostile_ip = lan.add_host(20, "02:00:00:d7:00:20")
        flooder_ns, flooder_ip = lan.add_host(21, "02:00:00:d7:00:21")
        ready = lan.serve(good_ns, good_ip, "room-12-printer.local.", PRINTER_SERVICES + CAST_SERVICES)
        lan.wait_ready(ready)
        # One sender sends every kind of bad packet and 100 bogus services twice a second; another
        # floods 2,000 malformed packets a second, which the per-sender rate cap must stop without
        # starving the other senders.
        lan.run(hostile_ns, "hostile", "--address", hostile_ip, "--duration", "6", "--flood-services", "100",
                "--rate", "0", "--interval", "0.5")
        lan.run(flooder_ns, "hostile", "--address", flooder_ip, "--duration", "6", "--rate", "2000",
                "--stream-only")
        time.sleep(0.3)   # the sender's first round is on the wire
        ctx = _context(lan.bridge, [_sighting(PRINTER_MAC, good_ip, lan.bridge)], browse_time_s=2.5,
                       max_services=max_services, service_types=DEFAULT_MDNS_SERVICE_TYPES + (FLOOD_TYPE,))
        tracemalloc.start()
        try:
            started = time.monotonic()
            services = asyncio.run(MdnsScanner().scan(ctx))
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        lan.close()

    counters = last_scan_counters()
    print(f"hostile mdns scan: {len(services)} services in {elapsed:.2f}s, peak {peak / 1e6:.1f} MB traced; "
          f"counters {counters.as_dict()}; warnings {ctx.warnings}")
    # The good responder's services are all there, complete.
    printer = next(s for s in services if s.service_type == "_ipp._tcp.local.")
    assert (printer.instance_name, printer.port, printer.addresses, printer.mac) == (
        "Room 12 Printer", 631, (good_ip,), PRINTER_MAC)
    assert model_from_txt(printer.service_type, printer.txt) == "HP LaserJet Pro M404n"
    cast = next(s for s in services if s.service_type == "_googlecast._tcp.local.")
    assert model_from_txt(cast.service_type, cast.txt) == "Chromecast"
    # Malformed packets were ignored and counted, of every kind.
    assert counters.packets_malformed > 0 and counters.packets_bad_records > 0 and counters.packets_oversized > 0
    assert f"mdns: ignored {counters.malformed_total} malformed packets" in ctx.warnings
    # The flood: the rate cap dropped some unparsed, and the service cap held.
    assert counters.packets_rate_limited > 0
    assert len(services) <= max_services
    assert counters.services_over_cap + counters.instances_untracked > 0
    assert counters.invalid_names >= 2          # a name with a control character; a PTR to a foreign name
    assert all(len(s.addresses) <= MAX_ADDRESSES and len(s.txt) <= MAX_TXT_ENTRIES for s in services)
    assert not any(any(c < " " for c in s.instance_name) for s in services)
    # Memory stayed bounded while thousands of packets arrived.
    assert peak < 64e6
    assert elapsed < 2.5 + 2.5
    # Warnings carry counts, never names.
    assert not any(word in " ".join(ctx.warnings) for word in ("Room", "flood-", "Bell", "evil", "Chromecast"))

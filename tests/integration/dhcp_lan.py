"""A real DHCP LAN in network namespaces, for the passive listener's tests and its recorded fixture.

One Linux bridge in the current namespace (no address: the listener only
hears, it is never a host on this LAN), one namespace running dnsmasq as the
DHCP server on 198.18.200.0/24 (the 198.18.0.0/15 benchmarking range), and
one namespace per client, each running a real DHCP client (busybox udhcpc or
ISC dhclient) with a script of ours that only writes the leased address to a
file, so no client ever touches this machine's /etc/resolv.conf or routes.

Every name carries a per-run tag; `cleanup()` stops the processes this LAN
started (by PID) and removes its namespaces, veths and bridge, also after an
error. Run as a script, this file also:

    python tests/integration/dhcp_lan.py capture tests/unit/agent/data/dhcp_frames.json
        records a real exchange with tcpdump on the bridge (how the fixture was made);
    python tests/integration/dhcp_lan.py blast --interface eth0 ...
        writes malformed DHCP frames and a random-MAC ARP flood from a raw socket
        (run inside a hostile namespace with `ip netns exec`).

Only the standard library is imported, so the file runs as a plain script in
a namespace.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

NETWORK = ipaddress.IPv4Network("198.18.200.0/24")
SERVER_IP = "198.18.200.1"
LEASE_RANGE = ("198.18.200.100", "198.18.200.199")
SERVER_MAC = "da:a1:19:c8:00:01"   # locally administered: the server is a test fixture, not a vendor's device
# An address in the LAN that nobody owns: the flood asks for it, so no namespace answers or learns anything.
NOBODY_IP = "198.18.200.254"
FLOOD_SENDER_NETWORK = ipaddress.IPv4Network("198.18.201.0/24")

# The marker path is written into each script: dhclient runs its script with an empty environment.
UDHCPC_SCRIPT = """#!/bin/sh
# udhcpc calls this with the event in $1 and the lease in the environment.
# Only record the address: the test configures the interface itself.
case "$1" in
    bound|renew) echo "$ip" > '{marker}' ;;
esac
exit 0
"""
DHCLIENT_SCRIPT = """#!/bin/sh
# dhclient calls this with the event in $reason; the real dhclient-script would
# rewrite /etc/resolv.conf, which this namespace shares with the machine.
case "$reason" in
    BOUND|RENEW|REBIND|REBOOT) echo "$new_ip_address" > '{marker}' ;;
esac
exit 0
"""


class DhcpLanError(RuntimeError):
    """The LAN could not be built or a client did not get a lease."""


def tools_missing() -> list[str]:
    return [tool for tool in ("ip", "dnsmasq", "udhcpc", "dhclient") if shutil.which(tool) is None]


def _run(*argv: str, stdin: str | None = None) -> None:
    completed = subprocess.run(list(argv), input=stdin, text=True, capture_output=True)
    if completed.returncode != 0:
        raise DhcpLanError(f"{' '.join(argv)} failed: {completed.stderr.strip()}")


def _stop(process: subprocess.Popen, timeout: float = 5) -> None:
    """SIGTERM a process this LAN started, SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class DhcpLan:
    """Context manager: `with DhcpLan(tmp_path) as lan: host = lan.add_host("c1", mac); lan.udhcpc(host, ...)`."""

    def __init__(self, workdir: Path, tag: str | None = None):
        self.tag = tag or f"dl{secrets.token_hex(2)}"   # "dl": DHCP LAN; <= 6 characters leaves 9 for link names
        self.bridge = f"{self.tag}br"
        self.workdir = Path(workdir)
        self.server = f"{self.tag}-srv"
        self._namespaces: list[str] = []
        self._links: list[str] = []
        self._processes: list[subprocess.Popen] = []
        self._logs: list = []
        self._next_index = 0

    # ---------------------------------------------------------------- building

    def __enter__(self) -> DhcpLan:
        try:
            self.build()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.cleanup()

    def build(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._links.append(self.bridge)
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        # No IPv6 on the bridge: the root namespace stays silent on this LAN (no router
        # solicitations or MLD reports), so the tests hear only what the namespaces send.
        _run("sysctl", "-qw", f"net.ipv6.conf.{self.bridge}.disable_ipv6=1")
        _run("ip", "link", "set", self.bridge, "up")
        self.add_host("srv", SERVER_MAC, address=f"{SERVER_IP}/{NETWORK.prefixlen}")
        self._start_dnsmasq()

    def add_host(self, name: str, mac: str, address: str | None = None) -> str:
        """A namespace `TAG-name` joined to the bridge by a veth whose inner end (eth0) has `mac`."""
        namespace, veth = f"{self.tag}-{name}", f"{self.tag}{name}"
        if len(veth) > 15:
            raise DhcpLanError(f"link name {veth!r} is longer than the kernel's 15 characters")
        self._namespaces.append(namespace)
        _run("ip", "netns", "add", namespace)
        self._links.append(veth)
        _run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "address", mac, "netns", namespace)
        _run("sysctl", "-qw", f"net.ipv6.conf.{veth}.disable_ipv6=1")
        _run("ip", "link", "set", veth, "master", self.bridge, "up")
        commands = "link set lo up\n"
        if address:
            commands += f"addr add {address} dev eth0\n"
        commands += "link set eth0 up\n"
        _run("ip", "-n", namespace, "-batch", "-", stdin=commands)
        _run("ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        return namespace

    def _start_dnsmasq(self) -> None:
        first, last = LEASE_RANGE
        self.start_in(self.server, [
            "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--no-resolv", "--no-hosts",
            "--interface=eth0", "--dhcp-authoritative",
            # No ping before an offer: it only delays the test by the ping timeout.
            "--no-ping",
            f"--dhcp-range={first},{last},{NETWORK.netmask},10m",
            f"--dhcp-leasefile={self.workdir / 'dnsmasq.leases'}",
            f"--pid-file={self.workdir / 'dnsmasq.pid'}",
            "--log-dhcp", f"--log-facility={self.workdir / 'dnsmasq.log'}",
        ], log_name="dnsmasq")
        # In the foreground dnsmasq writes no pid file; it logs its DHCP range once the
        # DHCP socket is open.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "DHCP, IP range" in self.log_text("dnsmasq"):
                return
            if self._processes[-1].poll() is not None:
                break
            time.sleep(0.05)
        raise DhcpLanError(f"dnsmasq did not start: {self.log_text('dnsmasq')[-2000:]}")

    # ---------------------------------------------------------------- processes

    def start_in(self, namespace: str, argv: list[str], log_name: str, env: dict[str, str] | None = None
                 ) -> subprocess.Popen:
        """Start argv inside the namespace; stdout and stderr go to workdir/log_name.log."""
        log_file = open(self.workdir / f"{log_name}.log", "ab")
        self._logs.append(log_file)
        process = subprocess.Popen(["ip", "netns", "exec", namespace, *argv], stdout=log_file,
                                   stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self._processes.append(process)
        return process

    def log_text(self, log_name: str) -> str:
        path = self.workdir / f"{log_name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, process: subprocess.Popen) -> None:
        _stop(process)

    def udhcpc(self, namespace: str, *, hostname: str = "", vendor_class: str = "", client_id: bytes = b"",
               broadcast: bool = False) -> subprocess.Popen:
        """busybox udhcpc in the namespace: up to 5 DISCOVERs a second apart, exits once it has a lease."""
        script = self._script(f"udhcpc-{namespace}.sh", UDHCPC_SCRIPT.format(marker=self._marker(namespace)))
        argv = ["udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "1", "-i", "eth0", "-s", str(script)]
        if hostname:
            argv += ["-x", f"hostname:{hostname}"]
        if vendor_class:
            argv += ["-V", vendor_class]
        if client_id:
            argv += ["-x", f"0x3d:{client_id.hex()}"]
        if broadcast:
            argv.append("-B")    # ask the server to broadcast its replies, so a non-promiscuous listener hears them
        return self.start_in(namespace, argv, log_name=f"udhcpc-{namespace}")

    def dhclient(self, namespace: str, *, hostname: str = "", vendor_class: str = "",
                 remembered_ip: str = "") -> subprocess.Popen:
        """ISC dhclient in the namespace, in the foreground (it stays to renew; stop it by PID).

        With `remembered_ip`, its lease file already holds an unexpired lease of
        that address, so it starts in INIT-REBOOT: a REQUEST for it, which the
        authoritative server NAKs when the address is not on this LAN.
        """
        script = self._script(f"dhclient-{namespace}.sh", DHCLIENT_SCRIPT.format(marker=self._marker(namespace)))
        config = self.workdir / f"dhclient-{namespace}.conf"
        lines = []
        if hostname:
            lines.append(f'send host-name "{hostname}";')
        if vendor_class:
            lines.append(f'send vendor-class-identifier "{vendor_class}";')
        # Debian's default request list, so the fingerprint is what a Debian machine sends.
        lines.append("request subnet-mask, broadcast-address, time-offset, routers, domain-name, "
                     "domain-name-servers, domain-search, host-name, interface-mtu, rfc3442-classless-static-routes, "
                     "ntp-servers;")
        lines.insert(0, "option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;")
        config.write_text("\n".join(lines) + "\n")
        if remembered_ip:
            (self.workdir / f"dhclient-{namespace}.leases").write_text(
                f'lease {{\n  interface "eth0";\n  fixed-address {remembered_ip};\n'
                "  option subnet-mask 255.255.255.0;\n  option dhcp-lease-time 600;\n"
                "  renew 4 2037/01/01 00:00:00;\n  rebind 4 2037/01/01 00:00:00;\n"
                "  expire 4 2037/01/01 00:00:00;\n}\n")
        argv = ["dhclient", "-4", "-d", "-1", "-v", "-cf", str(config),
                "-lf", str(self.workdir / f"dhclient-{namespace}.leases"),
                "-pf", str(self.workdir / f"dhclient-{namespace}.pid"), "-sf", str(script), "eth0"]
        return self.start_in(namespace, argv, log_name=f"dhclient-{namespace}")

    def dhclient_release(self, namespace: str) -> None:
        """`dhclient -r`: sends a RELEASE for the lease in the namespace's lease file, then exits."""
        script = self._script("dhclient-release.sh", DHCLIENT_SCRIPT.format(marker="/dev/null"))
        completed = subprocess.run(
            ["ip", "netns", "exec", namespace, "dhclient", "-4", "-r", "-v",
             "-cf", str(self.workdir / f"dhclient-{namespace}.conf"),
             "-lf", str(self.workdir / f"dhclient-{namespace}.leases"),
             "-pf", str(self.workdir / f"dhclient-{namespace}-release.pid"), "-sf", str(script), "eth0"],
            capture_output=True, text=True, timeout=20)
        if completed.returncode != 0:
            raise DhcpLanError(f"dhclient -r failed: {completed.stderr[-1000:]}")

    def wait_for_lease(self, namespace: str, timeout: float = 15) -> str:
        marker = self._marker(namespace)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return marker.read_text().strip()
            time.sleep(0.05)
        raise DhcpLanError(f"{namespace} got no lease in {timeout:.0f}s; dnsmasq said: "
                           f"{self.log_text('dnsmasq')[-1500:]}")

    def use_address(self, namespace: str, ip: str) -> None:
        """Put the leased address on eth0 and talk to the server once, so the host ARPs for it.

        The ARP request ("who has the server, tell <ip>") is a broadcast: the
        listener on the bridge hears the host's MAC with its new address.
        """
        _run("ip", "-n", namespace, "addr", "add", f"{ip}/{NETWORK.prefixlen}", "dev", "eth0")
        self.announce(namespace)

    def announce(self, namespace: str) -> None:
        """Make the host ARP for the server again: forget its neighbours, then send it a datagram."""
        _run("ip", "-n", namespace, "neigh", "flush", "all")
        self.send_udp(namespace, SERVER_IP, 9, count=1)

    def send_udp(self, namespace: str, destination: str, port: int, count: int) -> None:
        """`count` datagrams to destination:port from inside the namespace (broadcast allowed)."""
        code = ("import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); "
                "s.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1); "
                "[s.sendto(b'headcount test',(sys.argv[1],int(sys.argv[2]))) for _ in range(int(sys.argv[3]))]")
        _run("ip", "netns", "exec", namespace, sys.executable, "-c", code, destination, str(port), str(count))

    def _script(self, name: str, text: str) -> Path:
        path = self.workdir / name
        if not path.exists():
            path.write_text(text)
            path.chmod(0o755)
        return path

    def _marker(self, namespace: str) -> Path:
        return self.workdir / f"lease-{namespace}"

    # ---------------------------------------------------------------- cleanup

    def cleanup(self) -> list[str]:
        """Stop every process this LAN started and remove its links and namespaces; returns leftovers."""
        for process in reversed(self._processes):
            _stop(process)
        self._processes.clear()
        for log_file in self._logs:
            log_file.close()
        self._logs.clear()
        for link in reversed(self._links):
            subprocess.run(["ip", "link", "del", link], capture_output=True)
        self._links.clear()
        for namespace in reversed(self._namespaces):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        self._namespaces.clear()
        existing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        return [line.split()[0] for line in existing.splitlines() if line.startswith(f"{self.tag}-")]


# ---------------------------------------------------------------- frames (for the hostile host)


def ipv4_udp_frame(source_mac: bytes, payload: bytes, source_port: int = 68, destination_port: int = 67,
                   source_ip: str = "0.0.0.0", destination_ip: str = "255.255.255.255") -> bytes:
    """A broadcast Ethernet/IPv4/UDP frame with correct IP header and lengths (UDP checksum 0: none).

    The IP header must be right: a bridge with br_netfilter drops frames whose
    IPv4 header is broken before anyone hears them. The malformation is inside.
    """
    udp = struct.pack("!HHHH", source_port, destination_port, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         socket.inet_aton(source_ip), socket.inet_aton(destination_ip))
    checksum = _ip_checksum(header)
    header = header[:10] + struct.pack("!H", checksum) + header[12:]
    return b"\xff" * 6 + source_mac + b"\x08\x00" + header + udp


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def bootp(chaddr: bytes, options: bytes, *, op: int = 1, hlen: int = 6, cookie: bytes = b"\x63\x82\x53\x63") -> bytes:
    header = struct.pack("!BBBBIHH4s4s4s4s", op, 1, hlen, 0, 0x1234, 0, 0, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                         b"\0" * 4)
    return header + chaddr.ljust(16, b"\0") + b"\0" * 64 + b"\0" * 128 + cookie + options


def malformed_dhcp_payloads(chaddr: bytes) -> list[bytes]:
    """DHCP messages broken in the ways a bad stack or an attacker breaks them."""
    return [
        bootp(chaddr, b"\x35\x01\x01\xff")[:120],                         # truncated BOOTP header
        bootp(chaddr, b"\x35\x01\x01\xff", cookie=b"\xde\xad\xbe\xef"),    # bad magic cookie
        bootp(chaddr, b"\x35\x01\x01\x0c\xf0abc"),                         # option 12 runs past the end
        bootp(chaddr, b"\x35\x01\x01\xff", hlen=16),                       # Ethernet with hlen 16
        bootp(chaddr, b"\x35\x01\x01\x34\x01\x07\xff"),                    # overload value 7
        bootp(chaddr, b"\x35\x01\x01\xff", op=9),                          # op neither request nor reply
        bootp(chaddr, b"\x35\x03\x01\x01\x01\xff"),                        # message type of length 3
        bootp(chaddr, b"\x35\x01\x01\x0c"),                                # option without a length byte
    ]


def arp_request(sender_mac: bytes, sender_ip: bytes, target_ip: bytes) -> bytes:
    return (b"\xff" * 6 + sender_mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
            + sender_mac + sender_ip + b"\0" * 6 + target_ip).ljust(60, b"\0")


def blast(interface: str, malformed_rounds: int, flood_frames: int, flood_pps: float, seed: int) -> dict[str, int]:
    """From a raw socket on `interface`: malformed DHCP frames, then a paced random-MAC ARP flood."""
    # Safety: this writes junk at line rate. Refuse unless this process is inside a named
    # network namespace (one a test made), so it can never reach a real interface.
    namespace = subprocess.run(["ip", "netns", "identify", str(os.getpid())], capture_output=True,
                               text=True).stdout.strip()
    if not namespace:
        raise DhcpLanError("blast runs only inside a test's network namespace (ip netns exec NS ...)")
    rng = random.Random(seed)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.bind((interface, 0))
    own_mac = sock.getsockname()[4]
    sent_malformed = sent_flood = 0
    try:
        payloads = malformed_dhcp_payloads(own_mac)
        for _ in range(malformed_rounds):
            for payload in payloads:
                sock.send(ipv4_udp_frame(own_mac, payload))
                sent_malformed += 1
        nobody = socket.inet_aton(NOBODY_IP)
        first_sender = int(FLOOD_SENDER_NETWORK.network_address) + 1
        started = time.monotonic()
        for index in range(flood_frames):
            due = started + index / flood_pps
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            mac = bytearray(rng.randbytes(6))
            mac[0] &= 0xFE                     # unicast, like a real (spoofed) host
            sender_ip = (first_sender + rng.randrange(250)).to_bytes(4, "big")
            sock.send(arp_request(bytes(mac), sender_ip, nobody))
            sent_flood += 1
    finally:
        sock.close()
    return {"malformed": sent_malformed, "flood": sent_flood}


# ---------------------------------------------------------------- the recorded fixture


def read_pcap(path: Path) -> list[bytes]:
    """Frames of a classic little- or big-endian pcap file (what `tcpdump -w` writes)."""
    data = path.read_bytes()
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
              b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if endian is None:
        raise DhcpLanError(f"{path}: not a pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise DhcpLanError(f"{path}: link type {linktype}, expected Ethernet (1)")
    frames, position = [], 24
    while position + 16 <= len(data):
        captured = struct.unpack(endian + "I", data[position + 8:position + 12])[0]
        frames.append(data[position + 16:position + 16 + captured])
        position += 16 + captured
    return frames


UDHCPC_CLIENT = {"mac": "3c:22:fb:c8:00:0a", "hostname": "cart07-ipad", "vendor_class": "udhcp-test-vendor",
                 "client_id": "01" + "3c22fbc8000a"}
DHCLIENT_CLIENT = {"mac": "00:14:22:c8:00:0b", "hostname": "lab3-desktop-12", "vendor_class": "dhclient-test-vendor"}
REBOOTING_CLIENT = {"mac": "f4:f5:d8:c8:00:0c", "remembered_ip": "198.18.201.7"}


def capture_fixture(output: Path) -> None:
    """Record real exchanges on a fresh LAN: udhcpc (broadcast replies, RELEASE on exit) and dhclient (then -r)."""
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"headcount-dhcp-capture-{os.getpid()}"
    pcap = workdir / "capture.pcap"
    with DhcpLan(workdir) as lan:
        tcpdump = subprocess.Popen(["tcpdump", "-i", lan.bridge, "-U", "-w", str(pcap),
                                    "arp or udp port 67 or udp port 68"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            # tcpdump says "listening on" once its socket is open.
            tcpdump.stderr.readline()
            first = lan.add_host("c1", UDHCPC_CLIENT["mac"])
            client = lan.udhcpc(first, hostname=UDHCPC_CLIENT["hostname"],
                                vendor_class=UDHCPC_CLIENT["vendor_class"],
                                client_id=bytes.fromhex(UDHCPC_CLIENT["client_id"]), broadcast=True)
            lan.use_address(first, lan.wait_for_lease(first))
            client.wait(timeout=15)
            second = lan.add_host("c2", DHCLIENT_CLIENT["mac"])
            daemon = lan.dhclient(second, hostname=DHCLIENT_CLIENT["hostname"],
                                  vendor_class=DHCLIENT_CLIENT["vendor_class"])
            lan.use_address(second, lan.wait_for_lease(second))
            lan.stop(daemon)
            lan.dhclient_release(second)
            third = lan.add_host("c3", REBOOTING_CLIENT["mac"])
            daemon = lan.dhclient(third, remembered_ip=REBOOTING_CLIENT["remembered_ip"])
            lan.wait_for_lease(third)
            lan.stop(daemon)
            time.sleep(1)
        finally:
            _stop(tcpdump)
    frames = read_pcap(pcap)
    shutil.rmtree(workdir, ignore_errors=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "about": ("Frames recorded with tcpdump on a bridge joining dnsmasq 2.90 (server "
                  f"{SERVER_IP}, range {LEASE_RANGE[0]}-{LEASE_RANGE[1]}) and two clients in network "
                  "namespaces: busybox 1.35 udhcpc (-B, -x hostname, -V, -x 0x3d), ISC dhclient 4.4.3 "
                  "(send host-name, vendor-class-identifier; then dhclient -r), and a second dhclient "
                  "remembering a lease from another LAN (INIT-REBOOT REQUEST, NAK, then DISCOVER). "
                  "tcpdump makes the bridge promiscuous, so unicast replies are here too. Regenerate with "
                  "`python tests/integration/dhcp_lan.py capture tests/unit/agent/data/dhcp_frames.json`."),
        "server": {"ip": SERVER_IP, "mac": SERVER_MAC},
        "udhcpc": UDHCPC_CLIENT,
        "dhclient": DHCLIENT_CLIENT,
        "rebooting": REBOOTING_CLIENT,
        "frames": [frame.hex() for frame in frames],
    }, indent=1) + "\n")
    print(f"wrote {len(frames)} frames to {output}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    capture = commands.add_parser("capture", help="record the unit tests' fixture (root, builds namespaces)")
    capture.add_argument("output", type=Path)
    hostile = commands.add_parser("blast", help="malformed DHCP and an ARP flood, from inside a namespace")
    hostile.add_argument("--interface", required=True)
    hostile.add_argument("--malformed-rounds", type=int, default=10)
    hostile.add_argument("--flood-frames", type=int, default=10_000)
    hostile.add_argument("--flood-pps", type=float, default=5_000)
    hostile.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "capture":
        capture_fixture(args.output)
    else:
        print(json.dumps(blast(args.interface, args.malformed_rounds, args.flood_frames, args.flood_pps, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

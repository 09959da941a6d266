"""One device, one record, and no student name on the wire: real agent, collector, DHCP and mDNS peers.

A namespaced LAN (tests/integration/dhcp_lan.py: a bridge, dnsmasq in its own
namespace) carries two iPad-like hosts:

  * "kid" changes its randomised MAC five times. Every time it asks dnsmasq
    for a lease with busybox udhcpc (same client id, hostname
    "Janes-iPad") and announces itself over mDNS with python-zeroconf in its
    namespace (host janes-ipad.local., "Jane's iPad" _companion-link and
    _device-info with model iPad13,1).
  * "other" has the same vendor class, the same fingerprint and the same
    model, but its own client id and the generic hostname "iPad".

A real `headcount-agent run` sweeps, listens passively and browses mDNS on
the bridge, with the site's student names pseudonymised, and streams to a
real collector on 127.0.0.1 while tcpdump records that stream.

It must end with kid's five MACs as one device, other as a second, and the
name "Jane" nowhere: not in the captured gRPC bytes, the database file, the
agent's DEBUG log or its status file.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from headcount.v1 import inventory_pb2 as pb
from headcount.v1 import inventory_pb2_grpc as pb_grpc

from .dhcp_lan import DhcpLan
from .helpers import read_status, start_collector, stop, wait_for

pytestmark = [pytest.mark.netns, pytest.mark.slow]

RESPONDER = Path(__file__).with_name("mdns_responder.py")
BRIDGE_ADDRESS = "198.18.200.2"
KID_CLIENT_ID = b"\xffjane-ipad-uuid-5d1c"     # option 61: kept by the device across MAC changes
OTHER_CLIENT_ID = b"\xffother-ipad-uuid-9a27"
IPAD_VENDOR_CLASS = "dhcpcd-9.4.1:Darwin"     # same for both hosts: weak evidence, never links
SECRET = "district-key-for-tests-0123456789"
RAW_NAMES = (b"jane", b"Jane", b"JANE")


def random_local_mac() -> str:
    first = (secrets.randbits(8) & 0xFC) | 0x02          # unicast, locally administered
    return ":".join(f"{octet:02x}" for octet in [first, *secrets.token_bytes(5)])


def services(name: str, model: str = "iPad13,1") -> list[str]:
    return [json.dumps({"type": "_companion-link._tcp.local.", "instance": name, "port": 49152,
                        "txt": ["rpMd=" + model, "rpVr=510.12"]}),
            json.dumps({"type": "_device-info._tcp.local.", "instance": name, "port": 0, "txt": ["model=" + model]})]


class Responder:
    """python-zeroconf announcing one host's services from inside its namespace."""

    def __init__(self, lan: DhcpLan, namespace: str, workdir: Path):
        self.lan, self.namespace, self.workdir = lan, namespace, workdir
        self.process: subprocess.Popen | None = None

    def start(self, address: str, host: str, instance: str) -> None:
        self.stop()
        ready = self.workdir / f"ready-{self.namespace}-{address}"
        argv = [sys.executable, str(RESPONDER), "serve", "--address", address, "--host", host,
                "--ready-file", str(ready)]
        for spec in services(instance):
            argv += ["--service", spec]
        self.process = self.lan.start_in(self.namespace, argv, log_name=f"mdns-{self.namespace}")
        wait_for(ready.exists, 20, f"the mDNS responder in {self.namespace}")

    def stop(self) -> None:
        if self.process is not None:
            self.lan.stop(self.process)
            self.process = None


def lease(lan: DhcpLan, namespace: str, *, mac: str, hostname: str, client_id: bytes) -> str:
    """Give the namespace's eth0 a new MAC, get a lease for it with udhcpc, and use the address."""
    for command in (["link", "set", "eth0", "down"], ["link", "set", "eth0", "address", mac],
                    ["addr", "flush", "dev", "eth0"], ["link", "set", "eth0", "up"]):
        subprocess.run(["ip", "-n", namespace, *command], check=True, capture_output=True)
    marker = lan.workdir / f"lease-{namespace}"
    marker.unlink(missing_ok=True)
    client = lan.udhcpc(namespace, hostname=hostname, vendor_class=IPAD_VENDOR_CLASS, client_id=client_id)
    address = lan.wait_for_lease(namespace)
    client.wait(timeout=15)
    lan.use_address(namespace, address)
    return address


def device_of(stub, mac: str) -> pb.Device | None:
    try:
        response = stub.GetDevice(pb.GetDeviceRequest(mac=mac), timeout=5)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return response.devices[0] if response.devices else None


@pytest.fixture
def tcpdump_available():
    if shutil.which("tcpdump") is None:
        pytest.skip("needs tcpdump (Debian package tcpdump) to read the bytes on the wire")


def test_a_host_changing_its_mac_five_times_is_one_device_and_its_name_never_leaves_the_agent(
        tmp_path, netns_allowed, no_leftover_namespaces, tcpdump_available):
    key = tmp_path / "district.key"
    key.write_text(SECRET + "\n")
    with DhcpLan(tmp_path / "lan") as lan:
        no_leftover_namespaces(lan.tag)
        # The agent sweeps and browses from the bridge, so it needs an address there.
        subprocess.run(["ip", "addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", lan.bridge], check=True)
        kid = lan.add_host("kid", random_local_mac())
        other = lan.add_host("oth", random_local_mac())
        collector, address = start_collector(tmp_path)
        port = address.rsplit(":", 1)[1]
        capture = tmp_path / "wire.pcap"
        tcpdump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", str(capture), f"tcp port {port}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        agent = None
        kid_responder = Responder(lan, kid, tmp_path)
        other_responder = Responder(lan, other, tmp_path)
        try:
            time.sleep(1)   # tcpdump opens its socket before the agent connects
            config = tmp_path / "agent.toml"
            config.write_text("\n".join([
                "[agent]", 'site = "merge-school"', 'id = "merge-agent"', f'collector = "{address}"',
                f'state_dir = "{tmp_path / "state"}"', "scan_interval = 4", "heartbeat_interval = 5", "",
                "[arp]", f'interface = "{lan.bridge}"', 'subnets = ["198.18.200.0/24"]', "timeout = 0.5", "",
                "[hostfacts]", "enabled = false", "",
                "[passive]", "flush_interval = 1", "",
                "[mdns]", 'service_types = ["_companion-link._tcp", "_device-info._tcp"]', "browse_time = 2", "",
                "[privacy]", 'student_names = "pseudonymise"', f'secret_file = "{key}"', "",
            ]) + "\n")
            status = tmp_path / "status.json"
            agent_log = tmp_path / "agent.log"
            agent = subprocess.Popen([sys.executable, "-m", "headcount.agent", "--log-level", "DEBUG", "run",
                                      "--config", str(config), "--status-file", str(status)],
                                     stdout=open(agent_log, "ab"), stderr=subprocess.STDOUT)
            wait_for(lambda: (read_status(status).get("passive") or {}).get("stats") is not None, 30,
                     "the agent's passive listener")

            channel = grpc.insecure_channel(address)
            stub = pb_grpc.QueryStub(channel)

            other_ip = lease(lan, other, mac=lan_mac(other), hostname="iPad", client_id=OTHER_CLIENT_ID)
            other_responder.start(other_ip, "ipad.local.", "iPad")
            kid_macs = []
            for change in range(5):
                mac = lan_mac(kid) if change == 0 else random_local_mac()
                kid_ip = lease(lan, kid, mac=mac, hostname="Janes-iPad", client_id=KID_CLIENT_ID)
                kid_responder.start(kid_ip, "Janes-iPad.local.", "Jane's iPad")
                kid_macs.append(mac)
                # Each MAC must reach the collector, linked, before the next change.
                wait_for(lambda: _linked(stub, kid_macs), 60, f"MAC {change + 1} of 5 linked at the collector")

            devices = [device_of(stub, mac) for mac in kid_macs]
            assert len({device.device_id for device in devices}) == 1, [d.device_id for d in devices]
            assert set(devices[-1].linked_macs) == set(kid_macs[:-1])
            assert devices[-1].device_class == "ipad", list(devices[-1].class_evidence)
            assert devices[-1].link_evidence, "a link must say why"
            other_device = device_of(stub, lan_mac(other))
            assert other_device is not None and other_device.device_id != devices[0].device_id
            assert other_device.device_class == "ipad"

            site = next(s for s in stub.ListSites(pb.ListSitesRequest(), timeout=5).sites if s.site == "merge-school")
            # kid (5 MACs), other, and the dnsmasq server, whose MAC is locally administered too.
            assert site.devices == 3, site
            assert (site.stable_devices, site.randomised_devices) == (0, 3), site
            channel.close()
        finally:
            if agent is not None:
                stop(agent)
            kid_responder.stop()
            other_responder.stop()
            stop(tcpdump)
            stop(collector)

    wire = capture.read_bytes()
    assert len(wire) > 10_000, "the capture holds the agent's stream"
    from headcount.agent.privacy import pseudonym

    assert pseudonym("Janes-iPad", SECRET.encode()).encode() in wire   # names travel, as pseudonyms
    for place, data in (("the gRPC stream", wire), ("the database", _database_bytes(tmp_path)),
                        ("the agent's DEBUG log", agent_log.read_bytes()), ("the status file", status.read_bytes())):
        for raw in RAW_NAMES:
            assert raw not in data, f"{raw!r} found in {place}"


def lan_mac(namespace: str) -> str:
    output = subprocess.run(["ip", "-n", namespace, "-j", "link", "show", "eth0"], capture_output=True, text=True,
                            check=True).stdout
    return json.loads(output)[0]["address"]


def _linked(stub, macs: list[str]) -> bool:
    devices = [device_of(stub, mac) for mac in macs]
    return all(devices) and len({device.device_id for device in devices}) == 1


def _database_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.glob("headcount.db*"))


def test_a_device_that_joins_between_sweeps_reaches_the_collector_within_seconds(
        tmp_path, netns_allowed, no_leftover_namespaces):
    """Sweeps are 10 minutes apart here: only passive listening can bring the newcomer in."""
    with DhcpLan(tmp_path / "lan") as lan:
        no_leftover_namespaces(lan.tag)
        subprocess.run(["ip", "addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", lan.bridge], check=True)
        collector, address = start_collector(tmp_path)
        agent = None
        try:
            config = tmp_path / "agent.toml"
            config.write_text("\n".join([
                "[agent]", 'site = "join-school"', 'id = "join-agent"', f'collector = "{address}"',
                f'state_dir = "{tmp_path / "state"}"', "scan_interval = 600", "",
                "[arp]", f'interface = "{lan.bridge}"', 'subnets = ["198.18.200.0/24"]', "timeout = 0.5", "",
                "[hostfacts]", "enabled = false", "", "[mdns]", "enabled = false", "",
                "[passive]", "flush_interval = 1", "",
                "[privacy]", 'student_names = "keep"', "",
            ]) + "\n")
            status = tmp_path / "status.json"
            agent = subprocess.Popen([sys.executable, "-m", "headcount.agent", "run", "--config", str(config),
                                      "--status-file", str(status)],
                                     stdout=open(tmp_path / "agent.log", "ab"), stderr=subprocess.STDOUT)
            wait_for(lambda: read_status(status).get("scans_completed", 0) >= 1
                     and (read_status(status).get("passive") or {}).get("stats") is not None,
                     60, "the first sweep and the passive listener")
            newcomer = lan.add_host("new", "3c:22:fb:5e:00:01")   # an Apple OUI: a real vendor for the row
            joined = time.monotonic()
            lan.udhcpc(newcomer, hostname="cart-3-laptop-12", vendor_class="MSFT 5.0", client_id=b"\x01" + bytes.fromhex("3c22fb5e0001"))
            channel = grpc.insecure_channel(address)
            stub = pb_grpc.QueryStub(channel)
            device = wait_for(lambda: (d := device_of(stub, "3c:22:fb:5e:00:01")) and d.hostname and d, 15,
                              "the newcomer at the collector")
            latency = time.monotonic() - joined
            channel.close()
            print(f"\nnewcomer at the collector {latency:.1f}s after its DHCP client started")
            assert device.hostname == "cart-3-laptop-12"
            assert "passive" in device.sources
            assert read_status(status)["scans_completed"] == 1, "no sweep ran in between"
            assert latency < 10
        finally:
            if agent is not None:
                stop(agent)
            stop(collector)


def test_an_endpoint_agent_joins_the_device_the_site_agent_sees_on_the_network(
        tmp_path, netns_allowed, no_leftover_namespaces):
    """A lab PC (its own namespace) runs the agent in endpoint mode; the school's agent sweeps the LAN.

    The collector listens on the LAN's own address (198.18.200.2), so the lab
    PC reaches it from inside its namespace, as a real one would over the LAN.
    """
    with DhcpLan(tmp_path / "lan") as lan:
        no_leftover_namespaces(lan.tag)
        subprocess.run(["ip", "addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", lan.bridge], check=True)
        lab_mac = "00:14:22:1a:b0:01"                       # a Dell OUI: a burned-in MAC
        lab = lan.add_host("lab", lab_mac, address="198.18.200.60/24")
        collector, address = start_collector(tmp_path, f"{BRIDGE_ADDRESS}:0")
        processes = []
        try:
            site_config = tmp_path / "site.toml"
            site_config.write_text("\n".join([
                "[agent]", 'site = "lab-school"', 'id = "lab-school-agent"', f'collector = "{address}"',
                f'state_dir = "{tmp_path / "site-state"}"', "scan_interval = 600", "",
                "[arp]", f'interface = "{lan.bridge}"', 'subnets = ["198.18.200.0/24"]', "timeout = 0.5", "",
                "[hostfacts]", "enabled = false", "", "[mdns]", "enabled = false", "",
            ]) + "\n")
            endpoint_state = tmp_path / "endpoint-state"
            endpoint_state.mkdir()
            endpoint_config = tmp_path / "endpoint.toml"
            endpoint_config.write_text("\n".join([
                "[agent]", 'site = "lab-school"', 'id = "lab-pc-07"', f'collector = "{address}"',
                f'state_dir = "{endpoint_state}"', 'mode = "endpoint"', "scan_interval = 600", "",
                "[privacy]", 'student_names = "keep"', "",
            ]) + "\n")
            site_status, endpoint_status = tmp_path / "site.json", tmp_path / "endpoint.json"
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "headcount.agent", "run", "--once", "--config", str(site_config),
                 "--status-file", str(site_status)],
                stdout=open(tmp_path / "site.log", "ab"), stderr=subprocess.STDOUT))
            processes.append(lan.start_in(lab, [sys.executable, "-m", "headcount.agent", "run", "--once", "--config",
                                                str(endpoint_config), "--status-file", str(endpoint_status)],
                                          log_name="endpoint-agent"))
            for process in processes:
                assert process.wait(timeout=90) == 0, (tmp_path / "site.log").read_text()[-2000:] + \
                    lan.log_text("endpoint-agent")[-2000:]
            assert read_status(endpoint_status)["scanners"] == ["hostfacts"], "an endpoint never sweeps"

            channel = grpc.insecure_channel(address)
            stub = pb_grpc.QueryStub(channel)
            device = device_of(stub, lab_mac)
            assert device is not None and device.ip == "198.18.200.60"
            assert "arp" in device.sources
            assert device.host.hostname and device.host.endpoint
            assert any(interface.mac == lab_mac for interface in device.host.interfaces)
            assert device.host.disks and device.host.boot_time.seconds > 0
            site = next(s for s in stub.ListSites(pb.ListSitesRequest(), timeout=5).sites if s.site == "lab-school")
            # The lab PC once (seen by ARP and by itself) and the dnsmasq host: two, not three.
            assert site.devices == 2, site
            channel.close()
        finally:
            for process in processes:
                stop(process)
            stop(collector)


def test_scan_json_carries_pseudonyms_never_the_name(tmp_path, netns_allowed, no_leftover_namespaces):
    key = tmp_path / "district.key"
    key.write_text(SECRET + "\n")
    config = tmp_path / "agent.toml"
    with DhcpLan(tmp_path / "lan") as lan:
        no_leftover_namespaces(lan.tag)
        subprocess.run(["ip", "addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", lan.bridge], check=True)
        config.write_text("\n".join([
            "[arp]", f'interface = "{lan.bridge}"', 'subnets = ["198.18.200.0/24"]', "timeout = 0.5", "",
            "[hostfacts]", "enabled = false", "", "[mdns]", "enabled = false", "",
            "[privacy]", 'student_names = "pseudonymise"', f'secret_file = "{key}"', "",
        ]) + "\n")
        kid = lan.add_host("kid", random_local_mac())
        scan = subprocess.Popen([sys.executable, "-m", "headcount.agent", "--log-level", "DEBUG", "scan", "--once",
                                 "--json", "--config", str(config), "--listen", "8", "--no-progress"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(1.5)   # the listener is up before the client asks
            lan.udhcpc(kid, hostname="Jane-Smiths-iPad", vendor_class=IPAD_VENDOR_CLASS, client_id=KID_CLIENT_ID)
            out, err = scan.communicate(timeout=60)
        finally:
            stop(scan)
    document = json.loads(out)
    dhcp = [o for o in document["observations"] if o["kind"] == "dhcp" and o["source"] == "client"]
    assert dhcp, document
    from headcount.agent.privacy import pseudonym

    assert {o["hostname"] for o in dhcp} == {pseudonym("Jane-Smiths-iPad", SECRET.encode())}
    assert all(o["name_policy"] == "pseudonymise" for o in dhcp)
    for raw in RAW_NAMES:
        assert raw not in out and raw not in err, f"{raw!r} in scan output or its DEBUG log"

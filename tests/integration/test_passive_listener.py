"""The passive ARP/DHCP listener: de-duplication and flood caps on fed frames, then on a real LAN.

The first tests feed frames through `handle_frame` with a fake clock, no
sockets. The `netns` tests build tests/integration/dhcp_lan.py's LAN (a
bridge, dnsmasq and real udhcpc/dhclient clients in namespaces, all on
198.18.200.0/24) and run the listener on the bridge in this namespace: it
must hear the clients' names, vendor classes, client ids and fingerprints,
see a device that joins within seconds, and survive a hostile namespace
writing malformed DHCP and a random-MAC ARP flood from a raw socket.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from headcount.agent.config import PassiveSettings
from headcount.agent.errors import ScanError
from headcount.agent.model import ArpSighting, DhcpSighting
from headcount.agent.passive import REPORT_AGAIN_AFTER_S, PassiveListener

from .dhcp_lan import (NOBODY_IP, DhcpLan, arp_request, bootp, ipv4_udp_frame, malformed_dhcp_payloads,
                       tools_missing)

DHCP_LAN_SCRIPT = Path(__file__).with_name("dhcp_lan.py")
START = datetime(2026, 11, 30, 7, 45, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self) -> None:
        self.now = START
        self.monotonic = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.monotonic += seconds


def fed_listener(clock: FakeClock, **settings) -> PassiveListener:
    return PassiveListener(["br-test"], PassiveSettings(**settings), clock=clock,
                           vendor_of=lambda mac: f"vendor of {mac[:8]}", monotonic=lambda: clock.monotonic)


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def arp(mac: str, ip: str) -> bytes:
    return arp_request(mac_bytes(mac), socket.inet_aton(ip), socket.inet_aton(NOBODY_IP))


def dhcp(mac: str, *options: bytes, op: int = 1) -> bytes:
    return ipv4_udp_frame(mac_bytes(mac), bootp(mac_bytes(mac), b"".join(options) + b"\xff", op=op))


def option(code: int, value: bytes) -> bytes:
    return bytes((code, len(value))) + value


DISCOVER, REQUEST = option(53, b"\x01"), option(53, b"\x03")
PHONE = "3c:22:fb:00:00:01"


# ---------------------------------------------------------------- fed frames, no sockets


def test_repeats_are_reported_once_then_again_after_the_refresh_interval():
    clock = FakeClock()
    listener = fed_listener(clock)
    for _ in range(100):
        listener.handle_frame(arp(PHONE, "198.18.200.7"), "br-test")
        clock.advance(0.01)
    (heard,) = listener.drain()
    assert heard == ArpSighting(mac=PHONE, ip="198.18.200.7", vendor="vendor of 3c:22:fb", locally_administered=False,
                                interface="br-test", observed_at=heard.observed_at, scanner="passive")
    assert heard.observed_at == START + timedelta(seconds=0.99)        # the newest of the burst
    assert listener.drain() == []

    clock.advance(60)
    listener.handle_frame(arp(PHONE, "198.18.200.7"), "br-test")
    assert listener.drain() == [], "a repeat within five minutes is not news"
    listener.handle_frame(arp(PHONE, "198.18.200.8"), "br-test")
    assert [s.ip for s in listener.drain()] == ["198.18.200.8"], "a new address is"

    clock.advance(REPORT_AGAIN_AFTER_S)
    for _ in range(10):
        listener.handle_frame(arp(PHONE, "198.18.200.7"), "br-test")
    assert [s.ip for s in listener.drain()] == ["198.18.200.7"], "after five minutes, once, to refresh last_seen"
    listener.handle_frame(arp(PHONE, "198.18.200.7"), "br-test")
    assert listener.drain() == []
    assert listener.stats()["arp"] == 113 and listener.stats()["tracked"] == 1


def test_newest_dhcp_sighting_per_message_content():
    clock = FakeClock()
    listener = fed_listener(clock)
    name = option(12, b"cart07-ipad")
    for _ in range(5):
        listener.handle_frame(dhcp(PHONE, DISCOVER, name, option(55, b"\x01\x03\x06")), "br-test")
        clock.advance(1)
    listener.handle_frame(dhcp(PHONE, REQUEST, name, option(50, bytes((198, 18, 200, 7)))), "br-test")
    discover, request = listener.drain()
    assert isinstance(discover, DhcpSighting) and discover.message_type == "DISCOVER"
    assert discover.observed_at == START + timedelta(seconds=4) and discover.fingerprint == "1,3,6"
    assert request.message_type == "REQUEST" and request.requested_ip == "198.18.200.7"
    assert listener.stats()["dhcp"] == 6
    listener.handle_frame(dhcp(PHONE, DISCOVER, name, option(55, b"\x01\x03\x06")), "br-test")
    assert listener.drain() == []
    listener.handle_frame(dhcp(PHONE, DISCOVER, option(12, b"renamed"), option(55, b"\x01\x03\x06")), "br-test")
    assert [s.hostname for s in listener.drain()] == ["renamed"]


def test_token_bucket_caps_parsing_and_arp_cannot_starve_dhcp():
    clock = FakeClock()
    listener = fed_listener(clock, max_packets_per_second=20)     # 10 a second each for ARP and DHCP
    for index in range(100):
        listener.handle_frame(arp(f"3c:22:fb:00:01:{index:02x}", "198.18.200.9"), "br-test")
    listener.handle_frame(dhcp(PHONE, DISCOVER), "br-test")
    stats = listener.stats()
    assert (stats["packets_seen"], stats["arp"], stats["dropped_rate_limited"], stats["dhcp"]) == (101, 10, 90, 1)
    clock.advance(0.5)
    for index in range(100):
        listener.handle_frame(arp(f"3c:22:fb:00:02:{index:02x}", "198.18.200.9"), "br-test")
    assert listener.stats()["arp"] == 15                           # half a second refills five tokens
    assert PHONE in {s.mac for s in listener.drain()}


def test_random_mac_flood_keeps_memory_bounded_by_evicting_the_longest_silent():
    clock = FakeClock()
    listener = fed_listener(clock, max_tracked_devices=50, max_packets_per_second=1_000_000)
    listener.handle_frame(arp(PHONE, "198.18.200.7"), "br-test")
    assert len(listener.drain()) == 1
    rng = random.Random(7)
    for _ in range(5000):
        mac = bytearray(rng.randbytes(6))
        mac[0] &= 0xFE
        sender_ip = bytes((198, 18, rng.randrange(256), rng.randrange(1, 255)))
        listener.handle_frame(arp_request(bytes(mac), sender_ip, b"\0" * 4), "br-test")
    stats = listener.stats()
    assert stats["tracked"] == 50 and stats["evicted"] >= 4900
    heard = listener.drain()
    assert len(heard) <= 50 and PHONE not in {s.mac for s in heard}
    # Forgotten, so heard again it is news again: that is the price of bounded memory.
    listener.handle_frame(arp(PHONE, "198.18.200.7"), "br-test")
    assert [s.mac for s in listener.drain()] == [PHONE]


def test_one_mac_claiming_endless_addresses_stays_bounded():
    clock = FakeClock()
    listener = fed_listener(clock, max_packets_per_second=1_000_000)
    for index in range(5000):
        listener.handle_frame(arp(PHONE, f"198.18.{200 + index // 250}.{1 + index % 250}"), "br-test")
    heard = listener.drain()
    assert 0 < len(heard) <= 16 and listener.stats()["tracked"] == 1


def test_malformed_and_unexpected_frames_are_counted_never_raised():
    clock = FakeClock()

    def broken_vendor(mac: str) -> str:
        raise RuntimeError(f"lookup failed for {mac}")

    listener = PassiveListener(["br-test"], PassiveSettings(), clock=clock, vendor_of=broken_vendor,
                               monotonic=lambda: clock.monotonic)
    attacker = mac_bytes("3c:22:fb:00:00:66")
    for payload in malformed_dhcp_payloads(attacker):
        listener.handle_frame(ipv4_udp_frame(attacker, payload), "br-test")
    listener.handle_frame(arp(PHONE, "198.18.200.7")[:30], "br-test")    # truncated ARP
    listener.handle_frame(arp(PHONE, "198.18.200.7"), "br-test")         # parses, but the vendor lookup breaks
    listener.handle_frame(b"", "br-test")
    listener.handle_frame(b"\x00" * 14 + b"\x86\xdd", "br-test")          # IPv6: not ours
    listener.handle_frame(arp(PHONE, "0.0.0.0"), "br-test")              # a probe: nothing to report
    stats = listener.stats()
    assert stats["malformed"] == len(malformed_dhcp_payloads(attacker)) + 2
    assert stats["ignored"] == 3 and stats["packets_seen"] == len(malformed_dhcp_payloads(attacker)) + 5
    assert listener.drain() == []


def test_hostnames_never_reach_the_log(caplog):
    caplog.set_level(logging.DEBUG, logger="headcount")
    clock = FakeClock()
    listener = fed_listener(clock)
    secret = b"jane-doe-grade4"
    listener.handle_frame(dhcp(PHONE, DISCOVER, option(12, secret), option(60, b"MSFT 5.0")), "br-test")
    listener.handle_frame(dhcp(PHONE, DISCOVER, option(12, secret), option(53, b"\x01\x02")), "br-test")  # malformed
    heard = listener.drain()
    assert [s.hostname for s in heard] == ["jane-doe-grade4"]
    listener.stats()
    listener.stop()
    assert "jane" not in caplog.text.lower() and "grade4" not in caplog.text


def test_start_refuses_a_missing_interface_and_stop_is_idempotent():
    listener = PassiveListener(["hcnosuch0"], PassiveSettings())
    listener.stop()                                                      # before start: nothing to do
    with pytest.raises(ScanError, match="hcnosuch0: no such network interface"):
        listener.start()
    listener.stop()
    listener.stop()
    with pytest.raises(ScanError, match="no interface to listen on"):
        PassiveListener([], PassiveSettings()).start()


def test_start_without_raw_sockets_says_cap_net_raw():
    code = ("from headcount.agent.passive import PassiveListener; from headcount.agent.config import PassiveSettings\n"
            "try:\n    PassiveListener(['lo'], PassiveSettings()).start()\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)")
    # As root, a child without CAP_NET_RAW in its bounding set (so not in its effective set
    # either); as anyone else, this process lacks it already.
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root this needs setpriv (util-linux) to drop CAP_NET_RAW")
        prefix = ["setpriv", "--bounding-set=-net_raw", "--"]
    result = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.startswith("ScanError passive listening on lo needs raw sockets"), result.stdout + result.stderr
    assert "CAP_NET_RAW" in result.stdout


# ---------------------------------------------------------------- a real LAN


@pytest.fixture
def lan(tmp_path, netns_allowed, no_leftover_namespaces):
    missing = tools_missing()
    if missing:
        why = f"needs {', '.join(missing)} (Debian packages dnsmasq, udhcpc, isc-dhcp-client)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but {why}")      # as tests/conftest.py does: a skip would hide it
        pytest.skip(why)
    dhcp_lan = DhcpLan(tmp_path / "lan")
    no_leftover_namespaces(dhcp_lan.tag)
    with dhcp_lan:
        yield dhcp_lan


def collect_until(listener: PassiveListener, found, timeout: float, what: str) -> list:
    """Drain every 50 ms, keeping everything, until found(heard) is true."""
    heard: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        heard += listener.drain()
        if found(heard):
            return heard
        time.sleep(0.05)
    dhcp_heard = [(s.mac, s.message_type, s.source) for s in heard if isinstance(s, DhcpSighting)]
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; heard {len(heard)} sightings, "
                         f"DHCP: {dhcp_heard[-20:]}; stats {listener.stats()}")


def dhcp_of(heard: list, mac: str, message_type: str, source: str = "client") -> DhcpSighting | None:
    return next((s for s in heard if isinstance(s, DhcpSighting) and s.mac == mac
                 and s.message_type == message_type and s.source == source), None)


def arp_of(heard: list, mac: str, ip: str) -> ArpSighting | None:
    return next((s for s in heard if isinstance(s, ArpSighting) and s.mac == mac and s.ip == ip), None)


@pytest.mark.netns
def test_hears_real_udhcpc_and_dhclient_clients(lan):
    ipad, desktop = "3c:22:fb:c8:10:0a", "00:14:22:c8:10:0b"
    with PassiveListener([lan.bridge], PassiveSettings()) as listener:
        first = lan.add_host("c1", ipad)
        second = lan.add_host("c2", desktop)
        lan.udhcpc(first, hostname="cart07-ipad", vendor_class="udhcp-cart", client_id=b"\x01cart07",
                   broadcast=True)
        lan.dhclient(second, hostname="lab3-desktop-12", vendor_class="dhclient-lab")
        first_ip, second_ip = lan.wait_for_lease(first), lan.wait_for_lease(second)
        lan.use_address(first, first_ip)
        lan.use_address(second, second_ip)
        heard = collect_until(listener, lambda h: dhcp_of(h, ipad, "ACK", "server") and arp_of(h, ipad, first_ip)
                              and dhcp_of(h, desktop, "REQUEST") and arp_of(h, desktop, second_ip),
                              10, "both clients' DHCP and ARP")

        discover = dhcp_of(heard, ipad, "DISCOVER")
        assert (discover.hostname, discover.vendor_class, discover.client_id) == (
            "cart07-ipad", "udhcp-cart", b"\x01cart07")
        assert discover.fingerprint == "1,3,6,12,15,28,42" and discover.interface == lan.bridge
        assert dhcp_of(heard, ipad, "REQUEST").requested_ip == first_ip
        assert dhcp_of(heard, ipad, "ACK", "server").ip == first_ip         # -B: the server broadcast its ACK
        request = dhcp_of(heard, desktop, "REQUEST")
        assert (request.hostname, request.vendor_class, request.client_id) == ("lab3-desktop-12", "dhclient-lab", b"")
        assert request.fingerprint == "1,28,2,3,15,6,119,12,26,121,42" and request.requested_ip == second_ip
        ipad_arp = arp_of(heard, ipad, first_ip)
        assert ipad_arp.scanner == "passive" and ipad_arp.vendor == "Apple, Inc." and not ipad_arp.locally_administered
        assert arp_of(heard, desktop, second_ip).vendor == "Dell Inc."
        assert all(s.scanner == "passive" for s in heard)
        assert len(heard) == len({(type(s), s.mac, getattr(s, "message_type", ""), s.ip) for s in heard}), \
            "no sighting twice"

        # The kernel filter: broadcast UDP to another port, and frames this namespace sends
        # itself, never reach the listener.
        before = listener.stats()["packets_seen"]
        lan.send_udp(first, "198.18.200.255", 9, count=200)
        own = "3c:22:fb:c8:10:99"
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0) as sender:
            sender.bind((lan.bridge, 0))
            for _ in range(20):
                sender.send(arp(own, "198.18.200.98"))
        time.sleep(0.3)
        assert listener.stats()["packets_seen"] - before < 5
        assert own not in {s.mac for s in listener.drain()}
        stats = listener.stats()
    assert stats["malformed"] == 0 and stats["dropped_rate_limited"] == 0
    print(f"\nPASSIVE FIGURES: heard {len(heard)} sightings from 2 real clients; stats {stats}")


@pytest.mark.netns
def test_a_device_that_joins_later_appears_within_seconds(lan):
    laptop = "f4:f5:d8:c8:10:0c"
    with PassiveListener([lan.bridge], PassiveSettings()) as listener:
        time.sleep(0.5)                                                  # listening, nothing happening
        assert listener.drain() == []
        joined = time.monotonic()
        namespace = lan.add_host("c3", laptop)
        lan.udhcpc(namespace, hostname="late-laptop")
        heard = collect_until(listener, lambda h: dhcp_of(h, laptop, "DISCOVER"), 5, "the newcomer's DISCOVER")
        appeared = time.monotonic() - joined
        ip = lan.wait_for_lease(namespace)
        lan.use_address(namespace, ip)
        heard += collect_until(listener, lambda h: arp_of(h, laptop, ip), 5, "the newcomer's ARP")
        with_address = time.monotonic() - joined
    assert dhcp_of(heard, laptop, "DISCOVER").hostname == "late-laptop"
    assert appeared < 3
    print(f"\nPASSIVE FIGURES: new device's DISCOVER drained {appeared:.2f}s after its namespace was created; "
          f"its address (ARP) {with_address:.2f}s after")


@pytest.mark.netns
def test_survives_malformed_dhcp_and_a_random_mac_arp_flood(lan):
    cap, rate = 100, 400                       # ARP and DHCP get 200 parsed frames a second each
    hostile = lan.add_host("bad", "da:a1:19:c8:66:66")
    real = "3c:22:fb:c8:10:0d"
    settings = PassiveSettings(max_packets_per_second=rate, max_tracked_devices=cap)
    with PassiveListener([lan.bridge], settings) as listener:
        blaster = lan.start_in(hostile, [sys.executable, str(DHCP_LAN_SCRIPT), "blast", "--interface", "eth0",
                                         "--malformed-rounds", "10", "--flood-frames", "16000",
                                         "--flood-pps", "4000"], log_name="blast")
        started = time.monotonic()
        heard = collect_until(listener, lambda h: len(h) > 50, 10, "the flood to begin")
        namespace = lan.add_host("c4", real)
        lan.udhcpc(namespace, hostname="real-chromebook", vendor_class="real-vendor")
        ip = lan.wait_for_lease(namespace)
        lan.use_address(namespace, ip)
        # DHCP has its own half of the budget, so the flood cannot hide it. The client's
        # one ARP frame competes with the flood for the ARP half, so it is not awaited here.
        heard += collect_until(listener, lambda h: dhcp_of(h, real, "REQUEST"), 10, "the real client's DHCP")
        found_during_flood = blaster.poll() is None
        blaster.wait(timeout=30)
        flood_seconds = time.monotonic() - started
        sent = json.loads(lan.log_text("blast").strip().splitlines()[-1])
        stats = listener.stats()
        # Once the flood is over, ARP is heard again at once.
        lan.announce(namespace)
        heard += collect_until(listener, lambda h: arp_of(h, real, ip), 5, "the real client's ARP after the flood")
        thread_alive = listener._thread is not None and listener._thread.is_alive()
    print(f"\nPASSIVE FIGURES: hostile host sent {sent} in {flood_seconds:.1f}s; listener stats {stats}; "
          f"real client found while the flood ran: {found_during_flood}")
    assert blaster.returncode == 0, lan.log_text("blast")
    assert thread_alive
    # At least what the hostile host sent: dnsmasq answers its hlen-16 DISCOVER with an OFFER
    # that echoes hlen 16, and the listener counts that as malformed too.
    assert stats["malformed"] >= sent["malformed"] > 0
    assert stats["dropped_rate_limited"] > 0
    assert stats["tracked"] <= cap and stats["evicted"] > 0
    assert stats["arp"] <= rate / 2 * (flood_seconds + 2)
    assert found_during_flood, "the real client should be heard while the flood is still running"
    assert dhcp_of(heard, real, "DISCOVER").hostname == "real-chromebook"

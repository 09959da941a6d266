"""Passive listening: hear ARP and DHCP between sweeps, so a device that joins shows up within seconds.

One AF_PACKET socket per interface, each with a classic BPF program run in
the kernel that keeps only ARP and IPv4 UDP frames to or from ports 67/68
(also behind one 802.1Q tag) and never the agent's own outgoing frames, so a
busy LAN costs almost nothing above the kernel. One daemon thread select()s
over the sockets and hands each frame to the pure parsers in agent/dhcp.py.

Everything heard is hostile until parsed: a malformed frame is counted and
dropped, never raised; a flood is capped twice. A token bucket limits how
many frames a second are parsed (ARP and DHCP each get half, so an ARP storm,
the common flood, cannot hide the DHCP that announces new devices); frames
beyond it are read and dropped, counted. And at most `max_tracked_devices`
MACs are remembered, the longest-silent forgotten first (counted), so a
flood of random source MACs costs bounded memory.

`drain()` returns what was heard since the last drain, de-duplicated: one
ArpSighting per (MAC, IP, interface), the newest DhcpSighting per (MAC,
message content). What was already reported is not reported again until
REPORT_AGAIN_AFTER_S has passed, so a device that repeats itself every
second costs the collector one observation per five minutes, enough to keep
its last_seen fresh.

Host names heard in DHCP are often students' names: they go into the
sightings (the runner applies the site's name policy) and never into a log
message; the logs carry counts only.
"""

from __future__ import annotations

import ctypes
import logging
import os
import select
import socket
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Union

from headcount import macaddr

from .config import PassiveSettings
from .dhcp import (DHCP_CLIENT_PORT, DHCP_SERVER_PORT, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_VLAN,
                   MalformedFrameError, parse_arp_frame, parse_dhcp_frame)
from .errors import ScanError
from .model import ArpSighting, DhcpSighting
from .scanners.arp import SO_ATTACH_FILTER, oui_vendor
from .scanners.base import utc_now

log = logging.getLogger(__name__)

Sighting = Union[ArpSighting, DhcpSighting]

# A device that keeps saying the same thing is reported again after this long, so its
# last_seen stays fresh without one observation per packet.
REPORT_AGAIN_AFTER_S = 300.0
# Distinct things remembered per MAC (an IP, a DHCP message): a normal DHCP life is
# DISCOVER, OFFER, REQUEST, ACK, renewals and an ARP or two. The cap keeps one MAC that
# claims a new IP or host name every packet from growing without bound.
MAX_KEYS_PER_DEVICE = 16
# Asked of the kernel, which caps it at net.core.rmem_max (208 KiB by default, doubled):
# about a thousand queued frames, a morning's burst of DHCP, never more.
RECEIVE_BUFFER_BYTES = 1 << 20
# Bytes kept per frame. DHCP is never sent in jumbo frames; a longer frame is cut here
# and its IP length check then reports it as malformed.
SNAPLEN = 2048
# Frames read from one socket before going back to select(), so one busy interface
# cannot starve another.
READ_BATCH = 64
# Pause after each read so that a steady trickle of broadcasts is read a few frames
# at a time: 200 frames/s cost about 5% of a core read one by one. The socket
# buffer holds far more than arrives in this time at the rate cap.
GATHER_S = 0.02

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SKF_AD_PKTTYPE = 0xFFFFF000 + 4   # SKF_AD_OFF + SKF_AD_PKTTYPE: the kernel's packet type, not frame bytes

_LD_W_ABS, _LD_H_ABS, _LD_B_ABS, _LD_H_IND, _LDX_B_MSH = 0x20, 0x28, 0x30, 0x48, 0xB1
_JEQ, _JSET, _RET = 0x15, 0x45, 0x06


def _ipv4_udp_dhcp(base: int) -> list[tuple]:
    """BPF for an IPv4 header at `base`: keep UDP to or from port 67/68, unless it is a fragment."""
    return [
        (_LD_B_ABS, base + 9),                        # protocol
        (_JEQ, 17, None, "drop"),
        (_LD_H_ABS, base + 6),                        # flags and fragment offset
        (_JSET, 0x3FFF, "drop", None),                # MF or an offset: no whole DHCP message here
        (_LDX_B_MSH, base),                           # X = IP header length
        (_LD_H_IND, base),                            # UDP source port
        (_JEQ, DHCP_SERVER_PORT, "keep", None),
        (_JEQ, DHCP_CLIENT_PORT, "keep", None),
        (_LD_H_IND, base + 2),                        # UDP destination port
        (_JEQ, DHCP_SERVER_PORT, "keep", None),
        (_JEQ, DHCP_CLIENT_PORT, "keep", "drop"),
    ]


# Jumps name labels (None: fall through); `_assemble` turns them into the relative offsets
# classic BPF wants, so the program can be read and changed without counting lines.
_PROGRAM: list[tuple] = [
    (_LD_W_ABS, SKF_AD_PKTTYPE),
    (_JEQ, PACKET_OUTGOING, "drop", None),            # our own frames, e.g. the ARP sweep's 1,000/s requests
    (_LD_H_ABS, 12),                                  # ethertype
    (_JEQ, ETHERTYPE_ARP, "keep", None),
    (_JEQ, ETHERTYPE_VLAN, "vlan", None),
    (_JEQ, ETHERTYPE_IPV4, None, "drop"),
    *_ipv4_udp_dhcp(14),
    "vlan",
    (_LD_H_ABS, 16),                                  # ethertype inside the 802.1Q tag
    (_JEQ, ETHERTYPE_ARP, "keep", None),
    (_JEQ, ETHERTYPE_IPV4, None, "drop"),
    *_ipv4_udp_dhcp(18),
    "keep",
    (_RET, SNAPLEN),
    "drop",
    (_RET, 0),
]


def _assemble(program: list) -> list[tuple[int, int, int, int]]:
    """(code, jt, jf, k) instructions from the labelled program above."""
    labels, index = {}, 0
    for item in program:
        if isinstance(item, str):
            labels[item] = index
        else:
            index += 1
    instructions = []
    for item in program:
        if isinstance(item, str):
            continue
        position = len(instructions)
        code, k, *jumps = item
        offsets = [0 if target is None else labels[target] - position - 1 for target in jumps] + [0, 0]
        instructions.append((code, offsets[0], offsets[1], k))
    return instructions


PASSIVE_FILTER = _assemble(_PROGRAM)


def _attach_filter(sock: socket.socket) -> None:
    program = b"".join(struct.pack("HBBI", *instruction) for instruction in PASSIVE_FILTER)
    buffer = ctypes.create_string_buffer(program)
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                    struct.pack("HL", len(PASSIVE_FILTER), ctypes.addressof(buffer)))


def _frame_kind(frame: bytes) -> str:
    """"arp", "dhcp" or "other" from the ethertype alone: the kernel filter already did the rest."""
    ethertype = frame[12:14]
    if ethertype == b"\x81\x00":
        ethertype = frame[16:18]
    if ethertype == b"\x08\x06":
        return "arp"
    if ethertype == b"\x08\x00":
        return "dhcp"
    return "other"


class _TokenBucket:
    """Up to `rate` tokens a second, at most one second's worth saved up."""

    __slots__ = ("rate", "capacity", "tokens", "updated")

    def __init__(self, rate: float, now: float):
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class _Device:
    """What one MAC said since the last drain, and when each thing it said was last reported."""

    __slots__ = ("pending", "reported")

    def __init__(self) -> None:
        self.pending: dict[tuple, Sighting] = {}
        # hash of the key -> clock timestamp: small, and a 64-bit collision only delays a report
        self.reported: dict[int, float] = {}


class PassiveListener:
    """Hears ARP and DHCP on `interfaces` in a background thread; `drain()` what is new every so often."""

    def __init__(self, interfaces: Sequence[str], settings: PassiveSettings,
                 clock: Callable[[], datetime] = utc_now, vendor_of: Callable[[str], str] = oui_vendor,
                 monotonic: Callable[[], float] = time.monotonic):
        self.interfaces = tuple(dict.fromkeys(interfaces))
        self.settings = settings
        self._clock = clock
        self._vendor_of = vendor_of
        self._monotonic = monotonic
        now = monotonic()
        half = settings.max_packets_per_second / 2
        self._buckets = {"arp": _TokenBucket(half, now), "dhcp": _TokenBucket(half, now)}
        self._lock = threading.Lock()
        self._devices: OrderedDict[str, _Device] = OrderedDict()   # least recently heard first
        self._dirty: dict[str, None] = {}                          # MACs with something pending
        self._counts = dict.fromkeys(("packets_seen", "arp", "dhcp", "malformed", "ignored",
                                      "dropped_rate_limited", "dropped_kernel", "evicted"), 0)
        self._sockets: dict[socket.socket, str] = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wakeup: tuple[int, int] | None = None
        self._life = threading.Lock()   # start() and stop() one at a time

    # ---------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Open one raw socket per interface and start the listening thread.

        Raises ScanError naming the interface when it does not exist or raw
        sockets are not allowed (the agent needs CAP_NET_RAW).
        """
        with self._life:
            self._start()

    def _start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this PassiveListener is already started")
        if not self.interfaces:
            raise ScanError("passive listening: no interface to listen on (set passive.interfaces or [arp] subnets)")
        sockets: dict[socket.socket, str] = {}
        try:
            for interface in self.interfaces:
                sockets[self._open(interface)] = interface
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        self._sockets = sockets
        self._stopping.clear()
        self._wakeup = os.pipe()
        self._thread = threading.Thread(target=self._listen, name="passive-listener", daemon=True)
        self._thread.start()
        log.info("passive listener started on %d interface(s)", len(sockets))

    @staticmethod
    def _open(interface: str) -> socket.socket:
        try:
            socket.if_nametoindex(interface)
        except (OSError, ValueError) as exc:   # ValueError: a name with a NUL byte
            raise ScanError(f"passive listening on {interface}: no such network interface on this machine") from exc
        try:
            # Protocol 0 receives nothing until bind(): the filter is in place before the
            # first frame is queued, so no unfiltered frame ever reaches us.
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError as exc:
            raise ScanError(
                f"passive listening on {interface} needs raw sockets: run as root or grant CAP_NET_RAW "
                f"(see deploy/headcount-agent.service)"
            ) from exc
        try:
            _attach_filter(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            sock.bind((interface, ETH_P_ALL))
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if isinstance(exc, PermissionError):
                raise ScanError(f"passive listening on {interface} needs CAP_NET_RAW: {exc}") from exc
            raise ScanError(f"passive listening on {interface}: cannot open a raw socket on it ({exc})") from exc
        return sock

    @property
    def running(self) -> bool:
        """Whether the listening thread is alive (it ends only on stop() or an unexpected error)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop the thread and close the sockets; safe to call more than once, and before start()."""
        with self._life:
            self._stop()

    def _stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            if self._wakeup is not None:
                os.write(self._wakeup[1], b"\0")
            thread.join(timeout=10)
            if thread.is_alive():
                log.error("passive listener thread did not stop within 10 s")
        with self._lock:
            self._collect_kernel_drops()
            for sock in self._sockets:
                sock.close()
            self._sockets = {}
        if self._wakeup is not None:
            for fd in self._wakeup:
                os.close(fd)
            self._wakeup = None
        if thread is not None:
            counts = self.stats()
            log.info("passive listener stopped: %d packets, %d ARP, %d DHCP, %d malformed, %d rate-limited",
                     counts["packets_seen"], counts["arp"], counts["dhcp"], counts["malformed"],
                     counts["dropped_rate_limited"])

    def __enter__(self) -> PassiveListener:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ---------------------------------------------------------------- reading

    def _listen(self) -> None:
        try:
            self._vendor_of("00:00:00:00:00:01")   # load the OUI table now, not on the first ARP frame
        except Exception:   # noqa: BLE001 - a broken lookup only costs vendor names
            log.debug("vendor lookup failed to load", exc_info=True)
        assert self._wakeup is not None
        wakeup = self._wakeup[0]
        waiting: list = [wakeup, *self._sockets]
        try:
            while not self._stopping.is_set():
                ready, _, _ = select.select(waiting, [], [], 1.0)
                busy = False
                for sock in ready:
                    if sock is wakeup:
                        continue
                    busy |= self._read_batch(sock, self._sockets[sock])
                if not busy:
                    # A trickle: let frames gather before the next read, since waking once per
                    # frame costs more than reading it. Under a flood (a full batch) reading
                    # goes on at once, so the kernel buffer never overflows for want of reading.
                    self._stopping.wait(GATHER_S)
        except Exception:   # noqa: BLE001 - a bug here must be visible, not a silent dead thread
            log.exception("passive listener stopped by an unexpected error")

    def _read_batch(self, sock: socket.socket, interface: str) -> bool:
        """Read up to READ_BATCH frames; True when all of them were there (more may be waiting)."""
        for _ in range(READ_BATCH):
            try:
                frame = sock.recv(SNAPLEN)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:
                # The kernel reports an interface going down once (ENETDOWN); the socket
                # carries on when it comes back, so this is a warning, not an end.
                log.warning("passive listening on %s: %s", interface, exc.strerror or exc)
                return False
            self.handle_frame(frame, interface)
        return True

    def handle_frame(self, frame: bytes, interface: str) -> None:
        """What the listening thread does with each frame; public so tests and replays can feed frames.

        Never raises: malformed frames (and any parser bug) are counted.
        """
        with self._lock:
            self._counts["packets_seen"] += 1
            kind = _frame_kind(frame)
            bucket = self._buckets.get(kind)
            if bucket is None:
                self._counts["ignored"] += 1
                return
            if not bucket.take(self._monotonic()):
                self._counts["dropped_rate_limited"] += 1
                return
            try:
                if kind == "arp":
                    self._heard_arp(frame, interface)
                else:
                    self._heard_dhcp(frame, interface)
            except MalformedFrameError:
                self._counts["malformed"] += 1
            except Exception as exc:   # noqa: BLE001 - one bad frame must never stop the listener
                self._counts["malformed"] += 1
                # The type only: an exception's text may quote the frame, and frames carry names.
                log.debug("passive: unexpected %s parsing a %d-byte frame", type(exc).__name__, len(frame))

    def _heard_arp(self, frame: bytes, interface: str) -> None:
        parsed = parse_arp_frame(frame)
        if parsed is None:
            self._counts["ignored"] += 1
            return
        self._counts["arp"] += 1
        mac, ip = parsed
        now = self._clock()

        def sighting() -> ArpSighting:
            return ArpSighting(mac=mac, ip=ip, vendor=self._vendor_of(mac),
                               locally_administered=macaddr.is_locally_administered(mac), interface=interface,
                               observed_at=now, scanner="passive")

        self._note(mac, ("arp", ip, interface), sighting, now.timestamp())

    def _heard_dhcp(self, frame: bytes, interface: str) -> None:
        now = self._clock()
        heard = parse_dhcp_frame(frame, interface, now)
        if heard is None:
            self._counts["ignored"] += 1
            return
        self._counts["dhcp"] += 1
        key = ("dhcp", heard.ip, heard.hostname, heard.vendor_class, heard.client_id, heard.parameter_request_list,
               heard.message_type, heard.requested_ip, heard.source, interface)
        self._note(heard.mac, key, lambda: heard, now.timestamp())

    def _note(self, mac: str, key: tuple, sighting: Callable[[], Sighting], now: float) -> None:
        """Remember a sighting unless it repeats one reported recently. Holds the lock."""
        device = self._devices.get(mac)
        if device is None:
            device = self._devices[mac] = _Device()
            if len(self._devices) > self.settings.max_tracked_devices:
                forgotten, _ = self._devices.popitem(last=False)
                self._dirty.pop(forgotten, None)
                self._counts["evicted"] += 1
        else:
            self._devices.move_to_end(mac)
        if key in device.pending:
            device.pending[key] = sighting()   # the newest, for the freshest observed_at
            return
        reported_at = device.reported.get(hash(key))
        if reported_at is not None and now - reported_at < REPORT_AGAIN_AFTER_S:
            return
        device.pending[key] = sighting()
        if len(device.pending) > MAX_KEYS_PER_DEVICE:
            del device.pending[next(iter(device.pending))]
        self._dirty[mac] = None

    # ---------------------------------------------------------------- results

    def drain(self) -> list[Sighting]:
        """Everything new heard since the last drain, oldest first. Thread-safe."""
        with self._lock:
            now = self._clock().timestamp()
            heard: list[Sighting] = []
            for mac in self._dirty:
                device = self._devices.get(mac)
                if device is None:
                    continue
                for key, sighting in device.pending.items():
                    heard.append(sighting)
                    token = hash(key)
                    device.reported.pop(token, None)   # re-inserted last: the dict stays oldest-first
                    device.reported[token] = now
                device.pending.clear()
                while len(device.reported) > MAX_KEYS_PER_DEVICE:
                    del device.reported[next(iter(device.reported))]
            self._dirty.clear()
        heard.sort(key=lambda s: s.observed_at)
        if heard:
            log.debug("passive: %d new sightings", len(heard))
        return heard

    def stats(self) -> dict[str, int]:
        """Counters since start: packets_seen, arp, dhcp, malformed, ignored, dropped_rate_limited,
        dropped_kernel (the socket buffer overflowed), evicted, tracked."""
        with self._lock:
            self._collect_kernel_drops()
            return {**self._counts, "tracked": len(self._devices)}

    def _collect_kernel_drops(self) -> None:
        # PACKET_STATISTICS resets on every read, so the drops are added up here. Holds the lock.
        for sock in self._sockets:
            try:
                _received, dropped = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
            except OSError:
                continue
            self._counts["dropped_kernel"] += dropped

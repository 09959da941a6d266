"""Real mDNS peers for the mDNS scanner tests, each run inside a network namespace.

    serve    python-zeroconf registering the given services on --address until
             SIGTERM (then it says goodbye); writes --ready-file once they are
             announced.
    hostile  sends malformed and abusive mDNS packets to 224.0.0.251:5353 from
             --address for --duration seconds: over-long names, unknown label
             types, compression pointer loops and pointers past the end,
             truncated headers and records, records overrunning the packet, an
             oversized datagram, names with control characters, a PTR to a
             foreign name, a host with 40 addresses, a 300-key TXT, a flood of
             distinct valid services and a paced stream of repeated packets.
    capture  joins 224.0.0.251 on --address, sends one PTR query per --query
             type and writes every datagram heard (source and hex) to --out as
             JSON. Used to record tests/unit/agent/data/mdns_*.json.

Only ever run it inside a namespace a test built: it binds and sends only on
--address (an address of 198.18.0.0/15). Example:

    ip netns exec NS .venv/bin/python tests/integration/mdns_responder.py serve \
        --address 198.18.210.11 --host ipad-1.local. --ready-file /tmp/r \
        --service '{"type": "_device-info._tcp.local.", "instance": "iPad 1", "port": 0, "txt": ["model=iPad13,1"]}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import select
import signal
import socket
import struct
import sys
import time
from pathlib import Path

MDNS_GROUP = "224.0.0.251"
MDNS_PORT = 5353
FLOOD_TYPE = "_hcflood._tcp.local."
TYPE_A, TYPE_PTR, TYPE_TXT, TYPE_SRV = 1, 12, 16, 33
CLASS_IN, CLASS_IN_FLUSH = 1, 0x8001


# --- serve ------------------------------------------------------------------------

def txt_bytes(entries: list[str]) -> bytes:
    """RFC 6763 TXT RDATA from raw strings ("key=value", "key", "key="), in order, duplicates kept."""
    out = b""
    for entry in entries:
        raw = entry.encode("utf-8")
        out += bytes([len(raw)]) + raw
    return out or b"\x00"


async def serve(address: str, host: str, services: list[dict], ready_file: Path | None) -> None:
    from zeroconf import IPVersion, ServiceInfo
    from zeroconf.asyncio import AsyncZeroconf

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    aiozc = AsyncZeroconf(interfaces=[address], ip_version=IPVersion.V4Only)
    try:
        infos = [
            ServiceInfo(
                spec["type"], f"{spec['instance']}.{spec['type']}", port=int(spec.get("port", 0)),
                properties=txt_bytes(spec.get("txt", [])), server=host, addresses=[socket.inet_aton(address)],
            )
            for spec in services
        ]
        announced = [await aiozc.async_register_service(info) for info in infos]
        await asyncio.gather(*announced)
        if ready_file:
            ready_file.write_text("ready\n")
        await stop.wait()
        await aiozc.async_unregister_all_services()
    finally:
        await aiozc.async_close()


# --- hostile ----------------------------------------------------------------------

def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("utf-8")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def header(answers: int, flags: int = 0x8400, questions: int = 0, authorities: int = 0, additionals: int = 0) -> bytes:
    return struct.pack("!HHHHHH", 0, flags, questions, answers, authorities, additionals)


def record(name: bytes, rtype: int, rdata: bytes, rclass: int = CLASS_IN, ttl: int = 120,
           rdlength: int | None = None) -> bytes:
    length = len(rdata) if rdlength is None else rdlength
    return name + struct.pack("!HHIH", rtype, rclass, ttl, length) + rdata


def service_packet(instance: str, service_type: str, host: str, addresses: list[str], txt: bytes,
                   port: int = 631) -> bytes:
    """A well-formed response announcing one service: PTR, SRV, TXT and A records."""
    full = encode_name(f"{instance}.{service_type}")
    records = [
        record(encode_name(service_type), TYPE_PTR, full),
        record(full, TYPE_SRV, struct.pack("!HHH", 0, 0, port) + encode_name(host), CLASS_IN_FLUSH),
        record(full, TYPE_TXT, txt, CLASS_IN_FLUSH),
    ] + [record(encode_name(host), TYPE_A, socket.inet_aton(a), CLASS_IN_FLUSH) for a in addresses]
    return header(len(records)) + b"".join(records)


def hostile_packets(own_address: str) -> dict[str, bytes]:
    """Every malformed or abusive packet the hostile sender sends, by name (the service flood and the stream aside)."""
    a_record = record(encode_name("good-host.local"), TYPE_A, socket.inet_aton(own_address))
    long_name = b"".join(bytes([63]) + b"x" * 63 for _ in range(5)) + b"\x00"       # 320 characters
    loop_owner = encode_name(FLOOD_TYPE)
    loop_rdata = 12 + len(loop_owner) + 10   # where the PTR's target starts: it points back at itself
    a_rest = struct.pack("!HHIH", TYPE_A, 1, 120, 4) + b"\x01\x02\x03\x04"   # an A record after its name
    packets = {
        # Rejected whole by the parser.
        "name_too_long": header(1) + record(long_name, TYPE_PTR, encode_name("a.local")),
        "unknown_label_type": header(1) + b"\x80abc\x00" + a_rest,
        "pointer_to_itself": header(1) + b"\xc0\x0c" + a_rest,
        # A label, then a pointer to a pointer back to the label: a loop.
        "pointer_loop": header(1) + b"\x01a\xc0\x10\xc0\x0c" + a_rest,
        "pointer_past_end": header(1) + b"\xff\xff" + a_rest,
        "truncated_header": header(1)[:7],
        "truncated_record": header(1) + encode_name("cut.local") + b"\x00\x01\x00",
        "answer_count_lies": header(65535) + a_record,
        "label_past_end": header(1) + b"\x3fshort",
        # Parsed, but a record is broken and skipped (the rest of the packet is used).
        "txt_overruns_packet": header(2) + a_record + record(encode_name("t.local"), TYPE_TXT, b"\x05hello",
                                                             rdlength=200),
        "ptr_target_loops": header(2) + record(loop_owner, TYPE_PTR, b"\x01b" + struct.pack("!H", 0xC000 | loop_rdata))
        + a_record,
        # Larger than any mDNS packet may be (RFC 6762 section 17): dropped unparsed.
        "oversized": header(1) + record(encode_name("big.local"), TYPE_TXT, (b"\xff" + b"z" * 255) * 36),
        # Well formed, but abusive content.
        "control_characters_in_name": service_packet("Bell\x07Ring", FLOOD_TYPE, "bell.local.", [own_address],
                                                     txt_bytes(["x=1"])),
        "ptr_to_foreign_name": header(1) + record(encode_name(FLOOD_TYPE), TYPE_PTR, encode_name("evil.example")),
        "forty_addresses": service_packet("many-addresses", FLOOD_TYPE, "many.local.",
                                          [f"198.18.211.{i}" for i in range(1, 41)], txt_bytes(["x=1"])),
        "txt_300_keys": service_packet("huge-txt", FLOOD_TYPE, "huge.local.", [own_address],
                                       txt_bytes([f"k{i}=v{i}" for i in range(300)])),
    }
    return packets


def hostile(address: str, duration: float, flood_services: int, rate: float, interval: float,
            stream_only: bool = False) -> None:
    """Every `interval`: each hostile packet and the service flood once (unless stream_only); between
    rounds, repeats of a malformed packet paced at `rate` per second (paced, so they reach the scanner
    rather than overflow its socket buffer, and its own rate cap is what stops them)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 0))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    packets = list(hostile_packets(address).values())
    flood = [service_packet(f"flood-{i:04d}", FLOOD_TYPE, f"flood-{i:04d}.local.", [address], txt_bytes(["f=1"]))
             for i in range(flood_services)]
    destination = (MDNS_GROUP, MDNS_PORT)

    def send(packet: bytes) -> None:
        try:
            sock.sendto(packet, destination)
        except OSError:
            pass   # e.g. a full send buffer: the point is the load, not each packet

    end = time.monotonic() + duration
    while time.monotonic() < end:
        for packet in [] if stream_only else packets + flood:
            send(packet)
            time.sleep(0.0005)   # ~120 packets in 60 ms: a burst, but not one that overflows a socket buffer
        round_end = min(end, time.monotonic() + interval)
        sent, started = 0, time.monotonic()
        while (now := time.monotonic()) < round_end:
            if rate > 0 and sent < (now - started) * rate:
                send(packets[0])
                sent += 1
            else:
                time.sleep(0.001)
    sock.close()


# --- capture ----------------------------------------------------------------------

def ptr_query(service_type: str) -> bytes:
    return header(0, flags=0, questions=1) + encode_name(service_type) + struct.pack("!HH", TYPE_PTR, CLASS_IN)


def capture(address: str, queries: list[str], duration: float, out: Path) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("", MDNS_PORT))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                    socket.inet_aton(MDNS_GROUP) + socket.inet_aton(address))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    for service_type in queries:
        sock.sendto(ptr_query(service_type), (MDNS_GROUP, MDNS_PORT))
    heard = []
    end = time.monotonic() + duration
    while (left := end - time.monotonic()) > 0:
        if select.select([sock], [], [], left)[0]:
            data, (source, _port) = sock.recvfrom(65535)
            if source != address:
                heard.append({"source": source, "hex": data.hex()})
    sock.close()
    out.write_text(json.dumps(heard, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    serve_mode = modes.add_parser("serve")
    serve_mode.add_argument("--address", required=True)
    serve_mode.add_argument("--host", required=True, help="the SRV target, e.g. ipad-1.local.")
    serve_mode.add_argument("--service", action="append", default=[], type=json.loads,
                            help='JSON: {"type": ..., "instance": ..., "port": ..., "txt": ["k=v", "flag"]}')
    serve_mode.add_argument("--ready-file", type=Path)
    hostile_mode = modes.add_parser("hostile")
    hostile_mode.add_argument("--address", required=True)
    hostile_mode.add_argument("--duration", type=float, default=5.0)
    hostile_mode.add_argument("--flood-services", type=int, default=100)
    hostile_mode.add_argument("--rate", type=float, default=2000, help="malformed packets per second between rounds")
    hostile_mode.add_argument("--interval", type=float, default=0.5, help="seconds between rounds")
    hostile_mode.add_argument("--stream-only", action="store_true", help="only the paced stream, no rounds")
    capture_mode = modes.add_parser("capture")
    capture_mode.add_argument("--address", required=True)
    capture_mode.add_argument("--query", action="append", default=[])
    capture_mode.add_argument("--duration", type=float, default=2.0)
    capture_mode.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.mode == "serve":
        asyncio.run(serve(args.address, args.host, args.service, args.ready_file))
    elif args.mode == "hostile":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        hostile(args.address, args.duration, args.flood_services, args.rate, args.interval, args.stream_only)
    else:
        capture(args.address, args.query, args.duration, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

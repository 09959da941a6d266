"""A deliberately broken SNMP v2c agent, run as its own process on 127.0.0.1, for bad-peer tests.

    python -m tests.integration.hostile_snmp --port PORT --mode MODE

It serves a tiny, valid device (system group, a 3-row ifTable) and breaks it
in one way per mode, the ways real devices break:

  loop        walks of ifTable answer with an OID that does not increase
  endless     ifDescr has no end: every GETBULK returns more rows
  wrongtypes  sysName is an INTEGER, ifDescr rows are Counter32, ifType is a string
  malformed   every reply is truncated garbage
  garbled     a garbage datagram precedes every valid reply
  stalls      answers GETs but never answers a walk
  silent      reads requests and never answers

Replies are built with pysnmp's own encoder (not the agent's codec), so a
bug shared by the agent's encoder and decoder cannot hide here.
"""

from __future__ import annotations

import argparse
import bisect
import socket

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
from pysnmp.proto.rfc1905 import endOfMibView, noSuchObject

V2 = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

SYSTEM = (1, 3, 6, 1, 2, 1, 1)
IF_TABLE = (1, 3, 6, 1, 2, 1, 2, 2)
IF_DESCR = IF_TABLE + (1, 2)


def dataset(mode: str) -> dict[tuple[int, ...], object]:
    data: dict[tuple[int, ...], object] = {
        SYSTEM + (1, 0): V2.OctetString(b"Hostile Test Switch 1.0"),
        SYSTEM + (2, 0): V2.ObjectIdentifier((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
        SYSTEM + (3, 0): V2.TimeTicks(12345),
        SYSTEM + (5, 0): V2.Integer(42) if mode == "wrongtypes" else V2.OctetString(b"hostile-1"),
    }
    for index in (1, 2, 3):
        data[IF_TABLE + (1, 1, index)] = V2.Integer(index)
        data[IF_DESCR + (index,)] = V2.Counter32(index) if mode == "wrongtypes" else V2.OctetString(f"port{index}".encode())
        data[IF_TABLE + (1, 3, index)] = V2.OctetString(b"six") if mode == "wrongtypes" else V2.Integer(6)
        data[IF_TABLE + (1, 8, index)] = V2.Integer(1)
    return data


class Agent:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.data = dataset(mode)
        self.keys = sorted(self.data)

    def next_after(self, oid: tuple[int, ...]) -> tuple[tuple[int, ...], object]:
        if self.mode == "loop" and oid[: len(IF_TABLE)] == IF_TABLE and oid > IF_DESCR + (1,):
            return IF_DESCR + (1,), self.data[IF_DESCR + (1,)]   # back to the start: a loop
        if self.mode == "endless" and oid[: len(IF_DESCR)] == IF_DESCR:
            row = oid[len(IF_DESCR)] + 1 if len(oid) > len(IF_DESCR) else 1
            return IF_DESCR + (row,), V2.OctetString(b"x" * 8)
        position = bisect.bisect_right(self.keys, oid)
        if position >= len(self.keys):
            return oid, endOfMibView
        key = self.keys[position]
        return key, self.data[key]

    def reply(self, request_bytes: bytes) -> list[bytes]:
        message, _ = decoder.decode(request_bytes, asn1Spec=V2.Message())
        request = V2.apiMessage.get_pdu(message)
        response_message = V2.apiMessage.get_response(message)
        response = V2.apiMessage.get_pdu(response_message)
        names = [tuple(name) for name, _ in V2.apiPDU.get_varbinds(request)]
        is_walk = not request.isSameTypeWith(V2.GetRequestPDU())
        if self.mode == "silent" or (self.mode == "stalls" and is_walk):
            return []
        varbinds = []
        if request.isSameTypeWith(V2.GetRequestPDU()):
            varbinds = [(name, self.data.get(name, noSuchObject)) for name in names]
        elif request.isSameTypeWith(V2.GetNextRequestPDU()):
            varbinds = [self.next_after(name) for name in names]
        elif request.isSameTypeWith(V2.GetBulkRequestPDU()):
            # RFC 3416 4.2.3: each repetition carries the next row of every requested column.
            repetitions = int(V2.apiBulkPDU.get_max_repetitions(request))
            cursors = list(names)
            for _ in range(max(1, min(repetitions, 50))):
                for position, cursor in enumerate(cursors):
                    cursors[position], value = self.next_after(cursor)
                    varbinds.append((cursors[position], value))
        V2.apiPDU.set_varbinds(response, varbinds)
        encoded = encoder.encode(response_message)
        if self.mode == "malformed":
            return [encoded[:-7] + b"\xff\xff"]
        if self.mode == "garbled":
            return [b"\x30\x84\xff\xff\xff\xff garbage", encoded]
        return [encoded]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", required=True,
                        choices=["loop", "endless", "wrongtypes", "malformed", "garbled", "stalls", "silent"])
    args = parser.parse_args()
    agent = Agent(args.mode)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))   # loopback only
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(65535)
        try:
            replies = agent.reply(data)
        except Exception as exc:   # a test peer: report and keep serving
            print(f"cannot answer: {exc}", flush=True)
            continue
        for reply in replies:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()

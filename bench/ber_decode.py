"""Decode speed: our BER codec against pyasn1 (with pysnmp's v2c Message spec) on the same GETBULK responses.

    .venv/bin/python bench/ber_decode.py [--varbinds 50] [--responses 20] [--rounds 7]

Each decoder decodes the same walk: --responses successive GETBULK responses
of --varbinds varbinds each, as a switch sends them, two tables:

  ifTable          1.3.6.1.2.1.2.2.1.<column>.<ifIndex> with each column's real
                   type (INTEGER ifIndex/ifType/ifMtu/ifAdminStatus/ifOperStatus,
                   OCTET STRING ifDescr/ifPhysAddress, Gauge32 ifSpeed, TimeTicks
                   ifLastChange, Counter32 octets and packets), ifIndex from 1001
                   as on a stacked switch, so the last sub-identifier takes two octets;
  dot1dTpFdbTable  indexed by a MAC address: every OID is new to the decoder's
                   OID-prefix cache, the slow end of what a walk sees.

The prefix cache is emptied at the start of every walk, so no run profits
from the one before. pyasn1 is timed twice: decode() alone (the conservative
comparison) and decode() plus turning the result into the same plain values
ours returns (int(), bytes(), tuple()) through pysnmp's apiPDU, which is
what a caller needs. The decoders take turns within each round and each
keeps its best round, because this machine's clock drifts from minute to
minute. Prints microseconds per varbind and the ratios; only ratios travel
between machines.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from headcount.agent.snmp import ber
from headcount.agent.snmp.values import (
    COUNTER32,
    GAUGE32,
    INTEGER,
    OCTET_STRING,
    RESPONSE,
    TIMETICKS,
    VERSION_2C,
)
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pysnmp.proto import api

IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
# (column, tag, value for interface i)
IF_COLUMNS = [
    (1, INTEGER, lambda i: i),
    (2, OCTET_STRING, lambda i: f"GigabitEthernet{i // 1000}/0/{i % 1000}".encode()),
    (3, INTEGER, lambda i: 6),
    (4, INTEGER, lambda i: 1500),
    (5, GAUGE32, lambda i: 1_000_000_000),
    (6, OCTET_STRING, lambda i: bytes((0x00, 0x1B, 0x54, 0xC2, i >> 8 & 0xFF, i & 0xFF))),
    (7, INTEGER, lambda i: 1),
    (8, INTEGER, lambda i: 1 + i % 2),
    (9, TIMETICKS, lambda i: 123_456_789 + i),
    (10, COUNTER32, lambda i: (i * 2_654_435_761) % 2**32),
    (11, COUNTER32, lambda i: (i * 40_503) % 2**32),
    (16, COUNTER32, lambda i: (i * 1_103_515_245) % 2**32),
    (17, COUNTER32, lambda i: (i * 12_345) % 2**32),
]
FDB_ENTRY = (1, 3, 6, 1, 2, 1, 17, 4, 3, 1)


def if_table_rows():
    # A GETBULK over whole rows: the repetitions advance every column by one row.
    if_index = 1001
    while True:
        for column, tag, value in IF_COLUMNS:
            yield (*IF_ENTRY, column, if_index), tag, value(if_index)
        if_index += 1


def fdb_table_rows():
    # A walk returns the table sorted by MAC; learned MACs come from a few vendors (OUIs)
    # but are otherwise scattered, so consecutive OIDs share far less than ifTable's do.
    chance = random.Random(7)
    ouis = [(0x00, 0x1B, 0x54), (0x3C, 0xD9, 0x2B), (0xF4, 0x8E, 0x38), (0x00, 0x50, 0x56)]
    macs = sorted({(*chance.choice(ouis), *chance.randbytes(3)) for _ in range(20_000)})
    for row, mac in enumerate(macs):
        yield (*FDB_ENTRY, 1, *mac), OCTET_STRING, bytes(mac)          # dot1dTpFdbAddress
        yield (*FDB_ENTRY, 2, *mac), INTEGER, 1 + row % 48             # dot1dTpFdbPort
        yield (*FDB_ENTRY, 3, *mac), INTEGER, 3                        # dot1dTpFdbStatus: learned


def walk(rows, responses: int, per_response: int) -> list[bytes]:
    return [ber.encode_message(VERSION_2C, b"public", RESPONSE, 1_000 + n, 0, 0,
                               [next(rows) for _ in range(per_response)])
            for n in range(responses)]


def ours(messages: list[bytes]):
    ber._OID_PREFIXES.clear()   # a fresh walk: no help from the previous round
    return [varbind for data in messages for varbind in ber.decode_message(data).varbinds]


V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
_INTEGERS = (V2C.Integer, V2C.Counter32, V2C.Gauge32, V2C.TimeTicks, V2C.Counter64)


def pyasn1_decode_only(messages: list[bytes]):
    return [pyasn1_decoder.decode(data, asn1Spec=V2C.Message()) for data in messages]


def pyasn1_plain_values(messages: list[bytes]):
    plain = []
    for data in messages:
        message, _ = pyasn1_decoder.decode(data, asn1Spec=V2C.Message())
        for name, value in V2C.apiPDU.get_varbinds(V2C.apiMessage.get_pdu(message)):
            if isinstance(value, V2C.OctetString):
                value = bytes(value)
            elif isinstance(value, _INTEGERS):
                value = int(value)
            plain.append((tuple(name), value))
    return plain


def loops_for(decode, messages, budget_s: float) -> int:
    """How many walks take about budget_s."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            decode(messages)
        elapsed = time.perf_counter() - start
        if elapsed > budget_s / 4:
            return max(1, int(loops * budget_s / elapsed))
        loops *= 2


def best_us_per_varbind(decoders: dict, messages, varbinds: int, rounds: int, budget_s: float) -> dict:
    loops = {name: loops_for(decode, messages, budget_s) for name, decode in decoders.items()}
    best = dict.fromkeys(decoders, float("inf"))
    for _ in range(rounds):
        for name, decode in decoders.items():
            start = time.perf_counter()
            for _ in range(loops[name]):
                decode(messages)
            best[name] = min(best[name], (time.perf_counter() - start) / loops[name])
    return {name: seconds / varbinds * 1e6 for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--varbinds", type=int, default=50, help="varbinds per GETBULK response")
    parser.add_argument("--responses", type=int, default=20, help="responses per walk")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.2, help="seconds per round per decoder")
    args = parser.parse_args()

    print(f"Python {sys.version.split()[0]}; best of {args.rounds} rounds; a walk of {args.responses} GETBULK "
          f"responses x {args.varbinds} varbinds")
    for table, rows in (("ifTable", if_table_rows()), ("dot1dTpFdbTable", fdb_table_rows())):
        messages = walk(rows, args.responses, args.varbinds)
        assert [(oid, value) for oid, _, value in ours(messages)] == pyasn1_plain_values(messages), \
            "the two decoders disagree"
        total = args.responses * args.varbinds
        us = best_us_per_varbind({"ours": ours, "decode": pyasn1_decode_only, "plain": pyasn1_plain_values},
                                 messages, total, args.rounds, args.budget)
        size = sum(map(len, messages)) // len(messages)
        print(f"{table} (about {size} bytes per response):")
        print(f"  ours                             {us['ours']:8.3f} us/varbind")
        print(f"  pyasn1 decode() only             {us['decode']:8.3f} us/varbind   "
              f"{us['decode'] / us['ours']:6.1f}x ours")
        print(f"  pyasn1 decode() + plain values   {us['plain']:8.3f} us/varbind   "
              f"{us['plain'] / us['ours']:6.1f}x ours")


if __name__ == "__main__":
    main()

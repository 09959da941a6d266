"""How SNMP values look inside the agent: plain tuples, cheap to build on the hot path.

A variable binding is `(oid, tag, value)`:

- `oid` is a tuple of ints, so walks compare and prefix-test OIDs natively;
- `tag` is the BER tag of the value as it came off the wire (one of the
  constants below), so parsers can refuse a value of the wrong type instead of
  guessing;
- `value` is an `int` for INTEGER, Counter32, Gauge32, TimeTicks and
  Counter64; `bytes` for OCTET STRING, Opaque and IpAddress (4 bytes); a
  tuple of ints for OBJECT IDENTIFIER; `None` for NULL and the three v2c
  exceptions (noSuchObject, noSuchInstance, endOfMibView).

Both the fast v1/v2c codec (ber.py) and the pysnmp path (v3) produce this form.
"""

from __future__ import annotations

from typing import Union

Oid = tuple[int, ...]
Value = Union[int, bytes, Oid, None]
VarBind = tuple[Oid, int, Value]

INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

INTEGER_TAGS = frozenset({INTEGER, COUNTER32, GAUGE32, TIMETICKS, COUNTER64})
EXCEPTION_TAGS = frozenset({NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})

TAG_NAMES = {
    INTEGER: "INTEGER", OCTET_STRING: "OCTET STRING", NULL: "NULL",
    OBJECT_IDENTIFIER: "OBJECT IDENTIFIER", IP_ADDRESS: "IpAddress",
    COUNTER32: "Counter32", GAUGE32: "Gauge32", TIMETICKS: "TimeTicks",
    OPAQUE: "Opaque", COUNTER64: "Counter64", NO_SUCH_OBJECT: "noSuchObject",
    NO_SUCH_INSTANCE: "noSuchInstance", END_OF_MIB_VIEW: "endOfMibView",
}

# PDU types (context-specific constructed tags).
GET_REQUEST = 0xA0
GET_NEXT_REQUEST = 0xA1
RESPONSE = 0xA2
SET_REQUEST = 0xA3
GET_BULK_REQUEST = 0xA5

# Message versions as they appear on the wire.
VERSION_1 = 0
VERSION_2C = 1


def parse_oid(text: str) -> Oid:
    """'1.3.6.1.2.1.1.1.0' or '.1.3.6...' -> (1, 3, 6, ...)."""
    return tuple(int(part) for part in text.strip().lstrip(".").split("."))


def format_oid(oid: Oid) -> str:
    return ".".join(map(str, oid))

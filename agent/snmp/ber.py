"""A small, pure BER codec for SNMP v1/v2c messages: the hot path of every table walk.

Why not pyasn1: decoding GETBULK responses through pysnmp/pyasn1 costs
20-40x net-snmp's CPU per varbind, and it is most of a walk's time. SNMP
v1/v2c messages use a tiny, fixed subset of BER (definite lengths, a handful
of primitive types, two levels of SEQUENCE), so a direct decoder over the
bytes is short, strict and an order of magnitude faster. SNMPv3 stays on
pysnmp (its security model is the hard part, not the encoding).

Decoding is strict and never trusts a length: every failure raises
MalformedPacketError saying what was wrong and at which byte offset. Values
come out in the plain form of values.py. The encoder emits the same bytes
pyasn1 does for the same message (minimal lengths and integers), which
tests/unit/agent/snmp/test_snmp_ber.py checks property by property against
pysnmp's own encoder and decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..errors import MalformedPacketError
from .values import (
    COUNTER32,
    COUNTER64,
    END_OF_MIB_VIEW,
    GAUGE32,
    GET_BULK_REQUEST,
    GET_NEXT_REQUEST,
    GET_REQUEST,
    INTEGER,
    IP_ADDRESS,
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    NULL,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    OPAQUE,
    TIMETICKS,
    VERSION_2C,
    Oid,
    VarBind,
)

SEQUENCE = 0x30
# PDUs a manager may receive or, in tests, build: Get, GetNext, Response, Set,
# GetBulk, Inform, SNMPv2-Trap, Report.
PDU_TYPES = frozenset({0xA0, 0xA1, 0xA2, 0xA3, 0xA5, 0xA6, 0xA7, 0xA8})
_UNSIGNED_MODULUS = {COUNTER32: 1 << 32, GAUGE32: 1 << 32, TIMETICKS: 1 << 32, COUNTER64: 1 << 64}
_STRING_TAGS = frozenset({OCTET_STRING, OPAQUE, IP_ADDRESS})
_EMPTY_TAGS = frozenset({NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})
_MAX_LENGTH_OCTETS = 4


@dataclass(slots=True)
class Message:
    version: int          # 0 = v1, 1 = v2c
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int     # for GetBulk: non-repeaters
    error_index: int      # for GetBulk: max-repetitions
    varbinds: list[VarBind]


# ---------------------------------------------------------------- encoding


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _signed(value: int) -> bytes:
    # Minimal two's complement, as X.690 requires.
    return value.to_bytes(max(1, (value + (value < 0)).bit_length() // 8 + 1), "big", signed=True)


def _unsigned(value: int) -> bytes:
    # Unsigned application types are still INTEGER-encoded: a leading 0x00 keeps the top bit clear.
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def _oid_body(oid: Oid) -> bytes:
    if len(oid) < 2:
        raise ValueError(f"OID {oid} needs at least two arcs")
    first, second = oid[0], oid[1]
    if first > 2 or (first < 2 and second >= 40):
        raise ValueError(f"OID {oid} has an invalid first pair of arcs")
    out = bytearray()
    for arc in (first * 40 + second, *oid[2:]):
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = []
        while arc:
            chunk.append(arc & 0x7F)
            arc >>= 7
        out.extend(b | 0x80 for b in reversed(chunk[1:]))
        out.append(chunk[0])
    return bytes(out)


def _value(tag: int, value) -> bytes:
    if tag in _EMPTY_TAGS:
        return bytes((tag, 0))
    if tag == INTEGER:
        return _tlv(tag, _signed(value))
    if tag in _UNSIGNED_MODULUS:
        return _tlv(tag, _unsigned(value))
    if tag in _STRING_TAGS:
        return _tlv(tag, bytes(value))
    if tag == OBJECT_IDENTIFIER:
        return _tlv(tag, _oid_body(value))
    raise ValueError(f"cannot encode a value with tag 0x{tag:02x}")


def encode_message(version: int, community: bytes, pdu_type: int, request_id: int, error_status: int,
                   error_index: int, varbinds: Sequence[VarBind]) -> bytes:
    bindings = b"".join(_tlv(SEQUENCE, _tlv(OBJECT_IDENTIFIER, _oid_body(oid)) + _value(tag, value))
                        for oid, tag, value in varbinds)
    pdu = _tlv(pdu_type, _tlv(INTEGER, _signed(request_id)) + _tlv(INTEGER, _signed(error_status))
               + _tlv(INTEGER, _signed(error_index)) + _tlv(SEQUENCE, bindings))
    return _tlv(SEQUENCE, _tlv(INTEGER, _signed(version)) + _tlv(OCTET_STRING, bytes(community)) + pdu)


def encode_get(version: int, community: bytes, request_id: int, oids: Sequence[Oid]) -> bytes:
    return encode_message(version, community, GET_REQUEST, request_id, 0, 0, [(oid, NULL, None) for oid in oids])


def encode_get_next(version: int, community: bytes, request_id: int, oids: Sequence[Oid]) -> bytes:
    return encode_message(version, community, GET_NEXT_REQUEST, request_id, 0, 0,
                          [(oid, NULL, None) for oid in oids])


def encode_get_bulk(community: bytes, request_id: int, oids: Sequence[Oid], non_repeaters: int,
                    max_repetitions: int) -> bytes:
    return encode_message(VERSION_2C, community, GET_BULK_REQUEST, request_id, non_repeaters, max_repetitions,
                          [(oid, NULL, None) for oid in oids])


# ---------------------------------------------------------------- decoding


def _header(data: bytes, offset: int, end: int) -> tuple[int, int, int]:
    """(tag, body start, body end) of the TLV at offset; the body must fit before `end`."""
    if offset + 2 > end:
        raise MalformedPacketError(f"truncated header at offset {offset} ({end - offset} bytes left)")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise MalformedPacketError(f"multi-byte tag at offset {offset}: SNMP never uses one")
    first = data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            raise MalformedPacketError(f"indefinite length at offset {offset + 1}: SNMP requires definite lengths")
        if count > _MAX_LENGTH_OCTETS:
            raise MalformedPacketError(f"length of {count} octets at offset {offset + 1}: too long to be real")
        if start + count > end:
            raise MalformedPacketError(f"truncated length at offset {offset + 1}")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    stop = start + length
    if stop > end:
        raise MalformedPacketError(
            f"length {length} at offset {offset + 1} runs past the end of its enclosing "
            f"{'packet' if end == len(data) else 'element'} ({end - start} bytes left)"
        )
    return tag, start, stop


def _integer(data: bytes, start: int, stop: int, offset: int) -> int:
    if start == stop:
        raise MalformedPacketError(f"empty INTEGER at offset {offset}")
    return int.from_bytes(data[start:stop], "big", signed=True)


def _expect(data: bytes, offset: int, end: int, tag: int, what: str) -> tuple[int, int]:
    found, start, stop = _header(data, offset, end)
    if found != tag:
        raise MalformedPacketError(f"{what} at offset {offset} has tag 0x{found:02x}, expected 0x{tag:02x}")
    return start, stop


def _decode_oid(data: bytes, start: int, stop: int, offset: int) -> Oid:
    if start == stop:
        raise MalformedPacketError(f"empty OBJECT IDENTIFIER at offset {offset}")
    if data[stop - 1] & 0x80:
        raise MalformedPacketError(f"OBJECT IDENTIFIER at offset {offset} ends inside a sub-identifier")
    arcs: list[int] = []
    append = arcs.append
    arc = 0
    for octet in data[start:stop]:
        if octet < 0x80:
            append((arc << 7) | octet)
            arc = 0
        else:
            if arc == 0 and octet == 0x80:
                raise MalformedPacketError(f"OBJECT IDENTIFIER at offset {offset} has a padded sub-identifier")
            arc = (arc << 7) | (octet & 0x7F)
    first = arcs[0]
    if first < 40:
        return (0, first, *arcs[1:])
    if first < 80:
        return (1, first - 40, *arcs[1:])
    return (2, first - 80, *arcs[1:])


def decode_message(data: bytes) -> Message:
    """One SNMP v1/v2c message; MalformedPacketError (with the offset) for anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedPacketError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    end = len(data)
    start, stop = _expect(data, 0, end, SEQUENCE, "message")
    if stop != end:
        raise MalformedPacketError(f"{end - stop} trailing bytes after the message at offset {stop}")
    offset = start
    body, body_end = _expect(data, offset, stop, INTEGER, "version")
    version = _integer(data, body, body_end, offset)
    offset = body_end
    body, body_end = _expect(data, offset, stop, OCTET_STRING, "community")
    community = data[body:body_end]
    offset = body_end
    pdu_type, pdu_start, pdu_stop = _header(data, offset, stop)
    if pdu_type not in PDU_TYPES:
        raise MalformedPacketError(f"PDU at offset {offset} has tag 0x{pdu_type:02x}, not an SNMP v1/v2c PDU")
    if pdu_stop != stop:
        raise MalformedPacketError(f"{stop - pdu_stop} stray bytes after the PDU at offset {pdu_stop}")
    numbers = []
    offset = pdu_start
    for what in ("request-id", "error-status", "error-index"):
        body, body_end = _expect(data, offset, pdu_stop, INTEGER, what)
        numbers.append(_integer(data, body, body_end, offset))
        offset = body_end
    list_start, list_stop = _expect(data, offset, pdu_stop, SEQUENCE, "variable-bindings")
    if list_stop != pdu_stop:
        raise MalformedPacketError(f"{pdu_stop - list_stop} stray bytes after the variable-bindings at offset {list_stop}")
    return Message(version, community, pdu_type, numbers[0], numbers[1], numbers[2],
                   _decode_varbinds(data, list_start, list_stop))


def _decode_varbinds(data: bytes, offset: int, end: int) -> list[VarBind]:
    varbinds: list[VarBind] = []
    append = varbinds.append
    from_bytes = int.from_bytes
    while offset < end:
        # Fast path: short forms everywhere (lengths < 128), which is nearly every varbind.
        if data[offset] != SEQUENCE:
            raise MalformedPacketError(f"variable binding at offset {offset} has tag 0x{data[offset]:02x}, "
                                       f"expected 0x30")
        _, vb_start, vb_stop = _header(data, offset, end)
        tag, oid_start, oid_stop = _header(data, vb_start, vb_stop)
        if tag != OBJECT_IDENTIFIER:
            raise MalformedPacketError(f"name at offset {vb_start} has tag 0x{tag:02x}, expected an OBJECT IDENTIFIER")
        oid = _decode_oid(data, oid_start, oid_stop, vb_start)
        tag, start, stop = _header(data, oid_stop, vb_stop)
        if stop != vb_stop:
            raise MalformedPacketError(f"{vb_stop - stop} stray bytes in the variable binding at offset {offset}")
        if tag == INTEGER:
            if start == stop:
                raise MalformedPacketError(f"empty INTEGER at offset {oid_stop}")
            value = from_bytes(data[start:stop], "big", signed=True)
        elif tag in _STRING_TAGS:
            value = data[start:stop]
        elif tag in _UNSIGNED_MODULUS:
            if start == stop:
                raise MalformedPacketError(f"empty {tag:#04x} integer at offset {oid_stop}")
            # Signed decode, then modulo: a broken agent's "negative" counter still means its unsigned value.
            value = from_bytes(data[start:stop], "big", signed=True) % _UNSIGNED_MODULUS[tag]
        elif tag == OBJECT_IDENTIFIER:
            value = _decode_oid(data, start, stop, oid_stop)
        elif tag in _EMPTY_TAGS:
            if start != stop:
                raise MalformedPacketError(f"value with tag 0x{tag:02x} at offset {oid_stop} must be empty")
            value = None
        else:
            raise MalformedPacketError(f"unknown value tag 0x{tag:02x} at offset {oid_stop}")
        append((oid, tag, value))
        offset = vb_stop
    return varbinds

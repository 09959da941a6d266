"""A small, pure BER codec for SNMP v1/v2c messages: the hot path of every table walk.

Why not pyasn1: decoding GETBULK responses through pysnmp/pyasn1 costs
20-40x net-snmp's CPU per varbind, and that is most of a walk's time. SNMP
v1/v2c messages use a tiny, fixed subset of BER (definite lengths, a handful
of primitive types, three levels of SEQUENCE), so a direct decoder over the
bytes is short, strict and well over an order of magnitude faster
(bench/ber_decode.py measures it). SNMPv3 stays on pysnmp: its security
model is the hard part, not the encoding.

Decoding never trusts a length: every failure raises MalformedPacketError
saying what was wrong and at which byte offset, and nothing else escapes.
Nothing recurses over the input's structure, no work is quadratic in it,
and memory stays proportional to the packet. Values come out in the plain
form of values.py.

The varbind loop has two paths. The fast one handles the shape nearly every
varbind has (all lengths in the one-octet form, a known value tag) with
integer offsets, one slice per value and an OID-prefix cache; anything else
(long-form lengths, unusual OIDs, anything malformed) goes to the strict
path, which decodes the general case and words the errors. Both give the
same result for the same bytes; the tests check that.

The encoder emits the bytes pyasn1 emits for the same message (minimal
lengths, minimal integers, a leading 0x00 on unsigned values whose top bit
is set), with one deliberate difference: pyasn1 pads the negative powers of
two -2**7, -2**15, ... with an extra 0xFF octet, which X.690 8.3.2 forbids;
ours are minimal. tests/unit/agent/snmp/test_snmp_ber.py checks all of this
property by property against pysnmp's own encoder and decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    TAG_NAMES,
    TIMETICKS,
    VERSION_1,
    VERSION_2C,
    Oid,
    VarBind,
)

SEQUENCE = 0x30
# PDUs with the request-id/error-status/error-index/varbinds layout: Get, GetNext,
# Response, Set, GetBulk, Inform, SNMPv2-Trap, Report. (The v1 Trap-PDU, 0xA4,
# has another layout and is not accepted.)
PDU_TYPES = frozenset({0xA0, 0xA1, 0xA2, 0xA3, 0xA5, 0xA6, 0xA7, 0xA8})
VERSIONS = (VERSION_1, VERSION_2C)

# Unsigned application types are INTEGER-encoded on the wire; some agents send
# a high value as negative two's complement, so decoding reduces modulo the range.
_UNSIGNED_MODULUS = {COUNTER32: 1 << 32, GAUGE32: 1 << 32, TIMETICKS: 1 << 32, COUNTER64: 1 << 64}
_STRING_TAGS = frozenset({OCTET_STRING, OPAQUE, IP_ADDRESS})
_EMPTY_TAGS = frozenset({NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})
# Four length octets already allow 4 GiB; more is never a real SNMP message.
_MAX_LENGTH_OCTETS = 4

# The first encoded sub-identifier holds two arcs (X.690 8.19.4): arcs 0 and 1
# take a second arc below 40, arc 2 takes everything else.
_FIRST_ARCS = tuple((0, b) if b < 40 else (1, b - 40) if b < 80 else (2, b - 80) for b in range(128))

# A walk's OIDs differ from one row to the next only in their last octets
# (ifInOctets.1001, ifInOctets.1002, ...), so the fast path keys this cache on
# the encoded bytes of an OID minus its last octet and keeps (the arcs before
# the last sub-identifier, the value so far of the last one); the last octet
# is then one addition. Measured with bench/ber_decode.py's walks, it halves
# the decode time per varbind on ifTable and costs about 10% on the MAC-indexed
# FDB table, where it misses (the fast path gives up on it per message, see
# below). Keys are validated when first decoded. Shared by all sessions (they
# walk the same tables) and cleared when full, so hostile input cannot grow it.
_OID_PREFIXES: dict[bytes, tuple[Oid, int]] = {}
_OID_PREFIX_LIMIT = 4096

# A sub-identifier this large is hostile or broken; from here on it is finished
# with a divide-and-conquer conversion, so a 60 KB one costs milliseconds
# rather than the quadratic shift-and-or loop's seconds.
_HUGE_ARC = 1 << 512
_LOW_SEVEN_BITS = bytes(b & 0x7F for b in range(256))


@dataclass(slots=True)
class Message:
    version: int          # 0 = v1, 1 = v2c
    community: bytes
    pdu_type: int         # e.g. values.RESPONSE
    request_id: int
    error_status: int     # for GetBulk this position carries non-repeaters
    error_index: int      # for GetBulk this position carries max-repetitions
    varbinds: list[VarBind]


# ---------------------------------------------------------------- encoding


def _tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


def _signed(value: int) -> bytes:
    # Minimal two's complement (X.690 8.3.2): ~value has the bit length of the magnitude
    # for negatives, so -128 is one octet (0x80) and -129 two (0xFF7F).
    return value.to_bytes((value.bit_length() if value >= 0 else (~value).bit_length()) // 8 + 1, "big",
                          signed=True)


def _unsigned(value: int, tag: int) -> bytes:
    if not 0 <= value < _UNSIGNED_MODULUS[tag]:
        raise ValueError(f"{TAG_NAMES[tag]} value {value} is outside its unsigned range")
    # INTEGER encoding of a non-negative number: a leading 0x00 keeps the top bit clear.
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def _oid_body(oid: Oid) -> bytes:
    if len(oid) < 2:
        raise ValueError(f"OID {oid} needs at least two arcs")
    first, second = oid[0], oid[1]
    if not (0 <= first <= 2 and second >= 0 and (first == 2 or second < 40)):
        raise ValueError(f"OID {oid} starts with an impossible pair of arcs")
    out = bytearray()
    for arc in (first * 40 + second, *oid[2:]):
        if 0 <= arc < 0x80:
            out.append(arc)
            continue
        if arc < 0:
            raise ValueError(f"OID {oid} has a negative arc")
        # Base 128, most significant group first, the continuation bit on all but the last.
        groups = bytearray()
        while arc:
            groups.append(0x80 | (arc & 0x7F))
            arc >>= 7
        groups[0] &= 0x7F
        groups.reverse()
        out += groups
    return bytes(out)


def _encode_value(tag: int, value) -> bytes:
    if tag in _EMPTY_TAGS:
        return bytes((tag, 0))
    if tag == INTEGER:
        return _tlv(tag, _signed(value))
    if tag in _UNSIGNED_MODULUS:
        return _tlv(tag, _unsigned(value, tag))
    if tag in _STRING_TAGS:
        # bytes(5) would quietly be five zero octets: insist on a bytes-like value.
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise ValueError(f"{TAG_NAMES[tag]} value must be bytes, not {type(value).__name__}")
        if tag == IP_ADDRESS and len(value) != 4:
            raise ValueError(f"IpAddress value must be 4 bytes, not {len(value)}")
        return _tlv(tag, bytes(value))
    if tag == OBJECT_IDENTIFIER:
        return _tlv(tag, _oid_body(value))
    raise ValueError(f"cannot encode a value with tag 0x{tag:02x}")


def encode_message(version: int, community: bytes, pdu_type: int, request_id: int, error_status: int,
                   error_index: int, varbinds: Sequence[VarBind]) -> bytes:
    """One SNMP v1/v2c message; ValueError for values the wire cannot carry."""
    bindings = b"".join(_tlv(SEQUENCE, _tlv(OBJECT_IDENTIFIER, _oid_body(oid)) + _encode_value(tag, value))
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
    """Always v2c: GetBulk does not exist in v1."""
    return encode_message(VERSION_2C, community, GET_BULK_REQUEST, request_id, non_repeaters, max_repetitions,
                          [(oid, NULL, None) for oid in oids])


# ---------------------------------------------------------------- decoding: the general, strict path


def _header(data: bytes, offset: int, end: int, what: str, enclosing: str) -> tuple[int, int, int]:
    """(tag, body start, body end) of the TLV at offset, whose body must end by `end`."""
    size = len(data)
    if offset + 2 > end:
        where = "before" if offset == end else "inside the header of"
        if end == size:
            raise MalformedPacketError(f"the {size}-byte packet ends {where} the {what} at offset {offset}")
        raise MalformedPacketError(f"the {enclosing} ends at offset {end}, {where} the {what}"
                                   + ("" if offset == end else f" at offset {offset}"))
    tag = data[offset]
    first = data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            raise MalformedPacketError(f"indefinite length (0x80) of the {what} at offset {offset + 1}: "
                                       f"SNMP requires definite lengths")
        if count > _MAX_LENGTH_OCTETS:
            raise MalformedPacketError(f"length of the {what} at offset {offset + 1} claims {count} length "
                                       f"octets; more than {_MAX_LENGTH_OCTETS} is never a real SNMP message")
        if start + count > end:
            raise MalformedPacketError(f"the length octets of the {what} at offset {offset + 1} run past the end "
                                       f"of the {enclosing if end < size else f'{size}-byte packet'}")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    stop = start + length
    if stop > size:
        raise MalformedPacketError(f"length {length} of the {what} at offset {offset + 1} runs past the end of "
                                   f"the {size}-byte packet")
    if stop > end:
        raise MalformedPacketError(f"length {length} of the {what} at offset {offset + 1} runs past the end of "
                                   f"the {enclosing} at offset {end}")
    return tag, start, stop


def _tag_text(tag: int) -> str:
    name = TAG_NAMES.get(tag) or {SEQUENCE: "SEQUENCE"}.get(tag) or "unknown"
    return f"0x{tag:02x} ({name})"


def _expect(data: bytes, offset: int, end: int, tag: int, what: str, enclosing: str) -> tuple[int, int]:
    found, start, stop = _header(data, offset, end, what, enclosing)
    if found != tag:
        raise MalformedPacketError(f"the {what} at offset {offset} has tag {_tag_text(found)}, "
                                   f"expected {_tag_text(tag)}")
    return start, stop


def _integer(data: bytes, start: int, stop: int, offset: int, what: str) -> int:
    if start == stop:
        raise MalformedPacketError(f"the {what} at offset {offset} is an empty INTEGER (zero content octets)")
    return int.from_bytes(data[start:stop], "big", signed=True)


def _base128(digits: bytes) -> int:
    """The number whose base-128 digits (top bits already cleared) these are, in O(n log n)."""
    if len(digits) <= 64:
        number = 0
        for digit in digits:
            number = (number << 7) | digit
        return number
    half = len(digits) // 2
    return (_base128(digits[:half]) << (7 * (len(digits) - half))) | _base128(digits[half:])


def _oid_fault(data: bytes, start: int, stop: int, offset: int, what: str) -> MalformedPacketError | None:
    """What is wrong with the OID contents data[start:stop], or None. Only called on the slow path."""
    if start == stop:
        return MalformedPacketError(f"the {what} at offset {offset} is an empty OBJECT IDENTIFIER")
    if data[stop - 1] & 0x80:
        return MalformedPacketError(f"the {what} at offset {offset} ends inside a sub-identifier "
                                    f"(octet 0x{data[stop - 1]:02x} at offset {stop - 1} has the continuation bit)")
    sub_id_start = True
    for position in range(start, stop):
        octet = data[position]
        if sub_id_start and octet == 0x80:
            return MalformedPacketError(f"the {what} at offset {offset} has a sub-identifier padded with a "
                                        f"leading 0x80 at offset {position}")
        sub_id_start = octet < 0x80
    return None


def _decode_oid(data: bytes, start: int, stop: int, offset: int, what: str) -> Oid:
    """The arcs of the OID contents data[start:stop]; the TLV starts at `offset` (for errors)."""
    if start == stop or data[stop - 1] & 0x80:
        raise _oid_fault(data, start, stop, offset, what)
    contents = data[start:stop]
    if contents.isascii():
        # Every sub-identifier is one octet (the usual case): the octets are the arcs.
        return _FIRST_ARCS[contents[0]] + tuple(contents)[1:]
    arcs = []
    append = arcs.append
    arc = 0
    for octet in contents:
        if octet < 0x80:
            append((arc << 7) | octet)
            arc = 0
        elif arc == 0 and octet == 0x80:
            raise _oid_fault(data, start, stop, offset, what)
        else:
            arc = (arc << 7) | (octet & 0x7F)
            if arc >= _HUGE_ARC:
                return _decode_oid_with_huge_arcs(data, start, stop, offset, what)
    first = arcs[0]
    if first < 40:
        return (0, first, *arcs[1:])
    if first < 80:
        return (1, first - 40, *arcs[1:])
    return (2, first - 80, *arcs[1:])


def _decode_oid_with_huge_arcs(data: bytes, start: int, stop: int, offset: int, what: str) -> Oid:
    fault = _oid_fault(data, start, stop, offset, what)
    if fault is not None:
        raise fault
    arcs = []
    sub_id_start = start
    for position in range(start, stop):
        if data[position] < 0x80:
            arcs.append(_base128(data[sub_id_start:position + 1].translate(_LOW_SEVEN_BITS)))
            sub_id_start = position + 1
    first = arcs[0]
    return (*(_FIRST_ARCS[first] if first < 80 else (2, first - 80)), *arcs[1:])


def _decode_value(data: bytes, tag: int, start: int, stop: int, offset: int):
    if tag == INTEGER:
        return _integer(data, start, stop, offset, "INTEGER value")
    if tag in _STRING_TAGS:
        return data[start:stop]
    if tag in _UNSIGNED_MODULUS:
        return _integer(data, start, stop, offset, f"{TAG_NAMES[tag]} value") % _UNSIGNED_MODULUS[tag]
    if tag == OBJECT_IDENTIFIER:
        if start == stop:
            # Some agents send 06 00 for "no OID"; net-snmp reads it as 0.0 (zeroDotZero), and so do we.
            return (0, 0)
        return _decode_oid(data, start, stop, offset, "OBJECT IDENTIFIER value")
    if tag in _EMPTY_TAGS:
        if start != stop:
            raise MalformedPacketError(f"the {TAG_NAMES[tag]} value at offset {offset} has {stop - start} "
                                       f"content octets, expected none")
        return None
    raise MalformedPacketError(f"unknown value tag 0x{tag:02x} at offset {offset}: not a type SNMP v1/v2c defines")


def _decode_varbind_strictly(data: bytes, offset: int, end: int) -> tuple[VarBind, int]:
    """The varbind at offset and where it ends, in the general case; or the precise error."""
    tag, start, stop = _header(data, offset, end, "variable binding", "variable-bindings list")
    if tag != SEQUENCE:
        raise MalformedPacketError(f"the variable binding at offset {offset} has tag {_tag_text(tag)}, "
                                   f"expected 0x30 (SEQUENCE)")
    oid_start, oid_stop = _expect(data, start, stop, OBJECT_IDENTIFIER, "name of the variable binding",
                                  "variable binding")
    oid = _decode_oid(data, oid_start, oid_stop, start, "name of the variable binding")
    if oid_stop == stop:
        raise MalformedPacketError(f"the variable binding at offset {offset} has a name but no value")
    tag, value_start, value_stop = _header(data, oid_stop, stop, "value of the variable binding",
                                           "variable binding")
    if value_stop != stop:
        raise MalformedPacketError(f"{stop - value_stop} stray bytes after the value of the variable binding "
                                   f"at offset {offset}")
    return (oid, tag, _decode_value(data, tag, value_start, value_stop, oid_stop)), stop


# ---------------------------------------------------------------- decoding: the fast path


def _decode_varbinds(data: bytes, offset: int, end: int) -> list[VarBind]:
    varbinds: list[VarBind] = []
    append = varbinds.append
    from_bytes = int.from_bytes
    prefixes = _OID_PREFIXES
    prefix_of = prefixes.get
    use_cache = True
    misses = 0
    while offset < end:
        # Fast path: SEQUENCE { OID, value } with one-octet lengths, which every varbind
        # shorter than 130 bytes has (when minimally encoded). The chain of tests is
        # ordered so that no index is read before the bounds that make it safe are known.
        oid_start = offset + 4
        vb_length = data[offset + 1] if oid_start < end else 0x80
        vb_stop = offset + 2 + vb_length
        if not (vb_length < 0x80 and vb_stop <= end and data[offset] == SEQUENCE
                and data[offset + 2] == OBJECT_IDENTIFIER):
            varbind, offset = _decode_varbind_strictly(data, offset, end)
            append(varbind)
            continue
        oid_stop = oid_start + data[offset + 3]
        value_start = oid_stop + 2
        # At least two octets in the name: the cache key below (all but the last octet) must
        # not be empty, because only after the first octet is the last one a plain addition.
        if not (oid_start + 1 < oid_stop and value_start <= vb_stop
                and value_start + data[oid_stop + 1] == vb_stop):
            varbind, offset = _decode_varbind_strictly(data, offset, end)
            append(varbind)
            continue

        # The name: everything but its last octet comes from the cache (see _OID_PREFIXES).
        if use_cache:
            last = data[oid_stop - 1]
            key = data[oid_start:oid_stop - 1]
            cached = prefix_of(key)
            if cached is not None and last < 0x80:
                prefix, arc_base = cached
                oid = prefix + (arc_base + last,)
            else:
                oid = _decode_oid(data, oid_start, oid_stop, offset + 2, "name of the variable binding")
                if len(prefixes) >= _OID_PREFIX_LIMIT:
                    prefixes.clear()
                prefixes[key] = (oid[:-1], oid[-1] - last)
                misses += 1
                # Tables indexed by MAC or IP addresses miss nearly every time, and a miss
                # costs ~20% more than no cache at all: stop using it for this message.
                if misses >= 16 and misses * 2 > len(varbinds):
                    use_cache = False
        else:
            oid = _decode_oid(data, oid_start, oid_stop, offset + 2, "name of the variable binding")

        # The value, commonest types first.
        tag = data[oid_stop]
        if tag == INTEGER and value_start < vb_stop:
            if value_start + 1 == vb_stop:     # statuses, types, small indexes: no slice, no call
                value = data[value_start]
                if value > 0x7F:
                    value -= 0x100
            else:
                value = from_bytes(data[value_start:vb_stop], "big", signed=True)
        elif tag == OCTET_STRING:
            value = data[value_start:vb_stop]
        elif (tag == COUNTER32 or tag == GAUGE32 or tag == TIMETICKS) and value_start < vb_stop:
            value = from_bytes(data[value_start:vb_stop], "big", signed=True)
            if not 0 <= value <= 0xFFFFFFFF:
                value %= 0x100000000
        elif tag == NULL or tag == END_OF_MIB_VIEW or tag == NO_SUCH_INSTANCE or tag == NO_SUCH_OBJECT:
            if value_start != vb_stop:
                raise MalformedPacketError(f"the {TAG_NAMES[tag]} value at offset {oid_stop} has "
                                           f"{vb_stop - value_start} content octets, expected none")
            value = None
        else:
            value = _decode_value(data, tag, value_start, vb_stop, oid_stop)
        append((oid, tag, value))
        offset = vb_stop
    return varbinds


def decode_message(data: bytes) -> Message:
    """One SNMP v1/v2c message; MalformedPacketError (saying what and where) for anything else."""
    try:
        return _decode_message(data)
    except MalformedPacketError:
        raise
    except Exception as exc:
        # Never expected (the fuzz tests check that this never fires), but callers such as
        # asyncio's datagram_received catch only MalformedPacketError, and a decoder bug must
        # cost one packet, not the socket.
        raise MalformedPacketError(f"undecodable packet, offset unknown: {type(exc).__name__}: {exc} "
                                   f"(a bug in ber.py)") from exc


def _decode_message(data: bytes) -> Message:
    if not isinstance(data, bytes):
        if not isinstance(data, (bytearray, memoryview)):
            raise MalformedPacketError(f"expected the bytes of a packet, got {type(data).__name__}")
        data = bytes(data)   # slices of it become the OCTET STRING values, which must be bytes
    end = len(data)
    if end == 0:
        raise MalformedPacketError("empty packet: no message at offset 0")
    start, stop = _expect(data, 0, end, SEQUENCE, "message", "packet")
    if stop != end:
        raise MalformedPacketError(f"{end - stop} trailing bytes after the message, from offset {stop} "
                                   f"of the {end}-byte packet")

    offset = start
    body, body_end = _expect(data, offset, stop, INTEGER, "version", "message")
    version = _integer(data, body, body_end, offset, "version")
    if version not in VERSIONS:
        # (str() of a many-thousand-digit int raises ValueError, so a huge one is described instead.)
        shown = version if body_end - body <= 8 else f"of {body_end - body} octets"
        raise MalformedPacketError(f"version {shown} at offset {offset}: this codec reads SNMP v1 (0) "
                                   f"and v2c (1) messages only (v3 goes through pysnmp)")
    offset = body_end
    body, body_end = _expect(data, offset, stop, OCTET_STRING, "community", "message")
    community = data[body:body_end]

    offset = body_end
    pdu_type, pdu_start, pdu_stop = _header(data, offset, stop, "PDU", "message")
    if pdu_type not in PDU_TYPES:
        raise MalformedPacketError(f"the PDU at offset {offset} has tag 0x{pdu_type:02x}, not an SNMP v1/v2c "
                                   f"PDU with variable bindings (0xa0-0xa3, 0xa5-0xa8)")
    if pdu_stop != stop:
        raise MalformedPacketError(f"{stop - pdu_stop} stray bytes after the PDU, from offset {pdu_stop}")

    offset = pdu_start
    body, body_end = _expect(data, offset, pdu_stop, INTEGER, "request-id", "PDU")
    request_id = _integer(data, body, body_end, offset, "request-id")
    offset = body_end
    body, body_end = _expect(data, offset, pdu_stop, INTEGER, "error-status", "PDU")
    error_status = _integer(data, body, body_end, offset, "error-status")
    offset = body_end
    body, body_end = _expect(data, offset, pdu_stop, INTEGER, "error-index", "PDU")
    error_index = _integer(data, body, body_end, offset, "error-index")

    offset = body_end
    list_start, list_stop = _expect(data, offset, pdu_stop, SEQUENCE, "variable-bindings list", "PDU")
    if list_stop != pdu_stop:
        raise MalformedPacketError(f"{pdu_stop - list_stop} stray bytes after the variable-bindings list, "
                                   f"from offset {list_stop}")
    return Message(version, community, pdu_type, request_id, error_status, error_index,
                   _decode_varbinds(data, list_start, list_stop))

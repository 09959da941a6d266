"""The v1/v2c codec, property by property against pysnmp's own encoder and decoder (pyasn1).

pysnmp is the reference: what it encodes, ours must decode to the same
message; what ours encodes, it must decode to the same message, and the bytes
must be its bytes. Malformed input of every kind raises MalformedPacketError
and nothing else, saying where. The known answers at the end are packets
captured from net-snmp 5.9.3 (snmpget -d against a local snmpd).
"""

from __future__ import annotations

import random
import time

import pytest
from headcount.agent.errors import MalformedPacketError
from headcount.agent.snmp import ber
from headcount.agent.snmp.values import (
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
    RESPONSE,
    SET_REQUEST,
    TIMETICKS,
    VERSION_1,
    VERSION_2C,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pyasn1.codec.ber import encoder as pyasn1_encoder
from pysnmp.proto import api, rfc1905

V1 = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]
V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
MODULES = {VERSION_1: V1, VERSION_2C: V2C}
INFORM, TRAP_V2, REPORT = 0xA6, 0xA7, 0xA8

# Example counts keep the file near 15 s: drawing one random message costs hypothesis ~15 ms
# here, so the message-based fuzz tests mutate each drawn message many times instead.
PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MUTATIONS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- strategies

# Where the base-128 encoding of a sub-identifier gains an octet, and SNMP's 32-bit ceiling.
SUB_ID_EDGES = [0, 1, 39, 40, 127, 128, 255, 16383, 16384, 2**21 - 1, 2**21, 2**28 - 1, 2**28, 2**31, 2**32 - 1]
sub_ids = st.one_of(st.integers(0, 127), st.integers(128, 16383), st.integers(0, 2**32 - 1),
                    st.sampled_from(SUB_ID_EDGES))


@st.composite
def oids(draw, beyond_32_bits: bool = False):
    first = draw(st.integers(0, 2))
    if first < 2:
        second = draw(st.one_of(st.integers(0, 39), st.sampled_from([0, 39])))
    else:   # 2.47 is the last first sub-identifier of one octet (80 + 47 = 127)
        second = draw(st.one_of(st.integers(0, 100), st.sampled_from([47, 48, 16303, 16304]),
                                st.integers(0, 2**32 - 1)))
    arcs = st.one_of(sub_ids, st.integers(2**32, 2**70)) if beyond_32_bits else sub_ids
    return (first, second, *draw(st.lists(arcs, max_size=14)))


integer32 = st.one_of(st.integers(-2**31, 2**31 - 1),
                      st.sampled_from([0, 1, -1, 127, 128, -128, -129, 255, 256, -256, 32767, 32768, -32768, -32769,
                                       2**31 - 1, -2**31]))
unsigned32 = st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 127, 128, 255, 256, 2**31 - 1, 2**31, 2**32 - 1]))
unsigned64 = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 2**32, 2**63 - 1, 2**63, 2**64 - 1]))
short_strings = st.binary(max_size=40)
# Sizes where the length takes one more octet (127/128, 255/256) and SNMP's own ceiling (65535),
# which pushes every enclosing length into the three-octet form.
long_strings = st.builds(lambda size, fill: bytes([fill]) * size,
                         st.sampled_from([127, 128, 255, 256, 65535]), st.integers(0, 255))


any_strings = st.one_of(short_strings, long_strings)


def value_strategy(version: int, strings=any_strings):
    choices = [
        st.tuples(st.just(INTEGER), integer32),
        st.tuples(st.just(OCTET_STRING), strings),
        st.tuples(st.just(OBJECT_IDENTIFIER), oids()),
        st.tuples(st.just(IP_ADDRESS), st.binary(min_size=4, max_size=4)),
        st.tuples(st.sampled_from([COUNTER32, GAUGE32, TIMETICKS]), unsigned32),
        st.tuples(st.just(OPAQUE), st.binary(max_size=300)),
        st.tuples(st.just(NULL), st.none()),
    ]
    if version == VERSION_2C:
        choices += [
            st.tuples(st.just(COUNTER64), unsigned64),
            st.tuples(st.sampled_from([NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW]), st.none()),
        ]
    return st.one_of(choices)


PDU_TYPES_BY_VERSION = {
    VERSION_1: [GET_REQUEST, GET_NEXT_REQUEST, RESPONSE, SET_REQUEST],
    VERSION_2C: [GET_REQUEST, GET_NEXT_REQUEST, RESPONSE, SET_REQUEST, GET_BULK_REQUEST, INFORM, TRAP_V2, REPORT],
}


@st.composite
def messages(draw, long_values: bool = True):
    version = draw(st.sampled_from([VERSION_1, VERSION_2C]))
    strings = any_strings if long_values else short_strings
    varbinds = draw(st.lists(st.tuples(oids(), value_strategy(version, strings)), max_size=10))
    if version == VERSION_1:   # v1's request-id is an unconstrained INTEGER
        request_id = draw(st.one_of(integer32, st.integers(-2**63, 2**63)))
    else:
        request_id = draw(integer32)
    return ber.Message(
        version=version,
        community=draw(st.one_of(short_strings, st.sampled_from([b"", b"public", b"x" * 200]))),
        pdu_type=draw(st.sampled_from(PDU_TYPES_BY_VERSION[version])),
        request_id=request_id,
        error_status=draw(st.one_of(st.integers(0, 18), st.sampled_from([127, 128, 255, 2**31 - 1]))),
        error_index=draw(st.one_of(st.integers(0, 12), st.sampled_from([127, 128, 2**31 - 1]))),
        varbinds=[(oid, tag, value) for oid, (tag, value) in varbinds],
    )


# ---------------------------------------------------------------- pysnmp's side

def pysnmp_value(module, tag, value):
    if tag == INTEGER:
        return module.Integer(value)
    if tag == OCTET_STRING:
        return module.OctetString(value)
    if tag == OBJECT_IDENTIFIER:
        return module.ObjectIdentifier(value)
    if tag == IP_ADDRESS:
        return module.IpAddress(value)
    if tag == COUNTER32:   # SNMPv1's SMI calls them Counter and Gauge
        return module.Counter32(value) if module is V2C else module.Counter(value)
    if tag == GAUGE32:
        return module.Gauge32(value) if module is V2C else module.Gauge(value)
    if tag == TIMETICKS:
        return module.TimeTicks(value)
    if tag == OPAQUE:
        return module.Opaque(value)
    if tag == COUNTER64:
        return module.Counter64(value)
    if tag == NULL:
        return module.Null("")
    return {NO_SUCH_OBJECT: rfc1905.noSuchObject, NO_SUCH_INSTANCE: rfc1905.noSuchInstance,
            END_OF_MIB_VIEW: rfc1905.endOfMibView}[tag]


PDU_CLASSES = {
    VERSION_1: {GET_REQUEST: V1.GetRequestPDU, GET_NEXT_REQUEST: V1.GetNextRequestPDU,
                RESPONSE: V1.GetResponsePDU, SET_REQUEST: V1.SetRequestPDU},
    VERSION_2C: {GET_REQUEST: V2C.GetRequestPDU, GET_NEXT_REQUEST: V2C.GetNextRequestPDU,
                 RESPONSE: V2C.ResponsePDU, SET_REQUEST: V2C.SetRequestPDU, GET_BULK_REQUEST: V2C.GetBulkRequestPDU,
                 INFORM: V2C.InformRequestPDU, TRAP_V2: V2C.SNMPv2TrapPDU, REPORT: V2C.ReportPDU},
}


def pysnmp_encode(m: ber.Message) -> bytes:
    module = MODULES[m.version]
    pdu = PDU_CLASSES[m.version][m.pdu_type]()
    pdu_api = module.apiBulkPDU if m.pdu_type == GET_BULK_REQUEST else module.apiPDU
    pdu_api.set_defaults(pdu)
    # By position: for GetBulk the second and third are non-repeaters and max-repetitions.
    pdu.setComponentByPosition(0, m.request_id)
    pdu.setComponentByPosition(1, m.error_status)
    pdu.setComponentByPosition(2, m.error_index)
    pdu_api.set_varbinds(pdu, [(oid, pysnmp_value(module, tag, value)) for oid, tag, value in m.varbinds])
    message = module.Message()
    module.apiMessage.set_defaults(message)
    module.apiMessage.set_community(message, m.community)
    module.apiMessage.set_pdu(message, pdu)
    return pyasn1_encoder.encode(message)


def tag_byte(asn1_object) -> int:
    tag = asn1_object.tagSet[-1]
    return tag.tagClass | tag.tagFormat | tag.tagId


def pysnmp_decode(data: bytes, version: int) -> ber.Message:
    module = MODULES[version]
    message, rest = pyasn1_decoder.decode(data, asn1Spec=module.Message())
    assert rest == b""
    pdu = module.apiMessage.get_pdu(message)
    varbinds = []
    for name, value in module.apiPDU.get_varbinds(pdu):
        tag = tag_byte(value)
        if tag in (NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW):
            python = None
        elif tag == OBJECT_IDENTIFIER:
            python = tuple(value)
        elif tag in (OCTET_STRING, OPAQUE, IP_ADDRESS):
            python = bytes(value.asOctets())
        else:
            python = int(value)
        varbinds.append((tuple(name), tag, python))
    return ber.Message(int(module.apiMessage.get_version(message)), bytes(module.apiMessage.get_community(message)),
                       tag_byte(pdu), int(pdu[0]), int(pdu[1]), int(pdu[2]), varbinds)


def ours_encode(m: ber.Message) -> bytes:
    return ber.encode_message(m.version, m.community, m.pdu_type, m.request_id, m.error_status, m.error_index,
                              m.varbinds)


def pyasn1_pads(number: int) -> bool:
    """pyasn1 encodes -2**7, -2**15, ... with a redundant leading 0xFF octet (X.690 wants them minimal)."""
    return number < 0 and (-number) & (-number - 1) == 0 and (-number).bit_length() % 8 == 0


def has_padded_integer(m: ber.Message) -> bool:
    return (any(map(pyasn1_pads, (m.request_id, m.error_status, m.error_index)))
            or any(tag == INTEGER and pyasn1_pads(value) for _, tag, value in m.varbinds))


# ---------------------------------------------------------------- the two decoding paths

def _varbinds_by_the_strict_path_only(data, offset, end):
    varbinds = []
    while offset < end:
        varbind, offset = ber._decode_varbind_strictly(data, offset, end)
        varbinds.append(varbind)
    return varbinds


def outcome(data, strict_only: bool = False, cold_cache: bool = False):
    """The decoded message, or the MalformedPacketError's text; any other exception fails the test."""
    if cold_cache:
        ber._OID_PREFIXES.clear()
    try:
        if strict_only:
            fast_path = ber._decode_varbinds
            ber._decode_varbinds = _varbinds_by_the_strict_path_only
            try:
                return ber.decode_message(data)
            finally:
                ber._decode_varbinds = fast_path
        return ber.decode_message(data)
    except MalformedPacketError as exc:
        assert type(exc) is MalformedPacketError
        assert exc.__cause__ is None and exc.__context__ is None, "an unexpected exception was converted"
        assert "offset" in str(exc), f"no position in: {exc}"
        return str(exc)


def assert_paths_agree(data) -> ber.Message | str:
    """Fast path (cold and warm cache) and strict path accept and reject the same bytes, with the same result."""
    cold = outcome(data, cold_cache=True)
    warm = outcome(data)
    strict = outcome(data, strict_only=True)
    assert type(cold) is type(warm) is type(strict)
    if isinstance(cold, ber.Message):
        assert cold == warm == strict
    return cold


def assert_malformed(data, *fragments: str) -> str:
    result = assert_paths_agree(data)
    assert isinstance(result, str), f"accepted: {result}"
    for fragment in fragments:
        assert fragment in result
    return result


# ---------------------------------------------------------------- 1. pysnmp encodes, we decode

@PROPERTY
@given(messages())
def test_what_pysnmp_encodes_we_decode_to_the_same_message(m):
    assert assert_paths_agree(pysnmp_encode(m)) == m


@PROPERTY
@given(st.sampled_from([VERSION_1, VERSION_2C]), st.lists(oids(beyond_32_bits=True), min_size=1, max_size=6))
def test_sub_identifiers_beyond_32_bits_decode_like_pysnmp(version, names):
    m = ber.Message(version, b"public", RESPONSE, 1, 0, 0, [(name, OBJECT_IDENTIFIER, name) for name in names])
    data = pysnmp_encode(m)
    assert assert_paths_agree(data) == m
    assert ours_encode(m) == data


# ---------------------------------------------------------------- 2. we encode, pysnmp decodes

@PROPERTY
@given(messages())
def test_what_we_encode_is_pyasn1s_bytes_and_pysnmp_decodes_it(m):
    ours = ours_encode(m)
    assert pysnmp_decode(ours, m.version) == m
    theirs = pysnmp_encode(m)
    if has_padded_integer(m):
        # The one deliberate difference (see test_negative_powers_of_two_are_minimal_unlike_pyasn1).
        assert len(ours) < len(theirs) and ber.decode_message(theirs) == m
    else:
        assert ours == theirs


def test_negative_powers_of_two_are_minimal_unlike_pyasn1():
    for number, minimal in [(-128, "80"), (-32768, "8000"), (-2**23, "800000"), (-2**31, "80000000")]:
        varbinds = [((1, 3, 6, 1), INTEGER, number)]
        ours = ber.encode_message(1, b"c", RESPONSE, 1, 0, 0, varbinds)
        theirs = pysnmp_encode(ber.Message(1, b"c", RESPONSE, 1, 0, 0, varbinds))
        assert ours.endswith(bytes.fromhex(f"02{len(minimal) // 2:02x}{minimal}"))
        assert theirs.endswith(bytes.fromhex(f"02{len(minimal) // 2 + 1:02x}ff{minimal}"))
        assert ber.decode_message(theirs).varbinds == ber.decode_message(ours).varbinds == varbinds


def test_a_four_octet_length_round_trips():
    big = bytes(range(256)) * 65536                                       # 16 MiB: a four-octet length
    m = ber.Message(1, b"public", RESPONSE, 7, 0, 0, [((1, 3, 6, 1, 4, 1, 9), OPAQUE, big)])
    data = ours_encode(m)
    assert data[:6] == bytes.fromhex("3084") + (len(data) - 6).to_bytes(4, "big")
    assert ber.decode_message(data) == m
    assert pysnmp_decode(data, 1) == m


# ---------------------------------------------------------------- 3. requests

@PROPERTY
@given(st.lists(oids(), min_size=1, max_size=6), st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1),
       integer32, st.binary(max_size=30))
def test_getbulk_requests_carry_non_repeaters_and_max_repetitions(names, non_repeaters, repetitions, request_id,
                                                                  community):
    data = ber.encode_get_bulk(community, request_id, names, non_repeaters, repetitions)
    message, _ = pyasn1_decoder.decode(data, asn1Spec=V2C.Message())
    pdu = V2C.apiMessage.get_pdu(message)
    assert pdu.isSameTypeWith(V2C.GetBulkRequestPDU())
    assert int(V2C.apiMessage.get_version(message)) == VERSION_2C
    assert bytes(V2C.apiMessage.get_community(message)) == community
    assert int(V2C.apiBulkPDU.get_request_id(pdu)) == request_id
    assert int(V2C.apiBulkPDU.get_non_repeaters(pdu)) == non_repeaters
    assert int(V2C.apiBulkPDU.get_max_repetitions(pdu)) == repetitions
    assert [(tuple(name), tag_byte(value)) for name, value in V2C.apiBulkPDU.get_varbinds(pdu)] == \
        [(name, NULL) for name in names]
    assert ber.decode_message(data) == ber.Message(VERSION_2C, community, GET_BULK_REQUEST, request_id,
                                                   non_repeaters, repetitions, [(n, NULL, None) for n in names])


@PROPERTY
@given(st.sampled_from([VERSION_1, VERSION_2C]), st.lists(oids(), min_size=1, max_size=6), integer32)
def test_get_and_getnext_requests_are_pysnmps(version, names, request_id):
    for encode, pdu_type in [(ber.encode_get, GET_REQUEST), (ber.encode_get_next, GET_NEXT_REQUEST)]:
        data = encode(version, b"public", request_id, names)
        expected = ber.Message(version, b"public", pdu_type, request_id, 0, 0, [(n, NULL, None) for n in names])
        assert pysnmp_decode(data, version) == expected
        if not pyasn1_pads(request_id):
            assert data == pysnmp_encode(expected)


@pytest.mark.parametrize("tag, value, complaint", [
    (COUNTER32, -1, "outside its unsigned range"),
    (GAUGE32, 2**32, "outside its unsigned range"),
    (COUNTER64, 2**64, "outside its unsigned range"),
    (IP_ADDRESS, b"\x7f\x00\x01", "4 bytes"),
    (OCTET_STRING, 5, "must be bytes"),
    (0x99, 1, "tag 0x99"),
])
def test_the_encoder_refuses_values_the_wire_cannot_carry(tag, value, complaint):
    with pytest.raises(ValueError, match=complaint):
        ber.encode_message(1, b"c", SET_REQUEST, 1, 0, 0, [((1, 3, 6), tag, value)])


@pytest.mark.parametrize("oid", [(1,), (3, 1), (0, 40), (1, 40), (1, 3, -1), (2, -1)])
def test_the_encoder_refuses_impossible_oids(oid):
    with pytest.raises(ValueError):
        ber.encode_get(1, b"c", 1, [oid])


# ---------------------------------------------------------------- 4. malformed input

def encoded_varbind(varbind) -> bytes:
    oid, tag, value = varbind
    return ber._tlv(0x30, ber._tlv(OBJECT_IDENTIFIER, ber._oid_body(oid)) + ber._encode_value(tag, value))


def around(m: ber.Message, list_body: bytes) -> bytes:
    """m's message with `list_body` as the contents of its variable-bindings list, every length right."""
    numbers = b"".join(ber._tlv(INTEGER, ber._signed(n)) for n in (m.request_id, m.error_status, m.error_index))
    pdu = ber._tlv(m.pdu_type, numbers + ber._tlv(0x30, list_body))
    return ber._tlv(0x30, ber._tlv(INTEGER, ber._signed(m.version)) + ber._tlv(OCTET_STRING, m.community) + pdu)


@MUTATIONS
@given(messages(long_values=False))
def test_every_truncation_of_a_valid_message_and_trailing_bytes_are_malformed(m):
    data = ours_encode(m)
    for cut in range(len(data)):
        assert isinstance(outcome(data[:cut]), str)
    # The cuts above all fail at the first length. Cut inside the variable-bindings list with
    # every enclosing length fixed up, so the cut reaches the varbind decoder itself.
    pieces = [encoded_varbind(varbind) for varbind in m.varbinds]
    body = b"".join(pieces)
    ends = {sum(map(len, pieces[:count])): count for count in range(len(pieces) + 1)}
    for cut in range(len(body)):
        if cut in ends:
            assert ber.decode_message(around(m, body[:cut])).varbinds == m.varbinds[:ends[cut]]
        else:
            assert_malformed(around(m, body[:cut]))
    assert_malformed(data + b"\x00", "trailing bytes")
    assert_malformed(data + data, "trailing bytes")


positions_and_bytes = st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255)), min_size=1, max_size=40)


@MUTATIONS
@given(messages(long_values=False), positions_and_bytes, st.integers(1, 3))
def test_byte_flips_are_decoded_consistently_or_malformed(m, flips, per_packet):
    original = ours_encode(m)
    for first in range(0, len(flips), per_packet):
        packet = bytearray(original)
        for position, byte in flips[first:first + per_packet]:
            packet[position % len(packet)] = byte
        assert_paths_agree(bytes(packet))


@MUTATIONS
@given(messages(long_values=False), st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 2**16),
                                                       st.binary(max_size=8) | st.none()), min_size=1, max_size=20))
def test_spliced_ranges_are_decoded_consistently_or_malformed(m, splices):
    packet = ours_encode(m)
    for first, second, filler in splices:
        start, stop = sorted((first % (len(packet) + 1), second % (len(packet) + 1)))
        # None: duplicate the range instead, which keeps TLVs whole but breaks the enclosing lengths.
        assert_paths_agree(packet[:start] + (packet[start:stop] * 2 if filler is None else filler) + packet[stop:])


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_are_malformed_or_a_message_never_anything_else(data):
    assert_paths_agree(data)


def header_then(body: bytes, version: int = 1, pdu_type: int = RESPONSE) -> bytes:
    """A well-formed message whose variable-bindings list holds `body`, whatever that is."""
    pdu = bytes.fromhex("020101020100020100") + ber._tlv(0x30, body)
    return ber._tlv(0x30, bytes((2, 1, version)) + ber._tlv(4, b"public") + ber._tlv(pdu_type, pdu))


@FUZZ
@given(st.lists(st.one_of(
    st.binary(max_size=12),
    # Random varbinds with believable framing, so the fuzz reaches the value decoders.
    st.builds(lambda name, tag, value: ber._tlv(0x30, ber._tlv(6, name) + ber._tlv(tag, value)),
              st.binary(max_size=10), st.integers(0, 255), st.binary(max_size=10)),
), max_size=8))
def test_random_varbinds_behind_a_valid_header_are_decoded_consistently_or_malformed(pieces):
    assert_paths_agree(header_then(b"".join(pieces)))


def vb(name: bytes, value: bytes) -> bytes:
    return ber._tlv(0x30, name + value)


SYS_DESCR = bytes.fromhex("06082b06010201010100")           # the name 1.3.6.1.2.1.1.1.0 as a TLV


def message_with_pdu(pdu_body: bytes, pdu_type: int = RESPONSE) -> bytes:
    return ber._tlv(0x30, bytes.fromhex("020101") + ber._tlv(4, b"public") + ber._tlv(pdu_type, pdu_body))


GOOD = header_then(vb(SYS_DESCR, bytes.fromhex("0405") + b"Linux"))   # 43 bytes; list at 24, varbind at 26


def case(name: str, data: bytes, *fragments: str):
    return pytest.param(data, fragments, id=name)


EMPTY_LIST = ber._tlv(0x30, b"")
NUMBERS = bytes.fromhex("020101020100020100")   # request-id 1, error-status 0, error-index 0


@pytest.mark.parametrize("data, fragments", [
    case("empty", b"", "empty packet"),
    case("trailing byte", GOOD + b"\x00", "1 trailing bytes", "offset 45", "46-byte packet"),
    case("indefinite length", b"\x30\x80" + GOOD[2:], "indefinite length", "message at offset 1"),
    case("five length octets", b"\x30\x85\x00\x00\x00\x00\x29" + GOOD[2:], "claims 5 length octets", "offset 1"),
    case("length past the end", b"\x30\x84\x7f\xff\xff\xff" + GOOD[2:],
         "length 2147483647 of the message at offset 1 runs past the end of the 49-byte packet"),
    case("message tag", b"\x31" + GOOD[1:], "message at offset 0 has tag 0x31"),
    case("version tag", GOOD[:2] + b"\x04\x01\x01" + GOOD[5:], "version at offset 2 has tag 0x04"),
    case("version 3", GOOD[:2] + b"\x02\x01\x03" + GOOD[5:], "version 3 at offset 2"),
    case("empty version", GOOD[:2] + b"\x02\x00" + GOOD[4:]),   # which also misaligns all that follows
    case("community tag", GOOD[:5] + b"\x02" + GOOD[6:], "community at offset 5 has tag 0x02"),
    case("v1 trap PDU", GOOD[:13] + b"\xa4" + GOOD[14:], "PDU at offset 13 has tag 0xa4"),
    case("PDU tag", GOOD[:13] + b"\x30" + GOOD[14:], "PDU at offset 13 has tag 0x30"),
    case("empty request-id", message_with_pdu(bytes.fromhex("0200020100020100") + EMPTY_LIST),
         "request-id at offset 15 is an empty INTEGER"),
    case("error-status tag", message_with_pdu(bytes.fromhex("020101040100020100") + EMPTY_LIST),
         "error-status at offset 18 has tag 0x04"),
    case("no error-index", message_with_pdu(bytes.fromhex("020101020100")),
         "the 21-byte packet ends before the error-index at offset 21"),
    case("varbind list tag", message_with_pdu(NUMBERS + ber._tlv(0x31, b"")),
         "variable-bindings list at offset 24 has tag 0x31"),
    case("bytes after the list", message_with_pdu(NUMBERS + EMPTY_LIST + b"\x05\x00"),
         "2 stray bytes after the variable-bindings list, from offset 26"),
    case("bytes after the PDU", ber._tlv(0x30, bytes.fromhex("020101") + ber._tlv(4, b"public")
                                         + ber._tlv(RESPONSE, NUMBERS + EMPTY_LIST) + b"\x05\x00"),
         "2 stray bytes after the PDU, from offset 26"),
    case("varbind tag", header_then(b"\x31" + vb(SYS_DESCR, b"\x05\x00")[1:]),
         "variable binding at offset 26 has tag 0x31"),
    case("varbind indefinite", header_then(b"\x30\x80" + SYS_DESCR + b"\x05\x00\x00\x00"),
         "indefinite length", "offset 27"),
    case("name tag", header_then(vb(bytes.fromhex("04082b06010201010100"), b"\x05\x00")),
         "name of the variable binding at offset 28 has tag 0x04"),
    case("name truncated sub-id", header_then(vb(bytes.fromhex("06022b86"), b"\x05\x00")),
         "name of the variable binding at offset 28 ends inside a sub-identifier", "offset 31"),
    case("name padded sub-id", header_then(vb(bytes.fromhex("06032b8001"), b"\x05\x00")), "padded", "offset 31"),
    case("empty name", header_then(vb(bytes.fromhex("0600"), b"\x05\x00")),
         "name of the variable binding at offset 28 is an empty"),
    case("name past its varbind", header_then(vb(bytes.fromhex("060b2b06010201010100"), b"\x05\x00")
                                              + vb(SYS_DESCR, b"\x05\x00")),
         "length 11 of the name of the variable binding at offset 29",
         "runs past the end of the variable binding at offset 40"),
    case("no value", header_then(vb(SYS_DESCR, b"")), "variable binding at offset 26 has a name but no value"),
    case("unknown value tag", header_then(vb(SYS_DESCR, b"\x99\x00")), "unknown value tag 0x99 at offset 38"),
    case("constructed string", header_then(vb(SYS_DESCR, b"\x24\x03\x04\x01x")),
         "unknown value tag 0x24 at offset 38"),
    case("empty INTEGER", header_then(vb(SYS_DESCR, b"\x02\x00")), "INTEGER value at offset 38 is an empty INTEGER"),
    case("empty Counter32", header_then(vb(SYS_DESCR, b"\x41\x00")), "Counter32 value at offset 38 is an empty"),
    case("empty Counter64", header_then(vb(SYS_DESCR, b"\x46\x00")), "Counter64 value at offset 38 is an empty"),
    case("NULL with content", header_then(vb(SYS_DESCR, b"\x05\x01\x00")),
         "NULL value at offset 38 has 1 content octets"),
    case("endOfMibView with content", header_then(vb(SYS_DESCR, b"\x82\x01\x00")),
         "endOfMibView value at offset 38 has 1 content octets"),
    case("OID value truncated", header_then(vb(SYS_DESCR, b"\x06\x01\x81")),
         "OBJECT IDENTIFIER value at offset 38 ends inside"),
    case("two values", header_then(vb(SYS_DESCR, b"\x05\x00\x05\x00")),
         "2 stray bytes after the value of the variable binding at offset 26"),
    case("value past its varbind", header_then(vb(SYS_DESCR, b"\x04\x06Linux") + vb(SYS_DESCR, b"\x05\x00")),
         "length 6 of the value of the variable binding at offset 39",
         "runs past the end of the variable binding at offset 45"),
    case("varbind ends in a header", header_then(vb(SYS_DESCR, b"\x04") + vb(SYS_DESCR, b"\x05\x00")),
         "the variable binding ends at offset 39, inside the header of the value of the variable binding at offset 38"),
    case("packet ends in a header", header_then(vb(SYS_DESCR, b"\x04\x05Linux") + b"\x30"),
         "packet ends inside the header of the variable binding at offset 45"),
])
def test_specific_malformations_are_named_with_their_offset(data, fragments):
    assert_malformed(data, *fragments)


def test_the_good_sample_above_is_good():
    assert ber.decode_message(GOOD).varbinds == [((1, 3, 6, 1, 2, 1, 1, 1, 0), OCTET_STRING, b"Linux")]
    assert pysnmp_decode(GOOD, 1) == ber.decode_message(GOOD)


def test_anything_but_bytes_is_malformed_and_bytes_likes_decode_to_bytes():
    for not_bytes in ("0\x03", None, 42, [0x30, 0]):
        with pytest.raises(MalformedPacketError, match="expected the bytes of a packet"):
            ber.decode_message(not_bytes)
    for bytes_like in (bytearray(GOOD), memoryview(GOOD)):
        message = ber.decode_message(bytes_like)
        assert message == ber.decode_message(GOOD)
        assert type(message.community) is bytes and type(message.varbinds[0][2]) is bytes


def elapsed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def test_hostile_lengths_and_nesting_cost_nothing():
    hostile = [
        b"\x30\x84\xff\xff\xff\xff" + b"\x30\x80" * 10_000,
        b"\x30\x82\xff\xff" + b"\x30" * 100,
        b"\x30\x84\x00\x00\x00\x05" + b"\x30\x84\xff\xff\xff\xff" * 5_000,
        header_then(b"\x30\x84\x7f\xff\xff\xff" + b"\x00" * 100),
        # A value nested 5,000 SEQUENCEs deep: refused at the first level, never recursed into.
        header_then(vb(SYS_DESCR, b"".join(b"\x30\x84" + (6 * (5_000 - i)).to_bytes(4, "big") for i in range(5_000)))),
    ]
    for data in hostile:
        assert elapsed(assert_malformed, data) < 1.0


def test_a_huge_sub_identifier_decodes_in_linear_time():
    # 60,000 continuation octets: the naive shift-and-or loop takes seconds on this.
    count = 60_000
    name = b"\x2b" + b"\xff" * count + b"\x7f"
    data = header_then(vb(ber._tlv(6, name), b"\x05\x00"))
    start = time.perf_counter()
    message = ber.decode_message(data)
    assert time.perf_counter() - start < 0.5
    assert message.varbinds[0][0] == (1, 3, 2 ** (7 * (count + 1)) - 1)
    assert_malformed(data.replace(b"\x2b\xff", b"\x2b\x80"), "padded")
    # Padding after the huge sub-identifier is found by the linear-time path too.
    padded_later = header_then(vb(ber._tlv(6, name + b"\x80\x01"), b"\x05\x00"))
    padding_at = padded_later.index(b"\x7f\x80\x01") + 1
    assert_malformed(padded_later, "padded", f"offset {padding_at}")


@PROPERTY
@given(st.lists(st.one_of(sub_ids, st.integers(2**400, 2**4000)), min_size=1, max_size=4))
def test_sub_identifiers_of_hundreds_of_octets_round_trip(arcs):
    # Past 2**512 the decoder switches to a divide-and-conquer conversion; the encoder is a
    # plain loop, so each checks the other (pyasn1 refuses sub-identifiers over 20 octets).
    m = ber.Message(1, b"public", RESPONSE, 1, 0, 0, [((2, 5, *arcs), OBJECT_IDENTIFIER, (1, 3, *arcs))])
    assert assert_paths_agree(ours_encode(m)) == m


def test_a_huge_integer_value_decodes_quickly():
    data = header_then(vb(SYS_DESCR, ber._tlv(INTEGER, b"\x7f" + b"\xff" * 60_000)))
    start = time.perf_counter()
    value = ber.decode_message(data).varbinds[0][2]
    assert time.perf_counter() - start < 0.5
    assert value == 2 ** (8 * 60_001 - 1) - 1


def test_a_huge_version_is_described_not_printed():
    data = ber._tlv(0x30, ber._tlv(INTEGER, b"\x01" * 10_000) + ber._tlv(4, b"c") + ber._tlv(RESPONSE, b""))
    assert_malformed(data, "version of 10000 octets at offset 4")


def test_many_tiny_varbinds():
    data = header_then(vb(bytes.fromhex("06012b"), b"\x05\x00") * 20_000)
    start = time.perf_counter()
    message = ber.decode_message(data)
    assert time.perf_counter() - start < 1.0
    assert message.varbinds == [((1, 3), NULL, None)] * 20_000


def test_the_oid_prefix_cache_stays_bounded():
    ber._OID_PREFIXES.clear()
    inserted = 0
    for first in range(0, ber._OID_PREFIX_LIMIT + 500, 10):   # ten new prefixes a message: each one misses
        names = [(1, 3, 6, 1, 4, 1, n, 1) for n in range(first, first + 10)]
        assert [name for name, _, _ in ber.decode_message(ber.encode_get(1, b"c", 1, names)).varbinds] == names
        inserted += 10
        assert len(ber._OID_PREFIXES) <= ber._OID_PREFIX_LIMIT
    assert len(ber._OID_PREFIXES) < inserted


def test_tables_that_defeat_the_oid_prefix_cache_decode_the_same():
    # MAC- and address-indexed rows: after 16 misses the fast path stops using the cache for the
    # message; ifTable-like rows around them must still come out right, cold cache or warm.
    chance = random.Random(1905)
    varbinds = []
    for row in range(120):
        mac = tuple(chance.randbytes(6))
        varbinds.append(((1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 2, *mac), INTEGER, chance.randrange(1, 49)))
        if row % 10 == 0:
            varbinds.append(((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1000 + row), COUNTER32, chance.randrange(2**32)))
    for version in (VERSION_1, VERSION_2C):
        m = ber.Message(version, b"public", RESPONSE, 42, 0, 0, varbinds)
        data = ours_encode(m)
        assert assert_paths_agree(data) == m == pysnmp_decode(data, version)
        assert data == pysnmp_encode(m)


# ---------------------------------------------------------------- 5. known answers (net-snmp 5.9.3)

def test_net_snmp_get_request_for_sysdescr():
    # snmpget -v2c -c public 127.0.0.1 1.3.6.1.2.1.1.1.0
    data = bytes.fromhex("302902010104067075626c6963a01c02046670648802010002010030"
                         "0e300c06082b060102010101000500")
    assert ber.decode_message(data) == ber.Message(1, b"public", GET_REQUEST, 0x66706488, 0, 0,
                                                   [((1, 3, 6, 1, 2, 1, 1, 1, 0), NULL, None)])
    assert ber.encode_get(1, b"public", 0x66706488, [(1, 3, 6, 1, 2, 1, 1, 1, 0)]) == data


def test_net_snmp_response_for_sysdescr():
    data = bytes.fromhex(
        "303d02010104067075626c6963a2300204667064880201000201003022302006"
        "082b06010201010100041448656164636f756e742074657374206167656e74")
    expected = ber.Message(1, b"public", RESPONSE, 0x66706488, 0, 0,
                           [((1, 3, 6, 1, 2, 1, 1, 1, 0), OCTET_STRING, b"Headcount test agent")])
    assert ber.decode_message(data) == expected == pysnmp_decode(data, 1)
    assert ours_encode(expected) == data


def test_net_snmp_response_with_oid_timeticks_and_exceptions():
    # snmpget ... sysObjectID.0 sysUpTime.0 1.3.6.1.2.1.1.99.0 sysDescr.1
    data = bytes.fromhex(
        "305f02010104067075626c6963a2520204461bb5980201000201003044301606"
        "082b06010201010200060a2b06010401bf0803020a300e06082b060102010103"
        "00430203a3300c06082b060102010163008000300c06082b0601020101010181"
        "00")
    expected = ber.Message(1, b"public", RESPONSE, 0x461BB598, 0, 0, [
        ((1, 3, 6, 1, 2, 1, 1, 2, 0), OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), TIMETICKS, 931),
        ((1, 3, 6, 1, 2, 1, 1, 99, 0), NO_SUCH_OBJECT, None),
        ((1, 3, 6, 1, 2, 1, 1, 1, 1), NO_SUCH_INSTANCE, None),
    ])
    assert ber.decode_message(data) == expected == pysnmp_decode(data, 1)
    assert ours_encode(expected) == data


def test_net_snmp_getbulk_request_and_response():
    # snmpbulkget -v2c -Cn1 -Cr3 ... sysUpTime ifDescr ifInOctets
    request = bytes.fromhex(
        "304602010104067075626c6963a53902043fe652d4020101020103302b300b06"
        "072b0601020101030500300d06092b06010201020201020500300d06092b0601"
        "02010202010a0500")
    names = [(1, 3, 6, 1, 2, 1, 1, 3), (1, 3, 6, 1, 2, 1, 2, 2, 1, 2), (1, 3, 6, 1, 2, 1, 2, 2, 1, 10)]
    assert ber.encode_get_bulk(b"public", 0x3FE652D4, names, 1, 3) == request
    assert ber.decode_message(request) == ber.Message(1, b"public", GET_BULK_REQUEST, 0x3FE652D4, 1, 3,
                                                      [(n, NULL, None) for n in names])
    # 160 bytes: the message, PDU and list lengths take the two-octet form (81 xx).
    response = bytes.fromhex(
        "30819d02010104067075626c6963a2818f02043fe652d4020100020100308180"
        "300e06082b06010201010300430203a53010060a2b0601020102020102010402"
        "6c6f3012060a2b060102010202010a01410402e8c2c03012060a2b0601020102"
        "02010202040469666230300f060a2b060102010202010a024101003012060a2b"
        "060102010202010203040469666231300f060a2b060102010202010a03410100")
    expected = ber.Message(1, b"public", RESPONSE, 0x3FE652D4, 0, 0, [
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), TIMETICKS, 933),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1), OCTET_STRING, b"lo"),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), COUNTER32, 48808640),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 2), OCTET_STRING, b"ifb0"),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 2), COUNTER32, 0),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 3), OCTET_STRING, b"ifb1"),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 3), COUNTER32, 0),
    ])
    assert ber.decode_message(response) == expected == pysnmp_decode(response, 1)
    assert ours_encode(expected) == response


def test_net_snmp_getnext_past_the_end_is_end_of_mib_view():
    request = bytes.fromhex("302202010104067075626c6963a11502042d712cad0201000201003007300506"
                            "01510500")
    response = bytes.fromhex("302202010104067075626c6963a21502042d712cad0201000201003007300506"
                             "01518200")
    assert ber.encode_get_next(1, b"public", 0x2D712CAD, [(2, 1)]) == request
    assert ber.decode_message(response).varbinds == [((2, 1), END_OF_MIB_VIEW, None)]
    assert ber.decode_message(response) == pysnmp_decode(response, 1)


def test_net_snmp_v1_getnext_with_no_such_name_and_a_gauge():
    # v1 reports the end of the MIB as an error (noSuchName, index 2) and echoes the request's varbinds.
    failed = bytes.fromhex("303102010004067075626c6963a22402041090c7c60201020201023016300d06"
                           "092b0601020102020105050030050601510500")
    message = ber.decode_message(failed)
    assert (message.version, message.error_status, message.error_index) == (0, 2, 2)
    assert message == pysnmp_decode(failed, 0)
    # Gauge32 10,000,000 = 0x989680: the top bit is set, so the unsigned encoding leads with 0x00.
    answer = bytes.fromhex("302f02010004067075626c6963a22202041090c7c70201000201003014301206"
                           "0a2b060102010202010501420400989680")
    expected = ber.Message(0, b"public", RESPONSE, 0x1090C7C7, 0, 0,
                           [((1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 1), GAUGE32, 10_000_000)])
    assert ber.decode_message(answer) == expected == pysnmp_decode(answer, 0)
    assert ours_encode(expected) == answer


def test_net_snmp_response_with_ip_address_and_binary_string():
    data = bytes.fromhex(
        "305902010104067075626c6963a24c020428edf297020100020100303e301506"
        "0d2b06010201041401017f00000140047f0000013014060a2b06010201020201"
        "06020406b2017eb280db300f060a2b060102010202010701020101")
    expected = ber.Message(1, b"public", RESPONSE, 0x28EDF297, 0, 0, [
        ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 127, 0, 0, 1), IP_ADDRESS, b"\x7f\x00\x00\x01"),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 6, 2), OCTET_STRING, bytes.fromhex("b2017eb280db")),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 7, 1), INTEGER, 1),
    ])
    assert ber.decode_message(data) == expected == pysnmp_decode(data, 1)
    assert ours_encode(expected) == data


def test_x690_oid_example_with_a_large_second_arc():
    # X.690 8.19.5: 2.999.3 encodes as 88 37 03 (first sub-identifier 80 + 999 = 1079).
    data = ber.encode_get(1, b"c", 1, [(2, 999, 3)])
    assert bytes.fromhex("0603883703") in data
    assert ber.decode_message(data).varbinds == [((2, 999, 3), NULL, None)]


# ---------------------------------------------------------------- lenient where agents are known to be wrong

def test_an_agent_that_sends_a_negative_counter_still_means_the_unsigned_value():
    # Some agents encode Counter32 4294967295 as the one-octet two's complement -1.
    for tag, modulus in [(COUNTER32, 2**32), (GAUGE32, 2**32), (TIMETICKS, 2**32), (COUNTER64, 2**64)]:
        data = header_then(vb(SYS_DESCR, bytes((tag, 1, 0xFF))))
        assert ber.decode_message(data).varbinds == [((1, 3, 6, 1, 2, 1, 1, 1, 0), tag, modulus - 1)]
        data = header_then(vb(SYS_DESCR, bytes((tag, 2, 0x80, 0x00))))
        assert ber.decode_message(data).varbinds[0][2] == modulus - 32768


def test_long_form_lengths_where_the_short_form_would_do_are_accepted():
    # BER allows them (DER does not) and pyasn1 reads them; the strict path takes these varbinds.
    data = header_then(b"\x30\x81\x12" + SYS_DESCR + b"\x04\x81\x05Linux")
    expected = [((1, 3, 6, 1, 2, 1, 1, 1, 0), OCTET_STRING, b"Linux")]
    assert assert_paths_agree(data).varbinds == expected == pysnmp_decode(data, 1).varbinds


def test_padded_integers_are_accepted():
    # 00 00 00 05 is not minimal, but the value is unambiguous and some agents send it.
    data = header_then(vb(SYS_DESCR, bytes.fromhex("410400000005")))
    assert ber.decode_message(data).varbinds[0][2] == 5


def test_an_empty_oid_value_reads_as_zero_dot_zero_like_net_snmp():
    data = header_then(vb(SYS_DESCR, b"\x06\x00"))
    assert ber.decode_message(data).varbinds == [((1, 3, 6, 1, 2, 1, 1, 1, 0), OBJECT_IDENTIFIER, (0, 0))]

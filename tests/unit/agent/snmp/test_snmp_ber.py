"""The v1/v2c codec, property by property against pysnmp's own encoder and decoder (pyasn1).

pysnmp is the reference: what it encodes, ours must decode to the same
fields; what ours encodes, it must decode to the same fields, byte for byte
the same as its own encoding. Malformed input of every kind raises
MalformedPacketError and nothing else.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pyasn1.codec.ber import encoder as pyasn1_encoder
from pysnmp.proto import api, rfc1905

from headcount.agent.errors import MalformedPacketError
from headcount.agent.snmp import ber
from headcount.agent.snmp.values import (COUNTER32, COUNTER64, END_OF_MIB_VIEW, GAUGE32, GET_BULK_REQUEST,
                                         GET_NEXT_REQUEST, GET_REQUEST, INTEGER, IP_ADDRESS, NO_SUCH_INSTANCE,
                                         NO_SUCH_OBJECT, NULL, OBJECT_IDENTIFIER, OCTET_STRING, OPAQUE, RESPONSE,
                                         TIMETICKS)

V1 = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]
V2 = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- strategies

sub_ids = st.one_of(st.integers(0, 127), st.integers(128, 16383), st.integers(16384, 2**32 - 1),
                    st.sampled_from([127, 128, 16383, 16384, 2**28, 2**32 - 1]))


@st.composite
def oids(draw):
    first = draw(st.integers(0, 2))
    second = draw(st.integers(0, 39)) if first < 2 else draw(st.integers(0, 2**20))
    return (first, second, *draw(st.lists(sub_ids, min_size=0, max_size=14)))


# Lengths crossing the one-, two- and three-octet length forms; the long ones are
# fixed values because pyasn1 is slow to build them.
strings = st.one_of(st.binary(max_size=40), st.binary(min_size=120, max_size=300),
                    st.sampled_from([b"x" * 256, b"y" * 65535]))   # SNMP strings end at 65535


def values(version: int):
    common = [
        st.tuples(st.just(INTEGER), st.one_of(st.integers(-2**31, 2**31 - 1), st.sampled_from([0, -1, 127, 128, -128, -129, 2**31 - 1, -2**31]))),
        st.tuples(st.just(OCTET_STRING), strings),
        st.tuples(st.just(OBJECT_IDENTIFIER), oids()),
        st.tuples(st.just(IP_ADDRESS), st.binary(min_size=4, max_size=4)),
        st.tuples(st.sampled_from([COUNTER32, GAUGE32, TIMETICKS]),
                  st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 127, 128, 2**31, 2**32 - 1]))),
        st.tuples(st.just(OPAQUE), st.binary(max_size=20)),
        st.tuples(st.just(NULL), st.none()),
    ]
    if version == 1:
        common += [
            st.tuples(st.just(COUNTER64), st.one_of(st.integers(0, 2**64 - 1), st.just(2**64 - 1))),
            st.tuples(st.sampled_from([NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW]), st.none()),
        ]
    return st.one_of(common)


@st.composite
def messages(draw):
    version = draw(st.sampled_from([0, 1]))
    varbinds = draw(st.lists(st.tuples(oids(), values(version)), max_size=8))
    return {
        "version": version,
        "community": draw(st.binary(max_size=40)),
        "pdu_type": draw(st.sampled_from([GET_REQUEST, GET_NEXT_REQUEST, RESPONSE])),
        "request_id": draw(st.integers(-2**31, 2**31 - 1)),
        "error_status": draw(st.integers(0, 18)),
        "error_index": draw(st.integers(0, len(varbinds))),   # pysnmp refuses an index past the list
        "varbinds": [(oid, tag, value) for oid, (tag, value) in varbinds],
    }


# ---------------------------------------------------------------- pysnmp's side

def _pysnmp_value(module, tag, value):
    if tag == INTEGER:
        return module.Integer(value)
    if tag == OCTET_STRING:
        return module.OctetString(value)
    if tag == OBJECT_IDENTIFIER:
        return module.ObjectIdentifier(value)
    if tag == IP_ADDRESS:
        return module.IpAddress(value)
    if tag == COUNTER32:   # SNMPv1's SMI calls them Counter and Gauge
        return module.Counter32(value) if module is V2 else module.Counter(value)
    if tag == GAUGE32:
        return module.Gauge32(value) if module is V2 else module.Gauge(value)
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


_PDU_CLASSES = {GET_REQUEST: "GetRequestPDU", GET_NEXT_REQUEST: "GetNextRequestPDU", RESPONSE: "GetResponsePDU"}


def pysnmp_encode(m) -> bytes:
    module = V1 if m["version"] == 0 else V2
    pdu_name = _PDU_CLASSES[m["pdu_type"]] if m["version"] == 0 or m["pdu_type"] != RESPONSE else "ResponsePDU"
    pdu = getattr(module, pdu_name)()
    module.apiPDU.set_defaults(pdu)
    module.apiPDU.set_request_id(pdu, m["request_id"])
    module.apiPDU.set_error_status(pdu, m["error_status"])
    module.apiPDU.set_error_index(pdu, m["error_index"])
    module.apiPDU.set_varbinds(pdu, [(oid, _pysnmp_value(module, tag, value)) for oid, tag, value in m["varbinds"]])
    message = module.Message()
    module.apiMessage.set_defaults(message)
    module.apiMessage.set_community(message, m["community"])
    module.apiMessage.set_pdu(message, pdu)
    return pyasn1_encoder.encode(message)


def pysnmp_decode(data: bytes, version: int):
    module = V1 if version == 0 else V2
    message, rest = pyasn1_decoder.decode(data, asn1Spec=module.Message())
    assert rest == b""
    pdu = module.apiMessage.get_pdu(message)
    varbinds = []
    for name, value in module.apiPDU.get_varbinds(pdu):
        tag_class, _, tag_id = value.tagSet[-1]
        tag = tag_class | tag_id
        if tag in (NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW):
            python = None
        elif tag == OBJECT_IDENTIFIER:
            python = tuple(value)
        elif tag in (OCTET_STRING, OPAQUE, IP_ADDRESS):
            python = bytes(value.asOctets())
        else:
            python = int(value)
        varbinds.append((tuple(name), tag, python))
    return (int(module.apiMessage.get_version(message)), bytes(module.apiMessage.get_community(message)),
            int(module.apiPDU.get_request_id(pdu)), int(module.apiPDU.get_error_status(pdu)),
            int(module.apiPDU.get_error_index(pdu)), varbinds)


def ours_as_tuple(message: ber.Message):
    return (message.version, message.community, message.request_id, message.error_status, message.error_index,
            message.varbinds)


# ---------------------------------------------------------------- properties

@PROPERTY
@given(messages())
def test_pysnmp_encoded_messages_decode_to_the_same_fields(m):
    decoded = ber.decode_message(pysnmp_encode(m))
    assert decoded.pdu_type == m["pdu_type"]
    assert ours_as_tuple(decoded) == (m["version"], m["community"], m["request_id"], m["error_status"],
                                      m["error_index"], m["varbinds"])


@PROPERTY
@given(messages())
def test_our_encoding_is_pysnmps_byte_for_byte_and_decodes_there(m):
    ours = ber.encode_message(m["version"], m["community"], m["pdu_type"], m["request_id"], m["error_status"],
                              m["error_index"], m["varbinds"])
    # Same bytes as pyasn1, except that pyasn1 pads some negative INTEGERs (-128 takes it two
    # octets); X.690 wants the minimal form, which ours is, and both decoders accept either.
    negative = m["request_id"] < 0 or any(tag == INTEGER and value < 0 for _, tag, value in m["varbinds"])
    if not negative:
        assert ours == pysnmp_encode(m)
    assert pysnmp_decode(ours, m["version"]) == (m["version"], m["community"], m["request_id"], m["error_status"],
                                                 m["error_index"], m["varbinds"])


@PROPERTY
@given(st.lists(oids(), min_size=1, max_size=5), st.integers(0, 3), st.integers(0, 200), st.integers(0, 2**31 - 1))
def test_getbulk_requests_carry_non_repeaters_and_max_repetitions(names, non_repeaters, repetitions, request_id):
    data = ber.encode_get_bulk(b"public", request_id, names, non_repeaters, repetitions)
    message, _ = pyasn1_decoder.decode(data, asn1Spec=V2.Message())
    pdu = V2.apiMessage.get_pdu(message)
    assert pdu.isSameTypeWith(V2.GetBulkRequestPDU())
    assert int(V2.apiBulkPDU.get_non_repeaters(pdu)) == non_repeaters
    assert int(V2.apiBulkPDU.get_max_repetitions(pdu)) == repetitions
    assert [tuple(name) for name, _ in V2.apiBulkPDU.get_varbinds(pdu)] == names
    assert ber.decode_message(data).pdu_type == GET_BULK_REQUEST


def test_known_answer_get_response_for_sysdescr():
    # Built by hand from RFC 3416 / X.690: Response(id 1) with sysDescr.0 = "Linux".
    data = bytes.fromhex(
        "302b" "020101" "04067075626c6963" "a21e" "020101" "020100" "020100"
        "3013" "3011" "06082b06010201010100" "04054c696e7578")
    message = ber.decode_message(data)
    assert (message.version, message.community, message.pdu_type, message.request_id) == (1, b"public", RESPONSE, 1)
    assert message.varbinds == [((1, 3, 6, 1, 2, 1, 1, 1, 0), OCTET_STRING, b"Linux")]
    assert ber.encode_message(1, b"public", RESPONSE, 1, 0, 0, message.varbinds) == data


def test_an_agent_that_sends_a_negative_counter_still_means_the_unsigned_value():
    # Some agents encode Counter32 4294967295 as the one-byte two's complement -1.
    good = ber.encode_message(1, b"c", RESPONSE, 7, 0, 0, [((1, 3, 6, 1), COUNTER32, 5)])
    bad = good.replace(bytes((COUNTER32, 1, 5)), bytes((COUNTER32, 1, 0xFF)))
    assert ber.decode_message(bad).varbinds == [((1, 3, 6, 1), COUNTER32, 2**32 - 1)]


# ---------------------------------------------------------------- malformed input

SAMPLE = ber.encode_message(1, b"public", RESPONSE, 1234, 0, 0, [
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1), OCTET_STRING, b"GigabitEthernet1/0/1"),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), COUNTER32, 123456789),
    ((1, 3, 6, 1, 2, 1, 1, 2, 0), OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 9, 1, 516)),
    ((1, 3, 6, 1, 2, 1, 1, 9, 0), END_OF_MIB_VIEW, None),
])


def test_every_truncation_is_malformed():
    for cut in range(len(SAMPLE)):
        with pytest.raises(MalformedPacketError):
            ber.decode_message(SAMPLE[:cut])


@pytest.mark.parametrize("mutate, complaint", [
    (lambda b: b + b"\x00", "trailing bytes"),
    (lambda b: b"\x30\x80" + b[2:], "indefinite length"),
    (lambda b: b"\x30\x85\x00\x00\x00\x00\x10" + b[2:], "too long to be real"),
    (lambda b: b"\x30\x84\x7f\xff\xff\xff" + b[2:], "runs past the end"),
    (lambda b: b"\x04" + b[1:], "expected 0x30"),
    (lambda b: b.replace(b"\x02\x01\x01\x04\x06public", b"\x04\x01\x01\x04\x06public"), "version"),
    (lambda b: b.replace(bytes((0x82, 0x00)), bytes((0x99, 0x00))), "unknown value tag 0x99"),
    (lambda b: b.replace(b"\x02\x02\x04\xd2", b"\x02\x00\x04\xd2"), ""),
])
def test_specific_malformations_are_named(mutate, complaint):
    with pytest.raises(MalformedPacketError) as caught:
        ber.decode_message(mutate(SAMPLE))
    assert complaint in str(caught.value)
    assert "offset" in str(caught.value) or "trailing" in str(caught.value)


@PROPERTY
@given(st.binary(max_size=300))
def test_random_bytes_are_malformed_or_a_message_never_anything_else(data):
    try:
        ber.decode_message(data)
    except MalformedPacketError:
        pass


@PROPERTY
@given(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255))
def test_single_byte_flips_never_raise_anything_else(position, byte):
    data = bytearray(SAMPLE)
    data[position] = byte
    try:
        ber.decode_message(bytes(data))
    except MalformedPacketError:
        pass


def test_a_huge_declared_length_or_deep_nesting_costs_nothing():
    with pytest.raises(MalformedPacketError):
        ber.decode_message(b"\x30\x84\xff\xff\xff\xff" + b"\x30\x80" * 10_000)
    with pytest.raises(MalformedPacketError):
        ber.decode_message(b"\x30\x82\xff\xff" + b"\x30" * 100)

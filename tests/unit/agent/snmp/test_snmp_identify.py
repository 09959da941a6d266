"""Identification: each kind of rule on its own, the profile tables, and whole recordings of real devices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headcount.agent.snmp import identify as engine
from headcount.agent.snmp import identity_rules as rules
from headcount.agent.snmp.identify import identify, identity_requests
from headcount.agent.snmp.identity_rules import Descr, Entity, FirstRow, Get, Opt, Product, Profile, Template
from headcount.agent.snmp.snmprec import parse_snmprec
from headcount.agent.snmp.values import COUNTER32, INTEGER, NO_SUCH_OBJECT, OBJECT_IDENTIFIER, OCTET_STRING

CORPUS = Path(__file__).resolve().parents[4].parent / "shared" / "corpus" / "librenms"
SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID = (1, 3, 6, 1, 2, 1, 1, 2, 0)
VENDOR_MODEL = (1, 3, 6, 1, 4, 1, 99999, 1, 0)


def device(descr: str = "", object_id=(1, 3, 6, 1, 4, 1, 99999, 7), **extra):
    values = {SYS_DESCR: (OCTET_STRING, descr.encode()), SYS_OBJECT_ID: (OBJECT_IDENTIFIER, object_id)}
    values.update(extra.get("values", {}))
    return engine._Device(values)


def entity(index: int, **columns):
    return {rules.ENTITY_TABLE + (rules.ENTITY_COLUMNS[name], index): (INTEGER if isinstance(value, int) else OCTET_STRING,
                                                                      value if isinstance(value, int) else value.encode())
            for name, value in columns.items()}


# ---------------------------------------------------------------- one source at a time

def test_get_source_reads_a_scalar_and_applies_its_pattern():
    d = device(values={VENDOR_MODEL: (OCTET_STRING, b"FP231G-v7.4-build0771")})
    assert engine._evaluate(Get(VENDOR_MODEL), d)[0] == "FP231G-v7.4-build0771"
    assert engine._evaluate(Get(VENDOR_MODEL, pattern=r"^FP(\w+?)-v"), d)[0] == "231G"
    assert engine._evaluate(Get(VENDOR_MODEL, pattern=r"^nomatch(\d)"), d)[0] == ""


def test_get_source_ignores_wrong_types_and_exceptions():
    assert engine._evaluate(Get(VENDOR_MODEL), device(values={VENDOR_MODEL: (COUNTER32, 5)}))[0] == ""
    assert engine._evaluate(Get(VENDOR_MODEL), device(values={VENDOR_MODEL: (NO_SUCH_OBJECT, None)}))[0] == ""


def test_first_row_takes_the_lowest_index_with_a_value():
    column = (1, 3, 6, 1, 4, 1, 99999, 2, 1, 4)
    d = device(values={column + (9, 9): (OCTET_STRING, b"second"), column + (3, 1): (OCTET_STRING, b""),
                       column + (5, 0): (OCTET_STRING, b"first")})
    assert engine._evaluate(FirstRow(column), d)[0] == "first"


def test_entity_source_prefers_the_chassis_then_top_level_then_any_row():
    chassis = device(values={**entity(1, model="LINECARD", **{"class": 9}),
                             **entity(2, model="C9404R", serial="FJL1", **{"class": 3})})
    assert engine._evaluate(Entity("model"), chassis)[0] == "C9404R"
    top = device(values={**entity(5, serial="S5", contained_in=1), **entity(7, serial="S7", contained_in=0)})
    assert engine._evaluate(Entity("serial"), top)[0] == "S7"
    any_row = device(values=entity(1001, model="WS-C3560G-24TS-S"))
    value, where = engine._evaluate(Entity("model"), any_row)
    assert value == "WS-C3560G-24TS-S" and "1001" in where


def test_descr_source_and_transforms():
    d = device("Juniper Networks, Inc. ex3400-48t Ethernet Switch, kernel JUNOS 15.1X53-D59.4, Build date")
    assert engine._evaluate(Descr(r"JUNOS ([^,\s]+)"), d)[0] == "15.1X53-D59.4"
    assert engine._evaluate(Template(("Juniper ", Descr(r"Inc\. (\S+)", transform="upper"))), d)[0] == \
        "Juniper EX3400-48T"


def test_template_drops_optional_parts_but_not_required_ones():
    d = device(values={VENDOR_MODEL: (OCTET_STRING, b"Smart-UPS 1000")})
    missing = (1, 3, 6, 1, 4, 1, 99999, 3, 0)
    assert engine._evaluate(Template((Get(VENDOR_MODEL), Opt(" ", Get(missing)))), d)[0] == "Smart-UPS 1000"
    assert engine._evaluate(Template((Get(VENDOR_MODEL), " ", Get(missing))), d)[0] == ""


def test_product_source_uses_the_products_mib_table():
    d = device(object_id=(1, 3, 6, 1, 4, 1, 9, 1, 1208))
    assert engine._evaluate(Product(), d)[0] == "cat29xxStack"


def test_pml_and_brother_transforms():
    assert engine.TRANSFORMS["pml"]("\x01\x15VNCRC48198") == "VNCRC48198"
    assert engine.TRANSFORMS["brother_model"]("Brother HL-5370DW series [001ba90ba752]") == "HL-5370DW [001ba90ba752]"


# ---------------------------------------------------------------- profiles and the engine

def test_the_most_specific_profile_wins_and_generic_comes_last():
    profiles = engine.matching_profiles((1, 3, 6, 1, 4, 1, 25053, 3, 1, 11, 1), "SmartZone")
    assert [p.name for p in profiles] == ["Ruckus SmartZone", "standard MIBs"]
    aruba = engine.matching_profiles((1, 3, 6, 1, 4, 1, 674, 10895, 5027), "ArubaOS (MODEL: Dell W-7210), Version 6")
    assert [p.name for p in aruba][:2] == ["ArubaOS", "Dell Networking"]


def test_a_custom_profile_drives_identify(monkeypatch):
    profile = Profile("Test vendor", (1, 3, 6, 1, 4, 1, 99999), vendor="Test Networks", device_class="switch",
                      model=(Get(VENDOR_MODEL),), firmware=(Descr(r"fw (\S+)"),))
    monkeypatch.setattr(rules, "PROFILES", (profile,))
    result = identify({SYS_DESCR: (OCTET_STRING, b"TS-48 fw 2.1.0"),
                       SYS_OBJECT_ID: (OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 99999, 7)),
                       VENDOR_MODEL: (OCTET_STRING, b"TS-48")})
    assert (result.vendor, result.model, result.firmware, result.device_class) == ("Test Networks", "TS-48",
                                                                                  "2.1.0", "switch")
    assert any(line.startswith("model: GET 1.3.6.1.4.1.99999.1.0 (Test vendor)") for line in result.evidence)
    assert identity_requests((1, 3, 6, 1, 4, 1, 99999, 7), "").gets == (VENDOR_MODEL,
                                                                        *identity_requests(None, "").gets)


def test_requests_ask_only_the_matching_vendors_objects():
    apc = identity_requests((1, 3, 6, 1, 4, 1, 318, 1, 3, 27), "APC Web/SNMP Management Card")
    assert (1, 3, 6, 1, 4, 1, 318, 1, 1, 1, 1, 1, 1, 0) in apc.gets
    assert not any(oid[:7] == (1, 3, 6, 1, 4, 1, 2435) for oid in apc.gets)
    assert rules.ENTITY_TABLE + (13,) in apc.entity_columns and rules.ENTITY_TABLE + (12,) not in apc.entity_columns


@pytest.mark.parametrize("model, expected", [
    ("ZD1200", "wireless_controller"), ("R850", "access_point"), ("WS-C3560G-24TS-S", "switch"),
    ("Dell PowerConnect W-7210 Controller", "wireless_controller"),
])
def test_class_by_model(model, expected):
    assert engine._classify([rules.GENERIC], device(), model)[0] == expected


@pytest.mark.parametrize("descr, services, expected", [
    ("HP ETHERNET MULTI-ENVIRONMENT printer", 0, "printer"),
    ("Linux nas 6.1", 0, "server"),
    ("Mystery box", 0x04 | 0x02, "router"),
    ("Mystery box", 0x02, "switch"),
    ("Mystery box", 0, "other"),
])
def test_class_by_descr_and_services(descr, services, expected):
    d = device(descr, values={(1, 3, 6, 1, 2, 1, 1, 7, 0): (INTEGER, services)})
    assert engine._classify([rules.GENERIC], d, "")[0] == expected


def test_garbage_never_raises():
    identify({})
    identify({SYS_DESCR: (INTEGER, 5), SYS_OBJECT_ID: (OCTET_STRING, b"not an oid")})
    identify({SYS_DESCR: (OCTET_STRING, b"\xff\xfe\x00garbage"), **entity(1, model="\x00")})


# ---------------------------------------------------------------- whole recordings (judged fully in bench/)

def recording(name: str) -> dict:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not present at {CORPUS}")
    varbinds = parse_snmprec((CORPUS / f"{name}.snmprec").read_text(errors="surrogateescape"), strict=False)
    return {oid: (tag, value) for oid, tag, value in varbinds}


def expected(name: str) -> dict:
    return next(e for e in json.loads((CORPUS / "expected.json").read_text()) if e["name"] == name)


@pytest.mark.parametrize("name", ["procurve_e2910", "apc_smt750x-nmc2", "brother_hl5370dw", "ruckuswireless_zd1200",
                                  "junos_qfx5100", "fortiap_fap231g", "ciscosb_cbs250-24p-4x-v3"])
def test_recordings_identify_as_librenms_says(name):
    values = recording(name)
    result = identify(values)
    truth = expected(name)
    assert result.model.casefold() == truth["hardware"].casefold()
    assert result.firmware.casefold() == (truth["version"] or "").casefold()
    if truth["serial"]:
        assert result.serial.casefold() == truth["serial"].casefold()
    assert result.device_class == truth["category"]


def test_identify_sees_only_what_was_requested_and_still_works():
    """Simulate the live probe honestly: keep only the OIDs identity_requests asked for."""
    values = recording("dlink_dgs-1510-28x-me")
    descr = values[SYS_DESCR][1].decode()
    asked = identity_requests(values[SYS_OBJECT_ID][1], descr)
    kept = {oid: v for oid, v in values.items()
            if oid in asked.gets or oid[:7] == (1, 3, 6, 1, 2, 1, 1) or
            any(oid[: len(root)] == root for root in asked.walks + asked.entity_columns)}
    result = identify(kept)
    assert (result.model, result.firmware, result.serial) == ("DGS-1510-28X/ME Rev. A1", "Build 1.10.010",
                                                               "RZQG1HB000048")

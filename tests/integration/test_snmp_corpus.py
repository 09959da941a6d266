"""Real recorded devices served by snmpsim: both engines read them identically, and identification holds.

The LibreNMS recordings are read in place from ../shared/corpus/librenms;
the tests skip when that folder is absent. bench/snmp_accuracy.py prints the
full table and every miss; here the same judgement guards against regressions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime, timezone

import pytest

from headcount.agent.snmp.client import Options, Target
from headcount.agent.snmp.credentials import Credential
from headcount.agent.snmp.probe import ProbeSettings, probe

from .snmp_peers import CORPUS, snmpsim

pytestmark = pytest.mark.skipif(not (CORPUS / "expected.json").exists(),
                                reason=f"the LibreNMS corpus is not at {CORPUS}")

FIELDS = {"sysName": "sysName", "model": "hardware", "firmware": "version", "serial": "serial"}


def now() -> datetime:
    return datetime(2026, 11, 22, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def corpus_port(tmp_path_factory):
    with snmpsim(CORPUS, tmp_path_factory.mktemp("snmpsim"), "brother") as port:
        yield port


def probe_all(port: int, names: list[str], engine: str) -> dict:
    settings = ProbeSettings(options=Options(timeout_s=5, retries=1), engine=engine)

    async def run():
        limit = asyncio.Semaphore(8)

        async def one(name):
            async with limit:
                return name, await probe(Target("127.0.0.1", port), [Credential(name, "2c", community=name)], now,
                                         settings)

        return dict(await asyncio.gather(*(one(name) for name in names)))

    return asyncio.run(run())


@pytest.mark.slow
def test_the_fast_codec_and_pysnmp_read_recorded_devices_identically(corpus_port):
    names = ["procurve_e2910", "apc_smt750x-nmc2", "brother", "ciscosb_cbs250-24p-4x-v3", "junos_qfx5100",
             "arubaos-cx_10.16", "fortiap_fap231g", "hiveos-wireless_650ax"]
    fast = probe_all(corpus_port, names, "fast")
    reference = probe_all(corpus_port, names, "pysnmp")
    for name in names:
        ours, theirs = dataclasses.asdict(fast[name]), dataclasses.asdict(reference[name])
        assert ours == theirs, name
        assert fast[name].interfaces, name   # the comparison covered walked tables, not just GETs


@pytest.mark.slow
def test_identification_of_every_recording_meets_the_target(corpus_port):
    expected = json.loads((CORPUS / "expected.json").read_text())
    devices = probe_all(corpus_port, [e["name"] for e in expected], "fast")
    counted = dict.fromkeys([*FIELDS, "port count"], 0)
    matched = dict.fromkeys(counted, 0)
    for entry in expected:
        device = devices[entry["name"]]
        ours = {"sysName": device.system.name, "model": device.model, "firmware": device.firmware,
                "serial": device.serial}
        for field, key in FIELDS.items():
            if entry[key] is not None:
                counted[field] += 1
                matched[field] += str(entry[key]).strip().casefold() == ours[field].strip().casefold()
        if entry["ports"]:
            counted["port count"] += 1
            matched["port count"] += len(entry["ports"]) == device.port_count
        assert device.device_class == entry["category"], entry["name"]
    shares = {field: matched[field] / counted[field] for field in counted}
    assert all(share >= 0.9 for share in shares.values()), shares

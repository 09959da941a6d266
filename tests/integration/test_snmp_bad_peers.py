"""Bad SNMP peers cost only themselves: each breakage becomes a per-device error that says what happened.

Real peers over UDP on loopback: tests/integration/hostile_snmp.py (one
process per breakage) and snmpsim serving recordings with missing objects.
A scan over all of them plus one good device still reports the good device.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from headcount.agent.config import AgentConfig, SnmpSettings
from headcount.agent.errors import SnmpError
from headcount.agent.scanners import ScanContext
from headcount.agent.scanners.snmp import SnmpScanner
from headcount.agent.snmp.client import Options, Target
from headcount.agent.snmp.credentials import Credential
from headcount.agent.snmp.probe import ProbeSettings, probe

from .helpers import stop
from .snmp_peers import free_udp_port, snmpsim
from .snmprec_builder import INTEGER, OCTETS, system_rows, write_snmprec

PUBLIC = Credential("test", "2c", community="public")
QUICK = ProbeSettings(options=Options(timeout_s=0.5, retries=0, max_rows=2_000))


def now() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def hostile(mode: str):
    port = free_udp_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.integration.hostile_snmp", "--port", str(port),
                                "--mode", mode], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        yield port
    finally:
        stop(process)


def probe_hostile(mode: str, settings: ProbeSettings = QUICK):
    with hostile(mode) as port:
        return asyncio.run(probe(Target("127.0.0.1", port), [PUBLIC], now, settings))


def test_a_walk_that_loops_is_stopped_and_named():
    device = probe_hostile("loop")
    assert device.system.descr == "Hostile Test Switch 1.0"
    assert any("OIDs must increase" in e and "looping" in e for e in device.errors), device.errors


def test_an_endless_table_is_cut_at_the_configured_cap():
    device = probe_hostile("endless")
    assert any("cut at the configured cap of 2000 rows" in e for e in device.errors), device.errors
    assert len(device.interfaces) == 2_000


def test_values_of_the_wrong_type_are_skipped_and_reported():
    device = probe_hostile("wrongtypes")
    assert device.system.name == ""          # an INTEGER where sysName's string belongs is not a name
    assert any("ifDescr" in e and "Counter32" in e for e in device.errors), device.errors
    assert any("ifType" in e and "OCTET STRING" in e for e in device.errors), device.errors
    assert [i.if_index for i in device.interfaces] == [1, 2, 3]   # the rows themselves survive


def test_malformed_replies_are_dropped_and_explained():
    with pytest.raises(SnmpError) as caught:
        probe_hostile("malformed")
    assert "malformed" in str(caught.value)


def test_garbage_before_each_good_reply_does_not_hurt():
    device = probe_hostile("garbled")
    assert device.system.descr == "Hostile Test Switch 1.0"
    assert [i.descr for i in device.interfaces] == ["port1", "port2", "port3"]
    assert device.errors == ()


def test_a_device_that_stops_answering_mid_probe_gives_up_quickly():
    started = time.monotonic()
    device = probe_hostile("stalls")
    assert device.system.descr == "Hostile Test Switch 1.0"
    assert any("stopped answering" in e for e in device.errors), device.errors
    # Two silent walks of 0.5 s, not one timeout for each of the ~40 planned walks.
    assert time.monotonic() - started < 10


def test_silence_is_a_timeout_error():
    with pytest.raises(SnmpError) as caught:
        probe_hostile("silent")
    assert "no answer" in str(caught.value)


def test_missing_objects_are_not_errors(tmp_path):
    """A recording with only the system group: every other GET is noSuchObject, every walk ends at once."""
    data = tmp_path / "data"
    data.mkdir()
    write_snmprec(data / "bare.snmprec", system_rows("Bare device", "1.3.6.1.4.1.8072.3.2.10", "bare"))
    with snmpsim(data, tmp_path, "bare") as port:
        device = asyncio.run(probe(Target("127.0.0.1", port), [Credential("bare", "2c", community="bare")], now,
                                   QUICK))
    assert device.system.name == "bare"
    assert device.interfaces == () and device.fdb == () and device.errors == ()


def test_one_scan_over_every_bad_peer_still_reports_the_good_device(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    good = system_rows("Good switch", "1.3.6.1.4.1.8072.3.2.10", "good-one")
    good.update({"1.3.6.1.2.1.2.2.1.1.1": (INTEGER, "1"), "1.3.6.1.2.1.2.2.1.2.1": (OCTETS, "eth0"),
                 "1.3.6.1.2.1.2.2.1.6.1": (OCTETS + "x", "0000aa000001")})
    write_snmprec(data / "public.snmprec", good)
    modes = ["loop", "endless", "wrongtypes", "malformed", "stalls", "silent"]
    with ExitStack() as stack:
        good_port = stack.enter_context(snmpsim(data, tmp_path, "public"))
        ports = {mode: stack.enter_context(hostile(mode)) for mode in modes}
        targets = [f"127.0.0.1:{good_port}", *(f"127.0.0.1:{port}" for port in ports.values())]
        config = replace(AgentConfig(state_dir=tmp_path / "state"), snmp=SnmpSettings(
            credentials=(PUBLIC,), targets=tuple(targets), timeout_s=0.5, retries=0, max_rows=2_000))
        ctx = ScanContext(config)
        devices = asyncio.run(SnmpScanner().scan(ctx))
    by_address = {d.address: d for d in devices}
    assert by_address[f"127.0.0.1:{good_port}"].system.name == "good-one"
    assert by_address[f"127.0.0.1:{good_port}"].errors == ()
    # The two that never answer are warnings on the scan; the rest are devices with errors.
    failed = {w.split(": ")[1] for w in ctx.warnings}
    assert failed == {f"127.0.0.1:{ports['malformed']}", f"127.0.0.1:{ports['silent']}"}, ctx.warnings
    for mode in ("loop", "endless", "wrongtypes", "stalls"):
        assert by_address[f"127.0.0.1:{ports[mode]}"].errors, mode

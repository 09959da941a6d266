"""SNMP v1, v2c and v3 (authNoPriv and authPriv, SHA/SHA-2, AES) against net-snmp's snmpd on loopback.

Also: credentials are tried in order and the first that answers is used, and
secrets never appear in the probe command's output or logs, even at DEBUG and
even when they fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from headcount.agent.errors import SnmpError
from headcount.agent.snmp.client import Options, Target
from headcount.agent.snmp.credentials import Credential
from headcount.agent.snmp.probe import ProbeSettings, probe

from .snmp_peers import net_snmpd, snmpd_path

pytestmark = pytest.mark.skipif(snmpd_path() is None and not os.environ.get("CI"),
                                reason="net-snmp snmpd is not installed (Debian package snmpd)")

AUTH_KEY = "auth-Secret-7731"
PRIV_KEY = "priv-Secret-9924"
COMMUNITY = "comm-Secret-5150"

SNMPD_CONFIG = [
    f"rocommunity {COMMUNITY} 127.0.0.1",
    "sysName hc-credential-test",
    "sysLocation lab",
    f'createUser sha1user SHA "{AUTH_KEY}"',
    f'createUser sha256aes SHA-256 "{AUTH_KEY}" AES "{PRIV_KEY}"',
    f'createUser sha512aes SHA-512 "{AUTH_KEY}" AES "{PRIV_KEY}"',
    "rouser sha1user auth",
    "rouser sha256aes priv",
    "rouser sha512aes priv",
]


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory):
    work = tmp_path_factory.mktemp("snmpd")
    with net_snmpd(work, SNMPD_CONFIG, Credential("probe", "2c", community=COMMUNITY)) as port:
        yield port


def now() -> datetime:
    return datetime.now(timezone.utc)


FAST = ProbeSettings(options=Options(timeout_s=1.0, retries=0), sections=("interfaces",))


@pytest.mark.parametrize("credential", [
    Credential("v1", "1", community=COMMUNITY),
    Credential("v2c", "2c", community=COMMUNITY),
    Credential("v3-authNoPriv-SHA", "3", user="sha1user", auth_protocol="SHA", auth_key=AUTH_KEY),
    Credential("v3-authPriv-SHA256-AES", "3", user="sha256aes", auth_protocol="SHA-256", auth_key=AUTH_KEY,
               priv_protocol="AES", priv_key=PRIV_KEY),
    Credential("v3-authPriv-SHA512-AES", "3", user="sha512aes", auth_protocol="SHA-512", auth_key=AUTH_KEY,
               priv_protocol="AES", priv_key=PRIV_KEY),
], ids=lambda c: c.name)
def test_each_version_and_security_level_reads_the_device(snmpd, credential):
    device = asyncio.run(probe(Target("127.0.0.1", snmpd), [credential], now, FAST))
    assert device.system.name == "hc-credential-test"
    assert device.credential_name == credential.name
    assert any(i.name == "lo" or i.descr == "lo" for i in device.interfaces)   # a walk, not just a GET


def test_wrong_keys_fail_and_the_next_credential_is_used(snmpd):
    wrong_priv = Credential("wrong-priv", "3", user="sha256aes", auth_protocol="SHA-256", auth_key=AUTH_KEY,
                            priv_protocol="AES", priv_key="not-the-key-000")
    wrong_community = Credential("wrong-community", "2c", community="nope-0000")
    right = Credential("right", "3", user="sha1user", auth_protocol="SHA", auth_key=AUTH_KEY)
    device = asyncio.run(probe(Target("127.0.0.1", snmpd), [wrong_community, wrong_priv, right], now, FAST))
    assert device.credential_name == "right"
    # The one that worked last time goes first next time.
    device = asyncio.run(probe(Target("127.0.0.1", snmpd), [wrong_community, wrong_priv, right], now, FAST,
                               remembered="right"))
    assert device.credential_name == "right"


def test_no_working_credential_is_one_clear_error_without_secrets(snmpd):
    wrong = [Credential("wrong-community", "2c", community="nope-1111"),
             Credential("wrong-auth", "3", user="sha1user", auth_protocol="SHA", auth_key="wrong-auth-key-2222")]
    with pytest.raises(SnmpError) as caught:
        asyncio.run(probe(Target("127.0.0.1", snmpd), wrong, now, FAST))
    message = str(caught.value)
    assert "wrong-community" in message and "wrong-auth" in message
    assert "nope-1111" not in message and "wrong-auth-key-2222" not in message


def run_probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headcount.agent", "--log-level", "DEBUG", "probe", "snmp", *args],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def test_probe_command_v3_json_never_shows_secrets(snmpd):
    done = run_probe(f"127.0.0.1:{snmpd}", "--v3-user", "sha256aes", "--auth-protocol", "SHA-256",
                     "--priv-protocol", "AES", "--json",
                     env={"HEADCOUNT_SNMP_AUTH_KEY": AUTH_KEY, "HEADCOUNT_SNMP_PRIV_KEY": PRIV_KEY})
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    for key in ("vendor", "model", "firmware", "serial", "sys_name", "sys_descr", "sys_object_id", "device_class",
                "interfaces", "neighbors", "fdb"):
        assert key in document, key
    assert document["sys_name"] == "hc-credential-test"
    assert {"if_index", "name", "descr", "type", "speed", "admin_status", "oper_status", "mac"} <= set(
        document["interfaces"][0])
    for secret in (AUTH_KEY, PRIV_KEY):
        assert secret not in done.stdout and secret not in done.stderr


def test_probe_command_failure_names_the_credential_not_the_secret(snmpd, tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text(
        "[snmp]\ntimeout = 0.5\nretries = 0\n"
        "[[snmp.credentials]]\nname = \"legacy\"\nversion = \"2c\"\ncommunity = \"legacy-Secret-3141\"\n"
        "[[snmp.credentials]]\nname = \"v3-bad\"\nversion = \"3\"\nuser = \"sha1user\"\n"
        "auth_protocol = \"SHA\"\nauth_key = \"bad-Secret-2718\"\n"
    )
    done = run_probe(f"127.0.0.1:{snmpd}", "--config", str(config), "--json")
    assert done.returncode == 1
    assert "legacy" in done.stderr and "v3-bad" in done.stderr
    for secret in ("legacy-Secret-3141", "bad-Secret-2718"):
        assert secret not in done.stdout and secret not in done.stderr
    assert json.loads(done.stdout)["error"]

"""Credentials: validation that names the key, order of trial, and secrets that never show."""

from __future__ import annotations

import pytest

from headcount.agent.config import parse_config
from headcount.agent.errors import ConfigError
from headcount.agent.snmp.credentials import Credential, credentials_for, parse_credential, redact

V3 = {"name": "district", "version": "3", "user": "monitor", "auth_protocol": "SHA-256",
      "auth_key": "auth-Secret-1", "priv_protocol": "AES", "priv_key": "priv-Secret-2"}


def test_v3_authpriv_parses_and_hides_its_keys():
    credential = parse_credential(V3, "agent.toml", "snmp.credentials[0]")
    assert credential.security_level == "authPriv"
    assert (credential.auth_protocol, credential.priv_protocol) == ("SHA-256", "AES")
    for shown in (repr(credential), str(credential), credential.describe()):
        assert "auth-Secret-1" not in shown and "priv-Secret-2" not in shown
    assert credential.describe() == "district (v3 user monitor, authPriv)"


def test_community_is_hidden_from_repr():
    credential = Credential("legacy", "2c", community="public-Secret")
    assert "public-Secret" not in repr(credential)


@pytest.mark.parametrize("change, complaint", [
    ({"auth_protocol": "SHA-1024"}, "auth_protocol = 'SHA-1024': expected one of"),
    ({"priv_protocol": "ROT13"}, "priv_protocol = 'ROT13'"),
    ({"auth_key": "short"}, "auth_key: missing or shorter than 8"),
    ({"auth_protocol": ""}, "privacy needs authentication"),
    ({"user": ""}, "needs a user"),
    ({"version": "4"}, "expected \"1\", \"2c\" or \"3\""),
    ({"community": "x"}, "community: SNMPv3 credentials use"),
    ({"colour": "blue"}, "unknown key snmp.credentials[0].colour"),
    ({"applies_to": ["10.0.0.0/33"]}, "applies_to[0] = '10.0.0.0/33'"),
])
def test_bad_credentials_name_file_key_and_never_the_secret(change, complaint):
    with pytest.raises(ConfigError) as caught:
        parse_credential({**V3, **change}, "agent.toml", "snmp.credentials[0]")
    message = str(caught.value)
    assert message.startswith("agent.toml: ") and "snmp.credentials[0]" in message and complaint in message
    assert "auth-Secret-1" not in message and "priv-Secret-2" not in message


def test_wrong_type_of_secret_is_reported_without_its_value():
    with pytest.raises(ConfigError) as caught:
        parse_credential({"name": "x", "version": "2c", "community": 12345678}, "a.toml", "snmp.credentials[0]")
    assert "12345678" not in str(caught.value) and "<hidden>" in str(caught.value)


def test_credentials_are_tried_in_config_order_with_the_remembered_one_first():
    a = Credential("a", "2c", community="1")
    b = Credential("b", "2c", community="2")
    c = parse_credential({"name": "c", "version": "2c", "community": "3", "applies_to": ["198.51.100.0/24"]},
                         "t", "k")
    assert [x.name for x in credentials_for("198.51.100.7", [a, b, c])] == ["a", "b", "c"]
    assert [x.name for x in credentials_for("198.51.100.7", [a, b, c], remembered="c")] == ["c", "a", "b"]
    assert [x.name for x in credentials_for("203.0.113.9", [a, b, c])] == ["a", "b"]   # c is scoped
    assert credentials_for("not-an-ip", [c]) == []


def test_redact_removes_every_secret():
    creds = [Credential("a", "2c", community="comm-1"), Credential("b", "3", user="u", auth_protocol="SHA",
                                                                   auth_key="key-22222", priv_protocol="", priv_key="")]
    assert redact("failed with comm-1 and key-22222", creds) == "failed with *** and ***"


def test_snmp_config_section():
    config = parse_config({"snmp": {
        "targets": ["198.51.100.2", "198.51.100.3:1161"], "subnets": ["198.51.100.0/24"], "timeout": 1,
        "credentials": [{"name": "legacy", "version": "2c", "community": "c1"}, V3]}}, source="agent.toml")
    assert config.snmp.targets == ("198.51.100.2:161", "198.51.100.3:1161")
    assert [c.name for c in config.snmp.credentials] == ["legacy", "district"]
    assert config.snmp.timeout_s == 1.0


@pytest.mark.parametrize("section, complaint", [
    ({"targets": ["198.51.100.2"]}, "no [[snmp.credentials]]"),
    ({"targets": ["host:99999"], "credentials": [V3]}, "snmp.targets[0] = 'host:99999'"),
    ({"engine": "turbo"}, "snmp.engine = 'turbo'"),
    ({"max_repetitions": 0}, "snmp.max_repetitions = 0"),
    ({"credentials": [V3, V3]}, "used twice"),
    ({"credentials": {"name": "x", "community": "leak-me"}}, "expected [[snmp.credentials]]"),
])
def test_bad_snmp_sections(section, complaint):
    with pytest.raises(ConfigError) as caught:
        parse_config({"snmp": section}, source="agent.toml")
    assert complaint in str(caught.value)
    assert "leak-me" not in str(caught.value)


def test_a_misspelled_section_does_not_echo_its_secrets():
    with pytest.raises(ConfigError) as caught:
        parse_config({"snmpp": {"credentials": [V3]}}, source="agent.toml")
    assert "auth-Secret-1" not in str(caught.value) and "snmpp" in str(caught.value)

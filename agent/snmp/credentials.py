"""SNMP credentials: which to try on which device, and keeping their secrets out of sight.

A credential is named; only the name is ever logged, printed, stored in the
state file or streamed to the collector. The secret fields are excluded from
`repr()` and from `as_json()`-style output, so an accidental f-string or a
traceback in a log does not leak a community or a v3 key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import ConfigError

VERSIONS = ("1", "2c", "3")
# Names as administrators write them in device configs -> pysnmp's constant name.
AUTH_PROTOCOLS = {
    "MD5": "USM_AUTH_HMAC96_MD5",
    "SHA": "USM_AUTH_HMAC96_SHA",
    "SHA-224": "USM_AUTH_HMAC128_SHA224",
    "SHA-256": "USM_AUTH_HMAC192_SHA256",
    "SHA-384": "USM_AUTH_HMAC256_SHA384",
    "SHA-512": "USM_AUTH_HMAC384_SHA512",
}
PRIV_PROTOCOLS = {
    "DES": "USM_PRIV_CBC56_DES",
    "AES": "USM_PRIV_CFB128_AES",
    "AES-128": "USM_PRIV_CFB128_AES",
    "AES-192": "USM_PRIV_CFB192_AES",
    "AES-256": "USM_PRIV_CFB256_AES",
}
# RFC 3414: passphrases shorter than 8 characters are refused by agents anyway;
# failing at config time names the key instead of timing out on every device.
MIN_V3_KEY_LENGTH = 8

Scope = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Credential:
    name: str
    version: str                                    # "1", "2c" or "3"
    community: str = field(default="", repr=False)  # v1/v2c secret
    user: str = ""                                  # v3 user name (not a secret: it appears in every packet)
    auth_protocol: str = ""                         # "", SHA, SHA-256, ...; "" = noAuthNoPriv
    auth_key: str = field(default="", repr=False)
    priv_protocol: str = ""                         # "", AES, AES-256, ...; "" = no privacy
    priv_key: str = field(default="", repr=False)
    context: str = ""
    applies_to: tuple[Scope, ...] = ()              # empty = every device

    @property
    def security_level(self) -> str:
        if self.version != "3":
            return "community"
        if not self.auth_protocol:
            return "noAuthNoPriv"
        return "authPriv" if self.priv_protocol else "authNoPriv"

    def applies(self, host: str) -> bool:
        if not self.applies_to:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in scope for scope in self.applies_to)

    def describe(self) -> str:
        """Safe to print: the name, version and level, never a secret."""
        if self.version == "3":
            return f"{self.name} (v3 user {self.user}, {self.security_level})"
        return f"{self.name} (v{self.version})"

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.community, self.auth_key, self.priv_key) if s)


def credentials_for(host: str, credentials: Sequence[Credential], remembered: str = "") -> list[Credential]:
    """The credentials to try on `host`, in order: the one that worked last time first, then config order."""
    candidates = [c for c in credentials if c.applies(host)]
    candidates.sort(key=lambda c: c.name != remembered)  # stable: config order otherwise
    return candidates


_CREDENTIAL_KEYS = {
    "name": (str, "a name for this credential, shown in logs instead of the secret"),
    "version": (str, "\"1\", \"2c\" or \"3\""),
    "community": (str, "the v1/v2c community"),
    "user": (str, "the SNMPv3 user name"),
    "auth_protocol": (str, f"one of {', '.join(AUTH_PROTOCOLS)}"),
    "auth_key": (str, "the SNMPv3 authentication passphrase (8 characters or more)"),
    "priv_protocol": (str, f"one of {', '.join(PRIV_PROTOCOLS)}"),
    "priv_key": (str, "the SNMPv3 privacy passphrase (8 characters or more)"),
    "context": (str, "the SNMPv3 context name (usually empty)"),
    "applies_to": (list, "CIDRs or addresses this credential is tried on (default: all)"),
}


def parse_credential(raw: Any, source: str, key: str) -> Credential:
    """Validate one [[snmp.credentials]] table. Error messages never echo a secret's value."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {key}: expected a table with name, version and community or user")
    for name, value in raw.items():
        if name not in _CREDENTIAL_KEYS:
            raise ConfigError(f"{source}: unknown key {key}.{name} (known keys: {', '.join(_CREDENTIAL_KEYS)})")
        if not isinstance(value, _CREDENTIAL_KEYS[name][0]):
            shown = "<hidden>" if name in ("community", "auth_key", "priv_key") else repr(value)
            raise ConfigError(f"{source}: {key}.{name} = {shown}: expected {_CREDENTIAL_KEYS[name][1]}")
    name = raw.get("name", "").strip()
    if not name:
        raise ConfigError(f"{source}: {key}.name: every credential needs a name (it is what logs show)")
    where = f"{key} ({name})"
    version = str(raw.get("version", "")).strip().lower().removeprefix("v")
    if version not in VERSIONS:
        raise ConfigError(f"{source}: {where}.version = {raw.get('version')!r}: expected \"1\", \"2c\" or \"3\"")
    scopes = []
    for index, entry in enumerate(raw.get("applies_to", [])):
        try:
            scopes.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(f"{source}: {where}.applies_to[{index}] = {entry!r}: not an address or CIDR") from exc
    if version in ("1", "2c"):
        for v3_only in ("user", "auth_protocol", "auth_key", "priv_protocol", "priv_key", "context"):
            if v3_only in raw:
                raise ConfigError(f"{source}: {where}.{v3_only}: only SNMPv3 credentials take this key")
        if not raw.get("community"):
            raise ConfigError(f"{source}: {where}.community: a v{version} credential needs a community")
        return Credential(name=name, version=version, community=raw["community"], applies_to=tuple(scopes))
    if "community" in raw:
        raise ConfigError(f"{source}: {where}.community: SNMPv3 credentials use user/auth_key/priv_key instead")
    user = raw.get("user", "").strip()
    if not user:
        raise ConfigError(f"{source}: {where}.user: an SNMPv3 credential needs a user")
    auth_protocol = raw.get("auth_protocol", "").strip().upper()
    priv_protocol = raw.get("priv_protocol", "").strip().upper()
    if auth_protocol and auth_protocol not in AUTH_PROTOCOLS:
        raise ConfigError(
            f"{source}: {where}.auth_protocol = {raw['auth_protocol']!r}: expected one of {', '.join(AUTH_PROTOCOLS)}"
        )
    if priv_protocol and priv_protocol not in PRIV_PROTOCOLS:
        raise ConfigError(
            f"{source}: {where}.priv_protocol = {raw['priv_protocol']!r}: expected one of {', '.join(PRIV_PROTOCOLS)}"
        )
    if priv_protocol and not auth_protocol:
        raise ConfigError(f"{source}: {where}.priv_protocol: privacy needs authentication too (set auth_protocol)")
    for protocol, secret in ((auth_protocol, "auth_key"), (priv_protocol, "priv_key")):
        if protocol and len(raw.get(secret, "")) < MIN_V3_KEY_LENGTH:
            raise ConfigError(
                f"{source}: {where}.{secret}: missing or shorter than {MIN_V3_KEY_LENGTH} characters "
                f"(RFC 3414 passphrases are at least 8)"
            )
        if not protocol and raw.get(secret):
            raise ConfigError(f"{source}: {where}.{secret}: given, but the matching *_protocol is not set")
    return Credential(
        name=name, version="3", user=user, auth_protocol=auth_protocol, auth_key=raw.get("auth_key", ""),
        priv_protocol=priv_protocol, priv_key=raw.get("priv_key", ""), context=raw.get("context", ""),
        applies_to=tuple(scopes),
    )


def redact(text: str, credentials: Sequence[Credential]) -> str:
    """Replace any secret that slipped into `text` (e.g. an exception message) with ***."""
    for credential in credentials:
        for secret in credential.secrets:
            text = text.replace(secret, "***")
    return text

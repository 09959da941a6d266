"""The site's name policy: what happens to personal names before an observation leaves the agent.

Students name their devices after themselves ("Jane-Smiths-iPad"), and those
names travel in DHCP hostnames and client ids, mDNS instance names, SRV
targets and TXT records, and the host name of an endpoint. Per device class
the site chooses (agent.toml [privacy], see config.PrivacySettings):

  keep          names go to the collector as heard;
  pseudonymise  each name becomes "p:" + 32 hex digits of HMAC-SHA256 under the
                district secret: the same name gives the same pseudonym in every
                school, so the collector can still link a device's records,
                but nobody can read (or, without the key, guess) the name;
  drop          names are emptied.

Without a secret, "pseudonymise" behaves as "drop": a pseudonym made with no
key (or a key built into the agent) is a plain hash, and a dictionary of first
names reverses a plain hash in seconds. The returned observation's
`name_policy` says what was actually done.

Generic names ("iPad", "iPhone (2)", "raspberrypi", "localhost", the list is
[names].generic in device_classes.toml) identify nobody, and thousands of
devices share them; under "pseudonymise" they are kept as they are, so the
collector can see them for what they are and refuse to link devices on them.
"drop" empties them too: it is the site saying "no names at all".

Pure: no I/O beyond reading the packaged name list once, no logging.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from headcount import macaddr

from .classify import packaged_rules
from .config import PrivacySettings
from .model import ArpSighting, DhcpSighting, HostFacts, MdnsService, Observation, TxtEntry

PSEUDONYM_PREFIX = "p:"
PSEUDONYM_HEX_DIGITS = 32      # 128 bits: no accidental collisions among a district's devices

# TXT keys whose values describe the hardware or software, never the owner:
# model identifiers (model, am, rpMd, md, ty, product, usb_MFG/usb_MDL/usb_CMD),
# versions (osxvers, srcvers, vs, rpVr, txtvers), capability flags and formats
# (features, pdl, URF, Color, Duplex, rp = the printer's resource path).
# Everything else (a cast device's "fn" friendly name, a printer's "note"
# location, an "adminurl" with the hostname inside, keys we have never seen)
# is treated as a name.
TXT_KEYS_KEPT = frozenset(key.casefold() for key in (
    "txtvers", "model", "am", "rpMd", "rpVr", "md", "ty", "product", "usb_MFG", "usb_MDL", "usb_CMD",
    "osxvers", "srcvers", "vs", "features", "pdl", "URF", "Color", "Duplex", "rp", "deviceid",
))
# deviceid (AirPlay) is the device's MAC address: the same thing the record's
# `mac` carries in the clear, so it is kept, but only when it is one; any other
# value under that key is treated as a name.
_TXT_VALUE_CHECKS: dict[str, Callable[[str], bool]] = {"deviceid": lambda text: _is_mac(text)}

# Addresses, validated by the scanners that made them, hold no names; and a
# client that sends its MAC as a text client id must not cost the record its `mac`.
_ADDRESS_FIELDS = frozenset({"mac", "ip", "requested_ip", "addresses"})

# A name shorter than this is not searched for inside other fields: "bob" would
# also be found inside unrelated values. The name fields themselves are always replaced.
_MIN_SCRUB_LENGTH = 4

_APOSTROPHES = re.compile("['\u2018\u2019\u02bc`]")
_SEPARATORS = re.compile(r"[\s_]+")
_DASHES = re.compile(r"-{2,}")
# Collision suffixes devices add on their own: "iPad-2" (hostnames), "iPad (2)" (instance names).
_COLLISION_SUFFIX = re.compile(r"(?:-?\(\d{1,3}\)|-\d{1,3})$")
# RAOP instances are "<12 hex digits of the MAC>@<name>"; avahi's workstation
# instances are "<name> [aa:bb:cc:dd:ee:ff]". Only the name part is a name.
_RAOP_INSTANCE = re.compile(r"^([0-9A-Fa-f]{12}@)(.+)$", re.DOTALL)
_WORKSTATION_INSTANCE = re.compile(r"^(.+?)( \[[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\])$", re.DOTALL)


def normalise_name(name: str) -> str:
    """The form names are compared and pseudonymised in.

    The same device name reaches the agent spelt several ways: the mDNS host
    "Janes-iPad.local.", the DHCP hostname "janes-ipad", the instance name
    "Jane's iPad". Casefolding, dropping the trailing dot and ".local", dropping
    apostrophes and writing spaces as "-" (what Apple does when it derives the
    host name from the device name) makes them one name, hence one pseudonym.
    """
    text = unicodedata.normalize("NFKC", name).strip().casefold().rstrip(".")
    if text.endswith(".local"):
        text = text[: -len(".local")]
    return _loose(text)


def _loose(text: str) -> str:
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    return _DASHES.sub("-", _SEPARATORS.sub("-", text)).strip("-")


def pseudonym(name: str, secret: bytes) -> str:
    """ "p:" + the first 32 hex digits of HMAC-SHA256(secret, normalised name)."""
    if not secret:
        raise ValueError("a pseudonym needs the district secret: without a key it would be a reversible hash")
    normal = normalise_name(name)
    if not normal:
        raise ValueError("an empty name has no pseudonym")
    digest = hmac.new(secret, normal.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_DIGITS]


def is_generic_name(name: str) -> bool:
    """True for factory and OS default names shared by many devices ("iPad", "iPhone (2)", "raspberrypi")."""
    normal = normalise_name(name) if isinstance(name, str) else ""
    if not normal:
        return False
    generic = packaged_rules().generic_names
    return normal in generic or _COLLISION_SUFFIX.sub("", normal) in generic


def policy_for(observation: Observation, settings: PrivacySettings) -> str:
    """What `apply_name_policy` will do with this observation: keep, pseudonymise or drop."""
    classification = getattr(observation, "classification", None)
    # No classification yet counts as "unknown", which sites treat as a student's device.
    device_class = classification.device_class if classification is not None else "unknown"
    chosen = settings.student_names if device_class in settings.student_classes else settings.other_names
    if chosen == "pseudonymise" and not settings.secret:
        return "drop"
    return chosen


def apply_name_policy(observation: Observation, settings: PrivacySettings) -> Observation:
    """The observation with every name kept, pseudonymised or dropped, and `name_policy` saying which.

    Records without a `name_policy` field (SNMP devices, which carry
    infrastructure names) are returned untouched.
    """
    if not _has_field(observation, "name_policy"):
        return observation
    policy = policy_for(observation, settings)
    if policy == "keep" or isinstance(observation, ArpSighting):
        # ARP carries no names: only the record of what the site's policy is.
        return dataclasses.replace(observation, name_policy=policy)
    renamer = _Renamer(policy, settings.secret)
    if isinstance(observation, DhcpSighting):
        result: Any = _dhcp(observation, renamer)
    elif isinstance(observation, MdnsService):
        result = _mdns(observation, renamer)
    elif isinstance(observation, HostFacts):
        result = dataclasses.replace(observation, hostname=renamer.name(observation.hostname))
    else:
        result = observation
    # Belt and braces: a raw name copied into any other field (a TXT value we
    # allowed, a vendor class, a mount point) must not leave either.
    result = _scrub(result, renamer.needles(), renamer.replace_text)
    return dataclasses.replace(result, name_policy=policy)


class _Renamer:
    """Applies one policy to name strings and remembers which raw names it saw."""

    def __init__(self, policy: str, secret: bytes):
        self.policy = policy
        self.secret = secret
        self._seen: list[str] = []

    def remember(self, raw: str) -> None:
        if raw and not is_generic_name(raw):
            self._seen.append(raw)

    def name(self, raw: str) -> str:
        """The replacement for one name field."""
        if not raw:
            return raw
        self.remember(raw)
        if self.policy == "drop" or not normalise_name(raw):
            return ""
        if is_generic_name(raw):
            return raw
        return pseudonym(raw, self.secret)

    def replace_text(self, text: str) -> str:
        """The replacement for a field that merely contains a name."""
        if self.policy == "drop" or not normalise_name(text):
            return ""
        return pseudonym(text, self.secret)

    def needles(self) -> list[str]:
        """Normalised forms of the raw names seen, and of their first DNS label, to search other fields for."""
        found: list[str] = []
        for raw in self._seen:
            normal = normalise_name(raw)
            for candidate in (normal, normal.split(".", 1)[0]):
                if len(candidate) >= _MIN_SCRUB_LENGTH and not is_generic_name(candidate):
                    found.append(candidate)
        return list(dict.fromkeys(found))


def _dhcp(sighting: DhcpSighting, renamer: _Renamer) -> DhcpSighting:
    return dataclasses.replace(sighting, hostname=renamer.name(sighting.hostname),
                               client_id=_client_id(sighting.client_id, renamer))


def _client_id(client_id: bytes, renamer: _Renamer) -> bytes:
    """Option 61: kept when it is hardware type 1 + a 6-byte MAC, otherwise treated as a name.

    Clients may send any bytes: Windows and Apple send type 1 + MAC, some
    clients a type-0 text name ("\\x00janes-laptop"), dhcpcd and systemd an RFC
    4361 DUID. Text is pseudonymised like the hostname it often repeats (so the
    two link); binary ids are persistent identifiers too, so they get a
    pseudonym of their hex rather than a guess about what they contain.
    """
    if not client_id or (len(client_id) == 7 and client_id[0] == 1):
        return client_id
    body = client_id[1:] if client_id[0] == 0 else client_id
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if not (text and text.isprintable() and normalise_name(text)):
        text = "hex:" + client_id.hex()
    renamed = renamer.name(text)
    return client_id if renamed == text else renamed.encode("utf-8")   # a generic name is kept as sent


def _mdns(service: MdnsService, renamer: _Renamer) -> MdnsService:
    instance = _instance_name(service.instance_name, renamer)
    host = _host(service.host, renamer)
    needles = renamer.needles()
    txt = tuple(entry for entry in (_txt_entry(e, renamer, needles) for e in service.txt) if entry is not None)
    return dataclasses.replace(service, instance_name=instance, host=host, txt=txt)


def _instance_name(instance: str, renamer: _Renamer) -> str:
    for pattern, name_group in ((_RAOP_INSTANCE, 2), (_WORKSTATION_INSTANCE, 1)):
        found = pattern.match(instance)
        if found:
            renamed = renamer.name(found.group(name_group))
            if not renamed:
                return ""
            parts = [found.group(1), found.group(2)]
            parts[name_group - 1] = renamed
            return "".join(parts)
    return renamer.name(instance)


def _host(host: str, renamer: _Renamer) -> str:
    """Keep the shape: "Janes-iPad.local." -> "p:...local.", "x.example.org." -> "p:....", "" -> ""."""
    lowered = host.casefold()
    suffix = next((s for s in (".local.", ".local", ".") if lowered.endswith(s)), "")
    label = host[: len(host) - len(suffix)] if suffix else host
    renamed = renamer.name(label)
    return renamed + suffix if renamed else ""


def _txt_entry(entry: TxtEntry, renamer: _Renamer, needles: list[str]) -> TxtEntry | None:
    key = entry.key.casefold()
    text = entry.value.decode("utf-8", errors="replace")
    if key in TXT_KEYS_KEPT and not _contains(text, needles) and _TXT_VALUE_CHECKS.get(key, _always)(text):
        return entry
    if renamer.policy == "drop":
        return None
    if not entry.has_value or not entry.value:
        return entry
    return dataclasses.replace(entry, value=renamer.name(text).encode("utf-8"))


def _always(_text: str) -> bool:
    return True


def _is_mac(text: str) -> bool:
    try:
        macaddr.normalise(text)
    except ValueError:
        return False
    return True


def _contains(text: str, needles: list[str]) -> bool:
    if not needles or not text:
        return False
    loose = _loose(text)
    return any(needle in loose for needle in needles)


def _scrub(value: Any, needles: list[str], replace_text: Callable[[str], str]) -> Any:
    """`value` with every str/bytes anywhere inside it that contains one of `needles` replaced."""
    if not needles:
        return value
    if isinstance(value, str):
        return replace_text(value) if _contains(value, needles) else value
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
        return replace_text(text).encode("utf-8") if _contains(text, needles) else value
    if isinstance(value, tuple):
        items = tuple(_scrub(item, needles, replace_text) for item in value)
        return items if any(a is not b for a, b in zip(items, value)) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if f.name in _ADDRESS_FIELDS:
                continue
            current = getattr(value, f.name)
            new = _scrub(current, needles, replace_text)
            if new is not current:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _has_field(observation: Any, name: str) -> bool:
    return dataclasses.is_dataclass(observation) and any(f.name == name for f in dataclasses.fields(observation))

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

Which policy applies fails closed. A device gets the student policy when
any class that scored for it is a student class (Classification.candidates),
not only when the winning class is: a student's Mac that shares a printer
scores printer 9, mac 1, and is still a Mac when it comes to names. No
classification, or "unknown", is a student's device too (as long as the
site counts "unknown" among student classes, the default). And a
shared-printer instance name ("Brother HL-L2350DW @ Jane Smith's MacBook
Pro") is published by the computer that shares the printer, with that
computer's host name and TXT: such a record always gets the student policy,
whatever its device was classified as.

Generic names ("iPad", "iPhone (2)", "Student", "Galaxy-A12", "ip-10-0-0-5";
headcount.names, the list the collector uses too) identify nobody, and
thousands of devices share them; under "pseudonymise" they are kept as they
are, so the collector can see them for what they are and refuse to link
devices on them. "drop" empties them too: it is the site saying "no names at all".

Pure: no I/O, no logging.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any

from headcount import macaddr, names
from headcount.names import client_id_text, normalise_name

from .config import PrivacySettings
from .model import ArpSighting, Classification, DhcpSighting, DiskUsage, HostFacts, MdnsService, Observation, TxtEntry

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
# Class names come from a closed list and name nobody; a host called "Windows-PC" must not turn the
# class "windows_pc" into a pseudonym (the collector would reject the observation for it).
_TOKEN_FIELDS = frozenset({"device_class", "candidates"})

# A name shorter than this is not searched for inside other fields: "bob" would
# also be found inside unrelated values. The name fields themselves are always replaced.
_MIN_SCRUB_LENGTH = 4

# Path components below these are a person's: a user name (/media/<user>/..., /home/<user>) or a
# volume label ("/Volumes/Jane's USB", "/media/<user>/JANE"). Everything after the root is replaced.
_PERSONAL_PATH_ROOTS = ("/run/media/", "/media/", "/Volumes/", "/home/", "/var/home/", "/Users/", "/mnt/")
_WINDOWS_USERS = re.compile(r"^([A-Za-z]:[\\/]Users[\\/])(.+)$", re.IGNORECASE | re.DOTALL)
# A disk's device that names no one: a device node, a Windows drive, a file-system token ("tmpfs").
_PLAIN_DEVICE = re.compile(r"/dev/[A-Za-z0-9_./:+-]+|[A-Za-z]:\\?|[A-Za-z0-9_-]{1,32}")
_DROPPED_COMPONENT = "(dropped)"
# TXT keys of a printer's model (RFC 6763 printing profile): a shared printer's queue named after it is no name.
_MODEL_TXT_KEYS = frozenset({"ty", "product", "usb_mdl"})


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
    """True for factory and OS default names shared by many devices ("iPad", "iPhone (2)", "Student", "Galaxy-A12").

    headcount.names.is_generic_name, the collector's test as well; a name
    that normalises to nothing is no name and so not a generic one.
    """
    return names.is_generic_name(name)


def policy_for(observation: Observation, settings: PrivacySettings) -> str:
    """What `apply_name_policy` will do with this observation: keep, pseudonymise or drop."""
    if _student_device(getattr(observation, "classification", None), settings) or _shared_printer(observation):
        chosen = settings.student_names
    else:
        chosen = settings.other_names
    if chosen == "pseudonymise" and not settings.secret:
        return "drop"
    return chosen


def _student_device(classification: Classification | None, settings: PrivacySettings) -> bool:
    """True when the device may be a student's: its class, or any class that scored for it, is a student class."""
    if classification is None:
        classes: tuple[str, ...] = ("unknown",)     # not classified yet: "unknown", a student's by default
    else:
        decided = classification.device_class if classification.device_class else "unknown"
        # A Classification made elsewhere (no candidates) still has its own class to go by.
        classes = (decided, *classification.candidates)
    return any(device_class in settings.student_classes for device_class in classes)


def _shared_printer(observation: Observation) -> bool:
    return isinstance(observation, MdnsService) and names.split_shared_printer(observation.instance_name) is not None


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
        result = dataclasses.replace(observation, hostname=renamer.name(observation.hostname),
                                     disks=tuple(_disk(disk, renamer) for disk in observation.disks))
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

    def name(self, raw: str, search: bool = True) -> str:
        """The replacement for one name field.

        `search`: also look for this name inside the record's other fields.
        True only for the fields that are a device's name (host name, instance
        name, SRV target, a text client id). A TXT value is replaced but not
        searched for: "fn=googlecast" would otherwise turn the service type
        "_googlecast._tcp" and the class evidence into pseudonyms.
        """
        if not raw:
            return raw
        if search:
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
    text = client_id_text(client_id)
    if not normalise_name(text):
        text = "hex:" + client_id.hex()
    renamed = renamer.name(text)
    return client_id if renamed == text else renamed.encode("utf-8")   # a generic name is kept as sent


def _mdns(service: MdnsService, renamer: _Renamer) -> MdnsService:
    instance = _instance_name(service.instance_name, renamer, _models(service))
    host = _host(service.host, service.instance_name, renamer)
    needles = renamer.needles()
    txt = tuple(entry for entry in (_txt_entry(e, renamer, needles) for e in service.txt) if entry is not None)
    return dataclasses.replace(service, instance_name=instance, host=host, txt=txt)


def _models(service: MdnsService) -> frozenset[str]:
    """The normalised printer models the record's own TXT states (ty, product, usb_MDL)."""
    found = set()
    for entry in service.txt:
        if entry.key.casefold() in _MODEL_TXT_KEYS and entry.value:
            found.add(normalise_name(entry.value.decode("utf-8", errors="replace").strip("()")))
    return frozenset(found - {""})


def _instance_name(instance: str, renamer: _Renamer, models: frozenset[str] = frozenset()) -> str:
    for pattern, name_group in ((names.RAOP_INSTANCE, 2), (names.WORKSTATION_INSTANCE, 1)):
        found = pattern.match(instance)
        if found:
            renamed = renamer.name(found.group(name_group))
            if not renamed:
                return ""
            parts = [found.group(1), found.group(2)]
            parts[name_group - 1] = renamed
            return "".join(parts)
    shared = names.split_shared_printer(instance)
    if shared is not None:
        # "<queue> @ <computer>": the computer's name is a name. So is the queue's, which its owner
        # chose, unless it is only the printer model the record's TXT states (the default).
        queue, computer = shared
        renamed_computer = renamer.name(computer)
        # (A queue that is the TXT model says nothing the kept ty/product value does not.)
        renamed_queue = queue if normalise_name(queue) in models else renamer.name(queue)
        if not renamed_computer or not renamed_queue:
            return ""
        return renamed_queue + names.SHARED_PRINTER_SEPARATOR + renamed_computer
    return renamer.name(instance)


def _host(host: str, instance: str, renamer: _Renamer) -> str:
    """Keep the shape: "Janes-iPad.local." -> "p:...local.", "x.example.org." -> "p:....", "" -> "".

    mDNS's conflict suffix is left out of the pseudonym when the instance
    name shows it is one ("Janes-iPad-2.local." offering "Jane's iPad"), so
    the host gets the pseudonym its DHCP host name gets (headcount.names.mdns_host_name).
    """
    lowered = host.casefold()
    suffix = next((s for s in (".local.", ".local", ".") if lowered.endswith(s)), "")
    label = host[: len(host) - len(suffix)] if suffix else host
    name = label
    if not is_generic_name(label):
        base = names.mdns_host_name(label, instance)
        if base != normalise_name(label):
            renamer.remember(label)
            name = base
    renamed = renamer.name(name)
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
    return dataclasses.replace(entry, value=renamer.name(text, search=False).encode("utf-8"))


def _disk(disk: DiskUsage, renamer: _Renamer) -> DiskUsage:
    """A mount point (and a device that is a path) without the user and volume names in it.

    "/media/jane/JANE USB" and "/Volumes/Jane's Stick" name a person whether
    or not the host name appears in them: every component below a personal
    root is replaced ("/media/p:.../p:..." or "/media/(dropped)/(dropped)").
    """
    mountpoint = _path(disk.mountpoint, renamer)
    device = disk.device
    if device and not _PLAIN_DEVICE.fullmatch(device):
        scrubbed = _path(device, renamer)
        # A network share ("//server/jane", "jane@host:/home") is a name as a whole.
        device = scrubbed if scrubbed != device else _component(device, renamer)
    return dataclasses.replace(disk, mountpoint=mountpoint, device=device)


def _path(path: str, renamer: _Renamer) -> str:
    windows = _WINDOWS_USERS.match(path)
    if windows:
        root, rest, separator = windows.group(1), windows.group(2), "\\" if "\\" in windows.group(1) else "/"
    else:
        root = next((r for r in _PERSONAL_PATH_ROOTS if path.startswith(r) and len(path) > len(r)), "")
        if not root:
            return path
        rest, separator = path[len(root):], "/"
    parts = rest.split(separator)
    return root + separator.join(_component(part, renamer) if part else part for part in parts)


def _component(part: str, renamer: _Renamer) -> str:
    if renamer.policy == "drop":
        return _DROPPED_COMPONENT
    return renamer.replace_text(part) or _DROPPED_COMPONENT


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
    loose = names.loose_text(text)
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
            if f.name in _ADDRESS_FIELDS or f.name in _TOKEN_FIELDS:
                continue
            current = getattr(value, f.name)
            new = _scrub(current, needles, replace_text)
            if new is not current:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _has_field(observation: Any, name: str) -> bool:
    return dataclasses.is_dataclass(observation) and any(f.name == name for f in dataclasses.fields(observation))

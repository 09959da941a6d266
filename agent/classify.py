"""What kind of end device each MAC is: weighted rules, kept as data in device_classes.toml.

The agent hears a device in pieces: an ARP reply (its OUI), a DHCP packet
(vendor class, option-55 fingerprint, hostname), mDNS services (service types,
model identifiers in TXT records), and for the agent's own machine its OS.
`EvidenceBook` merges those pieces per MAC, bounded and least-recently-used
first out, so evidence heard minutes apart still adds up. `classify` sums the
weights of every rule that matches and names a class only when it is clearly
ahead (see device_classes.toml); each `Classification.evidence` line says
which rule fired and what it added, and the last line the decision.

Pure: no I/O except reading the packaged rules file, no logging. Evidence
lines never quote a hostname (a personal name); they quote the rule instead.
What they do quote (a TXT model, a vendor class) comes from the network, so
a line is at most MAX_EVIDENCE_CHARS printable characters and a
classification has at most MAX_EVIDENCE_LINES of them, well inside what the
collector accepts (500 characters, 50 lines).

`Classification.candidates` lists every class that scored at all, for the
agent's name policy (agent/privacy.py): a device that is mostly a printer
but partly a Mac is treated as a Mac when it comes to names. It never
leaves the agent (agent/wire.py sends the class and the evidence only).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from headcount import macaddr

from .errors import ConfigError
from .model import (DEVICE_CLASSES, ArpSighting, Classification, DhcpSighting, HostFacts, MdnsService,
                    Observation)

RULES_RESOURCE = "device_classes.toml"
FIELDS = ("oui_vendor", "dhcp_vendor_class", "dhcp_fingerprint", "dhcp_hostname", "mdns_service_type",
          "mdns_model", "host_os")
MATCHES = ("exact", "prefix", "regex")
# "unknown" is the absence of a decision, never something a rule can vote for.
RULE_CLASSES = tuple(c for c in DEVICE_CLASSES if c != "unknown")
_RULE_KEYS = ("field", "match", "value", "class", "weight")
_MAX_WEIGHT = 100
# Per-MAC caps, so that a chatty or hostile host cannot grow one entry without bound.
_MAX_SERVICE_TYPES = 32
_MAX_MODELS = 8
_MAX_TEXT = 255
# Evidence bounds (the collector rejects lines over 500 characters and more than 50 lines).
MAX_EVIDENCE_CHARS = 200
MAX_EVIDENCE_LINES = 40
_MAX_QUOTED = 80          # a quoted value (TXT model, vendor class, fingerprint) within a line

# How evidence lines name each field.
_FIELD_LABELS = {
    "oui_vendor": "oui vendor",
    "dhcp_vendor_class": "dhcp vendor class",
    "dhcp_fingerprint": "dhcp fingerprint",
    "dhcp_hostname": "dhcp hostname",
    "mdns_service_type": "mdns service",
    "mdns_model": "mdns model",
    "host_os": "host os",
}


class RulesError(ConfigError):
    """The rules file is unusable; the message names the file, the rule's index and the field."""


@dataclass(frozen=True)
class DeviceEvidence:
    """Everything the agent has heard that says what one MAC is."""

    mac: str = ""
    oui_vendor: str = ""
    dhcp_vendor_class: str = ""
    dhcp_fingerprint: tuple[int, ...] = ()
    dhcp_hostname: str = ""
    mdns_service_types: frozenset[str] = frozenset()   # normalised: "_ipp._tcp"
    mdns_models: tuple[str, ...] = ()
    host_os: str = ""


@dataclass(frozen=True)
class Rule:
    index: int                          # position in the file, for messages
    field: str
    match: str
    value: str
    classes: tuple[str, ...]
    weight: int
    pattern: re.Pattern[str] | None = None   # compiled when match == "regex"
    folded: str = ""                         # value.casefold(), for exact and prefix

    def matches(self, candidate: str) -> bool:
        if not candidate:
            return False
        if self.pattern is not None:
            return self.pattern.search(candidate) is not None
        if self.match == "exact":
            return candidate.casefold() == self.folded
        return candidate.casefold().startswith(self.folded)


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    margin: int
    mdns_model_keys: tuple[str, ...]
    source: str                         # the file they came from, for messages


def _normalise_service_type(service_type: str) -> str:
    """ "_IPP._tcp.local." -> "_ipp._tcp": rules and evidence compare on this form."""
    name = service_type.strip().rstrip(".").lower()
    return name[: -len(".local")] if name.endswith(".local") else name


def load_rules(path: str | Path | None = None) -> Rules:
    """The rules shipped beside this module (or those in `path`), validated."""
    if path is None:
        resource = resources.files(__package__).joinpath(RULES_RESOURCE)
        source = str(resource)
        try:
            data = resource.read_bytes()
        except OSError as exc:
            raise RulesError(f"{source}: cannot read the packaged rules ({exc})") from exc
    else:
        source = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise RulesError(f"{source}: cannot read it ({exc.strerror or exc})") from exc
    return parse_rules(data, source)


def parse_rules(data: bytes, source: str) -> Rules:
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{source}: not valid TOML ({exc})") from exc
    known_sections = ("scoring", "mdns", "rule")
    for key in raw:
        if key == "names":
            # The generic-name list is shared with the collector, so it lives in code both import.
            raise RulesError(f"{source}: [names] is no longer read from the rules file: generic names are "
                             f"headcount.names.GENERIC_NAMES (protos/headcount/names.py), shared with the collector")
        if key not in known_sections:
            raise RulesError(f"{source}: unknown section [{key}] (known: {', '.join(known_sections)})")

    scoring = _table(raw.get("scoring", {}), source, "scoring")
    margin = scoring.get("margin", 3)
    if isinstance(margin, bool) or not isinstance(margin, int) or not 1 <= margin <= _MAX_WEIGHT:
        raise RulesError(f"{source}: scoring.margin = {margin!r}: expected a whole number 1..{_MAX_WEIGHT}")

    mdns = _table(raw.get("mdns", {}), source, "mdns")
    model_keys = _string_list(mdns.get("model_keys", []), source, "mdns.model_keys")

    entries = raw.get("rule", [])
    if not isinstance(entries, list):
        raise RulesError(f"{source}: rule: expected [[rule]] tables")
    rules = tuple(_parse_rule(entry, index, source) for index, entry in enumerate(entries))
    return Rules(rules=rules, margin=margin, mdns_model_keys=tuple(model_keys), source=source)


def _table(value: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RulesError(f"{source}: [{where}]: expected a table")
    return value


def _string_list(value: Any, source: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise RulesError(f"{source}: {where} = {value!r}: expected a list of non-empty strings")
    return value


def _parse_rule(entry: Any, index: int, source: str) -> Rule:
    where = f"{source}: rule[{index}]"
    if not isinstance(entry, dict):
        raise RulesError(f"{where}: expected a table")
    for key in entry:
        if key not in _RULE_KEYS:
            raise RulesError(f"{where}.{key}: unknown key (known: {', '.join(_RULE_KEYS)})")
    for key in _RULE_KEYS:
        if key not in entry:
            raise RulesError(f"{where}.{key}: missing")

    field = entry["field"]
    if field not in FIELDS:
        raise RulesError(f"{where}.field = {field!r}: expected one of {', '.join(FIELDS)}")
    match = entry["match"]
    if match not in MATCHES:
        raise RulesError(f"{where}.match = {match!r}: expected exact, prefix or regex")
    value = entry["value"]
    if not isinstance(value, str) or not value:
        raise RulesError(f"{where}.value = {value!r}: expected a non-empty string")
    pattern = None
    if match == "regex":
        try:
            pattern = re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise RulesError(f"{where}.value = {value!r}: not a valid regular expression ({exc})") from exc
    elif field == "mdns_service_type":
        value = _normalise_service_type(value)
    classes = entry["class"]
    classes = [classes] if isinstance(classes, str) else classes
    if (not isinstance(classes, list) or not classes
            or not all(isinstance(c, str) and c in RULE_CLASSES for c in classes)
            or len(set(classes)) != len(classes)):
        raise RulesError(f"{where}.class = {entry['class']!r}: expected one of {', '.join(RULE_CLASSES)}, "
                         f"or a list of distinct ones")
    weight = entry["weight"]
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= _MAX_WEIGHT:
        raise RulesError(f"{where}.weight = {weight!r}: expected a whole number 1..{_MAX_WEIGHT}")
    return Rule(index=index, field=field, match=match, value=value, classes=tuple(classes), weight=weight,
                pattern=pattern, folded=value.casefold())


def _candidates(evidence: DeviceEvidence, field: str) -> tuple[str, ...]:
    if field == "dhcp_fingerprint":
        return (",".join(str(code) for code in evidence.dhcp_fingerprint),) if evidence.dhcp_fingerprint else ()
    if field == "mdns_service_type":
        return tuple(sorted(evidence.mdns_service_types))
    if field == "mdns_model":
        return evidence.mdns_models
    value = getattr(evidence, field)
    return (value,) if value else ()


def _describe(rule: Rule, matched: str) -> str:
    label = _FIELD_LABELS[rule.field]
    if rule.field == "dhcp_hostname":
        # A hostname is often a person's name ("Jane-Smiths-iPad"): quote the rule, not the name.
        return f"{label} matches /{rule.value}/" if rule.match == "regex" else f"{label} {rule.match} {rule.value!r}"
    return f"{label} {_quote(matched)}"


def _quote(value: str) -> str:
    """repr() of a value heard on the network (control characters escaped), shortened to _MAX_QUOTED."""
    quoted = repr(value)
    return quoted if len(quoted) <= _MAX_QUOTED else quoted[: _MAX_QUOTED - 2] + "…" + quoted[0]


def _bounded(line: str) -> str:
    """One evidence line: printable (anything else becomes "?") and at most MAX_EVIDENCE_CHARS long."""
    clean = "".join(c if c.isprintable() else "?" for c in line)
    return clean if len(clean) <= MAX_EVIDENCE_CHARS else clean[: MAX_EVIDENCE_CHARS - 1] + "…"


def _classification(device_class: str, lines: list[str], ranked: list[tuple[int, str]]) -> Classification:
    """The decision with bounded evidence and every class that scored (best first).

    At most MAX_EVIDENCE_LINES lines, the decision always last; when more rules
    fired than fit, the first ones are listed and one line counts the rest.
    """
    *reasons, decision = lines
    limit = MAX_EVIDENCE_LINES - 1
    if len(reasons) > limit:
        hidden = len(reasons) - (limit - 1)
        reasons = reasons[: limit - 1] + [f"... and {hidden} more matching rules not listed"]
    return Classification(device_class, tuple(_bounded(line) for line in (*reasons, decision)),
                          candidates=tuple(name for _, name in ranked))


def classify(evidence: DeviceEvidence, rules: Rules) -> Classification:
    """Sum every matching rule's weight per class; the leader wins only by `rules.margin`."""
    scores = dict.fromkeys(RULE_CLASSES, 0)
    lines: list[str] = []
    randomised = bool(evidence.mac) and _is_randomised(evidence.mac)
    if randomised:
        lines.append(f"mac {evidence.mac} is locally administered (randomised): its OUI names nobody, "
                     f"OUI rules skipped")
    candidates = {field: _candidates(evidence, field) for field in FIELDS}
    for rule in rules.rules:
        if rule.field == "oui_vendor" and randomised:
            continue
        matched = next((value for value in candidates[rule.field] if rule.matches(value)), None)
        if matched is None:
            continue
        for device_class in rule.classes:
            scores[device_class] += rule.weight
        each = " each" if len(rule.classes) > 1 else ""
        lines.append(f"{_describe(rule, matched)} -> {'|'.join(rule.classes)} (+{rule.weight}{each})")

    # Every class that scored, best first: the name policy treats the device as any of them.
    ranked = sorted(((score, name) for name, score in scores.items() if score > 0), key=lambda s: (-s[0], s[1]))
    if not ranked:
        lines.append("decision: unknown (no rule matched)")
        return _classification("unknown", lines, ranked)
    best_score, best = ranked[0]
    runner_score, runner = ranked[1] if len(ranked) > 1 else (0, "")
    tally = ", ".join(f"{name} {score}" for score, name in ranked)
    if best_score - runner_score >= rules.margin:
        lines.append(f"decision: {best} ({tally}; ahead by {best_score - runner_score}, margin {rules.margin})")
        return _classification(best, lines, ranked)
    versus = f"{best} {best_score} vs {runner} {runner_score}" if runner else f"{best} {best_score} alone"
    lines.append(f"decision: unknown ({versus}: less than margin {rules.margin})")
    return _classification("unknown", lines, ranked)


def _is_randomised(mac: str) -> bool:
    try:
        return macaddr.is_locally_administered(macaddr.normalise(mac))
    except ValueError:
        return False


def _clean_mac(mac: str) -> str:
    """A normalised unicast MAC, or "" for anything else (empty, malformed, multicast, all-zero)."""
    try:
        normal = macaddr.normalise(mac)
    except ValueError:
        return ""
    return normal if macaddr.is_unicast(normal) else ""


def _text(value: str) -> str:
    return value.strip()[:_MAX_TEXT]


def _default_vendor_of(mac: str) -> str:
    from .scanners.arp import oui_vendor   # late: scapy's registry is loaded only when first needed

    return oui_vendor(mac)


class EvidenceBook:
    """Per-MAC evidence across observations and calls; the least recently heard MAC is forgotten first.

    Not thread-safe: one pipeline owns one book.
    """

    def __init__(self, max_devices: int = 65536, vendor_of: Callable[[str], str] | None = None):
        if max_devices < 1:
            raise ValueError("max_devices must be 1 or more")
        self.max_devices = max_devices
        # OUI lookup for observations that carry no vendor of their own (DHCP, mDNS, host facts).
        self._vendor_of = vendor_of or _default_vendor_of
        self._entries: OrderedDict[str, DeviceEvidence] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, mac: str) -> bool:
        return _clean_mac(mac) in self._entries

    def get(self, mac: str) -> DeviceEvidence | None:
        return self._entries.get(_clean_mac(mac))

    def add(self, observation: Observation, model_keys: Sequence[str] | None = None) -> DeviceEvidence:
        """Merge what `observation` says about its MAC(s); returns the merged evidence of its (primary) MAC.

        `model_keys` are the TXT keys that carry a device model (default: the
        packaged rules' [mdns].model_keys). Observations that name no usable MAC
        (an mDNS service not yet bound to a MAC, SNMP devices) are not stored;
        what they say by themselves is returned.
        """
        keys = tuple(model_keys) if model_keys is not None else packaged_rules().mdns_model_keys
        updates = self._updates(observation, keys)
        if not updates:
            return own_evidence(observation, keys)
        merged = [self._merge(mac, changes) for mac, changes in updates]
        return merged[0]

    def _merge(self, mac: str, changes: dict[str, Any]) -> DeviceEvidence:
        current = self._entries.pop(mac, None)
        if current is None:
            if "oui_vendor" in changes or macaddr.is_locally_administered(mac):
                vendor = ""   # the ARP scanner looked it up already; a randomised MAC's OUI names nobody
            else:
                vendor = _text(self._vendor_of(mac))
            current = DeviceEvidence(mac=mac, oui_vendor=vendor)
        fields: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "mdns_service_types":
                merged_types = current.mdns_service_types | value
                if len(merged_types) > _MAX_SERVICE_TYPES:
                    merged_types = frozenset(sorted(merged_types)[:_MAX_SERVICE_TYPES])
                fields[key] = merged_types
            elif key == "mdns_models":
                fields[key] = tuple(dict.fromkeys(current.mdns_models + value))[:_MAX_MODELS]
            elif value:
                fields[key] = value   # newest non-empty value wins: a renamed host, an OS update
        evidence = dataclasses.replace(current, **fields)
        self._entries[mac] = evidence
        while len(self._entries) > self.max_devices:
            self._entries.popitem(last=False)
        return evidence

    def _updates(self, observation: Observation, model_keys: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        if isinstance(observation, ArpSighting):
            mac = _clean_mac(observation.mac)
            if not mac:
                return []
            return [(mac, {} if macaddr.is_locally_administered(mac) else {"oui_vendor": _text(observation.vendor)})]
        if isinstance(observation, DhcpSighting):
            mac = _clean_mac(observation.mac)
            if not mac:
                return []
            if observation.source != "client":
                # A server's OFFER/ACK names the client but carries the server's options,
                # not the client's vendor class or request list.
                return [(mac, {})]
            return [(mac, {"dhcp_vendor_class": _text(observation.vendor_class),
                           "dhcp_fingerprint": tuple(observation.parameter_request_list)[:_MAX_TEXT],
                           "dhcp_hostname": _text(observation.hostname)})]
        if isinstance(observation, MdnsService):
            mac = _clean_mac(observation.mac)
            if not mac:
                return []
            own = own_evidence(observation, model_keys)
            return [(mac, {"mdns_service_types": own.mdns_service_types, "mdns_models": own.mdns_models})]
        if isinstance(observation, HostFacts):
            return [(mac, {"host_os": _text(observation.os)}) for mac in host_macs(observation)]
        return []


def host_macs(facts: HostFacts) -> list[str]:
    """The host's own unicast MACs, each once: interfaces that are up first, burnt-in before randomised.

    The first is the host's primary MAC (a container bridge's made-up MAC is a
    poor name for the machine).
    """
    macs = [mac for mac in (_clean_mac(interface.mac) for interface in facts.interfaces) if mac]
    up = {_clean_mac(interface.mac) for interface in facts.interfaces if interface.is_up}
    ordered = sorted(macs, key=lambda mac: (mac not in up, macaddr.is_locally_administered(mac)))
    return list(dict.fromkeys(ordered))


def own_evidence(observation: Observation, model_keys: Sequence[str]) -> DeviceEvidence:
    """What one observation says by itself (no MAC history)."""
    if isinstance(observation, MdnsService):
        keys = {key.casefold() for key in model_keys}
        models = []
        for entry in observation.txt:
            if entry.key.casefold() in keys and entry.has_value:
                model = _text(entry.value.decode("utf-8", errors="replace"))
                if model:
                    models.append(model)
        service = _normalise_service_type(observation.service_type)
        return DeviceEvidence(mac=_clean_mac(observation.mac),
                              mdns_service_types=frozenset([service]) if service else frozenset(),
                              mdns_models=tuple(dict.fromkeys(models))[:_MAX_MODELS])
    if isinstance(observation, HostFacts):
        return DeviceEvidence(host_os=_text(observation.os))
    if isinstance(observation, DhcpSighting) and observation.source == "client":
        return DeviceEvidence(mac=_clean_mac(observation.mac), dhcp_vendor_class=_text(observation.vendor_class),
                              dhcp_fingerprint=tuple(observation.parameter_request_list),
                              dhcp_hostname=_text(observation.hostname))
    return DeviceEvidence(mac=_clean_mac(getattr(observation, "mac", "")))


def classify_all(observations: Iterable[Observation], book: EvidenceBook, rules: Rules) -> list[Observation]:
    """The observations, in order, each with `classification` set from everything the book knows.

    Every observation is added to the book first, so all records of one MAC in
    a batch get the same classification, made from the whole batch and from
    earlier calls. SNMP devices (no `classification` field) pass through untouched.
    """
    items = list(observations)
    # The evidence each MAC ends the batch with. Kept here rather than re-read from
    # the book, which may already have evicted early MACs of a very large batch.
    latest: dict[str, DeviceEvidence] = {}
    for observation in items:
        if not _classifiable(observation):
            continue
        book.add(observation, rules.mdns_model_keys)
        for mac in _macs_of(observation):
            evidence = book.get(mac)
            if evidence is not None:
                latest[mac] = evidence

    decided: dict[str, Classification] = {}

    def decision(evidence: DeviceEvidence) -> Classification:
        if evidence.mac and evidence.mac in decided:
            return decided[evidence.mac]
        result = classify(evidence, rules)
        if evidence.mac:
            decided[evidence.mac] = result
        return result

    out: list[Observation] = []
    for observation in items:
        if not _classifiable(observation):
            out.append(observation)
            continue
        macs = _macs_of(observation)
        evidence = next((latest[mac] for mac in macs if mac in latest), None)
        if evidence is None:
            evidence = own_evidence(observation, rules.mdns_model_keys)
        out.append(dataclasses.replace(observation, classification=decision(evidence)))
    return out


def _classifiable(observation: Observation) -> bool:
    return isinstance(observation, (ArpSighting, DhcpSighting, MdnsService, HostFacts))


def _macs_of(observation: Observation) -> list[str]:
    if isinstance(observation, HostFacts):
        return host_macs(observation)
    mac = _clean_mac(getattr(observation, "mac", ""))
    return [mac] if mac else []


@functools.lru_cache(maxsize=1)
def packaged_rules() -> Rules:
    """The packaged rules, read and validated once per process."""
    return load_rules()

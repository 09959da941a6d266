"""One device, one record: which MACs of a site are one physical device. Pure: no database, no clock.

Phones, tablets and laptops hide behind randomised ("private") MACs that
change per network, per day or per fortnight, so counting MACs counts the
same iPad many times. The collector keeps one row per (site, MAC) and groups
those rows into merged devices. The rules here decide the groups; store.py
only fetches the facts and writes the answer.

Link keys. A key is something only one device says about itself:

- ``host:<agent_id>`` - host facts from an agent in endpoint mode: the
  machine lists its own interfaces, so all of them are one device. The only
  key that may join two burned-in MACs: nobody else can know.
- ``cid:<hex>`` - DHCP client identifier (option 61), except a hardware-type-1
  id that is just the MAC itself (it says nothing the MAC did not) and a
  text id that is a generic name.
- ``name:<name>`` - a host name, from DHCP (option 12) or mDNS (the SRV
  target), normalised to one namespace the way the agent normalises before
  pseudonymising, so "Janes-iPad" from DHCP and "janes-ipad.local." from
  mDNS are one key, and so are their identical pseudonyms ("p:<hex>"). An
  mDNS host renamed on a conflict ("Janes-iPad-2.local.") keys as its name
  without the "-2" when the record's instance name shows that is what it is.
  Generic names ("iPad", "Student", "Galaxy-A12", "ip-10-0-0-5", ...) are
  never keys: thousands of devices share them. The agent sends them
  unpseudonymised for exactly this reason, and both sides take the list and
  the normalisation from one module, headcount.names; a generic name that
  arrived pseudonymised could not be recognised here.

Weak evidence (vendor, class, DHCP fingerprint, vendor class, an IP address)
never links anything: identical school iPads share all of it.

Burned-in MACs. A DHCP client id or a name that shows up on two devices that
each have a globally unique MAC is not an identity but a shared value: a
cloned disk image copies its DHCP DUID, and a lab names every PC alike. So
a client-id or name key links only where at most one of the devices it
touches has a burned-in MAC, and otherwise links nothing (and says so in
the evidence). A laptop's wired and Wi-Fi interfaces with the same DHCP
host name therefore stay two devices unless the laptop itself (host facts)
says they are one: two counted devices are a smaller error than two
children's iPads counted as one.

A real device rotates its private MAC rarely (per network, or every few
weeks), so a name carried by more than MAX_RANDOMISED_MACS_PER_NAME
randomised MACs is a shared or default name the generic list misses (a
classroom's "Student-iPad", a setup script's name), not one device: it links
nothing, and the evidence says so. Client ids are not capped this way (a
client id is per device by design; store.py caps every key at 1000 MACs).

The grouping is recomputed from the stored facts, in a fixed order (host
facts, then client ids, then names; each sorted by key), so the answer does
not depend on the order in which batches arrived, and a link that stops
holding (a name that turns out to be shared) splits the device again.

What this cannot stop: a device on the LAN that deliberately sends another
device's client id or name is merged with it. That costs a count, not data:
every MAC keeps its own row and history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from headcount import names
from headcount.names import is_pseudonym, normalise_name

from .model import Classification, Device, Observation, is_locally_administered

KIND_HOST = "host"
KIND_CLIENT_ID = "client_id"
KIND_NAME = "name"
_KIND_ORDER = {KIND_HOST: 0, KIND_CLIENT_ID: 1, KIND_NAME: 2}

# The one list of generic names, shared with the agent (which keeps them raw under "pseudonymise").
GENERIC_NAMES = names.GENERIC_NAMES

MAX_MACS_IN_EVIDENCE = 8
# More randomised MACs than this on one name key: a shared name, not a device that rotated its MAC.
MAX_RANDOMISED_MACS_PER_NAME = 16


# ---------------------------------------------------------------- names and keys


def is_generic_name(name: str) -> bool:
    """True for a name that many devices share, which therefore identifies none; and for no name at all.

    headcount.names.is_generic_name (the agent's test too), plus: an empty
    name is nothing to link on.
    """
    return not normalise_name(name) or names.is_generic_name(name)


def client_id_key(client_id: bytes, mac: str) -> str | None:
    """The link key of a DHCP client id, or None when it says nothing about one device.

    A hardware-type-1 id that is just the MAC says nothing the MAC did not; a
    text id that is a generic name ("\\x00iPad") is as shared as the name.
    """
    if not client_id:
        return None
    if client_id[0] == 1 and client_id[1:] == bytes.fromhex(mac.replace(":", "")):
        return None
    text = names.client_id_text(client_id)
    if text and is_generic_name(normalise_name(text)):
        return None
    return "cid:" + client_id.hex()


def name_key(name: str) -> str | None:
    normalised = normalise_name(name)
    return None if is_generic_name(normalised) else "name:" + normalised


def mdns_name_key(host: str, instance: str) -> str | None:
    """The key of an mDNS host: as name_key, without a conflict suffix the instance name confirms."""
    return name_key(names.mdns_host_name(host, instance))


@dataclass(frozen=True, slots=True)
class KeyFact:
    """One MAC carried one link key; `source` says where it was seen ("dhcp hostname", "mdns host", ...)."""

    mac: str
    key: str
    kind: str
    label: str        # the key as people read it in evidence: a name, a client id, an agent id
    source: str


def key_facts(observation: Observation, agent_id: str, endpoint: bool) -> list[KeyFact]:
    """The link keys an observation states; `endpoint` is True when its agent reports its own host."""
    facts = []
    if observation.kind == "dhcp" and observation.mac:
        key = client_id_key(observation.client_id, observation.mac)
        if key is not None:
            label = observation.data.get("client_id") or observation.client_id.hex(":")
            facts.append(KeyFact(observation.mac, key, KIND_CLIENT_ID, label, "dhcp client id"))
        if observation.sighting is not None and (key := name_key(observation.sighting.hostname)):
            facts.append(KeyFact(observation.mac, key, KIND_NAME, key[len("name:"):], "dhcp hostname"))
    elif observation.kind == "mdns" and observation.sighting is not None:
        instance = observation.data.get("instance_name", "")
        if key := mdns_name_key(observation.sighting.hostname, instance if isinstance(instance, str) else ""):
            facts.append(KeyFact(observation.mac, key, KIND_NAME, key[len("name:"):], "mdns host"))
    elif observation.kind == "host" and endpoint and len(observation.host_sightings) > 0:
        # Keyed by the agent, not by this report: an endpoint whose Wi-Fi MAC
        # rotates reports a new MAC each time, and each is the same machine.
        for sighting in observation.host_sightings:
            facts.append(KeyFact(sighting.mac, "host:" + agent_id, KIND_HOST, agent_id, "host facts"))
    return facts


# ---------------------------------------------------------------- grouping


@dataclass(frozen=True, slots=True)
class LinkKey:
    """A key and every MAC of the site known to carry it."""

    key: str
    kind: str
    label: str
    sources: tuple[str, ...]
    macs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """MACs that are one device, and why (including links refused on purpose)."""

    macs: tuple[str, ...]
    evidence: tuple[str, ...] = ()


def partition(macs: Iterable[str], keys: Sequence[LinkKey]) -> list[Group]:
    """Group `macs` (every MAC of the component, each with a device row) by the rules in the module docstring."""
    parent = {mac: mac for mac in macs}
    burned_in = {mac: not is_locally_administered(mac) for mac in parent}

    def find(mac: str) -> str:
        while parent[mac] != mac:
            parent[mac] = parent[parent[mac]]
            mac = parent[mac]
        return mac

    notes: list[tuple[str, tuple[str, ...]]] = []   # (evidence line, the MACs it is about)
    for key in sorted(keys, key=lambda k: (_KIND_ORDER.get(k.kind, 9), k.key)):
        members = tuple(sorted({mac for mac in key.macs if mac in parent}))
        if len(members) < 2:
            continue
        if key.kind == KIND_NAME:
            randomised = {mac for mac in key.macs if is_locally_administered(mac)}
            if len(randomised) > MAX_RANDOMISED_MACS_PER_NAME:
                notes.append((f"not linked: {_describe(key)} is on {len(randomised)} randomised MACs (more than "
                              f"{MAX_RANDOMISED_MACS_PER_NAME}), so it is a shared or default name, not one "
                              f"device", members))
                continue
        roots = sorted({find(mac) for mac in members})
        if key.kind != KIND_HOST:
            with_burned_in = [root for root in roots if burned_in[root]]
            if len(with_burned_in) > 1:
                notes.append((f"not linked: {_describe(key)} is on {len(with_burned_in)} devices with burned-in "
                              f"MACs ({_list(members)}), so it names no single device", members))
                continue
        for root in roots[1:]:
            parent[root] = roots[0]
            burned_in[roots[0]] = burned_in[roots[0]] or burned_in[root]
        notes.append((f"{_describe(key)} {'link' if ' and ' in _describe(key) else 'links'} {_list(members)}",
                      members))
    groups: dict[str, list[str]] = {}
    for mac in sorted(parent):
        groups.setdefault(find(mac), []).append(mac)
    evidence: dict[str, list[str]] = {root: [] for root in groups}
    for line, members in notes:
        for root in dict.fromkeys(find(mac) for mac in members):
            if line not in evidence[root]:
                evidence[root].append(line)
    return [Group(macs=tuple(members), evidence=tuple(evidence[root])) for root, members in groups.items()]


def assign_ids(groups: Sequence[Group], current: Mapping[str, int | None]) -> list[int | None]:
    """Which existing device id each group keeps (None: it needs a new one).

    The oldest id (the smallest: ids only grow) survives a merge, so the id an
    engineer has already seen stays; a group split off an old device gets
    the next oldest id among its MACs, or a new one.
    """
    def candidates(group: Group) -> list[int]:
        return sorted({current[mac] for mac in group.macs if current.get(mac) is not None})

    order = sorted(range(len(groups)), key=lambda i: (candidates(groups[i])[:1] or [1 << 62], groups[i].macs))
    taken: set[int] = set()
    chosen: list[int | None] = [None] * len(groups)
    for index in order:
        free = [candidate for candidate in candidates(groups[index]) if candidate not in taken]
        if free:
            chosen[index] = free[0]
            taken.add(free[0])
    return chosen


def _describe(key: LinkKey) -> str:
    if key.kind == KIND_HOST:
        return f"host facts of endpoint agent {key.label}"
    if key.kind == KIND_CLIENT_ID:
        return f"dhcp client id {_shorten(key.label, 64)}"   # a DUID-based id is ~55 characters as hex pairs
    return f"{' and '.join(sorted(key.sources))} {_shorten(key.label)}"


def _shorten(label: str, limit: int = 40) -> str:
    if is_pseudonym(label) and len(label) > 18:
        return label[:18] + "…"    # enough to tell pseudonyms apart by eye
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _list(macs: Sequence[str]) -> str:
    shown = ", ".join(macs[:MAX_MACS_IN_EVIDENCE])
    more = len(macs) - MAX_MACS_IN_EVIDENCE
    return shown + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------- what a device is


def classification_of(observation: Observation) -> Classification | None:
    """The class an observation states: the agent's, else (for an SNMP device) what SNMP identified."""
    offered = observation.classification
    if offered is not None and offered.device_class not in ("", "unknown"):
        return offered
    if observation.kind == "snmp":
        snmp_class = str(observation.data.get("device_class", "")).strip()
        if snmp_class and snmp_class != "other":
            lines = [line for line in observation.data.get("evidence", []) if isinstance(line, str)
                     and line.startswith("class")]
            return Classification(snmp_class, (f"snmp identified a {snmp_class}", *lines[:10]))
    return None


def classify(row: Device, offered: Classification, at: datetime) -> Device:
    """The MAC row after one more classification: the newest one other than "unknown" wins."""
    if offered.device_class in ("", "unknown"):
        return row
    if row.classified_at is not None and at < row.classified_at:
        return row     # an older batch delivered late does not undo a newer conclusion
    return replace(row, device_class=offered.device_class, class_evidence=offered.evidence, classified_at=at)


def summarise(rows: Sequence[Device], focus: str | None = None) -> Device:
    """One merged device from the rows of its MACs, shown through `focus` (default: its newest MAC).

    The MAC, its randomised bit and its IP are the focused MAC's; the rest
    describes the whole device: the widest first/last seen, every source, the
    newest host name and class, and a vendor even when the focused MAC is a
    randomised one with no vendor of its own.
    """
    if len(rows) == 1 and (focus is None or rows[0].mac == focus):
        return rows[0]   # the common case, millions of times: a device is its one MAC row
    # Among MACs seen at the same moment (an endpoint reports all its interfaces at once) the one with an
    # address is the more useful face of the device, and it sorts by that address in listings.
    newest_first = sorted(rows, key=lambda row: (row.last_seen, bool(row.ip), row.mac), reverse=True)
    shown = next((row for row in newest_first if row.mac == focus), newest_first[0])

    def newest(attribute: str) -> str:
        own = getattr(shown, attribute)
        return own or next((getattr(row, attribute) for row in newest_first if getattr(row, attribute)), "")

    classified = [row for row in rows if row.classified_at is not None and row.device_class]
    by_class = max(classified, key=lambda row: (row.classified_at, row.mac)) if classified else None
    return replace(
        shown,
        ip=newest("ip"), vendor=newest("vendor"), hostname=newest("hostname"),
        first_seen=min(row.first_seen for row in rows), last_seen=max(row.last_seen for row in rows),
        sources=tuple(sorted({source for row in rows for source in row.sources})),
        device_class=by_class.device_class if by_class else "",
        class_evidence=by_class.class_evidence if by_class else (),
        classified_at=by_class.classified_at if by_class else None,
        linked_macs=tuple(row.mac for row in newest_first if row.mac != shown.mac),
    )


def is_stable(macs: Iterable[str]) -> bool:
    """A device is stable when at least one of its MACs is globally unique (burned in)."""
    return any(not is_locally_administered(mac) for mac in macs)

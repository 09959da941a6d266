"""The collector's SQLite database: the only module that touches it.

`Store` is the async face the servers use. Every database call runs on one
private worker thread (a ThreadPoolExecutor with one worker) that opened the
connection and is the only thread ever to use it, so the event loop never
waits on disk and writes are naturally serialised: one batch at a time, each
in one transaction. Use it as

    store = await Store.open(path, retention_days=90)
    try: ...
    finally: await store.close()

or `async with await Store.open(path) as store: ...`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import marshal
import os
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import apsw
import sqlite_utils

from . import health, identity
from .errors import InvalidMacError, StoreClosedError, StoreError
from .flags import Condition, Flag
from .migrations import applied_migrations, apply_migrations
from .standards import INFRASTRUCTURE_CLASSES
from .model import (AgentIdentity, AgentStatus, AssetImportOutcome, Device, DeviceDetail, DeviceSighting,
                    HistoryEntry, IngestOutcome, IngestStatus, InventoryRow, NetworkIdentity, UniformitySnapshot, Observation, PortState, SiteSummary, SwitchPortLocation,
                    access_port, format_timestamp, ip_sort_key, is_locally_administered, is_unicast, merge_sighting,
                    normalize_mac, parse_timestamp, ports_with_activity)

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
DEVICE_PAGE_SIZE = 500
HISTORY_LIMIT = 50
# Old history is deleted a slice at a time so that batches keep flowing
# between slices instead of waiting behind one huge DELETE.
PRUNE_SLICE_ROWS = 5000
# SQLite INTEGER is signed 64-bit; a uint64 sequence above this cannot be stored.
MAX_SEQUENCE = 2**63 - 1
# MACs per `IN (...)` list: far below SQLite's variable limit, large enough
# that a 5,000-MAC sweep costs ten reads, not five thousand.
CHUNK = 500
# A key carried by more MACs than this is a shared value (a default name the
# generic list misses, a broken DHCP client), not an identity: grouping skips
# it, which also bounds how much one regrouping reads.
MAX_MACS_PER_KEY = 1000
# How many of a merged device's other MACs a listing or a lookup shows, and
# whose history a lookup reads.
MAX_LINKED_MACS = 1000
HISTORY_MACS = 500
# Merged devices per page of the inventory read (Store.inventory_pages).
INVENTORY_PAGE_SIZE = 20000
# Management consoles know the model and OS an end device really runs; the register is typed by hand.
_ASSET_PREFERENCE = {"google_admin_chromeos": 0, "jamf_ipad": 0, "asset_register": 1}
_INFRASTRUCTURE = frozenset(INFRASTRUCTURE_CLASSES)
# The tables whose rows a share of a district evaluation reads by site (ShardReader), each with an index that
# leads with the site.
_SHARD_TABLES = ("merged_devices", "network_devices", "device_keys", "assets", "scans", "agents", "flags")
# A scan counts as a poll of the site's devices when one of these finished: the ARP sweep sees every
# device on the swept subnets, the SNMP poll every infrastructure device.
NETWORK_POLL_SCANNERS = frozenset({"arp", "snmp"})
# Missed polls are counted up to this many (far past any class's threshold): it bounds the read of the scans.
MISSED_POLLS_COUNTED = 96
_OS_VERSION = re.compile(r"\d+(?:\.\d+)+|\d+")

T = TypeVar("T")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# Thousands of rows share a few source lists and class evidences: encode and
# decode each distinct one once.
@functools.lru_cache(maxsize=4096)
def _json_list(items: tuple[str, ...]) -> str:
    return _json(list(items))


def evidence_json(evidence: tuple[str, ...]) -> str:
    """A flag's evidence as the flags table stores it."""
    return _json_list(evidence)


def evidence_from_json(stored: str) -> tuple[str, ...]:
    """A flag's evidence as the flags table stores it, read back."""
    return _tuple_from_json(stored)


@functools.lru_cache(maxsize=4096)
def _tuple_from_json(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


@dataclasses.dataclass(frozen=True)
class StoredFlags:
    """What an evaluation reads of the stored flags (Store.flags_for_evaluation).

    Most open flags held at the latest evaluation and will hold again,
    unchanged: they stay plain rows in `held_rows` (no Flag built for them
    unless the evaluation finds them changed or gone: `held_flag`).
    """

    open: list[tuple[str, Flag]]                # (site, flag): the other open flags; last_present_at resolved
    held_rows: dict[tuple[str, str], tuple[str, str, str, str]]   # (kind, device_id) -> (site, reason,
    #                                             evidence JSON, raised_at) of a flag held at the latest evaluation
    recently_cleared: list[tuple[str, Flag]]
    held: Collection[tuple[str, str, datetime]]  # (kind, device_id, raised_at) of every open flag held at the
    #                                             latest evaluation (a key open twice has two rows: never expected)
    latest_evaluation: datetime | None

    def held_flag(self, key: tuple[str, str]) -> tuple[str, Flag]:
        """The open flag of a held_rows entry, as flags.advance_flags takes it."""
        site, reason, evidence, raised = self.held_rows[key]
        raised_at = parse_timestamp(raised)
        return site, Flag(key[0], key[1], reason, _tuple_from_json(evidence), raised_at, None,
                          self.latest_evaluation or raised_at)

    def all_open(self) -> list[tuple[str, Flag]]:
        """Every open flag as (site, Flag), oldest raise first."""
        found = [*self.open, *(self.held_flag(key) for key in self.held_rows)]
        return sorted(found, key=lambda item: item[1].raised_at)


class _HeldFlags(Collection):
    """StoredFlags.held without a set of every held row: the held_rows entries (their raise as stored text),
    and the held rows of keys open twice, which are not among them. A district has hundreds of thousands of
    held flags, and an evaluation asks this of the few that changed."""

    def __init__(self, held_rows: dict[tuple[str, str], tuple[str, str, str, str]],
                 repeated: set[tuple[str, str, datetime]]):
        self._rows, self._repeated = held_rows, repeated

    def __contains__(self, item: object) -> bool:
        if item in self._repeated:
            return True
        kind, device_id, raised_at = item      # type: ignore[misc]
        row = self._rows.get((kind, device_id))
        return row is not None and parse_timestamp(row[3]) == raised_at

    def __iter__(self) -> Iterator[tuple[str, str, datetime]]:
        yield from ((kind, device_id, parse_timestamp(row[3])) for (kind, device_id), row in self._rows.items())
        yield from self._repeated

    def __len__(self) -> int:
        return len(self._rows) + len(self._repeated)


# A templated device (ShardReader.split_inventory) as it is handed on: its site, id (text), class as judged,
# whether that class is infrastructure, and its start of service and AUE date as stored (ISO text, or None):
# the purchase date, else the UTC date of its first sighting, and its earliest AUE date.
TemplatedDevice = tuple[str, str, str, bool, str | None, str | None, str | None]


class InventorySplit(NamedTuple):
    """What ShardReader.split_inventory reads: see there."""

    rows: list[tuple]                   # inventory tuples of the devices that are neither quiet nor templated
    quiet: Counter                      # uniformity counts of the quiet and the templated devices
    sites: set[str]                     # every site with devices
    lost_candidates: set[int] | None    # the devices the network may have lost (None: not asked)
    templated: list[TemplatedDevice]    # the templated devices (when asked)


@dataclasses.dataclass(frozen=True)
class FlagRows:
    """One evaluation's flag changes as the rows written (plain text: cheap to hand between processes)."""

    inserts: list[tuple]
    updates: list[tuple]
    clears: list[tuple]

    def __reduce__(self) -> tuple:
        # A share's rows go from a worker process to the writer: tens of thousands of tuples of text, which
        # marshal packs in a third of the time pickle takes (pickle keeps a memo entry for every object). Both
        # ends run the same interpreter, whose marshal format they share.
        return _flag_rows_from_marshal, (marshal.dumps((self.inserts, self.updates, self.clears)),)


def _flag_rows_from_marshal(packed: bytes) -> FlagRows:
    return FlagRows(*marshal.loads(packed))


# Flags listed: newest raise first; one evaluation's by site, device number and kind (not by id: see below).
_LISTED_ORDER = ("f.raised_at DESC, f.site, f.device_id NOT GLOB '[0-9]*', length(f.device_id), f.device_id,"
                 " f.kind, f.id")
# Rows are written in the order of the flags index (site, device_id, kind): a B-tree filled in its own order
# takes a large evaluation's inserts in less than half the time it takes them in device order.
_INSERT_ORDER, _UPDATE_ORDER, _CLEAR_ORDER = itemgetter(0, 1, 2), itemgetter(3, 4, 5), itemgetter(2, 3, 4)
_SOURCE_FORMAT = itemgetter(1)      # of an asset row as _inventory_tuples reads it


def flag_rows(raised: Sequence[tuple[str, Flag]], still_open: Sequence[tuple[str, Flag]],
              cleared: Sequence[tuple[str, Flag]], evaluated_at: str | None,
              raised_now: Iterable[Condition] = (), site_of: Mapping[str, str] | None = None) -> FlagRows:
    """The rows that store (site, flag) changes: raised flags inserted, `still_open` refreshed, cleared closed.

    `raised_now` are conditions raised at the evaluation (`evaluated_at`, which they need), as the flags
    advance_flags would raise for them, without the flags built: their site is site_of[device id] ('' when
    absent). A first evaluation raises hundreds of thousands.

    With `evaluated_at` (an evaluation at that time), a flag present then is
    stored with last_present_at NULL, "held at the latest evaluation" (see
    migration 0007); the caller passes in `still_open` only the open flags
    whose stored row differs from that. An open flag is found by (site,
    device_id, kind, raised_at) among the rows still open.
    """
    def present(flag: Flag) -> str | None:
        text = format_timestamp(flag.last_present_at or flag.raised_at)
        return None if text == evaluated_at else text

    # A first evaluation raises hundreds of thousands of flags, all at one moment: that moment's texts are
    # worked out once, where format_timestamp's cache would hash the datetime twice per flag.
    inserts = []
    raised_at: datetime | None = None
    present_at: datetime | None = None
    raised_text = present_text = ""
    for site, f in raised:
        if f.raised_at is not raised_at or f.last_present_at is not present_at:
            raised_at, present_at = f.raised_at, f.last_present_at
            raised_text, present_text = format_timestamp(raised_at), present(f)
        inserts.append((site, f.device_id, f.kind, f.reason, _json_list(tuple(f.evidence)), raised_text,
                        present_text))
    if raised_now:
        if evaluated_at is None:
            raise ValueError("flags raised at an evaluation need its time")
        site_at = (site_of or {}).get
        # Present at the evaluation that raised them: last_present_at NULL, "held at the latest evaluation".
        inserts += [(site_at(c.device_id, ""), c.device_id, c.kind, c.reason, _json_list(tuple(c.evidence)),
                     evaluated_at, None) for c in raised_now]
    return FlagRows(
        sorted(inserts, key=_INSERT_ORDER),
        sorted([(f.reason, _json_list(tuple(f.evidence)), present(f), site, f.device_id, f.kind,
                 format_timestamp(f.raised_at)) for site, f in still_open], key=_UPDATE_ORDER),
        sorted([(format_timestamp(f.cleared_at), format_timestamp(f.last_present_at or f.raised_at), site,
                 f.device_id, f.kind, format_timestamp(f.raised_at)) for site, f in cleared if f.cleared_at is not None],
               key=_CLEAR_ORDER))


class _SQLiteCopies:
    """Which copy of SQLite this process has each database file open with: Python's sqlite3 module (the
    system's library) or apsw's (a newer one, built into apsw, which ShardReader reads through in worker
    processes).

    Never both at once for one file. SQLite's POSIX locks belong to the
    process, and each copy of the library keeps its own table of the files
    it has open: when one copy closes its descriptor of a file, the kernel
    drops the locks the other copy holds on it, and a writer in another
    process can then go ahead as though nobody were reading or writing
    (sqlite.org/howtocorrupt.html, "multiple copies of SQLite linked into
    the same application").
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[int, int], Counter] = {}     # (device, inode) -> copy -> connections

    def open(self, path: Path, copy: str, connect: Callable[[], T]) -> tuple[T, Callable[[], None]]:
        """connect() for `path` through `copy` ("system" or "bundled"), and the function that records the
        connection's closing (once, however often it is called). StoreError, and nothing opened, if the other
        copy has the file open here."""
        with self._lock:
            key = _file_key(path)
            opened = self._open.get(key, Counter()) if key is not None else Counter()
            other = next((name for name, count in opened.items() if name != copy and count), None)
            if other is not None:
                raise StoreError(f"the database {path} is open in this process through the {other} SQLite;"
                                 f" opening it through the {copy} one as well could corrupt it")
            connection = connect()
            key = key or _file_key(path)
            if key is None:         # no file (":memory:"): no locks to lose
                return connection, lambda: None
            counts = self._open.setdefault(key, Counter())
            counts[copy] += 1

        done = False

        def closed() -> None:
            nonlocal done
            with self._lock:
                if done:        # a connection closed twice still counts once
                    return
                done = True
                counts[copy] -= 1
                if not +counts:
                    self._open.pop(key, None)
        return connection, closed


def _file_key(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file, None if there is none."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


_SQLITE_COPIES = _SQLiteCopies()


class _Database:
    """The synchronous side: lives on, and is only ever called from, the store's worker thread."""

    def __init__(self, path: Path):
        self.path = path
        # sqlite3's default check_same_thread=True makes any use from another thread an error, not a race.
        self.db, self._closed = _SQLITE_COPIES.open(path, "system", lambda: sqlite_utils.Database(path))
        try:
            # Someone reading the file with the sqlite3 shell must not make an ingest fail at once.
            self.db.execute("PRAGMA busy_timeout = 5000")
            self.db.enable_wal()
            # FULL, not WAL's usual NORMAL: an acknowledged batch is gone from the agent, so
            # a commit must survive a power cut, not only a crash of this process.
            self.db.execute("PRAGMA synchronous = FULL")
            self.migrated_now = apply_migrations(self.db)
        except BaseException:
            self.close()
            raise
        self.sharded = False

    def _in_shard(self, column: str) -> str:
        """An SQL condition keeping the rows of this connection's sites (ShardReader), or "" (every site)."""
        if not self.sharded:
            return ""
        return f" AND {column} IN (SELECT site FROM temp.shard_sites)"

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            self._closed()

    # ---------------------------------------------------------------- writes

    def register_agent(self, identity: AgentIdentity, now: datetime) -> int:
        at = format_timestamp(now)
        with self.db.atomic():
            previous = self._agent_row(identity.agent_id)
            if previous and previous["site"] != identity.site:
                log.warning("agent %s now reports site %r (was %r); new observations go to %r",
                            identity.agent_id, identity.site, previous["site"], identity.site)
            self.db.execute(
                """
                INSERT INTO agents (agent_id, site, version, hostname, scanners, mode, last_sequence, first_seen,
                                    last_seen)
                VALUES (:agent_id, :site, :version, :hostname, :scanners, :mode, 0, :at, :at)
                ON CONFLICT (agent_id) DO UPDATE SET
                    site = excluded.site, version = excluded.version, hostname = excluded.hostname,
                    scanners = excluded.scanners, mode = excluded.mode,
                    last_seen = max(agents.last_seen, excluded.last_seen)
                """,
                {"agent_id": identity.agent_id, "site": identity.site, "version": identity.version,
                 "hostname": identity.hostname, "scanners": _json(list(identity.scanners)), "mode": identity.mode,
                 "at": at},
            )
            return self._agent_row(identity.agent_id)["last_sequence"]

    def ingest_batch(self, agent_id: str, site: str, sequence: int, observations: Sequence[Observation],
                     received_at: datetime) -> IngestOutcome:
        received = format_timestamp(received_at)
        with self.db.atomic():
            agent = self._agent_row(agent_id)
            if agent is None:   # callers normally register first; a batch still needs its agent row
                self.register_agent(AgentIdentity(agent_id=agent_id, site=site), received_at)
                agent = self._agent_row(agent_id)
            if sequence <= agent["last_sequence"]:
                return IngestOutcome(IngestStatus.DUPLICATE, 0, agent["last_sequence"])
            self.db.conn.executemany(
                "INSERT INTO observations (site, agent_id, sequence, kind, scanner, mac, observed_at, received_at, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(site, agent_id, sequence, o.kind, o.scanner, o.mac, format_timestamp(o.observed_at), received,
                  _json(o.data)) for o in observations],
            )
            self._merge_devices(site, agent_id, agent["mode"] == "endpoint", observations)
            for probe in (o for o in observations if o.kind == "snmp" and o.mac):
                self._store_network_device(site, probe)
            scans = [o for o in observations if o.kind == "scan"]
            if scans:
                self._record_scans(site, agent_id, scans)
            for facts in (o for o in observations if o.kind == "host"):
                observed = format_timestamp(facts.observed_at)
                self.db.execute(
                    "UPDATE agents SET host_facts = ?, host_facts_at = ?"
                    " WHERE agent_id = ? AND (host_facts_at IS NULL OR host_facts_at <= ?)",
                    [_json(facts.data), observed, agent_id, observed],
                )
            self.db.execute(
                "UPDATE agents SET last_sequence = ?, last_seen = max(last_seen, ?) WHERE agent_id = ?",
                [sequence, received, agent_id],
            )
        return IngestOutcome(IngestStatus.STORED, len(observations), sequence)

    def _merge_devices(self, site: str, agent_id: str, endpoint_agent: bool,
                       observations: Sequence[Observation]) -> None:
        """MAC rows, their classes, link keys, then the merged devices they make up."""
        sightings: list[tuple[DeviceSighting, datetime, str]] = []
        classifications = []
        facts = []
        for o in observations:
            source = o.scanner or o.kind
            endpoint = o.kind == "host" and (o.endpoint or endpoint_agent)
            own = o.host_sightings if endpoint else ()
            if o.sighting:
                sightings.append((o.sighting, o.observed_at, source))
            # Hosts read from a router's or switch's ARP table: a second-hand source, named as such.
            sightings += [(learned, o.observed_at, f"{source}-arp-table") for learned in o.learned]
            sightings += [(seen, o.observed_at, f"{source}-fdb") for seen in o.refreshed]
            sightings += [(interface, o.observed_at, source) for interface in own]
            offered = identity.classification_of(o)
            if offered is not None:
                about = [s.mac for s in own] if o.kind == "host" else [o.mac] if o.mac else []
                classifications += [(mac, offered, o.observed_at) for mac in about]
            facts += [(fact, o.observed_at) for fact in identity.key_facts(o, agent_id, endpoint)]
        # Creating sightings first, so an mDNS answer earlier in the same batch
        # still refreshes the row that this batch's ARP sweep creates.
        sightings.sort(key=lambda item: not item[0].creates_device)
        rows = self._mac_rows(site, {s.mac for s, _, _ in sightings} | {mac for mac, _, _ in classifications})
        before = dict(rows)
        existed = set(rows)
        changed: set[str] = set()
        for sighting, observed_at, source in sightings:
            merged = merge_sighting(rows.get(sighting.mac), site, sighting, observed_at, source)
            if merged is not None:
                rows[sighting.mac] = merged
                changed.add(sighting.mac)
        for mac, offered, observed_at in classifications:
            if mac in rows:
                classified = identity.classify(rows[mac], offered, observed_at)
                if classified is not rows[mac]:
                    rows[mac] = classified
                    changed.add(mac)
        new_macs = sorted(changed - existed)
        # A new MAC is a device of its own until a key says otherwise.
        for mac, device_id in zip(new_macs, self._new_device_ids(site, new_macs)):
            rows[mac] = dataclasses.replace(rows[mac], device_id=str(device_id))
        self._write_mac_rows([rows[mac] for mac in sorted(changed)], before)
        seeds = self._record_keys(site, facts)
        if new_macs:   # keys heard before the MAC had a row (mDNS) now count
            seeds |= self._macs_with_keys(site, new_macs)
        regrouped = self._regroup(site, seeds) if seeds else set()
        reclassified = {int(rows[mac].device_id) for mac in changed
                        if mac not in before or rows[mac].classified_at != before[mac].classified_at}
        self._settle({int(rows[mac].device_id) for mac in changed}, regrouped, reclassified,
                     {int(rows[mac].device_id): rows[mac] for mac in changed})

    def _mac_rows(self, site: str, macs: set[str]) -> dict[str, Device]:
        rows = {}
        for chunk in _chunks(sorted(macs)):
            for row in self.db.query(f"SELECT * FROM devices WHERE site = ? AND mac IN ({_marks(chunk)})",
                                     [site, *chunk]):
                rows[row["mac"]] = _device_from_row(row)
        return rows

    def _new_device_ids(self, site: str, macs: Sequence[str]) -> list[int]:
        """Fresh merged-device ids, one per MAC, each a device of that one MAC.

        Ids are taken past the AUTOINCREMENT high-water mark by hand so that
        a sweep of new hosts is one executemany, not one INSERT per host;
        only this connection writes, inside the batch's transaction.
        """
        if not macs:
            return []
        highest = max(next(self.db.query("SELECT coalesce(max(seq), 0) AS n FROM sqlite_sequence"
                                         " WHERE name = 'merged_devices'"))["n"],
                      next(self.db.query("SELECT coalesce(max(id), 0) AS n FROM merged_devices"))["n"])
        ids = list(range(highest + 1, highest + 1 + len(macs)))
        self.db.conn.executemany(
            "INSERT INTO merged_devices (id, site, macs, stable_macs) VALUES (?, ?, 1, ?)",
            [(device_id, site, int(not is_locally_administered(mac))) for device_id, mac in zip(ids, macs)])
        return ids

    def _write_mac_rows(self, devices: Sequence[Device], before: dict[str, Device]) -> None:
        """Insert new MAC rows and update known ones; the IP (an indexed column) only where it changed.

        Rewriting an index entry costs about three times a plain column, even
        with an unchanged value, and most sightings only move last_seen.
        """
        def values(d: Device) -> dict[str, Any]:
            return {"site": d.site, "mac": d.mac, "ip": d.ip, "ip_key": ip_sort_key(d.ip), "vendor": d.vendor,
                    "locally_administered": int(d.locally_administered), "hostname": d.hostname,
                    "first_seen": format_timestamp(d.first_seen), "last_seen": format_timestamp(d.last_seen),
                    "sources": _json_list(d.sources), "device_id": int(d.device_id), "device_class": d.device_class,
                    "class_evidence": _json_list(d.class_evidence),
                    "classified_at": format_timestamp(d.classified_at) if d.classified_at else ""}

        new = [values(d) for d in devices if d.mac not in before]
        moved = [values(d) for d in devices if d.mac in before and d.ip != before[d.mac].ip]
        stayed = [values(d) for d in devices if d.mac in before and d.ip == before[d.mac].ip]
        self.db.conn.executemany(
            """
            INSERT INTO devices (site, mac, ip, ip_key, vendor, locally_administered, hostname, first_seen, last_seen,
                                 sources, device_id, device_class, class_evidence, classified_at)
            VALUES (:site, :mac, :ip, :ip_key, :vendor, :locally_administered, :hostname, :first_seen, :last_seen,
                    :sources, :device_id, :device_class, :class_evidence, :classified_at)
            """,
            new,
        )
        unindexed = ("vendor = :vendor, hostname = :hostname, first_seen = :first_seen, last_seen = :last_seen,"
                     " sources = :sources, device_class = :device_class, class_evidence = :class_evidence,"
                     " classified_at = :classified_at")
        self.db.conn.executemany(f"UPDATE devices SET ip = :ip, ip_key = :ip_key, {unindexed}"
                                 " WHERE site = :site AND mac = :mac", moved)
        self.db.conn.executemany(f"UPDATE devices SET {unindexed} WHERE site = :site AND mac = :mac", stayed)

    def _record_keys(self, site: str, facts: Sequence[tuple[identity.KeyFact, datetime]]) -> set[str]:
        """Store which MAC carried which link key; returns the MACs whose keys changed (they need regrouping)."""
        if not facts:
            return set()
        offered: dict[tuple[str, str], dict[str, Any]] = {}
        for fact, observed_at in facts:
            at = format_timestamp(observed_at)
            entry = offered.setdefault((fact.key, fact.mac), {"kind": fact.kind, "label": fact.label,
                                                             "sources": set(), "first": at, "last": at})
            entry["sources"].add(fact.source)
            entry["first"], entry["last"] = min(entry["first"], at), max(entry["last"], at)
        stored = {}
        for chunk in _chunks(sorted({mac for _, mac in offered})):
            # INDEXED BY: without statistics the planner would scan the site's every key through the primary key.
            for row in self.db.query(f"SELECT * FROM device_keys INDEXED BY idx_device_keys_site_mac"
                                     f" WHERE site = ? AND mac IN ({_marks(chunk)})", [site, *chunk]):
                stored[(row["key"], row["mac"])] = row
        seeds, writes = set(), []
        for (key, mac), entry in offered.items():
            old = stored.get((key, mac))
            sources = set(entry["sources"]) | set(json.loads(old["sources"]) if old else ())
            if old is None or len(sources) > len(json.loads(old["sources"])):
                seeds.add(mac)   # a new link, or a new way of knowing it (the evidence reads differently)
            writes.append({"site": site, "key": key, "mac": mac, "kind": entry["kind"], "label": entry["label"],
                           "sources": _json(sorted(sources)),
                           "first_seen": min(entry["first"], old["first_seen"]) if old else entry["first"],
                           "last_seen": max(entry["last"], old["last_seen"]) if old else entry["last"]})
        self.db.conn.executemany(
            """
            INSERT INTO device_keys (site, key, mac, kind, label, sources, first_seen, last_seen)
            VALUES (:site, :key, :mac, :kind, :label, :sources, :first_seen, :last_seen)
            ON CONFLICT (site, key, mac) DO UPDATE SET
                sources = excluded.sources, first_seen = excluded.first_seen, last_seen = excluded.last_seen
            """,
            writes,
        )
        return seeds

    def _macs_with_keys(self, site: str, macs: Sequence[str]) -> set[str]:
        found = set()
        for chunk in _chunks(list(macs)):
            found.update(row["mac"] for row in self.db.query(
                f"SELECT DISTINCT mac FROM device_keys INDEXED BY idx_device_keys_site_mac"
                f" WHERE site = ? AND mac IN ({_marks(chunk)})", [site, *chunk]))
        return found

    def _regroup(self, site: str, seeds: set[str]) -> set[int]:
        """Recompute the merged devices around `seeds`; returns the device ids that now hold them.

        The component is everything reachable from the seeds through shared
        keys and through current membership (a link that no longer holds must
        be able to split a device), so the rules see every fact that matters.
        """
        macs: set[str] = set()
        keys: set[str] = set()
        usable: set[str] = set()
        ids: set[int] = set()
        frontier = set(seeds)
        while frontier:
            macs |= frontier
            reached: set[str] = set()
            for chunk in _chunks(sorted(frontier)):
                found = {row["key"] for row in self.db.query(
                    f"SELECT DISTINCT key FROM device_keys INDEXED BY idx_device_keys_site_mac"
                    f" WHERE site = ? AND mac IN ({_marks(chunk)})",
                    [site, *chunk])} - keys
                keys |= found
                for keys_chunk in _chunks(sorted(found)):
                    for row in self.db.query(
                            f"SELECT key, count(*) AS macs FROM device_keys WHERE site = ? AND key IN "
                            f"({_marks(keys_chunk)}) GROUP BY key", [site, *keys_chunk]):
                        if row["macs"] <= MAX_MACS_PER_KEY:
                            usable.add(row["key"])
                        else:
                            log.warning("site %s: link key %s is on %d MACs; treated as shared, not an identity",
                                        site, row["key"][:40], row["macs"])
                    wanted = [key for key in keys_chunk if key in usable]
                    for inner in _chunks(wanted):
                        reached.update(row["mac"] for row in self.db.query(
                            f"SELECT mac FROM device_keys WHERE site = ? AND key IN ({_marks(inner)})",
                            [site, *inner]))
                new_ids = {row["device_id"] for row in self.db.query(
                    f"SELECT device_id FROM devices WHERE site = ? AND mac IN ({_marks(chunk)})", [site, *chunk])
                } - ids - {None}
                ids |= new_ids
                for ids_chunk in _chunks(sorted(new_ids)):
                    reached.update(row["mac"] for row in self.db.query(
                        f"SELECT mac FROM devices WHERE device_id IN ({_marks(ids_chunk)})", ids_chunk))
            frontier = reached - macs
        current = {}   # only MACs with a device row are devices; a key heard on any other MAC waits for one
        for chunk in _chunks(sorted(macs)):
            for row in self.db.query(f"SELECT mac, device_id FROM devices WHERE site = ? AND mac IN ({_marks(chunk)})",
                                     [site, *chunk]):
                current[row["mac"]] = row["device_id"]
        links: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(usable)):
            for row in self.db.query(f"SELECT * FROM device_keys WHERE site = ? AND key IN ({_marks(chunk)})",
                                     [site, *chunk]):
                link = links.setdefault(row["key"], {"kind": row["kind"], "label": row["label"], "sources": set(),
                                                     "macs": []})
                link["sources"].update(json.loads(row["sources"]))
                link["macs"].append(row["mac"])
        groups = identity.partition(current, [
            identity.LinkKey(key=key, kind=link["kind"], label=link["label"], sources=tuple(sorted(link["sources"])),
                             macs=tuple(link["macs"])) for key, link in links.items()])
        chosen = identity.assign_ids(groups, current)
        moves, members, kept = [], [], set()
        for group, device_id in zip(groups, chosen):
            if device_id is None:
                (device_id,) = self._new_device_ids(site, group.macs[:1])
            kept.add(device_id)
            moves += [(device_id, site, mac) for mac in group.macs if current[mac] != device_id]
            members.append((len(group.macs), sum(not is_locally_administered(mac) for mac in group.macs),
                            _json(list(group.evidence)), device_id))
        self.db.conn.executemany("UPDATE devices SET device_id = ? WHERE site = ? AND mac = ?", moves)
        self.db.conn.executemany("UPDATE merged_devices SET macs = ?, stable_macs = ?, link_evidence = ? WHERE id = ?",
                                 members)
        for chunk in _chunks(sorted(ids - kept)):   # devices whose every MAC moved to an older device
            self.db.execute(f"DELETE FROM merged_devices WHERE id IN ({_marks(chunk)})", chunk)
        if moves:
            log.debug("site %s: regrouped %d MACs into %d devices", site, len(current), len(groups))
        return kept

    def _settle(self, touched: set[int], regrouped: set[int], reclassified: set[int],
                known: dict[int, Device]) -> None:
        """Keep each device's newest MAC marked (is_primary) and its class current.

        A device of one MAC needs nothing for a plain sighting: its row is
        the device. Only devices of several MACs, regrouped ones and those
        whose class changed are read back, so a sweep refreshing thousands of
        known hosts writes nothing here.
        """
        stored = {}
        for chunk in _chunks(sorted(touched | regrouped)):
            stored.update((row["id"], row) for row in self.db.query(
                "SELECT id, macs, device_class, class_evidence, classified_at FROM merged_devices"
                f" WHERE id IN ({_marks(chunk)})", chunk))
        reread, classes, primaries = [], [], []

        def class_update(device_id: int, view: Device) -> None:
            values = (view.device_class, _json_list(view.class_evidence),
                      format_timestamp(view.classified_at) if view.classified_at else "")
            old = stored[device_id]
            if values != (old["device_class"], old["class_evidence"], old["classified_at"]):
                classes.append((*values, device_id))

        for device_id, row in stored.items():
            if device_id in regrouped or row["macs"] > 1:
                reread.append(device_id)
            elif device_id in reclassified and device_id in known:
                class_update(device_id, known[device_id])
        for chunk in _chunks(reread):
            members: dict[int, list[dict[str, Any]]] = {}
            for row in self.db.query(f"SELECT * FROM devices WHERE device_id IN ({_marks(chunk)})", chunk):
                members.setdefault(row["device_id"], []).append(row)
            for device_id, raw in members.items():
                view = identity.summarise([_device_from_row(row) for row in raw])
                class_update(device_id, view)
                primaries += [(int(row["mac"] == view.mac), row["id"]) for row in raw
                              if row["is_primary"] != int(row["mac"] == view.mac)]
        self.db.conn.executemany("UPDATE merged_devices SET device_class = ?, class_evidence = ?, classified_at = ?"
                                 " WHERE id = ?", classes)
        self.db.conn.executemany("UPDATE devices SET is_primary = ? WHERE id = ?", primaries)

    def _record_scans(self, site: str, agent_id: str, scans: Sequence[Observation]) -> None:
        """Keep each finished scan (a re-sent batch's summary is the same row: ignored)."""
        rows = []
        for scan in scans:
            completed = [str(name) for name in scan.data.get("completed", [])]
            failed = [str(name) for name in scan.data.get("failed", [])]
            rows.append((agent_id, site, scan.data.get("started_at") or format_timestamp(scan.observed_at),
                         format_timestamp(scan.observed_at), _json(completed), _json(failed),
                         int(scan.data.get("observations", 0) or 0),
                         int(bool(NETWORK_POLL_SCANNERS.intersection(completed)))))
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO scans (agent_id, site, started_at, finished_at, completed, failed, observations,"
            " network_poll) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def _store_network_device(self, site: str, probe: Observation) -> None:
        """Keep the newest SNMP identity of the device, and where its forwarding table puts other MACs."""
        data = probe.data
        observed = format_timestamp(probe.observed_at)
        system = data.get("system", {})
        fdb = data.get("fdb", [])
        ports = ports_with_activity(data.get("interfaces", []), fdb, data.get("neighbors", []))
        self.db.execute(
            """
            INSERT INTO network_devices (site, mac, address, vendor, model, serial, firmware, hardware_revision,
                device_class, sys_name, sys_descr, sys_object_id, location, port_count, ports, errors, evidence,
                observed_at)
            VALUES (:site, :mac, :address, :vendor, :model, :serial, :firmware, :hardware_revision, :device_class,
                :sys_name, :sys_descr, :sys_object_id, :location, :port_count, :ports, :errors, :evidence,
                :observed_at)
            ON CONFLICT (site, mac) DO UPDATE SET
                address = excluded.address, vendor = excluded.vendor, model = excluded.model,
                serial = excluded.serial, firmware = excluded.firmware,
                hardware_revision = excluded.hardware_revision, device_class = excluded.device_class,
                sys_name = excluded.sys_name, sys_descr = excluded.sys_descr,
                sys_object_id = excluded.sys_object_id, location = excluded.location,
                port_count = excluded.port_count, ports = excluded.ports, errors = excluded.errors,
                evidence = excluded.evidence, observed_at = excluded.observed_at
            WHERE excluded.observed_at >= network_devices.observed_at
            """,
            {"site": site, "mac": probe.mac, "address": data.get("address", ""), "vendor": data.get("vendor", ""),
             "model": data.get("model", ""), "serial": data.get("serial", ""), "firmware": data.get("firmware", ""),
             "hardware_revision": data.get("hardware_revision", ""),
             "device_class": data.get("device_class", ""), "sys_name": system.get("name", ""),
             "sys_descr": system.get("descr", ""), "sys_object_id": system.get("object_id", ""),
             "location": system.get("location", ""), "port_count": int(data.get("port_count", 0) or 0),
             "ports": _json([dataclasses.asdict(p) for p in ports]), "errors": _json(data.get("errors", [])),
             "evidence": _json(data.get("evidence", [])), "observed_at": observed},
        )
        stored = next(self.db.conn.execute("SELECT coalesce(health_digest, health) FROM network_devices"
                                           " WHERE site = ? AND mac = ?", (site, probe.mac)), (None,))[0]
        self.db.execute("UPDATE network_devices SET health = ?, health_digest = ? WHERE site = ? AND mac = ?",
                        [*health.stored_forms(health.fold_health(stored, probe.observed_at, data)), site, probe.mac])
        macs_on_port = {p.if_index: p.learned_macs for p in ports}
        names = {p.if_index: p.name for p in ports}
        rows = []
        for entry in fdb:
            if_index = int(entry.get("if_index", 0) or 0)
            status = entry.get("status", "learned")
            try:
                end_mac = normalize_mac(entry.get("mac", ""))
            except InvalidMacError:
                continue
            if not if_index or status not in ("learned", "") or not is_unicast(end_mac) or end_mac == probe.mac:
                continue   # the switch's own addresses and entries on no port say nothing about a location
            rows.append({"site": site, "end_mac": end_mac, "switch_mac": probe.mac,
                         "switch_name": system.get("name", ""), "switch_address": data.get("address", ""),
                         "port_name": entry.get("port_name") or names.get(if_index, ""), "if_index": if_index,
                         "vlan": int(entry.get("vlan", 0) or 0), "macs_on_port": macs_on_port.get(if_index, 0),
                         "seen_at": observed})
        if rows:
            self.db.conn.executemany(
                """
                INSERT INTO switch_ports (site, end_mac, switch_mac, switch_name, switch_address, port_name,
                    if_index, vlan, macs_on_port, seen_at)
                VALUES (:site, :end_mac, :switch_mac, :switch_name, :switch_address, :port_name, :if_index, :vlan,
                    :macs_on_port, :seen_at)
                ON CONFLICT (site, end_mac, switch_mac) DO UPDATE SET
                    switch_name = excluded.switch_name, switch_address = excluded.switch_address,
                    port_name = excluded.port_name, if_index = excluded.if_index, vlan = excluded.vlan,
                    macs_on_port = excluded.macs_on_port, seen_at = excluded.seen_at
                WHERE excluded.seen_at >= switch_ports.seen_at
                """,
                rows,
            )

    def record_heartbeat(self, agent_id: str, at: datetime) -> bool:
        moment = format_timestamp(at)
        cursor = self.db.execute(
            "UPDATE agents SET last_heartbeat = ?, last_seen = max(last_seen, ?) WHERE agent_id = ?",
            [moment, moment, agent_id],
        )
        return cursor.rowcount == 1

    def prune_slice(self, cutoff: str, limit: int) -> int:
        cursor = self.db.execute(
            "DELETE FROM observations WHERE id IN (SELECT id FROM observations WHERE received_at < ? LIMIT ?)",
            [cutoff, limit],
        )
        return cursor.rowcount

    # ---------------------------------------------------------------- reads

    def _agent_row(self, agent_id: str) -> dict[str, Any] | None:
        return next(self.db.query("SELECT * FROM agents WHERE agent_id = ?", [agent_id]), None)

    def agent(self, agent_id: str) -> AgentStatus | None:
        row = self._agent_row(agent_id)
        if row is None:
            return None
        return AgentStatus(
            agent_id=row["agent_id"], site=row["site"], version=row["version"], hostname=row["hostname"],
            scanners=tuple(json.loads(row["scanners"])), last_sequence=row["last_sequence"],
            first_seen=parse_timestamp(row["first_seen"]), last_seen=parse_timestamp(row["last_seen"]),
            last_heartbeat=parse_timestamp(row["last_heartbeat"]) if row["last_heartbeat"] else None,
            host_facts=json.loads(row["host_facts"]) if row["host_facts"] else None,
        )

    def list_sites(self) -> list[SiteSummary]:
        sites: dict[str, dict[str, Any]] = {}

        def entry(site: str) -> dict[str, Any]:
            return sites.setdefault(site, {"devices": 0, "stable": 0, "locally_administered": 0, "agents": [],
                                           "last_seen": "", "classes": []})

        for row in self.db.query(
            "SELECT site, count(*) AS devices, sum(stable_macs > 0) AS stable FROM merged_devices GROUP BY site"
        ):
            entry(row["site"]).update(devices=row["devices"], stable=row["stable"] or 0)
        for row in self.db.query(
            "SELECT site, sum(locally_administered) AS randomised, max(last_seen) AS last_seen FROM devices"
            " GROUP BY site"
        ):
            entry(row["site"]).update(locally_administered=row["randomised"] or 0, last_seen=row["last_seen"])
        for row in self.db.query(
            "SELECT site, CASE device_class WHEN '' THEN 'unknown' ELSE device_class END AS class, count(*) AS devices"
            " FROM merged_devices GROUP BY site, class ORDER BY site, class"
        ):
            entry(row["site"])["classes"].append((row["class"], row["devices"]))
        for row in self.db.query("SELECT site, agent_id, last_seen FROM agents ORDER BY agent_id"):
            summary = entry(row["site"])
            summary["agents"].append(row["agent_id"])
            summary["last_seen"] = max(summary["last_seen"], row["last_seen"])
        return [
            SiteSummary(site=site, devices=s["devices"], locally_administered=s["locally_administered"],
                        agents=tuple(s["agents"]),
                        last_seen=parse_timestamp(s["last_seen"]) if s["last_seen"] else None,
                        stable_devices=s["stable"], randomised_devices=s["devices"] - s["stable"],
                        classes=tuple(s["classes"]))
            for site, s in sorted(sites.items())
        ]

    def devices_page(self, site: str | None, after: tuple[str, str, str] | None,
                     limit: int) -> tuple[list[Device], tuple[str, str, str] | None]:
        """One page of merged devices in (site, numeric IP, MAC) order of their newest MAC, and the next key."""
        where, params = ["d.is_primary = 1"], []
        if site is not None:
            where.append("d.site = ?")
            params.append(site)
        if after is not None:
            where.append("(d.site, d.ip_key, d.mac) > (?, ?, ?)")
            params.extend(after)
        # One read joins each listed MAC row with its merged row (by primary key).
        rows = list(self.db.query(
            "SELECT d.*, m.macs AS merged_macs, m.device_class AS merged_class,"
            " m.class_evidence AS merged_evidence, m.classified_at AS merged_classified_at,"
            " m.link_evidence AS merged_links"
            f" FROM devices AS d LEFT JOIN merged_devices AS m ON m.id = d.device_id WHERE {' AND '.join(where)}"
            " ORDER BY d.site, d.ip_key, d.mac LIMIT ?", [*params, limit]))
        next_key = (rows[-1]["site"], rows[-1]["ip_key"], rows[-1]["mac"]) if len(rows) == limit else None
        members: dict[int, list[Device]] = {}
        for chunk in _chunks([row["device_id"] for row in rows if (row["merged_macs"] or 1) > 1]):
            for row in self.db.query(f"SELECT * FROM devices WHERE device_id IN ({_marks(chunk)})", chunk):
                members.setdefault(row["device_id"], []).append(_device_from_row(row))
        devices = []
        for row in rows:
            merged = _UNMERGED if row["merged_macs"] is None else {
                "device_class": row["merged_class"], "class_evidence": row["merged_evidence"],
                "classified_at": row["merged_classified_at"], "link_evidence": row["merged_links"]}
            if row["device_id"] in members:
                shown = identity.summarise(members[row["device_id"]], focus=row["mac"])
                devices.append(_with_merged(shown, merged))
            else:   # one MAC: its row and its merged row are the device (built at once; most devices are this)
                devices.append(_device_from_row(row, merged))
        return devices, next_key

    def device_detail(self, mac: str, site: str | None, history_limit: int) -> DeviceDetail:
        where, params = "mac = ?", [mac]
        if site is not None:
            where, params = "mac = ? AND site = ?", [mac, site]
        devices, groups = [], []
        for row in list(self.db.query(f"SELECT * FROM devices WHERE {where} ORDER BY site", params)):
            members = [_device_from_row(member) for member in self.db.query(
                "SELECT * FROM devices WHERE device_id = ? ORDER BY last_seen DESC, mac DESC", [row["device_id"]])]
            merged = next(self.db.query("SELECT * FROM merged_devices WHERE id = ?", [row["device_id"]]), _UNMERGED)
            devices.append(dataclasses.replace(
                _with_merged(identity.summarise(members, focus=mac), merged),
                host_facts=self._endpoint_facts(row["site"], [m.mac for m in members])))
            groups.append((row["site"], [m.mac for m in members]))
        history = self._history(groups, history_limit)
        network = []
        switch_ports = []
        for device, (device_site, macs) in zip(devices, groups):
            identities = [self._network_identity(device_site, candidate) for candidate in macs]
            found = [n for n in identities if n is not None]
            # The MAC asked about first; else the newest SNMP answer among the device's other MACs.
            own = [n for n in found if n.mac == mac]
            if own or found:
                network.append(own[0] if own else max(found, key=lambda n: n.observed_at))
            locations = []
            for chunk in _chunks(macs[:HISTORY_MACS]):
                locations += [
                    SwitchPortLocation(site=r["site"], end_mac=r["end_mac"], switch_mac=r["switch_mac"],
                                       seen_at=parse_timestamp(r["seen_at"]), switch_name=r["switch_name"] or "",
                                       switch_address=r["switch_address"] or "", port_name=r["port_name"] or "",
                                       if_index=r["if_index"] or 0, vlan=r["vlan"] or 0,
                                       macs_on_port=r["macs_on_port"] or 0)
                    for r in self.db.query(f"SELECT * FROM switch_ports WHERE site = ? AND end_mac IN "
                                           f"({_marks(chunk)})", [device_site, *chunk])
                ]
            chosen = access_port(locations)
            if chosen is not None:
                switch_ports.append(dataclasses.replace(chosen, end_mac=mac))
        return DeviceDetail(devices=tuple(devices), history=tuple(history), network=tuple(network),
                            switch_ports=tuple(switch_ports))

    def _history(self, groups: Sequence[tuple[str, Sequence[str]]], limit: int) -> list[HistoryEntry]:
        """Newest observations of every MAC of the devices found (at most HISTORY_MACS newest MACs each)."""
        if not groups:
            return []
        clauses, params = [], []
        for site, macs in groups:
            shown = list(macs[:HISTORY_MACS])
            clauses.append(f"(site = ? AND mac IN ({_marks(shown)}))")
            params += [site, *shown]
        return [
            HistoryEntry(site=row["site"], agent_id=row["agent_id"], sequence=row["sequence"], kind=row["kind"],
                         mac=row["mac"], observed_at=parse_timestamp(row["observed_at"]),
                         received_at=parse_timestamp(row["received_at"]), data=json.loads(row["data"]))
            for row in self.db.query(
                f"SELECT * FROM observations WHERE {' OR '.join(clauses)} ORDER BY observed_at DESC, id DESC LIMIT ?",
                [*params, limit],
            )
        ]

    def _endpoint_facts(self, site: str, macs: Sequence[str]) -> dict[str, Any] | None:
        """The newest host facts of the endpoint agent(s) that reported these MACs as their own, if any."""
        agents = set()
        for chunk in _chunks(list(macs)):
            agents.update(row["label"] for row in self.db.query(
                f"SELECT DISTINCT label FROM device_keys INDEXED BY idx_device_keys_site_mac"
                f" WHERE site = ? AND kind = ? AND mac IN ({_marks(chunk)})",
                [site, identity.KIND_HOST, *chunk]))
        if not agents:
            return None
        chunk = sorted(agents)[:CHUNK]
        row = next(self.db.query(
            f"SELECT host_facts FROM agents WHERE agent_id IN ({_marks(chunk)}) AND host_facts IS NOT NULL"
            " ORDER BY host_facts_at DESC LIMIT 1", chunk), None)
        return json.loads(row["host_facts"]) if row else None

    def _network_identity(self, site: str, mac: str) -> NetworkIdentity | None:
        row = next(iter(self.db.query("SELECT * FROM network_devices WHERE site = ? AND mac = ?", [site, mac])), None)
        if row is None:
            return None
        return NetworkIdentity(
            site=row["site"], mac=row["mac"], address=row["address"] or "",
            observed_at=parse_timestamp(row["observed_at"]),
            **{key: row[key] or "" for key in ("vendor", "model", "serial", "firmware", "hardware_revision",
                                               "device_class", "sys_name", "sys_descr", "sys_object_id",
                                               "location")},
            port_count=row["port_count"] or 0,
            ports=tuple(PortState(**p) for p in json.loads(row["ports"] or "[]")),
            errors=tuple(json.loads(row["errors"] or "[]")),
            evidence=tuple(json.loads(row["evidence"] or "[]")),
        )

    # ---------------------------------------------------------------- assets, inventory, snapshots

    def import_assets(self, rows: Sequence[dict[str, Any]], imported_at: datetime) -> AssetImportOutcome:
        """Store matched asset rows in one transaction: all of them, or (on any error) none.

        Each row is keyed by (device_id, source_format): a newer import of the
        same format replaces that device's row of that format, other formats'
        rows stay. A device that vanished since matching (merged into another)
        is skipped and reported, never stored under a dead id.
        """
        at = format_timestamp(imported_at)
        with self.db.atomic():
            ids = sorted({int(row["device_id"]) for row in rows})
            alive: dict[int, str] = {}
            for chunk in _chunks(ids):
                alive.update((r["id"], r["site"]) for r in self.db.query(
                    f"SELECT id, site FROM merged_devices WHERE id IN ({_marks(chunk)})", chunk))
            keep = [dict(row, device_id=int(row["device_id"]), imported_at=at) for row in rows
                    if alive.get(int(row["device_id"])) == row["site"]]
            stale = tuple(sorted({(row["site"], str(row["device_id"])) for row in rows
                                  if alive.get(int(row["device_id"])) != row["site"]}))
            self.db.conn.executemany(
                """
                INSERT INTO assets (device_id, source_format, site, serial, asset_tag, purchase_date, warranty_end,
                                    aue_date, model, os_version, last_sync, school, matched_via, file, line,
                                    imported_at)
                VALUES (:device_id, :source_format, :site, :serial, :asset_tag, :purchase_date, :warranty_end,
                        :aue_date, :model, :os_version, :last_sync, :school, :matched_via, :file, :line,
                        :imported_at)
                ON CONFLICT (device_id, source_format) DO UPDATE SET
                    site = excluded.site, serial = excluded.serial, asset_tag = excluded.asset_tag,
                    purchase_date = excluded.purchase_date, warranty_end = excluded.warranty_end,
                    aue_date = excluded.aue_date, model = excluded.model, os_version = excluded.os_version,
                    last_sync = excluded.last_sync, school = excluded.school, matched_via = excluded.matched_via,
                    file = excluded.file, line = excluded.line, imported_at = excluded.imported_at
                """,
                keep,
            )
        return AssetImportOutcome(len(keep), stale)

    def asset_candidates(self) -> list[tuple[str, str, list[str], str | None]]:
        """(site, device_id, MACs, serial) of every merged device: what an import is matched against."""
        macs: dict[int, list[str]] = {}
        sites: dict[int, str] = {}
        serials: dict[int, str] = {}
        for row in self.db.conn.execute("SELECT device_id, site, mac FROM devices WHERE device_id IS NOT NULL"):
            macs.setdefault(row[0], []).append(row[2])
            sites[row[0]] = row[1]
        for device_id, serial in self.db.conn.execute(
                "SELECT d.device_id, n.serial FROM network_devices AS n JOIN devices AS d"
                " ON d.site = n.site AND d.mac = n.mac WHERE n.serial != ''"):
            serials.setdefault(device_id, serial)
        # A serial already imported and matched (a register row) lets a later file match by serial alone.
        for device_id, serial in self.db.conn.execute("SELECT device_id, serial FROM assets WHERE serial != ''"):
            serials.setdefault(device_id, serial)
        return [(sites[i], str(i), macs[i], serials.get(i)) for i in sorted(macs)]

    def network_last_seen(self) -> dict[tuple[str, str], datetime]:
        """(site, device_id) -> when the network last saw any MAC of the device, for every device whose
        management console has reported a sync (the only ones "off the network" concerns)."""
        return {(site, str(device_id)): parse_timestamp(seen) for site, device_id, seen in self.db.conn.execute(
            "SELECT site, device_id, max(last_seen) FROM devices INDEXED BY idx_devices_device_id WHERE device_id IN"
            " (SELECT device_id FROM assets WHERE last_sync > ''" + self._in_shard("site") + ") GROUP BY device_id")}

    def inventory_page(self, after: int, limit: int) -> tuple[list[InventoryRow], int | None]:
        """Merged devices with id > after, at most `limit`, in id order; and the key of the next page.

        Three range reads per page (devices with their SNMP identity and host
        facts, then imported assets), each over an index, so a million devices
        cost a few dozen pages, not a million lookups.
        """
        bounds = next(self.db.conn.execute(
            "SELECT max(id), count(*) FROM (SELECT id FROM merged_devices WHERE id > ? ORDER BY id LIMIT ?)",
            (after, limit)))
        high, count = bounds
        if not count:
            return [], None
        assets: dict[int, list[tuple]] = {}
        for row in self.db.conn.execute(
                "SELECT device_id, source_format, model, os_version, purchase_date, aue_date, last_sync"
                " FROM assets WHERE device_id > ? AND device_id <= ?", (after, high)):
            assets.setdefault(row[0], []).append(row)
        rows = self.db.conn.execute(
            """
            SELECT m.id, m.site, m.device_class, d.mac, d.first_seen, d.last_seen,
                   n.model, n.firmware, n.device_class, coalesce(n.health_digest, n.health),
                   (SELECT a.host_facts FROM device_keys AS k INDEXED BY idx_device_keys_site_mac
                        JOIN agents AS a ON a.agent_id = k.label
                     WHERE k.site = d.site AND k.mac = d.mac AND k.kind = 'host' AND a.host_facts IS NOT NULL
                     LIMIT 1)
            FROM merged_devices AS m
            JOIN devices AS d INDEXED BY idx_devices_device_id ON d.device_id = m.id AND d.is_primary = 1
            LEFT JOIN network_devices AS n ON n.site = d.site AND n.mac = d.mac
            WHERE m.id > ? AND m.id <= ?
            ORDER BY m.id
            """, (after, high))
        found: list[InventoryRow] = []
        previous = None
        parse = parse_timestamp
        for (device_id, site, merged_class, mac, first_seen, last_seen, nd_model, firmware, nd_class, readings,
             facts) in rows:
            if device_id == previous:     # two primary MACs (never expected): the device once
                continue
            previous = device_id
            device_class = merged_class or nd_class or "unknown"
            infrastructure = nd_model is not None or device_class in _INFRASTRUCTURE
            model, os_version = nd_model or "", ""
            purchase = aue = sync = None
            imported = assets.get(device_id)
            if imported:
                model, os_version, purchase, aue, sync = _merge_assets(imported, model, infrastructure)
            if not os_version and facts:
                os_version = _host_os_version(facts)
            found.append(InventoryRow(site, str(device_id), mac, device_class, infrastructure, model,
                                      firmware or "", os_version, parse(first_seen), parse(last_seen), purchase,
                                      aue, sync, readings, facts))
        return found, (high if count == limit else None)

    def inventory_tuples(self) -> list[tuple]:
        """Every merged device as one plain tuple, in device id order (a ShardReader's: by site, then device
        id): the fast read of the whole inventory.

        The fields are InventoryRow's, in its order, with the same values, except
        that first_seen and last_seen are the stored fixed-shape UTC text
        (model.format_timestamp: comparing the text orders by time) rather than
        datetimes. One scan of the devices (with their merged device), and one
        read each of the SNMP identities, the endpoints' host facts and the
        imported assets, joined in memory: no per-device query.
        """
        return self._inventory_tuples()

    def split_inventory(self, cutoffs: Callable[[str, str], tuple[str, str, str]], presence_kinds: Sequence[str],
                        lost: tuple[str, str] | None = None, *, templated: bool = False) -> InventorySplit:
        """(inventory tuples of the devices that are not quiet, uniformity counts of the quiet ones, every
        site with devices, lost candidates, templated devices), see quiet.py.

        `cutoffs(site, stored class)` -> (seen_from, first_from, aue_until). A
        device is quiet when it has no SNMP identity, no host facts and no open
        flag of `presence_kinds`; was last seen at or after seen_from; began
        its service (purchase date, else first sighting) on or after
        first_from; and has no AUE date on or before aue_until. A device with
        imported assets must also be a student device (not infrastructure,
        whose model may have a firmware standard). A quiet device is only
        counted, by the key its tuple would have for uniformity (site, class,
        model, firmware, OS version, infrastructure); the rest are read as
        inventory_tuples reads every device.

        With `lost` (synced_since, seen_before, as console_rows takes them), the
        lost candidates are the devices with a console sync at or after
        synced_since whose primary MAC was last seen at or before seen_before
        (or whose assets sit at this share's sites but not the device): only
        they can be lost, since the network's last sighting of a device is at
        least its primary MAC's. Without, None.

        With `templated`, a device that would be quiet but for its start of
        service or its AUE date is templated: counted like a quiet one, and
        handed on as a TemplatedDevice (not as an inventory tuple). Its only
        flags are the refurbish reasons of its class, lifecycle, start of
        service and AUE date (age, AUE), which it shares with every other
        device that has the same: district.flag_conditions judges them once.
        Most of a district's flagged devices are these. Without, none are.
        """
        # By number, as the devices are read (a device's flags carry its number as text; agents' keys are not).
        held = {int(device_id) for (device_id,) in self.db.conn.execute(
            f"SELECT device_id FROM flags WHERE cleared_at IS NULL AND kind IN ({_marks(presence_kinds)})"
            + self._in_shard("site"), tuple(presence_kinds)) if _is_device_number(device_id)}
        counts: Counter = Counter()
        sites: set[str] = set()
        candidates: set[int] | None = None if lost is None else set()
        lane: list[TemplatedDevice] | None = [] if templated else None
        rows = self._inventory_tuples(cutoffs, held, counts, sites, lost, candidates, lane)
        return InventorySplit(rows, counts, sites, candidates, lane or [])

    def _inventory_tuples(self, cutoffs: Callable[[str, str], tuple[str, str, str]] | None = None,
                          held: Collection[int] = (), quiet: Counter | None = None, sites: set[str] | None = None,
                          lost: tuple[str, str] | None = None, candidates: set[int] | None = None,
                          templated: list[TemplatedDevice] | None = None) -> list[tuple]:
        """inventory_tuples; with `cutoffs`, the quiet devices (split_inventory) only counted in `quiet`, and
        the sites with devices added to `sites`; with `lost`, split_inventory's lost candidates added to
        `candidates`; with `templated`, the templated devices counted in `quiet` and added to it."""
        conn = self.db.conn
        network: dict[str, dict[str, tuple]] = {}       # mac -> site -> (model, firmware, class)
        for site, mac, model, firmware, cls, readings in conn.execute(
                "SELECT site, mac, model, firmware, device_class, coalesce(health_digest, health) FROM network_devices"
                " WHERE 1"
                + self._in_shard("site")):
            network.setdefault(mac, {})[site] = (model, firmware, cls, readings)
        facts: dict[tuple[str, str], str] = {}
        for site, mac, host_facts in conn.execute(
                "SELECT k.site, k.mac, a.host_facts FROM device_keys AS k JOIN agents AS a ON a.agent_id = k.label"
                " WHERE k.kind = 'host' AND a.host_facts IS NOT NULL" + self._in_shard("k.site")
                + " ORDER BY k.site, k.mac, k.key"):
            facts.setdefault((site, mac), host_facts)
        assets: dict[int, list[tuple]] = {}      # device number -> its rows
        recent: set[int] = set()        # devices with a console sync at or after synced_since
        # Without `lost`, a bound above every stored timestamp: no device is recent.
        synced_since, seen_before = lost if lost is not None else ("\uffff", "")
        # A share of some sites reads them through the site index, in its order: sorting the share's rows by
        # device would cost a temporary B-tree. A device's rows are then put in source order below.
        by_site = self.sharded
        for row in conn.execute("SELECT device_id, source_format, model, os_version, purchase_date, aue_date,"
                                " last_sync FROM assets WHERE 1" + self._in_shard("site")
                                + (" ORDER BY site, device_id, source_format" if by_site
                                   else " ORDER BY device_id, source_format")):
            assets.setdefault(row[0], []).append(row)
            if row[6] >= synced_since:
                recent.add(row[0])
        if by_site:
            for rows in assets.values():
                if len(rows) > 1:
                    rows.sort(key=_SOURCE_FORMAT)
        found: list[tuple] = []
        append = found.append
        previous = None
        infrastructure_classes = _INFRASTRUCTURE
        get_network, get_facts, get_assets = network.get, facts.get, assets.get
        # (site, stored class) -> [seen_from, first_from, aue_until, quiet devices without assets counted so far]
        bounds_of: dict[tuple[str, str], list] = {}
        get_bounds = bounds_of.get
        # Read and looked up by number; handed on as text (InventoryRow.device_id), for the devices kept only.
        # A share reads its sites' devices through the site index, by site and then number, as that index holds
        # them: in number order alone they would first go through a temporary B-tree.
        if by_site:
            devices = ("SELECT m.id, m.site, m.device_class, d.mac, d.first_seen, d.last_seen"
                       " FROM merged_devices AS m INDEXED BY idx_merged_devices_site"
                       " JOIN devices AS d INDEXED BY idx_devices_device_id ON d.device_id = m.id"
                       " WHERE d.is_primary = 1" + self._in_shard("m.site"))
        else:
            devices = ("SELECT m.id, m.site, m.device_class, d.mac, d.first_seen, d.last_seen"
                       " FROM devices AS d INDEXED BY idx_devices_device_id JOIN merged_devices AS m"
                       " ON m.id = d.device_id WHERE d.is_primary = 1 AND d.device_id IS NOT NULL ORDER BY d.device_id")
        for number, site, merged_class, mac, first_seen, last_seen in conn.execute(devices):
            if number == previous:     # two primary MACs (never expected): the device once
                continue
            previous = number
            if recent and number in recent:
                recent.discard(number)
                if last_seen <= seen_before:
                    candidates.add(number)  # type: ignore[union-attr]
            identity = get_network(mac)
            if identity is not None:
                identity = identity.get(site)
            imported = get_assets(number)
            merged = None
            if identity is None:
                device_class = merged_class or "unknown"
                if cutoffs is not None:
                    key = (site, merged_class)
                    bounds = get_bounds(key)
                    if bounds is None:
                        bounds = bounds_of[key] = [*cutoffs(site, merged_class), 0]
                    if (last_seen >= bounds[0] and number not in held
                            and (not facts or get_facts((site, mac)) is None)):
                        # Quiet, or templated: counted alike, and a templated one handed on as well.
                        if imported is None:
                            young = first_seen >= bounds[1]
                            if young or templated is not None:
                                bounds[3] += 1
                                if not young:       # too old to be quiet: an age flag at most
                                    templated.append((site, str(number), device_class,  # type: ignore[union-attr]
                                                      device_class in infrastructure_classes, None, first_seen[:10],
                                                      None))
                                continue
                        elif device_class not in infrastructure_classes:
                            merged = model, os_version, purchased, aue_text, _ = _asset_texts(imported, "", False)
                            young = (purchased or first_seen) >= bounds[1] and (not aue_text or aue_text > bounds[2])
                            if young or templated is not None:
                                quiet[(site, device_class, model, "", os_version, False)] += 1
                                if not young:       # an age or AUE flag, and nothing else
                                    templated.append((site, str(number), device_class, False,  # type: ignore[union-attr]
                                                      purchased or None, None if purchased else first_seen[:10],
                                                      aue_text or None))
                                continue
                nd_model = firmware = readings = None
            else:
                nd_model, firmware, nd_class, readings = identity
                device_class = merged_class or nd_class or "unknown"
            infrastructure = nd_model is not None or device_class in infrastructure_classes
            if imported is None and not facts:      # the common device: nothing more to merge
                append((site, str(number), mac, device_class, infrastructure, nd_model or "", firmware or "", "",
                        first_seen, last_seen, None, None, None, readings, None))
                continue
            model, os_version = nd_model or "", ""
            purchase = aue = sync = None
            if merged is not None:       # merged above, with the same model ("") and infrastructure (False)
                model, os_version, purchase, aue, sync = _asset_values(merged)
            elif imported:
                model, os_version, purchase, aue, sync = _merge_assets(imported, model, infrastructure)
            host = get_facts((site, mac)) if facts else None
            if not os_version and host:
                os_version = _host_os_version(host)
            append((site, str(number), mac, device_class, infrastructure, model, firmware or "", os_version,
                    first_seen, last_seen, purchase, aue, sync, readings, host))
        for (site, merged_class), (_, _, _, count) in bounds_of.items():
            if count:
                device_class = merged_class or "unknown"
                quiet[(site, device_class, "", "", "", device_class in infrastructure_classes)] += count  # type: ignore[index]
        if sites is not None:
            sites.update(site for site, _ in bounds_of)
            sites.update(row[0] for row in found)
        if candidates is not None:
            candidates.update(recent)       # synced, but the device is not one of this share's: SQL judges them
        return found

    def bulk_load(self, merged: Sequence[tuple], devices: Sequence[tuple], network: Sequence[tuple],
                  scans: Sequence[tuple] = ()) -> None:
        """Benchmark and migration tooling: insert prepared rows as they are, in one transaction, unchecked.

        merged:  (id, site, device_class)
        devices: (site, mac, ip, vendor, first_seen, last_seen, device_id, device_class)   timestamps as text
        network: (site, mac, address, vendor, model, serial, firmware, device_class, observed_at, health)
        scans:   (agent_id, site, started_at, finished_at, network_poll)
        Not for agents' data (that is ingest_batch, which merges and classifies).
        """
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO merged_devices (id, site, macs, stable_macs, device_class) VALUES (?, ?, 1, 1, ?)",
                merged)
            self.db.conn.executemany(
                "INSERT INTO devices (site, mac, ip, ip_key, vendor, locally_administered, hostname, first_seen,"
                " last_seen, sources, device_id, is_primary, device_class) VALUES (?, ?, ?, ?, ?, 0, '', ?, ?,"
                " '[\"bulk\"]', ?, 1, ?)",
                ((site, mac, ip, ip_sort_key(ip), vendor, first, last, device_id, cls)
                 for site, mac, ip, vendor, first, last, device_id, cls in devices))
            self.db.conn.executemany(
                "INSERT INTO network_devices (site, mac, address, vendor, model, serial, firmware, hardware_revision,"
                " device_class, sys_name, sys_descr, sys_object_id, location, port_count, ports, errors, evidence,"
                " observed_at, health, health_digest) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, '', '', '', '', 0, '[]', '[]',"
                " '[]', ?, ?, ?)", ((*row[:-1], *health.stored_forms(row[-1])) for row in network))
            self.db.conn.executemany(
                "INSERT INTO scans (agent_id, site, started_at, finished_at, network_poll) VALUES (?, ?, ?, ?, ?)",
                scans)

    def recent_polls(self, limit: int = MISSED_POLLS_COUNTED) -> dict[str, list[str]]:
        """site -> start times (stored text, oldest first) of its newest `limit` network polls (scans table)."""
        found: dict[str, list[str]] = {}
        for (site,) in self.db.conn.execute("SELECT DISTINCT site FROM scans WHERE 1" + self._in_shard("site")):
            starts = [started for (started,) in self.db.conn.execute(
                "SELECT started_at FROM scans INDEXED BY idx_scans_site_poll_started"
                " WHERE site = ? AND network_poll = 1 ORDER BY started_at DESC LIMIT ?", (site, limit))]
            if starts:
                found[site] = starts[::-1]
        return found

    def prune_scans(self, cutoff: str) -> int:
        return self.db.execute("DELETE FROM scans WHERE finished_at < ?", [cutoff]).rowcount

    def agents_last_heard(self) -> dict[str, datetime]:
        """site -> when any of its agents was last heard (for agent-silent flags)."""
        return {site: parse_timestamp(seen) for site, seen in self.db.conn.execute(
            "SELECT site, max(last_seen) FROM agents WHERE 1" + self._in_shard("site") + " GROUP BY site")}

    def save_snapshots(self, snapshots: Sequence[UniformitySnapshot]) -> list[int]:
        with self.db.atomic():
            return [self.db.conn.execute(_INSERT_SNAPSHOT, row).lastrowid for row in snapshot_rows(snapshots)]

    def list_snapshots(self, scope: str | None, school_id: str | None, limit: int) -> list[UniformitySnapshot]:
        """Newest first."""
        clause, params = _where(("scope = ?", scope), ("school_id = ?", school_id))
        return [
            UniformitySnapshot(taken_at=parse_timestamp(r["taken_at"]), scope=r["scope"], school_id=r["school_id"],
                               score=r["score"], parts=json.loads(r["parts"]), rules=json.loads(r["rules"]),
                               strengths=json.loads(r["strengths"]), needs=json.loads(r["needs"]), id=r["id"])
            for r in self.db.query(f"SELECT * FROM uniformity_snapshots {clause} ORDER BY taken_at DESC, id DESC"
                                   " LIMIT ?", [*params, limit])
        ]

    # ---------------------------------------------------------------- flags

    def flags_for_evaluation(self, cleared_since: str) -> StoredFlags:
        """The open flags, the flags cleared at or after `cleared_since`, and which open ones held at the latest
        evaluation (stored last_present_at NULL: see migration 0007). Oldest raise first."""
        conn = self.db.conn
        latest = next(conn.execute("SELECT evaluated_at FROM flag_evaluations ORDER BY id DESC LIMIT 1"), (None,))[0]
        times: dict[str, datetime] = {}     # a run raises its flags at one time: parse each distinct text once

        def when(text: str) -> datetime:
            moment = times.get(text)
            if moment is None:
                moment = times[text] = parse_timestamp(text)
            return moment

        def flag(site: str, device_id: str, kind: str, reason: str, evidence: str, raised: str,
                 cleared: str | None, present: str | None) -> tuple[str, Flag]:
            return site, Flag(kind, device_id, reason, _tuple_from_json(evidence), when(raised),
                              when(cleared) if cleared else None, when(present) if present else None)

        held_rows: dict[tuple[str, str], tuple[str, str, str, str]] = {}
        others: list[tuple[str, Flag]] = []
        repeated: set[tuple[str, str]] = set()
        held_repeated: set[tuple[str, str, datetime]] = set()     # the held rows of keys open twice
        # A key open twice (never expected) takes the full lifecycle, which repairs it. Read in the index's own
        # order, which costs nothing: the held rows need no order, and the rest are sorted below (sorting every
        # open flag by its raise would cost a temporary B-tree of them all).
        for site, device_id, kind, reason, evidence, raised, present in conn.execute(
                "SELECT site, device_id, kind, reason, evidence, raised_at, last_present_at FROM flags"
                f" WHERE cleared_at IS NULL{self._in_shard('site')} ORDER BY cleared_at, site, id"):
            key = (kind, device_id)
            if present is None and key not in held_rows and key not in repeated:
                held_rows[key] = (site, reason, evidence, raised)
                continue
            if key in held_rows:
                first_site, first_reason, first_evidence, first_raised = held_rows.pop(key)
                held_repeated.add((kind, device_id, when(first_raised)))
                others.append(flag(first_site, device_id, kind, first_reason, first_evidence, first_raised, None,
                                   latest or first_raised))
            if present is None:
                held_repeated.add((kind, device_id, when(raised)))
            repeated.add(key)
            others.append(flag(site, device_id, kind, reason, evidence, raised, None, present or latest or raised))
        others.sort(key=lambda item: item[1].raised_at)      # oldest raise first, as the docstring says
        cleared_rows = [flag(*row) for row in conn.execute(
            "SELECT site, device_id, kind, reason, evidence, raised_at, cleared_at, last_present_at FROM flags"
            f" WHERE cleared_at >= ?{self._in_shard('site')} ORDER BY raised_at, id", (cleared_since,))]
        return StoredFlags(others, held_rows, cleared_rows, _HeldFlags(held_rows, held_repeated),
                           when(latest) if latest else None)

    def apply_flags(self, raised: Sequence[tuple[str, Flag]], still_open: Sequence[tuple[str, Flag]],
                    cleared: Sequence[tuple[str, Flag]], evaluated_at: str | None) -> None:
        """One evaluation's flag changes in one transaction: see flag_rows and write_flag_rows."""
        self.write_flag_rows(flag_rows(raised, still_open, cleared, evaluated_at), evaluated_at)

    def write_flag_rows(self, rows: FlagRows, evaluated_at: str | None) -> None:
        """Insert the raised, refresh the open given, close the cleared, in one transaction; with
        `evaluated_at`, record the evaluation (flag_evaluations)."""
        self.write_flag_parts((rows,), evaluated_at)

    def write_flag_parts(self, parts: Iterable[FlagRows], evaluated_at: str | None,
                         snapshots: Future | None = None) -> None:
        """write_flag_rows for rows that come in parts, of disjoint sites, in one transaction. Iterating
        `parts` may wait for the next part: the first is written while the rest are still worked out. With
        `snapshots` (a future of snapshot_rows), those rows too, in the same transaction, once it has them. If
        either raises (or the future is cancelled), nothing is written."""
        with self.db.atomic():
            conn = self.db.conn
            for rows in parts:
                _insert_flags(conn, rows.inserts)
                conn.executemany(
                    "UPDATE flags SET reason = ?, evidence = ?, last_present_at = ? WHERE site = ? AND device_id = ?"
                    " AND kind = ? AND raised_at = ? AND cleared_at IS NULL", rows.updates)
                conn.executemany(
                    "UPDATE flags SET cleared_at = ?, last_present_at = ? WHERE site = ? AND device_id = ?"
                    " AND kind = ? AND raised_at = ? AND cleared_at IS NULL", rows.clears)
            if evaluated_at is not None:
                conn.execute("INSERT INTO flag_evaluations (evaluated_at, open_flags) VALUES (?,"
                             " (SELECT count(*) FROM flags WHERE cleared_at IS NULL))", (evaluated_at,))
            if snapshots is not None:
                conn.executemany(_INSERT_SNAPSHOT, snapshots.result())

    def site_loads(self) -> dict[str, int]:
        """Every site with merged devices -> how many (an evaluation shares the sites out by them)."""
        return dict(self.db.conn.execute("SELECT site, count(*) FROM merged_devices GROUP BY site"))

    def devices_at_most(self) -> int:
        """At least the number of merged devices, at once (ids are never reused: the highest id)."""
        return next(self.db.conn.execute("SELECT coalesce(max(id), 0) FROM merged_devices"))[0]

    def list_flags(self, include_cleared: bool, site: str | None, kind: str | None, limit: int,
                   ) -> list[tuple[str, str, Flag]]:
        """(site, the device's primary MAC or '' for an agent's flag, Flag), newest raise first; flags raised
        together by site, then device (by number; agents' keys after), then kind."""
        clause, params = _where(("f.site = ?", site), ("f.kind = ?", kind),
                                *(() if include_cleared else (("f.cleared_at IS NULL", ()),)))
        # The MAC is looked up per flag shown (LIMIT first): a district's flags may number in the hundred thousands.
        rows = self.db.conn.execute(
            f"""
            SELECT f.site, f.device_id, f.kind, f.reason, f.evidence, f.raised_at, f.cleared_at,
                   coalesce(f.last_present_at,
                            (SELECT evaluated_at FROM flag_evaluations ORDER BY id DESC LIMIT 1), f.raised_at),
                   (SELECT d.mac FROM devices AS d INDEXED BY idx_devices_device_id
                     WHERE f.device_id GLOB '[0-9]*' AND d.device_id = CAST(f.device_id AS INTEGER)
                     ORDER BY d.is_primary DESC, d.last_seen DESC LIMIT 1)
            FROM (SELECT * FROM flags AS f {clause} ORDER BY {_LISTED_ORDER} LIMIT ?) AS f
            ORDER BY {_LISTED_ORDER}
            """, [*params, limit])
        return [(site, mac or "", Flag(kind, device_id, reason, _tuple_from_json(evidence), parse_timestamp(raised),
                                       parse_timestamp(cleared) if cleared else None, parse_timestamp(present)))
                for site, device_id, kind, reason, evidence, raised, cleared, present, mac in rows]

    def count_open_flags(self) -> dict[tuple[str, str], int]:
        """(site, kind) -> open flags."""
        return {(site, kind): count for site, kind, count in self.db.conn.execute(
            "SELECT site, kind, count(*) FROM flags WHERE cleared_at IS NULL GROUP BY site, kind")}

    def stored_assets(self) -> list[tuple]:
        """Imported asset rows with an AUE date or a console sync (what assets.management_findings judges):
        (site, device_id, source_format, model, aue_date, last_sync, file, line)."""
        return [tuple(row) for row in self.db.conn.execute(
            "SELECT site, CAST(device_id AS TEXT), source_format, model, aue_date, last_sync, file, line FROM assets"
            " WHERE (aue_date > '' OR last_sync > '')" + self._in_shard("site")     # '' and NULL: none
            + " ORDER BY device_id, source_format")]

    def console_rows(self, aue_until: str, synced_since: str, seen_before: str,
                     candidates: Collection[int] | None = None) -> tuple[list[tuple], dict[tuple[str, str], datetime]]:
        """stored_assets and network_last_seen narrowed to the devices that can have a management finding:
        an AUE date on or before `aue_until` (a date), or a console sync at or after `synced_since` while the
        network last saw the device at or before `seen_before` (timestamps). The rest of a district's console
        rows cannot, and reading them is most of the cost. The devices the network lost are found once, among
        `candidates` when given (split_inventory's lost candidates: every device that can be lost)."""
        conn = self.db.conn
        seen = {}
        lost = []
        among = ""
        if candidates is not None:
            conn.execute("DROP TABLE IF EXISTS temp.lost_candidates")
            conn.execute("CREATE TEMP TABLE lost_candidates (device_id INTEGER PRIMARY KEY)")
            conn.executemany("INSERT INTO temp.lost_candidates (device_id) VALUES (?)", ((n,) for n in candidates))
            among = " AND a.device_id IN (SELECT device_id FROM temp.lost_candidates)"
        for device_id, site, last_seen in conn.execute(
                "SELECT a.device_id, d.site, max(d.last_seen) FROM assets AS a"
                " JOIN devices AS d INDEXED BY idx_devices_device_id ON d.device_id = a.device_id"
                " WHERE a.last_sync > '' AND a.last_sync >= ?" + self._in_shard("a.site") + among
                + " GROUP BY a.device_id HAVING max(d.last_seen) <= ?", (synced_since, seen_before)):
            seen[(site, str(device_id))] = parse_timestamp(last_seen)
            lost.append((device_id,))
        conn.execute("DROP TABLE IF EXISTS temp.lost_devices")
        conn.execute("CREATE TEMP TABLE lost_devices (device_id INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO temp.lost_devices (device_id) VALUES (?)", lost)
        rows = conn.execute(      # plain tuples: the connection has no row factory
            "SELECT site, CAST(device_id AS TEXT), source_format, model, aue_date, last_sync, file, line FROM assets"
            " WHERE (aue_date > '' OR last_sync > '')" + self._in_shard("site")
            + " AND device_id IN (SELECT device_id FROM assets WHERE aue_date > '' AND aue_date <= ?"
            + self._in_shard("site") + " UNION SELECT device_id FROM temp.lost_devices)"
            " ORDER BY device_id, source_format", (aue_until,)).fetchall()
        return rows, (seen if rows else {})

    def count_observations(self) -> int:
        return self.db["observations"].count

    def applied_migrations(self) -> list[str]:
        return applied_migrations(self.db)

    def journal_mode(self) -> str:
        return self.db.journal_mode

    def autocheckpoint(self, pages: int) -> int:
        """Set the WAL size (pages) at which a commit also checkpoints (0: never); returns the setting before."""
        before = next(self.db.conn.execute("PRAGMA wal_autocheckpoint"))[0]
        self.db.conn.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
        return before

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the database file, as far as no reader needs it (PASSIVE)."""
        self.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


class _BundledReader:
    """A read connection through apsw's own SQLite, shaped as ShardReader uses sqlite_utils.Database: `conn`
    (whose execute, executemany, fetchone and fetchall are sqlite3's) and close()."""

    def __init__(self, path: Path):
        # Not SQLITE_OPEN_CREATE: a reader of a file that is not there is an error, not a new empty store.
        # NOMUTEX: the connection is only ever used from the thread that opened it.
        self.conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_NOMUTEX)

    def close(self) -> None:
        self.conn.close()


# What a read through either copy of SQLite raises: StoreError to the caller (ShardReader).
_READ_ERRORS = (sqlite3.Error, apsw.Error)


class ShardReader(_Database):
    """A read connection of its own that sees only some sites: one share of a district evaluation.

    The evaluation reads through these in parallel (a thread and worker
    processes, district.evaluate); every read it makes keeps to the reader's
    sites, and it writes nothing here (the Store writes the results).

    `bundled`: through apsw's SQLite rather than Python's sqlite3, for a
    worker process, which opens the file no other way. Most of a share's
    reading is turning rows into Python objects, which apsw does in about
    half the instructions: a row of a share's device read (six columns) takes
    about 7,700 through apsw, 13,200 through sqlite3 and the system's library
    (which also takes a mutex at every call). Within one process a file is
    only ever open through one of the two (_SQLiteCopies): a Store in this
    process makes a bundled reader of its file a StoreError.

    Its reads are one read transaction: whatever commits meanwhile, a share
    sees the store as it was when it first read it. Errors from either copy
    of SQLite reach the caller as StoreError, naming the file.
    """

    def __init__(self, path: Path, sites: Sequence[str] | None, *, excluding: bool = False, bundled: bool = False):
        """`sites` None: every site (no filter, which costs a lookup per row read); with `excluding`, every site
        but those, as they are when the reader opens (_sites_but). Not super().__init__: that would migrate,
        which is the Store's job, not a reader's."""
        self.path = path
        self.migrated_now = []
        self.sharded = sites is not None
        try:
            self.db, self._closed = _SQLITE_COPIES.open(
                path, "bundled" if bundled else "system",
                (lambda: _BundledReader(path)) if bundled else (lambda: sqlite_utils.Database(path)))
        except _READ_ERRORS as exc:
            raise StoreError(f"cannot read the database {path}: {exc}") from exc
        try:
            conn = self.db.conn
            conn.execute("PRAGMA busy_timeout = 5000")
            # One read transaction for every read (neither copy would begin one before a read).
            conn.execute("BEGIN")
            if sites is not None and excluding:
                sites = self._sites_but(sites)
            if sites is not None:
                conn.execute("CREATE TEMP TABLE shard_sites (site TEXT PRIMARY KEY)")
                conn.executemany("INSERT INTO temp.shard_sites (site) VALUES (?)", [(site,) for site in sites])
        except BaseException as exc:
            self.close()
            if isinstance(exc, _READ_ERRORS):
                raise StoreError(f"database {path}: {exc}") from exc
            raise

    def _sites_but(self, excluded: Iterable[str]) -> list[str]:
        """Every site that a share reads rows of (_SHARD_TABLES), but `excluded`.

        Named, not read as "site NOT IN (...)": a share of named sites reads
        through the site indexes, where NOT IN would scan every table whole
        (a third more work for the share that takes the rest of a district).
        Each table's sites are listed by stepping through its site index from
        one site to the next: a lookup per site, not a read of every row.
        """
        found: set[str] = set()
        for table in _SHARD_TABLES:
            site, after = "", ">="          # '' is a site too (an agent that names none); NULL never matched IN
            while (row := self.db.conn.execute(f"SELECT site FROM {table} WHERE site {after} ? ORDER BY site LIMIT 1",
                                               (site,)).fetchone()) is not None:
                site, after = row[0], ">"
                found.add(site)
        return sorted(found.difference(excluded))

    def __enter__(self) -> ShardReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: Any) -> None:
        self.close()
        if isinstance(exc, _READ_ERRORS):
            raise StoreError(f"database {self.path}: {exc}") from exc


def _device_from_row(row: dict[str, Any], merged: dict[str, Any] | None = None) -> Device:
    """One (site, MAC) row; with its merged_devices row, the whole device when it has that one MAC."""
    source = merged if merged is not None else row
    return Device(
        site=row["site"], mac=row["mac"], ip=row["ip"], vendor=row["vendor"],
        locally_administered=bool(row["locally_administered"]), hostname=row["hostname"],
        first_seen=parse_timestamp(row["first_seen"]), last_seen=parse_timestamp(row["last_seen"]),
        sources=_tuple_from_json(row["sources"]), device_class=source["device_class"],
        class_evidence=_tuple_from_json(source["class_evidence"]),
        classified_at=parse_timestamp(source["classified_at"]) if source["classified_at"] else None,
        device_id=str(row["device_id"]) if row["device_id"] is not None else "",
        link_evidence=_tuple_from_json(merged["link_evidence"]) if merged is not None else (),
    )


# What a MAC row stands for without a merged_devices row (never expected: both are written in one transaction).
_UNMERGED = {"macs": 1, "device_class": "", "class_evidence": "[]", "classified_at": "", "link_evidence": "[]"}


def _with_merged(view: Device, merged: dict[str, Any]) -> Device:
    """A device view with what its merged_devices row holds: the class of the whole device and why it is one."""
    return dataclasses.replace(
        view, linked_macs=view.linked_macs[:MAX_LINKED_MACS], device_class=merged["device_class"],
        class_evidence=_tuple_from_json(merged["class_evidence"]),
        classified_at=parse_timestamp(merged["classified_at"]) if merged["classified_at"] else None,
        link_evidence=_tuple_from_json(merged["link_evidence"]),
    )


def _where(*conditions: tuple[str, Any]) -> tuple[str, list[Any]]:
    """A WHERE clause of the conditions whose value is not None, and their parameters. A value of () is a
    condition without a parameter, always kept."""
    kept = [(sql, value) for sql, value in conditions if value is not None]
    clause = f"WHERE {' AND '.join(sql for sql, _ in kept)}" if kept else ""
    return clause, [value for _, value in kept if value != ()]


def _merge_assets(imported: list[tuple], model: str, infrastructure: bool
                  ) -> tuple[str, str, date | None, date | None, datetime | None]:
    """One device's imported rows -> (model, OS version, purchase date, AUE date, last sync): _asset_texts read."""
    return _asset_values(_asset_texts(imported, model, infrastructure))


def _asset_values(texts: tuple[str, str, str, str, str]) -> tuple[str, str, date | None, date | None, datetime | None]:
    """_asset_texts' answer with its dates and sync read (None where there is none)."""
    model, os_version, purchased, aue, synced = texts
    return (model, os_version, date.fromisoformat(purchased) if purchased else None,
            date.fromisoformat(aue) if aue else None, parse_timestamp(synced) if synced else None)


def _asset_texts(imported: list[tuple], model: str, infrastructure: bool) -> tuple[str, str, str, str, str]:
    """One device's imported rows -> (model, OS version, purchase date, AUE date, last sync) as stored ('': none).

    For infrastructure the SNMP model stands; otherwise a console's model and OS beat the register's. The
    earliest AUE date and the latest sync are taken as text: stored dates and timestamps have one fixed shape,
    so they sort as they read (an evaluation asks this of every device with assets, most only to find it quiet).
    """
    os_version = purchase = aue = sync = ""
    if len(imported) > 1:     # most devices have one source: nothing to order
        imported = sorted(imported, key=lambda r: _ASSET_PREFERENCE.get(r[1], 2), reverse=True)
    for _, source_format, asset_model, asset_os, purchased, aue_text, synced in imported:
        if asset_model and not infrastructure:
            model = asset_model
        if asset_os:
            os_version = asset_os
        if purchased and (not purchase or source_format == "asset_register"):
            purchase = purchased
        if aue_text and (not aue or aue_text < aue):
            aue = aue_text
        if synced and synced > sync:
            sync = synced
    return model, os_version, purchase, aue, sync


def _is_device_number(text: str) -> bool:
    """Whether a flag's device id is a merged device's number as the store writes it (str of the id)."""
    return text.isascii() and text.isdigit() and (text == "0" or text[0] != "0")


@functools.lru_cache(maxsize=4096)
def _host_os_version(facts: str) -> str:
    """The version number in an endpoint's host facts ("Windows 10.0.22631" -> "10.0.22631")."""
    data = json.loads(facts)
    for key in ("os_version", "os_release", "kernel"):
        found = _OS_VERSION.search(str(data.get(key) or ""))
        if found:
            return found.group(0)
    return ""


_INSERT_FLAG = ("INSERT INTO flags (site, device_id, kind, reason, evidence, raised_at, cleared_at, last_present_at)"
                " VALUES ")
_FLAG_VALUES = "(?, ?, ?, ?, ?, ?, NULL, ?)"
# Flag rows inserted per statement. A first evaluation inserts hundreds of thousands: one statement per row
# costs the step, the reset and the bindings' bookkeeping per row, about 40% of the instructions of inserting a
# row (callgrind). 100 rows take 700 parameters, under SQLite's oldest limit of 999.
FLAGS_PER_INSERT = 100


def _insert_flags(conn: sqlite3.Connection, rows: Sequence[tuple]) -> None:
    """Insert flag_rows' inserts, in their order, FLAGS_PER_INSERT to a statement."""
    whole = len(rows) - len(rows) % FLAGS_PER_INSERT
    if whole:
        conn.executemany(_INSERT_FLAG + ", ".join([_FLAG_VALUES] * FLAGS_PER_INSERT),
                         (tuple(chain.from_iterable(rows[start:start + FLAGS_PER_INSERT]))
                          for start in range(0, whole, FLAGS_PER_INSERT)))
    conn.executemany(_INSERT_FLAG + _FLAG_VALUES, rows[whole:])


_INSERT_SNAPSHOT = ("INSERT INTO uniformity_snapshots (taken_at, scope, school_id, score, parts, rules, strengths,"
                    " needs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def _check_scopes(snapshots: Iterable[UniformitySnapshot]) -> None:
    for snapshot in snapshots:
        if snapshot.scope not in ("district", "school"):
            raise StoreError(f"snapshot scope must be 'district' or 'school', not {snapshot.scope!r}")


def snapshot_rows(snapshots: Sequence[UniformitySnapshot]) -> list[tuple]:
    """Snapshots as the uniformity_snapshots rows that store them (JSON encoded: shaped on any thread)."""
    _check_scopes(snapshots)
    return [(format_timestamp(s.taken_at), s.scope, s.school_id, s.score, _json(s.parts), _json(s.rules),
             _json(s.strengths), _json(s.needs)) for s in snapshots]


def _chunks(items: Sequence[T], size: int = CHUNK) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _marks(items: Sequence[Any]) -> str:
    return ", ".join("?" * len(items))


def _log_checkpoint_failure(done: asyncio.Future) -> None:
    # Nothing is lost when a checkpoint fails (the WAL keeps the pages, the next checkpoint copies them): say so.
    if not done.cancelled() and done.exception() is not None:
        log.warning("WAL checkpoint failed, left to the next one: %s", done.exception())


class Store:
    """Async access to the collector's database; create with `await Store.open(path)`."""

    def __init__(self, path: Path, retention_days: int, executor: ThreadPoolExecutor, database: _Database):
        self.path = path
        self.retention_days = retention_days
        self.migrated_on_open = tuple(database.migrated_now)
        self._executor = executor
        self._database = database
        self._closed = False
        self._checkpointing: asyncio.Future | None = None

    @classmethod
    async def open(cls, path: str | Path, *, retention_days: int = DEFAULT_RETENTION_DAYS) -> Store:
        """Open (creating if needed) the database at `path` and bring its schema up to date."""
        if retention_days < 0:
            raise StoreError(f"retention_days must be 0 (keep forever) or more, not {retention_days}")
        path = Path(path)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="headcount-store")
        try:
            database = await asyncio.get_running_loop().run_in_executor(executor, _Database, path)
        except (sqlite3.Error, OSError) as exc:
            executor.shutdown(wait=False)
            hint = " (does its folder exist, and may this user write there?)" if _is_access_problem(exc) else ""
            raise StoreError(f"cannot open the database {path}: {exc}{hint}") from exc
        except BaseException:
            executor.shutdown(wait=False)
            raise
        if database.migrated_now:
            log.info("database %s: applied migrations %s", path, ", ".join(database.migrated_now))
        return cls(path, retention_days, executor, database)

    async def close(self) -> None:
        """Finish queued work, then close the connection; later calls raise StoreClosedError. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._database.close)
        finally:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def _run(self, method: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreClosedError(f"the database {self.path} is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, method, *args)
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path}: {exc}") from exc

    # ---------------------------------------------------------------- agents

    async def register_agent(self, identity: AgentIdentity, now: datetime) -> int:
        """Record (or refresh) an agent; returns the highest batch sequence already stored for it."""
        return await self._run(self._database.register_agent, identity, now)

    async def ingest_batch(self, agent_id: str, site: str, sequence: int, observations: Sequence[Observation],
                           received_at: datetime) -> IngestOutcome:
        """Store a batch in one transaction, or nothing if its sequence is not above the agent's last one."""
        if not 1 <= sequence <= MAX_SEQUENCE:
            raise StoreError(f"batch sequence {sequence} is outside 1..{MAX_SEQUENCE}")
        return await self._run(self._database.ingest_batch, agent_id, site, sequence, tuple(observations),
                               received_at)

    async def record_heartbeat(self, agent_id: str, at: datetime) -> bool:
        """False when the agent is unknown."""
        return await self._run(self._database.record_heartbeat, agent_id, at)

    async def get_agent(self, agent_id: str) -> AgentStatus | None:
        return await self._run(self._database.agent, agent_id)

    # ---------------------------------------------------------------- retention

    async def prune(self, now: datetime) -> int:
        """Delete history received before now - retention_days; returns rows deleted. No-op when retention is 0.

        Age is measured by the collector's clock (received_at), not the agent's
        observed_at: a school PC with a wrong clock must not get its fresh
        history deleted, nor keep stale history forever.
        """
        if not self.retention_days:
            return 0
        cutoff = format_timestamp(now - timedelta(days=self.retention_days))
        deleted = 0
        while True:
            count = await self._run(self._database.prune_slice, cutoff, PRUNE_SLICE_ROWS)
            deleted += count
            if count < PRUNE_SLICE_ROWS:
                break
        scans = await self._run(self._database.prune_scans, cutoff)
        if deleted or scans:
            log.info("retention: deleted %d observations received and %d scan records finished before %s",
                     deleted, scans, cutoff)
        return deleted

    # ---------------------------------------------------------------- queries

    async def list_sites(self) -> list[SiteSummary]:
        return await self._run(self._database.list_sites)

    async def list_devices(self, site: str | None = None, *, page_size: int = DEVICE_PAGE_SIZE) -> AsyncIterator[Device]:
        """Every device (of one site, or all), by site, numeric IP, then MAC; read a page at a time.

        Each page is its own read, so a listing that takes a while sees batches
        stored meanwhile; a device whose IP changes mid-listing may be listed
        at its old and its new place, or at neither.
        """
        after = None
        while True:
            page, after = await self._run(self._database.devices_page, site, after, page_size)
            for device in page:
                yield device
            if after is None:
                return

    async def get_device(self, mac: str, site: str | None = None, *, history_limit: int = HISTORY_LIMIT) -> DeviceDetail:
        """Rows for every site (or one) holding the normalised `mac`, and its newest history; devices empty if none."""
        return await self._run(self._database.device_detail, mac, site, history_limit)

    # ---------------------------------------------------------------- assets, inventory, snapshots

    async def asset_candidates(self) -> list[tuple[str, str, list[str], str | None]]:
        """(site, device_id, MACs, serial) per merged device, for assets.match_assets."""
        return await self._run(self._database.asset_candidates)

    async def import_assets(self, matches: Sequence[Any], imported_at: datetime) -> AssetImportOutcome:
        """Store matched import rows (assets.AssetMatch) in one transaction; on any failure nothing is stored."""
        rows = [_asset_row(match) for match in matches]
        return await self._run(self._database.import_assets, rows, imported_at)

    async def network_last_seen(self) -> dict[tuple[str, str], datetime]:
        return await self._run(self._database.network_last_seen)

    async def inventory_pages(self, *, page_size: int = INVENTORY_PAGE_SIZE) -> AsyncIterator[list[InventoryRow]]:
        """Every merged device, a page (list of InventoryRow) at a time, in device id order."""
        after = 0
        while True:
            page, after = await self._run(self._database.inventory_page, after, page_size)
            if page:
                yield page
            if after is None:
                return

    async def inventory_tuples(self) -> list[tuple]:
        """Every merged device as a plain tuple in InventoryRow's field order (timestamps as stored text),
        in device id order, in one read: see _Database.inventory_tuples and district.read_inventory_tuples."""
        return await self._run(self._database.inventory_tuples)

    async def bulk_load(self, merged: Sequence[tuple], devices: Sequence[tuple], network: Sequence[tuple],
                        scans: Sequence[tuple] = ()) -> None:
        """Benchmark set-up only: see _Database.bulk_load."""
        await self._run(self._database.bulk_load, merged, devices, network, scans)

    async def recent_polls(self, limit: int = MISSED_POLLS_COUNTED) -> dict[str, list[str]]:
        return await self._run(self._database.recent_polls, limit)

    async def agents_last_heard(self) -> dict[str, datetime]:
        return await self._run(self._database.agents_last_heard)

    async def save_snapshots(self, snapshots: Sequence[UniformitySnapshot]) -> list[int]:
        """Store one evaluation's snapshots (district and schools) in one transaction; returns their ids."""
        _check_scopes(snapshots)
        return await self._run(self._database.save_snapshots, tuple(snapshots))

    async def list_snapshots(self, *, scope: str | None = None, school_id: str | None = None,
                             limit: int = 100) -> list[UniformitySnapshot]:
        """Stored snapshots, newest first."""
        return await self._run(self._database.list_snapshots, scope, school_id, limit)

    async def flags_for_evaluation(self, cleared_since: datetime) -> StoredFlags:
        """The open flags and those cleared at or after `cleared_since`, each as (site, Flag): the input of
        flags.advance_flags (open_flags, recently_cleared); see StoredFlags."""
        return await self._run(self._database.flags_for_evaluation, format_timestamp(cleared_since))

    async def apply_flags(self, raised: Sequence[tuple[str, Flag]], still_open: Sequence[tuple[str, Flag]],
                          cleared: Sequence[tuple[str, Flag]], *, evaluated_at: datetime | None = None) -> None:
        """Store one flags.advance_flags result, each flag with its site, in one transaction.

        With `evaluated_at`, the evaluation is recorded and `still_open` need
        hold only the open flags that changed: see _Database.apply_flags."""
        await self._run(self._database.apply_flags, tuple(raised), tuple(still_open), tuple(cleared),
                        format_timestamp(evaluated_at) if evaluated_at is not None else None)

    async def write_flag_parts(self, parts: Iterable[FlagRows], evaluated_at: datetime,
                               snapshots: Future | None = None) -> None:
        """Store flag changes already shaped as rows (flag_rows) that come in parts (of disjoint sites), in one
        transaction, recording the evaluation at `evaluated_at`, and with them the rows of `snapshots` (a
        concurrent future of snapshot_rows) when given; iterating `parts` and waiting for `snapshots` may block
        (on the store's thread): see _Database.write_flag_parts."""
        await self._run(self._database.write_flag_parts, parts, format_timestamp(evaluated_at), snapshots)

    async def site_loads(self) -> dict[str, int]:
        return await self._run(self._database.site_loads)

    async def devices_at_most(self) -> int:
        return await self._run(self._database.devices_at_most)

    async def list_flags(self, *, include_cleared: bool = False, site: str | None = None, kind: str | None = None,
                         limit: int = 100) -> list[tuple[str, str, Flag]]:
        """Stored flags, newest raise first: (site, the device's MAC or '', Flag)."""
        return await self._run(self._database.list_flags, include_cleared, site, kind, limit)

    async def count_open_flags(self) -> dict[tuple[str, str], int]:
        return await self._run(self._database.count_open_flags)

    async def stored_assets(self) -> list[tuple]:
        """Imported asset rows, for assets.management_findings: see _Database.stored_assets."""
        return await self._run(self._database.stored_assets)

    async def console_rows(self, aue_until: str, synced_since: str, seen_before: str
                           ) -> tuple[list[tuple], dict[tuple[str, str], datetime]]:
        """The console rows and last sightings that can give a management finding: see _Database.console_rows."""
        return await self._run(self._database.console_rows, aue_until, synced_since, seen_before)

    async def count_observations(self) -> int:
        return await self._run(self._database.count_observations)

    async def applied_migrations(self) -> list[str]:
        return await self._run(self._database.applied_migrations)

    async def journal_mode(self) -> str:
        return await self._run(self._database.journal_mode)

    @contextlib.asynccontextmanager
    async def checkpoint_afterwards(self) -> AsyncIterator[None]:
        """Commits inside do not checkpoint the WAL; on leaving, a checkpoint is queued on the store's thread
        and not waited for (close waits for it, as for any queued work).

        For a large write whose caller waits (a district evaluation commits a
        first evaluation's hundreds of thousands of flags): at the commit the
        WAL is synced to disk, so the write is durable; SQLite's automatic
        checkpoint would then copy every page into the database file and sync
        that too (about 0.5 s for 366,000 flags on this machine) before the
        commit returned. Readers read those pages from the WAL meanwhile.
        """
        before = await self._run(self._database.autocheckpoint, 0)
        try:
            yield
        finally:
            await self._run(self._database.autocheckpoint, before)
            if not self._closed:
                self._checkpointing = asyncio.get_running_loop().run_in_executor(self._executor,
                                                                                 self._database.checkpoint)
                self._checkpointing.add_done_callback(_log_checkpoint_failure)

    async def checkpointed(self) -> None:
        """Wait for the checkpoint that checkpoint_afterwards queued, if any."""
        if self._checkpointing is not None:
            await asyncio.shield(self._checkpointing)


def _asset_row(match: Any) -> dict[str, Any]:
    record = match.record
    return {"device_id": int(match.device_id), "site": match.site, "source_format": record.source_format,
            "serial": record.serial, "asset_tag": record.asset_tag,
            "purchase_date": record.purchase_date.isoformat() if record.purchase_date else "",
            "warranty_end": record.warranty_end.isoformat() if record.warranty_end else "",
            "aue_date": record.aue_date.isoformat() if record.aue_date else "",
            "model": record.model, "os_version": record.os_version,
            "last_sync": format_timestamp(record.last_sync) if record.last_sync else "",
            "school": record.school, "matched_via": match.via, "file": record.file, "line": record.line}


def _is_access_problem(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, PermissionError) or "unable to open" in text or "readonly" in text

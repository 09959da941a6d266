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
import dataclasses
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from .errors import StoreClosedError, StoreError
from .migrations import applied_migrations, apply_migrations
from .errors import InvalidMacError
from .model import (AgentIdentity, AgentStatus, Device, DeviceDetail, HistoryEntry, IngestOutcome, IngestStatus,
                    NetworkIdentity, Observation, PortState, SiteSummary, SwitchPortLocation, access_port,
                    format_timestamp, ip_sort_key, is_unicast, merge_sighting, normalize_mac, parse_timestamp,
                    ports_with_activity)

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
DEVICE_PAGE_SIZE = 500
HISTORY_LIMIT = 50
# Old history is deleted a slice at a time so that batches keep flowing
# between slices instead of waiting behind one huge DELETE.
PRUNE_SLICE_ROWS = 5000
# SQLite INTEGER is signed 64-bit; a uint64 sequence above this cannot be stored.
MAX_SEQUENCE = 2**63 - 1

T = TypeVar("T")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class _Database:
    """The synchronous side: lives on, and is only ever called from, the store's worker thread."""

    def __init__(self, path: Path):
        self.path = path
        # sqlite3's default check_same_thread=True makes any use from another thread an error, not a race.
        self.db = sqlite_utils.Database(path)
        # Someone reading the file with the sqlite3 shell must not make an ingest fail at once.
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.enable_wal()
        # FULL, not WAL's usual NORMAL: an acknowledged batch is gone from the agent, so
        # a commit must survive a power cut, not only a crash of this process.
        self.db.execute("PRAGMA synchronous = FULL")
        self.migrated_now = apply_migrations(self.db)

    def close(self) -> None:
        self.db.close()

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
                INSERT INTO agents (agent_id, site, version, hostname, scanners, last_sequence, first_seen, last_seen)
                VALUES (:agent_id, :site, :version, :hostname, :scanners, 0, :at, :at)
                ON CONFLICT (agent_id) DO UPDATE SET
                    site = excluded.site, version = excluded.version, hostname = excluded.hostname,
                    scanners = excluded.scanners, last_seen = max(agents.last_seen, excluded.last_seen)
                """,
                {"agent_id": identity.agent_id, "site": identity.site, "version": identity.version,
                 "hostname": identity.hostname, "scanners": _json(list(identity.scanners)), "at": at},
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
            self._merge_devices(site, observations)
            for probe in (o for o in observations if o.kind == "snmp" and o.mac):
                self._store_network_device(site, probe)
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

    def _merge_devices(self, site: str, observations: Sequence[Observation]) -> None:
        # Creating sightings first, so an mDNS answer earlier in the same batch
        # still refreshes the row that this batch's ARP sweep creates.
        sightings = [(o.sighting, o.observed_at, o.scanner or o.kind) for o in observations if o.sighting]
        # Hosts read from a router's or switch's ARP table: a second-hand source, named as such.
        sightings += [(learned, o.observed_at, f"{o.scanner or o.kind}-arp-table")
                      for o in observations for learned in o.learned]
        sighted = sorted(sightings, key=lambda item: not item[0].creates_device)
        devices: dict[str, Device | None] = {}
        changed: set[str] = set()
        for sighting, observed_at, source in sighted:
            mac = sighting.mac
            if mac not in devices:
                devices[mac] = self._device(site, mac)
            merged = merge_sighting(devices[mac], site, sighting, observed_at, source)
            if merged is not None:
                devices[mac] = merged
                changed.add(mac)
        for mac in sorted(changed):
            device = devices[mac]
            self.db.execute(
                """
                INSERT INTO devices (site, mac, ip, ip_key, vendor, locally_administered, hostname,
                                     first_seen, last_seen, sources)
                VALUES (:site, :mac, :ip, :ip_key, :vendor, :locally_administered, :hostname,
                        :first_seen, :last_seen, :sources)
                ON CONFLICT (site, mac) DO UPDATE SET
                    ip = excluded.ip, ip_key = excluded.ip_key, vendor = excluded.vendor,
                    locally_administered = excluded.locally_administered, hostname = excluded.hostname,
                    first_seen = excluded.first_seen, last_seen = excluded.last_seen, sources = excluded.sources
                """,
                {"site": device.site, "mac": device.mac, "ip": device.ip, "ip_key": ip_sort_key(device.ip),
                 "vendor": device.vendor, "locally_administered": int(device.locally_administered),
                 "hostname": device.hostname, "first_seen": format_timestamp(device.first_seen),
                 "last_seen": format_timestamp(device.last_seen), "sources": _json(list(device.sources))},
            )

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

    def _device(self, site: str, mac: str) -> Device | None:
        row = next(self.db.query("SELECT * FROM devices WHERE site = ? AND mac = ?", [site, mac]), None)
        return _device_from_row(row) if row else None

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
            return sites.setdefault(site, {"devices": 0, "locally_administered": 0, "agents": [], "last_seen": ""})

        for row in self.db.query(
            "SELECT site, count(*) AS devices, sum(locally_administered) AS locally_administered,"
            " max(last_seen) AS last_seen FROM devices GROUP BY site"
        ):
            summary = entry(row["site"])
            summary.update(devices=row["devices"], locally_administered=row["locally_administered"] or 0,
                           last_seen=row["last_seen"])
        for row in self.db.query("SELECT site, agent_id, last_seen FROM agents ORDER BY agent_id"):
            summary = entry(row["site"])
            summary["agents"].append(row["agent_id"])
            summary["last_seen"] = max(summary["last_seen"], row["last_seen"])
        return [
            SiteSummary(site=site, devices=s["devices"], locally_administered=s["locally_administered"],
                        agents=tuple(s["agents"]), last_seen=parse_timestamp(s["last_seen"]) if s["last_seen"] else None)
            for site, s in sorted(sites.items())
        ]

    def devices_page(self, site: str | None, after: tuple[str, str, str] | None,
                     limit: int) -> tuple[list[Device], tuple[str, str, str] | None]:
        """One page in (site, numeric IP, MAC) order, and the key to pass as `after` for the next."""
        where, params = [], []
        if site is not None:
            where.append("site = ?")
            params.append(site)
        if after is not None:
            where.append("(site, ip_key, mac) > (?, ?, ?)")
            params.extend(after)
        sql = "SELECT * FROM devices" + (" WHERE " + " AND ".join(where) if where else "")
        rows = list(self.db.query(sql + " ORDER BY site, ip_key, mac LIMIT ?", [*params, limit]))
        next_key = (rows[-1]["site"], rows[-1]["ip_key"], rows[-1]["mac"]) if len(rows) == limit else None
        return [_device_from_row(row) for row in rows], next_key

    def device_detail(self, mac: str, site: str | None, history_limit: int) -> DeviceDetail:
        where, params = "mac = ?", [mac]
        if site is not None:
            where, params = "mac = ? AND site = ?", [mac, site]
        devices = [_device_from_row(row)
                   for row in self.db.query(f"SELECT * FROM devices WHERE {where} ORDER BY site", params)]
        history = [
            HistoryEntry(site=row["site"], agent_id=row["agent_id"], sequence=row["sequence"], kind=row["kind"],
                         mac=row["mac"], observed_at=parse_timestamp(row["observed_at"]),
                         received_at=parse_timestamp(row["received_at"]), data=json.loads(row["data"]))
            for row in self.db.query(
                f"SELECT * FROM observations WHERE {where} ORDER BY observed_at DESC, id DESC LIMIT ?",
                [*params, history_limit],
            )
        ]
        network = []
        switch_ports = []
        for device in devices:
            row = next(iter(self.db.query("SELECT * FROM network_devices WHERE site = ? AND mac = ?",
                                          [device.site, device.mac])), None)
            if row is not None:
                network.append(NetworkIdentity(
                    site=row["site"], mac=row["mac"], address=row["address"] or "",
                    observed_at=parse_timestamp(row["observed_at"]),
                    **{key: row[key] or "" for key in ("vendor", "model", "serial", "firmware", "hardware_revision",
                                                       "device_class", "sys_name", "sys_descr", "sys_object_id",
                                                       "location")},
                    port_count=row["port_count"] or 0,
                    ports=tuple(PortState(**p) for p in json.loads(row["ports"] or "[]")),
                    errors=tuple(json.loads(row["errors"] or "[]")),
                    evidence=tuple(json.loads(row["evidence"] or "[]")),
                ))
            locations = [
                SwitchPortLocation(site=r["site"], end_mac=r["end_mac"], switch_mac=r["switch_mac"],
                                   seen_at=parse_timestamp(r["seen_at"]), switch_name=r["switch_name"] or "",
                                   switch_address=r["switch_address"] or "", port_name=r["port_name"] or "",
                                   if_index=r["if_index"] or 0, vlan=r["vlan"] or 0,
                                   macs_on_port=r["macs_on_port"] or 0)
                for r in self.db.query("SELECT * FROM switch_ports WHERE site = ? AND end_mac = ?",
                                       [device.site, device.mac])
            ]
            chosen = access_port(locations)
            if chosen is not None:
                switch_ports.append(chosen)
        return DeviceDetail(devices=tuple(devices), history=tuple(history), network=tuple(network),
                            switch_ports=tuple(switch_ports))

    def count_observations(self) -> int:
        return self.db["observations"].count

    def applied_migrations(self) -> list[str]:
        return applied_migrations(self.db)

    def journal_mode(self) -> str:
        return self.db.journal_mode


def _device_from_row(row: dict[str, Any]) -> Device:
    return Device(
        site=row["site"], mac=row["mac"], ip=row["ip"], vendor=row["vendor"],
        locally_administered=bool(row["locally_administered"]), hostname=row["hostname"],
        first_seen=parse_timestamp(row["first_seen"]), last_seen=parse_timestamp(row["last_seen"]),
        sources=tuple(json.loads(row["sources"])),
    )


class Store:
    """Async access to the collector's database; create with `await Store.open(path)`."""

    def __init__(self, path: Path, retention_days: int, executor: ThreadPoolExecutor, database: _Database):
        self.path = path
        self.retention_days = retention_days
        self.migrated_on_open = tuple(database.migrated_now)
        self._executor = executor
        self._database = database
        self._closed = False

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
        if deleted:
            log.info("retention: deleted %d observations received before %s", deleted, cutoff)
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

    async def count_observations(self) -> int:
        return await self._run(self._database.count_observations)

    async def applied_migrations(self) -> list[str]:
        return await self._run(self._database.applied_migrations)

    async def journal_mode(self) -> str:
        return await self._run(self._database.journal_mode)


def _is_access_problem(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, PermissionError) or "unable to open" in text or "readonly" in text

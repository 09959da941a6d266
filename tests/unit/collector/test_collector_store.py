"""The collector's Store on a real SQLite file: schema, batches, duplicates, device rows, retention, queries."""

import asyncio
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest

from headcount.collector.errors import StoreClosedError, StoreError
from headcount.collector.model import AgentIdentity, DeviceSighting, IngestStatus, Observation
from headcount.collector.store import Store

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
SCHOOL = "lincoln-elementary"
AGENT = AgentIdentity(agent_id="lincoln-agent", site=SCHOOL, version="0.1.0", hostname="lab-pc",
                      scanners=("arp", "hostfacts"))


def arp(mac: str, ip: str, at: datetime, vendor: str = "Apple, Inc.") -> Observation:
    return Observation(kind="arp", observed_at=at, scanner="arp", mac=mac,
                       data={"mac": mac, "ip": ip, "vendor": vendor},
                       sighting=DeviceSighting(mac=mac, ip=ip, vendor=vendor))


def host_facts(at: datetime, hostname: str = "lab-pc") -> Observation:
    return Observation(kind="host", observed_at=at, scanner="hostfacts",
                       data={"hostname": hostname, "interfaces": [{"name": "eth0", "mac": "3c:22:fb:99:99:99"}]})


def snmp(at: datetime) -> Observation:
    return Observation(kind="snmp", observed_at=at, scanner="snmp",
                       data={"address": "10.0.0.2", "fdb": [{"mac": "3c:22:fb:77:77:77"}]})


def run(coroutine):
    return asyncio.run(coroutine)


async def opened(path, **options) -> Store:
    store = await Store.open(path, **options)
    await store.register_agent(AGENT, T0)
    return store


def rows(path, sql, *params):
    with sqlite3.connect(path) as connection:
        return connection.execute(sql, params).fetchall()


def test_migrations_are_versioned_idempotent_and_the_file_is_in_wal_mode(tmp_path):
    path = tmp_path / "headcount.db"

    async def scenario():
        first = await Store.open(path)
        applied = await first.applied_migrations()
        mode = await first.journal_mode()
        await first.close()
        second = await Store.open(path)
        again = (second.migrated_on_open, await second.applied_migrations())
        await second.close()
        return first.migrated_on_open, applied, mode, again

    migrated, applied, mode, (migrated_again, applied_again) = run(scenario())
    assert migrated == tuple(applied) and applied[0].startswith("0001_")
    assert migrated_again == () and applied_again == applied
    assert mode == "wal"
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]
    tables = {name for (name,) in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"agents", "devices", "observations", "_sqlite_migrations"} <= tables
    indexes = {name for (name,) in rows(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"idx_observations_site_mac", "idx_observations_received_at", "idx_devices_site_mac"} <= indexes


def test_the_connection_lives_on_one_worker_thread(tmp_path):
    async def scenario():
        store = await Store.open(tmp_path / "h.db")
        try:
            # Reaching past the async API from the event loop's thread is refused by sqlite3 itself.
            with pytest.raises(sqlite3.ProgrammingError):
                store._database.db.execute("SELECT 1")
            return await asyncio.get_running_loop().run_in_executor(
                store._executor, lambda: threading.current_thread().name)
        finally:
            await store.close()

    assert run(scenario()).startswith("headcount-store")


def test_a_batch_is_stored_and_its_resend_is_a_duplicate_that_stores_nothing(tmp_path):
    path = tmp_path / "h.db"

    async def scenario():
        store = await opened(path)
        try:
            batch = [arp("3c:22:fb:00:00:01", "10.0.0.1", T0), arp("3c:22:fb:00:00:02", "10.0.0.2", T0),
                     host_facts(T0)]
            stored = await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, batch, T0)
            again = await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, batch, T0 + timedelta(seconds=5))
            # Different content under a stored sequence is still a duplicate: the sequence is the identity.
            different = await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, [arp("3c:22:fb:00:00:03", "10.0.0.3", T0)], T0)
            last = await store.register_agent(AGENT, T0 + timedelta(minutes=1))
            return stored, again, different, last, await store.count_observations()
        finally:
            await store.close()

    stored, again, different, last, observations = run(scenario())
    assert (stored.status, stored.observations_stored, stored.last_sequence) == (IngestStatus.STORED, 3, 1)
    assert (again.status, again.observations_stored) == (IngestStatus.DUPLICATE, 0)
    assert different.status is IngestStatus.DUPLICATE
    assert last == 1   # what Welcome tells a reconnecting agent
    assert observations == 3
    assert rows(path, "SELECT mac FROM devices ORDER BY mac") == [("3c:22:fb:00:00:01",), ("3c:22:fb:00:00:02",)]
    assert rows(path, "SELECT agent_id, sequence, kind FROM observations ORDER BY id") == [
        ("lincoln-agent", 1, "arp"), ("lincoln-agent", 1, "arp"), ("lincoln-agent", 1, "host")]


def test_sequences_may_skip_but_never_go_back(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "h.db")
        try:
            outcomes = []
            for sequence in (1, 5, 3, 6):
                outcome = await store.ingest_batch(AGENT.agent_id, SCHOOL, sequence,
                                                   [arp("3c:22:fb:00:00:01", "10.0.0.1", T0)], T0)
                outcomes.append(outcome.status)
            with pytest.raises(StoreError, match="outside"):
                await store.ingest_batch(AGENT.agent_id, SCHOOL, 0, [], T0)
            return outcomes, (await store.get_agent(AGENT.agent_id)).last_sequence
        finally:
            await store.close()

    outcomes, last = run(scenario())
    assert outcomes == [IngestStatus.STORED, IngestStatus.STORED, IngestStatus.DUPLICATE, IngestStatus.STORED]
    assert last == 6


def test_one_row_per_site_and_mac_with_min_first_seen_and_max_last_seen(tmp_path):
    path = tmp_path / "h.db"
    mac = "3c:22:fb:00:00:01"

    async def scenario():
        store = await opened(path)
        try:
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, [arp(mac, "10.0.0.1", T0 + timedelta(hours=1))], T0)
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 2, [arp(mac, "10.0.0.9", T0 + timedelta(hours=3))], T0)
            # A backlog batch from before both arrives last: it widens first_seen only.
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 3, [arp(mac, "10.0.0.5", T0),
                                                                 arp(mac, "10.0.0.5", T0 + timedelta(hours=2))], T0)
            # The same MAC at another school is another row.
            other = AgentIdentity(agent_id="washington-agent", site="washington-high")
            await store.register_agent(other, T0)
            await store.ingest_batch(other.agent_id, other.site, 1, [arp(mac, "10.1.0.4", T0)], T0)
            return await store.get_device(mac), await store.get_device(mac, "washington-high")
        finally:
            await store.close()

    detail, one_site = run(scenario())
    assert rows(path, "SELECT count(*) FROM devices WHERE site = ? AND mac = ?", SCHOOL, mac) == [(1,)]
    lincoln, washington = detail.devices
    assert (lincoln.site, lincoln.first_seen, lincoln.last_seen, lincoln.ip) == (
        SCHOOL, T0, T0 + timedelta(hours=3), "10.0.0.9")
    assert (washington.site, washington.ip) == ("washington-high", "10.1.0.4")
    assert [d.site for d in one_site.devices] == ["washington-high"]
    # History: newest first, every sighting of the MAC at every site.
    assert [h.observed_at for h in detail.history] == sorted((h.observed_at for h in detail.history), reverse=True)
    assert len(detail.history) == 5 and {h.site for h in detail.history} == {SCHOOL, "washington-high"}
    assert [h.site for h in one_site.history] == ["washington-high"]


def test_host_facts_and_snmp_go_to_history_not_to_devices(tmp_path):
    path = tmp_path / "h.db"

    async def scenario():
        store = await opened(path)
        try:
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, [host_facts(T0 + timedelta(hours=1), "new-name"),
                                                                 snmp(T0)], T0)
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 2, [host_facts(T0, "old-name")], T0)   # late, older
            return await store.get_agent(AGENT.agent_id), await store.list_sites()
        finally:
            await store.close()

    agent, sites = run(scenario())
    assert rows(path, "SELECT count(*) FROM devices") == [(0,)]
    assert rows(path, "SELECT kind FROM observations ORDER BY id") == [("host",), ("snmp",), ("host",)]
    assert agent.host_facts["hostname"] == "new-name"   # the older facts, delivered later, did not win
    assert (sites[0].site, sites[0].devices, sites[0].agents) == (SCHOOL, 0, ("lincoln-agent",))


def test_mdns_refreshes_a_known_device_but_creates_none(tmp_path):
    path = tmp_path / "h.db"
    known, unknown = "3c:22:fb:00:00:01", "3c:22:fb:00:00:02"

    def mdns(mac, at):
        return Observation(kind="mdns", observed_at=at, scanner="mdns", mac=mac, data={"host": "lab-printer.local"},
                           sighting=DeviceSighting(mac=mac, hostname="lab-printer.local", creates_device=False))

    async def scenario():
        store = await opened(path)
        try:
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, [mdns(known, T0 + timedelta(minutes=5)),
                                                                 arp(known, "10.0.0.1", T0), mdns(unknown, T0)], T0)
            return (await store.get_device(known)).devices
        finally:
            await store.close()

    (device,) = run(scenario())
    assert (device.hostname, device.last_seen, device.sources) == ("lab-printer.local", T0 + timedelta(minutes=5),
                                                                   ("arp", "mdns"))
    assert rows(path, "SELECT mac FROM devices") == [(known,)]


def test_heartbeat_is_recorded(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "h.db")
        try:
            known = await store.record_heartbeat(AGENT.agent_id, T0 + timedelta(minutes=3))
            unknown = await store.record_heartbeat("nobody", T0)
            return known, unknown, await store.get_agent(AGENT.agent_id)
        finally:
            await store.close()

    known, unknown, agent = run(scenario())
    assert known and not unknown
    assert agent.last_heartbeat == T0 + timedelta(minutes=3) and agent.last_seen == T0 + timedelta(minutes=3)
    assert agent.scanners == ("arp", "hostfacts") and agent.version == "0.1.0"


def test_retention_deletes_only_history_older_than_the_cutoff(tmp_path, monkeypatch):
    path = tmp_path / "h.db"
    now = T0 + timedelta(days=100)
    monkeypatch.setattr("headcount.collector.store.PRUNE_SLICE_ROWS", 2)   # exercise several slices

    async def scenario():
        store = await opened(path, retention_days=90)
        try:
            cutoff = now - timedelta(days=90)
            received = [cutoff - timedelta(days=30), cutoff - timedelta(days=1), cutoff - timedelta(microseconds=1),
                        cutoff, now - timedelta(days=5)]
            for i, at in enumerate(received, start=1):
                # Age is the collector's receipt time: the last agent's clock is ten years slow,
                # and its fresh observation must survive all the same.
                observed = at - timedelta(days=3650) if i == 5 else at
                await store.ingest_batch(AGENT.agent_id, SCHOOL, i, [arp(f"3c:22:fb:00:00:{i:02x}", f"10.0.0.{i}", observed)], at)
            deleted = await store.prune(now)
            return deleted, await store.prune(now), await store.count_observations()
        finally:
            await store.close()

    deleted, deleted_again, left = run(scenario())
    assert (deleted, deleted_again, left) == (3, 0, 2)
    remaining = [mac for (mac,) in rows(path, "SELECT mac FROM observations ORDER BY mac")]
    assert remaining == ["3c:22:fb:00:00:04", "3c:22:fb:00:00:05"]
    assert rows(path, "SELECT count(*) FROM devices") == [(5,)]   # device rows are not history


def test_retention_zero_keeps_everything(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "h.db", retention_days=0)
        try:
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, [arp("3c:22:fb:00:00:01", "10.0.0.1", T0)], T0)
            return await store.prune(T0 + timedelta(days=10_000)), await store.count_observations()
        finally:
            await store.close()

    assert run(scenario()) == (0, 1)


def test_list_devices_pages_in_site_then_numeric_ip_order(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "h.db")
        try:
            last_octets = [10, 2, 100, 1, 20, 3, 200]
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 1,
                                     [arp(f"3c:22:fb:00:01:{n:02x}", f"10.0.0.{n}", T0) for n in last_octets], T0)
            other = AgentIdentity(agent_id="adams-agent", site="adams-middle")
            await store.ingest_batch(other.agent_id, other.site, 1, [arp("3c:22:fb:00:02:01", "10.9.0.1", T0)], T0)
            everything = [d async for d in store.list_devices(page_size=3)]
            one_site = [d async for d in store.list_devices(SCHOOL, page_size=2)]
            nowhere = [d async for d in store.list_devices("no-such-school")]
            return everything, one_site, nowhere, await store.list_sites()
        finally:
            await store.close()

    everything, one_site, nowhere, sites = run(scenario())
    assert [(d.site, d.ip) for d in everything] == [("adams-middle", "10.9.0.1")] + [
        (SCHOOL, f"10.0.0.{n}") for n in (1, 2, 3, 10, 20, 100, 200)]
    assert [d.ip for d in one_site] == [f"10.0.0.{n}" for n in (1, 2, 3, 10, 20, 100, 200)]
    assert nowhere == []
    assert [(s.site, s.devices, s.agents) for s in sites] == [("adams-middle", 1, ("adams-agent",)),
                                                              (SCHOOL, 7, ("lincoln-agent",))]


def test_site_summary_counts_randomised_macs(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "h.db")
        try:
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, [
                arp("3c:22:fb:00:00:01", "10.0.0.1", T0), arp("da:a1:19:00:00:07", "10.0.0.7", T0, vendor=""),
                arp("02:11:22:33:44:55", "10.0.0.8", T0 + timedelta(hours=1), vendor="")], T0)
            return await store.list_sites()
        finally:
            await store.close()

    (site,) = run(scenario())
    assert (site.devices, site.locally_administered, site.last_seen) == (3, 2, T0 + timedelta(hours=1))


def test_unusable_paths_and_closed_stores_raise_store_errors(tmp_path):
    async def scenario():
        with pytest.raises(StoreError, match="cannot open the database .*missing-folder"):
            await Store.open(tmp_path / "missing-folder" / "h.db")
        (tmp_path / "a-folder.db").mkdir()
        with pytest.raises(StoreError, match="cannot open the database"):
            await Store.open(tmp_path / "a-folder.db")
        with pytest.raises(StoreError, match="retention_days"):
            await Store.open(tmp_path / "h.db", retention_days=-1)
        store = await Store.open(tmp_path / "h.db")
        await store.close()
        await store.close()   # idempotent
        with pytest.raises(StoreClosedError):
            await store.list_sites()

    run(scenario())


def test_the_server_prunes_at_start_and_then_every_interval(tmp_path):
    from headcount.collector.server import prune_periodically

    async def scenario():
        store = await opened(tmp_path / "h.db", retention_days=1)
        try:
            await store.ingest_batch(AGENT.agent_id, SCHOOL, 1, [arp("3c:22:fb:00:00:01", "10.0.0.1", T0),
                                                                 arp("3c:22:fb:00:00:02", "10.0.0.2", T0)], T0)
            clock_reads = []

            def clock():
                clock_reads.append(len(clock_reads))
                # First round: nothing is old yet. Second round: a day and a bit later, everything is.
                return T0 if len(clock_reads) == 1 else T0 + timedelta(days=1, seconds=1)

            task = asyncio.create_task(prune_periodically(store, interval_s=0.05, clock=clock))
            await asyncio.sleep(0.01)
            after_start = await store.count_observations()
            deadline = asyncio.get_running_loop().time() + 5
            while await store.count_observations() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return after_start, await store.count_observations(), len(clock_reads) >= 2
        finally:
            await store.close()

    assert run(scenario()) == (2, 0, True)

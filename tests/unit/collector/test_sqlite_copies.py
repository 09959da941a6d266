"""A store file is open through one copy of SQLite per process: Python's sqlite3 or apsw's.

The evaluation's worker processes read through apsw's SQLite
(ShardReader(bundled=True)), while the collector's own process has the
file open through sqlite3. Two copies of SQLite in one process lose each
other's POSIX locks when either closes the file, so store.py refuses the
second copy while the first has the file open, and allows it again once
every connection of the first is closed. A reader's errors, from either
copy, reach the caller as StoreError naming the file, and a reader sees the
store as it was at its first read, whatever commits meanwhile.
"""

import asyncio
import sqlite3
from datetime import datetime, timezone

import apsw
import pytest

from headcount.collector.errors import StoreError
from headcount.collector.model import format_timestamp
from headcount.collector.store import ShardReader, Store

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)
SITE = "lincoln-elementary"


def _device(number: int) -> tuple:
    mac = (0x0A0000000000 + number).to_bytes(6, "big").hex(":")
    seen = format_timestamp(NOW)
    return SITE, mac, f"198.18.0.{number}", "Vendor", seen, seen, number, "chromebook"


def _build(path, numbers=range(1, 4)) -> None:
    async def build():
        async with await Store.open(path, retention_days=0) as store:
            await store.bulk_load([(n, SITE, "chromebook") for n in numbers], [_device(n) for n in numbers], [])
    asyncio.run(build())


def test_a_file_open_through_sqlite3_is_not_opened_through_apsw_in_the_same_process(tmp_path):
    path = tmp_path / "s.db"
    _build(path)

    async def with_store_open():
        async with await Store.open(path, retention_days=0):
            with pytest.raises(StoreError, match="open in this process through the system SQLite"):
                ShardReader(path, [SITE], bundled=True)
            # Another connection of the same copy is fine, and its closing leaves the Store's counted.
            with ShardReader(path, [SITE]) as reader:
                assert len(reader.inventory_tuples()) == 3
            with pytest.raises(StoreError, match=str(path)):
                ShardReader(path, [SITE], bundled=True)
    asyncio.run(with_store_open())
    # Every sqlite3 connection closed: apsw may open it.
    with ShardReader(path, [SITE], bundled=True) as reader:
        assert len(reader.inventory_tuples()) == 3


def test_a_file_open_through_apsw_is_not_opened_through_sqlite3_in_the_same_process(tmp_path):
    path = tmp_path / "s.db"
    _build(path)
    with ShardReader(path, [SITE], bundled=True) as first, ShardReader(path, None, bundled=True) as second:
        with pytest.raises(StoreError, match="open in this process through the bundled SQLite"):
            ShardReader(path, [SITE])

        async def open_store():
            async with await Store.open(path, retention_days=0):
                pass
        with pytest.raises(StoreError, match="through the bundled SQLite"):
            asyncio.run(open_store())
        first.close()
        first.close()       # closed twice: counted once, so the second reader still counts
        with pytest.raises(StoreError):         # the second reader still has it open
            ShardReader(path, [SITE])
        assert len(second.inventory_tuples()) == 3
    with ShardReader(path, [SITE]) as reader:
        assert len(reader.inventory_tuples()) == 3
    # Another file is another matter: one copy each at the same time.
    other = tmp_path / "other.db"
    _build(other)
    with ShardReader(path, [SITE], bundled=True), ShardReader(other, [SITE]) as reader:
        assert len(reader.inventory_tuples()) == 3


@pytest.mark.parametrize("bundled", [False, True])
def test_a_readers_errors_are_store_errors_that_name_the_file(tmp_path, bundled):
    garbage = tmp_path / "not-a-store.db"
    garbage.write_bytes(b"this is not an SQLite database, " * 200)
    with pytest.raises(StoreError, match="not-a-store.db") as caught:
        with ShardReader(garbage, [SITE], bundled=bundled) as reader:
            reader.inventory_tuples()
    assert isinstance(caught.value.__cause__, (sqlite3.Error, apsw.Error))
    # A failed open leaves nothing counted: the other copy may open the file afterwards.
    with pytest.raises(StoreError):
        ShardReader(garbage, [SITE], bundled=not bundled)
    if bundled:     # apsw's reader never creates a store where there is none
        missing = tmp_path / "missing.db"
        with pytest.raises(StoreError, match="missing.db"):
            ShardReader(missing, [SITE], bundled=True)
        assert not missing.exists()


def test_a_bundled_reader_sees_the_store_as_at_its_first_read(tmp_path):
    path = tmp_path / "s.db"
    _build(path)
    with ShardReader(path, [SITE], bundled=True) as reader:
        assert len(reader.inventory_tuples()) == 3
        # A write committed meanwhile, through the same copy of SQLite (as another process would).
        writer = apsw.Connection(str(path))
        with writer:
            writer.execute("INSERT INTO merged_devices (id, site, macs, stable_macs, device_class)"
                           " VALUES (4, ?, 1, 1, 'chromebook')", (SITE,))
            writer.execute("INSERT INTO devices (site, mac, ip, ip_key, vendor, locally_administered, hostname,"
                           " first_seen, last_seen, sources, device_id, is_primary, device_class) SELECT site,"
                           " '0a:00:00:00:00:04', ip, ip_key, vendor, 0, '', first_seen, last_seen, sources, 4, 1,"
                           " device_class FROM devices WHERE device_id = 1")
        assert len(reader.inventory_tuples()) == 3
        writer.close()
    with ShardReader(path, [SITE], bundled=True) as reader:
        assert len(reader.inventory_tuples()) == 4

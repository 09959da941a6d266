"""An evaluation writes only the flags it changes, and the store reads back the same as if it wrote them all.

Two real database files take the same random run of evaluations: one is
given every open flag after each run, the other only district.changed_flags'
share. After every run, both read back the same flags (Store.flags_for_evaluation,
Store.list_flags), with the last-present times the lifecycle computed.
"""

import asyncio
import random
import sqlite3
from datetime import datetime, timedelta, timezone

from collections import Counter

from headcount.collector.district import advance_stored, changed_flags
from headcount.collector.flags import Condition, FlagPolicy, advance_flags
from headcount.collector.model import format_timestamp
from headcount.collector.store import Store

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
POLICY = FlagPolicy(hold_down=timedelta(minutes=30), cool_down=timedelta(hours=2), min_duration=timedelta(hours=1))
KINDS = ("offline", "age", "missing")


def conditions(rng: random.Random, step: int) -> list[Condition]:
    found = []
    for device in range(12):
        for kind in KINDS:
            if rng.random() < 0.45:
                # The reason changes now and then (a count that grows), most runs it does not.
                found.append(Condition(kind, str(device), f"{kind} {rng.choice((1, 1, 1, 2))}",
                                       (f"seen {rng.choice(('a', 'a', 'b'))}",), T0 + timedelta(minutes=step)))
                if rng.random() < 0.05:
                    # A repeated key (the first one counts): the shortcut must take the same one.
                    found.append(Condition(kind, str(device), f"{kind} {rng.choice((1, 2))}", ("seen a",)))
    return found


async def evaluate(store: Store, now: datetime, holding: list[Condition], unknown: set[str], *,
                   only_changes: bool) -> Counter:
    """One evaluation; returns the open flags by kind after it."""
    stored = await store.flags_for_evaluation(now - POLICY.cool_down)
    if only_changes:
        advanced = advance_stored(stored, holding, now, POLICY, unknown)
        still, raised, cleared = advanced.still_open, advanced.raised, advanced.cleared
        written = changed_flags([flag for _, flag in advanced.before], still, stored.held, now)
        open_by_kind = advanced.unchanged + Counter(flag.kind for flag in (*still, *raised))
    else:
        still, raised, cleared = advance_flags([flag for _, flag in stored.all_open()], holding, now, POLICY,
                                               recently_cleared=[flag for _, flag in stored.recently_cleared],
                                               unknown_devices=unknown)
        written = still
        open_by_kind = Counter(flag.kind for flag in (*still, *raised))
    await store.apply_flags([("s", f) for f in raised], [("s", f) for f in written], [("s", f) for f in cleared],
                            evaluated_at=now)
    return open_by_kind


def duplicate_an_open_flag(rng: random.Random, now: datetime, paths) -> int:
    """Open a second flag for the key of an open one, in every file alike (a store that duplicated a flag:
    never expected, and the lifecycle repairs it). The copy is raised later, held or with an explicit time."""
    with sqlite3.connect(paths[0]) as conn:
        keys = sorted(conn.execute("SELECT site, device_id, kind, reason, evidence, last_present_at IS NULL"
                                   " FROM flags WHERE cleared_at IS NULL"))
    if not keys:
        return 0
    # The hard case first: the older flag not held at the latest evaluation, the copy held.
    explicit = [key for key in keys if not key[5]]
    site, device_id, kind, reason, evidence, _ = rng.choice(explicit or keys)
    present = None if explicit and rng.random() < 0.8 else format_timestamp(now - timedelta(minutes=20))
    for path in paths:
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO flags (site, device_id, kind, reason, evidence, raised_at, cleared_at,"
                         " last_present_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                         (site, device_id, kind, reason + " (copy)", evidence,
                          format_timestamp(now - timedelta(minutes=1)), present))
    return 1


def test_writing_only_the_changed_flags_reads_back_the_same_as_writing_them_all(tmp_path):
    async def scenario():
        rng = random.Random(20261130)
        every, changes = (await Store.open(tmp_path / "every.db", retention_days=0),
                          await Store.open(tmp_path / "changes.db", retention_days=0))
        kept_as_rows = repaired = 0
        try:
            now = T0
            for step in range(60):
                if step % 7 == 3:
                    repaired += duplicate_an_open_flag(rng, now, (tmp_path / "every.db", tmp_path / "changes.db"))
                now += timedelta(minutes=rng.choice((5, 15, 15, 40)))
                holding = conditions(rng, step)
                unknown = {str(d) for d in range(12) if rng.random() < 0.1}
                counted = (await evaluate(every, now, holding, unknown, only_changes=False),
                           await evaluate(changes, now, holding, unknown, only_changes=True))
                assert counted[0] == counted[1], f"step {step}"
                a = await every.flags_for_evaluation(now - timedelta(days=30))
                b = await changes.flags_for_evaluation(now - timedelta(days=30))
                assert a.all_open() == b.all_open() and a.recently_cleared == b.recently_cleared, f"step {step}"
                listed = [await s.list_flags(include_cleared=True, limit=10_000) for s in (every, changes)]
                assert listed[0] == listed[1], f"step {step}"
                kept_as_rows += len(b.held_rows)
            return kept_as_rows, repaired
        finally:
            await every.close()
            await changes.close()

    # The run must have kept flags open across evaluations, and repaired duplicates, to mean anything.
    kept_as_rows, repaired = asyncio.run(scenario())
    assert kept_as_rows > 100 and repaired >= 4


def test_a_flag_that_holds_run_after_run_is_not_rewritten(tmp_path):
    later = T0 + timedelta(minutes=15)

    async def scenario():
        async with await Store.open(tmp_path / "h.db", retention_days=0) as store:
            holding = [Condition("age", "7", "6.1 years old", ("purchased 2020-08-15",))]
            await evaluate(store, T0, holding, set(), only_changes=True)
            stored = await store.flags_for_evaluation(T0)
            assert stored.open == [] and list(stored.held_rows) == [("age", "7")]
            found = {}
            for name, now_holding in (("unchanged", holding),
                                      ("reworded", [Condition("age", "7", "6.2 years old", ("purchased 2020-08-15",))]),
                                      ("absent", [])):
                advanced = advance_stored(stored, now_holding, later, POLICY, set())
                found[name] = (advanced, changed_flags([f for _, f in advanced.before], advanced.still_open,
                                                       stored.held, later))
            return found

    found = asyncio.run(scenario())
    advanced, changed = found["unchanged"]
    # Held and holding word for word: no Flag built, nothing to write, still counted open.
    assert advanced.before == [] and changed == [] and advanced.unchanged == Counter({"age": 1})
    assert advanced.raised == advanced.cleared == []
    advanced, changed = found["reworded"]
    assert [f.reason for f in changed] == ["6.2 years old"] and advanced.unchanged == Counter()
    advanced, changed = found["absent"]
    # Gone but within the hold-down: rewritten once, with the time it last held.
    assert [(f.reason, f.last_present_at) for f in changed] == [("6.1 years old", T0)]


def test_the_first_raised_shown_are_the_first_in_shown_order():
    from headcount.collector.district import FIRST_RAISED_SHOWN, _first_shown, _shown_order
    from headcount.collector.flags import Flag
    rng = random.Random(7)
    for size in (0, 5, FIRST_RAISED_SHOWN, FIRST_RAISED_SHOWN + 1, 300):
        raised = [(f"site-{rng.randrange(6)}", Flag(rng.choice(KINDS), rng.choice((str(rng.randrange(1, 400)),
                                                                                     "agent:x")), "r", (), T0))
                  for _ in range(size)]
        expected = sorted(raised, key=_shown_order)[:FIRST_RAISED_SHOWN]
        assert [_shown_order(item) for item in _first_shown(raised)] == [_shown_order(item) for item in expected]


def test_a_large_write_is_committed_before_its_wal_checkpoint_which_follows_on_the_store_thread(tmp_path):
    """Store.checkpoint_afterwards: inside, a commit larger than SQLite's automatic checkpoint (1,000 pages)
    leaves its pages in the WAL, readable by another connection at once, and the database file as it was;
    on leaving, the checkpoint is queued and copies them in; afterwards commits checkpoint again."""
    from headcount.collector.store import FlagRows

    path = tmp_path / "store.db"
    reason, evidence = "x" * 200, '["' + "e" * 300 + '"]'

    def rows(site: str) -> FlagRows:
        return FlagRows([(site, str(n), "age", reason, evidence, format_timestamp(T0), None) for n in range(20_000)],
                        [], [])

    def flags_seen_elsewhere() -> int:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM flags").fetchone()[0]

    async def run() -> None:
        async with await Store.open(path, retention_days=0) as store:
            empty = path.stat().st_size
            async with store.checkpoint_afterwards():
                await store.write_flag_parts(iter([rows("a")]), T0)
                assert flags_seen_elsewhere() == 20_000         # committed: another connection reads it
                assert path.stat().st_size == empty             # its pages are still only in the WAL
            await store.checkpointed()
            grown = path.stat().st_size
            assert grown > empty + 4_000_000                    # 20,000 rows of 500 bytes copied in
            await store.write_flag_parts(iter([rows("b")]), T0)
            assert path.stat().st_size > grown + 4_000_000      # the automatic checkpoint is back

    asyncio.run(run())


def test_flags_inserted_many_to_a_statement_are_stored_each_once_in_their_order(tmp_path):
    """write_flag_parts inserts FLAGS_PER_INSERT rows to a statement, then the rest one by one: every row of
    every part, as given, in the order given (the ids follow it), whatever the part's size."""
    from headcount.collector.store import FLAGS_PER_INSERT, FlagRows

    sizes = [0, 1, FLAGS_PER_INSERT - 1, FLAGS_PER_INSERT, 2 * FLAGS_PER_INSERT + 7]
    parts = [[(f"site-{k}", str(n), "age", f"reason {k}/{n}", f'["{n}"]', format_timestamp(T0),
               None if n % 3 else format_timestamp(T0 - timedelta(days=1))) for n in range(size)]
             for k, size in enumerate(sizes)]

    async def run() -> None:
        async with await Store.open(tmp_path / "store.db", retention_days=0) as store:
            await store.write_flag_parts(iter([FlagRows(rows, [], []) for rows in parts]), T0)

    asyncio.run(run())
    with sqlite3.connect(tmp_path / "store.db") as conn:
        stored = conn.execute("SELECT site, device_id, kind, reason, evidence, raised_at, last_present_at, cleared_at"
                              " FROM flags ORDER BY id").fetchall()
    assert stored == [(*row, None) for rows in parts for row in rows]


def test_flag_rows_handed_between_processes_arrive_as_they_were():
    """FlagRows travel from a worker process to the writer packed by marshal (FlagRows.__reduce__): every row,
    its order and its NULLs arrive unchanged, through the pickling that ProcessPoolExecutor does."""
    import pickle
    from multiprocessing.reduction import ForkingPickler

    from headcount.collector.store import FlagRows

    shared = "age: purchased 2017-08-01, 9.3 years ago"
    rows = FlagRows(
        [("school-0001", str(n), "age", shared, '["purchased 2017-08-01"]', "2026-11-24T10:30:00.000000Z",
          None if n % 2 else "2026-11-24T10:30:00.000000Z") for n in range(1000)],
        [("reason é", "[]", None, "s", "7", "kind", "2026-11-20T00:00:00.000000Z")],
        [])
    back = pickle.loads(ForkingPickler.dumps(rows))
    assert back == rows and type(back) is FlagRows
    assert back.inserts[3][6] is None and back.clears == []


def test_conditions_raised_now_are_stored_and_shown_as_the_flags_raised_for_them():
    """A first evaluation raises most flags without building them (Advanced.raised_now): flag_rows stores
    them as it stores the flags advance_flags would raise, and the first shown, worked out from the stored
    rows (_first_raised), are those _first_shown picks from the flags."""
    from headcount.collector.district import FIRST_RAISED_SHOWN, _first_raised, _first_shown
    from headcount.collector.flags import Flag
    from headcount.collector.store import flag_rows
    rng = random.Random(11)
    evaluated_at = format_timestamp(T0)
    for size in (0, 3, FIRST_RAISED_SHOWN, FIRST_RAISED_SHOWN + 1, 400):
        keys = {(rng.choice(KINDS), rng.choice((str(rng.randrange(1, 900)), "agent:x"))) for _ in range(size)}
        conditions = [Condition(kind, device, f"reason {device}", (f"evidence {kind}", "é")) for kind, device in keys]
        site_of = {device: f"site-{rng.randrange(7)}" for _, device in keys}
        flags = [(site_of[c.device_id], Flag(c.kind, c.device_id, c.reason, c.evidence, T0, None, T0))
                 for c in conditions]
        as_flags = flag_rows(flags, [], [], evaluated_at)
        as_conditions = flag_rows([], [], [], evaluated_at, conditions, site_of)
        assert as_conditions == as_flags and len(as_flags.inserts) == len(keys)
        assert _first_raised(as_conditions.inserts) == _first_shown(flags)

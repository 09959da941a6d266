"""An evaluation writes only the flags it changes, and the store reads back the same as if it wrote them all.

Two real database files take the same random run of evaluations: one is
given every open flag after each run, the other only district.changed_flags'
share. After every run, both read back the same flags (Store.flags_for_evaluation,
Store.list_flags), with the last-present times the lifecycle computed.
"""

import asyncio
import random
from datetime import datetime, timedelta, timezone

from headcount.collector.district import changed_flags
from headcount.collector.flags import Condition, FlagPolicy, advance_flags
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
    return found


async def evaluate(store: Store, now: datetime, holding: list[Condition], unknown: set[str], *,
                   only_changes: bool) -> None:
    stored = await store.flags_for_evaluation(now - POLICY.cool_down)
    before = [flag for _, flag in stored.open]
    still, raised, cleared = advance_flags(before, holding, now, POLICY,
                                           recently_cleared=[flag for _, flag in stored.recently_cleared],
                                           unknown_devices=unknown)
    written = changed_flags(before, still, stored.held, now) if only_changes else still
    await store.apply_flags([("s", f) for f in raised], [("s", f) for f in written], [("s", f) for f in cleared],
                            evaluated_at=now)


def test_writing_only_the_changed_flags_reads_back_the_same_as_writing_them_all(tmp_path):
    async def scenario():
        rng = random.Random(20261130)
        every, changes = (await Store.open(tmp_path / "every.db", retention_days=0),
                          await Store.open(tmp_path / "changes.db", retention_days=0))
        rewritten = 0
        try:
            now = T0
            for step in range(60):
                now += timedelta(minutes=rng.choice((5, 15, 15, 40)))
                holding = conditions(rng, step)
                unknown = {str(d) for d in range(12) if rng.random() < 0.1}
                await evaluate(every, now, holding, unknown, only_changes=False)
                await evaluate(changes, now, holding, unknown, only_changes=True)
                a = await every.flags_for_evaluation(now - timedelta(days=30))
                b = await changes.flags_for_evaluation(now - timedelta(days=30))
                assert a.open == b.open and a.recently_cleared == b.recently_cleared, f"step {step}"
                listed = [await s.list_flags(include_cleared=True, limit=10_000) for s in (every, changes)]
                assert listed[0] == listed[1], f"step {step}"
                rewritten += len(b.held)
            return rewritten
        finally:
            await every.close()
            await changes.close()

    # The run must have kept flags open across evaluations for the comparison to mean anything.
    assert asyncio.run(scenario()) > 100


def test_a_flag_that_holds_run_after_run_is_not_rewritten(tmp_path):
    async def scenario():
        async with await Store.open(tmp_path / "h.db", retention_days=0) as store:
            holding = [Condition("age", "7", "6.1 years old", ("purchased 2020-08-15",))]
            await evaluate(store, T0, holding, set(), only_changes=True)
            stored = await store.flags_for_evaluation(T0)
            (site, flag), = stored.open
            still, raised, cleared = advance_flags([flag], holding, T0 + timedelta(minutes=15), POLICY)
            unchanged = changed_flags([flag], still, stored.held, T0 + timedelta(minutes=15))
            reworded = [Condition("age", "7", "6.2 years old", ("purchased 2020-08-15",))]
            still2, _, _ = advance_flags([flag], reworded, T0 + timedelta(minutes=15), POLICY)
            absent, _, _ = advance_flags([flag], [], T0 + timedelta(minutes=15), POLICY)
            return (unchanged, raised, cleared, changed_flags([flag], still2, stored.held, T0 + timedelta(minutes=15)),
                    changed_flags([flag], absent, stored.held, T0 + timedelta(minutes=15)))

    unchanged, raised, cleared, reworded, absent = asyncio.run(scenario())
    assert unchanged == [] and raised == [] and cleared == []
    assert [f.reason for f in reworded] == ["6.2 years old"]
    # Gone but within the hold-down: rewritten once, with the time it last held.
    assert [(f.reason, f.last_present_at) for f in absent] == [("6.1 years old", T0)]

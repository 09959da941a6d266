"""`district.evaluate` shares the schools over worker processes: it must give what one process gives.

Three copies of one real store (the benchmark's synthetic district, small:
every flag kind, health histories, scans, asset and console imports) are
evaluated three times each: with evaluate(workers=3) (two worker processes
and a thread); with evaluate(workers=1) (one share, every site, no worker);
and the reference way, without any of the evaluation's shortcuts (every
console row and sighting read, every open flag through flags.advance_flags
and rewritten). Reports, flag runs, snapshots and every stored flag row must
be the same.
"""

import asyncio
import dataclasses
from collections import Counter
from concurrent.futures.process import BrokenProcessPool
import importlib.util
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from headcount.collector.district import (_stored_matches, evaluate, evaluate_district, flag_parts,
                                          firmware_rules, flag_conditions, flag_run_json, report_json, share_parts, share_sites,
                                          student_lifecycles)
from headcount.collector.flags import AgentState, FlagPolicy, advance_flags
from headcount.collector.store import FlagRows, Store

BENCH = Path(__file__).resolve().parents[3] / "bench" / "district_eval.py"


def bench_module():
    spec = importlib.util.spec_from_file_location("district_eval_for_tests", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {
            "flags": sorted(conn.execute("SELECT site, device_id, kind, reason, evidence, raised_at, cleared_at,"
                                         " last_present_at FROM flags"), key=repr),
            "snapshots": sorted(conn.execute("SELECT taken_at, scope, school_id, score, parts, rules, strengths,"
                                             " needs FROM uniformity_snapshots"), key=repr),
            "evaluations": list(conn.execute("SELECT evaluated_at, open_flags FROM flag_evaluations ORDER BY id")),
        }


async def evaluate_the_reference_way(store: Store, standards, now):
    """evaluate without its shortcuts: the report, and the open flags by kind after the run."""
    policy = standards.flag_policy
    report, rows = await evaluate_district(store, standards, now)
    agents = {site: AgentState(site, heard) for site, heard in (await store.agents_last_heard()).items()}
    matches = _stored_matches(await store.stored_assets())
    conditions, unknown, sites = flag_conditions(rows, agents, matches, await store.network_last_seen(),
                                                 standards.calendar, policy, now, polls=await store.recent_polls(),
                                                 firmware=firmware_rules(standards, now.date()),
                                                 lifecycles=student_lifecycles(standards))
    stored_flags = await store.flags_for_evaluation(now - policy.cool_down)
    everything = stored_flags.all_open()
    for site, flag in (*everything, *stored_flags.recently_cleared):
        sites.setdefault(flag.device_id, site)
    still, raised, cleared = advance_flags([flag for _, flag in everything], conditions, now, policy,
                                           recently_cleared=[flag for _, flag in stored_flags.recently_cleared],
                                           unknown_devices=set(unknown))

    def with_site(flags):
        return [(sites.get(flag.device_id, ""), flag) for flag in flags]

    await store.apply_flags(with_site(raised), with_site(still), with_site(cleared), evaluated_at=now)
    return report, dict(Counter(flag.kind for flag in (*still, *raised)))


def test_shared_out_evaluation_equals_one_process(tmp_path):
    bench = bench_module()
    standards = bench.district(7)
    shared, single, reference = tmp_path / "shared.db", tmp_path / "single.db", tmp_path / "reference.db"
    asyncio.run(bench.build(shared, standards, 90))
    shutil.copy(shared, single)
    shutil.copy(shared, reference)

    async def three(now):
        async with await Store.open(shared, retention_days=0) as store:
            report_a, run_a = await evaluate(store, standards, now, workers=3)
        async with await Store.open(single, retention_days=0) as store:
            report_b, run_b = await evaluate(store, standards, now, workers=1)
        async with await Store.open(reference, retention_days=0) as store:
            report_c, open_by_kind = await evaluate_the_reference_way(store, standards, now)
        return ((report_json(report_a), flag_run_json(run_a)), (report_json(report_b), flag_run_json(run_b)),
                (report_json(report_c), open_by_kind))

    runs = []
    for later in (timedelta(0), timedelta(minutes=15), timedelta(days=1, hours=2)):
        a, b, c = asyncio.run(three(bench.NOW + later))
        assert a == b
        assert a[0] == c[0] and a[1]["open_by_kind"] == c[1]
        runs.append(a[1])
    assert stored(shared) == stored(single) == stored(reference)
    # The comparison means something only if the district raised, kept and cleared flags of many kinds.
    assert runs[0]["raised"] > 100 and len(runs[0]["open_by_kind"]) >= 6
    assert runs[1]["raised"] == 0 and runs[1]["open"] == runs[0]["open"]
    assert runs[2]["cleared"] > 0 or runs[2]["raised"] > 0


def test_sites_are_shared_by_their_devices():
    shares = share_sites({"a": 900, "b": 500, "c": 400, "d": 0, "e": 10}, 2)
    assert sorted(site for share in shares for site in share) == ["a", "b", "c", "d", "e"]
    assert shares == [["a"], ["b", "c", "d", "e"]]     # 901 and 914 devices (each site counts one more)
    assert share_sites({"a": 1}, 3) == [[], ["a"], []]     # its middle (of 2) is in the second third
    # Runs of sites in name order, cut where each part ends.
    assert share_sites({"b": 99, "a": 99, "d": 99, "c": 99}, [1, 3]) == [["a"], ["b", "c", "d"]]
    assert share_sites({"b": 99, "a": 99, "d": 99, "c": 99}, [3, 1]) == [["a", "b", "c"], ["d"]]


def test_the_later_shares_are_smaller():
    """evaluate's shares for two processes: each round's two shares smaller than the round before's."""
    assert share_parts(2) == [3.0, 3.0, 2.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    loads = {f"school-{n:03d}": 100 for n in range(270)}
    shares = share_sites(loads, share_parts(2))
    assert sorted(site for share in shares for site in share) == sorted(loads)
    assert [len(share) for share in shares] == [60, 60, 40, 40, 20, 20, 10, 10, 5, 5]


def test_a_school_counted_after_the_shares_were_made_is_still_evaluated(tmp_path, monkeypatch):
    """The sites are counted, then shared out; a school whose first devices arrive in between (here: one the
    count leaves out) falls to this process's share, which takes every site the workers do not."""
    bench = bench_module()
    standards = bench.district(4)
    path = tmp_path / "store.db"
    asyncio.run(bench.build(path, standards, 60))
    late = standards.schools[-1].id

    async def run():
        async with await Store.open(path, retention_days=0) as store:
            counted = await store.site_loads()
            monkeypatch.setattr(store, "site_loads", lambda: asyncio.sleep(0, {site: load for site, load in
                                                                              counted.items() if site != late}))
            return await evaluate(store, standards, bench.NOW, workers=2), sum(counted.values())

    (report, run), devices = asyncio.run(run())
    assert report.devices == devices and report.school(late).devices == 60
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM flags WHERE site = ?", (late,)).fetchone()[0] > 0


class _PolicyThatCannotReachAWorker(FlagPolicy):
    """A policy that this process can use but a worker process cannot unpickle: the shares fail there."""

    def __reduce__(self):
        return int, ("a policy that fails in the worker",)


def test_a_failed_share_writes_nothing_and_the_store_stays_usable(tmp_path):
    """The flags are written share by share in one transaction while the shares are judged; when a share
    fails, it is rolled back: no flag, no evaluation record, no snapshot. (Store.write_flag_parts'
    own test shows a part already written is rolled back too.)"""
    bench = bench_module()
    standards = bench.district(4)
    path = tmp_path / "store.db"
    asyncio.run(bench.build(path, standards, 60))
    policy = standards.flag_policy
    failing = _PolicyThatCannotReachAWorker(*(getattr(policy, field.name) for field in dataclasses.fields(policy)))

    async def run():
        async with await Store.open(path, retention_days=0) as store:
            with pytest.raises((ValueError, BrokenProcessPool)):
                await evaluate(store, standards, bench.NOW, workers=2, policy=failing)
            empty = stored(path)
            # The same evaluation with a policy that travels writes its flags.
            return empty, await evaluate(store, standards, bench.NOW, workers=2)

    empty, (report, run) = asyncio.run(run())
    assert empty["flags"] == empty["evaluations"] == empty["snapshots"] == []
    after = stored(path)
    assert run.raised > 0 and len(after["flags"]) == run.raised and len(after["evaluations"]) == 1


def test_the_snapshots_are_committed_with_the_flags_or_neither_is(tmp_path, monkeypatch):
    """evaluate writes the snapshots in the flags' transaction, once the shares are all in: when the
    district's report then fails, the transaction waiting for the snapshots is rolled back (no flag, no
    evaluation record, no snapshot) rather than left waiting; when it works, all of them are there."""
    import headcount.collector.district as district_module

    bench = bench_module()
    standards = bench.district(4)
    path = tmp_path / "store.db"
    asyncio.run(bench.build(path, standards, 60))
    real_report = district_module.district_report

    def failing_report(*args, **kwargs):
        raise RuntimeError("the report could not be worked out")

    async def run():
        async with await Store.open(path, retention_days=0) as store:
            monkeypatch.setattr(district_module, "district_report", failing_report)
            with pytest.raises(RuntimeError, match="could not be worked out"):
                await asyncio.wait_for(evaluate(store, standards, bench.NOW, workers=2), timeout=120)
            empty = stored(path)
            monkeypatch.setattr(district_module, "district_report", real_report)
            return empty, await evaluate(store, standards, bench.NOW, workers=2)

    empty, (report, run) = asyncio.run(run())
    assert empty["flags"] == empty["evaluations"] == empty["snapshots"] == []
    after = stored(path)
    assert run.raised > 0 and len(after["flags"]) == run.raised and len(after["evaluations"]) == 1
    assert len(after["snapshots"]) == 1 + len(report.schools)


def test_flag_parts_are_one_transaction(tmp_path):
    row = ("lincoln-elementary", "7", "age", "old", '["x"]', "2026-11-24T10:30:00.000000Z", None)

    def parts():
        yield FlagRows([row], [], [])
        raise RuntimeError("the second part never came")

    async def run():
        async with await Store.open(tmp_path / "p.db", retention_days=0) as store:
            with pytest.raises(RuntimeError, match="never came"):
                await store.write_flag_parts(parts(), bench_module().NOW)
            before = await store.count_open_flags()
            await store.write_flag_parts(iter([FlagRows([row], [], []), FlagRows([], [], [])]), bench_module().NOW)
            return before, await store.count_open_flags()

    before, after = asyncio.run(run())
    assert before == {} and after == {("lincoln-elementary", "age"): 1}


def test_many_flag_changes_are_written_as_their_share_is_done_and_a_few_at_the_end():
    def rows(n, kind="inserts"):
        return FlagRows(*[[("s", "7", "age", "r", "[]", "t", None)] * n if k == kind else [] for k in
                          ("inserts", "updates", "clears")])

    order = []

    def done():
        for n in (3, 50, 1, 20, 7):
            order.append(("done", n))
            yield rows(n, "updates" if n == 20 else "inserts")

    for part in flag_parts(done(), at_once=20):
        order.append(("written", len(part.inserts) + len(part.updates) + len(part.clears)))
    assert order == [("done", 3), ("done", 50), ("written", 50), ("done", 1), ("done", 20), ("written", 20),
                     ("done", 7), ("written", 3), ("written", 1), ("written", 7)]

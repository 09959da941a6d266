"""quiet.py's cutoffs against the rules they stand for, and the store's split of the inventory by them.

A cutoff is right when every sighting at or after it gets no flag from the
rule itself (flags.offline_status, flags.refurbish_flags), and exact when the
moment just before it does. Both are checked at random moments and around
every cutoff, for the example district's calendar and zone (weekends,
holidays, a daylight-saving change), with scan records, without them (the
estimate), and for silent agents.
"""

import asyncio
import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from headcount.collector.district import (_COUNT_KEY, SEEN_SINCE_CUTOFF, _stored_matches, flag_conditions,
                                          flag_inventory)
from headcount.collector.flags import (MISSING, OFFLINE, PRESENCE_KINDS, AgentState, DeviceState, Flag,
                                       offline_status, refurbish_flags)
from headcount.collector.model import format_timestamp, parse_timestamp
from headcount.collector.assets import ASSET_REGISTER, GOOGLE_ADMIN_CHROMEOS, AssetMatch, AssetRecord
from headcount.collector.quiet import (EVERY, STATUS_HORIZON, QuietCutoffs, _local_midnights, age_cutoff, aue_cutoff,
                                       status_cutoff)
from headcount.collector.standards import INFRASTRUCTURE_CLASSES, load_standards
from headcount.collector.store import ShardReader, Store

STANDARDS = load_standards(Path(__file__).resolve().parents[3] / "standards")
POLICY = STANDARDS.flag_policy
CALENDAR = STANDARDS.calendar
SCAN = timedelta(minutes=15)
MICROSECOND = timedelta(microseconds=1)
# A Monday after a holiday weekend, in the example calendar's zone; and one across the autumn clock change.
NOWS = [datetime(2026, 11, 30, 14, 5, 17, tzinfo=timezone.utc), datetime(2026, 11, 3, 6, 30, tzinfo=timezone.utc),
        datetime(2026, 12, 21, 23, 59, 59, tzinfo=timezone.utc)]
CLASSES = [("chromebook", False), ("ipad", False), ("display", False), ("unknown", False), ("switch", True),
           ("access_point", True), ("ups", True)]


def polls_before(now: datetime, rng: random.Random) -> list[str]:
    """The newest 96 poll starts of a site, every 15 minutes with a few gaps (the agent was off a while)."""
    found, moment = [], now - timedelta(minutes=rng.randrange(0, 15))
    while len(found) < 96:
        if rng.random() > 0.05:
            found.append(format_timestamp(moment))
        moment -= SCAN * (1 if rng.random() > 0.02 else rng.randrange(10, 200))
    return found[::-1]


def flagged(device_class, infrastructure, agent, polls, now, last_seen: datetime) -> bool:
    text = format_timestamp(last_seen)
    if polls is not None:
        missed = len(polls) - sum(1 for poll in polls if poll <= text)
    else:
        heard = agent.last_heard or now
        missed = int((heard - last_seen) / SCAN) if heard > last_seen else 0
    device = DeviceState(agent.site, "", "", device_class, infrastructure, last_seen, last_seen, missed)
    return offline_status(device, agent, CALENDAR, POLICY, now).state in (OFFLINE, MISSING)


@pytest.mark.parametrize("now", NOWS)
def test_status_cutoff_is_where_the_rule_starts_to_flag(now):
    rng = random.Random(now.toordinal())
    midnights = _local_midnights(now - STATUS_HORIZON - timedelta(days=1), now, POLICY.timezone)
    agents = [AgentState("s", now - timedelta(minutes=3)), AgentState("s", now - timedelta(hours=5)),
              AgentState("s", None), AgentState("s", now - timedelta(minutes=20))]
    checked = 0
    for agent in agents:
        for polls in (polls_before(now, rng), None):
            for device_class, infrastructure in CLASSES:
                cutoff = status_cutoff("s", device_class, infrastructure, agent, polls, midnights, CALENDAR, POLICY,
                                       now, SCAN)
                if cutoff == EVERY:
                    assert agent.last_heard is None or now - agent.last_heard > POLICY.agent_silent_after
                    continue
                edge = parse_timestamp(cutoff)
                # Exact: flagged just before the cutoff, never at or after it.
                assert flagged(device_class, infrastructure, agent, polls, now, edge - MICROSECOND), (cutoff, polls)
                assert not flagged(device_class, infrastructure, agent, polls, now, edge)
                for _ in range(150):
                    moment = edge + timedelta(seconds=rng.uniform(0, 60 * 86400)) if rng.random() < 0.5 else \
                        edge - timedelta(seconds=rng.uniform(0, 10 * 86400))
                    if moment >= edge:
                        assert not flagged(device_class, infrastructure, agent, polls, now, moment)
                    else:
                        assert flagged(device_class, infrastructure, agent, polls, now, moment), (cutoff, moment)
                    checked += 1
    assert checked > 3000


@pytest.mark.parametrize("now", NOWS)
@pytest.mark.parametrize("device_class, infrastructure, lifecycle",
                         [("chromebook", False, 4.0), ("ipad", False, 5.5), ("chromebook", False, None),
                          ("switch", True, None), ("ups", True, None), ("unknown", False, None), ("iot", False, 0.25)])
def test_age_cutoff_is_where_the_age_flag_starts(now, device_class, infrastructure, lifecycle):
    cutoff = age_cutoff(device_class, infrastructure, lifecycle, POLICY, now)

    def aged(first_seen: datetime) -> bool:
        device = DeviceState("s", "1", "m", device_class, infrastructure, first_seen, first_seen,
                             lifecycle_years=lifecycle)
        return bool(refurbish_flags(device, POLICY, now))

    start = datetime.fromisoformat(cutoff).replace(tzinfo=timezone.utc)
    if POLICY.for_class(device_class).lifecycle_years is None and lifecycle is None:
        # No lifecycle: the oldest day looked at, and nothing in service is ever flagged.
        assert start.year < 1950 and not aged(start - MICROSECOND) and not aged(now - timedelta(days=9000))
        return
    assert aged(start - MICROSECOND)
    for offset in range(-3 * 86400, 3 * 86400, 3571):
        moment = start + timedelta(seconds=offset)
        assert aged(moment) == (moment < start), (cutoff, moment)
        assert (format_timestamp(moment) >= cutoff) == (moment >= start)


def test_a_silent_agent_leaves_its_devices_quiet_on_presence_and_counts_age_per_band():
    now = NOWS[0]
    cutoffs = QuietCutoffs({"a": AgentState("a", now - timedelta(days=2))}, {}, {("a", "chromebook"): 3.0},
                           frozenset(INFRASTRUCTURE_CLASSES), CALENDAR, POLICY, now, SCAN)
    assert cutoffs("a", "chromebook")[0] == EVERY and cutoffs("b", "switch")[0] == EVERY
    # The grade band's 3 years, not the class's own lifecycle.
    assert cutoffs("a", "chromebook")[1] == age_cutoff("chromebook", False, 3.0, POLICY, now)
    assert cutoffs("a", "")[1] == age_cutoff("unknown", False, None, POLICY, now)
    assert cutoffs("a", "chromebook")[2] == aue_cutoff("chromebook", POLICY, now)


@pytest.mark.parametrize("now", NOWS)
@pytest.mark.parametrize("device_class", ["chromebook", "ipad", "unknown"])
def test_aue_cutoff_is_the_newest_date_the_rule_flags(now, device_class):
    cutoff = date.fromisoformat(aue_cutoff(device_class, POLICY, now))
    for offset in range(-5, 6):
        aue = cutoff + timedelta(days=offset)
        device = DeviceState("s", "1", "m", device_class, False, now, now, aue_date=aue)
        assert bool(refurbish_flags(device, POLICY, now)) == (aue <= cutoff), (cutoff, aue)


async def _build_split_store(path: Path, now: datetime, rng: random.Random) -> None:
    """A real store of 600 devices at three sites (s2 without an agent): sightings young and old, some with
    an SNMP identity, one with an open missing flag, asset register and console rows."""
    async with await Store.open(path) as store:
        merged, devices, network, scans = [], [], [], []
        for n in range(1, 601):
            site = f"s{n % 3}"
            cls = rng.choice(["chromebook", "ipad", "", "switch", "display"])
            mac = (0x0A0000000000 + n).to_bytes(6, "big").hex(":")
            first = format_timestamp(now - timedelta(days=rng.randrange(1, 3000)))
            last = format_timestamp(now - timedelta(minutes=rng.choice([1, 20, 300, 6000, 40000])))
            if n == 4:      # young and just seen: quiet but for its open flag below
                cls, first, last = "chromebook", format_timestamp(now - timedelta(days=9)), format_timestamp(now)
            merged.append((n, site, cls))
            devices.append((site, mac, f"192.0.2.{n % 250 + 1}", "Vendor", first, last, n, cls))
            if n % 17 == 0:
                network.append((site, mac, "192.0.2.1", "Vendor", "Model X", f"SN{n}", "1.0", cls or "switch",
                                last, None))
        scans = [(f"{site}-agent", site, format_timestamp(now - SCAN * k), format_timestamp(now - SCAN * k), 1)
                 for site in ("s0", "s1") for k in range(100)]
        await store.bulk_load(merged, devices, network, scans)
        # An open presence flag keeps its device out of the quiet, whatever its sightings say.
        await store.apply_flags([("s1", Flag("missing", "4", "gone", ("x",), now, None, now))], [], [])
        # Asset register rows (purchase dates, young and old) and console rows (AUE dates near and far).
        matches = []
        for n in range(1, 601, 2):
            site = f"s{n % 3}"
            if n % 3:
                record = AssetRecord(ASSET_REGISTER, n, serial=f"SN{n}", model=rng.choice(["Model A", "Model B"]),
                                     os_version=rng.choice(["", "120.1"]),
                                     purchase_date=(now - timedelta(days=rng.randrange(10, 3000))).date())
            else:
                record = AssetRecord(GOOGLE_ADMIN_CHROMEOS, n, serial=f"SN{n}", model="Chromebook 3",
                                     aue_date=(now + timedelta(days=rng.randrange(-300, 900))).date(),
                                     last_sync=now - timedelta(hours=rng.choice([2, 500])))
            matches.append(AssetMatch(record, site, str(n), "serial"))
        await store.import_assets(matches, now)


def test_split_inventory_reads_all_but_the_quiet_and_counts_them_as_their_tuples_would(tmp_path):
    """Against the full read of a real store: every device not quiet is read as it is, every quiet one is
    counted under its tuple's uniformity key, and none is both; devices with anything more than sightings are
    never quiet."""
    now = NOWS[0]
    rng = random.Random(7)
    path = tmp_path / "store.db"

    asyncio.run(_build_split_store(path, now, rng))
    with ShardReader(path, None) as reader:
        every = reader.inventory_tuples()
        agents = {"s0": AgentState("s0", now), "s1": AgentState("s1", now - timedelta(hours=3))}
        polls = reader.recent_polls()
        cutoffs = QuietCutoffs(agents, polls, {}, frozenset(INFRASTRUCTURE_CLASSES), CALENDAR, POLICY, now, SCAN)
        rows, counts, sites, lost, templated = reader.split_inventory(cutoffs, sorted(PRESENCE_KINDS))
    assert lost is None and templated == []      # not asked for
    read = {row[1] for row in rows}
    assert [row for row in every if row[1] in read] == rows
    quiet = [row for row in every if row[1] not in read]
    assert Counter(map(_COUNT_KEY, quiet)) == counts
    assert 100 < len(quiet) < len(every) - 100           # both kinds are there to compare
    assert "4" in read and not any(int(row[1]) % 17 == 0 for row in quiet)
    assert sites == {row[0] for row in every}
    with_assets = [row for row in quiet if row[10] or row[11]]
    assert with_assets and any(row[10] or row[11] for row in rows)      # quiet ones and judged ones
    for row in quiet:
        seen_from, first_from, aue_until = cutoffs(row[0], "" if row[3] == "unknown" else row[3])
        start = row[10].isoformat() if row[10] else row[8]
        assert row[9] >= seen_from and start >= first_from and (row[11] is None or row[11].isoformat() > aue_until)
        assert not row[13] and not row[14] and (not row[4] or row[5] == "")    # no model standard to judge
    # And what quiet means: the rules themselves give none of them a state or a reason to flag.
    judged = list(flag_inventory(quiet, agents, CALENDAR, POLICY, now, SCAN, polls=polls))
    assert len(judged) == len(quiet)
    assert all(status.state not in (OFFLINE, MISSING) and not found for _, status, found in judged)
    assert sum(1 for _, _, found in flag_inventory(rows, agents, CALENDAR, POLICY, now, SCAN, polls=polls) if found) > 50
    # The devices that are read: past seen_from (their class and infrastructure as judged), neither offline nor
    # missing, and the same refurbish reasons either way.
    full = list(flag_inventory(every, agents, CALENDAR, POLICY, now, SCAN, polls=polls))
    short = list(flag_inventory(every, agents, CALENDAR, POLICY, now, SCAN, polls=polls, seen_from=cutoffs.seen_from))
    skipped = 0
    for (device, status, found), (same, shortcut, same_found) in zip(full, short):
        assert device == same and found == same_found
        if shortcut is SEEN_SINCE_CUTOFF:
            skipped += 1
            assert status.state not in (OFFLINE, MISSING)
        else:
            assert shortcut == status
    assert skipped > 100 and any(status.state in (OFFLINE, MISSING) for _, status, _ in short)

def test_templated_devices_are_split_off_and_judged_as_their_tuples_would_be(tmp_path):
    """split_inventory(templated=True) hands on as templated some of the devices it would read, each as its
    tuple has it, and counts them as their tuples would be counted; flag_conditions gives them the conditions
    that their tuples get (age and AUE reasons, console AUE findings taking over, silent agents' sites), with
    lifecycles that differ by school and class."""
    now = NOWS[0]
    path = tmp_path / "store.db"
    asyncio.run(_build_split_store(path, now, random.Random(7)))
    lifecycles = {("s0", "chromebook"): 3.0, ("s1", "chromebook"): 6.0, ("s0", "ipad"): 2.0, ("s2", "ipad"): 7.5}
    agents = {"s0": AgentState("s0", now), "s1": AgentState("s1", now - timedelta(hours=3))}     # s2: none
    kinds = sorted(PRESENCE_KINDS)
    with ShardReader(path, None) as reader:
        every = reader.inventory_tuples()
        polls = reader.recent_polls()
        cutoffs = QuietCutoffs(agents, polls, lifecycles, frozenset(INFRASTRUCTURE_CLASSES), CALENDAR, POLICY, now,
                               SCAN)
        plain = reader.split_inventory(cutoffs, kinds)
        lane = reader.split_inventory(cutoffs, kinds, templated=True)
        matches = _stored_matches(reader.stored_assets())
        network_seen = reader.network_last_seen()
    templated = {device[1] for device in lane.templated}
    assert len(templated) == len(lane.templated) > 50
    # What was read before is now read or templated, never both, in the same order.
    assert templated <= {row[1] for row in plain.rows}
    assert [row for row in plain.rows if row[1] not in templated] == lane.rows and len(lane.rows) > 50
    by_id = {row[1]: row for row in every}
    assert lane.quiet == plain.quiet + Counter(_COUNT_KEY(by_id[device]) for device in templated)
    assert lane.sites == plain.sites and lane.lost_candidates == plain.lost_candidates
    for site, device_id, device_class, infrastructure, started, first_day, aue in lane.templated:
        row = by_id[device_id]
        assert (site, device_class, infrastructure) == (row[0], row[3], row[4])
        assert (started, first_day, aue) == (row[10].isoformat() if row[10] else None,
                                              None if row[10] else row[8][:10],
                                              row[11].isoformat() if row[11] else None)
        # No health readings, no host facts, no firmware, no model to hold to a standard.
        assert not row[13] and not row[14] and not row[6] and (not row[4] or not row[5])

    def conditions(rows, templated_devices):
        found, unknown, sites = flag_conditions(rows, agents, matches, network_seen, CALENDAR, POLICY, now, SCAN,
                                                polls=polls, lifecycles=lifecycles, device_sites=plain.sites,
                                                seen_from=cutoffs.seen_from, templated=templated_devices)
        return sorted(found, key=repr), sorted(unknown), sites

    with_lane, read_in_full = conditions(lane.rows, lane.templated), conditions(plain.rows, ())
    assert with_lane == read_in_full
    found = Counter(condition.kind for condition in with_lane[0] if condition.device_id in templated)
    assert found["age"] > 20 and found["aue_passed"] + found["aue_near"] > 5
    assert any(by_id[device][0] == "s2" for device in with_lane[1] if device in templated)    # presence unknown


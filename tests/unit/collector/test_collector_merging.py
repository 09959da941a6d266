"""One device, one record: the store merges MAC rows into devices on a real SQLite file.

Observations are built as headcount.v1 messages and go through collector/wire.py,
as they would from an agent.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
import sqlite_utils
from google.protobuf.timestamp_pb2 import Timestamp

from headcount.collector import wire
from headcount.collector.migrations import migrations
from headcount.collector.model import AgentIdentity
from headcount.collector.store import Store
from headcount.v1 import inventory_pb2 as pb

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
SITE = "lincoln-elementary"
AGENT = AgentIdentity(agent_id="lincoln-agent", site=SITE, mode="site")
ENDPOINT = AgentIdentity(agent_id="lab-pc-07", site=SITE, mode="endpoint")
IPAD_MACS = ["da:a1:19:00:00:01", "6e:11:22:33:44:02", "2a:bb:cc:dd:ee:03", "ae:01:02:03:04:04", "fa:99:88:77:66:05"]
DUID = bytes.fromhex("ff6b1c29d400010001") + bytes(range(10))      # RFC 4361: IAID + DUID, same on every MAC
IPAD_FINGERPRINT = [1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46]
STABLE = "3c:22:fb:00:00:aa"
IPAD_CLASS = pb.Classification(device_class="ipad", evidence=["oui none (randomised)",
                                                              "dhcp fingerprint 1,121,3,6,15,... -> ipad (+4)"])


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def arp(mac: str, ip: str, at: datetime, vendor: str = "", classification: pb.Classification | None = None):
    return pb.Observation(observed_at=stamp(at), scanner="arp", classification=classification,
                          arp=pb.ArpSighting(mac=mac, ip=ip, vendor=vendor, interface="eth0"))


def dhcp(mac: str, at: datetime, hostname: str = "", client_id: bytes = b"", ip: str = "",
         classification: pb.Classification | None = None, policy: str = "keep"):
    return pb.Observation(observed_at=stamp(at), scanner="passive", classification=classification,
                          name_policy=policy,
                          dhcp=pb.DhcpSighting(mac=mac, ip=ip, hostname=hostname, vendor_class="", client_id=client_id,
                                               parameter_request_list=IPAD_FINGERPRINT, message_type="REQUEST",
                                               requested_ip=ip, source="client"))


def mdns(mac: str, at: datetime, host: str, policy: str = "keep"):
    return pb.Observation(observed_at=stamp(at), scanner="mdns", name_policy=policy, mdns=pb.MdnsService(
        service_type="_companion-link._tcp.local.", instance_name=host.split(".")[0], host=host, port=49152,
        addresses=["10.0.0.77"], mac=mac))


def host_facts(at: datetime, interfaces, endpoint: bool = True, classification=None):
    return pb.Observation(observed_at=stamp(at), scanner="hostfacts", classification=classification,
                          host=pb.HostFacts(
                              hostname="lab-pc-07", os="Linux", os_release="Debian GNU/Linux 12", kernel="6.1.0",
                              interfaces=[pb.HostInterface(name=name, mac=mac, addresses=addresses, is_up=True)
                                          for name, mac, addresses in interfaces],
                              boot_time=stamp(at - timedelta(hours=2)), endpoint=endpoint, reboot_count=12,
                              reboots_last_30_days=3,
                              disks=[pb.Disk(mountpoint="/", total_bytes=256 * 10**9, used_bytes=120 * 10**9)],
                              battery=pb.Battery(present=True, percent=78, design_capacity=50_000_000,
                                                 full_capacity=41_000_000, cycle_count=312)))


def converted(*messages):
    observations = []
    for message in messages:
        observations.append(wire.observation_from_message(
            pb.Observation.FromString(message.SerializeToString()), received_at=T0))
    return observations


def run(coroutine):
    return asyncio.run(coroutine)


async def deliver(store: Store, batches, agent: AgentIdentity = AGENT, first_sequence: int = 1):
    await store.register_agent(agent, T0)
    for sequence, messages in enumerate(batches, start=first_sequence):
        await store.ingest_batch(agent.agent_id, agent.site, sequence, converted(*messages), T0)


def rotating_ipad_batches(name: str = "Janes-iPad", mdns_host: str = "janes-ipad.local."):
    """An iPad whose private MAC changes daily; its client id and its name stay."""
    batches = []
    for day, mac in enumerate(IPAD_MACS):
        at = T0 + timedelta(days=day)
        batches.append([arp(mac, f"10.0.0.{50 + day}", at, classification=IPAD_CLASS),
                        dhcp(mac, at + timedelta(seconds=1), hostname=name, client_id=DUID, ip=f"10.0.0.{50 + day}"),
                        mdns(mac, at + timedelta(seconds=2), mdns_host)])
    return batches


def partition_of(path) -> list[tuple[str, ...]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT device_id, mac FROM devices WHERE site = ? ORDER BY mac", [SITE]).fetchall()
    groups: dict[int, list[str]] = {}
    for device_id, mac in rows:
        groups.setdefault(device_id, []).append(mac)
    return sorted(tuple(macs) for macs in groups.values())


# ---------------------------------------------------------------- the scenarios of the issue


def test_a_device_whose_mac_changes_five_times_is_counted_once_with_its_macs_linked(tmp_path):
    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[arp(STABLE, "10.0.0.2", T0, vendor="Apple, Inc.")], *rotating_ipad_batches()])
            return (await store.list_sites(), [d async for d in store.list_devices()],
                    await store.get_device(IPAD_MACS[0]), await store.get_device(IPAD_MACS[3]))

    (site,), listing, first, fourth = run(scenario())
    assert (site.devices, site.stable_devices, site.randomised_devices, site.locally_administered) == (2, 1, 1, 5)
    assert site.classes == (("ipad", 1), ("unknown", 1))
    ipad = next(d for d in listing if d.device_class == "ipad")
    assert len(listing) == 2
    assert ipad.mac == IPAD_MACS[-1]                                   # the newest MAC represents the device
    assert ipad.linked_macs == tuple(reversed(IPAD_MACS[:-1]))          # the others, newest first
    assert (ipad.first_seen, ipad.last_seen) == (T0, T0 + timedelta(days=4, seconds=2))

    (device,) = first.devices
    assert device.mac == IPAD_MACS[0] and device.ip == "10.0.0.50" and device.locally_administered
    assert set(device.linked_macs) == set(IPAD_MACS[1:]) and len(device.linked_macs) == 4
    assert device.device_id == ipad.device_id == fourth.devices[0].device_id
    assert device.device_class == "ipad" and device.class_evidence == tuple(IPAD_CLASS.evidence)
    assert device.link_evidence == (
        "dhcp client id " + DUID.hex(":") + " links " + ", ".join(sorted(IPAD_MACS)),
        "dhcp hostname and mdns host janes-ipad link " + ", ".join(sorted(IPAD_MACS)),
    )
    assert device.hostname == "janes-ipad.local"
    # History covers every MAC of the device, newest first.
    assert {h.mac for h in first.history} == set(IPAD_MACS)
    assert {h.kind for h in first.history} == {"arp", "dhcp", "mdns"} and len(first.history) == 15
    assert first.history[0].observed_at == T0 + timedelta(days=4, seconds=2)


def test_lookalike_ipads_with_a_generic_name_and_one_fingerprint_stay_two(tmp_path):
    a, b = "da:a1:19:00:00:0a", "da:a1:19:00:00:0b"

    def same_everything(mac, ip):
        own_client_id = b"\x01" + bytes.fromhex(mac.replace(":", ""))   # says nothing beyond the MAC
        return [arp(mac, ip, T0, vendor="Apple, Inc.", classification=IPAD_CLASS),
                dhcp(mac, T0, hostname="iPad", client_id=own_client_id, ip=ip, classification=IPAD_CLASS),
                mdns(mac, T0, "iPad.local."), dhcp(mac, T0, hostname="iPad (2)", ip=ip)]

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [same_everything(a, "10.0.0.10"), same_everything(b, "10.0.0.11")])
            return await store.list_sites(), await store.get_device(a)

    (site,), detail = run(scenario())
    assert (site.devices, site.randomised_devices, site.classes) == (2, 2, (("ipad", 2),))
    assert detail.devices[0].linked_macs == () and detail.devices[0].link_evidence == ()
    assert partition_of(tmp_path / "h.db") == [(a,), (b,)]


def through_the_agent(observation):
    """An agent observation after the agent's name policy (pseudonymise, with a key), as it goes on the wire."""
    from headcount.agent.config import PrivacySettings
    from headcount.agent.privacy import apply_name_policy
    from headcount.agent.wire import observation_message

    settings = PrivacySettings(student_names="pseudonymise", secret=b"0f3a9c51d2e84b7a96c1e0d5b8a2f417")
    return observation_message(apply_name_policy(observation, settings))


@pytest.mark.parametrize("generic", ["Student", "Galaxy-A12"])
def test_two_randomised_macs_with_one_default_name_stay_two_devices(tmp_path, generic):
    from headcount.agent.model import Classification, DhcpSighting, MdnsService

    a, b = "da:a1:19:00:00:1a", "6e:11:22:33:44:1b"
    student = Classification("unknown", ("decision: unknown (no rule matched)",))

    def sent(mac, ip, host):
        dhcp_sighting = DhcpSighting(mac=mac, ip=ip, hostname=generic, vendor_class="",
                                     client_id=b"\x00" + generic.encode(),
                                     parameter_request_list=tuple(IPAD_FINGERPRINT), message_type="REQUEST",
                                     interface="eth0", observed_at=T0, classification=student)
        service = MdnsService(service_type="_companion-link._tcp.local.", instance_name=generic, host=host, port=49152,
                              addresses=(ip,), txt=(), observed_at=T0, mac=mac, classification=student)
        return [through_the_agent(dhcp_sighting), through_the_agent(service)]

    messages = sent(a, "10.0.0.10", f"{generic}.local.") + sent(b, "10.0.0.11", f"{generic}-2.local.")
    # The agent kept the default name as it is, so the collector can tell what it is.
    assert [m.dhcp.hostname or m.mdns.host for m in messages] == [generic, f"{generic}.local.", generic,
                                                                 f"{generic}-2.local."]
    assert {m.name_policy for m in messages} == {"pseudonymise"}

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [messages])
            return await store.list_sites(), await store.get_device(a)

    (site,), detail = run(scenario())
    assert partition_of(tmp_path / "h.db") == sorted([(a,), (b,)])
    assert (site.devices, site.randomised_devices) == (2, 2)
    device = detail.devices[0]
    assert device.linked_macs == () and device.link_evidence == ()
    assert device.hostname.removesuffix(".local") == generic      # accepted as sent, not withheld


def test_a_name_on_more_than_sixteen_randomised_macs_is_shared_not_one_device(tmp_path):
    pseudonym = "p:" + "5a7e" * 16      # e.g. every cart iPad was named "Cart iPad" by the setup script

    def macs(count):
        return [f"da:a1:19:00:0{count // 10}:{i:02x}" for i in range(count)]

    async def scenario(count):
        async with await Store.open(tmp_path / f"{count}.db") as store:
            await deliver(store, [[dhcp(mac, T0 + timedelta(days=day), hostname=pseudonym, ip=f"10.0.1.{day + 1}",
                                        policy="pseudonymise") for day, mac in enumerate(macs(count))]])
            return await store.list_sites(), await store.get_device(macs(count)[0])

    (site,), _ = run(scenario(16))
    assert site.devices == 1                   # one iPad whose private MAC rotated sixteen times
    (site,), detail = run(scenario(17))
    assert site.devices == 17 and partition_of(tmp_path / "17.db") == [(mac,) for mac in sorted(macs(17))]
    assert detail.devices[0].link_evidence == (
        f"not linked: dhcp hostname {pseudonym[:18]}… is on 17 randomised MACs (more than 16), so it is a shared or "
        f"default name, not one device",)


def test_an_mdns_host_renamed_on_a_conflict_links_with_its_dhcp_name(tmp_path):
    first, second = IPAD_MACS[0], IPAD_MACS[1]
    renamed = pb.Observation(observed_at=stamp(T0), scanner="mdns", name_policy="keep", mdns=pb.MdnsService(
        service_type="_companion-link._tcp.local.", instance_name="Jane\u2019s iPad", host="Janes-iPad-2.local.",
        port=49152, addresses=["10.0.0.77"], mac=second))

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[dhcp(first, T0, hostname="Janes-iPad", ip="10.0.0.5"), renamed,
                                   arp(second, "10.0.0.77", T0)]])

    run(scenario())
    assert partition_of(tmp_path / "h.db") == [tuple(sorted((first, second)))]


def test_endpoint_host_facts_join_the_arp_seen_row_instead_of_making_a_second_device(tmp_path):
    wired, wifi = "3c:22:fb:00:00:07", "3c:22:fb:00:00:08"
    interfaces = [("eth0", wired, ["10.0.0.7/24", "fe80::1/64"]), ("wlan0", wifi, []),
                  ("lo", "00:00:00:00:00:00", ["127.0.0.1/8"]), ("docker0", "02:42:ac:11:00:01", ["172.17.0.1/16"])]
    windows = pb.Classification(device_class="linux_pc", evidence=["host facts os Linux -> linux_pc (+10)"])

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            # The site agent sweeps the LAN (and reports its own PC, which is not a counted device).
            await deliver(store, [[arp(wired, "10.0.0.7", T0, vendor="Apple, Inc."),
                                   host_facts(T0, [("eth0", "3c:22:fb:99:99:99", [])], endpoint=False)]])
            await deliver(store, [[host_facts(T0 + timedelta(minutes=5), interfaces, classification=windows)]],
                          agent=ENDPOINT)
            return await store.list_sites(), await store.get_device(wifi)

    (site,), detail = run(scenario())
    assert (site.devices, site.stable_devices, site.agents) == (1, 1, ("lab-pc-07", "lincoln-agent"))
    (device,) = detail.devices
    assert (device.mac, device.linked_macs, device.ip) == (wifi, (wired,), "10.0.0.7")
    assert device.link_evidence == (f"host facts of endpoint agent lab-pc-07 links {wired}, {wifi}",)
    assert device.device_class == "linux_pc" and device.vendor == "Apple, Inc."
    assert set(device.sources) == {"arp", "hostfacts"}
    assert (device.host_facts["hostname"], device.host_facts["reboot_count"]) == ("lab-pc-07", 12)
    assert [h.kind for h in detail.history] == ["host", "arp"]
    assert partition_of(tmp_path / "h.db") == [(wired, wifi)]


def test_counts_split_stable_and_randomised_devices(tmp_path):
    desk, shared_a, shared_b, lone = "3c:22:fb:00:00:01", "3c:22:fb:00:00:02", "da:a1:19:00:00:02", "da:a1:19:00:00:09"
    phone = ["da:a1:19:00:00:03", "da:a1:19:00:00:04"]

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[
                arp(desk, "10.0.0.1", T0),
                # A laptop's burned-in MAC and, on another day, its private Wi-Fi MAC: one device, stable.
                dhcp(shared_a, T0, hostname="LIB-LAPTOP-3", ip="10.0.0.2"),
                dhcp(shared_b, T0 + timedelta(days=1), hostname="lib-laptop-3", ip="10.0.0.3"),
                # A phone seen only through private MACs: one device, randomised.
                dhcp(phone[0], T0, client_id=b"\xff\x01\x02\x03\x04\x00\x01", ip="10.0.0.4"),
                dhcp(phone[1], T0 + timedelta(days=1), client_id=b"\xff\x01\x02\x03\x04\x00\x01", ip="10.0.0.5"),
                arp(lone, "10.0.0.9", T0),
            ]])
            return await store.list_sites()

    (site,) = run(scenario())
    assert (site.devices, site.stable_devices, site.randomised_devices, site.locally_administered) == (4, 2, 2, 4)
    assert site.classes == (("unknown", 4),)


def test_burned_in_macs_sharing_a_name_stay_apart_and_a_randomised_one_joins_neither(tmp_path):
    wired, wifi, private = "3c:22:fb:00:00:01", "3c:22:fb:00:00:02", "da:a1:19:00:00:07"

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[dhcp(wired, T0, hostname="LIB-PC-14", ip="10.0.0.2"),
                                   dhcp(wifi, T0, hostname="LIB-PC-14", ip="10.0.0.3"),
                                   mdns(private, T0, "lib-pc-14.local."), arp(private, "10.0.0.4", T0)]])
            return await store.get_device(private), await store.list_sites()

    detail, (site,) = run(scenario())
    assert partition_of(tmp_path / "h.db") == [(wired,), (wifi,), (private,)]
    assert site.devices == 3
    assert detail.devices[0].link_evidence == (
        f"not linked: dhcp hostname and mdns host lib-pc-14 is on 2 devices with burned-in MACs ({wired}, {wifi}, "
        f"{private}), so it names no single device",)


def test_a_name_that_turns_out_to_be_shared_splits_the_device_again(tmp_path):
    wired, private, other_pc = "3c:22:fb:00:00:01", "da:a1:19:00:00:07", "3c:22:fb:00:00:02"

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[dhcp(wired, T0, hostname="LAB-PC", ip="10.0.0.2"),
                                   dhcp(private, T0, hostname="lab-pc", ip="10.0.0.3")]])
            linked = partition_of(tmp_path / "h.db")
            before = (await store.get_device(private)).devices[0].device_id
            # A second PC with a burned-in MAC calls itself the same: the name identifies nobody after all.
            await deliver(store, [[dhcp(other_pc, T0 + timedelta(hours=1), hostname="lab-pc", ip="10.0.0.4")]],
                          first_sequence=2)
            after = {mac: (await store.get_device(mac)).devices[0] for mac in (wired, private, other_pc)}
            return linked, before, after, await store.list_sites()

    linked, before, after, (site,) = run(scenario())
    assert linked == [(wired, private)]
    assert partition_of(tmp_path / "h.db") == [(wired,), (other_pc,), (private,)]
    assert after[wired].device_id == before and after[private].device_id != before   # the oldest id stays
    assert after[private].link_evidence[0].startswith("not linked: dhcp hostname lab-pc is on 2 devices")
    assert (site.devices, site.stable_devices, site.randomised_devices) == (3, 2, 1)


def test_a_name_heard_before_the_mac_had_a_row_links_when_the_row_appears(tmp_path):
    first, second = IPAD_MACS[0], IPAD_MACS[1]

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[dhcp(first, T0, hostname="Janes-iPad", ip="10.0.0.5")],
                                  [mdns(second, T0 + timedelta(days=1), "Janes-iPad.local.")]])
            before = partition_of(tmp_path / "h.db")
            await deliver(store, [[arp(second, "10.0.0.6", T0 + timedelta(days=1, minutes=1))]], first_sequence=3)
            return before

    assert run(scenario()) == [(first,)]
    assert partition_of(tmp_path / "h.db") == [tuple(sorted((first, second)))]


def test_out_of_order_batches_end_in_the_same_devices(tmp_path):
    extra = [[dhcp("3c:22:fb:00:00:01", T0, hostname="LIB-PC-14"), dhcp("3c:22:fb:00:00:02", T0, hostname="lib-pc-14")],
             [arp("da:a1:19:00:00:0a", "10.0.0.10", T0, classification=IPAD_CLASS),
              dhcp("da:a1:19:00:00:0a", T0, hostname="iPad")],
             [arp("da:a1:19:00:00:0b", "10.0.0.11", T0 + timedelta(hours=3)),
              dhcp("da:a1:19:00:00:0b", T0 + timedelta(hours=3), hostname="iPad"),
              mdns("da:a1:19:00:00:0b", T0 + timedelta(hours=4), "lib-pc-14.local")]]
    batches = rotating_ipad_batches() + extra
    orders = {"in order": batches, "reversed": list(reversed(batches))}
    shuffled = list(batches)
    random.Random(5).shuffle(shuffled)
    orders["shuffled"] = shuffled

    async def outcome(path, ordered):
        async with await Store.open(path) as store:
            await deliver(store, ordered)
            (site,) = await store.list_sites()
            listing = sorted([(d.mac, d.linked_macs, d.device_class, d.first_seen, d.last_seen, d.link_evidence)
                              async for d in store.list_devices()])
            return (site.devices, site.stable_devices, site.randomised_devices, site.classes), listing

    results = {name: (run(outcome(tmp_path / f"{name.replace(' ', '-')}.db", ordered)),
                      partition_of(tmp_path / f"{name.replace(' ', '-')}.db"))
               for name, ordered in orders.items()}
    assert results["in order"] == results["reversed"] == results["shuffled"]
    (counts, _), groups = results["in order"]
    assert counts == (5, 2, 3, (("ipad", 2), ("unknown", 3)))
    assert tuple(sorted(IPAD_MACS)) in groups


def test_links_survive_a_restart_and_new_macs_join_the_same_device(tmp_path):
    path = tmp_path / "h.db"
    sixth = "de:ad:be:ef:00:06"

    async def first_run():
        async with await Store.open(path) as store:
            await deliver(store, rotating_ipad_batches())
            return (await store.get_device(IPAD_MACS[0])).devices[0]

    async def second_run():
        async with await Store.open(path) as store:
            reopened = (await store.get_device(IPAD_MACS[0])).devices[0]
            later = T0 + timedelta(days=9)
            await deliver(store, [[dhcp(sixth, later, client_id=DUID, ip="10.0.0.99")]], first_sequence=6)
            return reopened, (await store.get_device(sixth)).devices[0], await store.list_sites()

    before = run(first_run())
    reopened, sixth_device, (site,) = run(second_run())
    assert (reopened.device_id, set(reopened.linked_macs), reopened.link_evidence) == (
        before.device_id, set(before.linked_macs), before.link_evidence)
    assert sixth_device.device_id == before.device_id and set(sixth_device.linked_macs) == set(IPAD_MACS)
    assert site.devices == 1 and site.locally_administered == 6


def test_merging_keeps_the_oldest_device_id(tmp_path):
    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            # Two private MACs seen apart first (two devices), then a DHCP exchange that names both.
            await deliver(store, [[arp(IPAD_MACS[0], "10.0.0.5", T0)], [arp(IPAD_MACS[1], "10.0.0.6", T0)]])
            ids = [(await store.get_device(mac)).devices[0].device_id for mac in IPAD_MACS[:2]]
            await deliver(store, [[dhcp(IPAD_MACS[1], T0, client_id=DUID), dhcp(IPAD_MACS[0], T0, client_id=DUID)]],
                          first_sequence=3)
            return ids, (await store.get_device(IPAD_MACS[1])).devices[0]

    (oldest, newer), merged = run(scenario())
    assert int(oldest) < int(newer) and merged.device_id == oldest
    with sqlite3.connect(tmp_path / "h.db") as connection:
        assert connection.execute("SELECT id FROM merged_devices").fetchall() == [(int(oldest),)]


def test_newest_class_wins_per_device_and_an_older_batch_delivered_late_does_not_undo_it(tmp_path):
    phone = pb.Classification(device_class="phone", evidence=["mdns _companion-link -> phone (+3)"])

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [
                [arp(IPAD_MACS[0], "10.0.0.5", T0 + timedelta(hours=1), classification=IPAD_CLASS),
                 dhcp(IPAD_MACS[0], T0 + timedelta(hours=1), client_id=DUID)],
                [arp(IPAD_MACS[1], "10.0.0.5", T0 + timedelta(hours=2),
                     classification=pb.Classification(device_class="unknown", evidence=["nothing matched"])),
                 dhcp(IPAD_MACS[1], T0 + timedelta(hours=2), client_id=DUID)],
                [arp(IPAD_MACS[1], "10.0.0.5", T0, classification=phone)],      # older, delivered last
            ])
            return (await store.get_device(IPAD_MACS[1])).devices[0], await store.list_sites()

    device, (site,) = run(scenario())
    assert (device.device_class, device.class_evidence) == ("ipad", tuple(IPAD_CLASS.evidence))
    assert site.classes == (("ipad", 1),)


def test_switch_forwarding_tables_refresh_known_macs_and_create_none(tmp_path):
    known, unknown = "3c:22:fb:00:00:10", "3c:22:fb:00:00:11"
    probe = pb.Observation(observed_at=stamp(T0 + timedelta(hours=1)), scanner="snmp", snmp=pb.SnmpDevice(
        address="10.0.0.2", mac="3c:22:fb:00:00:02", device_class="switch", system=pb.SystemGroup(name="sw-1"),
        fdb=[pb.FdbEntry(mac=known, if_index=3, status="learned"), pb.FdbEntry(mac=unknown, if_index=3),
             pb.FdbEntry(mac="3c:22:fb:00:00:02", status="self")]))

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[arp(known, "10.0.0.10", T0)], [probe]])
            return (await store.get_device(known)).devices[0], await store.get_device("3c:22:fb:00:00:02")

    device, switch = run(scenario())
    assert device.last_seen == T0 + timedelta(hours=1) and device.sources == ("arp", "snmp-fdb")
    assert partition_of(tmp_path / "h.db") == [("3c:22:fb:00:00:02",), (known,)]
    assert switch.devices[0].device_class == "switch"
    assert switch.devices[0].class_evidence == ("snmp identified a switch",)


def test_pseudonymised_names_link_like_raw_ones(tmp_path):
    pseudonym = "p:" + "9f3c" * 16

    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[dhcp(IPAD_MACS[0], T0, hostname=pseudonym, policy="pseudonymise", ip="10.0.0.5"),
                                   mdns(IPAD_MACS[1], T0, pseudonym, policy="pseudonymise"),
                                   arp(IPAD_MACS[1], "10.0.0.6", T0)]])
            return (await store.get_device(IPAD_MACS[0])).devices[0]

    device = run(scenario())
    assert device.linked_macs == (IPAD_MACS[1],) and device.hostname == pseudonym
    assert device.link_evidence == (f"dhcp hostname and mdns host {pseudonym[:18]}… link {IPAD_MACS[1]}, "
                                    f"{IPAD_MACS[0]}",)


# ---------------------------------------------------------------- schema


def test_a_database_made_before_merging_is_migrated_and_each_row_becomes_its_own_device(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="0003_merged_devices_classes_and_link_keys")
    old["agents"].insert({"agent_id": "lincoln-agent", "site": SITE, "last_sequence": 4,
                          "first_seen": "2026-10-01T00:00:00.000000Z", "last_seen": "2026-10-02T00:00:00.000000Z"})
    rows = [(IPAD_MACS[0], "10.0.0.50"), (STABLE, "10.0.0.2"), ("3c:22:fb:00:00:bb", "10.0.0.3")]
    for n, (mac, ip) in enumerate(rows):
        old["devices"].insert({"site": SITE, "mac": mac, "ip": ip, "ip_key": f"4:{n:032x}", "vendor": "",
                               "locally_administered": int(mac == IPAD_MACS[0]), "hostname": "",
                               "first_seen": "2026-10-01T00:00:00.000000Z", "last_seen": "2026-10-02T00:00:00.000000Z",
                               "sources": '["arp"]'})
    old.close()

    async def scenario():
        async with await Store.open(path) as store:
            migrated = store.migrated_on_open
            sites = await store.list_sites()
            listing = [d async for d in store.list_devices()]
            # The old randomised row and a new MAC with the same client id become one device under the old id.
            await store.ingest_batch("lincoln-agent", SITE, 5, converted(
                dhcp(IPAD_MACS[0], T0, client_id=DUID), dhcp(IPAD_MACS[1], T0, client_id=DUID)), T0)
            return migrated, sites, listing, (await store.get_device(IPAD_MACS[1])).devices[0]

    migrated, (site,), listing, merged = run(scenario())
    assert migrated == ("0003_merged_devices_classes_and_link_keys", "0004_assets_and_uniformity_snapshots",
                        "0005_flags", "0006_scans_and_device_health", "0007_flag_evaluations",
                        "0008_merged_devices_site_index", "0009_device_health_digest",
                        "0010_assets_site_index_covers_the_evaluation")
    assert (site.devices, site.stable_devices, site.randomised_devices, site.classes) == (3, 2, 1, (("unknown", 3),))
    assert [d.device_id for d in listing] == ["1", "2", "3"]
    assert merged.device_id == "1" and merged.linked_macs == (IPAD_MACS[0],)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM devices WHERE device_id IS NULL").fetchone() == (0,)


def test_new_devices_never_reuse_an_id_given_up_in_a_merge(tmp_path):
    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await deliver(store, [[arp(IPAD_MACS[0], "10.0.0.5", T0)], [arp(IPAD_MACS[1], "10.0.0.6", T0)],
                                  [dhcp(IPAD_MACS[0], T0, client_id=DUID), dhcp(IPAD_MACS[1], T0, client_id=DUID)],
                                  [arp(STABLE, "10.0.0.7", T0)]])
            return [(await store.get_device(mac)).devices[0].device_id for mac in (IPAD_MACS[1], STABLE)]

    assert run(scenario()) == ["1", "3"]


# ---------------------------------------------------------------- performance


def mac_of(n: int, randomised: bool) -> str:
    return f"{0x02 if randomised else 0x3c:02x}:22:{(n >> 24) & 255:02x}:{(n >> 16) & 255:02x}:" \
           f"{(n >> 8) & 255:02x}:{n & 255:02x}"


def sweep(numbers, at):
    messages = []
    for n in numbers:
        messages.append(arp(mac_of(n, n % 3 == 0), f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}", at,
                            vendor="" if n % 3 == 0 else "Apple, Inc."))
    return converted(*messages)


@pytest.mark.slow
def test_a_5000_host_sweep_into_100000_devices_merges_every_new_host(tmp_path):
    # Its speed is measured by bench/collector_ingest.py, not asserted here.
    async def scenario():
        async with await Store.open(tmp_path / "h.db") as store:
            await store.register_agent(AGENT, T0)
            for batch in range(20):
                await store.ingest_batch(AGENT.agent_id, SITE, batch + 1,
                                         sweep(range(batch * 5000, batch * 5000 + 5000), T0), T0)
            for round_ in range(3):
                # Every 20th device answers again (some at a new address) plus 250 hosts never seen before.
                numbers = [n * 20 + round_ for n in range(4750)] + list(range(200_000 + round_ * 250,
                                                                              200_000 + round_ * 250 + 250))
                observations = sweep(numbers, T0 + timedelta(hours=round_ + 1))
                await store.ingest_batch(AGENT.agent_id, SITE, 21 + round_, observations, T0)
            (site,) = await store.list_sites()
            return site

    site = run(scenario())
    assert site.devices == 100_750

"""collector/identity.py: which MACs are one device (pure rules, no database)."""

import itertools
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from headcount.collector import identity
from headcount.collector.identity import (KIND_CLIENT_ID, KIND_HOST, KIND_NAME, LinkKey, assign_ids, client_id_key,
                                          is_generic_name, name_key, normalise_name, partition, summarise)
from headcount.collector.model import Classification, Device, DeviceSighting, Observation

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
PSEUDONYM = "p:" + "ab12" * 16
RANDOMISED = [f"da:a1:19:00:00:0{i}" for i in range(1, 6)]
LAPTOP_WIRED, LAPTOP_WIFI, OTHER = "3c:22:fb:00:00:01", "3c:22:fb:00:00:02", "3c:22:fb:00:00:03"


def cid(*macs, key="cid:ff0001", label="ff:00:01"):
    return LinkKey(key=key, kind=KIND_CLIENT_ID, label=label, sources=("dhcp client id",), macs=macs)


def name(*macs, value="janes-ipad", sources=("dhcp hostname", "mdns host")):
    return LinkKey(key="name:" + value, kind=KIND_NAME, label=value, sources=sources, macs=macs)


def host(*macs, agent="lab-pc-07"):
    return LinkKey(key="host:" + agent, kind=KIND_HOST, label=agent, sources=("host facts",), macs=macs)


def macs_of(groups):
    return sorted(group.macs for group in groups)


# ---------------------------------------------------------------- names and keys


@pytest.mark.parametrize("text, normalised", [
    ("Janes-iPad", "janes-ipad"), ("janes-ipad.local.", "janes-ipad"), ("JANES-IPAD.LOCAL", "janes-ipad"),
    ("  Janes-iPad. ", "janes-ipad"), (PSEUDONYM, PSEUDONYM), ("printer.school.lan", "printer.school.lan"),
    # As the agent normalises before pseudonymising (agent/privacy.py), so raw and pseudonymised names agree.
    ("Jane's iPad", "janes-ipad"), ("Jane\u2019s  iPad", "janes-ipad"), ("lib_pc_14", "lib-pc-14"),
    (PSEUDONYM + ".local.", PSEUDONYM), ("ＬＩＢ-PC", "lib-pc"),
])
def test_dhcp_and_mdns_names_normalise_to_one_namespace(text, normalised):
    assert normalise_name(text) == normalised
    assert name_key(text) == "name:" + normalised


@pytest.mark.parametrize("text", ["iPad", "iphone", "iPad (2)", "iPad-3", "ipad_4", "localhost", "Android",
                                  "MacBook Pro", "Mac-Studio", "android-device", "Google Nest Hub", "PC-14",
                                  "android-2", "Chromebook", "raspberrypi", "RaspberryPi (12)", "", "   ",
                                  "localhost.localdomain", "MacBook-Air", "ip-10-0-0-5", "dhcp-192-168-1-20.local."])
def test_generic_names_are_never_keys(text):
    assert is_generic_name(normalise_name(text))
    assert name_key(text) is None


@pytest.mark.parametrize("text", ["Janes-iPad", "LIB-PC-14", "room-12-printer.local.", "android-4f3a9c0d1e2b7a68",
                                  PSEUDONYM, "ipad-of-jane"])
def test_specific_names_and_pseudonyms_are_keys(text):
    assert not is_generic_name(normalise_name(text))
    assert name_key(text) is not None


def test_a_client_id_that_is_only_the_mac_again_is_no_key():
    mac = "da:a1:19:00:00:01"
    assert client_id_key(bytes.fromhex("01daa11900000" + "1"), mac) is None          # type 1 + this MAC
    assert client_id_key(bytes.fromhex("01daa119000002"), mac) == "cid:01daa119000002"   # type 1, another MAC
    assert client_id_key(bytes.fromhex("ff00000001000100012c3a4b5c"), mac) == "cid:ff00000001000100012c3a4b5c"
    assert client_id_key(b"", mac) is None
    # Text ids: a generic name is as shared as the name; a personal one (or its pseudonym) is a key.
    assert client_id_key(b"\x00iPad", mac) is None and client_id_key(b"\x00iPad (2)", mac) is None
    assert client_id_key(b"\x00janes-laptop", mac) == "cid:" + b"\x00janes-laptop".hex()
    assert client_id_key(PSEUDONYM.encode(), mac) == "cid:" + PSEUDONYM.encode().hex()


def observation(kind, mac="", hostname="", client_id=b"", endpoint=False, interfaces=()):
    sighting = DeviceSighting(mac=mac, hostname=hostname, creates_device=kind != "mdns") if mac else None
    return Observation(kind=kind, observed_at=T0, scanner=kind, data={}, mac=mac, sighting=sighting,
                       client_id=client_id, endpoint=endpoint,
                       host_sightings=tuple(DeviceSighting(mac=m) for m in interfaces))


def test_key_facts_of_each_observation_kind():
    dhcp = identity.key_facts(observation("dhcp", RANDOMISED[0], "Janes-iPad", bytes.fromhex("ff0001")), "a", False)
    assert [(f.key, f.kind, f.source) for f in dhcp] == [("cid:ff0001", KIND_CLIENT_ID, "dhcp client id"),
                                                        ("name:janes-ipad", KIND_NAME, "dhcp hostname")]
    mdns = identity.key_facts(observation("mdns", RANDOMISED[1], "janes-ipad.local"), "a", False)
    assert [(f.mac, f.key, f.source) for f in mdns] == [(RANDOMISED[1], "name:janes-ipad", "mdns host")]
    assert identity.key_facts(observation("dhcp", RANDOMISED[0], "iPad"), "a", False) == []
    facts = observation("host", interfaces=(LAPTOP_WIRED, LAPTOP_WIFI))
    assert identity.key_facts(facts, "lab-pc-07", False) == []          # a site agent's own PC is no device
    assert [(f.mac, f.key) for f in identity.key_facts(facts, "lab-pc-07", True)] == [
        (LAPTOP_WIRED, "host:lab-pc-07"), (LAPTOP_WIFI, "host:lab-pc-07")]


# ---------------------------------------------------------------- grouping


def test_five_randomised_macs_with_one_client_id_and_one_name_are_one_device():
    groups = partition(RANDOMISED, [cid(*RANDOMISED), name(*RANDOMISED[:3], value=PSEUDONYM,
                                                           sources=("mdns host",))])
    (group,) = groups
    assert group.macs == tuple(RANDOMISED)
    assert group.evidence[0] == "dhcp client id ff:00:01 links " + ", ".join(RANDOMISED)
    assert group.evidence[1].startswith("mdns host p:ab12ab12ab12ab12… links da:a1:19:00:00:01")


def test_generic_names_never_arrive_as_keys_so_lookalike_ipads_stay_apart():
    # Same vendor, class and fingerprint are weak evidence: nothing to give partition() at all.
    assert macs_of(partition(["da:a1:19:00:00:01", "da:a1:19:00:00:02"], [])) == [
        ("da:a1:19:00:00:01",), ("da:a1:19:00:00:02",)]


def test_two_burned_in_macs_with_one_name_stay_two_devices_and_say_why():
    groups = partition([LAPTOP_WIRED, LAPTOP_WIFI], [name(LAPTOP_WIRED, LAPTOP_WIFI, value="lib-pc-14")])
    assert macs_of(groups) == [(LAPTOP_WIRED,), (LAPTOP_WIFI,)]
    assert all(g.evidence == (f"not linked: dhcp hostname and mdns host lib-pc-14 is on 2 devices with burned-in "
                              f"MACs ({LAPTOP_WIRED}, {LAPTOP_WIFI}), so it names no single device",) for g in groups)


def test_a_randomised_mac_joins_the_one_burned_in_device_with_its_name_but_not_one_of_two():
    groups = partition([LAPTOP_WIRED, RANDOMISED[0]], [name(LAPTOP_WIRED, RANDOMISED[0])])
    assert macs_of(groups) == [(LAPTOP_WIRED, RANDOMISED[0])]
    ambiguous = partition([LAPTOP_WIRED, OTHER, RANDOMISED[0]], [name(LAPTOP_WIRED, OTHER, RANDOMISED[0])])
    assert macs_of(ambiguous) == [(LAPTOP_WIRED,), (OTHER,), (RANDOMISED[0],)]


def test_a_client_id_on_two_burned_in_macs_is_a_cloned_image_not_a_device():
    groups = partition([LAPTOP_WIRED, OTHER, RANDOMISED[0]], [cid(LAPTOP_WIRED, OTHER, RANDOMISED[0])])
    assert len(groups) == 3 and all("not linked: dhcp client id" in g.evidence[0] for g in groups)


def test_host_facts_join_burned_in_macs_and_then_names_may_add_randomised_ones():
    keys = [host(LAPTOP_WIRED, LAPTOP_WIFI), name(LAPTOP_WIRED, LAPTOP_WIFI, RANDOMISED[0], value="lib-pc-14")]
    (group,) = partition([LAPTOP_WIRED, LAPTOP_WIFI, RANDOMISED[0]], keys)
    assert group.macs == (LAPTOP_WIRED, LAPTOP_WIFI, RANDOMISED[0])
    assert group.evidence[0] == f"host facts of endpoint agent lab-pc-07 links {LAPTOP_WIRED}, {LAPTOP_WIFI}"


def test_keys_on_macs_without_a_device_row_are_ignored_until_the_row_exists():
    assert macs_of(partition([RANDOMISED[0]], [cid(*RANDOMISED)])) == [(RANDOMISED[0],)]


def test_the_grouping_does_not_depend_on_the_order_of_keys_or_macs():
    macs = [LAPTOP_WIRED, OTHER, *RANDOMISED]
    keys = [cid(RANDOMISED[0], RANDOMISED[1]), name(RANDOMISED[1], LAPTOP_WIRED, value="a-name"),
            name(RANDOMISED[1], OTHER, value="b-name"), cid(RANDOMISED[2], RANDOMISED[3], key="cid:02", label="02"),
            name(RANDOMISED[3], RANDOMISED[4], value=PSEUDONYM)]
    answers = {tuple(sorted((g.macs, g.evidence) for g in partition(ordered_macs, ordered_keys)))
               for ordered_keys in itertools.permutations(keys)
               for ordered_macs in (macs, list(reversed(macs)))}
    assert len(answers) == 1
    # "a-name" sorts first: the randomised pair joins the laptop; "b-name" then finds two burned-in devices.
    assert macs_of(partition(macs, keys)) == [(LAPTOP_WIRED, RANDOMISED[0], RANDOMISED[1]), (OTHER,),
                                              (RANDOMISED[2], RANDOMISED[3], RANDOMISED[4])]


def test_evidence_lists_at_most_eight_macs():
    many = [f"da:a1:19:00:01:{i:02x}" for i in range(12)]
    (group,) = partition(many, [cid(*many)])
    assert group.evidence[0].endswith(f"{many[7]} and 4 more")


def test_ids_the_oldest_survives_a_merge_and_a_split_keeps_the_next():
    merged = identity.Group(macs=("a", "b", "c"))
    assert assign_ids([merged], {"a": 7, "b": 3, "c": None}) == [3]
    split = [identity.Group(macs=("a",)), identity.Group(macs=("b", "c")), identity.Group(macs=("d",))]
    assert assign_ids(split, {"a": 3, "b": 3, "c": 9, "d": None}) == [3, 9, None]
    assert assign_ids(split, {"a": 3, "b": 3, "c": 3, "d": None}) == [3, None, None]


# ---------------------------------------------------------------- class and summary


def row(mac, seen, ip="", vendor="", device_class="", at=None, hostname=""):
    return Device(site="s", mac=mac, ip=ip, vendor=vendor, locally_administered=mac[1] in "26ae",
                  hostname=hostname, first_seen=seen, last_seen=seen, sources=("arp",),
                  device_class=device_class, class_evidence=(f"rule for {device_class}",) if device_class else (),
                  classified_at=at)


def test_newest_classification_other_than_unknown_wins():
    base = row(RANDOMISED[0], T0)
    ipad = identity.classify(base, Classification("ipad", ("oui Apple -> ipad (+2)",)), T0)
    assert (ipad.device_class, ipad.class_evidence, ipad.classified_at) == ("ipad", ("oui Apple -> ipad (+2)",), T0)
    assert identity.classify(ipad, Classification("unknown", ("nothing matched",)), T0 + timedelta(hours=1)) is ipad
    assert identity.classify(ipad, Classification("phone"), T0 - timedelta(hours=1)) is ipad    # older, late
    assert identity.classify(ipad, Classification("mac"), T0 + timedelta(hours=1)).device_class == "mac"


def test_snmp_identification_classifies_network_devices_when_the_agent_did_not():
    snmp = Observation(kind="snmp", observed_at=T0, scanner="snmp", mac=OTHER,
                       data={"device_class": "switch", "evidence": ["class: sysObjectID 9.1.516 -> switch",
                                                                  "model: ENTITY-MIB"]})
    assert identity.classification_of(snmp) == Classification(
        "switch", ("snmp identified a switch", "class: sysObjectID 9.1.516 -> switch"))
    agent_said = Observation(kind="arp", observed_at=T0, scanner="arp", data={},
                             classification=Classification("unknown", ("no rule",)))
    assert identity.classification_of(agent_said) is None


def test_summary_shows_the_newest_mac_the_widest_window_and_the_newest_class():
    rows = [row(LAPTOP_WIRED, T0, ip="10.0.0.5", vendor="Apple, Inc.", device_class="mac", at=T0),
            row(RANDOMISED[0], T0 + timedelta(hours=2), ip="10.0.0.9", device_class="ipad",
                at=T0 + timedelta(hours=1), hostname=PSEUDONYM),
            row(RANDOMISED[1], T0 - timedelta(days=1))]
    view = summarise(rows)
    assert (view.mac, view.ip, view.vendor, view.hostname) == (RANDOMISED[0], "10.0.0.9", "Apple, Inc.", PSEUDONYM)
    assert (view.first_seen, view.last_seen) == (T0 - timedelta(days=1), T0 + timedelta(hours=2))
    assert (view.device_class, view.class_evidence) == ("ipad", ("rule for ipad",))
    assert view.linked_macs == (LAPTOP_WIRED, RANDOMISED[1]) and view.locally_administered
    focused = summarise(rows, focus=LAPTOP_WIRED)
    assert (focused.mac, focused.ip, focused.locally_administered) == (LAPTOP_WIRED, "10.0.0.5", False)
    assert focused.linked_macs == (RANDOMISED[0], RANDOMISED[1])


# ---------------------------------------------------------------- one list with the agent

@pytest.mark.parametrize("text", ["Student", "teacher (2)", "Guest", "Galaxy-A12", "Galaxy S21 Ultra 5G", "Pixel-7",
                                  "pixel 7a", "Kindle", "iPad-Air", "Tablet", "phone-3", "SM-A125F", "10.0.0.5"])
def test_default_and_vendor_model_names_are_never_keys(text):
    assert is_generic_name(text) and name_key(text) is None


@pytest.mark.parametrize("text", ["Galaxy-Jane", "iPhone-Max", "janes-galaxy-a12", "jane-10-0-0-5", "Student-Jane"])
def test_a_personal_word_next_to_a_default_name_is_a_key(text):
    assert name_key(text) == "name:" + normalise_name(text)


def test_the_generic_list_is_the_shared_one():
    from headcount import names

    assert identity.GENERIC_NAMES is names.GENERIC_NAMES
    assert identity.normalise_name is names.normalise_name


# ---------------------------------------------------------------- mDNS conflict renaming

def mdns_seen(host, instance, mac=RANDOMISED[1]):
    seen = observation("mdns", mac, host)
    return replace(seen, data={"instance_name": instance})


def test_an_mdns_host_renamed_on_a_conflict_keys_as_its_dhcp_name():
    dhcp = identity.key_facts(observation("dhcp", RANDOMISED[0], "Janes-iPad"), "a", False)
    for instance in ("Jane's iPad", "Janes-iPad", "5EE14B90AA01@Jane’s iPad"):
        mdns = identity.key_facts(mdns_seen("Janes-iPad-2.local", instance), "a", False)
        assert [f.key for f in mdns] == [f.key for f in dhcp] == ["name:janes-ipad"], instance
    # Not confirmed by the record: the number is part of the name.
    assert [f.key for f in identity.key_facts(mdns_seen("Cart-iPad-2.local", "Cart iPad 2"), "a", False)] == [
        "name:cart-ipad-2"]
    assert [f.key for f in identity.key_facts(observation("mdns", RANDOMISED[1], "Janes-iPad-2.local"), "a",
                                              False)] == ["name:janes-ipad-2"]
    assert name_key("room-12") != name_key("room-1") != name_key("room")


# ---------------------------------------------------------------- how many randomised MACs a name may join

def test_a_name_on_more_than_sixteen_randomised_macs_links_nothing_and_says_why():
    many = [f"da:a1:19:00:02:{i:02x}" for i in range(17)]
    groups = partition(many, [name(*many, value="cart-ipad")])
    assert len(groups) == 17
    assert all(g.evidence == ("not linked: dhcp hostname and mdns host cart-ipad is on 17 randomised MACs (more than "
                              "16), so it is a shared or default name, not one device",) for g in groups)
    # Sixteen is still one device whose MAC rotated.
    (group,) = partition(many[:16], [name(*many[:16], value="cart-ipad")])
    assert group.macs == tuple(many[:16])
    # A client id is per device by design: the cap is the store's 1000, not this one.
    (group,) = partition(many, [cid(*many)])
    assert group.macs == tuple(many)


def test_the_name_cap_counts_every_mac_that_carried_the_name():
    many = [f"da:a1:19:00:03:{i:02x}" for i in range(20)]
    # Only two have a device row yet, but twenty MACs said this name: it is shared.
    groups = partition(many[:2], [name(*many, value="student-ipad")])
    assert macs_of(groups) == [(many[0],), (many[1],)]
    assert "on 20 randomised MACs" in groups[0].evidence[0]

import ipaddress
from datetime import datetime, timezone

import pytest

from headcount.agent.scanners.arp import oui_vendor, sightings_from_replies
from headcount.macaddr import is_locally_administered, normalise as normalise_mac

NET = ipaddress.IPv4Network("198.51.100.0/24")
AT = datetime(2026, 11, 22, 8, 30, tzinfo=timezone.utc)


def test_vendor_comes_from_the_ieee_table_scapy_ships():
    assert oui_vendor("3c:22:fb:12:34:56") == "Apple, Inc."
    assert oui_vendor("00:14:22:00:00:01") == "Dell Inc."


def test_unknown_and_randomised_macs_have_no_vendor():
    assert oui_vendor("da:a1:19:00:00:01") == ""   # locally administered: the OUI means nothing
    from scapy.config import conf

    # Find a universally administered prefix the registry does not list.
    unregistered = next(
        mac for mac in (f"{a:02x}:{b:02x}:00:00:00:01" for a in range(0, 256, 4) for b in range(256))
        if conf.manufdb.lookup(mac)[1].lower() == mac
    )
    assert oui_vendor(unregistered) == ""


@pytest.mark.parametrize("mac, expected", [
    ("3c:22:fb:00:00:01", False),
    ("da:a1:19:00:00:01", True),
    ("02:00:00:00:00:00", True),
    ("fe:ff:ff:ff:ff:ff", True),
    ("00:00:00:00:00:01", False),
])
def test_locally_administered_bit(mac, expected):
    assert is_locally_administered(mac) is expected


@pytest.mark.parametrize("raw, expected", [
    ("3C:22:FB:00:00:01", "3c:22:fb:00:00:01"),
    ("3c-22-fb-00-00-01", "3c:22:fb:00:00:01"),
    ("3c22.fb00.0001", "3c:22:fb:00:00:01"),
])
def test_normalise_mac(raw, expected):
    assert normalise_mac(raw) == expected


@pytest.mark.parametrize("raw", ["", "3c:22:fb:00:00", "zz:22:fb:00:00:01", "3c:22:fb:00:00:01:02", "3c:22-fb:00:00:01"])
def test_normalise_mac_rejects(raw):
    with pytest.raises(ValueError):
        normalise_mac(raw)


def test_replies_become_deduplicated_sorted_sightings():
    replies = [
        ("3C:22:FB:00:00:02", "198.51.100.20"),
        ("3c:22:fb:00:00:01", "198.51.100.3"),
        ("3c:22:fb:00:00:02", "198.51.100.20"),    # retry answered twice
        ("da:a1:19:00:00:07", "198.51.100.7"),
    ]
    sightings = sightings_from_replies(replies, NET, "eth0", AT)
    assert [(s.ip, s.mac) for s in sightings] == [
        ("198.51.100.3", "3c:22:fb:00:00:01"),
        ("198.51.100.7", "da:a1:19:00:00:07"),
        ("198.51.100.20", "3c:22:fb:00:00:02"),
    ]
    random = sightings[1]
    assert random.locally_administered and random.vendor == ""
    assert sightings[0].vendor == "Apple, Inc." and not sightings[0].locally_administered
    assert all(s.observed_at == AT and s.interface == "eth0" and s.scanner == "arp" for s in sightings)


def test_bogus_replies_are_ignored_not_fatal():
    replies = [
        ("not-a-mac", "198.51.100.9"),
        ("3c:22:fb:00:00:09", "198.51.100.999"),
        ("01:00:5e:00:00:01", "198.51.100.10"),    # multicast sender
        ("00:00:00:00:00:00", "198.51.100.11"),
        ("3c:22:fb:00:00:0c", "192.0.2.12"),       # outside the swept subnet
        ("3c:22:fb:00:00:0d", "198.51.100.13"),
    ]
    sightings = sightings_from_replies(replies, NET, "eth0", AT, vendor_of=lambda mac: "V")
    assert [(s.mac, s.ip, s.vendor) for s in sightings] == [("3c:22:fb:00:00:0d", "198.51.100.13", "V")]


def test_vendor_table_agrees_with_scapys_own_lookup_on_every_registered_block():
    from scapy.config import conf

    checked = 0
    for oui, (_short, long_name) in conf.manufdb.d.items():
        if "/" in oui or len(oui) != 8:
            continue
        mac = oui.lower() + ":00:00:01"
        if is_locally_administered(mac):
            continue   # ours says "" for these on purpose
        assert oui_vendor(mac) == long_name, mac
        checked += 1
    assert checked > 30_000


def test_small_blocks_inside_a_large_one_name_their_own_owner():
    # 70:B3:D5 is the IEEE's own MA-S (/36) block: the /36 entry names the real owner.
    assert oui_vendor("70:b3:d5:01:20:00") == "KST technology"

"""headcount.names: the one normalisation and the one generic-name list that the agent and the collector share."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from headcount import names
from headcount.names import (GENERIC_NAMES, instance_device_name, is_generic_name, is_pseudonym, mdns_host_name,
                             normalise_name, split_shared_printer)

PSEUDONYM = "p:" + "ab12" * 8


@pytest.mark.parametrize("text, normal", [
    ("Janes-iPad", "janes-ipad"), ("Janes-iPad.local.", "janes-ipad"), ("JANES-IPAD.LOCAL", "janes-ipad"),
    ("Jane's iPad", "janes-ipad"), ("Jane\u2019s  iPad", "janes-ipad"), ("  lib_pc_14. ", "lib-pc-14"),
    ("ＬＩＢ-PC", "lib-pc"), (PSEUDONYM + ".local.", PSEUDONYM), ("printer.school.lan", "printer.school.lan"),
    # A trailing number is part of the name: room-12 and room-1 never meet.
    ("room-12", "room-12"), ("room-1", "room-1"), ("Janes-iPad-2.local.", "janes-ipad-2"), ("", ""), (None, ""),
])
def test_normalise_name(text, normal):
    assert normalise_name(text) == normal


@pytest.mark.parametrize("name", [
    # exact defaults, from both of the old lists
    "iPad", "iPhone", "MacBook Pro", "raspberrypi", "localhost", "(none)", "Student", "Teacher", "guest", "Galaxy",
    "Pixel", "Kindle", "Tablet", "Phone", "ipad-air", "Google Nest Hub", "android-device",
    # with a conflict suffix
    "iPad (2)", "iPhone-3", "ipad_4", "Student (12)", "PC-14", "RaspberryPi (12)", "iPad.local.",
    # vendor-model defaults
    "Galaxy-A12", "Galaxy S21 Ultra 5G", "Galaxy-Tab-A7-Lite", "galaxy-note20", "Pixel-7", "Pixel 7a", "Pixel-6-Pro",
    "iPad-Air", "iPad Pro", "iPad mini", "MacBook-Air", "iPhone 15 Pro Max", "iPhone X", "Redmi Note 10 Pro",
    "SM-A125F", "moto g(7) power", "OnePlus-9", "Kindle Fire", "Galaxy-A12-2",
    # address-shaped
    "ip-10-0-0-5", "dhcp-192-168-1-20.local.", "10.0.0.5", "ip-10-0-0-5.ec2.internal", "host-172-16-4-9",
])
def test_generic_names(name):
    assert is_generic_name(name)
    assert is_generic_name(normalise_name(name))      # raw or normalised, the same answer


@pytest.mark.parametrize("name", [
    "Jane-Smiths-iPad", "Janes-iPad", "iPad-of-jane", "Janes-Galaxy-A12", "Student-Jane", "Jane Student",
    # a family word next to something that could be a first name stays personal
    "Galaxy-Jane", "iPhone-Max", "Pixel-Bob", "galaxy-jane2", "galaxy-12bob", "honor", "mi", "moto",
    # unique machine-made names: not a person's, but one device's, so a key (and pseudonymised)
    "DESKTOP-4F7K2Q9", "LAPTOP-8KQ2M1ZT", "android-1a2b3c4d5e6f7a8b", "ESP_A1B2C3", "lab-12", "LIB-PC-14",
    "room-12-printer.local.",
    # an address next to a name
    "jane-10-0-0-5", "10-0-0-5-jane",
    # no name, or a pseudonym
    "", "   ", PSEUDONYM,
])
def test_names_that_are_not_generic(name):
    assert not is_generic_name(name)


def test_every_listed_name_is_written_normalised_and_is_generic():
    for name in GENERIC_NAMES:
        assert normalise_name(name) == name, name
        assert is_generic_name(name), name


def test_pseudonyms():
    assert is_pseudonym(PSEUDONYM) and is_pseudonym(normalise_name(PSEUDONYM.upper() + ".local."))
    assert not is_pseudonym("p:jane") and not is_pseudonym("janes-ipad")


def test_the_agent_and_the_collector_use_this_module():
    from headcount.agent import privacy
    from headcount.collector import identity, wire

    assert privacy.normalise_name is identity.normalise_name is wire.normalise_name is names.normalise_name
    assert identity.GENERIC_NAMES is GENERIC_NAMES
    for name in ("Student", "Galaxy-A12", "ip-10-0-0-5", "Janes-iPad", "iPad (2)", "Galaxy-Jane", PSEUDONYM):
        assert privacy.is_generic_name(name) == identity.is_generic_name(name) == is_generic_name(name), name
    # The rules file no longer carries a list of its own.
    rules = tomllib.loads(resources.files("headcount.agent").joinpath("device_classes.toml").read_text())
    assert "names" not in rules


@pytest.mark.parametrize("instance, device", [
    ("Jane Smith's iPad", "Jane Smith's iPad"), ("5EE14B90AA01@Jane's iPad", "Jane's iPad"),
    ("lab-12 [00:14:22:5e:20:02]", "lab-12"),
    ("Brother HL-L2350DW @ Jane Smith's MacBook Pro", "Jane Smith's MacBook Pro"),
    ("Room 9", "Room 9"),
])
def test_the_device_name_in_an_instance_name(instance, device):
    assert instance_device_name(instance) == device


def test_shared_printer_instances():
    assert split_shared_printer("Brother HL-L2350DW @ Jane Smith's MacBook Pro") == ("Brother HL-L2350DW",
                                                                                  "Jane Smith's MacBook Pro")
    assert split_shared_printer("HP LaserJet Pro M404n [8E4F21]") is None
    assert split_shared_printer("5EE14B90AA01@Jane") is None
    assert split_shared_printer(" @ Jane") is None


@pytest.mark.parametrize("host, instance, name", [
    # mDNS renamed the host on a conflict, and the record's own instance name shows it.
    ("Janes-iPad-2.local.", "Jane's iPad", "janes-ipad"),
    ("Janes-iPad-2.local.", "Janes-iPad", "janes-ipad"),
    ("Janes-iPad-13.local.", "5EE14B90AA01@Jane\u2019s iPad", "janes-ipad"),
    ("Jane-Smiths-MacBook-Pro-3.local.", "Brother HL-L2350DW @ Jane Smith's MacBook Pro", "jane-smiths-macbook-pro"),
    # No confirmation, or not a conflict counter: the number stays.
    ("Janes-iPad-2.local.", "", "janes-ipad-2"),
    ("Cart-iPad-2.local.", "Cart iPad 2", "cart-ipad-2"),
    ("Cart-iPad-2.local.", "Cart iPad (2)", "cart-ipad-2"),
    ("room-1.local.", "room", "room-1"),
    ("room-12.local.", "Room 12", "room-12"),
    ("room-100.local.", "room", "room-100"),
    ("Janes-iPad.local.", "Jane's iPad", "janes-ipad"),
])
def test_mdns_conflict_suffix(host, instance, name):
    assert mdns_host_name(host, instance) == name


def test_client_id_text_reads_text_ids_and_refuses_binary_ones():
    from headcount.names import client_id_text

    assert client_id_text(b"\x00janes-laptop") == "janes-laptop"       # type 0: text after the type byte
    assert client_id_text(b"janes-laptop") == "janes-laptop"
    assert client_id_text(b"\x01\x3c\x22\xfb\x00\x00\x01") == ""         # type 1 + MAC
    assert client_id_text(b"\xff\x00\x01\x00\x01\x2c\x8a") == ""         # an RFC 4361 DUID
    assert client_id_text(b"") == "" and client_id_text(b"\x00") == ""

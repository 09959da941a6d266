"""End-device classification: the packaged rules on realistic evidence, the evidence book, rules-file errors.

DHCP vendor classes and option-55 lists are ones real clients send (Windows,
AOSP DhcpClient, ChromeOS's dhcpcd, iOS/macOS, lwIP, HP JetDirect); OUIs are
looked up in scapy's copy of the IEEE registry, as the ARP scanner does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from headcount.agent.classify import (RULE_CLASSES, DeviceEvidence, EvidenceBook, RulesError, classify,
                                      classify_all, load_rules)
from headcount.agent.errors import ConfigError
from headcount.agent.model import (ArpSighting, Classification, DhcpSighting, HostFacts, HostInterface,
                                   MdnsService, TxtEntry)
from headcount.agent.scanners.arp import oui_vendor
from headcount.agent.snmp.model import SnmpDevice, SystemGroup
from headcount.macaddr import is_locally_administered
from headcount.names import is_generic_name

AT = datetime(2026, 11, 23, 9, 15, tzinfo=timezone.utc)

# Real OUIs (scapy's IEEE registry) and randomised ("private") addresses.
APPLE = "3c:22:fb:4a:10:01"
APPLE_2 = "3c:22:fb:4a:10:02"
DELL = "00:14:22:5e:20:01"
DELL_2 = "00:14:22:5e:20:02"
INTEL = "00:13:20:7b:30:01"
HP = "00:68:eb:12:40:01"
EPSON = "00:26:ab:33:50:01"
ESPRESSIF = "08:3a:f2:61:60:01"
GOOGLE = "00:f6:20:9c:70:01"
RASPBERRY = "28:cd:c1:0a:80:01"
PRIVATE_IPAD = "5e:e1:4b:90:aa:01"
PRIVATE_PHONE = "a6:0b:7c:21:bb:02"

WINDOWS_10 = (1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252)
APPLE_IOS15 = (1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46)
APPLE_LEGACY = (1, 121, 3, 6, 15, 119, 252, 95, 44, 46)
ANDROID_13 = (1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108)
CHROMEOS_DHCPCD = (1, 121, 33, 3, 6, 12, 15, 26, 28, 51, 54, 58, 59, 119, 252)
DHCLIENT_UBUNTU = (1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42)
LWIP = (1, 3, 28, 6)
EPSON_PROJECTOR = (6, 3, 1, 15, 66, 67, 13, 44)


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def arp(mac: str, ip: str = "198.51.100.20") -> ArpSighting:
    return ArpSighting(mac=mac, ip=ip, vendor=oui_vendor(mac), locally_administered=is_locally_administered(mac),
                       interface="eth0", observed_at=AT)


def dhcp(mac: str, vendor_class: str = "", prl: tuple[int, ...] = (), hostname: str = "",
         source: str = "client") -> DhcpSighting:
    client_id = b"\x01" + bytes.fromhex(mac.replace(":", ""))
    return DhcpSighting(mac=mac, ip="", hostname=hostname, vendor_class=vendor_class, client_id=client_id,
                        parameter_request_list=prl, message_type="REQUEST", interface="eth0", observed_at=AT,
                        source=source)


def mdns(mac: str, service_type: str, instance: str = "device", host: str = "device.local.",
         txt: dict[str, str] | None = None) -> MdnsService:
    entries = tuple(TxtEntry(key, value.encode()) for key, value in (txt or {}).items())
    return MdnsService(service_type=service_type, instance_name=instance, host=host, port=7000,
                       addresses=("198.51.100.40",), txt=entries, observed_at=AT, mac=mac)


def host_facts(os_name: str, interfaces: tuple[HostInterface, ...], hostname: str = "lab-07") -> HostFacts:
    return HostFacts(hostname=hostname, os=os_name, os_release="", kernel="", architecture="x86_64", cpu_model="",
                     cpu_logical=4, cpu_physical=2, memory_total_bytes=8 << 30, memory_available_bytes=4 << 30,
                     disks=(), interfaces=interfaces, boot_time=AT, observed_at=AT)


def test_the_ouis_used_here_are_what_the_registry_calls_them():
    # If scapy's registry renames a vendor, the oui_vendor rules must follow.
    assert oui_vendor(APPLE) == "Apple, Inc."
    assert oui_vendor(DELL) == "Dell Inc."
    assert oui_vendor(HP) == "HP Inc."
    assert oui_vendor(EPSON) == "Seiko Epson Corporation"
    assert oui_vendor(ESPRESSIF) == "Espressif Inc."
    assert oui_vendor(RASPBERRY).startswith("Raspberry Pi")
    assert oui_vendor(PRIVATE_IPAD) == ""


def test_packaged_rules_load_and_every_class_has_rules(rules):
    assert rules.margin == 3
    assert "rpMd" in rules.mdns_model_keys and "md" in rules.mdns_model_keys
    voted = {device_class for rule in rules.rules for device_class in rule.classes}
    assert voted == set(RULE_CLASSES)
    # Generic names moved out of the rules into headcount.names, which the collector shares.
    assert not hasattr(rules, "generic_names")
    assert is_generic_name("iPad")


def classes_of(observations, rules, book=None):
    book = book or EvidenceBook(vendor_of=oui_vendor)
    result = classify_all(observations, book, rules)
    return {o.mac: o.classification for o in result if getattr(o, "mac", "")}, result


REALISTIC = {
    "chromebook": [
        arp(INTEL),
        dhcp(INTEL, vendor_class="chromeos", prl=CHROMEOS_DHCPCD),
    ],
    "ipad": [
        arp(PRIVATE_IPAD),
        dhcp(PRIVATE_IPAD, prl=APPLE_IOS15, hostname="Jane-Smiths-iPad"),
        mdns(PRIVATE_IPAD, "_companion-link._tcp.local.", instance="Jane Smith’s iPad",
             host="Jane-Smiths-iPad.local.", txt={"rpMd": "iPad13,18", "rpVr": "510.15.1"}),
    ],
    "mac": [
        arp(APPLE),
        dhcp(APPLE, prl=APPLE_IOS15, hostname="Room-14-MacBook-Air"),
        mdns(APPLE, "_device-info._tcp.local.", instance="Room 14 MacBook Air", txt={"model": "MacBookAir10,1"}),
    ],
    "windows_pc": [
        arp(DELL),
        dhcp(DELL, vendor_class="MSFT 5.0", prl=WINDOWS_10, hostname="DESKTOP-4F7K2Q9"),
    ],
    "linux_pc": [
        arp(DELL_2),
        dhcp(DELL_2, prl=DHCLIENT_UBUNTU, hostname="lab-12"),
        mdns(DELL_2, "_workstation._tcp.local.", instance=f"lab-12 [{DELL_2}]", host="lab-12.local."),
    ],
    "phone": [
        arp(PRIVATE_PHONE),
        dhcp(PRIVATE_PHONE, vendor_class="android-dhcp-13", prl=ANDROID_13),
    ],
    "printer": [
        arp(HP),
        dhcp(HP, vendor_class="Hewlett-Packard JetDirect", hostname="NPI8E4F21"),
        mdns(HP, "_ipp._tcp.local.", instance="HP LaserJet Pro M404n [8E4F21]",
             txt={"ty": "HP LaserJet Pro M404n", "product": "(HP LaserJet Pro M404n)", "rp": "ipp/print"}),
    ],
    "display": [
        arp(EPSON),
        dhcp(EPSON, prl=EPSON_PROJECTOR),
    ],
    "iot": [
        arp(ESPRESSIF),
        dhcp(ESPRESSIF, prl=LWIP, hostname="espressif"),
    ],
}


@pytest.mark.parametrize("expected", sorted(REALISTIC))
def test_each_class_from_realistic_evidence(expected, rules):
    observations = REALISTIC[expected]
    classes, result = classes_of(observations, rules)
    assert len(classes) == 1
    classification = next(iter(classes.values()))
    assert classification.device_class == expected, classification.evidence
    # Every record of the device carries the same decision.
    assert {o.classification for o in result} == {classification}
    assert classification.evidence[-1].startswith(f"decision: {expected} (")


def test_displays_and_iot_from_mdns_models(rules):
    apple_tv = [arp(APPLE), mdns(APPLE, "_airplay._tcp.local.", txt={"model": "AppleTV11,1", "deviceid": APPLE})]
    chromecast = [mdns(GOOGLE, "_googlecast._tcp.local.", txt={"md": "Chromecast", "fn": "Room 9 TV"})]
    nest_hub = [mdns(GOOGLE, "_googlecast._tcp.local.", txt={"md": "Google Nest Hub", "fn": "Office"})]
    homepod = [arp(APPLE_2), mdns(APPLE_2, "_airplay._tcp.local.", txt={"model": "AudioAccessory5,1"})]
    # An Android TV runs the phones' DHCP client, but phones never receive casts.
    android_tv = [arp(GOOGLE), dhcp(GOOGLE, vendor_class="android-dhcp-12", prl=ANDROID_13),
                  mdns(GOOGLE, "_googlecast._tcp.local.", txt={"md": "BRAVIA 4K VH2"})]
    assert classes_of(android_tv, rules)[0][GOOGLE].device_class == "display"
    assert classes_of(apple_tv, rules)[0][APPLE].device_class == "display"
    assert classes_of(chromecast, rules)[0][GOOGLE].device_class == "display"
    assert classes_of(nest_hub, rules)[0][GOOGLE].device_class == "iot"
    assert classes_of(homepod, rules)[0][APPLE_2].device_class == "iot"


@pytest.mark.parametrize("observations", [
    [arp(APPLE)],                                            # Apple makes iPads, Macs and iPhones
    [arp(EPSON)],                                            # projector or printer?
    [arp(HP)],                                               # printer or PC?
    [arp(APPLE), dhcp(APPLE, prl=APPLE_LEGACY)],             # still any of the three
    [arp(PRIVATE_PHONE)],                                    # a private address says nothing
    [arp(APPLE), mdns(APPLE, "_device-info._tcp.local.", txt={"model": "MacBookPro16,1"}),
     dhcp(APPLE, "MSFT 5.0", WINDOWS_10)],                   # a Mac that boots Windows too
], ids=["apple-oui", "epson-oui", "hp-oui", "apple-fingerprint", "private-mac", "boot-camp"])
def test_ambiguous_evidence_is_unknown(observations, rules):
    classes, _ = classes_of(observations, rules)
    (classification,) = classes.values()
    assert classification.device_class == "unknown"
    assert classification.evidence[-1].startswith("decision: unknown (")


def test_randomised_mac_ignores_the_oui(rules):
    burnt_in = DeviceEvidence(mac=ESPRESSIF, oui_vendor="Espressif Inc.", mdns_service_types=frozenset({"_ssh._tcp"}))
    assert classify(burnt_in, rules).device_class == "iot"
    # Same evidence from a locally administered address: the OUI bits are random,
    # so a vendor name found for them (here forced) must not count.
    randomised = replace(burnt_in, mac="0a:3a:f2:61:60:01")
    result = classify(randomised, rules)
    assert result.device_class == "unknown"
    assert not any(line.startswith("oui vendor") for line in result.evidence)
    assert any("locally administered" in line and "OUI rules skipped" in line for line in result.evidence)
    assert "mdns service '_ssh._tcp' -> linux_pc|mac (+1 each)" in result.evidence
    # And the book does not even look a randomised MAC up.
    def lookup(mac):
        raise AssertionError(f"looked up {mac}")

    assert EvidenceBook(vendor_of=lookup).add(dhcp("0a:3a:f2:61:60:01", prl=LWIP)).oui_vendor == ""


def test_evidence_lines_say_which_rule_fired_and_never_quote_a_hostname(rules):
    classes, _ = classes_of(REALISTIC["windows_pc"] + REALISTIC["ipad"], rules)
    windows = classes[DELL]
    assert "dhcp vendor class 'MSFT 5.0' -> windows_pc (+6)" in windows.evidence
    assert ("dhcp fingerprint '1,3,6,15,31,33,43,44,46,47,119,121,249,252' -> windows_pc (+5)"
            in windows.evidence)
    assert "oui vendor 'Dell Inc.' -> windows_pc (+1)" in windows.evidence
    assert any(line.startswith("dhcp hostname matches /^(DESKTOP-") and line.endswith("-> windows_pc (+4)")
               for line in windows.evidence)
    assert windows.evidence[-1] == "decision: windows_pc (windows_pc 16; ahead by 16, margin 3)"
    ipad = classes[PRIVATE_IPAD]
    assert "mdns model 'iPad13,18' -> ipad (+8)" in ipad.evidence
    assert ("dhcp fingerprint '1,121,3,6,15,108,114,119,252,95,44,46' -> ipad|mac|phone (+2 each)"
            in ipad.evidence)
    assert "dhcp hostname matches /ipad/ -> ipad (+3)" in ipad.evidence
    for classification in classes.values():
        for line in classification.evidence:
            assert "DESKTOP-4F7K2Q9" not in line and "jane" not in line.casefold()


def test_two_hosts_with_the_same_vendor_and_class_stay_two_records(rules):
    book = EvidenceBook(vendor_of=oui_vendor)
    observations = [
        arp(DELL, "198.51.100.21"), dhcp(DELL, "MSFT 5.0", WINDOWS_10, "LIB-PC-01"),
        arp(DELL_2, "198.51.100.22"), dhcp(DELL_2, "MSFT 5.0", WINDOWS_10, "LIB-PC-02"),
    ]
    result = classify_all(observations, book, rules)
    assert len(book) == 2
    assert book.get(DELL).dhcp_hostname == "LIB-PC-01"
    assert book.get(DELL_2).dhcp_hostname == "LIB-PC-02"
    assert [o.classification.device_class for o in result] == ["windows_pc"] * 4
    assert [o.mac for o in result] == [DELL, DELL, DELL_2, DELL_2]   # order and records preserved


def test_the_book_remembers_across_calls_and_uses_the_whole_batch(rules):
    book = EvidenceBook(vendor_of=oui_vendor)
    # Passive listening heard the DHCP exchange first ...
    classify_all([dhcp(DELL, "MSFT 5.0", WINDOWS_10)], book, rules)
    # ... so the next sweep's ARP reply is classified from it.
    (sighting,) = classify_all([arp(DELL)], book, rules)
    assert sighting.classification.device_class == "windows_pc"
    # Within one batch, an ARP reply listed before the DHCP packet gets the same answer.
    first, second = classify_all([arp(ESPRESSIF), dhcp(ESPRESSIF, prl=LWIP)], book, rules)
    assert first.classification == second.classification
    assert first.classification.device_class == "iot"


def test_book_is_bounded_and_forgets_the_least_recently_heard(rules):
    book = EvidenceBook(max_devices=2, vendor_of=oui_vendor)
    book.add(dhcp(DELL, "MSFT 5.0"))
    book.add(dhcp(DELL_2, "MSFT 5.0"))
    book.add(arp(DELL))                  # DELL heard again: DELL_2 is now the oldest
    book.add(arp(HP))
    assert len(book) == 2
    assert DELL in book and HP in book and DELL_2 not in book
    assert book.get(DELL).dhcp_vendor_class == "MSFT 5.0"
    with pytest.raises(ValueError):
        EvidenceBook(max_devices=0)


def test_book_merges_mdns_models_and_service_types(rules):
    book = EvidenceBook(vendor_of=oui_vendor)
    book.add(mdns(APPLE, "_airplay._tcp.local.", txt={"model": "MacBookPro18,3", "srcvers": "670.6.2"}),
             rules.mdns_model_keys)
    evidence = book.add(mdns(APPLE, "_companion-link._tcp.local.", txt={"rpMd": "MacBookPro18,3"}),
                        rules.mdns_model_keys)
    assert evidence.mdns_service_types == frozenset({"_airplay._tcp", "_companion-link._tcp"})
    assert evidence.mdns_models == ("MacBookPro18,3",)
    assert evidence.oui_vendor == "Apple, Inc."
    assert classify(evidence, rules).device_class == "mac"


def test_server_messages_do_not_lend_the_client_their_options(rules):
    book = EvidenceBook(vendor_of=oui_vendor)
    evidence = book.add(dhcp(INTEL, vendor_class="MSFT 5.0", prl=WINDOWS_10, source="server"))
    assert evidence.dhcp_vendor_class == "" and evidence.dhcp_fingerprint == ()


def test_mdns_without_a_mac_is_classified_on_its_own(rules):
    printer = mdns("", "_ipps._tcp.local.", txt={"ty": "Brother HL-L2350DW series"})
    (result,) = classify_all([printer], EvidenceBook(vendor_of=oui_vendor), rules)
    assert result.classification.device_class == "printer"


def test_host_facts_give_every_interface_the_host_os(rules):
    facts = host_facts("Linux", (
        HostInterface("docker0", "02:42:ac:11:00:01", (), True, 0),
        HostInterface("lo", "00:00:00:00:00:00", ("127.0.0.1/8",), True, 0),
        HostInterface("eth0", RASPBERRY, ("198.51.100.5/24",), True, 1000),
    ))
    book = EvidenceBook(vendor_of=oui_vendor)
    (result,) = classify_all([facts], book, rules)
    assert len(book) == 2                               # the all-zero loopback MAC is nobody's
    assert book.get(RASPBERRY).host_os == "Linux"
    # The burnt-in MAC speaks for the host: Raspberry Pi OUI (iot 3, linux_pc 1) + Linux (linux_pc 6).
    assert result.classification.device_class == "linux_pc"
    assert "host os 'Linux' -> linux_pc (+6)" in result.classification.evidence
    # A later ARP reply from that interface is the same machine.
    (sighting,) = classify_all([arp(RASPBERRY)], book, rules)
    assert sighting.classification == result.classification


def test_windows_host_facts(rules):
    facts = host_facts("Windows", (HostInterface("Ethernet", DELL, (), True, 1000),))
    (result,) = classify_all([facts], EvidenceBook(vendor_of=oui_vendor), rules)
    assert result.classification.device_class == "windows_pc"


def test_snmp_devices_pass_through_untouched(rules):
    switch = SnmpDevice(address="198.51.100.2", observed_at=AT, system=SystemGroup(name="core-sw"), mac=DELL)
    book = EvidenceBook(vendor_of=oui_vendor)
    (result,) = classify_all([switch], book, rules)
    assert result is switch
    assert len(book) == 0


def test_existing_classification_is_replaced_not_kept(rules):
    stale = replace(arp(DELL), classification=Classification("printer", ("old",)))
    result, _ = classify_all([stale, dhcp(DELL, "MSFT 5.0", WINDOWS_10)], EvidenceBook(vendor_of=oui_vendor),
                             rules)
    assert result.classification.device_class == "windows_pc"


def test_matching_is_case_insensitive(rules):
    shouting = DeviceEvidence(mac=INTEL, dhcp_vendor_class="CHROMEOS")
    assert classify(shouting, rules).device_class == "chromebook"
    assert classify(DeviceEvidence(mdns_models=("ipad8,11",)), rules).device_class == "ipad"
    assert classify(DeviceEvidence(), rules).evidence == ("decision: unknown (no rule matched)",)


VALID_RULE = """
[[rule]]
field = "dhcp_vendor_class"
match = "exact"
value = "MSFT 5.0"
class = "windows_pc"
weight = 6
"""


@pytest.mark.parametrize("second_rule, field", [
    ('field = "dhcp_vendor"\nmatch = "exact"\nvalue = "x"\nclass = "iot"\nweight = 1', "field"),
    ('field = "oui_vendor"\nmatch = "glob"\nvalue = "x"\nclass = "iot"\nweight = 1', "match"),
    ('field = "oui_vendor"\nmatch = "regex"\nvalue = "(unclosed"\nclass = "iot"\nweight = 1', "value"),
    ('field = "oui_vendor"\nmatch = "exact"\nvalue = ""\nclass = "iot"\nweight = 1', "value"),
    ('field = "oui_vendor"\nmatch = "exact"\nvalue = "x"\nclass = "tablet"\nweight = 1', "class"),
    ('field = "oui_vendor"\nmatch = "exact"\nvalue = "x"\nclass = "unknown"\nweight = 1', "class"),
    ('field = "oui_vendor"\nmatch = "exact"\nvalue = "x"\nclass = ["iot", "iot"]\nweight = 1', "class"),
    ('field = "oui_vendor"\nmatch = "exact"\nvalue = "x"\nclass = "iot"\nweight = true', "weight"),
    ('field = "oui_vendor"\nmatch = "exact"\nvalue = "x"\nclass = "iot"\nweight = 0', "weight"),
    ('field = "oui_vendor"\nmatch = "exact"\nvalue = "x"\nclass = "iot"', "weight"),
    ('field = "oui_vendor"\nmatch = "exact"\nvalue = "x"\nclass = "iot"\nweight = 1\nwieght = 2', "wieght"),
])
def test_a_broken_rule_names_file_index_and_field(tmp_path, second_rule, field):
    path = tmp_path / "rules.toml"
    path.write_text(VALID_RULE + "\n[[rule]]\n" + second_rule + "\n")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: rule[1].{field}")
    assert isinstance(caught.value, ConfigError)


def test_broken_rules_file_errors(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[[rule]\nfield =")
    with pytest.raises(RulesError, match=rf"^{path}: not valid TOML"):
        load_rules(path)
    path.write_text("[scoring]\nmargin = 0\n" + VALID_RULE)
    with pytest.raises(RulesError, match=r"scoring\.margin = 0"):
        load_rules(path)
    path.write_text("[classes]\n")
    with pytest.raises(RulesError, match=r"unknown section \[classes\]"):
        load_rules(path)
    with pytest.raises(RulesError, match="cannot read it"):
        load_rules(tmp_path / "missing.toml")


def test_a_custom_rules_file_is_used(tmp_path, rules):
    path = tmp_path / "rules.toml"
    path.write_text("[scoring]\nmargin = 1\n" + VALID_RULE)
    custom = load_rules(Path(path))
    assert custom.source == str(path) and len(custom.rules) == 1
    evidence = DeviceEvidence(mac=DELL, dhcp_vendor_class="MSFT 5.0")
    assert classify(evidence, custom).device_class == "windows_pc"


# ---------------------------------------------------------------- candidates (for the name policy)

def test_candidates_are_every_class_that_scored_best_first(rules):
    mac_sharing_a_printer = "5e:e1:4b:90:aa:07"   # private address: no OUI rule
    observations = [
        mdns(mac_sharing_a_printer, "_ipp._tcp.local.", instance="Brother HL-L2350DW @ Jane Smith's MacBook Pro",
             host="Jane-Smiths-MacBook-Pro.local.", txt={"ty": "Brother HL-L2350DW", "rp": "printers/Brother"}),
        mdns(mac_sharing_a_printer, "_ssh._tcp.local.", instance="Jane Smith's MacBook Pro",
             host="Jane-Smiths-MacBook-Pro.local."),
    ]
    classification = classes_of(observations, rules)[0][mac_sharing_a_printer]
    assert classification.device_class == "printer"
    assert classification.evidence[-1] == "decision: printer (printer 9, linux_pc 1, mac 1; ahead by 8, margin 3)"
    assert classification.candidates == ("printer", "linux_pc", "mac")
    # An HP printer: the HP OUI names only the printer class, so nothing but "printer" scored.
    hp = classes_of(REALISTIC["printer"], rules)[0][HP]
    assert hp.device_class == "printer" and hp.candidates == ("printer",)
    assert classify(DeviceEvidence(), rules).candidates == ()
    assert classes_of([arp(APPLE)], rules)[0][APPLE].candidates == ("ipad", "mac", "phone")


def test_candidates_never_reach_the_wire(rules):
    from headcount.agent.wire import observation_message

    (classified,) = classify_all([arp(APPLE)], EvidenceBook(vendor_of=oui_vendor), rules)
    assert classified.classification.candidates
    message = observation_message(classified)
    assert [field.name for field, _ in message.classification.ListFields()] == ["device_class", "evidence"]


# ---------------------------------------------------------------- bounded evidence

HOSTILE_MODEL = ("Brother HL-" + "\x1b[31m\x00\n\r\t\u202e\u2028" * 12 + "A" * 300)[:255]


def test_evidence_lines_are_short_and_printable_whatever_a_device_sends(rules):
    evidence = DeviceEvidence(mac=PRIVATE_PHONE, mdns_models=(HOSTILE_MODEL, "iPad" + "\x00" * 250),
                              dhcp_vendor_class="MSFT 5.0" + "\x7f" * 240, mdns_service_types=frozenset({"_ipp._tcp"}))
    result = classify(evidence, rules)
    assert any(line.startswith("mdns model 'Brother HL-") for line in result.evidence)
    assert 2 <= len(result.evidence) <= 40
    for line in result.evidence:
        assert len(line) <= 200, line
        assert line.isprintable(), line
    assert result.evidence[-1].startswith("decision: ")


def test_at_most_forty_evidence_lines_and_the_decision_is_last(tmp_path):
    many = "".join(f'\n[[rule]]\nfield = "mdns_service_type"\nmatch = "exact"\nvalue = "_s{i}._tcp"\n'
                   f'class = "iot"\nweight = 1\n' for i in range(60))
    path = tmp_path / "rules.toml"
    path.write_text(many)
    custom = load_rules(path)
    evidence = DeviceEvidence(mac=PRIVATE_PHONE, mdns_service_types=frozenset(f"_s{i}._tcp" for i in range(60)))
    result = classify(evidence, custom)
    assert result.device_class == "iot"
    assert len(result.evidence) == 40
    assert result.evidence[-1] == "decision: iot (iot 60; ahead by 60, margin 3)"
    assert result.evidence[-2] == "... and 23 more matching rules not listed"
    assert all(len(line) <= 200 for line in result.evidence)


def test_a_rules_file_with_a_names_section_says_where_the_names_went(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[names]\ngeneric = ["ipad"]\n' + VALID_RULE)
    with pytest.raises(RulesError, match=r"\[names\] is no longer read .*headcount\.names"):
        load_rules(path)

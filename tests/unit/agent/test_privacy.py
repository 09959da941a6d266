"""The student-privacy name policy: pseudonyms, generic names, and no raw name in any field of any record."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from headcount.agent.config import PrivacySettings
from headcount.agent.model import (ArpSighting, Classification, DhcpSighting, DiskUsage, HostFacts, HostInterface,
                                   MdnsService, TxtEntry)
from headcount.agent.privacy import (apply_name_policy, is_generic_name, normalise_name, policy_for,
                                     pseudonym)
from headcount.agent.snmp.model import SnmpDevice, SystemGroup

AT = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
SECRET = b"0f3a9c51d2e84b7a96c1e0d5b8a2f417"
OTHER_SECRET = b"7d1e6b2c9a0f4e5d8c3b1a2f6e9d0c47"
NAME = "Jane-Smiths-iPad"
MAC = "5e:e1:4b:90:aa:01"
STUDENT = Classification("ipad", ("mdns model 'iPad13,18' -> ipad (+8)",
                                  "decision: ipad (ipad 8; ahead by 8, margin 3)"))
PRINTER = Classification("printer", ("decision: printer",))

PSEUDONYMISE = PrivacySettings(student_names="pseudonymise", other_names="keep", secret=SECRET,
                               secret_source="test")
DROP = PrivacySettings(student_names="drop", other_names="keep", secret=SECRET, secret_source="test")
NO_SECRET = PrivacySettings(student_names="pseudonymise", other_names="keep")
KEEP = PrivacySettings(student_names="keep", other_names="keep", secret=SECRET)


def dhcp(hostname: str = NAME, client_id: bytes = b"\x01" + bytes.fromhex("5ee14b90aa01"),
         vendor_class: str = "", classification: Classification | None = STUDENT) -> DhcpSighting:
    return DhcpSighting(mac=MAC, ip="198.51.100.31", hostname=hostname, vendor_class=vendor_class,
                        client_id=client_id, parameter_request_list=(1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46),
                        message_type="REQUEST", interface="eth0", observed_at=AT, classification=classification)


def mdns(service_type: str, instance: str, host: str, txt: dict[str, str],
         classification: Classification | None = STUDENT) -> MdnsService:
    return MdnsService(service_type=service_type, instance_name=instance, host=host, port=7000,
                       addresses=("198.51.100.31",), txt=tuple(TxtEntry(k, v.encode()) for k, v in txt.items()),
                       observed_at=AT, mac=MAC, classification=classification)


def endpoint_host(hostname: str = NAME) -> HostFacts:
    return HostFacts(hostname=hostname, os="Linux", os_release="Ubuntu 24.04 LTS", kernel="6.8.0",
                     architecture="x86_64", cpu_model="Intel(R) Core(TM) i5", cpu_logical=8, cpu_physical=4,
                     memory_total_bytes=8 << 30, memory_available_bytes=4 << 30,
                     # A USB stick named after its owner, mounted under the host's name: the
                     # raw name copied into a field the policy does not know about.
                     disks=(DiskUsage(f"/media/{hostname}", "/dev/sdb1", "vfat", 1 << 30, 1 << 20),),
                     interfaces=(HostInterface("eth0", MAC, ("198.51.100.31/24",), True, 1000),),
                     boot_time=AT, observed_at=AT, endpoint=True, classification=STUDENT)


def records_naming(name: str) -> list:
    """Every kind of record, with `name` wherever a device puts its name (and a few places it should not)."""
    return [
        dhcp(hostname=name, client_id=b"\x00" + name.encode()),
        dhcp(hostname=name, vendor_class=f"dhcpcd-9.4.1:{name}"),   # a name in an unexpected field
        mdns("_companion-link._tcp.local.", name.replace("-", " "), f"{name}.local.",
             {"rpMd": "iPad13,18", "rpHN": "4b0b7a0c1d2e", "rpVr": "510.15.1"}),
        mdns("_airplay._tcp.local.", name, f"{name}.local.",
             {"model": "iPad13,18", "deviceid": "5E:E1:4B:90:AA:01", "srcvers": "710.84.1",
              "name": name, "adminurl": f"http://{name}.local./"}),
        mdns("_raop._tcp.local.", f"5EE14B90AA01@{name}", f"{name}.local.", {"am": "iPad13,18", "cn": "0,1,2,3"}),
        mdns("_workstation._tcp.local.", f"{name} [{MAC}]", f"{name}.local.", {}),
        # The name where a model goes: an allowed TXT key is trusted unless its value
        # repeats a name heard in the same record (here the host).
        mdns("_airplay._tcp.local.", "Room 9", f"{name}.local.", {"model": name}),
        endpoint_host(name),
        replace(dhcp(hostname=name), classification=Classification("ipad", (f"odd line quoting {name}",))),
        ArpSighting(mac=MAC, ip="198.51.100.31", vendor="", locally_administered=True, interface="eth0",
                    observed_at=AT, classification=STUDENT),
    ]


def texts(value) -> list[str]:
    """Every str and bytes anywhere in a record, recursively."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode("utf-8", errors="replace")]
    if isinstance(value, (tuple, list, frozenset)):
        return [text for item in value for text in texts(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [text for f in dataclasses.fields(value) for text in texts(getattr(value, f.name))]
    return []


def test_pseudonym_is_an_hmac_of_the_normalised_name():
    expected = "p:" + hmac.new(SECRET, b"jane-smiths-ipad", hashlib.sha256).hexdigest()[:32]
    assert pseudonym(NAME, SECRET) == expected
    assert len(expected) == 34


@pytest.mark.parametrize("spelling", [
    "Jane-Smiths-iPad.local.",        # mDNS SRV target
    "jane-smiths-ipad",               # DHCP option 12
    "JANE-SMITHS-IPAD.local",
    "Jane Smith's iPad",              # the device name, as in mDNS instance names
    "Jane Smith\u2019s iPad",         # ... with the typographic apostrophe iOS uses
])
def test_pseudonym_is_the_same_for_every_spelling_of_one_name(spelling):
    assert pseudonym(spelling, SECRET) == pseudonym(NAME, SECRET)
    assert normalise_name(spelling) == "jane-smiths-ipad"


def test_pseudonym_differs_with_the_secret_and_the_name():
    assert pseudonym(NAME, SECRET) != pseudonym(NAME, OTHER_SECRET)
    assert pseudonym(NAME, SECRET) != pseudonym("Jane-Smiths-iPad-2", SECRET)
    with pytest.raises(ValueError, match="secret"):
        pseudonym(NAME, b"")
    with pytest.raises(ValueError):
        pseudonym(".local.", SECRET)


@pytest.mark.parametrize("name", [
    "iPad", "iPhone", "iPad (2)", "iPhone-3", "iPad.local.", "MacBook-Air", "MacBook Pro", "localhost",
    "raspberrypi", "Chromebook", "Apple TV", "espressif", "(none)",
])
def test_generic_names(name):
    assert is_generic_name(name)


@pytest.mark.parametrize("name", [
    NAME, "Janes-iPad", "DESKTOP-4F7K2Q9", "LAPTOP-8KQ2M1ZT", "android-1a2b3c4d5e6f7a8b", "ESP_A1B2C3",
    "lab-12", "iPad-of-jane", "", "   ",
])
def test_names_that_are_not_generic(name):
    # Unique names (even machine-made ones) are pseudonymised, which keeps them linkable.
    assert not is_generic_name(name)


def test_policy_follows_the_device_class():
    assert policy_for(dhcp(classification=STUDENT), PSEUDONYMISE) == "pseudonymise"
    assert policy_for(dhcp(classification=PRINTER), PSEUDONYMISE) == "keep"
    assert policy_for(dhcp(classification=None), PSEUDONYMISE) == "pseudonymise"   # no class: a student's
    assert policy_for(dhcp(classification=Classification()), DROP) == "drop"        # "unknown"
    # A site that does not count "unknown" among student classes gets other_names for it.
    narrow = replace(PSEUDONYMISE, student_classes=("ipad",), other_names="drop")
    assert policy_for(dhcp(classification=None), narrow) == "drop"
    # No key, no safe pseudonym: withheld instead.
    assert policy_for(dhcp(), NO_SECRET) == "drop"


@pytest.mark.parametrize("settings, done", [(PSEUDONYMISE, "pseudonymise"), (DROP, "drop"), (NO_SECRET, "drop")])
def test_the_raw_name_survives_in_no_field_of_any_record(settings, done):
    for record in records_naming(NAME):
        result = apply_name_policy(record, settings)
        assert result.name_policy == done
        for text in texts(result):
            folded = text.casefold()
            assert "jane-smiths-ipad" not in folded and "jane smiths ipad" not in folded, (type(record), text)
            assert "jane" not in folded, (type(record), text)


def test_pseudonymise_replaces_each_name_field_linkably():
    expected = pseudonym(NAME, SECRET)
    sighting = apply_name_policy(dhcp(client_id=b"\x00" + NAME.encode()), PSEUDONYMISE)
    assert sighting.hostname == expected
    assert sighting.client_id == expected.encode()       # a text client id is the same name
    assert sighting.mac == MAC and sighting.classification == STUDENT

    airplay = apply_name_policy(mdns("_airplay._tcp.local.", "Jane Smith’s iPad", f"{NAME}.local.",
                                     {"model": "iPad13,18", "deviceid": "5E:E1:4B:90:AA:01", "fn": "Jane"}),
                                PSEUDONYMISE)
    assert airplay.instance_name == expected
    assert airplay.host == expected + ".local."
    txt = {entry.key: entry.value for entry in airplay.txt}
    assert txt["model"] == b"iPad13,18"
    assert txt["deviceid"] == b"5E:E1:4B:90:AA:01"                # a MAC, not a name: kept
    assert txt["fn"] == pseudonym("Jane", SECRET).encode()       # anything else is treated as a name

    raop = apply_name_policy(mdns("_raop._tcp.local.", f"5EE14B90AA01@{NAME}", f"{NAME}.local.", {}), PSEUDONYMISE)
    assert raop.instance_name == f"5EE14B90AA01@{expected}"
    station = apply_name_policy(mdns("_workstation._tcp.local.", f"{NAME} [{MAC}]", "x.local.", {}), PSEUDONYMISE)
    assert station.instance_name == f"{expected} [{MAC}]"

    host = apply_name_policy(endpoint_host(), PSEUDONYMISE)
    assert host.hostname == expected
    assert host.os_release == "Ubuntu 24.04 LTS" and host.interfaces[0].name == "eth0"


def test_a_mac_sent_as_a_text_client_id_does_not_cost_the_record_its_addresses():
    result = apply_name_policy(dhcp(client_id=MAC.encode()), PSEUDONYMISE)
    assert result.client_id == pseudonym(MAC, SECRET).encode()
    assert (result.mac, result.ip) == (MAC, "198.51.100.31")


def test_binary_client_ids_are_pseudonymised_and_hardware_ones_kept():
    duid = bytes.fromhex("ff4b90aa01000100012c8e1f2a5ee14b90aa01")   # RFC 4361: IAID + DUID-LLT
    result = apply_name_policy(dhcp(client_id=duid), PSEUDONYMISE)
    assert result.client_id == pseudonym("hex:" + duid.hex(), SECRET).encode()
    hardware = b"\x01" + bytes.fromhex("5ee14b90aa01")
    assert apply_name_policy(dhcp(client_id=hardware), PSEUDONYMISE).client_id == hardware
    assert apply_name_policy(dhcp(client_id=hardware), DROP).client_id == hardware


def test_drop_empties_names_and_keeps_only_non_personal_txt():
    sighting = apply_name_policy(dhcp(client_id=b"\x00" + NAME.encode()), DROP)
    assert (sighting.hostname, sighting.client_id, sighting.name_policy) == ("", b"", "drop")
    service = apply_name_policy(mdns("_airplay._tcp.local.", NAME, f"{NAME}.local.",
                                     {"model": "iPad13,18", "srcvers": "710.84.1", "fn": "x", "pk": "ab12"}), DROP)
    assert (service.instance_name, service.host) == ("", "")
    assert [entry.key for entry in service.txt] == ["model", "srcvers"]
    assert service.port == 7000 and service.addresses == ("198.51.100.31",)


def test_pseudonymise_without_a_secret_withholds_names():
    result = apply_name_policy(dhcp(), NO_SECRET)
    assert result.hostname == "" and result.name_policy == "drop"


def test_generic_names_are_kept_under_pseudonymise():
    sighting = apply_name_policy(dhcp(hostname="iPad", client_id=b"\x00iPad"), PSEUDONYMISE)
    assert sighting.hostname == "iPad" and sighting.client_id == b"\x00iPad"
    assert sighting.name_policy == "pseudonymise"
    service = apply_name_policy(mdns("_companion-link._tcp.local.", "iPad (2)", "iPad-2.local.",
                                     {"rpMd": "iPad13,18"}), PSEUDONYMISE)
    assert (service.instance_name, service.host) == ("iPad (2)", "iPad-2.local.")
    # ... but "drop" means no names at all.
    assert apply_name_policy(dhcp(hostname="iPad"), DROP).hostname == ""


def test_keep_and_other_classes_leave_names_alone():
    record = dhcp()
    assert apply_name_policy(record, KEEP) == replace(record, name_policy="keep")
    printer = mdns("_ipp._tcp.local.", "Room 12 Epson", "EPSON3A61C2.local.", {"ty": "EPSON ET-5850 Series",
                                                                               "note": "Room 12"},
                   classification=PRINTER)
    assert apply_name_policy(printer, PSEUDONYMISE) == replace(printer, name_policy="keep")


def test_arp_and_snmp_carry_no_names():
    sighting = ArpSighting(mac=MAC, ip="198.51.100.31", vendor="", locally_administered=True, interface="eth0",
                           observed_at=AT)
    assert apply_name_policy(sighting, PSEUDONYMISE) == replace(sighting, name_policy="pseudonymise")
    assert apply_name_policy(sighting, NO_SECRET).name_policy == "drop"
    switch = SnmpDevice(address="198.51.100.2", observed_at=AT, system=SystemGroup(name="core-sw-1"))
    assert apply_name_policy(switch, PSEUDONYMISE) is switch


def test_the_policy_is_pure():
    record = dhcp()
    before = dataclasses.asdict(record)
    apply_name_policy(record, PSEUDONYMISE)
    assert dataclasses.asdict(record) == before
    assert apply_name_policy(record, PSEUDONYMISE) == apply_name_policy(record, PSEUDONYMISE)


# ---------------------------------------------------------------- fail-closed policy: a student's Mac sharing a printer

MAC_SHARING_PRINTER = "5e:e1:4b:90:aa:07"       # the Mac's private Wi-Fi address: its OUI says nothing


def shared_printer_records() -> list:
    """What a student's MacBook offers when it shares its USB printer, and its remote login."""
    return [
        MdnsService(service_type="_ipp._tcp.local.", instance_name="Brother HL-L2350DW @ Jane Smith's MacBook Pro",
                    host="Jane-Smiths-MacBook-Pro.local.", port=631, addresses=("198.51.100.44",),
                    txt=tuple(TxtEntry(k, v.encode()) for k, v in {
                        "txtvers": "1", "ty": "Brother HL-L2350DW", "note": "Jane Smith's MacBook Pro",
                        "rp": "printers/Brother_HL_L2350DW",
                        "adminurl": "https://Jane-Smiths-MacBook-Pro.local.:631/printers/Brother_HL_L2350DW",
                    }.items()),
                    observed_at=AT, mac=MAC_SHARING_PRINTER),
        MdnsService(service_type="_ssh._tcp.local.", instance_name="Jane Smith's MacBook Pro",
                    host="Jane-Smiths-MacBook-Pro.local.", port=22, addresses=("198.51.100.44",), txt=(),
                    observed_at=AT, mac=MAC_SHARING_PRINTER),
    ]


def pipeline(privacy: PrivacySettings):
    from headcount.agent.config import AgentConfig
    from headcount.agent.pipeline import ObservationPipeline

    return ObservationPipeline(AgentConfig(privacy=privacy), max_devices=64)


@pytest.mark.parametrize("settings, done", [(PSEUDONYMISE, "pseudonymise"), (DROP, "drop")])
def test_a_students_mac_that_shares_a_printer_keeps_no_name(settings, done):
    out = pipeline(settings).process(shared_printer_records())
    ipp, ssh = out
    # The decision is still "printer" (printer 9 vs mac 1) ...
    assert ipp.classification.device_class == "printer", ipp.classification.evidence
    assert ipp.classification.candidates[0] == "printer" and "mac" in ipp.classification.candidates
    # ... but a class that scored is a student class, so the student policy applies to every record.
    assert {o.name_policy for o in out} == {done}
    for record in out:
        for text in texts(record):
            folded = text.casefold()
            assert "jane" not in folded and "smith" not in folded, (record.service_type, text)
    txt = {entry.key: entry.value for entry in ipp.txt}
    assert txt["ty"] == b"Brother HL-L2350DW" and txt["rp"] == b"printers/Brother_HL_L2350DW"
    if done == "pseudonymise":
        computer = pseudonym("Jane Smith's MacBook Pro", SECRET)
        assert computer == pseudonym("Jane-Smiths-MacBook-Pro", SECRET)
        # The queue is only the model its TXT states, so it stays; the computer's name is a pseudonym
        # that links with the host's.
        assert ipp.instance_name == f"Brother HL-L2350DW @ {computer}"
        assert ipp.host == ssh.host == computer + ".local."
        assert ssh.instance_name == computer
        assert txt["note"] == pseudonym("Jane Smith's MacBook Pro", SECRET).encode()
    else:
        assert (ipp.instance_name, ipp.host, ssh.instance_name, ssh.host) == ("", "", "", "")
        assert set(txt) == {"txtvers", "ty", "rp"}


def test_candidates_decide_the_policy_not_only_the_winning_class():
    mostly_printer = Classification("printer", ("decision: printer",), candidates=("printer", "linux_pc", "mac"))
    only_printer = Classification("printer", ("decision: printer",), candidates=("printer",))
    assert policy_for(dhcp(classification=mostly_printer), PSEUDONYMISE) == "pseudonymise"
    assert policy_for(dhcp(classification=only_printer), PSEUDONYMISE) == "keep"
    undecided = Classification("unknown", ("decision: unknown (printer 2 alone: less than margin 3)",),
                               candidates=("printer",))
    assert policy_for(dhcp(classification=undecided), PSEUDONYMISE) == "pseudonymise"
    # A site that took "unknown" out of its student classes still protects a device one of them scored for.
    narrow = replace(PSEUDONYMISE, student_classes=("ipad",), other_names="keep")
    maybe_ipad = Classification("unknown", ("decision: unknown",), candidates=("display", "ipad"))
    assert policy_for(dhcp(classification=maybe_ipad), narrow) == "pseudonymise"
    assert policy_for(dhcp(classification=Classification("unknown", candidates=("display",))), narrow) == "keep"


def test_a_shared_printer_instance_gets_the_student_policy_even_on_a_real_printer():
    # Classified as nothing but a printer, yet "<queue> @ <computer>" is published by the computer that shares it.
    record = mdns("_ipp._tcp.local.", "Room 12 Laser @ Jane Smith's MacBook Pro", "Jane-Smiths-MacBook-Pro.local.",
                  {"ty": "HP LaserJet Pro M404n"}, classification=PRINTER)
    assert policy_for(record, PSEUDONYMISE) == "pseudonymise"
    result = apply_name_policy(record, PSEUDONYMISE)
    # The queue was named by the computer's owner (it is not the TXT model): a name too.
    assert result.instance_name == (f"{pseudonym('Room 12 Laser', SECRET)} @ "
                                    f"{pseudonym('Jane Smith’s MacBook Pro', SECRET)}")
    assert "jane" not in " ".join(texts(result)).casefold()


def test_a_plain_network_printer_keeps_its_names_under_other_names_keep():
    """HP OUI + IPP + ty=: only printer rules score (there is no HP OUI -> windows_pc rule), so "keep" holds."""
    hp = "00:68:eb:12:40:01"           # HP Inc.
    records = [
        ArpSighting(mac=hp, ip="198.51.100.60", vendor="HP Inc.", locally_administered=False, interface="eth0",
                    observed_at=AT),
        MdnsService(service_type="_ipp._tcp.local.", instance_name="Room 12 LaserJet", host="NPI8E4F21.local.",
                    port=631, addresses=("198.51.100.60",), observed_at=AT, mac=hp,
                    txt=(TxtEntry("ty", b"HP LaserJet Pro M404n"), TxtEntry("note", b"Room 12"))),
    ]
    out = pipeline(PSEUDONYMISE).process(records)
    assert [o.classification.candidates for o in out] == [("printer",), ("printer",)]
    assert [o.name_policy for o in out] == ["keep", "keep"]
    assert out[1] == replace(records[1], classification=out[1].classification, name_policy="keep")


# ---------------------------------------------------------------- generic names (one list with the collector)

@pytest.mark.parametrize("name", ["Student", "student (3)", "Teacher", "Guest", "Galaxy-A12", "Galaxy S21 Ultra 5G",
                                  "Pixel-7", "Pixel 7a", "iPad-Air", "iPad Pro", "Redmi Note 10 Pro", "Kindle",
                                  "Tablet", "ip-10-0-0-5", "dhcp-192-168-1-20.local."])
def test_the_collectors_generic_names_are_generic_here_too(name):
    from headcount.collector import identity

    assert is_generic_name(name) and identity.is_generic_name(name)


@pytest.mark.parametrize("settings", [PSEUDONYMISE, NO_SECRET, DROP])
def test_student_and_galaxy_stay_raw_under_pseudonymise_and_go_under_drop(settings):
    for name in ("Student", "Galaxy-A12"):
        result = apply_name_policy(dhcp(hostname=name, client_id=b"\x00" + name.encode()), settings)
        if result.name_policy == "pseudonymise":
            assert (result.hostname, result.client_id) == (name, b"\x00" + name.encode())
        else:
            assert (result.hostname, result.client_id) == ("", b"")


@pytest.mark.parametrize("name", ["Galaxy-Jane", "iPhone-Max", "Janes-Galaxy-A12", "jane-10-0-0-5", "Student-Jane"])
def test_a_personal_word_next_to_a_default_name_is_pseudonymised(name):
    assert not is_generic_name(name)
    assert apply_name_policy(dhcp(hostname=name), PSEUDONYMISE).hostname == pseudonym(name, SECRET)


# ---------------------------------------------------------------- what is searched for in other fields

def test_a_txt_value_is_replaced_but_never_searched_for_elsewhere():
    evidence = ("mdns service '_googlecast._tcp' -> display (+12)", "decision: unknown (display 12 vs ipad 8 ...)")
    maybe_student = Classification("unknown", evidence, candidates=("display", "ipad"))
    service = mdns("_googlecast._tcp.local.", "Chromecast-4f1a", "4f1a2b3c.local.",
                   {"fn": "googlecast", "md": "Chromecast", "id": "4f1a2b3c"}, classification=maybe_student)
    result = apply_name_policy(service, PSEUDONYMISE)
    assert result.service_type == "_googlecast._tcp.local."
    assert result.classification == maybe_student
    txt = {entry.key: entry.value for entry in result.txt}
    assert txt["fn"] == pseudonym("googlecast", SECRET).encode()     # still replaced, as an unknown TXT value
    assert txt["md"] == b"Chromecast"
    # The name fields still are search terms: a kept TXT value that repeats the host goes.
    named = apply_name_policy(mdns("_airplay._tcp.local.", "Room 9", f"{NAME}.local.", {"model": NAME}), PSEUDONYMISE)
    assert {e.key: e.value for e in named.txt}["model"] == pseudonym(NAME, SECRET).encode()


# ---------------------------------------------------------------- mDNS conflict renaming

def test_an_mdns_host_renamed_on_a_conflict_gets_its_dhcp_names_pseudonym():
    expected = pseudonym("Janes-iPad", SECRET)
    assert apply_name_policy(dhcp(hostname="Janes-iPad"), PSEUDONYMISE).hostname == expected
    for instance in ("Jane’s iPad", "Janes-iPad", "5EE14B90AA01@Jane's iPad"):
        service = apply_name_policy(mdns("_companion-link._tcp.local.", instance, "Janes-iPad-2.local.",
                                         {"rpMd": "iPad13,18"}), PSEUDONYMISE)
        assert service.host == expected + ".local.", instance
    # Without a record saying so, "-2" is part of the name: the second cart iPad is not the first.
    cart_2 = apply_name_policy(mdns("_companion-link._tcp.local.", "Cart iPad 2", "Cart-iPad-2.local.", {}),
                               PSEUDONYMISE)
    cart_3 = apply_name_policy(mdns("_companion-link._tcp.local.", "Cart iPad 3", "Cart-iPad-3.local.", {}),
                               PSEUDONYMISE)
    assert cart_2.host == pseudonym("Cart-iPad-2", SECRET) + ".local." != cart_3.host
    # And DHCP names never lose a number: room-12 and room-1 are two rooms.
    assert pseudonym("room-12", SECRET) != pseudonym("room-1", SECRET) != pseudonym("room", SECRET)
    assert apply_name_policy(dhcp(hostname="Janes-iPad-2"), PSEUDONYMISE).hostname == pseudonym("Janes-iPad-2",
                                                                                                SECRET)


# ---------------------------------------------------------------- endpoint host facts: disks

def endpoint_with_disks(*disks: DiskUsage) -> HostFacts:
    return replace(endpoint_host("LAB-PC-07"), disks=disks)


@pytest.mark.parametrize("settings", [PSEUDONYMISE, DROP])
def test_user_and_volume_names_in_mount_points_are_scrubbed(settings):
    facts = endpoint_with_disks(
        DiskUsage("/", "/dev/sda2", "ext4", 256 << 30, 100 << 30),
        DiskUsage("/media/jsmith/JANE USB", "/dev/sdb1", "vfat", 16 << 30, 1 << 30),
        DiskUsage("/run/media/jsmith/Photos", "/dev/sdc1", "exfat", 64 << 30, 2 << 30),
        DiskUsage("/Volumes/Jane's Stick", "/dev/disk4s1", "msdos", 8 << 30, 1 << 20),
        DiskUsage("/home/jsmith", "/home/.ecryptfs/jsmith/.Private", "ecryptfs", 1 << 30, 1 << 20),
        DiskUsage("C:\\Users\\jsmith\\OneDrive", "C:\\", "NTFS", 1 << 30, 1 << 20),
        DiskUsage("/mnt/share", "//fileserver/jsmith", "cifs", 1 << 30, 1 << 20),
    )
    result = apply_name_policy(facts, settings)
    everything = " ".join(texts(result)).casefold()
    assert "jsmith" not in everything and "jane" not in everything and "photos" not in everything
    mounts = [disk.mountpoint for disk in result.disks]
    assert mounts[0] == "/" and result.disks[0].device == "/dev/sda2"
    assert result.disks[3].device == "/dev/disk4s1" and result.disks[5].device == "C:\\"
    if settings is DROP:
        assert mounts[1:] == ["/media/(dropped)/(dropped)", "/run/media/(dropped)/(dropped)", "/Volumes/(dropped)",
                              "/home/(dropped)", "C:\\Users\\(dropped)\\(dropped)", "/mnt/(dropped)"]
    else:
        user = pseudonym("jsmith", SECRET)
        assert mounts[1] == f"/media/{user}/{pseudonym('JANE USB', SECRET)}"
        assert mounts[3] == f"/Volumes/{pseudonym('Jane’s Stick', SECRET)}"
        assert mounts[5] == f"C:\\Users\\{user}\\{pseudonym('OneDrive', SECRET)}"
        assert result.disks[4].device == (f"/home/{pseudonym('.ecryptfs', SECRET)}/{user}/"
                                          f"{pseudonym('.Private', SECRET)}")
    # Site mode keeps everything: the agent's own machine is infrastructure (the pipeline never asks).
    assert apply_name_policy(facts, KEEP).disks == facts.disks


def test_a_host_named_like_a_class_does_not_cost_the_record_its_class():
    windows = Classification("windows_pc", ("dhcp vendor class 'MSFT 5.0' -> windows_pc (+6)",
                                            "decision: windows_pc (windows_pc 6; ahead by 6, margin 3)"),
                             candidates=("windows_pc",))
    result = apply_name_policy(dhcp(hostname="Windows-PC", classification=windows), PSEUDONYMISE)
    assert result.hostname == pseudonym("Windows-PC", SECRET)
    assert (result.classification.device_class, result.classification.candidates) == ("windows_pc", ("windows_pc",))

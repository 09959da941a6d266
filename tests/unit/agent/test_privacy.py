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

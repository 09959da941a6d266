"""Pure collector helpers: MAC normalisation, timestamp text, IP ordering, merging sightings into device rows."""

from datetime import datetime, timedelta, timezone

import pytest

from headcount.collector.errors import CollectorError, InvalidMacError
from headcount.collector.model import (Device, DeviceSighting, format_timestamp, ip_sort_key, is_locally_administered,
                                       is_unicast, merge_sighting, normalize_mac, parse_timestamp)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["3c:22:fb:12:34:56", "3C:22:FB:12:34:56", "3c-22-fb-12-34-56", "3C-22-FB-12-34-56",
                                  "3c22.fb12.3456", "3C22.FB12.3456", "3c22fb123456", "3C22FB123456",
                                  "  3c:22:fb:12:34:56\n"])
def test_every_accepted_spelling_gives_the_lower_case_colon_form(text):
    assert normalize_mac(text) == "3c:22:fb:12:34:56"


@pytest.mark.parametrize("text", ["", "3c:22:fb:12:34", "3c:22:fb:12:34:56:78", "3c:22-fb:12:34:56", "3c22fb12345",
                                  "3c22fb1234567", "3g:22:fb:12:34:56", "3c22.fb12.345", "3c:22:fb:12:34:5",
                                  "not a mac", "3c2.2fb.123456"])
def test_anything_else_raises_a_collector_error_quoting_the_value(text):
    with pytest.raises(InvalidMacError) as caught:
        normalize_mac(text)
    assert isinstance(caught.value, CollectorError)
    assert caught.value.value == text
    assert repr(text) in str(caught.value)


def test_locally_administered_and_unicast_bits():
    assert is_locally_administered("da:a1:19:00:00:07") and is_locally_administered("02:00:00:00:00:01")
    assert not is_locally_administered("3c:22:fb:12:34:56")
    assert is_unicast("3c:22:fb:12:34:56")
    assert not is_unicast("01:00:5e:00:00:fb") and not is_unicast("ff:ff:ff:ff:ff:ff")
    assert not is_unicast("00:00:00:00:00:00")


def test_timestamp_text_has_one_shape_and_sorts_like_time():
    moments = [T0, T0 + timedelta(microseconds=1), T0.replace(year=2027), datetime(999, 1, 1, tzinfo=timezone.utc),
               T0.astimezone(timezone(timedelta(hours=-5))) + timedelta(seconds=1)]
    texts = [format_timestamp(m) for m in moments]
    assert format_timestamp(T0) == "2026-11-22T08:00:00.000000Z"
    assert all(len(t) == len(texts[0]) and t.endswith("Z") for t in texts)
    assert sorted(texts) == [format_timestamp(m) for m in sorted(moments)]
    assert [parse_timestamp(t) for t in texts] == moments
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 1, 1))


def test_ip_sort_key_orders_numerically_with_unknown_last():
    ips = ["10.0.0.10", "", "10.0.0.2", "9.255.255.255", "fe80::1", "10.0.0.1"]
    assert sorted(ips, key=ip_sort_key) == ["9.255.255.255", "10.0.0.1", "10.0.0.2", "10.0.0.10", "fe80::1", ""]


def arp(mac="3c:22:fb:00:00:01", ip="10.0.0.1", vendor="Apple, Inc.", hostname="", creates=True):
    return DeviceSighting(mac=mac, ip=ip, vendor=vendor, hostname=hostname, creates_device=creates)


def test_first_sighting_creates_a_row_with_the_mac_bit_deciding_randomised():
    device = merge_sighting(None, "s1", arp(mac="da:a1:19:00:00:07", vendor=""), T0, "arp")
    assert device == Device(site="s1", mac="da:a1:19:00:00:07", ip="10.0.0.1", vendor="", locally_administered=True,
                            hostname="", first_seen=T0, last_seen=T0, sources=("arp",))


def test_refresh_only_sightings_never_create_rows():
    assert merge_sighting(None, "s1", arp(ip="", vendor="", hostname="printer.local", creates=False), T0, "mdns") is None


def test_out_of_order_sightings_widen_the_window_and_newest_attributes_win():
    device = merge_sighting(None, "s1", arp(ip="10.0.0.5"), T0, "arp")
    later = merge_sighting(device, "s1", arp(ip="10.0.0.6"), T0 + timedelta(hours=2), "arp")
    assert (later.first_seen, later.last_seen, later.ip) == (T0, T0 + timedelta(hours=2), "10.0.0.6")
    # An older batch delivered late: extends first_seen, but neither moves last_seen back nor restores the old IP.
    older = merge_sighting(later, "s1", arp(ip="10.0.0.4"), T0 - timedelta(days=1), "arp")
    assert (older.first_seen, older.last_seen, older.ip) == (T0 - timedelta(days=1), T0 + timedelta(hours=2), "10.0.0.6")


def test_empty_values_never_erase_and_sources_accumulate():
    device = merge_sighting(None, "s1", arp(), T0, "arp")
    named = merge_sighting(device, "s1", arp(ip="", vendor="", hostname="lab-printer", creates=False),
                           T0 + timedelta(minutes=1), "mdns")
    assert (named.ip, named.vendor, named.hostname) == ("10.0.0.1", "Apple, Inc.", "lab-printer")
    assert named.sources == ("arp", "mdns")
    # An older sighting may still fill in a value nobody newer knew.
    device = merge_sighting(None, "s1", arp(vendor=""), T0, "arp")
    filled = merge_sighting(device, "s1", arp(vendor="Apple, Inc."), T0 - timedelta(hours=1), "dhcp")
    assert filled.vendor == "Apple, Inc." and filled.sources == ("arp", "dhcp")

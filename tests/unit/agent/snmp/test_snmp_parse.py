"""The pure MIB parsers on hand-made walks: joins, index shapes, odd values, and the walk loop's defences."""

from __future__ import annotations

import asyncio

from headcount.agent.snmp import mibs, parse
from headcount.agent.snmp.client import walk_subtree
from headcount.agent.snmp.values import (COUNTER32, END_OF_MIB_VIEW, GAUGE32, INTEGER, NO_SUCH_INSTANCE,
                                         OBJECT_IDENTIFIER, OCTET_STRING, TIMETICKS)


def column(root, rows):
    return [(root + tuple(index), tag, value) for index, tag, value in rows]


def test_interfaces_join_iftable_and_ifxtable_and_prefer_high_speed_and_64_bit_counters():
    walked = {
        mibs.IF_DESCR: column(mibs.IF_DESCR, [((1,), OCTET_STRING, b"GigabitEthernet1/0/1"),
                                              ((2,), OCTET_STRING, b"Vlan1\x00")]),
        mibs.IF_TYPE: column(mibs.IF_TYPE, [((1,), INTEGER, 6), ((2,), INTEGER, 53)]),
        mibs.IF_SPEED: column(mibs.IF_SPEED, [((1,), GAUGE32, 4294967295), ((2,), GAUGE32, 1000000000)]),
        mibs.IF_HIGH_SPEED: column(mibs.IF_HIGH_SPEED, [((1,), GAUGE32, 10000)]),
        mibs.IF_PHYS_ADDRESS: column(mibs.IF_PHYS_ADDRESS, [((1,), OCTET_STRING, bytes.fromhex("001122334455")),
                                                            ((2,), OCTET_STRING, b"")]),
        mibs.IF_ADMIN_STATUS: column(mibs.IF_ADMIN_STATUS, [((1,), INTEGER, 1), ((2,), INTEGER, 2)]),
        mibs.IF_OPER_STATUS: column(mibs.IF_OPER_STATUS, [((1,), INTEGER, 1), ((2,), INTEGER, 7)]),
        mibs.IF_IN_OCTETS: column(mibs.IF_IN_OCTETS, [((1,), COUNTER32, 5)]),
        mibs.IF_HC_IN_OCTETS: column(mibs.IF_HC_IN_OCTETS, [((1,), 0x46, 2**40)]),
        mibs.IF_IN_ERRORS: column(mibs.IF_IN_ERRORS, [((1,), COUNTER32, 7)]),
        mibs.IF_NAME: column(mibs.IF_NAME, [((1,), OCTET_STRING, b"Gi1/0/1")]),
        mibs.IF_ALIAS: column(mibs.IF_ALIAS, [((1,), OCTET_STRING, b'"Room 12 drop"')]),
    }
    problems: list[str] = []
    first, second = parse.interfaces(walked, problems)
    assert problems == []
    assert (first.if_index, first.name, first.descr, first.alias) == (1, "Gi1/0/1", "GigabitEthernet1/0/1", "Room 12 drop")
    assert (first.type, first.type_name, first.speed_bps) == (6, "ethernetCsmacd", 10_000_000_000)
    assert (first.admin_status, first.oper_status, first.mac) == ("up", "up", "00:11:22:33:44:55")
    assert (first.in_octets, first.in_errors) == (2**40, 7)
    assert (second.descr, second.type_name, second.oper_status, second.mac) == ("Vlan1", "propVirtual",
                                                                               "lowerLayerDown", "")


def test_wrong_types_and_exceptions_are_skipped_with_one_problem_per_column():
    walked = {
        mibs.IF_DESCR: column(mibs.IF_DESCR, [((1,), COUNTER32, 1), ((2,), COUNTER32, 2), ((3,), OCTET_STRING, b"ok"),
                                              ((4,), NO_SUCH_INSTANCE, None)]),
        mibs.IF_TYPE: column(mibs.IF_TYPE, [((1,), OCTET_STRING, b"six"), ((3,), INTEGER, 6)]),
    }
    problems: list[str] = []
    rows = parse.interfaces(walked, problems)
    assert [r.if_index for r in rows] == [1, 2, 3]   # a row with only bad values still exists
    assert len(problems) == 2
    assert problems[0].startswith("IF-MIB ifDescr: 2 rows skipped, expected an OCTET STRING")
    assert "Counter32" in problems[0]
    assert "IF-MIB ifType: 1 rows skipped, expected an integer" in problems[1]


def test_bridge_fdb_maps_bridge_ports_to_ifindex_and_drops_invalid_entries():
    mac_index = (0, 17, 34, 51, 68, 85)
    other = (0, 17, 34, 51, 68, 86)
    walked = {
        mibs.DOT1D_BASE_PORT_IF_INDEX: column(mibs.DOT1D_BASE_PORT_IF_INDEX, [((1,), INTEGER, 10101)]),
        mibs.DOT1D_TP_FDB_PORT: column(mibs.DOT1D_TP_FDB_PORT, [(mac_index, INTEGER, 1), (other, INTEGER, 1)]),
        mibs.DOT1D_TP_FDB_STATUS: column(mibs.DOT1D_TP_FDB_STATUS, [(mac_index, INTEGER, 3), (other, INTEGER, 2)]),
    }
    from headcount.agent.snmp.model import Interface
    entries = parse.forwarding_table(walked, [], [Interface(if_index=10101, name="Gi1/0/1")])
    assert [(e.mac, e.if_index, e.port_name, e.status, e.vlan) for e in entries] == [
        ("00:11:22:33:44:55", 10101, "Gi1/0/1", "learned", 0)]


def test_q_bridge_fdb_is_per_vlan_and_preferred():
    walked = {
        mibs.DOT1D_BASE_PORT_IF_INDEX: column(mibs.DOT1D_BASE_PORT_IF_INDEX, [((5,), INTEGER, 5)]),
        mibs.DOT1Q_TP_FDB_PORT: column(mibs.DOT1Q_TP_FDB_PORT, [((2, 0, 17, 34, 51, 68, 85), INTEGER, 5)]),
        mibs.DOT1Q_VLAN_FDB_ID: column(mibs.DOT1Q_VLAN_FDB_ID, [((0, 30), GAUGE32, 2)]),
        mibs.DOT1D_TP_FDB_PORT: column(mibs.DOT1D_TP_FDB_PORT, [((0, 17, 34, 51, 68, 85), INTEGER, 5)]),
    }
    (entry,) = parse.forwarding_table(walked, [], [])
    assert (entry.mac, entry.vlan, entry.if_index) == ("00:11:22:33:44:55", 30, 5)


def test_lldp_neighbours_with_mac_chassis_and_management_address():
    from headcount.agent.snmp.model import Interface
    index = (0, 3, 1)
    walked = {
        mibs.LLDP_LOC_PORT_ID: column(mibs.LLDP_LOC_PORT_ID, [((3,), OCTET_STRING, b"Gi0/3")]),
        mibs.LLDP_REM_CHASSIS_ID_SUBTYPE: column(mibs.LLDP_REM_CHASSIS_ID_SUBTYPE, [(index, INTEGER, 4)]),
        mibs.LLDP_REM_CHASSIS_ID: column(mibs.LLDP_REM_CHASSIS_ID, [(index, OCTET_STRING, bytes.fromhex("a0b1c2d3e4f5"))]),
        mibs.LLDP_REM_PORT_ID_SUBTYPE: column(mibs.LLDP_REM_PORT_ID_SUBTYPE, [(index, INTEGER, 5)]),
        mibs.LLDP_REM_PORT_ID: column(mibs.LLDP_REM_PORT_ID, [(index, OCTET_STRING, b"eth0")]),
        mibs.LLDP_REM_SYS_NAME: column(mibs.LLDP_REM_SYS_NAME, [(index, OCTET_STRING, b"ap-room12")]),
        mibs.LLDP_REM_MAN_ADDR_IF_SUBTYPE: column(mibs.LLDP_REM_MAN_ADDR_IF_SUBTYPE,
                                                  [(index + (1, 4, 192, 0, 2, 7), INTEGER, 2)]),
    }
    (neighbour,) = parse.neighbours(walked, [], [Interface(if_index=10003, name="Gi0/3")])
    assert (neighbour.local_if_index, neighbour.local_port) == (10003, "Gi0/3")
    assert (neighbour.chassis_id, neighbour.port_id, neighbour.sys_name) == ("a0:b1:c2:d3:e4:f5", "eth0", "ap-room12")
    assert neighbour.management_address == "192.0.2.7"


def test_cdp_neighbour():
    index = (7, 1)
    walked = {
        mibs.CDP_CACHE_DEVICE_ID: column(mibs.CDP_CACHE_DEVICE_ID, [(index, OCTET_STRING, b"core.example")]),
        mibs.CDP_CACHE_DEVICE_PORT: column(mibs.CDP_CACHE_DEVICE_PORT, [(index, OCTET_STRING, b"Te1/0/1")]),
        mibs.CDP_CACHE_PLATFORM: column(mibs.CDP_CACHE_PLATFORM, [(index, OCTET_STRING, b"cisco WS-C3850")]),
        mibs.CDP_CACHE_ADDRESS: column(mibs.CDP_CACHE_ADDRESS, [(index, OCTET_STRING, bytes([198, 51, 100, 1]))]),
    }
    (neighbour,) = parse.neighbours(walked, [], [])
    assert (neighbour.protocol, neighbour.local_if_index, neighbour.platform, neighbour.management_address) == (
        "cdp", 7, "cisco WS-C3850", "198.51.100.1")


def test_arp_tables_from_both_ip_mib_generations():
    walked = {
        mibs.IP_NET_TO_MEDIA_PHYS_ADDRESS: column(mibs.IP_NET_TO_MEDIA_PHYS_ADDRESS, [
            ((3, 203, 0, 113, 5), OCTET_STRING, bytes.fromhex("3c22fb000001")),
            ((3, 203, 0, 113, 6), OCTET_STRING, bytes.fromhex("3c22fb000002")),
            ((3, 203, 0, 113), OCTET_STRING, bytes.fromhex("3c22fb000003"))]),   # a short index: skipped
        mibs.IP_NET_TO_MEDIA_TYPE: column(mibs.IP_NET_TO_MEDIA_TYPE, [((3, 203, 0, 113, 6), INTEGER, 2)]),
        mibs.IP_NET_TO_PHYSICAL_PHYS_ADDRESS: column(mibs.IP_NET_TO_PHYSICAL_PHYS_ADDRESS, [
            ((4, 1, 4, 198, 51, 100, 9), OCTET_STRING, bytes.fromhex("3c22fb000009"))]),
    }
    entries = parse.learned_arp(walked, [])
    assert [(e.ip, e.mac, e.if_index) for e in entries] == [
        ("203.0.113.5", "3c:22:fb:00:00:01", 3), ("198.51.100.9", "3c:22:fb:00:00:09", 4)]


def test_printer_supplies_poe_and_ups():
    walked = {
        mibs.PRT_SUPPLIES_DESCRIPTION: column(mibs.PRT_SUPPLIES_DESCRIPTION, [((1, 1), OCTET_STRING, b"Black Toner")]),
        mibs.PRT_SUPPLIES_TYPE: column(mibs.PRT_SUPPLIES_TYPE, [((1, 1), INTEGER, 3)]),
        mibs.PRT_SUPPLIES_LEVEL: column(mibs.PRT_SUPPLIES_LEVEL, [((1, 1), INTEGER, 4294967293)]),
        mibs.PRT_SUPPLIES_MAX_CAPACITY: column(mibs.PRT_SUPPLIES_MAX_CAPACITY, [((1, 1), INTEGER, 100)]),
        mibs.PETH_PSE_PORT_ADMIN_ENABLE: column(mibs.PETH_PSE_PORT_ADMIN_ENABLE, [((1, 2), INTEGER, 1)]),
        mibs.PETH_PSE_PORT_DETECTION_STATUS: column(mibs.PETH_PSE_PORT_DETECTION_STATUS, [((1, 2), INTEGER, 3)]),
        mibs.PETH_MAIN_PSE_POWER: column(mibs.PETH_MAIN_PSE_POWER, [((1,), GAUGE32, 370)]),
        mibs.PETH_MAIN_PSE_CONSUMPTION: column(mibs.PETH_MAIN_PSE_CONSUMPTION, [((1,), GAUGE32, 42)]),
    }
    (supply,) = parse.printer_supplies(walked, [])
    assert (supply.description, supply.type, supply.level, supply.max_capacity) == ("Black Toner", "toner", -3, 100)
    from headcount.agent.snmp.model import Interface
    ports, budget, draw = parse.poe(walked, [], [Interface(if_index=2)])
    assert [(p.port, p.enabled, p.detection_status, p.if_index) for p in ports] == [(2, True, "deliveringPower", 2)]
    assert (budget, draw) == (370, 42)
    battery = parse.ups_battery({mibs.APC_BASIC_BATTERY_STATUS: (INTEGER, 2), mibs.APC_ADV_BATTERY_CAPACITY: (GAUGE32, 97),
                                 mibs.APC_ADV_BATTERY_RUNTIME: (TIMETICKS, 6000 * 45),
                                 mibs.APC_BASIC_OUTPUT_STATUS: (INTEGER, 3)})
    assert (battery.status, battery.charge_percent, battery.minutes_remaining, battery.on_battery) == (
        "normal", 97, 45, True)
    assert parse.ups_battery({mibs.UPS_BATTERY_STATUS: (OCTET_STRING, b"2")}) is None   # wrong type: no evidence


def test_system_group_ignores_wrong_types():
    system = parse.system_group({mibs.SYS_DESCR: (OCTET_STRING, b"Switch"), mibs.SYS_NAME: (INTEGER, 5),
                                 mibs.SYS_OBJECT_ID: (OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 9)),
                                 mibs.SYS_UPTIME: (TIMETICKS, 100)})
    assert (system.descr, system.name, system.object_id, system.uptime_centiseconds) == (
        "Switch", "", "1.3.6.1.4.1.9", 100)


def run_walk(batches, max_rows=100):
    root = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
    calls = iter(batches)

    async def next_batch(after):
        return next(calls)

    return asyncio.run(walk_subtree(root, next_batch, max_rows))


def test_walk_stops_at_the_end_of_the_subtree_and_at_end_of_mib_view():
    root = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
    result = run_walk([[(root + (1,), OCTET_STRING, b"a"), (root + (2,), OCTET_STRING, b"b")],
                       [(root[:-1] + (3, 1), INTEGER, 6)]])
    assert [r[2] for r in result.rows] == [b"a", b"b"] and result.problem == ""
    result = run_walk([[(root + (1,), OCTET_STRING, b"a"), (root + (1,), END_OF_MIB_VIEW, None)]])
    assert len(result.rows) == 1 and result.problem == ""


def test_walk_detects_loops_and_caps_rows():
    root = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
    result = run_walk([[(root + (2,), OCTET_STRING, b"a"), (root + (1,), OCTET_STRING, b"b")]])
    assert "OIDs must increase" in result.problem and len(result.rows) == 1
    endless = ([(root + (n,), OCTET_STRING, b"x")] for n in range(1, 10**9))
    result = run_walk(endless, max_rows=50)
    assert len(result.rows) == 50 and "cap of 50 rows" in result.problem

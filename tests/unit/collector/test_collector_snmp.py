"""SNMP results through the contract into the store: identity per device, and end devices placed on switch ports."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from headcount.agent import wire as agent_wire
from headcount.agent.snmp.model import FdbEntry, Interface, LearnedArpEntry, LinkNeighbor, SnmpDevice, SystemGroup
from headcount.collector import wire as collector_wire
from headcount.collector.model import AgentIdentity, SwitchPortLocation, access_port
from headcount.collector.store import Store
from headcount.v1 import inventory_pb2 as pb

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
SITE = "lincoln-elementary"
AGENT = AgentIdentity(agent_id="lincoln-agent", site=SITE)
LAPTOP = "3c:22:fb:00:00:10"
PRINTER = "3c:22:fb:00:00:11"


def switch(name: str, mac: str, at: datetime, fdb: list[FdbEntry], ports: int = 4) -> SnmpDevice:
    return SnmpDevice(
        address="198.51.100.2:161", observed_at=at,
        system=SystemGroup(descr="Test switch", object_id="1.3.6.1.4.1.8072.3.2.10", name=name, location="MDF"),
        vendor="Test Networks", model="HC-SW-4P", serial="SER123", firmware="4.2.1", device_class="switch",
        mac=mac, port_count=ports,
        interfaces=tuple(Interface(if_index=i, name=f"Gi0/{i}", oper_status="up", speed_bps=10**9, type=6)
                         for i in range(1, ports + 1)),
        fdb=tuple(fdb),
        neighbors=(LinkNeighbor(protocol="lldp", local_if_index=4, sys_name="core", port_id="Te1/0/1"),),
        arp_entries=(LearnedArpEntry(ip="203.0.113.50", mac="3c:22:fb:00:00:99", if_index=4),
                     LearnedArpEntry(ip="203.0.113.51", mac="ff:ff:ff:ff:ff:ff", if_index=4)),
        credential_name="district", errors=("LLDP-MIB lldpRemSysName: 1 rows skipped",),
        evidence=("model: ENTITY-MIB entPhysicalModelName",),
    )


def through_the_wire(device: SnmpDevice):
    message = pb.Observation.FromString(agent_wire.observation_message(device).SerializeToString())
    return collector_wire.observation_from_message(message, received_at=device.observed_at)


def test_switch_identity_ports_and_access_port_placement(tmp_path):
    edge = switch("sw-room101", "02:00:5e:00:53:a1", T0, [
        FdbEntry(mac=LAPTOP, if_index=2, port_name="Gi0/2", status="learned"),
        FdbEntry(mac=PRINTER, if_index=3, port_name="Gi0/3", status="learned"),
        FdbEntry(mac="02:00:5e:00:53:a1", if_index=0, status="self"),
    ])
    # The core switch learns both MACs on its single downlink: an uplink, not where they are plugged in.
    core = switch("core", "02:00:5e:00:53:c0", T0 + timedelta(seconds=5), [
        FdbEntry(mac=LAPTOP, if_index=1, port_name="Gi0/1", status="learned"),
        FdbEntry(mac=PRINTER, if_index=1, port_name="Gi0/1", status="learned"),
    ])

    async def scenario():
        store = await Store.open(tmp_path / "headcount.db")
        await store.register_agent(AGENT, T0)
        await store.ingest_batch(AGENT.agent_id, SITE, 1, [through_the_wire(edge), through_the_wire(core)],
                                 received_at=T0)
        details = {mac: await store.get_device(mac) for mac in (edge.mac, "3c:22:fb:00:00:99")}
        await store.close()
        return details

    details = asyncio.run(scenario())
    network = details[edge.mac].network[0]
    assert (network.model, network.serial, network.firmware, network.sys_name) == ("HC-SW-4P", "SER123", "4.2.1",
                                                                                  "sw-room101")
    assert network.port_count == 4 and [p.name for p in network.ports] == ["Gi0/1", "Gi0/2", "Gi0/3", "Gi0/4"]
    assert {p.name: p.learned_macs for p in network.ports} == {"Gi0/1": 0, "Gi0/2": 1, "Gi0/3": 1, "Gi0/4": 0}
    assert network.ports[3].neighbor == "core Te1/0/1"
    assert network.errors == ("LLDP-MIB lldpRemSysName: 1 rows skipped",)
    # A host known only from the switch's ARP table becomes a device, sourced as second-hand.
    learned = details["3c:22:fb:00:00:99"].devices[0]
    assert learned.ip == "203.0.113.50" and learned.sources == ("snmp-arp-table",)


def test_end_device_detail_names_its_access_port(tmp_path):
    edge = switch("sw-room101", "02:00:5e:00:53:a1", T0, [FdbEntry(mac=LAPTOP, if_index=2, port_name="Gi0/2")])
    core = switch("core", "02:00:5e:00:53:c0", T0, [FdbEntry(mac=LAPTOP, if_index=1, port_name="Gi0/1"),
                                                   FdbEntry(mac=PRINTER, if_index=1, port_name="Gi0/1")])
    laptop_arp = pb.Observation(observed_at=agent_wire.timestamp(T0), scanner="arp",
                                arp=pb.ArpSighting(mac=LAPTOP, ip="198.51.100.10"))

    async def scenario():
        store = await Store.open(tmp_path / "headcount.db")
        await store.register_agent(AGENT, T0)
        batch = [collector_wire.observation_from_message(laptop_arp, T0), through_the_wire(edge),
                 through_the_wire(core)]
        await store.ingest_batch(AGENT.agent_id, SITE, 1, batch, received_at=T0)
        detail = await store.get_device(LAPTOP)
        await store.close()
        return detail

    detail = asyncio.run(scenario())
    port = detail.switch_ports[0]
    assert (port.switch_name, port.port_name, port.macs_on_port) == ("sw-room101", "Gi0/2", 1)
    response = collector_wire.device_detail_response(detail)
    assert response.devices[0].switch_port.port_name == "Gi0/2"


def test_access_port_prefers_the_newest_round_then_the_quietest_port():
    def at(switch_name, macs, minutes):
        return SwitchPortLocation(site=SITE, end_mac=LAPTOP, switch_mac=switch_name, switch_name=switch_name,
                                  seen_at=T0 + timedelta(minutes=minutes), macs_on_port=macs)

    # Moved to another classroom yesterday: last week's quiet port no longer counts.
    assert access_port([at("old-room", 1, -60 * 24 * 7), at("uplink", 30, 0), at("new-room", 1, 1)]
                       ).switch_name == "new-room"
    assert access_port([at("old-room", 1, -60 * 24), at("uplink", 30, 0)]).switch_name == "uplink"
    assert access_port([]) is None


def test_snmp_observation_without_a_mac_is_rejected_with_a_reason():
    device = SnmpDevice(address="198.51.100.9:161", observed_at=T0)
    message = agent_wire.observation_message(device)
    try:
        collector_wire.observation_from_message(message, T0)
    except Exception as exc:   # InvalidObservationError
        assert "198.51.100.9" in str(exc) and "no MAC" in str(exc)
    else:
        raise AssertionError("accepted an SNMP device without a MAC")

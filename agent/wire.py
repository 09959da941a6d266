"""Agent observations -> headcount.v1 protobuf messages. Pure; the only agent module besides sink.py that sees protobuf."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from headcount.v1 import inventory_pb2 as pb

from .model import ArpSighting, DhcpSighting, HostFacts, MdnsService, Observation, ScanSummary
from .snmp.model import SnmpDevice


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def identity_message(agent_id: str, site: str, version: str, hostname: str, scanners: Sequence[str],
                     mode: str = "site") -> pb.AgentIdentity:
    return pb.AgentIdentity(agent_id=agent_id, site=site, version=version, hostname=hostname, scanners=list(scanners),
                            mode=mode)


def observation_message(observation: Observation) -> pb.Observation:
    message = pb.Observation(observed_at=timestamp(observation.observed_at), scanner=observation.scanner,
                             name_policy=getattr(observation, "name_policy", ""))
    classification = getattr(observation, "classification", None)
    if classification is not None:
        message.classification.CopyFrom(pb.Classification(device_class=classification.device_class,
                                                          evidence=list(classification.evidence)))
    if isinstance(observation, ArpSighting):
        message.arp.CopyFrom(
            pb.ArpSighting(
                mac=observation.mac,
                ip=observation.ip,
                vendor=observation.vendor,
                locally_administered=observation.locally_administered,
                interface=observation.interface,
            )
        )
    elif isinstance(observation, HostFacts):
        message.host.CopyFrom(_host_facts_message(observation))
    elif isinstance(observation, SnmpDevice):
        message.snmp.CopyFrom(snmp_device_message(observation))
    elif isinstance(observation, DhcpSighting):
        message.dhcp.CopyFrom(pb.DhcpSighting(
            mac=observation.mac, ip=observation.ip, hostname=observation.hostname,
            vendor_class=observation.vendor_class, client_id=observation.client_id,
            parameter_request_list=list(observation.parameter_request_list),
            message_type=observation.message_type, requested_ip=observation.requested_ip,
            source=observation.source,
        ))
    elif isinstance(observation, MdnsService):
        message.mdns.CopyFrom(pb.MdnsService(
            service_type=observation.service_type, instance_name=observation.instance_name, host=observation.host,
            port=observation.port, addresses=list(observation.addresses), mac=observation.mac,
            txt=[pb.TxtEntry(key=t.key, value=t.value, has_value=t.has_value) for t in observation.txt],
        ))
    elif isinstance(observation, ScanSummary):
        message.scan.CopyFrom(pb.ScanSummary(
            started_at=timestamp(observation.started_at), completed=list(observation.completed),
            failed=list(observation.failed), observations=observation.observations,
        ))
    else:  # a new observation type must get a wire mapping before it can flow
        raise TypeError(f"no wire mapping for {type(observation).__name__}")
    return message


def _host_facts_message(facts: HostFacts) -> pb.HostFacts:
    message = pb.HostFacts(
        hostname=facts.hostname,
        os=facts.os,
        os_release=facts.os_release,
        kernel=facts.kernel,
        architecture=facts.architecture,
        cpu_model=facts.cpu_model,
        cpu_logical=facts.cpu_logical,
        cpu_physical=facts.cpu_physical,
        memory_total_bytes=facts.memory_total_bytes,
        memory_available_bytes=facts.memory_available_bytes,
        disks=[
            pb.Disk(mountpoint=d.mountpoint, device=d.device, fstype=d.fstype, total_bytes=d.total_bytes, used_bytes=d.used_bytes)
            for d in facts.disks
        ],
        interfaces=[
            pb.HostInterface(name=i.name, mac=i.mac, addresses=list(i.addresses), is_up=i.is_up, speed_mbps=i.speed_mbps)
            for i in facts.interfaces
        ],
        boot_time=timestamp(facts.boot_time),
        endpoint=facts.endpoint,
        reboot_count=facts.reboot_count,
        reboots_last_30_days=facts.reboots_last_30_days,
    )
    if facts.battery is not None:
        b = facts.battery
        message.battery.CopyFrom(
            pb.Battery(present=b.present, percent=b.percent, design_capacity=b.design_capacity,
                       full_capacity=b.full_capacity, cycle_count=b.cycle_count)
        )
    return message


def _same_named(record, message_type):
    """A message of `message_type` from the record's fields that the contract also has.

    The SNMP records were named after the contract on purpose, so the mapping
    is by name; record-only fields (e.g. Interface.type_name) stay behind.
    """
    names = message_type.DESCRIPTOR.fields_by_name
    return message_type(**{name: getattr(record, name) for name in record.__slots__ if name in names})


def snmp_device_message(device: SnmpDevice) -> pb.SnmpDevice:
    message = pb.SnmpDevice(
        address=device.address,
        system=_same_named(device.system, pb.SystemGroup),
        vendor=device.vendor,
        model=device.model,
        serial=device.serial,
        firmware=device.firmware,
        hardware_revision=device.hardware_revision,
        device_class=device.device_class,
        interfaces=[_same_named(i, pb.SnmpInterface) for i in device.interfaces],
        fdb=[_same_named(e, pb.FdbEntry) for e in device.fdb],
        neighbors=[_same_named(n, pb.LinkNeighbor) for n in device.neighbors],
        arp_entries=[_same_named(e, pb.LearnedArpEntry) for e in device.arp_entries],
        poe_ports=[_same_named(p, pb.PoePort) for p in device.poe_ports],
        supplies=[_same_named(s, pb.PrinterSupply) for s in device.supplies],
        credential_name=device.credential_name,
        mac=device.mac,
        errors=list(device.errors),
        poe_budget_watts=max(device.poe_budget_watts, 0),
        poe_consumption_watts=max(device.poe_consumption_watts, 0),
        evidence=list(device.evidence),
        port_count=device.port_count,
    )
    if device.ups_battery is not None:
        message.ups_battery.CopyFrom(_same_named(device.ups_battery, pb.UpsBattery))
    return message


def batch_message(sequence: int, created_at: datetime, observations: Sequence[Observation]) -> pb.AgentMessage:
    return pb.AgentMessage(
        batch=pb.Batch(
            sequence=sequence,
            created_at=timestamp(created_at),
            observations=[observation_message(o) for o in observations],
        )
    )


def hello_message(identity: pb.AgentIdentity) -> pb.AgentMessage:
    return pb.AgentMessage(hello=pb.Hello(agent=identity))


def heartbeat_message(sent_at: datetime, last_sequence: int, pending_batches: int) -> pb.AgentMessage:
    return pb.AgentMessage(
        heartbeat=pb.Heartbeat(sent_at=timestamp(sent_at), last_sequence=last_sequence, pending_batches=pending_batches)
    )

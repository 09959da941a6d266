"""headcount.v1 protobuf <-> collector domain records. Pure: no I/O, no database, no clock.

Incoming observations are validated one by one: a malformed one becomes a
Rejection and the rest of its batch is still stored, because an agent cannot
fix a single bad sighting by resending the batch.
"""

from __future__ import annotations

import collections
import ipaddress
import json
from collections.abc import Sequence
from datetime import datetime, timezone

from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp

from headcount.v1 import inventory_pb2 as pb

from .errors import InvalidHelloError, InvalidMacError, InvalidObservationError
from .model import (AgentIdentity, Device, DeviceDetail, DeviceSighting, HistoryEntry, IngestOutcome, IngestStatus,
                    NetworkIdentity, Observation, Rejection, SiteSummary, SwitchPortLocation, is_unicast,
                    normalize_mac)

MAX_NAME_LENGTH = 200   # agent ids and site names end up in tables and terminal columns
MAX_REASONS_IN_ACK = 3
MAX_ACK_DETAIL = 500

_ACK_STATUS = {IngestStatus.STORED: pb.Ack.STORED, IngestStatus.DUPLICATE: pb.Ack.DUPLICATE}


# ---------------------------------------------------------------- time


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def datetime_from(stamp: Timestamp) -> datetime | None:
    """Aware UTC datetime; None for the unset (zero) timestamp, which proto3 uses for "not known"."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return stamp.ToDatetime(tzinfo=timezone.utc)


# ---------------------------------------------------------------- agent -> collector


def identity_from_hello(hello: pb.Hello) -> AgentIdentity:
    agent = hello.agent
    fields = {}
    for name, why in (("agent_id", "the agent's stable id (agent.id in its config, default its hostname)"),
                      ("site", "the school the agent inventories (agent.site in its config)")):
        value = getattr(agent, name).strip()
        if not value:
            raise InvalidHelloError(f"Hello.agent.{name} is empty; it must name {why}")
        if len(value) > MAX_NAME_LENGTH:
            raise InvalidHelloError(f"Hello.agent.{name} is {len(value)} characters long; at most {MAX_NAME_LENGTH}")
        fields[name] = value
    return AgentIdentity(agent_id=fields["agent_id"], site=fields["site"], version=agent.version,
                         hostname=agent.hostname, scanners=tuple(agent.scanners))


def observations_from_batch(batch: pb.Batch, received_at: datetime) -> tuple[list[Observation], list[Rejection]]:
    accepted, rejected = [], []
    for index, message in enumerate(batch.observations):
        try:
            accepted.append(observation_from_message(message, received_at))
        except InvalidObservationError as exc:
            rejected.append(Rejection(index=index, kind=message.WhichOneof("kind") or "unset", reason=str(exc)))
    return accepted, rejected


def observation_from_message(message: pb.Observation, received_at: datetime) -> Observation:
    """One validated observation; an unset observed_at means "when the collector received it"."""
    kind = message.WhichOneof("kind")
    if kind is None:
        raise InvalidObservationError("observation has no kind set (empty, or a kind newer than this collector)")
    try:
        observed_at = datetime_from(message.observed_at) or received_at
    except (ValueError, OverflowError) as exc:
        raise InvalidObservationError(f"{kind}: observed_at is not a usable time ({exc})") from exc
    body = getattr(message, kind)
    data = MessageToDict(body, preserving_proto_field_name=True)
    mac, sighting = "", None
    if kind == "arp":
        mac = _unicast_mac(body.mac, "arp.mac")
        sighting = DeviceSighting(mac=mac, ip=_ipv4(body.ip, "arp.ip", required=True), vendor=body.vendor.strip())
    elif kind == "dhcp":
        mac = _unicast_mac(body.mac, "dhcp.mac")
        sighting = DeviceSighting(mac=mac, ip=_ipv4(body.ip, "dhcp.ip", required=False),
                                  hostname=body.hostname.strip())
    elif kind == "snmp":
        # A device that answered SNMP is a device at the site; its MAC comes from
        # the ARP sweep or its own interfaces. Without one it cannot be keyed.
        if not body.mac:
            raise InvalidObservationError(
                f"snmp: the device at {body.address or '?'} has no MAC (no ARP entry and no interface MAC)")
        mac = _unicast_mac(body.mac, "snmp.mac")
        host = body.address.rsplit(":", 1)[0].strip("[]") if body.address.count(":") == 1 or \
            body.address.startswith("[") else body.address
        ip = _ipv4(host, "snmp.address", required=False) if _looks_ipv4(host) else ""
        sighting = DeviceSighting(mac=mac, ip=ip, vendor=body.vendor.strip(), hostname=body.system.name.strip())
        learned = []
        for entry in body.arp_entries:
            try:
                learned_mac = _unicast_mac(entry.mac, "snmp.arp_entries.mac")
                learned_ip = _ipv4(entry.ip, "snmp.arp_entries.ip", required=True)
            except InvalidObservationError:
                continue   # one odd row in a router's ARP table costs only that row
            learned.append(DeviceSighting(mac=learned_mac, ip=learned_ip))
        if mac:
            data["mac"] = mac
        return Observation(kind=kind, observed_at=observed_at, scanner=message.scanner.strip() or kind, data=data,
                           mac=mac, sighting=sighting, learned=tuple(learned))
    elif kind == "mdns" and body.mac:
        mac = _unicast_mac(body.mac, "mdns.mac")
        sighting = DeviceSighting(mac=mac, hostname=body.host.strip().rstrip("."), creates_device=False)
    if mac:
        data["mac"] = mac
    return Observation(kind=kind, observed_at=observed_at, scanner=message.scanner.strip() or kind, data=data,
                       mac=mac, sighting=sighting)


def _looks_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _unicast_mac(text: str, field_name: str) -> str:
    try:
        mac = normalize_mac(text)
    except InvalidMacError as exc:
        raise InvalidObservationError(f"{field_name}: {exc}") from exc
    if not is_unicast(mac):
        raise InvalidObservationError(f"{field_name}: {mac} is a group or all-zero address, not a device's MAC")
    return mac


def _ipv4(text: str, field_name: str, *, required: bool) -> str:
    """Canonical dotted IPv4 text; '' when optional and absent (0.0.0.0 is DHCP's "no address yet")."""
    if not text or text == "0.0.0.0":
        if required:
            raise InvalidObservationError(f"{field_name}: missing IPv4 address")
        return ""
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError as exc:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InvalidObservationError(f"{field_name}: {shown!r} is not an IPv4 address") from exc


def describe_rejections(rejections: Sequence[Rejection], total: int) -> str:
    """A short Ack.detail: how many were rejected and the commonest reasons."""
    if not rejections:
        return ""
    reasons = collections.Counter(r.reason for r in rejections).most_common()
    shown = "; ".join(f"{reason} (x{count})" if count > 1 else reason for reason, count in reasons[:MAX_REASONS_IN_ACK])
    more = f"; and {len(reasons) - MAX_REASONS_IN_ACK} other reasons" if len(reasons) > MAX_REASONS_IN_ACK else ""
    detail = f"rejected {len(rejections)} of {total} observations: {shown}{more}"
    return detail if len(detail) <= MAX_ACK_DETAIL else detail[: MAX_ACK_DETAIL - 3] + "..."


# ---------------------------------------------------------------- collector -> agent


def welcome_message(last_stored_sequence: int) -> pb.CollectorMessage:
    return pb.CollectorMessage(welcome=pb.Welcome(last_stored_sequence=last_stored_sequence))


def ack_message(sequence: int, outcome: IngestOutcome, detail: str = "") -> pb.CollectorMessage:
    return pb.CollectorMessage(ack=pb.Ack(sequence=sequence, status=_ACK_STATUS[outcome.status], detail=detail,
                                          observations_stored=outcome.observations_stored))


def rejected_ack_message(sequence: int, detail: str) -> pb.CollectorMessage:
    return pb.CollectorMessage(ack=pb.Ack(sequence=sequence, status=pb.Ack.REJECTED, detail=detail))


def heartbeat_ack_message(received_at: datetime) -> pb.CollectorMessage:
    return pb.CollectorMessage(heartbeat_ack=pb.HeartbeatAck(received_at=timestamp(received_at)))


# ---------------------------------------------------------------- query answers


def device_message(device: Device) -> pb.Device:
    return pb.Device(
        site=device.site, mac=device.mac, ip=device.ip, vendor=device.vendor,
        locally_administered=device.locally_administered, first_seen=timestamp(device.first_seen),
        last_seen=timestamp(device.last_seen), sources=list(device.sources), hostname=device.hostname,
    )


def site_message(summary: SiteSummary) -> pb.SiteSummary:
    message = pb.SiteSummary(site=summary.site, devices=summary.devices,
                             locally_administered=summary.locally_administered, agents=list(summary.agents))
    if summary.last_seen is not None:
        message.last_seen.CopyFrom(timestamp(summary.last_seen))
    return message


def sites_response(summaries: Sequence[SiteSummary]) -> pb.ListSitesResponse:
    return pb.ListSitesResponse(sites=[site_message(s) for s in summaries])


def history_message(entry: HistoryEntry) -> pb.ObservationRecord:
    return pb.ObservationRecord(site=entry.site, agent_id=entry.agent_id, kind=entry.kind,
                                observed_at=timestamp(entry.observed_at),
                                data_json=json.dumps(entry.data, sort_keys=True))


def network_message(identity: NetworkIdentity) -> pb.NetworkIdentity:
    return pb.NetworkIdentity(
        vendor=identity.vendor, model=identity.model, serial=identity.serial, firmware=identity.firmware,
        hardware_revision=identity.hardware_revision, device_class=identity.device_class,
        sys_name=identity.sys_name, sys_descr=identity.sys_descr, sys_object_id=identity.sys_object_id,
        address=identity.address, port_count=identity.port_count, location=identity.location,
        ports=[pb.PortState(if_index=p.if_index, name=p.name, alias=p.alias, oper_status=p.oper_status,
                            admin_status=p.admin_status, speed_bps=p.speed_bps, learned_macs=p.learned_macs,
                            neighbor=p.neighbor, type=p.type) for p in identity.ports],
        errors=list(identity.errors), evidence=list(identity.evidence),
        observed_at=timestamp(identity.observed_at),
    )


def switch_port_message(location: SwitchPortLocation) -> pb.SwitchPortLocation:
    return pb.SwitchPortLocation(
        switch_mac=location.switch_mac, switch_name=location.switch_name, switch_address=location.switch_address,
        port_name=location.port_name, if_index=location.if_index, vlan=location.vlan,
        seen_at=timestamp(location.seen_at), macs_on_port=location.macs_on_port,
    )


def device_detail_response(detail: DeviceDetail) -> pb.GetDeviceResponse:
    networks = {n.site: n for n in detail.network}
    ports = {p.site: p for p in detail.switch_ports}
    devices = []
    for device in detail.devices:
        message = device_message(device)
        if device.site in networks:
            message.network.CopyFrom(network_message(networks[device.site]))
        if device.site in ports:
            message.switch_port.CopyFrom(switch_port_message(ports[device.site]))
        devices.append(message)
    return pb.GetDeviceResponse(devices=devices, history=[history_message(h) for h in detail.history])

"""headcount.v1 protobuf <-> collector domain records. Pure: no I/O, no database, no clock.

Incoming observations are validated one by one: a malformed one becomes a
Rejection and the rest of its batch is still stored, because an agent cannot
fix a single bad sighting by resending the batch.
"""

from __future__ import annotations

import collections
import ipaddress
import json
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.timestamp_pb2 import Timestamp

from headcount.v1 import inventory_pb2 as pb

from .errors import InvalidHelloError, InvalidMacError, InvalidObservationError
from .identity import is_generic_name, is_pseudonym, normalise_name
from .model import (AgentIdentity, Classification, Device, DeviceDetail, DeviceSighting, HistoryEntry, IngestOutcome,
                    IngestStatus, NetworkIdentity, Observation, Rejection, SiteSummary, SwitchPortLocation,
                    format_timestamp, is_unicast, normalize_mac)

MAX_NAME_LENGTH = 200   # agent ids and site names end up in tables and terminal columns
# Bounds on what one observation may carry: generous for any real device, small
# enough that a broken or hostile agent cannot fill the database or the screen.
MAX_HOSTNAME_LENGTH = 255          # a DNS name
MAX_DHCP_OPTION_BYTES = 255        # a DHCP option's length is one byte
MAX_TOKEN_LENGTH = 32              # class names, message types, name policies
MAX_EVIDENCE_LINES = 50
MAX_EVIDENCE_LENGTH = 500
MAX_ADDRESSES = 64
MAX_TXT_ENTRIES = 256
MAX_HOST_INTERFACES = 1024
MAX_SCANNERS = 64                  # names in one scan summary; an agent has a handful
NAME_POLICIES = ("", "keep", "pseudonymise", "drop")
AGENT_MODES = ("", "site", "endpoint")
DHCP_SOURCES = ("", "client", "server")
_TOKEN = re.compile(r"[a-z0-9_]{1,%d}" % MAX_TOKEN_LENGTH)
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
    # A mode newer than this collector is not a reason to refuse the agent's
    # data: it is stored as a site agent (its host facts count no device).
    mode = agent.mode.strip() if agent.mode.strip() in AGENT_MODES else ""
    return AgentIdentity(agent_id=fields["agent_id"], site=fields["site"], version=agent.version,
                         hostname=agent.hostname, scanners=tuple(agent.scanners), mode=mode)


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
    if kind == "scan":
        return _scan(body, observed_at)
    data = MessageToDict(body, preserving_proto_field_name=True)
    common = dict(kind=kind, observed_at=observed_at, scanner=_short(message.scanner, "scanner") or kind,
                  classification=_classification(message), name_policy=_name_policy(message.name_policy))
    if common["classification"] is not None:
        data["classification"] = {"device_class": common["classification"].device_class,
                                  "evidence": list(common["classification"].evidence)}
    if common["name_policy"]:
        data["name_policy"] = common["name_policy"]
    policy = common["name_policy"]
    if kind == "arp":
        mac = _unicast_mac(body.mac, "arp.mac")
        sighting = DeviceSighting(mac=mac, ip=_ipv4(body.ip, "arp.ip", required=True),
                                  vendor=_short(body.vendor, "arp.vendor"))
        data["mac"] = mac
        return Observation(**common, data=data, mac=mac, sighting=sighting)
    if kind == "dhcp":
        return _dhcp(body, data, common, policy)
    if kind == "mdns":
        return _mdns(body, data, common, policy)
    if kind == "host":
        return _host(body, data, common, policy)
    return _snmp(body, data, common)


def _dhcp(body: pb.DhcpSighting, data: dict[str, Any], common: dict[str, Any], policy: str) -> Observation:
    mac = _unicast_mac(body.mac, "dhcp.mac")
    ip = _ipv4(body.ip, "dhcp.ip", required=False)
    _ipv4(body.requested_ip, "dhcp.requested_ip", required=False)
    hostname = _name(body.hostname, "dhcp.hostname", policy, data, "hostname")
    _short(body.vendor_class, "dhcp.vendor_class", MAX_DHCP_OPTION_BYTES)
    if len(body.client_id) > MAX_DHCP_OPTION_BYTES:
        raise InvalidObservationError(f"dhcp.client_id is {len(body.client_id)} bytes; a DHCP option holds at most "
                                      f"{MAX_DHCP_OPTION_BYTES}")
    client_id = bytes(body.client_id)
    if client_id and not _client_id_allowed(client_id, policy):
        client_id = b""
        data.pop("client_id", None)
        data.setdefault("withheld_names", []).append("dhcp.client_id")
    if len(body.parameter_request_list) > MAX_DHCP_OPTION_BYTES or any(
            code > 255 for code in body.parameter_request_list):
        raise InvalidObservationError("dhcp.parameter_request_list: expected at most 255 option codes, each 0..255")
    _short(body.message_type, "dhcp.message_type", MAX_TOKEN_LENGTH)
    if body.source not in DHCP_SOURCES:
        raise InvalidObservationError(f"dhcp.source: {_shown(body.source)} is not \"client\" or \"server\"")
    if client_id:
        data["client_id"] = client_id_text(client_id)   # MessageToDict would give base64
    data["mac"] = mac
    return Observation(**common, data=data, mac=mac, client_id=client_id,
                       sighting=DeviceSighting(mac=mac, ip=ip, hostname=hostname))


def _mdns(body: pb.MdnsService, data: dict[str, Any], common: dict[str, Any], policy: str) -> Observation:
    host = _name(body.host, "mdns.host", policy, data, "host")
    # Instance names keep their shape around a pseudonym ("<mac>@p:...", "p:... [mac]"): bounded, not policed.
    _short(body.instance_name, "mdns.instance_name", MAX_HOSTNAME_LENGTH)
    _short(body.service_type, "mdns.service_type", MAX_HOSTNAME_LENGTH)
    if body.port > 65535:
        raise InvalidObservationError(f"mdns.port: {body.port} is not a port (0..65535)")
    if len(body.addresses) > MAX_ADDRESSES:
        raise InvalidObservationError(f"mdns.addresses: {len(body.addresses)} addresses; at most {MAX_ADDRESSES}")
    for address in body.addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError as exc:
            raise InvalidObservationError(f"mdns.addresses: {_shown(address)} is not an IP address") from exc
    if len(body.txt) > MAX_TXT_ENTRIES or any(len(t.key) > MAX_DHCP_OPTION_BYTES or len(t.value) > MAX_DHCP_OPTION_BYTES
                                              for t in body.txt):
        raise InvalidObservationError(f"mdns.txt: at most {MAX_TXT_ENTRIES} entries of at most "
                                      f"{MAX_DHCP_OPTION_BYTES} bytes each")
    if not body.mac:
        # Which device answered is unknown; kept as history only. Binding it
        # to a MAC by IP address here would trust a stale address map.
        return Observation(**common, data=data)
    mac = _unicast_mac(body.mac, "mdns.mac")
    data["mac"] = mac
    return Observation(**common, data=data, mac=mac,
                       sighting=DeviceSighting(mac=mac, hostname=host.rstrip("."), creates_device=False))


def _host(body: pb.HostFacts, data: dict[str, Any], common: dict[str, Any], policy: str) -> Observation:
    hostname = _name(body.hostname, "host.hostname", policy, data, "hostname")
    if len(body.interfaces) > MAX_HOST_INTERFACES:
        raise InvalidObservationError(f"host.interfaces: {len(body.interfaces)} interfaces; at most "
                                      f"{MAX_HOST_INTERFACES}")
    sightings: dict[str, DeviceSighting] = {}
    for interface in body.interfaces:
        try:
            mac = normalize_mac(interface.mac)
        except InvalidMacError:
            continue   # loopback and tunnels have no MAC; one odd interface costs only itself
        if not is_unicast(mac) or is_virtual_interface(interface.name) or mac in sightings:
            continue
        sightings[mac] = DeviceSighting(mac=mac, ip=_first_ipv4(interface.addresses), hostname=hostname)
    own = tuple(sightings.values())
    # An endpoint's facts are about one counted device: its history is filed
    # under its first interface so that `headcount device MAC` shows it.
    mac = own[0].mac if body.endpoint and own else ""
    return Observation(**common, data=data, mac=mac, endpoint=body.endpoint, host_sightings=own)


def _snmp(body: pb.SnmpDevice, data: dict[str, Any], common: dict[str, Any]) -> Observation:
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
    refreshed = {}
    for entry in body.fdb:
        if entry.status not in ("learned", ""):
            continue   # the switch's own and management addresses are not end devices
        try:
            fdb_mac = normalize_mac(entry.mac)
        except InvalidMacError:
            continue
        if is_unicast(fdb_mac) and fdb_mac != mac:
            refreshed.setdefault(fdb_mac, DeviceSighting(mac=fdb_mac, creates_device=False))
    data["mac"] = mac
    return Observation(**common, data=data, mac=mac, sighting=sighting, learned=tuple(learned),
                       refreshed=tuple(refreshed.values()))


def _scan(body: pb.ScanSummary, observed_at: datetime) -> Observation:
    """A completed scan (observed_at is when it finished): a poll to count, about no device.

    Made by the agent's run loop, not by a scanner, so it is filed under
    scanner "agent" whatever the message says; it names no one, so
    classification and name policy do not apply.
    """
    try:
        started_at = datetime_from(body.started_at)
    except (ValueError, OverflowError) as exc:
        raise InvalidObservationError(f"scan.started_at is not a usable time ({exc})") from exc
    if started_at is None:
        raise InvalidObservationError("scan.started_at is missing; a scan summary must say when the scan began")
    if started_at > observed_at:
        raise InvalidObservationError(f"scan.started_at {format_timestamp(started_at)} is after the scan finished "
                                      f"(observed_at {format_timestamp(observed_at)})")
    names = {}
    for field_name in ("completed", "failed"):
        values = getattr(body, field_name)
        if len(values) > MAX_SCANNERS:
            raise InvalidObservationError(f"scan.{field_name}: {len(values)} scanner names; at most {MAX_SCANNERS}")
        for name in values:
            if not _TOKEN.fullmatch(name):
                raise InvalidObservationError(f"scan.{field_name}: {_shown(name)} is not a scanner name (lower-case "
                                              f"letters, digits and _, at most {MAX_TOKEN_LENGTH})")
        names[field_name] = list(dict.fromkeys(values))
    both = sorted(set(names["completed"]) & set(names["failed"]))
    if both:
        raise InvalidObservationError(f"scan.failed: {_shown(both[0])} is also in scan.completed")
    data = {"started_at": format_timestamp(started_at), "completed": names["completed"], "failed": names["failed"],
            "observations": body.observations}
    return Observation(kind="scan", observed_at=observed_at, scanner="agent", data=data)


# Interfaces that never carry the machine onto the school LAN (containers,
# VMs, VPNs, Apple's peer-to-peer Wi-Fi): their MACs would only add noise.
VIRTUAL_INTERFACE_PREFIXES = ("lo", "docker", "veth", "br-", "virbr", "vmnet", "vboxnet", "tun", "tap", "wg", "zt",
                              "utun", "awdl", "llw", "vethernet", "anpi", "ap1", "bridge")


def is_virtual_interface(name: str) -> bool:
    return name.strip().casefold().startswith(VIRTUAL_INTERFACE_PREFIXES)


def client_id_text(client_id: bytes) -> str:
    """DHCP option 61 for people: printable text as it is (a pseudonym, a text id), else hex pairs."""
    try:
        text = client_id.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if text and text.isprintable():
        return text
    return client_id.hex(":")


def _first_ipv4(addresses: Sequence[str]) -> str:
    for address in addresses:
        try:
            interface = ipaddress.ip_interface(address)
        except ValueError:
            continue
        if interface.version == 4 and not interface.ip.is_loopback and not interface.ip.is_link_local:
            return str(interface.ip)
    return ""


def _classification(message: pb.Observation) -> Classification | None:
    if not message.HasField("classification"):
        return None
    device_class = message.classification.device_class.strip()
    if device_class and not _TOKEN.fullmatch(device_class):
        raise InvalidObservationError(f"classification.device_class: {_shown(device_class)} is not a class name "
                                      f"(lower-case letters, digits and _, at most {MAX_TOKEN_LENGTH})")
    evidence = message.classification.evidence
    if len(evidence) > MAX_EVIDENCE_LINES:
        raise InvalidObservationError(f"classification.evidence: {len(evidence)} lines; at most {MAX_EVIDENCE_LINES}")
    for line in evidence:
        if len(line) > MAX_EVIDENCE_LENGTH:
            raise InvalidObservationError(f"classification.evidence: a line of {len(line)} characters; at most "
                                          f"{MAX_EVIDENCE_LENGTH}")
    return Classification(device_class=device_class or "unknown", evidence=tuple(evidence))


def _name_policy(text: str) -> str:
    if text not in NAME_POLICIES:
        raise InvalidObservationError(f"name_policy: {_shown(text)} is not one of {', '.join(NAME_POLICIES[1:])}")
    return text


def _name(text: str, field_name: str, policy: str, data: dict[str, Any], key: str) -> str:
    """A personal name as the site's policy left it: a pseudonym, a generic name, "" or (policy keep) the name.

    The district database must never hold a name the school chose not to
    send: a name that arrives where the agent says it sent none (an agent
    bug, or a policy the agent and collector disagree on) is withheld here,
    from the sighting and from the stored history alike, and the
    observation is kept; `withheld_names` in its history says so.
    """
    name = text.strip()
    if len(name) > MAX_HOSTNAME_LENGTH:
        raise InvalidObservationError(f"{field_name} is {len(name)} characters long; at most {MAX_HOSTNAME_LENGTH}")
    if any(not character.isprintable() for character in name):
        raise InvalidObservationError(f"{field_name}: {_shown(name)} contains control characters")
    if name and (policy == "drop" or policy == "pseudonymise" and not _pseudonym_or_generic(name)):
        data[key] = ""
        data.setdefault("withheld_names", []).append(field_name)
        return ""
    return name


def _client_id_allowed(client_id: bytes, policy: str) -> bool:
    """Whether option 61 may be stored under the policy: the agent keeps a type-1 MAC id and generic text as
    they are, turns every other id into a pseudonym under pseudonymise, and empties it under drop."""
    if policy not in ("pseudonymise", "drop") or (len(client_id) == 7 and client_id[0] == 1):
        return True
    if policy == "drop":
        return False
    body = client_id[1:] if client_id[0] == 0 else client_id
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return text.isprintable() and _pseudonym_or_generic(text)


def _pseudonym_or_generic(name: str) -> bool:
    normalised = normalise_name(name)
    return is_pseudonym(normalised) or is_generic_name(normalised)


def _short(text: str, field_name: str, limit: int = MAX_HOSTNAME_LENGTH) -> str:
    value = text.strip()
    if len(value) > limit:
        raise InvalidObservationError(f"{field_name} is {len(value)} characters long; at most {limit}")
    return value


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


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
        raise InvalidObservationError(f"{field_name}: {_shown(text)} is not an IPv4 address") from exc


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
    message = pb.Device(
        site=device.site, mac=device.mac, ip=device.ip, vendor=device.vendor,
        locally_administered=device.locally_administered, first_seen=timestamp(device.first_seen),
        last_seen=timestamp(device.last_seen), sources=list(device.sources), hostname=device.hostname,
        device_class=device.device_class or ("unknown" if device.device_id else ""),
        class_evidence=list(device.class_evidence), device_id=device.device_id,
        linked_macs=list(device.linked_macs), link_evidence=list(device.link_evidence),
    )
    if device.host_facts is not None:
        # Stored as the agent sent it; fields this collector does not know are skipped, not fatal.
        ParseDict(device.host_facts, message.host, ignore_unknown_fields=True)
    return message


def site_message(summary: SiteSummary) -> pb.SiteSummary:
    message = pb.SiteSummary(site=summary.site, devices=summary.devices,
                             locally_administered=summary.locally_administered, agents=list(summary.agents),
                             stable_devices=summary.stable_devices, randomised_devices=summary.randomised_devices,
                             classes=[pb.ClassCount(device_class=name, devices=count)
                                      for name, count in summary.classes])
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

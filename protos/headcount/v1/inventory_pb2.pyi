import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentIdentity(_message.Message):
    __slots__ = ("agent_id", "site", "version", "hostname", "scanners", "mode")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    SCANNERS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    site: str
    version: str
    hostname: str
    scanners: _containers.RepeatedScalarFieldContainer[str]
    mode: str
    def __init__(self, agent_id: _Optional[str] = ..., site: _Optional[str] = ..., version: _Optional[str] = ..., hostname: _Optional[str] = ..., scanners: _Optional[_Iterable[str]] = ..., mode: _Optional[str] = ...) -> None: ...

class AgentMessage(_message.Message):
    __slots__ = ("hello", "batch", "heartbeat")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    batch: Batch
    heartbeat: Heartbeat
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., batch: _Optional[_Union[Batch, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: AgentIdentity
    def __init__(self, agent: _Optional[_Union[AgentIdentity, _Mapping]] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("sequence", "created_at", "observations")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    created_at: _timestamp_pb2.Timestamp
    observations: _containers.RepeatedCompositeFieldContainer[Observation]
    def __init__(self, sequence: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., observations: _Optional[_Iterable[_Union[Observation, _Mapping]]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("sent_at", "last_sequence", "pending_batches")
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PENDING_BATCHES_FIELD_NUMBER: _ClassVar[int]
    sent_at: _timestamp_pb2.Timestamp
    last_sequence: int
    pending_batches: int
    def __init__(self, sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sequence: _Optional[int] = ..., pending_batches: _Optional[int] = ...) -> None: ...

class Observation(_message.Message):
    __slots__ = ("observed_at", "scanner", "arp", "snmp", "mdns", "dhcp", "host", "scan", "classification", "name_policy")
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    SCANNER_FIELD_NUMBER: _ClassVar[int]
    ARP_FIELD_NUMBER: _ClassVar[int]
    SNMP_FIELD_NUMBER: _ClassVar[int]
    MDNS_FIELD_NUMBER: _ClassVar[int]
    DHCP_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    SCAN_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    NAME_POLICY_FIELD_NUMBER: _ClassVar[int]
    observed_at: _timestamp_pb2.Timestamp
    scanner: str
    arp: ArpSighting
    snmp: SnmpDevice
    mdns: MdnsService
    dhcp: DhcpSighting
    host: HostFacts
    scan: ScanSummary
    classification: Classification
    name_policy: str
    def __init__(self, observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scanner: _Optional[str] = ..., arp: _Optional[_Union[ArpSighting, _Mapping]] = ..., snmp: _Optional[_Union[SnmpDevice, _Mapping]] = ..., mdns: _Optional[_Union[MdnsService, _Mapping]] = ..., dhcp: _Optional[_Union[DhcpSighting, _Mapping]] = ..., host: _Optional[_Union[HostFacts, _Mapping]] = ..., scan: _Optional[_Union[ScanSummary, _Mapping]] = ..., classification: _Optional[_Union[Classification, _Mapping]] = ..., name_policy: _Optional[str] = ...) -> None: ...

class Classification(_message.Message):
    __slots__ = ("device_class", "evidence")
    DEVICE_CLASS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    device_class: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, device_class: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ...) -> None: ...

class ArpSighting(_message.Message):
    __slots__ = ("mac", "ip", "vendor", "locally_administered", "interface")
    MAC_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    LOCALLY_ADMINISTERED_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    mac: str
    ip: str
    vendor: str
    locally_administered: bool
    interface: str
    def __init__(self, mac: _Optional[str] = ..., ip: _Optional[str] = ..., vendor: _Optional[str] = ..., locally_administered: _Optional[bool] = ..., interface: _Optional[str] = ...) -> None: ...

class SnmpDevice(_message.Message):
    __slots__ = ("address", "system", "vendor", "model", "serial", "firmware", "hardware_revision", "device_class", "interfaces", "fdb", "neighbors", "arp_entries", "poe_ports", "supplies", "ups_battery", "credential_name", "mac", "errors", "poe_budget_watts", "poe_consumption_watts", "evidence", "port_count")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_REVISION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_CLASS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    FDB_FIELD_NUMBER: _ClassVar[int]
    NEIGHBORS_FIELD_NUMBER: _ClassVar[int]
    ARP_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    POE_PORTS_FIELD_NUMBER: _ClassVar[int]
    SUPPLIES_FIELD_NUMBER: _ClassVar[int]
    UPS_BATTERY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_NAME_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    POE_BUDGET_WATTS_FIELD_NUMBER: _ClassVar[int]
    POE_CONSUMPTION_WATTS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    PORT_COUNT_FIELD_NUMBER: _ClassVar[int]
    address: str
    system: SystemGroup
    vendor: str
    model: str
    serial: str
    firmware: str
    hardware_revision: str
    device_class: str
    interfaces: _containers.RepeatedCompositeFieldContainer[SnmpInterface]
    fdb: _containers.RepeatedCompositeFieldContainer[FdbEntry]
    neighbors: _containers.RepeatedCompositeFieldContainer[LinkNeighbor]
    arp_entries: _containers.RepeatedCompositeFieldContainer[LearnedArpEntry]
    poe_ports: _containers.RepeatedCompositeFieldContainer[PoePort]
    supplies: _containers.RepeatedCompositeFieldContainer[PrinterSupply]
    ups_battery: UpsBattery
    credential_name: str
    mac: str
    errors: _containers.RepeatedScalarFieldContainer[str]
    poe_budget_watts: int
    poe_consumption_watts: int
    evidence: _containers.RepeatedScalarFieldContainer[str]
    port_count: int
    def __init__(self, address: _Optional[str] = ..., system: _Optional[_Union[SystemGroup, _Mapping]] = ..., vendor: _Optional[str] = ..., model: _Optional[str] = ..., serial: _Optional[str] = ..., firmware: _Optional[str] = ..., hardware_revision: _Optional[str] = ..., device_class: _Optional[str] = ..., interfaces: _Optional[_Iterable[_Union[SnmpInterface, _Mapping]]] = ..., fdb: _Optional[_Iterable[_Union[FdbEntry, _Mapping]]] = ..., neighbors: _Optional[_Iterable[_Union[LinkNeighbor, _Mapping]]] = ..., arp_entries: _Optional[_Iterable[_Union[LearnedArpEntry, _Mapping]]] = ..., poe_ports: _Optional[_Iterable[_Union[PoePort, _Mapping]]] = ..., supplies: _Optional[_Iterable[_Union[PrinterSupply, _Mapping]]] = ..., ups_battery: _Optional[_Union[UpsBattery, _Mapping]] = ..., credential_name: _Optional[str] = ..., mac: _Optional[str] = ..., errors: _Optional[_Iterable[str]] = ..., poe_budget_watts: _Optional[int] = ..., poe_consumption_watts: _Optional[int] = ..., evidence: _Optional[_Iterable[str]] = ..., port_count: _Optional[int] = ...) -> None: ...

class SystemGroup(_message.Message):
    __slots__ = ("descr", "object_id", "uptime_centiseconds", "contact", "name", "location", "services")
    DESCR_FIELD_NUMBER: _ClassVar[int]
    OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    UPTIME_CENTISECONDS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    descr: str
    object_id: str
    uptime_centiseconds: int
    contact: str
    name: str
    location: str
    services: int
    def __init__(self, descr: _Optional[str] = ..., object_id: _Optional[str] = ..., uptime_centiseconds: _Optional[int] = ..., contact: _Optional[str] = ..., name: _Optional[str] = ..., location: _Optional[str] = ..., services: _Optional[int] = ...) -> None: ...

class SnmpInterface(_message.Message):
    __slots__ = ("if_index", "name", "descr", "alias", "type", "speed_bps", "admin_status", "oper_status", "mac", "in_errors", "out_errors", "in_discards", "out_discards", "in_octets", "out_octets")
    IF_INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCR_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SPEED_BPS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATUS_FIELD_NUMBER: _ClassVar[int]
    OPER_STATUS_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    IN_ERRORS_FIELD_NUMBER: _ClassVar[int]
    OUT_ERRORS_FIELD_NUMBER: _ClassVar[int]
    IN_DISCARDS_FIELD_NUMBER: _ClassVar[int]
    OUT_DISCARDS_FIELD_NUMBER: _ClassVar[int]
    IN_OCTETS_FIELD_NUMBER: _ClassVar[int]
    OUT_OCTETS_FIELD_NUMBER: _ClassVar[int]
    if_index: int
    name: str
    descr: str
    alias: str
    type: int
    speed_bps: int
    admin_status: str
    oper_status: str
    mac: str
    in_errors: int
    out_errors: int
    in_discards: int
    out_discards: int
    in_octets: int
    out_octets: int
    def __init__(self, if_index: _Optional[int] = ..., name: _Optional[str] = ..., descr: _Optional[str] = ..., alias: _Optional[str] = ..., type: _Optional[int] = ..., speed_bps: _Optional[int] = ..., admin_status: _Optional[str] = ..., oper_status: _Optional[str] = ..., mac: _Optional[str] = ..., in_errors: _Optional[int] = ..., out_errors: _Optional[int] = ..., in_discards: _Optional[int] = ..., out_discards: _Optional[int] = ..., in_octets: _Optional[int] = ..., out_octets: _Optional[int] = ...) -> None: ...

class FdbEntry(_message.Message):
    __slots__ = ("mac", "vlan", "if_index", "port_name", "status")
    MAC_FIELD_NUMBER: _ClassVar[int]
    VLAN_FIELD_NUMBER: _ClassVar[int]
    IF_INDEX_FIELD_NUMBER: _ClassVar[int]
    PORT_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    mac: str
    vlan: int
    if_index: int
    port_name: str
    status: str
    def __init__(self, mac: _Optional[str] = ..., vlan: _Optional[int] = ..., if_index: _Optional[int] = ..., port_name: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class LinkNeighbor(_message.Message):
    __slots__ = ("protocol", "local_if_index", "local_port", "chassis_id", "port_id", "port_descr", "sys_name", "sys_descr", "management_address", "platform")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    LOCAL_IF_INDEX_FIELD_NUMBER: _ClassVar[int]
    LOCAL_PORT_FIELD_NUMBER: _ClassVar[int]
    CHASSIS_ID_FIELD_NUMBER: _ClassVar[int]
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    PORT_DESCR_FIELD_NUMBER: _ClassVar[int]
    SYS_NAME_FIELD_NUMBER: _ClassVar[int]
    SYS_DESCR_FIELD_NUMBER: _ClassVar[int]
    MANAGEMENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    protocol: str
    local_if_index: int
    local_port: str
    chassis_id: str
    port_id: str
    port_descr: str
    sys_name: str
    sys_descr: str
    management_address: str
    platform: str
    def __init__(self, protocol: _Optional[str] = ..., local_if_index: _Optional[int] = ..., local_port: _Optional[str] = ..., chassis_id: _Optional[str] = ..., port_id: _Optional[str] = ..., port_descr: _Optional[str] = ..., sys_name: _Optional[str] = ..., sys_descr: _Optional[str] = ..., management_address: _Optional[str] = ..., platform: _Optional[str] = ...) -> None: ...

class LearnedArpEntry(_message.Message):
    __slots__ = ("ip", "mac", "if_index")
    IP_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    IF_INDEX_FIELD_NUMBER: _ClassVar[int]
    ip: str
    mac: str
    if_index: int
    def __init__(self, ip: _Optional[str] = ..., mac: _Optional[str] = ..., if_index: _Optional[int] = ...) -> None: ...

class PoePort(_message.Message):
    __slots__ = ("group", "port", "enabled", "detection_status", "power_milliwatts", "if_index")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DETECTION_STATUS_FIELD_NUMBER: _ClassVar[int]
    POWER_MILLIWATTS_FIELD_NUMBER: _ClassVar[int]
    IF_INDEX_FIELD_NUMBER: _ClassVar[int]
    group: int
    port: int
    enabled: bool
    detection_status: str
    power_milliwatts: int
    if_index: int
    def __init__(self, group: _Optional[int] = ..., port: _Optional[int] = ..., enabled: _Optional[bool] = ..., detection_status: _Optional[str] = ..., power_milliwatts: _Optional[int] = ..., if_index: _Optional[int] = ...) -> None: ...

class PrinterSupply(_message.Message):
    __slots__ = ("description", "type", "level", "max_capacity")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MAX_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    description: str
    type: str
    level: int
    max_capacity: int
    def __init__(self, description: _Optional[str] = ..., type: _Optional[str] = ..., level: _Optional[int] = ..., max_capacity: _Optional[int] = ...) -> None: ...

class UpsBattery(_message.Message):
    __slots__ = ("status", "charge_percent", "minutes_remaining", "on_battery")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHARGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MINUTES_REMAINING_FIELD_NUMBER: _ClassVar[int]
    ON_BATTERY_FIELD_NUMBER: _ClassVar[int]
    status: str
    charge_percent: int
    minutes_remaining: int
    on_battery: bool
    def __init__(self, status: _Optional[str] = ..., charge_percent: _Optional[int] = ..., minutes_remaining: _Optional[int] = ..., on_battery: _Optional[bool] = ...) -> None: ...

class MdnsService(_message.Message):
    __slots__ = ("service_type", "instance_name", "host", "port", "addresses", "txt", "mac")
    SERVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_NAME_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    TXT_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    service_type: str
    instance_name: str
    host: str
    port: int
    addresses: _containers.RepeatedScalarFieldContainer[str]
    txt: _containers.RepeatedCompositeFieldContainer[TxtEntry]
    mac: str
    def __init__(self, service_type: _Optional[str] = ..., instance_name: _Optional[str] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., addresses: _Optional[_Iterable[str]] = ..., txt: _Optional[_Iterable[_Union[TxtEntry, _Mapping]]] = ..., mac: _Optional[str] = ...) -> None: ...

class TxtEntry(_message.Message):
    __slots__ = ("key", "value", "has_value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    HAS_VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: bytes
    has_value: bool
    def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ..., has_value: _Optional[bool] = ...) -> None: ...

class DhcpSighting(_message.Message):
    __slots__ = ("mac", "ip", "hostname", "vendor_class", "client_id", "parameter_request_list", "message_type", "requested_ip", "source")
    MAC_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    VENDOR_CLASS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_REQUEST_LIST_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_IP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    mac: str
    ip: str
    hostname: str
    vendor_class: str
    client_id: bytes
    parameter_request_list: _containers.RepeatedScalarFieldContainer[int]
    message_type: str
    requested_ip: str
    source: str
    def __init__(self, mac: _Optional[str] = ..., ip: _Optional[str] = ..., hostname: _Optional[str] = ..., vendor_class: _Optional[str] = ..., client_id: _Optional[bytes] = ..., parameter_request_list: _Optional[_Iterable[int]] = ..., message_type: _Optional[str] = ..., requested_ip: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class HostFacts(_message.Message):
    __slots__ = ("hostname", "os", "os_release", "kernel", "architecture", "cpu_model", "cpu_logical", "cpu_physical", "memory_total_bytes", "memory_available_bytes", "disks", "interfaces", "boot_time", "battery", "endpoint", "reboot_count", "reboots_last_30_days")
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    OS_RELEASE_FIELD_NUMBER: _ClassVar[int]
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    CPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    CPU_LOGICAL_FIELD_NUMBER: _ClassVar[int]
    CPU_PHYSICAL_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_AVAILABLE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    BOOT_TIME_FIELD_NUMBER: _ClassVar[int]
    BATTERY_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    REBOOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    REBOOTS_LAST_30_DAYS_FIELD_NUMBER: _ClassVar[int]
    hostname: str
    os: str
    os_release: str
    kernel: str
    architecture: str
    cpu_model: str
    cpu_logical: int
    cpu_physical: int
    memory_total_bytes: int
    memory_available_bytes: int
    disks: _containers.RepeatedCompositeFieldContainer[Disk]
    interfaces: _containers.RepeatedCompositeFieldContainer[HostInterface]
    boot_time: _timestamp_pb2.Timestamp
    battery: Battery
    endpoint: bool
    reboot_count: int
    reboots_last_30_days: int
    def __init__(self, hostname: _Optional[str] = ..., os: _Optional[str] = ..., os_release: _Optional[str] = ..., kernel: _Optional[str] = ..., architecture: _Optional[str] = ..., cpu_model: _Optional[str] = ..., cpu_logical: _Optional[int] = ..., cpu_physical: _Optional[int] = ..., memory_total_bytes: _Optional[int] = ..., memory_available_bytes: _Optional[int] = ..., disks: _Optional[_Iterable[_Union[Disk, _Mapping]]] = ..., interfaces: _Optional[_Iterable[_Union[HostInterface, _Mapping]]] = ..., boot_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., battery: _Optional[_Union[Battery, _Mapping]] = ..., endpoint: _Optional[bool] = ..., reboot_count: _Optional[int] = ..., reboots_last_30_days: _Optional[int] = ...) -> None: ...

class Disk(_message.Message):
    __slots__ = ("mountpoint", "device", "fstype", "total_bytes", "used_bytes")
    MOUNTPOINT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    FSTYPE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    mountpoint: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int
    def __init__(self, mountpoint: _Optional[str] = ..., device: _Optional[str] = ..., fstype: _Optional[str] = ..., total_bytes: _Optional[int] = ..., used_bytes: _Optional[int] = ...) -> None: ...

class HostInterface(_message.Message):
    __slots__ = ("name", "mac", "addresses", "is_up", "speed_mbps")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    IS_UP_FIELD_NUMBER: _ClassVar[int]
    SPEED_MBPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    mac: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    is_up: bool
    speed_mbps: int
    def __init__(self, name: _Optional[str] = ..., mac: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ..., is_up: _Optional[bool] = ..., speed_mbps: _Optional[int] = ...) -> None: ...

class Battery(_message.Message):
    __slots__ = ("present", "percent", "design_capacity", "full_capacity", "cycle_count")
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    DESIGN_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    FULL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CYCLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    present: bool
    percent: int
    design_capacity: int
    full_capacity: int
    cycle_count: int
    def __init__(self, present: _Optional[bool] = ..., percent: _Optional[int] = ..., design_capacity: _Optional[int] = ..., full_capacity: _Optional[int] = ..., cycle_count: _Optional[int] = ...) -> None: ...

class ScanSummary(_message.Message):
    __slots__ = ("started_at", "completed", "failed", "observations")
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    started_at: _timestamp_pb2.Timestamp
    completed: _containers.RepeatedScalarFieldContainer[str]
    failed: _containers.RepeatedScalarFieldContainer[str]
    observations: int
    def __init__(self, started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed: _Optional[_Iterable[str]] = ..., failed: _Optional[_Iterable[str]] = ..., observations: _Optional[int] = ...) -> None: ...

class CollectorMessage(_message.Message):
    __slots__ = ("welcome", "ack", "heartbeat_ack")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_ACK_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    ack: Ack
    heartbeat_ack: HeartbeatAck
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., heartbeat_ack: _Optional[_Union[HeartbeatAck, _Mapping]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("last_stored_sequence",)
    LAST_STORED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    last_stored_sequence: int
    def __init__(self, last_stored_sequence: _Optional[int] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("sequence", "status", "detail", "observations_stored")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Ack.Status]
        STORED: _ClassVar[Ack.Status]
        DUPLICATE: _ClassVar[Ack.Status]
        REJECTED: _ClassVar[Ack.Status]
    STATUS_UNSPECIFIED: Ack.Status
    STORED: Ack.Status
    DUPLICATE: Ack.Status
    REJECTED: Ack.Status
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_STORED_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    status: Ack.Status
    detail: str
    observations_stored: int
    def __init__(self, sequence: _Optional[int] = ..., status: _Optional[_Union[Ack.Status, str]] = ..., detail: _Optional[str] = ..., observations_stored: _Optional[int] = ...) -> None: ...

class HeartbeatAck(_message.Message):
    __slots__ = ("received_at",)
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListSitesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SiteSummary(_message.Message):
    __slots__ = ("site", "devices", "locally_administered", "agents", "last_seen", "stable_devices", "randomised_devices", "classes")
    SITE_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    LOCALLY_ADMINISTERED_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    STABLE_DEVICES_FIELD_NUMBER: _ClassVar[int]
    RANDOMISED_DEVICES_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    site: str
    devices: int
    locally_administered: int
    agents: _containers.RepeatedScalarFieldContainer[str]
    last_seen: _timestamp_pb2.Timestamp
    stable_devices: int
    randomised_devices: int
    classes: _containers.RepeatedCompositeFieldContainer[ClassCount]
    def __init__(self, site: _Optional[str] = ..., devices: _Optional[int] = ..., locally_administered: _Optional[int] = ..., agents: _Optional[_Iterable[str]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stable_devices: _Optional[int] = ..., randomised_devices: _Optional[int] = ..., classes: _Optional[_Iterable[_Union[ClassCount, _Mapping]]] = ...) -> None: ...

class ClassCount(_message.Message):
    __slots__ = ("device_class", "devices")
    DEVICE_CLASS_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    device_class: str
    devices: int
    def __init__(self, device_class: _Optional[str] = ..., devices: _Optional[int] = ...) -> None: ...

class ListSitesResponse(_message.Message):
    __slots__ = ("sites",)
    SITES_FIELD_NUMBER: _ClassVar[int]
    sites: _containers.RepeatedCompositeFieldContainer[SiteSummary]
    def __init__(self, sites: _Optional[_Iterable[_Union[SiteSummary, _Mapping]]] = ...) -> None: ...

class ListDevicesRequest(_message.Message):
    __slots__ = ("site",)
    SITE_FIELD_NUMBER: _ClassVar[int]
    site: str
    def __init__(self, site: _Optional[str] = ...) -> None: ...

class Device(_message.Message):
    __slots__ = ("site", "mac", "ip", "vendor", "locally_administered", "first_seen", "last_seen", "sources", "hostname", "network", "switch_port", "device_class", "class_evidence", "device_id", "linked_macs", "link_evidence", "host")
    SITE_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    LOCALLY_ADMINISTERED_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    SWITCH_PORT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_CLASS_FIELD_NUMBER: _ClassVar[int]
    CLASS_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    LINKED_MACS_FIELD_NUMBER: _ClassVar[int]
    LINK_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    site: str
    mac: str
    ip: str
    vendor: str
    locally_administered: bool
    first_seen: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    sources: _containers.RepeatedScalarFieldContainer[str]
    hostname: str
    network: NetworkIdentity
    switch_port: SwitchPortLocation
    device_class: str
    class_evidence: _containers.RepeatedScalarFieldContainer[str]
    device_id: str
    linked_macs: _containers.RepeatedScalarFieldContainer[str]
    link_evidence: _containers.RepeatedScalarFieldContainer[str]
    host: HostFacts
    def __init__(self, site: _Optional[str] = ..., mac: _Optional[str] = ..., ip: _Optional[str] = ..., vendor: _Optional[str] = ..., locally_administered: _Optional[bool] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sources: _Optional[_Iterable[str]] = ..., hostname: _Optional[str] = ..., network: _Optional[_Union[NetworkIdentity, _Mapping]] = ..., switch_port: _Optional[_Union[SwitchPortLocation, _Mapping]] = ..., device_class: _Optional[str] = ..., class_evidence: _Optional[_Iterable[str]] = ..., device_id: _Optional[str] = ..., linked_macs: _Optional[_Iterable[str]] = ..., link_evidence: _Optional[_Iterable[str]] = ..., host: _Optional[_Union[HostFacts, _Mapping]] = ...) -> None: ...

class NetworkIdentity(_message.Message):
    __slots__ = ("vendor", "model", "serial", "firmware", "hardware_revision", "device_class", "sys_name", "sys_descr", "sys_object_id", "address", "port_count", "ports", "errors", "observed_at", "location", "evidence")
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_REVISION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_CLASS_FIELD_NUMBER: _ClassVar[int]
    SYS_NAME_FIELD_NUMBER: _ClassVar[int]
    SYS_DESCR_FIELD_NUMBER: _ClassVar[int]
    SYS_OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    vendor: str
    model: str
    serial: str
    firmware: str
    hardware_revision: str
    device_class: str
    sys_name: str
    sys_descr: str
    sys_object_id: str
    address: str
    port_count: int
    ports: _containers.RepeatedCompositeFieldContainer[PortState]
    errors: _containers.RepeatedScalarFieldContainer[str]
    observed_at: _timestamp_pb2.Timestamp
    location: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, vendor: _Optional[str] = ..., model: _Optional[str] = ..., serial: _Optional[str] = ..., firmware: _Optional[str] = ..., hardware_revision: _Optional[str] = ..., device_class: _Optional[str] = ..., sys_name: _Optional[str] = ..., sys_descr: _Optional[str] = ..., sys_object_id: _Optional[str] = ..., address: _Optional[str] = ..., port_count: _Optional[int] = ..., ports: _Optional[_Iterable[_Union[PortState, _Mapping]]] = ..., errors: _Optional[_Iterable[str]] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., location: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ...) -> None: ...

class PortState(_message.Message):
    __slots__ = ("if_index", "name", "alias", "oper_status", "admin_status", "speed_bps", "learned_macs", "neighbor", "type")
    IF_INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    OPER_STATUS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATUS_FIELD_NUMBER: _ClassVar[int]
    SPEED_BPS_FIELD_NUMBER: _ClassVar[int]
    LEARNED_MACS_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOR_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    if_index: int
    name: str
    alias: str
    oper_status: str
    admin_status: str
    speed_bps: int
    learned_macs: int
    neighbor: str
    type: int
    def __init__(self, if_index: _Optional[int] = ..., name: _Optional[str] = ..., alias: _Optional[str] = ..., oper_status: _Optional[str] = ..., admin_status: _Optional[str] = ..., speed_bps: _Optional[int] = ..., learned_macs: _Optional[int] = ..., neighbor: _Optional[str] = ..., type: _Optional[int] = ...) -> None: ...

class SwitchPortLocation(_message.Message):
    __slots__ = ("switch_mac", "switch_name", "switch_address", "port_name", "if_index", "vlan", "seen_at", "macs_on_port")
    SWITCH_MAC_FIELD_NUMBER: _ClassVar[int]
    SWITCH_NAME_FIELD_NUMBER: _ClassVar[int]
    SWITCH_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_NAME_FIELD_NUMBER: _ClassVar[int]
    IF_INDEX_FIELD_NUMBER: _ClassVar[int]
    VLAN_FIELD_NUMBER: _ClassVar[int]
    SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    MACS_ON_PORT_FIELD_NUMBER: _ClassVar[int]
    switch_mac: str
    switch_name: str
    switch_address: str
    port_name: str
    if_index: int
    vlan: int
    seen_at: _timestamp_pb2.Timestamp
    macs_on_port: int
    def __init__(self, switch_mac: _Optional[str] = ..., switch_name: _Optional[str] = ..., switch_address: _Optional[str] = ..., port_name: _Optional[str] = ..., if_index: _Optional[int] = ..., vlan: _Optional[int] = ..., seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., macs_on_port: _Optional[int] = ...) -> None: ...

class GetDeviceRequest(_message.Message):
    __slots__ = ("mac", "site")
    MAC_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    mac: str
    site: str
    def __init__(self, mac: _Optional[str] = ..., site: _Optional[str] = ...) -> None: ...

class ObservationRecord(_message.Message):
    __slots__ = ("site", "agent_id", "kind", "observed_at", "data_json")
    SITE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    site: str
    agent_id: str
    kind: str
    observed_at: _timestamp_pb2.Timestamp
    data_json: str
    def __init__(self, site: _Optional[str] = ..., agent_id: _Optional[str] = ..., kind: _Optional[str] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_json: _Optional[str] = ...) -> None: ...

class GetDeviceResponse(_message.Message):
    __slots__ = ("devices", "history")
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    history: _containers.RepeatedCompositeFieldContainer[ObservationRecord]
    def __init__(self, devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., history: _Optional[_Iterable[_Union[ObservationRecord, _Mapping]]] = ...) -> None: ...

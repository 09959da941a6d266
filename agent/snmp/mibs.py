"""The MIB objects the probe reads, by name, with the RFC or vendor MIB each comes from.

Only numbers live here (and the few enumerations we turn into words), so
parsers read as `mibs.IF_DESCR` rather than magic OIDs, and one table lists
every walk the probe makes.
"""

from __future__ import annotations

from .values import Oid

# SNMPv2-MIB (RFC 3418) system group.
SYS_DESCR: Oid = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID: Oid = (1, 3, 6, 1, 2, 1, 1, 2, 0)
SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SYS_CONTACT: Oid = (1, 3, 6, 1, 2, 1, 1, 4, 0)
SYS_NAME: Oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)
SYS_LOCATION: Oid = (1, 3, 6, 1, 2, 1, 1, 6, 0)
SYS_SERVICES: Oid = (1, 3, 6, 1, 2, 1, 1, 7, 0)

# IF-MIB (RFC 2863) ifTable and ifXTable columns.
IF_TABLE: Oid = (1, 3, 6, 1, 2, 1, 2, 2)
IF_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_DESCR: Oid = IF_ENTRY + (2,)
IF_TYPE: Oid = IF_ENTRY + (3,)
IF_SPEED: Oid = IF_ENTRY + (5,)
IF_PHYS_ADDRESS: Oid = IF_ENTRY + (6,)
IF_ADMIN_STATUS: Oid = IF_ENTRY + (7,)
IF_OPER_STATUS: Oid = IF_ENTRY + (8,)
IF_IN_OCTETS: Oid = IF_ENTRY + (10,)
IF_IN_DISCARDS: Oid = IF_ENTRY + (13,)
IF_IN_ERRORS: Oid = IF_ENTRY + (14,)
IF_OUT_OCTETS: Oid = IF_ENTRY + (16,)
IF_OUT_DISCARDS: Oid = IF_ENTRY + (19,)
IF_OUT_ERRORS: Oid = IF_ENTRY + (20,)
IF_X_TABLE: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1)
IF_X_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
IF_NAME: Oid = IF_X_ENTRY + (1,)
IF_HC_IN_OCTETS: Oid = IF_X_ENTRY + (6,)
IF_HC_OUT_OCTETS: Oid = IF_X_ENTRY + (10,)
IF_HIGH_SPEED: Oid = IF_X_ENTRY + (15,)
IF_ALIAS: Oid = IF_X_ENTRY + (18,)

ADMIN_STATUS = {1: "up", 2: "down", 3: "testing"}
OPER_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}
# IANAifType-MIB labels for the types seen on school networks; others show as their number.
IF_TYPE_NAMES = {
    1: "other", 6: "ethernetCsmacd", 23: "ppp", 24: "softwareLoopback", 53: "propVirtual",
    62: "fastEther", 69: "fastEtherFX", 71: "ieee80211", 117: "gigabitEthernet", 131: "tunnel",
    135: "l2vlan", 136: "l3ipvlan", 161: "ieee8023adLag", 209: "bridge", 244: "wwanPP2",
    54: "propMultiplexor", 22: "propPointToPointSerial", 37: "atm", 94: "adsl", 166: "mpls",
    150: "mplsTunnel", 142: "ipForward", 188: "radioMAC", 197: "sonetVT", 259: "otnOdu",
}

# IP-MIB: the address table (to find the management interface) and ARP tables.
IP_AD_ENT_IF_INDEX: Oid = (1, 3, 6, 1, 2, 1, 4, 20, 1, 2)
IP_NET_TO_MEDIA_PHYS_ADDRESS: Oid = (1, 3, 6, 1, 2, 1, 4, 22, 1, 2)
IP_NET_TO_MEDIA_TYPE: Oid = (1, 3, 6, 1, 2, 1, 4, 22, 1, 4)
IP_NET_TO_PHYSICAL_PHYS_ADDRESS: Oid = (1, 3, 6, 1, 2, 1, 4, 35, 1, 4)

# BRIDGE-MIB (RFC 4188) and Q-BRIDGE-MIB (RFC 4363).
DOT1D_BASE_BRIDGE_ADDRESS: Oid = (1, 3, 6, 1, 2, 1, 17, 1, 1, 0)
DOT1D_BASE_PORT_IF_INDEX: Oid = (1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2)
DOT1D_TP_FDB_PORT: Oid = (1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 2)
DOT1D_TP_FDB_STATUS: Oid = (1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 3)
DOT1Q_TP_FDB_PORT: Oid = (1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2)
DOT1Q_TP_FDB_STATUS: Oid = (1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 3)
DOT1Q_VLAN_FDB_ID: Oid = (1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1, 3)
FDB_STATUS = {1: "other", 2: "invalid", 3: "learned", 4: "self", 5: "mgmt"}

# LLDP-MIB (IEEE 802.1AB-2005).
LLDP_LOC_PORT_ID_SUBTYPE: Oid = (1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 2)
LLDP_LOC_PORT_ID: Oid = (1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 3)
LLDP_LOC_PORT_DESC: Oid = (1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 4)
LLDP_REM_ENTRY: Oid = (1, 0, 8802, 1, 1, 2, 1, 4, 1, 1)
LLDP_REM_CHASSIS_ID_SUBTYPE: Oid = LLDP_REM_ENTRY + (4,)
LLDP_REM_CHASSIS_ID: Oid = LLDP_REM_ENTRY + (5,)
LLDP_REM_PORT_ID_SUBTYPE: Oid = LLDP_REM_ENTRY + (6,)
LLDP_REM_PORT_ID: Oid = LLDP_REM_ENTRY + (7,)
LLDP_REM_PORT_DESC: Oid = LLDP_REM_ENTRY + (8,)
LLDP_REM_SYS_NAME: Oid = LLDP_REM_ENTRY + (9,)
LLDP_REM_SYS_DESC: Oid = LLDP_REM_ENTRY + (10,)
LLDP_REM_MAN_ADDR_IF_SUBTYPE: Oid = (1, 0, 8802, 1, 1, 2, 1, 4, 2, 1, 3)
LLDP_CHASSIS_MAC = 4
LLDP_CHASSIS_NETWORK_ADDRESS = 5
LLDP_PORT_MAC = 3
LLDP_PORT_NETWORK_ADDRESS = 4

# CISCO-CDP-MIB cdpCacheTable, index ifIndex.deviceIndex.
CISCO_ENTERPRISE: Oid = (1, 3, 6, 1, 4, 1, 9)
CDP_CACHE_ENTRY: Oid = (1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1)
CDP_CACHE_ADDRESS_TYPE: Oid = CDP_CACHE_ENTRY + (3,)
CDP_CACHE_ADDRESS: Oid = CDP_CACHE_ENTRY + (4,)
CDP_CACHE_VERSION: Oid = CDP_CACHE_ENTRY + (5,)
CDP_CACHE_DEVICE_ID: Oid = CDP_CACHE_ENTRY + (6,)
CDP_CACHE_DEVICE_PORT: Oid = CDP_CACHE_ENTRY + (7,)
CDP_CACHE_PLATFORM: Oid = CDP_CACHE_ENTRY + (8,)

# POWER-ETHERNET-MIB (RFC 3621).
PETH_PSE_PORT_ADMIN_ENABLE: Oid = (1, 3, 6, 1, 2, 1, 105, 1, 1, 1, 3)
PETH_PSE_PORT_DETECTION_STATUS: Oid = (1, 3, 6, 1, 2, 1, 105, 1, 1, 1, 6)
PETH_MAIN_PSE_POWER: Oid = (1, 3, 6, 1, 2, 1, 105, 1, 3, 1, 1, 2)          # watts, per PSE group
PETH_MAIN_PSE_CONSUMPTION: Oid = (1, 3, 6, 1, 2, 1, 105, 1, 3, 1, 1, 4)    # watts, per PSE group
POE_DETECTION = {1: "disabled", 2: "searching", 3: "deliveringPower", 4: "fault", 5: "test", 6: "otherFault"}

# Printer-MIB (RFC 3805) prtMarkerSuppliesTable, index hrDeviceIndex.supplyIndex.
PRT_SUPPLIES_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 43, 11, 1, 1)
PRT_SUPPLIES_TYPE: Oid = PRT_SUPPLIES_ENTRY + (5,)
PRT_SUPPLIES_DESCRIPTION: Oid = PRT_SUPPLIES_ENTRY + (6,)
PRT_SUPPLIES_MAX_CAPACITY: Oid = PRT_SUPPLIES_ENTRY + (8,)
PRT_SUPPLIES_LEVEL: Oid = PRT_SUPPLIES_ENTRY + (9,)
SUPPLY_TYPES = {
    1: "other", 2: "unknown", 3: "toner", 4: "wasteToner", 5: "ink", 6: "inkCartridge", 7: "inkRibbon",
    8: "wasteInk", 9: "opc", 10: "developer", 11: "fuserOil", 12: "solidWax", 13: "ribbonWax",
    14: "wasteWax", 15: "fuser", 16: "coronaWire", 17: "fuserOilWick", 18: "cleanerUnit",
    19: "fuserCleaningPad", 20: "transferUnit", 21: "tonerCartridge", 22: "fuserOiler", 23: "water",
    24: "wasteWater", 25: "glueWaterAdditive", 26: "wastePaper", 27: "bindingSupply", 28: "bandingSupply",
    29: "stitchingWire", 30: "shrinkWrap", 31: "paperWrap", 32: "staples", 33: "inserts", 34: "covers",
}

# UPS-MIB (RFC 1628) battery group, scalars.
UPS_BATTERY_STATUS: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 2, 1, 0)
UPS_SECONDS_ON_BATTERY: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 2, 2, 0)
UPS_MINUTES_REMAINING: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 2, 3, 0)
UPS_CHARGE_REMAINING: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 2, 4, 0)
UPS_BATTERY_STATES = {1: "unknown", 2: "normal", 3: "low", 4: "depleted"}
# APC PowerNet-MIB: APC cards often leave UPS-MIB out unless it is switched on.
APC_BASIC_BATTERY_STATUS: Oid = (1, 3, 6, 1, 4, 1, 318, 1, 1, 1, 2, 1, 1, 0)   # 2 normal, 3 low, 4 fault
APC_ADV_BATTERY_CAPACITY: Oid = (1, 3, 6, 1, 4, 1, 318, 1, 1, 1, 2, 2, 1, 0)   # percent
APC_ADV_BATTERY_RUNTIME: Oid = (1, 3, 6, 1, 4, 1, 318, 1, 1, 1, 2, 2, 3, 0)    # TimeTicks
APC_BASIC_OUTPUT_STATUS: Oid = (1, 3, 6, 1, 4, 1, 318, 1, 1, 1, 4, 1, 1, 0)    # 3 onBattery
APC_BATTERY_STATES = {1: "unknown", 2: "normal", 3: "low", 4: "depleted"}
APC_ON_BATTERY = 3
# Eaton XUPS-MIB.
XUPS_BAT_TIME_REMAINING: Oid = (1, 3, 6, 1, 4, 1, 534, 1, 2, 1, 0)   # seconds
XUPS_BAT_CAPACITY: Oid = (1, 3, 6, 1, 4, 1, 534, 1, 2, 4, 0)         # percent
XUPS_OUTPUT_SOURCE: Oid = (1, 3, 6, 1, 4, 1, 534, 1, 4, 5, 0)        # 5 battery
XUPS_ON_BATTERY = 5

UPS_GETS: tuple[Oid, ...] = (
    UPS_BATTERY_STATUS, UPS_SECONDS_ON_BATTERY, UPS_MINUTES_REMAINING, UPS_CHARGE_REMAINING,
    APC_BASIC_BATTERY_STATUS, APC_ADV_BATTERY_CAPACITY, APC_ADV_BATTERY_RUNTIME, APC_BASIC_OUTPUT_STATUS,
    XUPS_BAT_TIME_REMAINING, XUPS_BAT_CAPACITY, XUPS_OUTPUT_SOURCE,
)

# Every column the probe walks after identification, grouped by what they feed.
# A section's walks fail or succeed together in the device's error list.
SECTIONS: dict[str, tuple[Oid, ...]] = {
    "interfaces": (
        IF_DESCR, IF_TYPE, IF_SPEED, IF_PHYS_ADDRESS, IF_ADMIN_STATUS, IF_OPER_STATUS,
        IF_IN_OCTETS, IF_IN_DISCARDS, IF_IN_ERRORS, IF_OUT_OCTETS, IF_OUT_DISCARDS, IF_OUT_ERRORS,
        IF_NAME, IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS, IF_HIGH_SPEED, IF_ALIAS,
    ),
    "bridge": (DOT1D_BASE_PORT_IF_INDEX, DOT1D_TP_FDB_PORT, DOT1D_TP_FDB_STATUS,
               DOT1Q_TP_FDB_PORT, DOT1Q_TP_FDB_STATUS, DOT1Q_VLAN_FDB_ID),
    "lldp": (LLDP_LOC_PORT_ID_SUBTYPE, LLDP_LOC_PORT_ID, LLDP_REM_CHASSIS_ID_SUBTYPE, LLDP_REM_CHASSIS_ID,
             LLDP_REM_PORT_ID_SUBTYPE, LLDP_REM_PORT_ID, LLDP_REM_PORT_DESC, LLDP_REM_SYS_NAME,
             LLDP_REM_SYS_DESC, LLDP_REM_MAN_ADDR_IF_SUBTYPE),
    "cdp": (CDP_CACHE_ADDRESS_TYPE, CDP_CACHE_ADDRESS, CDP_CACHE_DEVICE_ID, CDP_CACHE_DEVICE_PORT,
            CDP_CACHE_PLATFORM),
    "arp": (IP_NET_TO_MEDIA_PHYS_ADDRESS, IP_NET_TO_MEDIA_TYPE, IP_NET_TO_PHYSICAL_PHYS_ADDRESS),
    "poe": (PETH_PSE_PORT_ADMIN_ENABLE, PETH_PSE_PORT_DETECTION_STATUS, PETH_MAIN_PSE_POWER,
            PETH_MAIN_PSE_CONSUMPTION),
    "supplies": (PRT_SUPPLIES_TYPE, PRT_SUPPLIES_DESCRIPTION, PRT_SUPPLIES_MAX_CAPACITY, PRT_SUPPLIES_LEVEL),
}

# Which sections are worth asking each class of device for. A printer has no
# forwarding table and a UPS no LLDP neighbours; asking costs a round trip per
# section on every device, every scan. Unknown devices get everything.
SECTIONS_BY_CLASS: dict[str, tuple[str, ...]] = {
    "printer": ("interfaces", "supplies"),
    "ups": ("interfaces",),
    "switch": ("interfaces", "bridge", "lldp", "cdp", "arp", "poe"),
    "router": ("interfaces", "bridge", "lldp", "cdp", "arp", "poe"),
    "access_point": ("interfaces", "bridge", "lldp", "cdp", "arp", "poe"),
    "wireless_controller": ("interfaces", "bridge", "lldp", "cdp", "arp", "poe"),
    "server": ("interfaces", "lldp", "arp"),
}

"""Identification rules, as data: where each vendor keeps model, firmware and serial, and what a device is.

Nothing here runs; identify.py applies it. Every entry comes from a public
MIB or vendor documentation (named in its comment): the IANA Private
Enterprise Numbers registry, ENTITY-MIB (RFC 6933), UPS-MIB (RFC 1628),
Printer-MIB (RFC 3805), HOST-RESOURCES-MIB (RFC 2790), IEEE 1284 device IDs,
and vendors' own MIBs. To support a new vendor, add a Profile; to test a
rule on its own, build a Profile with one source and feed identify() a few
values (tests/unit/agent/snmp/test_snmp_identify.py does).

Sources, tried in order per field (first non-empty value wins):
  Get(oid)            a scalar the probe GETs (only for profiles that match)
  FirstRow(column)    the first row of a walked column (e.g. an AP's own row)
  Entity(column)      ENTITY-MIB entPhysicalTable, chassis row first
  Descr(regex)        a regular expression on sysDescr (group 1, or the match)
  Product()           the products-MIB name of sysObjectID
  Template(parts)     literal text and sources joined; Opt(...) parts may be missing
Each source can carry `pattern` (a regex applied to its value; group 1 is kept)
and `transform` (a name from identify.TRANSFORMS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .values import Oid


@dataclass(frozen=True)
class Get:
    oid: Oid
    pattern: str = ""
    transform: str = ""


@dataclass(frozen=True)
class FirstRow:
    column: Oid
    pattern: str = ""
    transform: str = ""


@dataclass(frozen=True)
class Entity:
    column: str          # one of ENTITY_COLUMNS
    pattern: str = ""
    transform: str = ""


@dataclass(frozen=True)
class Descr:
    pattern: str
    transform: str = ""


@dataclass(frozen=True)
class Product:
    transform: str = ""


@dataclass(frozen=True)
class Opt:
    """An optional part of a Template: `text` is written before the value, and both vanish if it is missing."""

    text: str
    source: "Source"


@dataclass(frozen=True)
class Template:
    parts: tuple[Union[str, "Source", Opt], ...]


Source = Union[Get, FirstRow, Entity, Descr, Product, Template]


@dataclass(frozen=True)
class Profile:
    name: str
    object_id_prefix: Oid = ()        # matches sysObjectID; () = decided by descr_match alone
    descr_match: str = ""             # or: matches sysDescr (case-insensitive search)
    vendor: str = ""
    device_class: str = ""
    model: tuple[Source, ...] = ()
    firmware: tuple[Source, ...] = ()
    serial: tuple[Source, ...] = ()
    hardware_revision: tuple[Source, ...] = ()


# ENTITY-MIB entPhysicalTable (RFC 6933) columns.
ENTITY_TABLE: Oid = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)
ENTITY_COLUMNS = {
    "descr": 2, "contained_in": 4, "class": 5, "name": 7, "hardware": 8, "firmware": 9, "software": 10,
    "serial": 11, "mfg": 12, "model": 13,
}
# The columns the rules use (name and manufacturer are not).
ENTITY_READ = ("class", "contained_in", "descr", "hardware", "firmware", "software", "serial", "model")
ENTITY_CHASSIS = 3
ENTITY_STACK = 11

# Standard scalars.
UPS_IDENT_MANUFACTURER: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 1, 1, 0)
UPS_IDENT_MODEL: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 1, 2, 0)
UPS_IDENT_UPS_SOFTWARE: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 1, 3, 0)
UPS_IDENT_AGENT_SOFTWARE: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 1, 4, 0)
UPS_IDENT_NAME: Oid = (1, 3, 6, 1, 2, 1, 33, 1, 1, 5, 0)
HR_DEVICE_DESCR_1: Oid = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 3, 1)
PRT_GENERAL_SERIAL_1: Oid = (1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17, 1)
# IEEE 1284 device ID, published under HP's enterprise and answered by most printers' agents.
IEEE1284_DEVICE_ID: Oid = (1, 3, 6, 1, 4, 1, 11, 2, 3, 9, 1, 1, 7, 0)

# IANA Private Enterprise Numbers of the vendors schools buy from.
ENTERPRISES: dict[int, str] = {
    9: "Cisco", 11: "HP", 45: "Avaya", 161: "Cambium", 171: "D-Link", 232: "HP", 253: "Xerox",
    297: "Fujifilm", 311: "Microsoft", 318: "APC", 367: "Ricoh", 534: "Eaton", 674: "Dell", 705: "Eaton",
    890: "Zyxel", 1347: "Kyocera", 1588: "Brocade", 1916: "Extreme Networks", 1991: "Ruckus (Brocade)",
    2001: "OKI", 2011: "Huawei", 2435: "Brother", 2636: "Juniper", 3955: "Linksys", 4413: "Ubiquiti",
    4526: "Netgear", 5624: "Extreme Networks", 6486: "Alcatel-Lucent", 8072: "Net-SNMP", 8744: "HP",
    10002: "Ubiquiti", 11863: "TP-Link", 12356: "Fortinet", 14179: "Cisco", 14823: "Aruba", 14988: "MikroTik",
    25053: "Ruckus", 25461: "Palo Alto Networks", 26928: "Aerohive", 29671: "Cisco Meraki", 41112: "Ubiquiti",
    47196: "Aruba", 8741: "SonicWall", 1602: "Canon", 1248: "Epson", 2385: "Sharp", 18334: "Konica Minolta",
    641: "Lexmark", 236: "Samsung",
}

# Products-MIB descriptors of sysObjectID values (CISCO-PRODUCTS-MIB), used as the
# model only when the device's own ENTITY-MIB gives none: that is how these
# stackable Catalysts and controllers name themselves in SNMP.
PRODUCT_NAMES: dict[Oid, str] = {
    (1, 3, 6, 1, 4, 1, 9, 1, 516): "catalyst37xxStack",
    (1, 3, 6, 1, 4, 1, 9, 1, 875): "catalyst4506e",
    (1, 3, 6, 1, 4, 1, 9, 1, 1069): "cisco5500Wlc",
    (1, 3, 6, 1, 4, 1, 9, 1, 1208): "cat29xxStack",
    (1, 3, 6, 1, 4, 1, 9, 1, 1745): "cat38xxstack",
    (1, 3, 6, 1, 4, 1, 9, 1, 2066): "cat36xxstack",
}

_STD_FIRMWARE_IN_DESCR = r"(?:[Vv]ersion|[Ff]irmware(?: [Vv]er(?:sion)?\.?)?|\bFW|\bRev\.?)[:\s]+v?(\d[\w.()\-]*)"

PEN = (1, 3, 6, 1, 4, 1)

# Most specific first: the engine tries every matching profile in this order, then GENERIC.
PROFILES: tuple[Profile, ...] = (
    # --- Aruba (ArubaOS, Instant) and Dell PowerConnect W, which run ArubaOS: ARUBA-MIB / AI-AP-MIB.
    Profile("ArubaOS", descr_match=r"^ArubaOS \(MODEL:", vendor="Aruba",
            model=(Descr(r"^ArubaOS \(MODEL: ([^)]+)\)"),),
            firmware=(Descr(r"Version (\S+)"),),
            # aiAPSerialNum: an Instant cluster lists every AP; the first row is the virtual controller's view.
            serial=(FirstRow(PEN + (14823, 2, 3, 3, 1, 2, 1, 1, 4)),)),
    Profile("Aruba Instant AP", PEN + (14823, 1, 2), vendor="Aruba", device_class="access_point"),
    Profile("Aruba controller", PEN + (14823, 1, 1), vendor="Aruba", device_class="wireless_controller"),
    # --- Aruba/HPE ArubaOS-CX switches: the chassis entPhysicalDescr is the marketing model; the SKU is ModelName.
    Profile("ArubaOS-CX", PEN + (47196, 4), vendor="Aruba", device_class="switch",
            model=(Entity("descr"), Descr(r"^(?:Aruba|HPE ANW) J\w{5} (.+?) Swch \S+$")),
            firmware=(Entity("software"), Descr(r"\b([A-Z]{2}\.\d+\.\d+\.\d+)$")),
            serial=(Entity("serial"),)),
    # --- Fortinet FORTINET-FORTIAP-MIB / FORTINET-FORTISWITCH-MIB.
    Profile("FortiAP", PEN + (12356, 120), vendor="Fortinet", device_class="access_point",
            model=(Template(("FortiAP ", Get(PEN + (12356, 120, 1, 1, 0), pattern=r"^FP(\w+?)-v"))),),
            firmware=(Get(PEN + (12356, 120, 1, 1, 0)),),
            serial=(Get(PEN + (12356, 120, 1, 2, 0)),)),
    Profile("FortiSwitch", PEN + (12356, 106), vendor="Fortinet", device_class="switch",
            model=(Get(PEN + (12356, 106, 4, 1, 1, 0), pattern=r"^(\S+) v\d"),),
            firmware=(Get(PEN + (12356, 106, 4, 1, 1, 0), pattern=r" v(\d[\d.]*)"),),
            serial=(Entity("serial"),)),
    # --- Aerohive / Extreme HiveOS APs: AH-SYSTEM-MIB.
    Profile("HiveOS", PEN + (26928,), vendor="Aerohive", device_class="access_point",
            model=(Get(PEN + (26928, 1, 2, 6, 0)), Descr(r"^([^,]+), HiveOS")),
            firmware=(Descr(r"HiveOS (.+)$"), Get(PEN + (26928, 1, 2, 12, 0), pattern=r"HiveOS (.+)$")),
            serial=(Get(PEN + (26928, 1, 2, 5, 0)),)),
    # --- Cisco Meraki: the cloud-managed devices put their model name in sysDescr and nothing else.
    Profile("Meraki MR", PEN + (29671, 2), vendor="Cisco Meraki", device_class="access_point",
            model=(Descr(r"^(.*Meraki.*)$"),)),
    # --- Cambium PMP (WHISP-BOX-MIB): product name plus the radio's role (AP or SM).
    Profile("Cambium PMP", PEN + (161, 19), vendor="Cambium", device_class="access_point",
            model=(Template((Get(PEN + (161, 19, 3, 3, 1, 266, 0)), Opt(" ", Get(PEN + (161, 19, 3, 3, 1, 7, 0))))),),
            firmware=(Descr(r"^CANOPY (\S+)"),)),
    # --- Ruckus: RUCKUS-UNLEASHED-SYSTEM-MIB, RUCKUS-ZD-SYSTEM-MIB (same layout), RUCKUS-SZ-SYSTEM-MIB.
    Profile("Ruckus Unleashed", PEN + (25053, 3, 1, 5), vendor="Ruckus",
            model=(Get(PEN + (25053, 1, 15, 1, 1, 1, 1, 9, 0)), Get(PEN + (25053, 1, 2, 1, 1, 1, 1, 9, 0))),
            firmware=(Template((Get(PEN + (25053, 1, 15, 1, 1, 1, 1, 18, 0)),
                                Opt(" (", Get(PEN + (25053, 1, 15, 1, 1, 1, 1, 20, 0))), ")")),
                      Template((Get(PEN + (25053, 1, 2, 1, 1, 1, 1, 18, 0)),
                                Opt(" (", Get(PEN + (25053, 1, 2, 1, 1, 1, 1, 20, 0))), ")"))),
            serial=(Get(PEN + (25053, 1, 15, 1, 1, 1, 1, 15, 0)), Get(PEN + (25053, 1, 2, 1, 1, 1, 1, 15, 0)))),
    Profile("Ruckus SmartZone", PEN + (25053, 3, 1, 11), vendor="Ruckus", device_class="wireless_controller",
            model=(FirstRow(PEN + (25053, 1, 8, 1, 1, 1, 1, 1, 1, 3)),),
            firmware=(FirstRow(PEN + (25053, 1, 8, 1, 1, 1, 1, 1, 1, 9)),),
            serial=(Get(PEN + (25053, 1, 4, 1, 1, 1, 15, 13, 0)),)),
    # --- Printers.
    Profile("Brother", PEN + (2435,), vendor="Brother", device_class="printer",
            # BROTHER-MIB: the model string, e.g. "Brother HL-5370DW series [001ba90ba752]".
            model=(Get(PEN + (2435, 2, 4, 3, 2435, 5, 13, 3, 0), transform="brother_model"),
                   Get(HR_DEVICE_DESCR_1, transform="brother_model")),
            firmware=(Get(PEN + (2435, 2, 4, 3, 1240, 6, 5, 0), pattern=r"Firmware Ver\.\s*(\S+)"),
                      Descr(r"Firmware Ver\.\s*([\w.]+)")),
            serial=(Get(PEN + (2435, 2, 3, 9, 4, 2, 1, 5, 5, 1, 0)),)),
    Profile("HP Jetdirect", PEN + (11, 2, 3, 9), vendor="HP", device_class="printer",
            model=(Get(IEEE1284_DEVICE_ID, pattern=r"MDL:(?:HP )?([^;]+)"),
                   Descr(r"PID:(?:HP )?([^,]+)")),
            # HP-LASERJET-COMMON-MIB (PML): values carry two framing bytes before the text.
            firmware=(Get(PEN + (11, 2, 3, 9, 4, 2, 1, 1, 3, 5, 0), transform="pml"),),
            serial=(Get(PEN + (11, 2, 3, 9, 4, 2, 1, 1, 3, 3, 0), transform="pml"), Descr(r"SN:(\w+)"))),
    Profile("Dell printer", PEN + (674, 10898), vendor="Dell", device_class="printer",
            model=(Template(("Dell ", Descr(r"^Dell (\S+)"))),),
            firmware=(Get(PEN + (674, 10898, 100, 1, 1, 1, 0)), Descr(r" version (\S+)"))),
    Profile("Fujifilm", PEN + (297,), vendor="Fujifilm", device_class="printer",
            model=(Descr(r"^FUJI(?:FILM| XEROX) (.+)$"),)),
    Profile("OKI", PEN + (2001,), vendor="OKI", device_class="printer",
            # The OkiLAN print server names the engine it is attached to.
            model=(Descr(r"Attached to (\S+)"),),
            firmware=(Descr(r"Attached to \S+ Rev\.(\S+)"),)),
    Profile("Ricoh", PEN + (367,), vendor="Ricoh", device_class="printer",
            model=(Get(PEN + (367, 3, 2, 1, 1, 1, 1, 0)),),
            firmware=(Get(PEN + (367, 3, 2, 1, 1, 1, 2, 0)),),
            serial=(Get(PEN + (367, 3, 2, 1, 2, 1, 4, 0)),)),
    Profile("Kyocera", PEN + (1347,), vendor="Kyocera", device_class="printer",
            model=(Get(PEN + (1347, 43, 5, 1, 1, 1, 1)),),
            serial=(Get(PEN + (1347, 43, 5, 1, 1, 28, 1)),)),
    Profile("Xerox", PEN + (253,), vendor="Xerox", device_class="printer",
            model=(Descr(r"^Xerox ([^;]+);"),),
            firmware=(Descr(r"; SS ([\d.]+)"),)),
    # --- Switches.
    Profile("Avaya/Extreme ERS", PEN + (45, 3), vendor="Extreme Networks", device_class="switch",
            model=(Template(("ERS-", Descr(r"Ethernet Routing Switch (\S+)"))),),
            firmware=(Descr(r"SW:v(\S+)"),)),
    Profile("Cisco Small Business", PEN + (9, 6, 1), vendor="Cisco",
            # CISCOSB-Physicaldescription-MIB rlPhdUnitGenParamTable (unit 1) and CISCOSB-rndMng.
            model=(Template((FirstRow(PEN + (9, 6, 1, 101, 53, 14, 1, 7)),
                             Opt(" ", Get(PEN + (9, 6, 1, 101, 2, 11, 1, 0))))),
                   Entity("model"), Descr(r"^(\S+)")),
            firmware=(Template(("Software ", FirstRow(PEN + (9, 6, 1, 101, 53, 14, 1, 2)),
                                Opt(", Bootldr ", Get(PEN + (9, 6, 1, 101, 2, 10, 0))),
                                ", Firmware ", FirstRow(PEN + (9, 6, 1, 101, 53, 14, 1, 3)))),
                      Entity("software")),
            serial=(FirstRow(PEN + (9, 6, 1, 101, 53, 14, 1, 5)), Entity("serial"))),
    Profile("D-Link", PEN + (171,), vendor="D-Link", device_class="switch",
            model=(Template((Entity("model"), Opt(" Rev. ", Entity("hardware")))),),
            firmware=(Template(("Build ", Entity("firmware"))),),
            serial=(Entity("serial"), Get(PEN + (171, 12, 1, 1, 12, 0)))),
    # Broadcom FASTPATH-based switches (Ubiquiti EdgeSwitch, Dell N-series): "MODEL, VERSION, Linux ...".
    Profile("FASTPATH", PEN + (4413,), vendor="Ubiquiti", device_class="switch",
            model=(Descr(r"^([^,]+), \d"),), firmware=(Descr(r"^[^,]+, ([\d.]+)"),)),
    Profile("Dell Networking", PEN + (674, 10895), vendor="Dell", device_class="switch",
            model=(Descr(r"^(Dell [^,]+), \d"),), firmware=(Descr(r"^Dell [^,]+, ([\d.]+)"),)),
    Profile("UniFi switch", descr_match=r"^USW-", vendor="Ubiquiti", device_class="switch",
            model=(Descr(r"^([^,]+), \d"),), firmware=(Descr(r"^[^,]+, ([\d.]+)"),)),
    Profile("Netgear", PEN + (4526,), vendor="Netgear", device_class="switch",
            model=(Descr(r"^(\S+) "),), firmware=(Descr(r", (\d[\d.]+), "),)),
    Profile("Enterasys", PEN + (5624,), vendor="Extreme Networks", device_class="switch",
            model=(Descr(r"Inc\. (\S+) Rev"),), firmware=(Descr(r" Rev (\S+)"),)),
    Profile("HP ProCurve/Aruba", PEN + (11, 2, 3, 7, 11), vendor="HP", device_class="switch",
            model=(Descr(r"^(?:HP|Aruba|ProCurve) (J\w+ [^ ,]+)"), Entity("model")),
            firmware=(Descr(r"revision ([^,\s]+)"), Get(PEN + (11, 2, 14, 11, 5, 1, 1, 3, 0))),
            serial=(Get(PEN + (11, 2, 36, 1, 1, 2, 9, 0)), Entity("serial"))),
    Profile("MikroTik SwOS", PEN + (14988, 2), vendor="MikroTik", device_class="switch",
            model=(Descr(r"^(\S+) SwOS"),),
            firmware=(Get(PEN + (14988, 1, 1, 7, 4, 0)), Descr(r"SwOS v(\S+)")),
            serial=(Get(PEN + (14988, 1, 1, 7, 3, 0)),)),
    Profile("MikroTik RouterOS", PEN + (14988, 1), vendor="MikroTik", device_class="router",
            firmware=(Get(PEN + (14988, 1, 1, 7, 4, 0)), Descr(r"RouterOS (\S+)")),
            serial=(Get(PEN + (14988, 1, 1, 7, 3, 0)),)),
    Profile("Juniper", PEN + (2636,), vendor="Juniper",
            # JUNIPER-MIB jnxBoxDescr / jnxBoxSerialNo; older boxes only say it in sysDescr.
            model=(Get(PEN + (2636, 3, 1, 2, 0)),
                   Template(("Juniper ", Descr(r"Juniper Networks, Inc\. (\S+)", transform="upper")))),
            firmware=(Descr(r"JUNOS ([^,\s]+)"),),
            serial=(Get(PEN + (2636, 3, 1, 3, 0)), Entity("serial"))),
    Profile("Ruckus ICX", PEN + (1991,), vendor="Ruckus", device_class="switch",
            model=(Product(), Descr(r"(ICX[\w-]+)")),
            firmware=(Descr(r"Version (\S+)"),)),
    Profile("Cisco IOS", PEN + (9, 1), vendor="Cisco",
            model=(Entity("model"), Product()),
            # IOS-XE 16 and later name the image family with the release, e.g. "CAT9K_IOSXE 17.15.2".
            firmware=(Template((Descr(r"Software \((\w*IOSXE)\)"), " ", Descr(r"Version ([^,\s]+)"))),
                      Descr(r"Version ([^,\s]+)")),
            serial=(Entity("serial"),)),
    # --- Wireless controllers.
    Profile("HP MSM", PEN + (8744,), vendor="HP",
            model=(Descr(r"^(\S+) - Hardware revision"),),
            firmware=(Descr(r"Firmware version (\S+)"),),
            serial=(Descr(r"Serial number (\S+)"),),
            hardware_revision=(Descr(r"Hardware revision (\S+)"),)),
    Profile("Zyxel NXC", PEN + (890, 1, 15), vendor="Zyxel", device_class="wireless_controller",
            model=(Get(PEN + (890, 1, 15, 3, 1, 11, 0)),),
            firmware=(Get(PEN + (890, 1, 15, 3, 1, 6, 0)),),
            serial=(Get(PEN + (890, 1, 15, 3, 1, 12, 0)),)),
    # --- UPSes.
    Profile("APC", PEN + (318,), vendor="APC", device_class="ups",
            # PowerNet-MIB upsBasicIdentModel with upsAdvIdentFirmwareRevision (the UPS's own firmware
            # revision tells hardware generations apart); the card's AOS and application firmware.
            model=(Template((Get(PEN + (318, 1, 1, 1, 1, 1, 1, 0)), Opt(" ", Get(PEN + (318, 1, 1, 1, 1, 2, 1, 0))))),),
            firmware=(Template(("AOS v", Descr(r"PF:v(\S+)"), " / App v", Descr(r"AF1:v(\S+)"))),),
            serial=(Get(PEN + (318, 1, 1, 1, 1, 2, 3, 0)), Descr(r"SN: (\S+)")),
            hardware_revision=(Descr(r"HR:(\S+)"),)),
    Profile("Dell UPS", PEN + (674, 10902), vendor="Dell", device_class="ups",
            model=(Get(PEN + (674, 10902, 2, 100, 1, 0)),),
            firmware=(Template((Get(PEN + (674, 10902, 2, 100, 4, 0)), Opt(" ", Get(PEN + (674, 10902, 2, 100, 5, 0))))),),
            serial=(Get(PEN + (674, 10902, 2, 120, 1, 2, 0)),)),
    Profile("Eaton MGE", PEN + (705,), vendor="Eaton", device_class="ups",
            # MG-SNMP-UPS-MIB upsmgIdentFamilyName + upsmgIdentModelName.
            model=(Template((Get(PEN + (705, 1, 1, 1, 0)), Opt(" ", Get(PEN + (705, 1, 1, 2, 0))))),),
            firmware=(Get(PEN + (705, 1, 1, 4, 0)),),
            serial=(Get(PEN + (705, 1, 1, 7, 0)),)),
    Profile("Eaton XUPS", PEN + (534,), vendor="Eaton", device_class="ups",
            # XUPS-MIB xupsIdentModel / xupsIdentSoftwareVersion; some cards put the serial in upsIdentName.
            model=(Get(PEN + (534, 1, 1, 2, 0)),),
            firmware=(Get(PEN + (534, 1, 1, 3, 0)),),
            serial=(Get(PEN + (534, 1, 1, 6, 0)), Get(UPS_IDENT_NAME, pattern=r"ID: (\S+)"))),
)

# Applied after the matching profiles, to every device: the standard MIBs.
GENERIC = Profile(
    "standard MIBs",
    model=(Entity("model"), Get(UPS_IDENT_MODEL), Get(IEEE1284_DEVICE_ID, pattern=r"MDL:([^;]+)"),
           Get(HR_DEVICE_DESCR_1), Product()),
    firmware=(Entity("software"), Entity("firmware"), Get(UPS_IDENT_UPS_SOFTWARE), Descr(_STD_FIRMWARE_IN_DESCR)),
    serial=(Entity("serial"), Get(PRT_GENERAL_SERIAL_1), Descr(r"(?:Serial [Nn]umber|\bSN)[:\s]+(\w+)")),
    hardware_revision=(Entity("hardware"),),
)

# Device class by sysObjectID prefix, for vendors whose profile does not say
# (most specific first), then by words in the model and sysDescr.
CLASS_BY_MODEL: tuple[tuple[str, str], ...] = (
    (r"^ZD\d|^SZ\d|^MSM7|^vSZ|WLC|Wlc|Controller", "wireless_controller"),
    (r"^MSM4|^[RTHCE]\d{3}\b|^AP\d|HiveAP|^MR\d|Access Point|\bAP$", "access_point"),
    # Cisco part numbers: WS-C (Catalyst), C9200..C9500 and C2960/C3850-style families.
    (r"^WS-C|^C9[2-5]\d\d|^C[23]9?\d{2,3}[A-Z]?-\d", "switch"),
)
CLASS_BY_DESCR: tuple[tuple[str, str], ...] = (
    (r"wireless (?:lan )?controller|\bWLC\b|Cisco Controller|Business Wireless|\bController\b", "wireless_controller"),
    (r"access point|\bAP\b|HiveOS|Cloud Managed AP", "access_point"),
    (r"printer|print server|printing system|laserjet|officejet|\bMFP\b|\bMFC-|copier|Xerox|Ricoh", "printer"),
    (r"\bUPS\b|Smart-UPS|Network Management Card|ConnectUPS|PowerNet", "ups"),
    (r"switch|\bSwOS\b|Catalyst|\bUSW\b|ProCurve|EdgeSwitch", "switch"),
    (r"router|RouterOS|\bIOS XR\b|\bISR\b", "router"),
    (r"Windows|Linux|FreeBSD|Darwin|VMware ESX", "server"),
)
# sysServices (RFC 3418) bits: 0x02 datalink/subnetwork (bridge), 0x04 internet (router).
SERVICES_ROUTER = 0x04
SERVICES_BRIDGE = 0x02

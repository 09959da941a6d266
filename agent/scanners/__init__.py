"""Scanners: each returns observations and never sends them.

The registry key equals the module name and the config section name.
"""

from .arp import ArpScanner
from .base import ScanContext, Scanner
from .hostfacts import HostfactsScanner
from .mdns import MdnsScanner
from .snmp import SnmpScanner

SCANNERS: dict[str, type[Scanner]] = {
    ArpScanner.name: ArpScanner,
    HostfactsScanner.name: HostfactsScanner,
    MdnsScanner.name: MdnsScanner,
    SnmpScanner.name: SnmpScanner,
}

__all__ = ["SCANNERS", "ScanContext", "Scanner"]

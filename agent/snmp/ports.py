"""Which interface rows are ports: what an engineer counts on a device, not every row of its ifTable.

An ifTable also lists things that are not there or not ports at all, and
counting them makes a 48-port switch look like a 600-port one. Each rule
below is a fact from IF-MIB (RFC 2863) or a well-known agent convention:

- ifOperStatus notPresent(6): "the interface has missing (typically,
  hardware) components" - e.g. port-channels and tunnels that are defined
  but not built; they are configuration, not ports.
- Cisco IOS lists every VLAN that has no SVI as an l2vlan row named
  "unrouted VLAN n"; those are VLAN database entries.
- mplsTunnel(150) rows are label-switched paths inside the box.
"""

from __future__ import annotations

import re
from typing import Sequence

from .model import Interface

NOT_PRESENT = "notPresent"
INTERNAL_TYPES = frozenset({150})          # mplsTunnel
_PLACEHOLDER_NAMES = re.compile(r"^unrouted VLAN \d+$")


def is_port(interface: Interface) -> bool:
    if interface.oper_status == NOT_PRESENT:
        return False
    if interface.type in INTERNAL_TYPES:
        return False
    return not _PLACEHOLDER_NAMES.match(interface.descr)


def select_ports(interfaces: Sequence[Interface]) -> list[Interface]:
    return [interface for interface in interfaces if is_port(interface)]

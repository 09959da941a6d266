"""MAC address rules shared by the agent and the collector: pure, standard library only.

Both sides must agree on what a MAC is and when it is randomised, or the
collector would count one device twice; so the rules live once, here.
"""

from __future__ import annotations

import re

_SEPARATED = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}")
_DOTTED = re.compile(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}")   # Cisco style
_BARE = re.compile(r"[0-9a-f]{12}")

# IEEE 802 first-octet bits.
_GROUP_BIT = 0x01                  # multicast/broadcast, never a host's own address
_LOCALLY_ADMINISTERED_BIT = 0x02   # set on randomised ("private") MACs


def normalise(text: str) -> str:
    """aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or aabbccddeeff -> aa:bb:cc:dd:ee:ff.

    Raises ValueError for anything else (mixed separators, wrong length, non-hex).
    """
    candidate = text.strip().lower() if isinstance(text, str) else ""
    if not (_SEPARATED.fullmatch(candidate) or _DOTTED.fullmatch(candidate) or _BARE.fullmatch(candidate)):
        raise ValueError(f"not a MAC address: {text!r}")
    digits = re.sub(r"[:.\-]", "", candidate)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def is_locally_administered(mac: str) -> bool:
    return int(mac[:2], 16) & _LOCALLY_ADMINISTERED_BIT != 0


def is_unicast(mac: str) -> bool:
    """False for group addresses and for the all-zero MAC, which no host answers ARP with."""
    return int(mac[:2], 16) & _GROUP_BIT == 0 and mac != "00:00:00:00:00:00"

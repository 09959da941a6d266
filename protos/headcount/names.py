"""Device names as the agent and the collector both see them: pure, standard library only.

The agent replaces a personal device name ("Jane-Smiths-iPad") with a
pseudonym before it leaves the school, but keeps a generic one ("iPad",
"Student", "Galaxy-A12") as it is: thousands of devices carry it and it
names nobody. The collector links a device's randomised MACs on a shared
host name, and must refuse to do so on a generic one. Both decisions rest on
the same two questions (what form a name is compared in, and which names are
generic), so the answers live once, here, the way headcount.macaddr holds
the MAC rules. If the two sides disagreed, a name the collector thinks
generic could arrive pseudonymised (unrecognisable, so it links strangers),
or a name the agent thinks generic could arrive raw where the site asked for
pseudonyms.

A generic name here is one of:

- a default name from GENERIC_NAMES ("ipad", "student", "raspberrypi", ...);
- a vendor-model default: a device family followed only by model tokens
  ("Galaxy-A12", "Pixel-7a", "iPad-Air", "MacBook-Pro", "Redmi-Note-10-Pro",
  "SM-A125F"). Android and Apple devices take these from the product name
  out of the box, so a school has dozens of "Galaxy-A12"s. A model token is
  a model word from a closed list (air, pro, mini, ultra, ...), a single
  letter, at most two letters, 1-4 digits and at most two letters ("a12",
  "s21fe", "7a", "x505f"), or note/tab/fold/flip/book with a number
  ("note20"); never a word that could be a first name, so "Galaxy-Jane",
  "iPhone-Max" and "Janes-Galaxy-A12" stay personal (and are pseudonymised);
- a name made from an IPv4 address, with at most a prefix from a closed
  list and a domain ("ip-10-0-0-5", "dhcp-192-168-1-20",
  "ip-10-0-0-5.ec2.internal"): it belongs to the address, and addresses
  move between devices. "jane-10-0-0-5" is not one;

each optionally followed by the suffix a DHCP client or mDNS adds on a name
conflict ("iPad-2", "iPad (2)"). Whatever is called generic here goes to the
collector readable under "pseudonymise", so the patterns are deliberately
narrow: a name is generic only if no part of it could be a person's.
"""

from __future__ import annotations

import re
import unicodedata

PSEUDONYM_PREFIX = "p:"
_PSEUDONYM = re.compile(r"p:[0-9a-f]{8,128}")

# Written normalised (see normalise_name). One list for both sides: the agent
# keeps these raw under "pseudonymise", the collector never links on them.
GENERIC_NAMES = frozenset({
    # Apple's defaults, before anyone renames the device
    "ipad", "iphone", "ipod", "ipod-touch", "ipad-pro", "ipad-air", "ipad-mini", "mac", "macbook", "macbook-air",
    "macbook-pro", "macbookair", "macbookpro", "imac", "mac-mini", "mac-studio", "mac-pro", "apple-tv", "appletv",
    "homepod", "homepod-mini",
    # Google, Android, ChromeOS, and other makers' bare product names
    "android", "android-device", "chromebook", "chromeos", "chromecast", "google-home", "google-nest-mini",
    "google-nest-hub", "pixel", "galaxy", "samsung", "kindle", "fire", "echo", "amazon", "roku", "xbox",
    "playstation", "nintendo-switch", "switch", "smart-tv", "tv",
    # operating-system, board and image defaults
    "localhost", "localhost.localdomain", "raspberrypi", "raspberry-pi", "pi", "ubuntu", "debian", "fedora",
    "linux", "kali", "windows", "pc", "desktop", "laptop", "espressif", "esp32", "esp8266", "esp-device",
    # what a school or a setup script calls every device alike
    "student", "teacher", "guest", "user", "admin", "test", "default", "device", "tablet", "phone", "printer",
    "camera", "iot",
    # placeholders some clients send when they have no name
    "unknown", "none", "(none)", "null", "host", "client", "dhcp", "dhcpcd",
})

# Vendor-model defaults: a family word, then one or more model tokens (never a bare family word: "honor" or
# "mi" alone could be a name, and the bare family names that are defaults are in GENERIC_NAMES).
_MODEL_FAMILIES = (
    "galaxy", "samsung", "sm", "pixel", "google", "ipad", "iphone", "ipod", "macbook", "imac", "mac", "apple",
    "redmi", "poco", "xiaomi", "mi", "oneplus", "moto", "motorola", "nokia", "huawei", "honor", "oppo", "vivo",
    "realme", "lenovo", "surface", "kindle", "fire", "echo", "amazon", "xperia", "tcl", "zte", "chromebook",
)
# No word here may be a plausible first name ("max" only as "pro-max").
_MODEL_WORDS = (
    "air", "pro", "pro-max", "mini", "plus", "ultra", "lite", "tab", "note", "fold", "flip", "go", "se", "xl",
    "fe", "edge", "power", "play", "stylus", "touch", "studio", "book", "hd", "one", "prime", "turbo", "nord",
    "ce", "kids", "tv", "stick", "fire", "dot", "show", "hub", "home", "nest", "tablet", "phone", "series", "xr",
    "xs",
)
_MODEL_TOKEN = (r"(?:" + "|".join(re.escape(word) for word in sorted(_MODEL_WORDS, key=len, reverse=True))
                + r"|(?:note|tab|fold|flip|book)\d{1,4}[a-z]?|[a-z]{0,2}\d{1,4}[a-z]{0,2}|[a-z]|[a-z]?\(\d{1,2}\))")
_MODEL_NAME = re.compile(r"(?:" + "|".join(_MODEL_FAMILIES) + r")(?:-" + _MODEL_TOKEN + r")+")
# "ip-10-0-0-5", "dhcp-192-168-1-20", "10.0.0.5", "ip-10-0-0-5.ec2.internal": an address, a known prefix at most.
_ADDRESS_NAME = re.compile(r"(?:(?:ip|dhcp|host|client|pc|dyn|dynamic|static|wifi|wlan|wireless|guest|nat|vpn|"
                           r"addr|unknown)-?)?\d{1,3}(?:[-.]\d{1,3}){3}(?:\.[a-z0-9-]{1,63})*")
# Collision suffixes devices add on their own: "iPad-2" (DHCP and mDNS host names), "iPad (2)" (instance names).
_COLLISION_SUFFIX = re.compile(r"(?:-?\(\d{1,3}\)|-\d{1,3})$")

_APOSTROPHES = re.compile("['\u2018\u2019\u02bc`]")
_SEPARATORS = re.compile(r"[\s_]+")
_DASHES = re.compile(r"-{2,}")

# DNS-SD instance names that wrap the device's name:
#   RAOP (AirPlay audio)      "<12 hex digits of the MAC>@<device name>"
#   avahi's workstation       "<host name> [aa:bb:cc:dd:ee:ff]"
#   a shared printer (CUPS,   "<printer queue> @ <computer name>": the computer that shares it
#   macOS printer sharing)     publishes it, so the part after " @ " is a computer's (a student's) name.
RAOP_INSTANCE = re.compile(r"^([0-9A-Fa-f]{12}@)(.+)$", re.DOTALL)
WORKSTATION_INSTANCE = re.compile(r"^(.+?)( \[[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\])$", re.DOTALL)
SHARED_PRINTER_SEPARATOR = " @ "

# mDNS renames a host that finds its name taken: "Janes-iPad" becomes "Janes-iPad-2", "-3", ...
# (mDNSResponder and avahi alike; a sleep proxy holding the old record is the usual cause, and
# a Mac that keeps losing that race counts into two digits). 2..99: 0 and 1 are never a conflict.
_MDNS_CONFLICT = re.compile(r"(.+)-([2-9]|[1-9]\d)")


def normalise_name(name: str) -> str:
    """The form names are compared, keyed and pseudonymised in.

    The same device name reaches the agent spelt several ways: the mDNS host
    "Janes-iPad.local.", the DHCP hostname "janes-ipad", the instance name
    "Jane's iPad". NFKC, casefolding, dropping the trailing dot and ".local",
    dropping apostrophes and writing spaces and underscores as "-" (what Apple
    does when it derives the host name from the device name) makes them one
    name, hence one pseudonym and one link key. A pseudonym ("p:<hex>", or
    "p:<hex>.local." from mDNS) stays itself.

    Deliberately not removed: a trailing "-N". "room-2" and "room-3" are two
    rooms; only mdns_host_name removes an mDNS conflict suffix, and only when
    the record itself shows it is one.
    """
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKC", name).strip().casefold().rstrip(".")
    if text.endswith(".local"):
        text = text[: -len(".local")]
    return loose_text(text)


def loose_text(text: str) -> str:
    """normalise_name without the DNS part (trailing dot, ".local"): the form to search any text in for a name."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    return _DASHES.sub("-", _SEPARATORS.sub("-", text)).strip("-")


def is_pseudonym(name: str) -> bool:
    """True for "p:<hex>" as the agent makes them (after normalise_name)."""
    return _PSEUDONYM.fullmatch(name) is not None


def is_generic_name(name: str) -> bool:
    """True for a default name that many devices share and which therefore names nobody (see the module docstring).

    Takes a raw or a normalised name. An empty name is no name at all (False):
    callers that need "nothing to link on" test for it themselves.
    """
    normal = normalise_name(name)
    if not normal or is_pseudonym(normal):
        return False
    base = _COLLISION_SUFFIX.sub("", normal)
    return any(candidate and (candidate in GENERIC_NAMES or _MODEL_NAME.fullmatch(candidate) is not None
                              or _ADDRESS_NAME.fullmatch(candidate) is not None)
               for candidate in (normal, base))


def split_shared_printer(instance: str) -> tuple[str, str] | None:
    """ "Brother HL-L2350DW @ Jane Smith's MacBook Pro" -> ("Brother HL-L2350DW", "Jane Smith's MacBook Pro")."""
    queue, separator, computer = instance.rpartition(SHARED_PRINTER_SEPARATOR)
    if not separator or not queue.strip() or not computer.strip():
        return None
    return queue, computer


def instance_device_name(instance: str) -> str:
    """The part of a DNS-SD instance name that names a device (the whole name when it wraps nothing)."""
    found = RAOP_INSTANCE.match(instance)
    if found:
        return found.group(2)
    found = WORKSTATION_INSTANCE.match(instance)
    if found:
        return found.group(1)
    shared = split_shared_printer(instance)
    return shared[1] if shared else instance


def mdns_host_name(host: str, instance: str = "") -> str:
    """The normalised name of an mDNS host, without an mDNS conflict suffix when the record shows it is one.

    "Janes-iPad-2.local." is "janes-ipad" when the same record's instance
    name is "Jane's iPad" (or "Janes-iPad"): the device calls itself
    Janes-iPad and mDNS added "-2" because the name was taken. Without that
    confirmation the suffix stays: "Cart-iPad-2.local." offering "Cart iPad 2"
    is the second cart iPad, not the first one renamed, and removing every
    "-N" would make "Cart-iPad-2" and "Cart-iPad-3" one name (one pseudonym,
    one link key: two children's devices counted as one). A missed conflict
    costs less: the host's DHCP name still links the device.
    """
    normal = normalise_name(host)
    found = _MDNS_CONFLICT.fullmatch(normal)
    if found is None or not instance:
        return normal
    device = normalise_name(instance_device_name(instance))
    return found.group(1) if device == found.group(1) else normal


def client_id_text(client_id: bytes) -> str:
    """A DHCP client id (option 61) read as the name it may carry; "" when it is not printable text.

    Some clients send a type-0 text name ("\\x00janes-laptop"), others a bare
    text id; a hardware id or a DUID is binary and reads as "".
    """
    if not client_id:
        return ""
    body = client_id[1:] if client_id[0] == 0 else client_id
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return text if text.isprintable() else ""

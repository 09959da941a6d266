"""Read snmpsim's .snmprec recordings into varbinds: recorded input for the pure parsers' tests.

One variable per line, `OID|TYPE|VALUE`; TYPE is the BER tag number, and an
`x` suffix means VALUE is hex. Only the plain forms appear in recordings of
real devices (no snmpsim variation modules), and only those are accepted.
"""

from __future__ import annotations

import ipaddress

from .values import (COUNTER32, COUNTER64, GAUGE32, INTEGER, IP_ADDRESS, NULL, OBJECT_IDENTIFIER, OCTET_STRING,
                     OPAQUE, TIMETICKS, VarBind, parse_oid)

_INTEGER_TAGS = {INTEGER, COUNTER32, GAUGE32, TIMETICKS, COUNTER64}


def parse_snmprec(text: str, *, source: str = "<snmprec>", strict: bool = True) -> list[VarBind]:
    """Varbinds in file order. A bad line raises ValueError naming source and line, or is skipped if not strict.

    Real recordings contain the odd broken value (e.g. a Counter32 of
    "6git3159"); snmpsim serves such a line as best it can, so tests that
    replay a recording read it with strict=False.
    """
    varbinds: list[VarBind] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            oid_text, tag_text, value_text = line.split("|", 2)
            hexed = tag_text.endswith("x")
            tag = int(tag_text.rstrip("x"))
            oid = parse_oid(oid_text)
            raw = bytes.fromhex(value_text) if hexed else value_text.encode("utf-8", "surrogateescape")
            if tag in (OCTET_STRING, OPAQUE):
                value = raw
            elif tag in _INTEGER_TAGS:
                value = int(raw.decode() if not hexed else int.from_bytes(raw, "big"))
            elif tag == OBJECT_IDENTIFIER:
                value = parse_oid(raw.decode()) if raw else ()
            elif tag == IP_ADDRESS:
                value = raw if hexed else ipaddress.IPv4Address(raw.decode()).packed
            elif tag == NULL:
                value = None
            else:
                raise ValueError(f"type {tag_text} is not one this reader knows")
        except (ValueError, UnicodeDecodeError) as exc:
            if not strict:
                continue
            raise ValueError(f"{source}:{number}: cannot read {line[:80]!r}: {exc}") from exc
        varbinds.append((oid, tag, value))
    return varbinds

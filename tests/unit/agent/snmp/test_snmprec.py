"""The .snmprec reader: every type in the corpus, and bad lines named by file and line."""

import pytest

from headcount.agent.snmp.snmprec import parse_snmprec


def test_types():
    text = "\n".join([
        "1.3.6.1.2.1.1.1.0|4|Linux box", "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10",
        "1.3.6.1.2.1.1.3.0|67|12345", "1.3.6.1.2.1.2.2.1.6.1|4x|001122334455", "1.3.6.1.2.1.4.20.1.1.1|64|192.0.2.1",
        "1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615", "1.3.6.1.2.1.2.2.1.3.1|2|-6",
    ])
    assert parse_snmprec(text) == [
        ((1, 3, 6, 1, 2, 1, 1, 1, 0), 4, b"Linux box"), ((1, 3, 6, 1, 2, 1, 1, 2, 0), 6, (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), 67, 12345), ((1, 3, 6, 1, 2, 1, 2, 2, 1, 6, 1), 4, bytes.fromhex("001122334455")),
        ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 1), 64, bytes([192, 0, 2, 1])),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), 70, 2**64 - 1), ((1, 3, 6, 1, 2, 1, 2, 2, 1, 3, 1), 2, -6),
    ]


def test_bad_lines_are_named_or_skipped():
    text = "1.3.6.1.2.1.1.1.0|4|ok\n1.3.6.1.2.1.2.2.1.17.1|65|6git3159\n"
    with pytest.raises(ValueError) as caught:
        parse_snmprec(text, source="oki.snmprec")
    assert "oki.snmprec:2" in str(caught.value)
    assert len(parse_snmprec(text, strict=False)) == 1

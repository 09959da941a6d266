"""Records mdns_responses.json and mdns_hostile.json (next to this file) from real mDNS peers.

Run once, as root, from the repository folder:

    .venv/bin/python tests/unit/agent/data/mdns_record.py

It builds a test bridge (198.18.216.0/24) and namespaces with the MdnsLan of
tests/integration/test_mdns_scan.py, starts that test's responders
(python-zeroconf) and the hostile sender, and keeps what a namespaced capture
socket hears (tests/integration/mdns_responder.py capture). Everything it
builds is removed again. Not a test: pytest does not collect it.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[3]))   # the repository folder, for the tests package

from zeroconf import DNSIncoming  # noqa: E402

from headcount.agent.config import DEFAULT_MDNS_SERVICE_TYPES  # noqa: E402
from tests.integration.mdns_responder import hostile_packets  # noqa: E402
from tests.integration.test_mdns_scan import (  # noqa: E402
    CAST_MAC, CAST_SERVICES, IPAD_MAC, IPAD_SERVICES, PC_MAC, PC_SERVICES, PRINTER_MAC, PRINTER_SERVICES, MdnsLan,
)

RESPONDERS = (
    ("ipad", 11, IPAD_MAC, "Jane-Does-iPad.local.", IPAD_SERVICES),
    ("cast", 12, CAST_MAC, "6b1c29d4.local.", CAST_SERVICES),
    ("printer", 13, PRINTER_MAC, "room-12-printer.local.", PRINTER_SERVICES),
    ("pc", 14, PC_MAC, "lab-pc-07.local.", PC_SERVICES),
)
TYPE_TXT = 16


def record() -> tuple[list[dict], str, dict[str, str]]:
    """Every datagram the capture socket heard; the hostile sender's address; responder address -> name."""
    work = Path(tempfile.mkdtemp(prefix="mdnsrec"))
    lan = MdnsLan(f"hr{secrets.token_hex(2)}", 216, work)
    try:
        names, ready = {}, []
        for name, index, mac, host, services in RESPONDERS:
            namespace, address = lan.add_host(index, mac)
            names[address] = name
            ready.append(lan.serve(namespace, address, host, services))
        lan.wait_ready(*ready)
        hostile_ns, hostile_ip = lan.add_host(20, "02:00:00:d8:00:20")
        capture_ns, capture_ip = lan.add_host(30, "02:00:00:d8:00:30")
        out = work / "captured.json"
        capture = lan.run(capture_ns, "capture", "--address", capture_ip, "--duration", "3", "--out", str(out),
                          *[arg for kind in DEFAULT_MDNS_SERVICE_TYPES for arg in ("--query", kind)])
        time.sleep(0.5)
        lan.run(hostile_ns, "hostile", "--address", hostile_ip, "--duration", "0.2", "--flood-services", "0",
                "--rate", "0")
        capture.wait(timeout=10)
        return json.loads(out.read_text()), hostile_ip, names
    finally:
        lan.close()


def main() -> int:
    heard, hostile_ip, names = record()
    expected = {data: name for name, data in hostile_packets(hostile_ip).items()}
    hostile: dict[str, str] = {}
    responses: list[dict] = []
    txt: dict[str, str] = {}
    for item in heard:
        data = bytes.fromhex(item["hex"])
        if item["source"] == hostile_ip:
            if data in expected:
                hostile.setdefault(expected[data], item["hex"])
            continue
        message = DNSIncoming(data)
        if not message.is_response() or any(r["hex"] == item["hex"] for r in responses):
            continue
        responses.append({"responder": names[item["source"]], "source": item["source"], "hex": item["hex"]})
        for answer in message.answers():
            if answer.type == TYPE_TXT:
                txt.setdefault(answer.name, answer.text.hex())
    note = ("Recorded once by a capture socket in a network namespace on a test bridge (198.18.216.0/24): "
            "python-zeroconf 0.154.0 responders started by tests/integration/mdns_responder.py serve, with the "
            "services of tests/integration/test_mdns_scan.py, answering one PTR query per default service type. "
            "Re-record with tests/unit/agent/data/mdns_record.py.")
    (HERE / "mdns_responses.json").write_text(json.dumps(
        {"recorded": note, "packets": responses, "txt_rdata": dict(sorted(txt.items()))},
        indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (HERE / "mdns_hostile.json").write_text(json.dumps(
        {"recorded": "Sent by tests/integration/mdns_responder.py hostile from 198.18.216.20 and captured on the "
                     "same test bridge; keys name what is wrong with each packet.",
         "packets": dict(sorted(hostile.items()))}, indent=1) + "\n", encoding="utf-8")
    missing = sorted(set(expected.values()) - set(hostile))
    print(f"{len(responses)} responses, {len(txt)} TXT records, {len(hostile)} hostile packets"
          + (f"; not heard: {', '.join(missing)}" if missing else ""))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

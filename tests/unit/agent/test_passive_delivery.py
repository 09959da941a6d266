"""How the run loop hands passively heard devices to the sink, and what an endpoint says its name is.

The listener here is the real PassiveListener with its raw sockets left
closed: frames are fed through handle_frame, the entry point its thread uses
(the socket side is tested on real namespaced LANs in
tests/integration/test_passive_listener.py). The sink is the real GrpcSink,
pointed at a port where no collector listens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import struct
import threading

from headcount.agent import runner
from headcount.agent.config import AgentConfig, PassiveSettings, PrivacySettings
from headcount.agent.passive import PassiveListener
from headcount.agent.pipeline import ObservationPipeline
from headcount.agent.sink import GrpcSink
from headcount.agent.state import SequenceCounter
from headcount.agent.wire import identity_message


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FedListener(PassiveListener):
    """A PassiveListener whose frames come from a feeding thread instead of raw sockets."""

    instances: list[FedListener] = []

    def start(self) -> None:
        self._alive = True
        FedListener.instances.append(self)

    @property
    def running(self) -> bool:
        return getattr(self, "_alive", False)

    def stop(self) -> None:
        self._alive = False


def arp_frame(index: int) -> bytes:
    mac = bytes([0x3c, 0x22, 0xfb, 0, index >> 8 & 255, index & 255])
    sender = bytes([198, 18, 230, 1 + index % 250])
    return (b"\xff" * 6 + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + sender
            + b"\0" * 6 + bytes([198, 18, 230, 254])).ljust(60, b"\0")


def test_while_the_collector_is_away_passive_sightings_are_sent_in_few_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "BACKLOG_FLUSH_INTERVAL_S", 1.0)
    config = dataclasses.replace(AgentConfig(), passive=PassiveSettings(interfaces=("lo",), flush_interval_s=0.1))
    FedListener.instances.clear()

    async def scenario():
        sink = GrpcSink(f"127.0.0.1:{closed_port()}", identity_message("a", "s", "0", "h", []),
                        SequenceCounter(tmp_path), heartbeat_interval_s=30)
        delivery = asyncio.create_task(sink.run())
        stop = asyncio.Event()
        state = {"passive": None}
        task = asyncio.create_task(runner._listen_passively(config, ObservationPipeline(config), sink, state,
                                                            lambda: None, stop, listener_factory=FedListener))
        fed = threading.Event()

        def feed():
            while not FedListener.instances:
                fed.wait(0.01)
            listener = FedListener.instances[0]
            for index in range(350):   # a new device every 10 ms for 3.5 s
                listener.handle_frame(arp_frame(index), "lo")
                fed.wait(0.01)

        await asyncio.to_thread(feed)
        await asyncio.sleep(0.3)
        stop.set()
        await task
        delivery.cancel()
        await asyncio.gather(delivery, return_exceptions=True)
        return sink, state

    sink, state = asyncio.run(scenario())
    queued = sum(len(batch.observations) for batch in sink._pending)
    # Every 0.1 s something new was heard; with no collector, that is one batch a second, not ten.
    assert 2 <= sink.pending_batches <= 6, sink.pending_batches
    assert queued + state["passive"]["stats"]["held"] == 350
    assert state["passive"]["stats"]["arp"] == 350


def test_an_endpoint_never_says_its_raw_hostname():
    secret = b"k" * 32
    site = AgentConfig(privacy=PrivacySettings(secret=secret))
    endpoint = dataclasses.replace(site, mode="endpoint")
    assert runner.reported_hostname(site, "Jane-Smiths-Laptop") == "Jane-Smiths-Laptop"
    pseudonymised = runner.reported_hostname(endpoint, "Jane-Smiths-Laptop")
    assert pseudonymised.startswith("p:") and "jane" not in pseudonymised.lower()
    no_key = dataclasses.replace(endpoint, privacy=PrivacySettings())
    assert runner.reported_hostname(no_key, "Jane-Smiths-Laptop") == ""
    kept = dataclasses.replace(endpoint, privacy=PrivacySettings(student_names="keep"))
    assert runner.reported_hostname(kept, "Lab-PC-07") == "Lab-PC-07"
    identity = runner.agent_identity(dataclasses.replace(endpoint, privacy=PrivacySettings()), [])
    assert identity["hostname"] == "" and identity["agent_id"] == "endpoint" and identity["mode"] == "endpoint"


def test_a_scan_whose_first_batches_are_dropped_no_longer_vouches_for_its_look(monkeypatch, tmp_path):
    """The queue drops the oldest batches while the collector is away. When that takes the first batches of a
    scan, its summary (in its last batch) must go too: it would count misses for devices that were seen."""
    from datetime import datetime, timedelta, timezone

    from headcount.agent import sink as sink_module
    from headcount.agent.model import ArpSighting, ScanSummary

    monkeypatch.setattr(sink_module, "MAX_OBSERVATIONS_PER_BATCH", 2)
    monkeypatch.setattr(sink_module, "MAX_PENDING_BATCHES", 4)
    sink = GrpcSink(f"127.0.0.1:{closed_port()}", identity_message("a", "s", "0", "h", []),
                    SequenceCounter(tmp_path), heartbeat_interval_s=60)
    start = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)

    def scan(minute: int, hosts: int) -> list:
        at = start + timedelta(minutes=minute)
        seen = [ArpSighting(f"3c:22:fb:00:{minute:02x}:{n:02x}", f"198.18.230.{n + 1}", "", False, "eth0", at)
                for n in range(hosts)]
        return [*seen, ScanSummary(at - timedelta(seconds=30), at, ("arp",), (), hosts)]

    sink.submit(scan(0, 3), now=start)                            # 2 batches, the summary in the second
    assert [sum(isinstance(o, ScanSummary) for o in b.observations) for b in sink._pending] == [0, 1]
    sink.submit(scan(15, 5), now=start + timedelta(minutes=15))   # 3 batches: 5 in all, the oldest dropped
    batches = list(sink._pending)
    assert sink.dropped_batches == 1 and sink.withdrawn_summaries == 1 and len(batches) == 4
    # The first scan's last batch keeps its sighting but no longer its summary; the second scan is whole.
    assert [o.kind for o in batches[0].observations] == ["arp"]
    assert sum(isinstance(o, ScanSummary) for b in batches[1:] for o in b.observations) == 1
    assert sum(1 for b in batches[1:] for o in b.observations if o.kind == "arp") == 5

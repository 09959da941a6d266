"""Delivery of observation batches to the collector over headcount.v1.Ingest/Connect.

The scanners never see this module: the runner hands it observations, and it
numbers them into batches, keeps them until the collector acknowledges them,
and reconnects with exponential backoff when the collector is down. This
queue lives in memory; a durable on-disk spool replaces it in a later issue.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import grpc

from headcount.v1 import inventory_pb2 as pb
from headcount.v1 import inventory_pb2_grpc as pb_grpc

from . import wire
from .errors import SinkUnavailableError
from .model import Observation, ScanSummary
from .state import SequenceCounter

log = logging.getLogger(__name__)

# 500 ARP sightings encode to about 30 kB, far under gRPC's 4 MB default limit,
# while keeping one ack per few hundred observations.
MAX_OBSERVATIONS_PER_BATCH = 500
# When the collector is away for days, keep the newest batches and drop the
# oldest: a fresh inventory is worth more than a stale one. The spool (later)
# makes this lossless.
MAX_PENDING_BATCHES = 2000
ACK_TIMEOUT_S = 30.0


@dataclass
class PendingBatch:
    sequence: int
    created_at: datetime
    observations: tuple[Observation, ...]


@dataclass(frozen=True)
class Backoff:
    initial_s: float = 1.0
    maximum_s: float = 60.0
    factor: float = 2.0

    def delays(self):
        """1, 2, 4, ... up to maximum, each with ±20% jitter so 1,000 schools do not reconnect in lockstep."""
        delay = self.initial_s
        while True:
            yield delay * random.uniform(0.8, 1.2)
            delay = min(delay * self.factor, self.maximum_s)


class GrpcSink:
    def __init__(
        self,
        target: str,
        identity: pb.AgentIdentity,
        counter: SequenceCounter,
        heartbeat_interval_s: float,
        backoff: Backoff = Backoff(),
        on_change: Callable[[], None] = lambda: None,
    ):
        self.target = target
        self._identity = identity
        self._counter = counter
        self._heartbeat_interval_s = heartbeat_interval_s
        self._backoff = backoff
        self._on_change = on_change
        self._pending: collections.deque[PendingBatch] = collections.deque()
        self._wakeup = asyncio.Event()
        self.delivered_sequence = 0
        self.dropped_batches = 0
        self.withdrawn_summaries = 0      # scans no longer vouched for: their first batches were dropped
        self.connected = False
        self.last_error = ""

    @property
    def pending_batches(self) -> int:
        return len(self._pending)

    def submit(self, observations: Sequence[Observation], now: datetime | None = None) -> list[int]:
        """Queue observations for delivery; returns the sequence numbers given to them."""
        created_at = now or datetime.now(timezone.utc)
        sequences = []
        for start in range(0, len(observations), MAX_OBSERVATIONS_PER_BATCH):
            chunk = tuple(observations[start : start + MAX_OBSERVATIONS_PER_BATCH])
            batch = PendingBatch(self._counter.next(), created_at, chunk)
            self._pending.append(batch)
            sequences.append(batch.sequence)
        while len(self._pending) > MAX_PENDING_BATCHES:
            dropped = self._pending.popleft()
            self.dropped_batches += 1
            log.warning("collector unreachable for too long: dropped batch %d (%d observations)",
                        dropped.sequence, len(dropped.observations))
            self._withdraw_scan_summaries(dropped)
        self._wakeup.set()
        self._on_change()
        return sequences

    def _withdraw_scan_summaries(self, dropped: PendingBatch) -> None:
        """Take the scan summary out of the batches left of a scan whose first batches were dropped.

        A summary tells the collector "this scan looked": every device it did
        not report was missed. With part of its sightings dropped, that would
        count misses for devices that were seen; without its summary, the
        scan counts as no look at all, which is true of what arrives. The
        batches of one submit share their created_at (the scan's end).
        """
        for batch in self._pending:
            if batch.created_at != dropped.created_at:
                continue
            kept = tuple(o for o in batch.observations if not isinstance(o, ScanSummary))
            if len(kept) != len(batch.observations):
                batch.observations = kept
                self.withdrawn_summaries += 1
                log.warning("batch %d: the scan's summary withdrawn, its first batches were dropped",
                            batch.sequence)

    async def run(self) -> None:
        """Deliver forever: connect, send, reconnect with backoff. Cancel to stop."""
        delays = self._backoff.delays()
        while True:
            try:
                await self._session()
            except (grpc.aio.AioRpcError, SinkUnavailableError, asyncio.TimeoutError, OSError) as exc:
                self.last_error = _describe(exc)
            except Exception as exc:  # a bug here must not end delivery for good while scans go on
                log.exception("delivery to %s failed unexpectedly", self.target)
                self.last_error = f"internal error: {type(exc).__name__}: {exc}"
            if self.connected:  # the link worked before it broke: start backing off afresh
                delays = self._backoff.delays()
            self.connected = False
            self._on_change()
            delay = next(delays)
            log.warning("collector at %s unavailable (%s); %d batches waiting; retrying in %.1fs",
                        self.target, self.last_error, len(self._pending), delay)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        async with grpc.aio.insecure_channel(self.target) as channel:
            call = pb_grpc.IngestStub(channel).Connect()
            try:
                await call.write(wire.hello_message(self._identity))
                welcome = await self._read(call)
                if not welcome.HasField("welcome"):
                    raise SinkUnavailableError(f"collector answered Hello with {welcome.WhichOneof('body')}")
                self._resume_after(welcome.welcome.last_stored_sequence)
                self.connected = True
                self.last_error = ""
                log.info("connected to collector at %s (it holds our batches up to %d)",
                         self.target, welcome.welcome.last_stored_sequence)
                self._on_change()
                while True:
                    if self._pending:
                        await self._deliver(call, self._pending[0])
                        continue
                    self._wakeup.clear()
                    try:
                        await asyncio.wait_for(self._wakeup.wait(), self._heartbeat_interval_s)
                    except asyncio.TimeoutError:
                        await call.write(wire.heartbeat_message(datetime.now(timezone.utc), self._counter.last, 0))
                        reply = await self._read(call)
                        if not reply.HasField("heartbeat_ack"):
                            raise SinkUnavailableError("collector did not acknowledge the heartbeat")
            finally:
                call.cancel()

    async def _deliver(self, call, batch: PendingBatch) -> None:
        await call.write(wire.batch_message(batch.sequence, batch.created_at, batch.observations))
        reply = await self._read(call)
        if not reply.HasField("ack") or reply.ack.sequence != batch.sequence:
            raise SinkUnavailableError(f"expected the ack of batch {batch.sequence}, got {reply}")
        ack = reply.ack
        if ack.status == pb.Ack.REJECTED:
            log.error("collector rejected batch %d: %s", batch.sequence, ack.detail)
        elif ack.detail:
            log.warning("collector on batch %d: %s", batch.sequence, ack.detail)
        self._pending.popleft()
        self.delivered_sequence = batch.sequence
        log.debug("batch %d %s (%d observations)", batch.sequence, pb.Ack.Status.Name(ack.status), ack.observations_stored)
        self._on_change()

    async def _read(self, call) -> pb.CollectorMessage:
        reply = await asyncio.wait_for(call.read(), ACK_TIMEOUT_S)
        if reply is grpc.aio.EOF:
            raise SinkUnavailableError("collector closed the stream")
        return reply

    def _resume_after(self, last_stored: int) -> None:
        """If the collector already holds higher sequences (our state folder was lost), renumber."""
        if last_stored <= self._counter.last:
            return
        log.warning("collector holds sequence %d but our counter is at %d (state folder reset?); renumbering",
                    last_stored, self._counter.last)
        self._counter.advance_to(last_stored)
        for batch in self._pending:
            batch.sequence = self._counter.next()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__

"""headcount.v1.Ingest: the long-lived stream each school agent keeps open to the collector.

Per stream: Hello -> Welcome(last stored sequence), then every Batch gets an
Ack with its sequence, and every Heartbeat a HeartbeatAck, in order. When the
collector shuts down, each stream ends after the message it is handling, so
no batch is cut in half and the agent simply reconnects later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import NoReturn, TypeVar

import grpc

from headcount.v1 import inventory_pb2 as pb
from headcount.v1 import inventory_pb2_grpc as pb_grpc

from . import wire
from .errors import InvalidHelloError, StoreError
from .model import AgentIdentity, IngestStatus, utc_now
from .store import MAX_SEQUENCE, Store

log = logging.getLogger(__name__)

T = TypeVar("T")


class IngestServicer(pb_grpc.IngestServicer):
    def __init__(self, store: Store, *, stopping: asyncio.Event | None = None,
                 clock: Callable[[], datetime] = utc_now):
        self._store = store
        self._stopping = stopping or asyncio.Event()
        self._clock = clock

    async def Connect(self, request_iterator: AsyncIterator[pb.AgentMessage],
                      context: grpc.aio.ServicerContext) -> AsyncIterator[pb.CollectorMessage]:
        messages = aiter(request_iterator)
        first = await self._next(messages)
        if first is None:
            return
        if first.WhichOneof("body") != "hello":
            await _refuse(context, f"the first message on Ingest/Connect must be a Hello, "
                                   f"got {first.WhichOneof('body') or 'an empty AgentMessage'}")
        try:
            identity = wire.identity_from_hello(first.hello)
        except InvalidHelloError as exc:
            await _refuse(context, str(exc))
        last_stored = await _stored(context, self._store.register_agent(identity, self._clock()),
                                    f"could not register agent {identity.agent_id}")
        log.info("agent %s (site %s, version %s, %s mode) connected from %s; its batches up to %d are stored",
                 identity.agent_id, identity.site, identity.version or "unknown", identity.mode or "site",
                 context.peer(), last_stored)
        yield wire.welcome_message(last_stored)

        batches = 0
        try:
            while (message := await self._next(messages)) is not None:
                body = message.WhichOneof("body")
                if body == "batch":
                    yield await self._handle_batch(identity, message.batch, context)
                    batches += 1
                elif body == "heartbeat":
                    received_at = self._clock()
                    await _stored(context, self._store.record_heartbeat(identity.agent_id, received_at),
                                  f"could not record the heartbeat of agent {identity.agent_id}")
                    yield wire.heartbeat_ack_message(received_at)
                elif body == "hello":
                    await _refuse(context, "Hello may be sent only once, as the first message of the stream")
                else:
                    await _refuse(context, "AgentMessage has no body (expected a Batch or a Heartbeat)")
        finally:
            log.info("agent %s (site %s) disconnected after %d batches", identity.agent_id, identity.site, batches)

    async def _handle_batch(self, identity: AgentIdentity, batch: pb.Batch,
                            context: grpc.aio.ServicerContext) -> pb.CollectorMessage:
        if not 1 <= batch.sequence <= MAX_SEQUENCE:
            detail = f"batch sequence {batch.sequence} is invalid: sequences start at 1 and must stay below 2^63"
            log.warning("agent %s: rejected a batch: %s", identity.agent_id, detail)
            return wire.rejected_ack_message(batch.sequence, detail)
        received_at = self._clock()
        observations, rejections = wire.observations_from_batch(batch, received_at)
        outcome = await _stored(
            context,
            self._store.ingest_batch(identity.agent_id, identity.site, batch.sequence, observations, received_at),
            f"could not store batch {batch.sequence} of agent {identity.agent_id}",
        )
        if outcome.status is IngestStatus.DUPLICATE:
            # Normal after a reconnect: the agent resends what it had not seen acknowledged.
            log.debug("agent %s batch %d: duplicate (stored up to %d)", identity.agent_id, batch.sequence,
                      outcome.last_sequence)
            return wire.ack_message(batch.sequence, outcome)
        detail = wire.describe_rejections(rejections, len(batch.observations))
        if detail:
            log.warning("agent %s (site %s) batch %d: %s", identity.agent_id, identity.site, batch.sequence, detail)
        log.debug("agent %s batch %d: stored %d observations", identity.agent_id, batch.sequence,
                  outcome.observations_stored)
        return wire.ack_message(batch.sequence, outcome, detail)

    async def _next(self, messages: AsyncIterator[pb.AgentMessage]) -> pb.AgentMessage | None:
        """The next message, or None when the agent closed its side or the collector is stopping."""
        if self._stopping.is_set():
            return None
        reading = asyncio.ensure_future(anext(messages))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not reading.done():
                reading.cancel()
        if not reading.done() or reading.cancelled():
            return None
        try:
            return reading.result()
        except StopAsyncIteration:
            return None


async def _refuse(context: grpc.aio.ServicerContext, message: str) -> NoReturn:
    log.warning("refused an Ingest stream from %s: %s", context.peer(), message)
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, message)


async def _stored(context: grpc.aio.ServicerContext, call: Awaitable[T], what: str) -> T:
    """Await a store call; a database failure ends the stream as UNAVAILABLE so the agent retries later."""
    try:
        return await call
    except StoreError as exc:
        log.error("%s: %s", what, exc)
        await context.abort(grpc.StatusCode.UNAVAILABLE, f"the collector {what}: {exc}; try again later")

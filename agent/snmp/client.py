"""Talking SNMP to one device: GET and table walks, with every defence a bad peer needs.

Two engines behind one small interface (`Session`):

- `FastSession` speaks v1/v2c itself over an asyncio UDP socket and decodes
  replies with the pure codec in ber.py. Walking big tables is the agent's hot
  path, and pysnmp spends most of its time in pyasn1 decoding; this keeps a
  walk within reach of net-snmp's speed (see bench/snmp_walk_speed.py).
- `PysnmpSession` uses pysnmp 7's asyncio API. It is the engine for SNMPv3
  (USM authentication and privacy stay on pysnmp's proven code) and can be
  chosen for v1/v2c too (`engine = "pysnmp"`), which tests use to cross-check
  the fast path.

Both produce varbinds in the form of values.py, and both walk through the
same `walk_subtree` loop, so the defences live in one place: a row cap, a
loop (non-increasing OID) check, endOfMibView, leaving the subtree, and a
per-request timeout with retries. Problems come back as text on the
`WalkResult`, so a bad table never costs the rest of the device.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol, Sequence

from ..errors import MalformedPacketError, SnmpError, SnmpTimeoutError
from . import ber
from .credentials import AUTH_PROTOCOLS, PRIV_PROTOCOLS, Credential
from .values import (
    END_OF_MIB_VIEW,
    EXCEPTION_TAGS,
    GET_BULK_REQUEST,
    GET_NEXT_REQUEST,
    GET_REQUEST,
    RESPONSE,
    VERSION_1,
    VERSION_2C,
    Oid,
    VarBind,
    format_oid,
)

DEFAULT_PORT = 161
DEFAULT_TIMEOUT_S = 2.0
DEFAULT_RETRIES = 1
DEFAULT_MAX_REPETITIONS = 25
DEFAULT_MAX_ROWS = 100_000
# RFC 3416 error-status values we act on.
_TOO_BIG = 1
_NO_SUCH_NAME = 2   # v1's way of saying "no such object"
_ERROR_NAMES = {
    1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess",
    7: "wrongType", 8: "wrongLength", 9: "wrongEncoding", 10: "wrongValue", 11: "noCreation",
    12: "inconsistentValue", 13: "resourceUnavailable", 14: "commitFailed", 15: "undoFailed",
    16: "authorizationError", 17: "notWritable", 18: "inconsistentName",
}


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str, default_port: int = DEFAULT_PORT) -> "Target":
        """HOST, HOST:PORT, [V6]:PORT or a bare IPv6 address."""
        text = text.strip()
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = rest.removeprefix(":") or str(default_port)
        elif text.count(":") == 1:
            host, port = text.split(":")
        else:
            host, port = text, str(default_port)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{text!r}: expected HOST or HOST:PORT")
        return cls(host, int(port))


@dataclass(frozen=True, slots=True)
class Options:
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    max_repetitions: int = DEFAULT_MAX_REPETITIONS
    max_rows: int = DEFAULT_MAX_ROWS     # per walked subtree: a runaway table is cut here, and said so


@dataclass(slots=True)
class WalkResult:
    rows: list[VarBind]
    problem: str = ""      # "" when the walk ended normally


class Session(Protocol):
    target: Target
    credential: Credential

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        """One GET; missing objects come back with an exception tag, never as an error."""
        ...

    async def walk(self, root: Oid) -> WalkResult:
        ...

    async def walk_columns(self, roots: Sequence[Oid]) -> dict[Oid, WalkResult]:
        """Several columns at once: one GETBULK carries a cursor per column (v2c/v3)."""
        ...

    def close(self) -> None:
        ...


NextBatch = Callable[[Oid], Awaitable[list[VarBind]]]


async def walk_subtree(root: Oid, next_batch: NextBatch, max_rows: int) -> WalkResult:
    """The walk loop shared by both engines: ask for what follows, keep what is under `root`.

    Stops cleanly at the end of the subtree or endOfMibView. Stops with a
    problem on a loop (an OID not after the previous one: a broken agent
    would otherwise keep us busy forever), at the row cap, or on a transport
    error mid-walk (the rows read so far are kept).
    """
    rows: list[VarBind] = []
    append = rows.append
    depth = len(root)
    last = root
    while True:
        try:
            batch = await next_batch(last)
        except SnmpError as exc:
            return WalkResult(rows, f"walk of {format_oid(root)} stopped after {len(rows)} rows: {exc}")
        if not batch:
            return WalkResult(rows, f"walk of {format_oid(root)}: the agent returned an empty response")
        for varbind in batch:
            oid = varbind[0]
            if varbind[1] == END_OF_MIB_VIEW or oid[:depth] != root:
                return WalkResult(rows)
            if oid <= last:
                return WalkResult(
                    rows,
                    f"walk of {format_oid(root)} stopped after {len(rows)} rows: the agent returned "
                    f"{format_oid(oid)} after {format_oid(last)} (OIDs must increase; the agent is looping)",
                )
            if len(rows) >= max_rows:
                return WalkResult(
                    rows, f"walk of {format_oid(root)} cut at the configured cap of {max_rows} rows"
                )
            append(varbind)
            last = oid


FetchMany = Callable[[list[Oid], int], Awaitable[list[VarBind]]]


async def walk_many(roots: Sequence[Oid], fetch: FetchMany, max_rows: int, max_repetitions: int
                    ) -> dict[Oid, WalkResult]:
    """Walk several columns side by side, the way tables are meant to be read over GETBULK.

    Each request carries one cursor per unfinished column, and the reply
    interleaves their next rows. A short column (or an absent one) then costs
    nothing extra, where walking it alone costs a round trip: on a printer or
    a UPS that turns some forty requests into a handful. Each column keeps
    the defences of walk_subtree (end, loop, cap) on its own.
    """
    results = {root: WalkResult([]) for root in roots}
    last = {root: root for root in roots}
    active = list(dict.fromkeys(roots))
    # About 2 x max_repetitions varbinds per reply, however many columns are open.
    budget = 2 * max_repetitions
    first = True
    while active:
        # The first request asks one row per column: most devices lack most of the
        # tables asked for, and an absent column then costs one varbind, not a
        # reply full of whatever follows it in the MIB.
        repetitions = 1 if first else max(1, -(-budget // len(active)))
        first = False
        try:
            batch = await fetch([last[root] for root in active], repetitions)
        except SnmpError as exc:
            for root in active:
                result = results[root]
                result.problem = f"walk of {format_oid(root)} stopped after {len(result.rows)} rows: {exc}"
            break
        if not batch:
            for root in active:
                results[root].problem = f"walk of {format_oid(root)}: the agent returned an empty response"
            break
        width = len(active)
        finished: set[Oid] = set()
        for position, varbind in enumerate(batch):
            root = active[position % width]
            if root in finished:
                continue
            oid = varbind[0]
            result = results[root]
            if varbind[1] == END_OF_MIB_VIEW or oid[: len(root)] != root:
                finished.add(root)
            elif oid <= last[root]:
                result.problem = (f"walk of {format_oid(root)} stopped after {len(result.rows)} rows: the agent "
                                  f"returned {format_oid(oid)} after {format_oid(last[root])} (OIDs must increase; "
                                  f"the agent is looping)")
                finished.add(root)
            elif len(result.rows) >= max_rows:
                result.problem = f"walk of {format_oid(root)} cut at the configured cap of {max_rows} rows"
                finished.add(root)
            else:
                result.rows.append(varbind)
                last[root] = oid
        active = [root for root in active if root not in finished]
    return results


class _ReplyProtocol(asyncio.DatagramProtocol):
    """Matches replies to outstanding requests by request-id; counts what it has to drop."""

    def __init__(self, version: int, community: bytes) -> None:
        self.version = version
        self.community = community
        self.pending: dict[int, asyncio.Future[ber.Message]] = {}
        self.mismatched = 0
        self.malformed = 0
        self.last_malformed = ""
        self.error: Exception | None = None

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            message = ber.decode_message(data)
        except MalformedPacketError as exc:
            self.malformed += 1
            self.last_malformed = str(exc)
            return
        if message.version != self.version or message.community != self.community:
            # Not an answer to us, whatever its request-id says (RFC 3416 4.1: the
            # response carries the request's version and community).
            self.mismatched += 1
            return
        future = self.pending.pop(message.request_id, None)
        if future is not None and not future.done():
            future.set_result(message)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and friends: remember it for the timeout message.
        self.error = exc


class FastSession:
    """SNMP v1/v2c with the pure codec: one UDP socket per device, one request in flight at a time."""

    def __init__(self, target: Target, credential: Credential, options: Options = Options()) -> None:
        if credential.version not in ("1", "2c"):
            raise SnmpError(f"{target}: the fast engine speaks v1/v2c only, not v{credential.version}")
        self.target = target
        self.credential = credential
        self.options = options
        self._version = VERSION_1 if credential.version == "1" else VERSION_2C
        self._community = credential.community.encode()
        self._request_id = random.randrange(1, 1 << 30)
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _ReplyProtocol | None = None
        self._max_repetitions = options.max_repetitions

    async def _open(self) -> _ReplyProtocol:
        if self._protocol is None:
            loop = asyncio.get_running_loop()
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    lambda: _ReplyProtocol(self._version, self._community),
                    remote_addr=(self.target.host, self.target.port),
                )
            except OSError as exc:
                raise SnmpError(f"{self.target}: cannot open a UDP socket to it: {exc}") from exc
            self._transport, self._protocol = transport, protocol
        return self._protocol

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = self._protocol = None

    async def _exchange(self, build: Callable[[int], bytes]) -> ber.Message:
        protocol = await self._open()
        loop = asyncio.get_running_loop()
        attempts = 1 + self.options.retries
        for _ in range(attempts):
            self._request_id = (self._request_id % 0x7FFFFFFE) + 1
            request_id = self._request_id
            future: asyncio.Future[ber.Message] = loop.create_future()
            protocol.pending[request_id] = future
            try:
                self._transport.sendto(build(request_id))
                return await asyncio.wait_for(future, self.options.timeout_s)
            except asyncio.TimeoutError:
                continue
            finally:
                protocol.pending.pop(request_id, None)
        detail = ""
        if protocol.malformed:
            detail = f"; {protocol.malformed} malformed replies were dropped, the last: {protocol.last_malformed}"
        elif protocol.error is not None:
            detail = f"; the network said: {protocol.error}"
        raise SnmpTimeoutError(
            f"{self.target}: no answer to {self.credential.describe()} after {attempts} tries "
            f"of {self.options.timeout_s:g} s{detail}"
        )

    def _check(self, reply: ber.Message, what: str) -> None:
        if reply.pdu_type != RESPONSE:
            raise SnmpError(f"{self.target}: {what}: expected a Response PDU, got PDU type 0x{reply.pdu_type:02x}")

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        version, community = self._version, self._community
        reply = await self._exchange(lambda rid: ber.encode_message(
            version, community, GET_REQUEST, rid, 0, 0, [(oid, 5, None) for oid in oids]))
        self._check(reply, "GET")
        if reply.error_status == _NO_SUCH_NAME and self._version == VERSION_1 and len(oids) > 1:
            # v1 fails the whole request for one missing object: ask one by one.
            found: list[VarBind] = []
            for oid in oids:
                found.extend(await self.get([oid]))
            return found
        if reply.error_status == _NO_SUCH_NAME:
            return [(oid, 0x80, None) for oid in oids]
        if reply.error_status:
            raise SnmpError(f"{self.target}: GET failed: {_ERROR_NAMES.get(reply.error_status, reply.error_status)}")
        return reply.varbinds

    async def _next_batch(self, after: Oid) -> list[VarBind]:
        version, community = self._version, self._community
        if version == VERSION_1:
            reply = await self._exchange(lambda rid: ber.encode_message(
                version, community, GET_NEXT_REQUEST, rid, 0, 0, [(after, 5, None)]))
            self._check(reply, "GETNEXT")
            if reply.error_status == _NO_SUCH_NAME:
                return [(after, END_OF_MIB_VIEW, None)]   # v1's end of the MIB
        else:
            while True:
                repetitions = self._max_repetitions
                reply = await self._exchange(lambda rid: ber.encode_message(
                    version, community, GET_BULK_REQUEST, rid, 0, repetitions, [(after, 5, None)]))
                self._check(reply, "GETBULK")
                if reply.error_status == _TOO_BIG and self._max_repetitions > 1:
                    self._max_repetitions = max(1, self._max_repetitions // 2)
                    continue
                break
        if reply.error_status:
            raise SnmpError(f"{_ERROR_NAMES.get(reply.error_status, reply.error_status)} from the agent")
        return reply.varbinds

    async def walk(self, root: Oid) -> WalkResult:
        return await walk_subtree(root, self._next_batch, self.options.max_rows)

    async def _bulk_many(self, cursors: list[Oid], repetitions: int) -> list[VarBind]:
        community = self._community
        while True:
            reply = await self._exchange(lambda rid: ber.encode_message(
                VERSION_2C, community, GET_BULK_REQUEST, rid, 0, repetitions, [(c, 5, None) for c in cursors]))
            self._check(reply, "GETBULK")
            if reply.error_status == _TOO_BIG and repetitions > 1:
                repetitions = max(1, repetitions // 2)
                continue
            break
        if reply.error_status:
            raise SnmpError(f"{_ERROR_NAMES.get(reply.error_status, reply.error_status)} from the agent")
        return reply.varbinds

    async def walk_columns(self, roots: Sequence[Oid]) -> dict[Oid, WalkResult]:
        if self._version == VERSION_1:   # v1 has no GETBULK, and one ended column fails a whole GETNEXT
            return {root: await self.walk(root) for root in dict.fromkeys(roots)}
        return await walk_many(roots, self._bulk_many, self.options.max_rows, self.options.max_repetitions)


class PysnmpSession:
    """Any SNMP version through pysnmp 7's asyncio API; the only path for SNMPv3."""

    def __init__(self, target: Target, credential: Credential, options: Options = Options(), engine=None) -> None:
        from pysnmp.hlapi.v3arch import asyncio as hlapi  # imported here: only v3 pays its start-up cost

        self._hlapi = hlapi
        self.target = target
        self.credential = credential
        self.options = options
        self._engine = engine or hlapi.SnmpEngine()
        self._owns_engine = engine is None
        self._transport = None
        if credential.version == "3":
            self._auth = hlapi.UsmUserData(
                credential.user,
                authKey=credential.auth_key or None,
                privKey=credential.priv_key or None,
                authProtocol=getattr(hlapi, AUTH_PROTOCOLS[credential.auth_protocol])
                if credential.auth_protocol else hlapi.USM_AUTH_NONE,
                privProtocol=getattr(hlapi, PRIV_PROTOCOLS[credential.priv_protocol])
                if credential.priv_protocol else hlapi.USM_PRIV_NONE,
            )
        else:
            self._auth = hlapi.CommunityData(credential.community, mpModel=0 if credential.version == "1" else 1)
        self._context = hlapi.ContextData(contextName=credential.context.encode()) if credential.context \
            else hlapi.ContextData()

    async def _target(self):
        if self._transport is None:
            try:
                self._transport = await self._hlapi.UdpTransportTarget.create(
                    (self.target.host, self.target.port),
                    timeout=self.options.timeout_s, retries=self.options.retries,
                )
            except Exception as exc:  # pysnmp raises its own error types for resolution failures
                raise SnmpError(f"{self.target}: cannot reach it: {exc}") from exc
        return self._transport

    def close(self) -> None:
        if self._owns_engine:
            try:
                self._engine.close_dispatcher()
            except Exception:  # closing an engine that never opened a socket
                pass

    def _checked(self, what: str, error_indication, error_status, varbinds) -> list[VarBind]:
        if error_indication:
            text = str(error_indication)
            if "timeout" in text.lower() or "no snmp response" in text.lower():
                raise SnmpTimeoutError(f"{self.target}: no answer to {self.credential.describe()}: {text}")
            raise SnmpError(f"{self.target}: {what} with {self.credential.describe()}: {text}")
        if error_status and int(error_status) != _NO_SUCH_NAME:
            status = int(error_status)
            raise SnmpError(f"{self.target}: {what} failed: {_ERROR_NAMES.get(status, status)}")
        return [_from_pysnmp(name, value) for name, value in varbinds]

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        hl = self._hlapi
        objects = [hl.ObjectType(hl.ObjectIdentity(oid)) for oid in oids]
        error_indication, error_status, _, varbinds = await hl.get_cmd(
            self._engine, self._auth, await self._target(), self._context, *objects, lookupMib=False
        )
        if error_status and int(error_status) == _NO_SUCH_NAME:
            return [(oid, 0x80, None) for oid in oids]
        return self._checked("GET", error_indication, error_status, varbinds)

    async def _next_batch(self, after: Oid) -> list[VarBind]:
        hl = self._hlapi
        obj = hl.ObjectType(hl.ObjectIdentity(after))
        if self.credential.version == "1":
            reply = await hl.next_cmd(self._engine, self._auth, await self._target(), self._context, obj,
                                      lookupMib=False, ignoreNonIncreasingOid=True)
            if reply[1] and int(reply[1]) == _NO_SUCH_NAME:
                return [(after, END_OF_MIB_VIEW, None)]
        else:
            reply = await hl.bulk_cmd(self._engine, self._auth, await self._target(), self._context,
                                      0, self.options.max_repetitions, obj,
                                      lookupMib=False, ignoreNonIncreasingOid=True)
        error_indication, error_status, _, varbinds = reply
        return self._checked("walk", error_indication, error_status, varbinds)

    async def walk(self, root: Oid) -> WalkResult:
        return await walk_subtree(root, self._next_batch, self.options.max_rows)

    async def _bulk_many(self, cursors: list[Oid], repetitions: int) -> list[VarBind]:
        hl = self._hlapi
        objects = [hl.ObjectType(hl.ObjectIdentity(cursor)) for cursor in cursors]
        reply = await hl.bulk_cmd(self._engine, self._auth, await self._target(), self._context,
                                  0, repetitions, *objects, lookupMib=False, ignoreNonIncreasingOid=True)
        error_indication, error_status, _, varbinds = reply
        return self._checked("walk", error_indication, error_status, varbinds)

    async def walk_columns(self, roots: Sequence[Oid]) -> dict[Oid, WalkResult]:
        if self.credential.version == "1":
            return {root: await self.walk(root) for root in dict.fromkeys(roots)}
        return await walk_many(roots, self._bulk_many, self.options.max_rows, self.options.max_repetitions)


def _from_pysnmp(name, value) -> VarBind:
    """pysnmp's value objects -> the plain (oid, tag, value) form."""
    oid = tuple(name)
    # pyasn1 tag: (tagClass, tagFormat, tagId); universal=0x00, application=0x40, context=0x80.
    tag_class, _, tag_id = value.tagSet[0] if value.tagSet else (0, 0, 5)
    tag = tag_class | tag_id
    if tag in EXCEPTION_TAGS or tag == 0x05:
        return (oid, tag, None)
    if tag == 0x06:
        return (oid, tag, tuple(value))
    if tag in (0x04, 0x44, 0x40):
        return (oid, tag, bytes(value.asOctets()))
    return (oid, tag, int(value))


def open_session(target: Target, credential: Credential, options: Options = Options(),
                 engine: str = "fast", pysnmp_engine=None) -> Session:
    """The right engine for this credential: the fast path for v1/v2c unless told otherwise."""
    if credential.version in ("1", "2c") and engine == "fast":
        return FastSession(target, credential, options)
    return PysnmpSession(target, credential, options, engine=pysnmp_engine)

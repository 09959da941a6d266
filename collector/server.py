"""The collector's gRPC server: Ingest, Query, the standard health service and server reflection.

Health and reflection let ordinary tools check a collector without Headcount
installed: `grpc_health_probe -addr HOST:50051` and
`grpcurl -plaintext HOST:50051 list`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from datetime import datetime

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from headcount.v1 import inventory_pb2 as pb
from headcount.v1 import inventory_pb2_grpc as pb_grpc

from .errors import CollectorError, ListenAddressError
from .ingest import IngestServicer
from .model import utc_now
from .query import QueryServicer
from .store import Store

log = logging.getLogger(__name__)

INGEST_SERVICE = pb.DESCRIPTOR.services_by_name["Ingest"].full_name
QUERY_SERVICE = pb.DESCRIPTOR.services_by_name["Query"].full_name
RETENTION_INTERVAL_S = 3600.0

# Tasks that only wait for shutdown; referenced here so they are not garbage-collected early.
_shutdown_watchers: set[asyncio.Task] = set()


def parse_listen_address(text: str) -> tuple[str, int]:
    """'HOST:PORT' or '[IPv6]:PORT' -> (host, port); port 0 means "any free port"."""
    host, separator, port_text = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""   # an unbracketed IPv6 address is ambiguous
    if not separator or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ListenAddressError(f"listen address {text!r} is not HOST:PORT with a port from 0 to 65535 "
                                 "(e.g. 0.0.0.0:50051, 127.0.0.1:0 or [::]:50051)")
    return host, int(port_text)


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_listen_address(listen: str) -> tuple[str, int]:
    """Parse `listen` and make sure it can be bound now; raises ListenAddressError naming the reason."""
    host, port = parse_listen_address(listen)
    _check_bindable(host, port)
    return host, port


def _check_bindable(host: str, port: int) -> None:
    """Raise a ListenAddressError with the operating system's reason when nothing at host:port can be bound.

    gRPC's own bind failure says only "Failed to bind"; this asks the kernel
    the same question first so the admin reads e.g. "Address already in use".
    """
    address = format_address(host, port)
    try:
        candidates = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenAddressError(f"cannot listen on {address}: {host!r} is not a local address ({exc.strerror})") from exc
    first_error = None
    for family, kind, proto, _, sockaddr in candidates:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as gRPC does
            try:
                probe.bind(sockaddr)
                return
            except OSError as exc:
                first_error = first_error or exc
    reason = first_error.strerror if first_error else "no usable address"
    raise ListenAddressError(f"cannot listen on {address}: {reason}")


async def start_server(store: Store, listen: str = "127.0.0.1:0", *,
                       stopping: asyncio.Event | None = None) -> tuple[grpc.aio.Server, int]:
    """Start serving on `listen`; returns the server and the port actually bound.

    Setting `stopping` (optional) marks every service NOT_SERVING and ends each
    Ingest stream after the message it is handling; then call server.stop(grace).
    """
    host, port = check_listen_address(listen)
    # SO_REUSEPORT (gRPC's default on Linux) would let a second collector share the port silently.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    caller_stopping = stopping
    stopping = stopping or asyncio.Event()
    pb_grpc.add_IngestServicer_to_server(IngestServicer(store, stopping=stopping), server)
    pb_grpc.add_QueryServicer_to_server(QueryServicer(store), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service in ("", INGEST_SERVICE, QUERY_SERVICE):
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (INGEST_SERVICE, QUERY_SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        bound = server.add_insecure_port(format_address(host, port))
    except RuntimeError as exc:
        raise ListenAddressError(f"cannot listen on {format_address(host, port)}: {exc}") from exc
    if bound == 0:
        raise ListenAddressError(f"cannot listen on {format_address(host, port)}")
    await server.start()

    if caller_stopping is not None:   # without one, nobody could ever set it: no watcher to leak
        async def mark_not_serving() -> None:
            await stopping.wait()
            await health_servicer.enter_graceful_shutdown()

        watcher = asyncio.create_task(mark_not_serving())
        _shutdown_watchers.add(watcher)
        watcher.add_done_callback(_shutdown_watchers.discard)
    return server, bound


async def prune_periodically(store: Store, interval_s: float = RETENTION_INTERVAL_S,
                             clock: Callable[[], datetime] = utc_now) -> None:
    """Apply the store's retention now and then every interval, until cancelled."""
    while True:
        try:
            await store.prune(clock())
        except CollectorError as exc:   # a failed round is retried next interval; serving goes on
            log.error("retention: could not delete old history: %s", exc)
        await asyncio.sleep(interval_s)

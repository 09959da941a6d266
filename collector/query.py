"""headcount.v1.Query: what the `headcount` CLI and engineers' own tools read."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import NoReturn

import grpc

from headcount.v1 import inventory_pb2 as pb
from headcount.v1 import inventory_pb2_grpc as pb_grpc

from . import wire
from .errors import InvalidMacError, StoreError
from .model import normalize_mac
from .store import Store

log = logging.getLogger(__name__)


class QueryServicer(pb_grpc.QueryServicer):
    def __init__(self, store: Store):
        self._store = store

    async def ListSites(self, request: pb.ListSitesRequest, context: grpc.aio.ServicerContext) -> pb.ListSitesResponse:
        try:
            return wire.sites_response(await self._store.list_sites())
        except StoreError as exc:
            await _database_failed(context, exc)

    async def ListDevices(self, request: pb.ListDevicesRequest,
                          context: grpc.aio.ServicerContext) -> AsyncIterator[pb.Device]:
        try:
            async for device in self._store.list_devices(request.site or None):
                yield wire.device_message(device)
        except StoreError as exc:
            await _database_failed(context, exc)

    async def GetDevice(self, request: pb.GetDeviceRequest, context: grpc.aio.ServicerContext) -> pb.GetDeviceResponse:
        try:
            mac = normalize_mac(request.mac)
        except InvalidMacError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        try:
            detail = await self._store.get_device(mac, request.site or None)
        except StoreError as exc:
            await _database_failed(context, exc)
        if not detail.devices:
            where = f"at site {request.site}" if request.site else "at any site"
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no device with MAC {mac} {where}")
        return wire.device_detail_response(detail)


async def _database_failed(context: grpc.aio.ServicerContext, exc: StoreError) -> NoReturn:
    log.error("query failed: %s", exc)
    await context.abort(grpc.StatusCode.UNAVAILABLE, f"the collector's database failed: {exc}")

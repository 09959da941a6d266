"""Runs the enabled scanners on a schedule and hands what they return to a sink.

One failing scanner never stops the others or the schedule: its error is
recorded in the scan result and the status file, and the next round runs.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import headcount

from .config import AgentConfig
from .errors import ScanError
from .model import Observation
from .scanners import SCANNERS, ScanContext, Scanner
from .scanners.base import ProgressCallback, utc_now
from .scanners.mdns import bind_macs

log = logging.getLogger(__name__)


@dataclass
class ScanResult:
    started_at: datetime
    finished_at: datetime
    observations: list[Observation] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)   # scanner name -> message
    warnings: list[str] = field(default_factory=list)      # one target failed, the scan went on


# An endpoint agent (a lab PC, a cart laptop) reports only its own host: it never sweeps or listens.
ENDPOINT_SCANNERS = ("hostfacts",)


def enabled_scanners(config: AgentConfig) -> list[Scanner]:
    ctx = ScanContext(config)
    scanners = [scanner for scanner in (cls() for cls in SCANNERS.values()) if scanner.can_run(ctx)]
    if config.mode == "endpoint":
        scanners = [scanner for scanner in scanners if scanner.name in ENDPOINT_SCANNERS]
    return scanners


def passive_interfaces(config: AgentConfig) -> tuple[str, ...]:
    """Where the passive ARP/DHCP listener runs; () when it does not (endpoint mode, disabled, nothing to hear)."""
    if config.mode != "site" or not config.passive.enabled:
        return ()
    return config.listening_interfaces(config.passive.interfaces)


async def run_scan(scanners: Sequence[Scanner], ctx: ScanContext) -> ScanResult:
    """Run the scanners concurrently; collect observations, per-scanner errors and per-target warnings.

    Scanners that declare `after` (the SNMP scanner probes the hosts the ARP
    sweep found) run in a second stage and see the first stage's observations
    as `ctx.earlier`.
    """
    started_at = ctx.clock()
    result = ScanResult(started_at=started_at, finished_at=started_at)
    first = [s for s in scanners if not getattr(s, "after", ())]
    second = [s for s in scanners if getattr(s, "after", ())]
    await _run_stage(first, ctx, result)
    if second:
        await _run_stage(second, replace(ctx, earlier=tuple(result.observations)), result)
    result.observations = bind_macs(result.observations)
    result.warnings = list(ctx.warnings)
    result.finished_at = ctx.clock()
    return result


async def _run_stage(scanners: Sequence[Scanner], ctx: ScanContext, result: ScanResult) -> None:
    outcomes = await asyncio.gather(*(scanner.scan(ctx) for scanner in scanners), return_exceptions=True)
    for scanner, outcome in zip(scanners, outcomes):
        if isinstance(outcome, ScanError):
            log.error("%s scanner failed: %s", scanner.name, outcome)
            result.errors[scanner.name] = str(outcome)
        elif isinstance(outcome, BaseException):
            if isinstance(outcome, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise outcome
            # A bug in one scanner must not take the agent down; keep the traceback.
            log.error("%s scanner crashed", scanner.name, exc_info=outcome)
            result.errors[scanner.name] = f"internal error: {type(outcome).__name__}: {outcome}"
        else:
            result.observations.extend(outcome)


def agent_identity(config: AgentConfig, scanners: Sequence[Scanner]) -> dict[str, Any]:
    return {
        "agent_id": config.agent_id or socket.gethostname(),
        "site": config.site,
        "version": headcount.__version__,
        "hostname": socket.gethostname(),
        "scanners": [s.name for s in scanners],
        "mode": config.mode,
    }


async def run_agent(
    config: AgentConfig,
    *,
    progress: ProgressCallback,
    status_file: Path | None = None,
    once: bool = False,
    stop: asyncio.Event | None = None,
) -> int:
    """Scan every scan_interval and stream to the collector until `stop` is set (or, with once, until delivered)."""
    from . import wire
    from .pipeline import ObservationPipeline
    from .sink import GrpcSink
    from .state import SequenceCounter, persistent_agent_id, write_status

    stop = stop or asyncio.Event()
    counter = SequenceCounter(config.state_dir, source=config.source)
    if not config.agent_id:
        config = replace(config, agent_id=persistent_agent_id(config.state_dir, socket.gethostname()))
    scanners = enabled_scanners(config)
    identity = agent_identity(config, scanners)
    pipeline = ObservationPipeline(config)
    state: dict[str, Any] = {"scans_completed": 0, "last_scan": None, "passive": None}
    status_failed = False

    def publish_status() -> None:
        nonlocal status_failed
        if status_file is None:
            return
        try:
            write_status(status_file, {
                **identity,
                "collector": config.collector,
                "connected": sink.connected,
                "last_error": sink.last_error,
                "delivered_sequence": sink.delivered_sequence,
                "pending_batches": sink.pending_batches,
                "dropped_batches": sink.dropped_batches,
                **state,
            })
            status_failed = False
        except OSError as exc:
            # A full disk must not stop scanning or delivery; say so once per episode.
            if not status_failed:
                log.error("cannot write the status file %s: %s", status_file, exc)
            status_failed = True

    sink = GrpcSink(
        config.collector,
        wire.identity_message(**identity),
        counter,
        config.heartbeat_interval_s,
        on_change=publish_status,
    )
    log.info("agent %s for site %s: scanners %s, collector %s, every %.0fs",
             config.agent_id, config.site, ", ".join(identity["scanners"]) or "none",
             config.collector, config.scan_interval_s)
    delivery = asyncio.create_task(sink.run(), name="delivery")
    listening = None
    if passive_interfaces(config) and not once:
        listening = asyncio.create_task(_listen_passively(config, pipeline, sink, state, publish_status, stop),
                                        name="passive")
    try:
        while not stop.is_set():
            result = await _scan_unless_stopped(scanners, ScanContext(config, progress=progress, clock=utc_now), stop)
            if result is None:
                break
            try:
                sink.submit(pipeline.process(result.observations), now=result.finished_at)
            except OSError as exc:   # the sequence counter could not be saved (disk full, read-only)
                log.error("could not queue this scan's %d observations: %s", len(result.observations), exc)
                result.errors["delivery"] = f"could not queue: {exc}"
            state["scans_completed"] += 1
            state["last_scan"] = {
                "started_at": result.started_at.isoformat(),
                "finished_at": result.finished_at.isoformat(),
                "observations": len(result.observations),
                "errors": result.errors,
                "warnings": result.warnings[:100],
            }
            log.info("scan %d done in %.1fs: %d observations%s", state["scans_completed"],
                     (result.finished_at - result.started_at).total_seconds(), len(result.observations),
                     f", errors: {result.errors}" if result.errors else "")
            publish_status()
            if once:
                while sink.pending_batches and not stop.is_set():
                    await asyncio.sleep(0.2)
                return 0 if not result.errors else 1
            try:
                await asyncio.wait_for(stop.wait(), config.scan_interval_s)
            except asyncio.TimeoutError:
                pass
        return 0
    finally:
        for task in (listening, delivery):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (listening, delivery) if t is not None), return_exceptions=True)
        publish_status()


async def _listen_passively(config: AgentConfig, pipeline, sink, state: dict[str, Any], publish_status,
                            stop: asyncio.Event) -> None:
    """Between sweeps: hear ARP and DHCP, and hand what is new to the sink every flush_interval.

    A listener that cannot start (no CAP_NET_RAW, an interface gone) is
    reported in the status file; sweeps and delivery go on without it.
    """
    from .passive import PassiveListener

    interfaces = passive_interfaces(config)
    listener = PassiveListener(interfaces, config.passive)
    try:
        await asyncio.to_thread(listener.start)
    except ScanError as exc:
        log.error("passive listening is off: %s", exc)
        state["passive"] = {"interfaces": list(interfaces), "error": str(exc)}
        publish_status()
        return
    log.info("listening for ARP and DHCP on %s", ", ".join(interfaces))
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), config.passive.flush_interval_s)
            except asyncio.TimeoutError:
                pass
            heard = listener.drain()
            if heard:
                try:
                    sink.submit(pipeline.process(heard), now=utc_now())
                except OSError as exc:
                    log.error("could not queue %d passively heard observations: %s", len(heard), exc)
            stats = listener.stats()
            if stats != (state["passive"] or {}).get("stats"):
                state["passive"] = {"interfaces": list(interfaces), "stats": stats}
                publish_status()
    finally:
        await asyncio.to_thread(listener.stop)


async def _scan_unless_stopped(scanners: Sequence[Scanner], ctx: ScanContext, stop: asyncio.Event) -> ScanResult | None:
    """Run one scan; if `stop` is set first, cancel it (threads stop at their next step) and return None."""
    scan = asyncio.create_task(run_scan(scanners, ctx), name="scan")
    stopped = asyncio.create_task(stop.wait(), name="stop")
    try:
        await asyncio.wait({scan, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if scan.done():
        return scan.result()
    ctx.cancelled.set()
    scan.cancel()
    await asyncio.gather(scan, return_exceptions=True)
    log.info("scan cancelled: the agent is stopping")
    return None

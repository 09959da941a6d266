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
from .model import Observation, ScanSummary
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


def scan_summary(scanners: Sequence[Scanner], result: ScanResult) -> ScanSummary:
    """What the collector needs to count this scan as a poll: which scanners looked, and which could not."""
    return ScanSummary(
        started_at=result.started_at,
        finished_at=result.finished_at,
        completed=tuple(s.name for s in scanners if s.name not in result.errors),
        failed=tuple(s.name for s in scanners if s.name in result.errors),
        observations=len(result.observations),
    )


def reported_hostname(config: AgentConfig, hostname: str | None = None) -> str:
    """This machine's name as the agent may say it.

    A site agent's machine is infrastructure and keeps its name. An endpoint is
    a student's or a class's device: its name follows privacy.student_names
    (fail closed: it is not classified until the collector hears from it).
    """
    from .privacy import pseudonym

    name = hostname if hostname is not None else socket.gethostname()
    if config.mode != "endpoint" or config.privacy.student_names == "keep":
        return name
    if config.privacy.student_names == "pseudonymise" and config.privacy.secret:
        return pseudonym(name, config.privacy.secret)
    return ""


def agent_identity(config: AgentConfig, scanners: Sequence[Scanner]) -> dict[str, Any]:
    hostname = reported_hostname(config)
    return {
        "agent_id": config.agent_id or hostname or "endpoint",
        "site": config.site,
        "version": headcount.__version__,
        "hostname": hostname,
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
        # An endpoint's id must not carry its (student's) hostname either.
        prefix = socket.gethostname() if reported_hostname(config) == socket.gethostname() else "endpoint"
        config = replace(config, agent_id=persistent_agent_id(config.state_dir, prefix))
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
                "withdrawn_scan_summaries": sink.withdrawn_summaries,
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
            private = await _private(pipeline, result.observations, "scanned")
            if private is None:
                result.errors["classification"] = "this scan's observations could not be classified; not sent"
            try:
                if private is not None:
                    # Last, so it travels with (or after) the sightings it vouches for. Not when they
                    # could not be sent: it would claim a look that the collector never heard about.
                    sink.submit([*private, scan_summary(scanners, result)], now=result.finished_at)
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


# While batches wait for an unreachable collector, what was heard passively is
# held and sent this often instead of every flush_interval: a 2-second trickle
# of small batches would push a day of scans out of the sink's bounded queue.
BACKLOG_FLUSH_INTERVAL_S = 60.0
# A listener thread that died (a bug, never bad input) is started again at most this often.
LISTENER_RESTART_INTERVAL_S = 60.0


async def _private(pipeline, observations: Sequence[Observation], what: str) -> list[Observation] | None:
    """Classified and name-policed observations; None (and an error logged) when that fails.

    Nothing unpoliced may leave, so a failure drops these observations rather
    than send them raw. The message carries only the exception's type: its
    text could quote a name.
    """
    try:
        return await pipeline.process_async(observations)
    except Exception as exc:   # noqa: BLE001 - one bad record must not end scanning or listening
        log.error("could not classify %d %s observations (%s); they are not sent", len(observations), what,
                  type(exc).__name__)
        log.debug("classification failure", exc_info=True)
        return None


async def _listen_passively(config: AgentConfig, pipeline, sink, state: dict[str, Any], publish_status,
                            stop: asyncio.Event, listener_factory=None) -> None:
    """Between sweeps: hear ARP and DHCP, and hand what is new to the sink every flush_interval.

    A listener that cannot start (no CAP_NET_RAW, an interface gone) is
    reported in the status file and tried again later; sweeps and delivery go
    on without it.
    """
    from .passive import PassiveListener

    interfaces = passive_interfaces(config)
    loop = asyncio.get_running_loop()
    listener: PassiveListener | None = None
    held: list[Observation] = []
    last_sent = loop.time()
    next_start = loop.time()
    dropped_held = 0
    try:
        while not stop.is_set():
            if (listener is None or not listener.running) and loop.time() >= next_start:
                if listener is not None:
                    log.error("the passive listener stopped unexpectedly; starting it again")
                    await asyncio.to_thread(listener.stop)
                listener = (listener_factory or PassiveListener)(interfaces, config.passive)
                next_start = loop.time() + LISTENER_RESTART_INTERVAL_S
                try:
                    await asyncio.to_thread(listener.start)
                    log.info("listening for ARP and DHCP on %s", ", ".join(interfaces))
                except ScanError as exc:
                    log.error("passive listening is off for now: %s", exc)
                    state["passive"] = {"interfaces": list(interfaces), "error": str(exc)}
                    publish_status()
            try:
                await asyncio.wait_for(stop.wait(), config.passive.flush_interval_s)
            except asyncio.TimeoutError:
                pass
            if listener is not None:
                held.extend(listener.drain())
            # Held sightings are bounded like the listener's own memory: the oldest go first.
            overflow = len(held) - config.passive.max_tracked_devices
            if overflow > 0:
                del held[:overflow]
                dropped_held += overflow
            backlog = sink.pending_batches > 0
            if held and (not backlog or loop.time() - last_sent >= BACKLOG_FLUSH_INTERVAL_S):
                heard, held = held, []
                private = await _private(pipeline, heard, "passively heard")
                if private:
                    try:
                        sink.submit(private, now=utc_now())
                    except OSError as exc:
                        log.error("could not queue %d passively heard observations: %s", len(private), exc)
                last_sent = loop.time()
            if listener is not None and listener.running:
                stats = {**listener.stats(), "held": len(held), "dropped_while_collector_away": dropped_held}
                if stats != (state["passive"] or {}).get("stats"):
                    state["passive"] = {"interfaces": list(interfaces), "stats": stats}
                    publish_status()
    finally:
        if listener is not None:
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

"""Runs one scenario as a Chaos Toolkit experiment, then drains, checks and reports.

1. Pre-check: the stack is healthy and the API ready (else: aborted, nothing injected).
2. Steady load starts. Warm-up (`warmup_s`), then the steady-state hypothesis *before*:
   availability and P99 over the warm-up within the SLO (else: aborted, no fault).
3. Method: the fault (`fault_at`); a timed outage lasts `hold_s` and is then ended
   (`fault_ended_at`); load continues through the recovery window (`recovery_s`).
4. Hypothesis *after*, over the last `probe_window_s` of the recovery window; if it does
   not hold, the window is extended second by second up to `max_extension_s`; if it still
   does not hold: aborted ("steady state did not return").
5. Load stops (orders in progress finish their retries), rollback (restart what was
   killed, thaw what was frozen; always, even after an error), wait until healthy.
6. Drain: until no outbox row of the run is unpublished and every one has a
   processed_events row (bounded by `drain_timeout_s`), then the checker, then the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from chaos.drill import report as reports
from chaos.drill.checker import (
    CheckResult,
    QueueState,
    check,
    connect_read_only,
    sqs_queue_probe,
)
from chaos.drill.loadgen import LoadConfig, LoadGenerator
from chaos.drill.records import History
from chaos.drill.scenarios import FaultState, Scenario, Target, rollback_all


@dataclass(frozen=True)
class DrillSettings:
    warmup_s: float = 20.0
    recovery_s: float = 35.0
    hold_s: float | None = None  # overrides the scenarios' outage length (redis-down, queue)
    max_extension_s: float = 30.0
    drain_timeout_s: float = 120.0
    healthy_timeout_s: float = 180.0
    load: LoadConfig = field(default_factory=lambda: LoadConfig(duration_s=None))
    slo: reports.Slo = field(default_factory=reports.Slo)


@dataclass
class DrillEnv:
    """The system under test, as the runner sees it."""

    target: Target
    api_url: str
    jwt_secret: str
    database_url: str  # read by the checker and the drain probe (read-only sessions)
    wait_healthy: Callable[[float], None]
    sqs_endpoint_url: str | None = None
    queue_url: str | None = None
    transport: httpx.AsyncBaseTransport | None = None  # tests inject a fake API
    heal: Callable[[float], object] | None = None  # last resort after a failed rollback
    checker: Callable[[History, list[str]], Awaitable[CheckResult]] | None = None
    drainer: Callable[[list[str], float], Awaitable[dict[str, Any]]] | None = None
    sample_backlog: bool = True  # sample the run's outbox backlog once a second
    say: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))


class _Abort(Exception):
    pass


async def _api_ready(env: DrillEnv, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    last = "no answer"
    async with httpx.AsyncClient(
        base_url=env.api_url, timeout=2.0, transport=env.transport
    ) as http:
        while time.monotonic() < deadline:
            try:
                response = await http.get("/health/ready")
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            await asyncio.sleep(0.5)
    raise _Abort(f"API not ready at {env.api_url}/health/ready within {within_s:.0f}s ({last})")


async def drain_outbox(database_url: str, accounts: list[str], within_s: float) -> dict[str, Any]:
    """Wait until the run's outbox rows are all published and all processed by the worker."""
    started = time.monotonic()
    deadline = started + within_s
    unpublished = unprocessed = -1
    conn: asyncpg.Connection | None = None
    try:
        while True:
            try:
                if conn is None or conn.is_closed():
                    conn = await connect_read_only(database_url)
                row = await conn.fetchrow(
                    """
                    SELECT count(*) FILTER (WHERE x.published_at IS NULL) AS unpublished,
                           count(*) FILTER (WHERE p.event_id IS NULL) AS unprocessed,
                           count(*) AS total
                    FROM outbox x LEFT JOIN processed_events p ON p.event_id = x.event_id
                    WHERE x.account_id = ANY($1::text[])
                    """,
                    accounts,
                )
                assert row is not None
                unpublished, unprocessed = int(row["unpublished"]), int(row["unprocessed"])
                if unpublished == 0 and unprocessed == 0:
                    return {"drained": True, "seconds": round(time.monotonic() - started, 2),
                            "outbox_rows": int(row["total"]), "unpublished": 0, "unprocessed": 0}
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.terminate()
                conn = None
            if time.monotonic() >= deadline:
                return {"drained": False, "seconds": round(time.monotonic() - started, 2),
                        "unpublished": unpublished, "unprocessed": unprocessed}
            await asyncio.sleep(0.5)
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()


BACKLOG_SQL = """
    SELECT count(*) FILTER (WHERE x.published_at IS NULL) AS unpublished,
           count(*) FILTER (WHERE p.event_id IS NULL) AS unprocessed
    FROM outbox x LEFT JOIN processed_events p ON p.event_id = x.event_id
    WHERE x.account_id = ANY($1::text[])
"""


async def sample_backlog(
    database_url: str, accounts: list[str], out: list[tuple[float, int | None, int | None]],
    stop: asyncio.Event, every_s: float = 1.0,
) -> None:
    """Once a second: the run's outbox rows not yet published / not yet processed by the
    worker ((t, None, None) while the database cannot be read, e.g. during a failover)."""
    conn: asyncpg.Connection | None = None
    try:
        while not stop.is_set():
            t = time.time()
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncio.wait_for(connect_read_only(database_url), every_s)
                live: asyncpg.Connection = conn
                row = await asyncio.wait_for(live.fetchrow(BACKLOG_SQL, accounts), every_s)
                assert row is not None
                out.append((t, int(row["unpublished"]), int(row["unprocessed"])))
            except Exception:
                out.append((t, None, None))
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.terminate()
                conn = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, t + every_s - time.time()))
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()


async def _wait_healthy(env: DrillEnv, within_s: float) -> None:
    try:
        await asyncio.to_thread(env.wait_healthy, within_s)
    except Exception as exc:
        raise _Abort(f"stack not healthy: {exc}") from exc
    await _api_ready(env, within_s)


async def _target(env: DrillEnv, action: Callable[[Target, FaultState], None],
                  state: FaultState, timeline: reports.RunTimeline) -> None:
    """Run a fault/rollback action in a thread and copy its journal into the timeline."""
    before = len(state.journal)
    try:
        await asyncio.to_thread(action, env.target, state)
    finally:
        for t, name, details in state.journal[before:]:
            timeline.journal(t, name, **details)


async def run_scenario(
    env: DrillEnv, scenario: Scenario, settings: DrillSettings, out_dir: Path
) -> dict[str, Any]:
    say = env.say
    slo = settings.slo
    # Each run gets accounts of its own, so its check is not muddled by earlier runs.
    load_cfg = replace(settings.load, duration_s=None, run_id=uuid.uuid4().hex[:10])
    timeline = reports.RunTimeline(scenario.name, scenario.description)
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    gen = LoadGenerator(env.api_url, env.jwt_secret, load_cfg, out_dir / "client-log.jsonl",
                        transport=env.transport)
    state = FaultState()
    load_task: asyncio.Task[History] | None = None
    sampler: asyncio.Task[None] | None = None
    stop_sampler = asyncio.Event()
    hold = scenario.hold_s if settings.hold_s is None else settings.hold_s

    def elapsed() -> str:
        return f"t+{time.time() - timeline.started_at:5.1f}s" if timeline.started_at else ""

    try:
        say(f"[{scenario.name}] pre-check: stack healthy, API ready")
        await _wait_healthy(env, settings.healthy_timeout_s)
        timeline.started_at = time.time()
        load_task = asyncio.create_task(gen.run())
        if env.sample_backlog:
            sampler = asyncio.create_task(
                sample_backlog(env.database_url, gen.accounts, timeline.backlog, stop_sampler)
            )
        say(f"[{scenario.name}] warm-up {settings.warmup_s:g}s at {load_cfg.rate:g} orders/s "
            f"({load_cfg.clients} clients)")
        await asyncio.sleep(settings.warmup_s)
        before = reports.probe(gen.history, timeline.started_at, time.time(), slo)
        say(f"[{scenario.name}] {elapsed()} steady state before: {_probe_text(before)}")
        if not before["ok"]:
            raise _Abort(f"steady state not met before the fault ({_probe_text(before)}); "
                         "fault not injected")

        timeline.fault_at = time.time()
        say(f"[{scenario.name}] {elapsed()} fault: {scenario.method}")
        try:
            await _target(env, scenario.inject, state, timeline)
        except Exception as exc:
            raise _Abort(f"fault injection failed: {type(exc).__name__}: {exc}") from exc
        timeline.fault_ended_at = timeline.fault_at
        if scenario.restore is not None:
            await asyncio.sleep(max(0.0, timeline.fault_at + hold - time.time()))
            timeline.fault_ended_at = time.time()
            say(f"[{scenario.name}] {elapsed()} fault ends after {hold:g}s")
            try:
                await _target(env, scenario.restore, state, timeline)
            except Exception as exc:
                raise _Abort(f"ending the outage failed: {type(exc).__name__}: {exc}") from exc

        recovery_end = timeline.fault_ended_at + settings.recovery_s
        await asyncio.sleep(max(0.0, recovery_end - time.time()))
        limit = recovery_end + settings.max_extension_s
        while True:
            now = time.time()
            after_start = max(now - slo.probe_window_s, timeline.fault_ended_at)
            after = reports.probe(gen.history, after_start, now, slo)
            if after["ok"] or now >= limit:
                break
            await asyncio.sleep(1.0)
        timeline.observed_until = now
        say(f"[{scenario.name}] {elapsed()} steady state after: {_probe_text(after)}")
        if not after["ok"]:
            raise _Abort(
                f"steady state did not return within "
                f"{now - timeline.fault_ended_at:.0f}s after the fault ({_probe_text(after)})"
            )
    except _Abort as abort:
        timeline.aborted = str(abort)
        say(f"[{scenario.name}] ABORTED: {abort}")
    finally:
        if not timeline.observed_until:
            timeline.observed_until = time.time()
        if load_task is not None:
            gen.stop()
            budget = load_cfg.order_deadline_s + load_cfg.request_timeout_s + 5
            try:
                await asyncio.wait_for(asyncio.shield(load_task), budget)
            except TimeoutError:
                load_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await load_task
                timeline.notes.append("load generator cancelled: orders still retrying")
            timeline.ended_at = gen.ended_at or time.time()
        if state.killed or state.frozen or scenario.rollback is not None:
            say(f"[{scenario.name}] rollback: {', '.join(state.killed + state.frozen) or '-'}")
            rollback = scenario.rollback or rollback_all
            try:
                await _target(env, rollback, state, timeline)
            except Exception as exc:
                timeline.notes.append(f"rollback failed: {exc}")
                say(f"[{scenario.name}] rollback failed: {exc}")

    # Orders only exist when load ran; otherwise there is nothing to drain or check.
    check_result: CheckResult | None = None
    try:
        if load_task is not None:
            await _after_rollback(env, settings, timeline, scenario.name)
            timeline.drain = await _drain(env, gen.accounts, settings, scenario.name)
    finally:
        stop_sampler.set()
        if sampler is not None:
            try:
                await asyncio.wait_for(sampler, 5.0)
            except (TimeoutError, asyncio.CancelledError):
                sampler.cancel()
    if load_task is not None:
        check_result = await _run_checker(env, gen.history, gen.accounts, timeline)

    report = reports.build_report(timeline, gen.history, check_result, slo)
    files = reports.write_run(out_dir, report, gen.history, timeline)
    report["files"] = {k: str(v) for k, v in vars(files).items()}
    report["files"]["client_log"] = str(out_dir / "client-log.jsonl")
    say(f"[{scenario.name}] {report['verdict'].upper()}: {report['verdict_reason']} "
        f"(acked {report['acknowledged']}, lost {report['lost']}, duplicated "
        f"{report['duplicated']}, error window {report['error_window_s']}s) -> {files.markdown}")
    return report


async def _after_rollback(
    env: DrillEnv, settings: DrillSettings, timeline: reports.RunTimeline, name: str
) -> None:
    """Wait until the stack is steady again; heal it as a last resort."""
    try:
        await _wait_healthy(env, settings.healthy_timeout_s)
    except _Abort as exc:
        timeline.notes.append(f"after rollback: {exc}")
        env.say(f"[{name}] after rollback: {exc}")
        if env.heal is not None:
            timeline.journal(time.time(), "heal")
            env.say(f"[{name}] healing the stack (start whatever is down)")
            try:
                await asyncio.to_thread(env.heal, settings.healthy_timeout_s)
            except Exception as heal_exc:
                timeline.notes.append(f"heal failed: {heal_exc}")


async def _drain(
    env: DrillEnv, accounts: list[str], settings: DrillSettings, name: str
) -> dict[str, Any]:
    env.say(f"[{name}] drain: outbox published and processed (<= "
            f"{settings.drain_timeout_s:g}s)")
    if env.drainer is not None:
        result = await env.drainer(accounts, settings.drain_timeout_s)
    else:
        result = await drain_outbox(env.database_url, accounts, settings.drain_timeout_s)
    env.say(f"[{name}] drain: {result}")
    return result


async def _run_checker(
    env: DrillEnv, history: History, accounts: list[str], timeline: reports.RunTimeline
) -> CheckResult | None:
    if env.checker is not None:
        return await env.checker(history, accounts)
    probe: Callable[[], QueueState] | None = None
    if env.queue_url:
        probe = sqs_queue_probe(env.sqs_endpoint_url, env.queue_url)
    for attempt in range(3):
        try:
            return await check(env.database_url, history, accounts=accounts, queue_probe=probe)
        except Exception as exc:  # the database may still be settling after a failover
            if attempt == 2:
                timeline.notes.append(f"checker failed: {type(exc).__name__}: {exc}")
                return None
            await asyncio.sleep(3.0)
    return None


def _probe_text(p: dict[str, Any]) -> str:
    avail = "n/a" if p["availability"] is None else f"{p['availability']:.2%}"
    return (f"{'held' if p['ok'] else 'NOT held'}: availability {avail} over {p['requests']} "
            f"requests, P99 {p['p99_ms']} ms")


async def run_drill(
    env: DrillEnv, scenarios: list[Scenario], settings: DrillSettings, run_dir: Path
) -> list[dict[str, Any]]:
    """Every scenario in turn (each with its own accounts), then the summary."""
    results = []
    for scenario in scenarios:
        results.append(await run_scenario(env, scenario, settings, run_dir / scenario.name))
    if results:
        reports.write_summary(run_dir, results)
    return results

"""Runs one scenario as a Chaos Toolkit experiment, in named phases, each written to the
journal (the report's `phases` and `actions`):

1. `pre-check`: the stack is healthy and the API ready (else: aborted, nothing injected).
2. `warm-up`: steady load starts (`warmup_s`).
3. `steady-state-before`: the hypothesis over the warm-up, or if a cold stack stalled in it,
   over the last `probe_window_s`, extended second by second up to `max_extension_s`
   (else: aborted, no fault).
4. `inject`: the fault (`fault_at`).
5. `hold-and-restore`: a timed outage lasts `hold_s`, then is ended (`fault_ended_at`).
6. `recovery`: load continues through the recovery window (`recovery_s`).
7. `steady-state-after`: the hypothesis over the last `probe_window_s`, extended second by
   second up to `max_extension_s` (else: aborted, "steady state did not return").
8. `rollback`: load stops (orders in progress finish their retries); heal partitions, thaw
   what was frozen, restart what was killed (always, even after an error); wait until
   healthy (last resort: heal the stack). A stack that is not back even then fails the
   run: every hypothesis includes recovering, and the next engineer inherits the stack.
9. `drain`: until no outbox row of the run is unpublished or unprocessed (bounded).
10. `check`: the checker (snapshot, audit log, queue), then the report.

The hypothesis is the scenario's: its own thresholds when the catalogue sets them, else
the run's SLO.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from chaos.drill import files
from chaos.drill import report as reports
from chaos.drill.alerting import AlertPoller, AlertSource
from chaos.drill.backlog import drain_outbox, sample_backlog
from chaos.drill.checker import CheckResult, QueueState
from chaos.drill.loadgen import LoadConfig, LoadGenerator
from chaos.drill.methods import Action, FaultState, LocalMethod, Target, rollback_all
from chaos.drill.records import History
from chaos.drill.verify import AuditVerifier, audit_cli_verifier, run_check, sqs_queue_probe

if TYPE_CHECKING:
    from chaos.catalogue import Scenario

PHASES = (
    "pre-check", "warm-up", "steady-state-before", "inject", "hold-and-restore", "recovery",
    "steady-state-after", "rollback", "drain", "check",
)


@dataclass(frozen=True)
class DrillSettings:
    warmup_s: float = 20.0
    recovery_s: float = 35.0
    hold_s: float | None = None  # overrides the scenarios' outage length (timed outages)
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
    service_env: Mapping[str, str] = field(default_factory=dict)  # for `service audit verify`
    transport: httpx.AsyncBaseTransport | None = None  # tests inject a fake API
    heal: Callable[[float], object] | None = None  # last resort after a failed rollback
    checker: Callable[[History, list[str]], Awaitable[CheckResult]] | None = None
    drainer: Callable[[list[str], float], Awaitable[dict[str, Any]]] | None = None
    sample_backlog: bool = True  # sample the run's outbox backlog once a second
    # Alertmanager's alerts, polled once a second; None: alerts are not observed.
    alert_source: AlertSource | None = None
    alert_poll_interval_s: float = 1.0
    # How long the pre-check waits for pages left by an earlier fault to resolve.
    quiet_timeout_s: float = 60.0
    say: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))


class _Abort(Exception):
    pass


def scenario_slo(scenario: Scenario, slo: reports.Slo) -> reports.Slo:
    """The run's SLO with the scenario's own hypothesis thresholds, where it sets them."""
    h = scenario.hypothesis
    return replace(
        slo,
        availability=slo.availability if h.availability_min is None else h.availability_min,
        p99_ms=slo.p99_ms if h.p99_ms_max is None else h.p99_ms_max,
    )


class ScenarioRun:
    """One run of one scenario: the phases share the load generator, timeline and state."""

    def __init__(self, env: DrillEnv, scenario: Scenario, settings: DrillSettings,
                 out_dir: Path) -> None:
        if scenario.local is None:
            raise ValueError(f"{scenario.name} has no local implementation: {scenario.no_local}")
        self.env, self.scenario, self.settings, self.out_dir = env, scenario, settings, out_dir
        self.method: LocalMethod = scenario.local
        self.slo = scenario_slo(scenario, settings.slo)
        # Each run gets accounts of its own, so its check is not muddled by earlier runs.
        self.load_cfg = replace(settings.load, duration_s=None, run_id=uuid.uuid4().hex[:10])
        self.timeline = reports.RunTimeline(scenario.name, scenario.description,
                                            expected_alerts=scenario.expected_alerts.names)
        self.gen = LoadGenerator(env.api_url, env.jwt_secret, self.load_cfg,
                                 out_dir / "client-log.jsonl", transport=env.transport)
        self.state = FaultState()
        self.load_task: asyncio.Task[History] | None = None
        self.sampler: asyncio.Task[None] | None = None
        self.stop_sampler = asyncio.Event()
        self.hold = self.method.hold_s if settings.hold_s is None else settings.hold_s
        self.alert_poller: AlertPoller | None = None
        if env.alert_source is not None:
            self.alert_poller = AlertPoller(env.alert_source, env.alert_poll_interval_s)

    # -- journal ------------------------------------------------------------------------
    def say(self, text: str) -> None:
        t0 = self.timeline.started_at
        stamp = f"t+{time.time() - t0:5.1f}s " if t0 else ""
        self.env.say(f"[{self.scenario.name}] {stamp}{text}")

    @contextlib.asynccontextmanager
    async def phase(self, name: str) -> AsyncIterator[dict[str, Any]]:
        """Journal a phase: its start, end and outcome (ok, aborted or error)."""
        entry: dict[str, Any] = {"phase": name, "outcome": "ok"}
        start = time.time()
        self.timeline.journal(start, "phase", phase=name)
        try:
            yield entry
        except _Abort as exc:
            entry.update(outcome="aborted", detail=str(exc))
            raise
        except Exception as exc:
            entry.update(outcome="error", detail=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            end = time.time()
            entry.update(started_at=reports.to_iso(start), ended_at=reports.to_iso(end),
                         seconds=round(end - start, 3))
            self.timeline.phases.append(entry)

    async def act(self, action: Action) -> None:
        """Run a fault/rollback action in a thread and copy its journal into the timeline."""
        before = len(self.state.journal)
        try:
            await asyncio.to_thread(action, self.env.target, self.state)
        finally:
            for t, name, details in self.state.journal[before:]:
                self.timeline.journal(t, name, **details)

    # -- the phases -----------------------------------------------------------------------
    async def pre_check(self) -> None:
        async with self.phase("pre-check") as entry:
            await wait_healthy(self.env, self.settings.healthy_timeout_s)
            if self.alert_poller is None:
                entry["detail"] = "alerts not observed (no Alertmanager)"
                return
            entry["detail"] = await self.wait_for_quiet(self.alert_poller)

    async def wait_for_quiet(self, poller: AlertPoller) -> str:
        """Let pages an earlier fault left resolve before the steady state is measured
        (bounded: if one stays, the verdict reports it as a steady-state page)."""
        await poller.poll_once()
        poller.start()
        for _ in range(round(self.env.quiet_timeout_s / poller.interval_s)):
            if not poller.active_pages():
                break
            await asyncio.sleep(poller.interval_s)
        pages = poller.active_pages()
        if pages:
            return f"still paging: {', '.join(pages)}"
        return "no page active"

    async def warm_up(self) -> None:
        async with self.phase("warm-up") as entry:
            self.timeline.started_at = time.time()
            self.load_task = asyncio.create_task(self.gen.run())
            if self.env.sample_backlog:
                self.sampler = asyncio.create_task(sample_backlog(
                    self.env.database_url, self.gen.accounts, self.timeline.backlog,
                    self.stop_sampler))
            entry["detail"] = (f"{self.settings.warmup_s:g}s at {self.load_cfg.rate:g} "
                               f"orders/s ({self.load_cfg.clients} clients)")
            self.say(f"warm-up {entry['detail']}")
            await asyncio.sleep(self.settings.warmup_s)

    async def steady_state_before(self) -> None:
        async with self.phase("steady-state-before") as entry:
            now = time.time()
            before = reports.probe(self.gen.history, self.timeline.started_at, now, self.slo)
            # A cold stack can stall for a moment in its first seconds of load: then the
            # steady state is the first probe window that holds, waited for under the same
            # load (bounded), never assumed. Pages are judged from that window on.
            limit = now + self.settings.max_extension_s
            while not before["ok"] and now < limit:
                await asyncio.sleep(1.0)
                now = time.time()
                self.timeline.steady_from = now - self.slo.probe_window_s
                before = reports.probe(self.gen.history, self.timeline.steady_from, now,
                                       self.slo)
            entry["detail"] = _probe_text(before)
            self.say(f"steady state before: {entry['detail']}")
            if not before["ok"]:
                raise _Abort(f"steady state not met before the fault ({_probe_text(before)}); "
                             "fault not injected")

    async def inject(self) -> None:
        async with self.phase("inject"):
            self.timeline.fault_at = time.time()
            self.timeline.fault_ended_at = self.timeline.fault_at
            self.say(f"fault: {self.scenario.method}")
            try:
                await self.act(self.method.inject)
            except Exception as exc:
                raise _Abort(f"fault injection failed: {type(exc).__name__}: {exc}") from exc

    async def hold_and_restore(self) -> None:
        if self.method.restore is None or self.timeline.fault_at is None:
            return
        async with self.phase("hold-and-restore"):
            await asyncio.sleep(max(0.0, self.timeline.fault_at + self.hold - time.time()))
            self.timeline.fault_ended_at = time.time()
            self.say(f"fault ends after {self.hold:g}s")
            try:
                await self.act(self.method.restore)
            except Exception as exc:
                raise _Abort(f"ending the outage failed: {type(exc).__name__}: {exc}") from exc

    async def recovery(self) -> None:
        async with self.phase("recovery"):
            end = (self.timeline.fault_ended_at or time.time()) + self.settings.recovery_s
            await asyncio.sleep(max(0.0, end - time.time()))

    async def steady_state_after(self) -> None:
        async with self.phase("steady-state-after") as entry:
            fault_end = self.timeline.fault_ended_at or time.time()
            limit = fault_end + self.settings.recovery_s + self.settings.max_extension_s
            while True:
                now = time.time()
                start = max(now - self.slo.probe_window_s, fault_end)
                after = reports.probe(self.gen.history, start, now, self.slo)
                if after["ok"] or now >= limit:
                    break
                await asyncio.sleep(1.0)
            self.timeline.observed_until = now
            entry["detail"] = _probe_text(after)
            self.say(f"steady state after: {entry['detail']}")
            if not after["ok"]:
                raise _Abort(f"steady state did not return within {now - fault_end:.0f}s "
                             f"after the fault ({_probe_text(after)})")

    async def stop_load(self) -> None:
        if not self.timeline.observed_until:
            self.timeline.observed_until = time.time()
        if self.load_task is None:
            return
        self.gen.stop()
        budget = self.load_cfg.order_deadline_s + self.load_cfg.request_timeout_s + 5
        try:
            await asyncio.wait_for(asyncio.shield(self.load_task), budget)
        except TimeoutError:
            self.load_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.load_task
            self.timeline.notes.append("load generator cancelled: orders still retrying")
        self.timeline.ended_at = self.gen.ended_at or time.time()

    async def rollback(self) -> None:
        async with self.phase("rollback") as entry:
            undo = self.state.partitions + self.state.frozen + self.state.killed
            entry["detail"] = ", ".join(undo) or "-"
            self.say(f"rollback: {entry['detail']}")
            try:
                await self.act(self.method.rollback or rollback_all)
            except Exception as exc:
                self.timeline.notes.append(f"rollback failed: {exc}")
                self.say(f"rollback failed: {exc}")
            if self.load_task is not None:
                await self.after_rollback()

    async def after_rollback(self) -> None:
        """Wait until the stack is steady again; heal it as a last resort."""
        try:
            await wait_healthy(self.env, self.settings.healthy_timeout_s)
        except _Abort as exc:
            self.timeline.notes.append(f"after rollback: {exc}")
            self.say(f"after rollback: {exc}")
            if self.env.heal is None:
                self.timeline.unrecovered = f"after the rollback, {exc}"
                return
            self.timeline.journal(time.time(), "heal")
            self.say("healing the stack (start whatever is down)")
            try:
                await asyncio.to_thread(self.env.heal, self.settings.healthy_timeout_s)
            except Exception as heal_exc:
                self.timeline.notes.append(f"heal failed: {heal_exc}")
                self.timeline.unrecovered = (
                    f"after the rollback, {exc}; healing did not bring it back: {heal_exc}")
                self.say(f"heal failed: {heal_exc}")

    async def drain(self) -> None:
        async with self.phase("drain") as entry:
            limit = self.settings.drain_timeout_s
            self.say(f"drain: outbox published and processed (<= {limit:g}s)")
            if self.env.drainer is not None:
                result = await self.env.drainer(self.gen.accounts, limit)
            else:
                result = await drain_outbox(self.env.database_url, self.gen.accounts, limit)
            self.timeline.drain = result
            entry["detail"] = ", ".join(f"{k}={v}" for k, v in result.items())
            self.say(f"drain: {result}")

    async def stop_sampling(self) -> None:
        self.stop_sampler.set()
        if self.sampler is not None:
            try:
                await asyncio.wait_for(self.sampler, 5.0)
            except (TimeoutError, asyncio.CancelledError):
                self.sampler.cancel()

    async def stop_alert_poller(self) -> None:
        if self.alert_poller is None:
            return
        await self.alert_poller.stop()
        self.timeline.alerts = self.alert_poller.records()
        self.timeline.notes.extend(self.alert_poller.notes())

    async def check(self) -> CheckResult | None:
        async with self.phase("check") as entry:
            result = await self.run_checker()
            entry["detail"] = "did not run" if result is None else result.result
            return result

    async def run_checker(self) -> CheckResult | None:
        env, history, accounts = self.env, self.gen.history, self.gen.accounts
        if env.checker is not None:
            return await env.checker(history, accounts)
        probe: Callable[[], QueueState] | None = None
        if env.queue_url:
            probe = sqs_queue_probe(env.sqs_endpoint_url, env.queue_url)
        verifier: AuditVerifier = audit_cli_verifier(
            {**env.service_env, "ORDERS_DATABASE_URL": env.database_url})
        for attempt in range(3):
            try:
                return await run_check(env.database_url, history, accounts=accounts,
                                       audit_verifier=verifier, queue_probe=probe)
            except Exception as exc:  # the database may still be settling after a failover
                if attempt == 2:
                    self.timeline.notes.append(f"checker failed: {type(exc).__name__}: {exc}")
                    return None
                await asyncio.sleep(3.0)
        return None

    # -- the experiment -------------------------------------------------------------------
    async def experiment(self) -> None:
        """pre-check .. steady-state-after; an abort skips the rest (the rollback follows)."""
        try:
            await self.pre_check()
            await self.warm_up()
            await self.steady_state_before()
            await self.inject()
            await self.hold_and_restore()
            await self.recovery()
            await self.steady_state_after()
        except _Abort as abort:
            self.timeline.aborted = str(abort)
            self.say(f"ABORTED: {abort}")

    async def run(self) -> dict[str, Any]:
        await asyncio.to_thread(self.out_dir.mkdir, parents=True, exist_ok=True)
        try:
            await self.experiment()
        finally:
            await self.stop_load()
            await self.rollback()
        check_result: CheckResult | None = None
        # Orders only exist when load ran; otherwise there is nothing to drain or check.
        try:
            if self.load_task is not None:
                await self.drain()
        finally:
            await self.stop_sampling()
            await self.stop_alert_poller()
        if self.load_task is not None:
            check_result = await self.check()
        return self.write(check_result)

    def write(self, check_result: CheckResult | None) -> dict[str, Any]:
        report = reports.build_report(self.timeline, self.gen.history, check_result, self.slo)
        report.update(title=self.scenario.title, hypothesis=self.scenario.hypothesis.expectation,
                      method=self.scenario.method)
        written = files.write_run(self.out_dir, report, self.gen.history, self.timeline)
        report["files"] = {k: str(v) for k, v in vars(written).items()}
        report["files"]["client_log"] = str(self.out_dir / "client-log.jsonl")
        self.say(f"{report['verdict'].upper()}: {report['verdict_reason']} (acked "
                 f"{report['acknowledged']}, lost {report['lost']}, duplicated "
                 f"{report['duplicated']}, error window {report['error_window_s']}s) -> "
                 f"{written.markdown}")
        return report


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


async def wait_healthy(env: DrillEnv, within_s: float) -> None:
    try:
        await asyncio.to_thread(env.wait_healthy, within_s)
    except Exception as exc:
        raise _Abort(f"stack not healthy: {exc}") from exc
    await _api_ready(env, within_s)


def _probe_text(p: dict[str, Any]) -> str:
    avail = "n/a" if p["availability"] is None else f"{p['availability']:.2%}"
    return (f"{'held' if p['ok'] else 'NOT held'}: availability {avail} over {p['requests']} "
            f"requests, P99 {p['p99_ms']} ms")


async def run_scenario(
    env: DrillEnv, scenario: Scenario, settings: DrillSettings, out_dir: Path
) -> dict[str, Any]:
    """Run one scenario's phases and write its report."""
    return await ScenarioRun(env, scenario, settings, out_dir).run()


async def run_drill(
    env: DrillEnv, scenarios: list[Scenario], settings: DrillSettings, run_dir: Path
) -> list[dict[str, Any]]:
    """Every scenario in turn (each with its own accounts), then the summary."""
    results = []
    for scenario in scenarios:
        results.append(await run_scenario(env, scenario, settings, run_dir / scenario.name))
    if results:
        files.write_summary(run_dir, results)
    return results

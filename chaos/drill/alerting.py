"""The drill's view of the alerts: a background poller of Alertmanager, and what its records
add to a run's report and verdict.

The poller runs from the pre-check until the drain, once a second, so it sees what paged
during the steady state (warm-up start to the fault) and every alert the fault raised, with
the time it resolved. `observability.alert_check` judges the records; this module wires the
judgement into the report: `alerts`, `expected_alerts_met`, `time_to_detect_s`, and a
failed verdict when an expected alert did not fire or something paged before the fault.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from chaos.drill.verdict import FAILED, PASSED, UNKNOWN_VERDICT
from observability.alert_check import AlertRecord, AlertTracker, check_alerts

# Returns Alertmanager's `GET /api/v2/alerts` body (a list of alerts); raises when it cannot.
AlertSource = Callable[[], list[dict[str, Any]]]

NOT_OBSERVED = "alerts were not observed (the stack runs without Prometheus/Alertmanager)"


def alertmanager_source(url: str, timeout_s: float = 2.0) -> AlertSource:
    """An AlertSource over a real Alertmanager's v2 API."""

    def fetch() -> list[dict[str, Any]]:
        response = httpx.get(f"{url.rstrip('/')}/api/v2/alerts", timeout=timeout_s)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, list):
            raise ValueError(f"unexpected /api/v2/alerts body: {type(body).__name__}")
        return body

    return fetch


class AlertPoller:
    """Polls an AlertSource about once a second into an AlertTracker.

    A failed poll is counted and skipped: it must not read as every alert resolving."""

    def __init__(self, source: AlertSource, interval_s: float = 1.0,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.source, self.interval_s, self.now = source, interval_s, now
        self.tracker = AlertTracker()
        self.polls = 0
        self.failed_polls = 0
        self.last_error = ""
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def poll_once(self) -> None:
        try:
            alerts = await asyncio.to_thread(self.source)
        except Exception as exc:  # an unreachable Alertmanager for a second is not a finding
            self.failed_polls += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return
        self.polls += 1
        self.tracker.observe(alerts, self.now())

    def active_pages(self) -> list[str]:
        return sorted({r.name for r in self.tracker.records()
                       if r.severity == "page" and r.resolved_at is None})

    async def _loop(self) -> None:
        while not self._stop.is_set():
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)
        await self.poll_once()  # the last state, so what resolved meanwhile is closed

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 10.0)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    def records(self) -> list[AlertRecord]:
        return self.tracker.records()

    def notes(self) -> list[str]:
        if not self.failed_polls:
            return []
        return [f"{self.failed_polls} of {self.polls + self.failed_polls} Alertmanager polls "
                f"failed (last: {self.last_error})"]


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def alert_fields(records: list[AlertRecord] | None, *, started_at: float,
                 fault_at: float | None, observed_until: float,
                 expected: tuple[str, ...]) -> dict[str, Any]:
    """The report's alert fields, plus `alert_findings` (why the alerts fail the run).

    records None: the run did not observe alerts. No fault (aborted before it): only the
    steady-state pages are judged; `expected_alerts_met` stays null."""
    if records is None:
        return {"alerts": [], "expected_alerts_met": None, "time_to_detect_s": None,
                "alerts_observed": False, "alert_findings": []}
    end = fault_at if fault_at is not None else max(observed_until, started_at)
    verdict = check_alerts(records, fault_at=_utc(end),
                           steady_state=(_utc(started_at), _utc(end)),
                           expected=expected if fault_at is not None else ())
    return {
        "alerts": [r.as_json() for r in records],
        "expected_alerts_met": verdict.expected_alerts_met if fault_at is not None else None,
        "time_to_detect_s": ({name: round(s, 1) for name, s in verdict.time_from_fault_s.items()}
                             if fault_at is not None else None),
        "alerts_observed": True,
        "alert_findings": verdict.findings(),
    }


def judge(verdict: str, reason: str, findings: list[str], *, observed: bool,
          expected: tuple[str, ...]) -> tuple[str, str]:
    """The run's verdict after its alerts: a finding fails a run that passed (or was
    unknown); unobserved alerts make a pass unknown when the scenario expects some."""
    if findings:
        # one line per finding: two window pairs of one burn alert read the same
        text = "alerts: " + "; ".join(dict.fromkeys(findings))
        if verdict in (PASSED, UNKNOWN_VERDICT):
            return FAILED, text
        return verdict, f"{reason}; {text}"
    if not observed and expected and verdict == PASSED:
        return UNKNOWN_VERDICT, f"no anomaly, but {NOT_OBSERVED}; expected: {', '.join(expected)}"
    return verdict, reason

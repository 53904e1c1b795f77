"""The drill report schema, shared by the local and the AWS target, and its figures.

`empty_report` lists every field (null until measured); `build_report` fills them from a
local run's timeline, history and checker result; `chaos.aws.runner` fills what AWS can
measure. The verdict is `chaos.drill.verdict`, the Markdown `chaos.drill.render`, the PNG
`chaos.drill.plot`, the files `chaos.drill.files`.

Field definitions (also written into every report under `definitions`):
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chaos.drill import alerting, stats
from chaos.drill.checker import CheckResult
from chaos.drill.records import History, to_iso
from chaos.drill.verdict import run_verdict
from observability.alert_check import AlertRecord

DEFINITIONS: dict[str, str] = {
    "request": (
        "one HTTP attempt by the load generator (each retry is a new request); it succeeded "
        "when the service answered 2xx (201, or a 2xx idempotent replay), otherwise it failed "
        "(409, 429, other 4xx, 5xx, client timeout, connection error)"
    ),
    "started_at": "when the load generator started (UTC)",
    "fault_at": "when the fault was injected: just before the first kill/stop call (UTC)",
    "fault_ended_at": (
        "for timed outages (redis-down, queue-outage): when the stopped components were "
        "started again; for kills: equal to fault_at"
    ),
    "recovered_at": (
        "the send time of the earliest request at or after fault_at from which every request "
        "sent until the end of the observation window (observed_until, before the rollback) "
        "succeeded, with at least 5 s of such clean traffic; null when that never happened. "
        "About fault_at when clients saw no failure at all"
    ),
    "time_to_recover_s": (
        "recovered_at - fault_at (AWS target: from the fault until its recovery probes, the "
        "control plane's view, held)"
    ),
    "error_window_s": (
        "from the send time of the first failed request to the completion of the last failed "
        "request, over the failed requests that completed at or after fault_at and were sent "
        "before observed_until; 0 when none failed"
    ),
    "availability": (
        "succeeded requests / all requests, over every request that completed between "
        "started_at and the end of the load (warm-up, fault, recovery); retries count as "
        "requests, so it is the success ratio a server-side request SLI would see"
    ),
    "order_success_ratio": "acknowledged orders / orders the clients started",
    "p50_ms / p99_ms": (
        "nearest-rank percentiles of client-measured latency (send to end of response, or to "
        "the timeout/error) over the same requests as availability"
    ),
    "p99_ms_during_fault": (
        "P99 over requests completed in the fault window [fault_at, max(fault_ended_at, "
        "recovered_at or observed_until, fault_at + 5 s))"
    ),
    "steady_state": (
        "Chaos Toolkit steady-state hypothesis: availability >= the SLO and P99 < the SLO "
        "latency over a window: 'before' = the warm-up [started_at, fault_at), or when the "
        "warm-up did not hold, [steady_from, fault_at) where steady_from starts the first "
        "probe_window_s that held (waited for up to max_extension_s, else aborted); 'after' = "
        "the last probe_window_s of the observation window"
    ),
    "slo_met": "both steady-state probes (before and after) held",
    "outbox_backlog": (
        "the run's outbox events not yet applied by the worker (no processed_events row), "
        "sampled once a second from the database; baseline = the largest sample of the "
        "warm-up; backlog_recovered_at = the first sample at or after fault_ended_at (and "
        "after the peak) back at or below the baseline"
    ),
    "acknowledged": "distinct idempotency keys the service acknowledged with an order id",
    "lost / duplicated / orphaned / undelivered / double_processed": (
        "see chaos/drill/checker.py; each counts orders (undelivered: outbox events)"
    ),
    "audit_chain_ok": "the service's audit-chain verifier: true intact, false broken, null n/a",
    "checker_result": (
        "valid: no anomaly and every verifier ran; invalid: an anomaly or a broken audit log; "
        "unknown: nothing found but a verifier (the audit log's) could not run"
    ),
    "verdict": (
        "failed: the checker found an anomaly (lost, duplicated, mismatched, unexpected, "
        "orphaned, unaudited, undelivered, double-processed) or the audit chain is broken, or "
        "an expected alert did not fire, or a page was active during the steady state before "
        "the fault; unknown: nothing found but the audit log could not be verified, or the "
        "scenario expects alerts and none were observed (never a pass); "
        "aborted: steady state did not hold before the fault (nothing injected) or did not "
        "return after it; passed: otherwise"
    ),
    "phases": (
        "the runner's named phases in order (pre-check, warm-up, steady-state-before, inject, "
        "hold-and-restore, recovery, steady-state-after, rollback, drain, check), each with "
        "its start, end and outcome; also written to the journal (actions)"
    ),
    "alerts": (
        "alerts Alertmanager held from the pre-check to the drain (polled once a second): "
        "{name, severity, fired_at, resolved_at}; resolved_at null if still firing at the end"
    ),
    "expected_alerts_met": (
        "whether every alert in expected_alerts fired at or after the fault; null when alerts "
        "were not observed (a stack without monitoring) or no fault was injected"
    ),
    "time_to_detect_s": (
        "seconds from the fault to the first firing of each alert that fired after it"
    ),
    "alerts_observed": "whether the run polled an Alertmanager at all",
}

RUN_FIELDS = (
    "scenario", "started_at", "fault_at", "recovered_at", "acknowledged", "lost", "duplicated",
    "orphaned", "undelivered", "double_processed", "error_window_s", "availability", "p50_ms",
    "p99_ms", "p99_ms_during_fault", "slo_met", "verdict", "audit_chain_ok",
)


@dataclass(frozen=True)
class Slo:
    availability: float = 0.99
    p99_ms: float = 500.0
    probe_window_s: float = 10.0
    min_clean_s: float = 5.0


@dataclass
class RunTimeline:
    """What the runner did and when (epoch seconds, UTC)."""

    scenario: str
    description: str = ""
    target: str = "local"
    started_at: float = 0.0
    # Start of the steady-state window before the fault: the warm-up's start, or, when a
    # cold stack stalled in it, the last probe window that held (waited for, bounded).
    steady_from: float | None = None
    fault_at: float | None = None
    fault_ended_at: float | None = None
    observed_until: float = 0.0  # end of the measured method phase (before the rollback)
    ended_at: float = 0.0  # load generator stopped
    actions: list[dict[str, Any]] = field(default_factory=list)
    aborted: str | None = None  # why the experiment was aborted
    # Why the stack was not steady again after the rollback, healing included (fails the run)
    unrecovered: str | None = None
    drain: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # (t, unpublished, unprocessed) of the run's outbox rows, sampled once a second.
    backlog: list[tuple[float, int | None, int | None]] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    expected_alerts: tuple[str, ...] = ()
    alerts: list[AlertRecord] | None = None  # None: not observed (no Alertmanager)

    def journal(self, t: float, action: str, **details: Any) -> None:
        self.actions.append({"t": to_iso(t), "action": action, **details})


def _iso(ts: float | None) -> str | None:
    return None if ts is None else to_iso(ts)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def probe(history: History, start: float, end: float, slo: Slo) -> dict[str, Any]:
    w = stats.window(history.attempts, start, end)
    ok = (
        w.requests > 0
        and w.availability is not None
        and w.availability >= slo.availability
        and w.p99_ms is not None
        and w.p99_ms < slo.p99_ms
    )
    return {
        "window_start": _iso(start),
        "window_end": _iso(end),
        "requests": w.requests,
        "failed": w.failed,
        "availability": None if w.availability is None else round(w.availability, 5),
        "p99_ms": _round(w.p99_ms),
        "thresholds": {"availability_min": slo.availability, "p99_ms_max": slo.p99_ms},
        "ok": ok,
    }



# Every field of a report, local or AWS, in order (null until measured).
REPORT_FIELDS: tuple[str, ...] = (
    "scenario", "title", "description", "hypothesis", "target", "method", "dry_run",
    "started_at", "fault_at", "fault_ended_at", "recovered_at", "observed_until", "ended_at",
    "time_to_recover_s", "acknowledged", "orders_started", "order_success_ratio", "gave_up",
    "rejected", "requests", "failed_requests", "lost", "duplicated", "orphaned",
    "undelivered", "double_processed", "mismatched", "unexpected", "unaudited",
    "in_doubt_committed", "audit_chain_ok", "audit_detail", "checker_result",
    "error_window_s", "first_error_at", "last_error_at", "availability", "p50_ms", "p99_ms",
    "p99_ms_during_fault", "availability_during_fault", "outbox_backlog_baseline",
    "outbox_backlog_max", "backlog_recovered_at", "steady_state", "slo", "slo_met",
    "verdict", "verdict_reason", "drain", "queue", "checker_samples", "phases", "actions",
    "alerts", "expected_alerts", "expected_alerts_met", "time_to_detect_s", "alerts_observed",
    "details", "notes", "aws_calls",
    "definitions",
)
LIST_FIELDS = ("phases", "actions", "alerts", "expected_alerts", "notes", "aws_calls")


def empty_report(scenario: str, target: str, **known: Any) -> dict[str, Any]:
    """A report with every field of the schema: lists empty, the rest null, then `known`."""
    report: dict[str, Any] = dict.fromkeys(REPORT_FIELDS)
    report.update({name: [] for name in LIST_FIELDS}, details={}, definitions=DEFINITIONS)
    unknown = set(known) - set(REPORT_FIELDS)
    if unknown:
        raise KeyError(f"not in the report schema: {sorted(unknown)}")
    report.update(scenario=scenario, target=target, **known)
    return report


def _fault_figures(timeline: RunTimeline, history: History, slo: Slo) -> dict[str, Any]:
    fault_at = timeline.fault_at
    observed = timeline.observed_until or max(timeline.ended_at, timeline.started_at)
    if fault_at is None:
        return {"recovered_at": None, "time_to_recover_s": None, "error_window_s": 0.0,
                "first_error_at": None, "last_error_at": None, "p99_ms_during_fault": None,
                "availability_during_fault": None}
    recovered = stats.recovered_at(history.attempts, fault_at, observed, slo.min_clean_s)
    err_s, first_err, last_err = stats.error_window(history.attempts, fault_at, observed)
    fault_end = timeline.fault_ended_at or fault_at
    until = max(fault_end, recovered if recovered is not None else observed, fault_at + 5.0)
    during = stats.window(history.attempts, fault_at, until)
    return {
        "recovered_at": _iso(recovered),
        "time_to_recover_s": _round(recovered - fault_at, 2) if recovered is not None else None,
        "error_window_s": round(err_s, 3),
        "first_error_at": _iso(first_err),
        "last_error_at": _iso(last_err),
        "p99_ms_during_fault": _round(during.p99_ms),
        "availability_during_fault": (
            None if during.availability is None else round(during.availability, 5)),
    }


def _steady_state(timeline: RunTimeline, history: History, slo: Slo) -> dict[str, Any]:
    t0, fault_at = timeline.started_at, timeline.fault_at
    observed = timeline.observed_until or max(timeline.ended_at, t0)
    steady_from = timeline.steady_from if timeline.steady_from is not None else t0
    before = probe(history, steady_from, fault_at if fault_at is not None else observed, slo)
    after = None
    if fault_at is not None:
        start = max(t0, observed - slo.probe_window_s, timeline.fault_ended_at or fault_at)
        after = probe(history, start, observed, slo)
    return {
        "steady_state": {"before": before, "after": after},
        "slo": {"availability": slo.availability, "p99_ms": slo.p99_ms,
                "probe_window_s": slo.probe_window_s},
        "slo_met": before["ok"] and (after is None or after["ok"]),
    }


def _load_figures(timeline: RunTimeline, history: History) -> dict[str, Any]:
    end = max(timeline.ended_at, timeline.started_at)
    whole = stats.window(history.attempts, timeline.started_at, end + 3600.0)
    started = len(history.orders)
    acknowledged = len({a.key for a in history.acks})
    backlog = backlog_figures(timeline)
    return {
        "acknowledged": acknowledged,
        "orders_started": started,
        "order_success_ratio": round(acknowledged / started, 5) if started else None,
        "gave_up": sum(1 for o in history.outcomes if o.kind == "gave_up"),
        "rejected": sum(1 for o in history.outcomes if o.kind == "rejected"),
        "requests": whole.requests,
        "failed_requests": whole.failed,
        "availability": None if whole.availability is None else round(whole.availability, 5),
        "p50_ms": _round(whole.p50_ms),
        "p99_ms": _round(whole.p99_ms),
        "outbox_backlog_baseline": backlog["baseline"],
        "outbox_backlog_max": backlog["max"],
        "backlog_recovered_at": _iso(backlog["recovered_at"]),
    }


CHECKER_COUNTS = ("lost", "duplicated", "orphaned", "undelivered", "double_processed",
                  "mismatched", "unexpected", "unaudited", "in_doubt_committed")


def _checker_fields(check: CheckResult | None) -> dict[str, Any]:
    if check is None:
        return {}
    queue = check.queue
    return {
        **{name: getattr(check, name) for name in CHECKER_COUNTS},
        "acknowledged": check.acknowledged,
        "audit_chain_ok": check.audit_chain_ok,
        "audit_detail": check.audit_detail,
        "checker_result": check.result,
        "queue": None if queue is None else {
            "visible": queue.visible, "in_flight": queue.in_flight, "dlq": queue.dlq},
        "checker_samples": {k: v for k, v in check.samples.items() if v},
    }


def build_report(
    timeline: RunTimeline,
    history: History,
    check: CheckResult | None,
    slo: Slo | None = None,
) -> dict[str, Any]:
    """The local run's report: every schema field from the timeline, history and checker."""
    slo = slo or Slo()
    end = max(timeline.ended_at, timeline.started_at)
    report = empty_report(
        timeline.scenario, timeline.target, description=timeline.description,
        started_at=_iso(timeline.started_at), fault_at=_iso(timeline.fault_at),
        fault_ended_at=_iso(timeline.fault_ended_at or timeline.fault_at),
        observed_until=_iso(timeline.observed_until or end), ended_at=_iso(end),
        drain=timeline.drain, actions=timeline.actions, notes=timeline.notes,
        phases=timeline.phases, expected_alerts=list(timeline.expected_alerts),
        checker_samples={},
    )
    report.update(_load_figures(timeline, history))
    report.update(_fault_figures(timeline, history, slo))
    report.update(_steady_state(timeline, history, slo))
    report.update(_checker_fields(check))
    verdict, reason = run_verdict(check, timeline.aborted, report["rejected"],
                                  unrecovered=timeline.unrecovered)
    alert_report = alerting.alert_fields(
        timeline.alerts, fault_at=timeline.fault_at,
        started_at=(timeline.steady_from if timeline.steady_from is not None
                    else timeline.started_at),
        observed_until=timeline.observed_until or end, expected=timeline.expected_alerts)
    findings = alert_report.pop("alert_findings")
    report.update(alert_report)
    verdict, reason = alerting.judge(verdict, reason, findings,
                                     observed=alert_report["alerts_observed"],
                                     expected=timeline.expected_alerts)
    report.update(verdict=verdict, verdict_reason=reason)
    return report


def backlog_figures(timeline: RunTimeline) -> dict[str, Any]:
    samples = [(t, n) for t, _, n in timeline.backlog if n is not None]
    if not samples:
        return {"baseline": None, "max": None, "recovered_at": None}
    fault_at = timeline.fault_at
    warm = [n for t, n in samples if fault_at is None or t < fault_at]
    baseline = max(warm) if warm else 0
    peak = max(n for _, n in samples)
    recovered: float | None = None
    if fault_at is not None:
        after = [(t, n) for t, n in samples if t >= (timeline.fault_ended_at or fault_at)]
        if after:
            peak_t = max(after, key=lambda s: s[1])[0]
            recovered = next((t for t, n in after if t >= peak_t and n <= baseline), None)
    return {"baseline": baseline, "max": peak, "recovered_at": recovered}


def series_json(history: History, timeline: RunTimeline) -> list[dict[str, Any]]:
    last = max([timeline.ended_at, timeline.started_at, *(t for t, _, _ in timeline.backlog)])
    end = last + 1.0
    backlog: dict[int, int | None] = {}
    for t, _, unprocessed in timeline.backlog:
        backlog[math.floor(t - timeline.started_at)] = unprocessed
    return [
        {"second": b.second, "requests": b.requests, "failed": b.failed, "acks": b.acks,
         "p50_ms": _round(b.p50_ms), "p99_ms": _round(b.p99_ms),
         "outbox_backlog": backlog.get(b.second)}
        for b in stats.per_second(history.attempts, history.acks, timeline.started_at, end)
    ]



# The module docstring lists the definitions, so `pydoc chaos.drill.report` shows them.
__doc__ = (__doc__ or "") + "\n" + "\n".join(f"- {k}: {v}." for k, v in DEFINITIONS.items())

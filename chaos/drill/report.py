"""Drill reports: one JSON object, a Markdown summary and a PNG timeline per run, and a
summary (Markdown + JSON) across the runs of one `python -m chaos drill` invocation.

Field definitions (also written into every report under `definitions`):
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.drill import stats
from chaos.drill.checker import CheckResult
from chaos.drill.records import History, to_iso

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
    "time_to_recover_s": "recovered_at - fault_at",
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
        "latency over a window: 'before' = the warm-up [started_at, fault_at), 'after' = the "
        "last probe_window_s of the observation window"
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
    "verdict": (
        "failed: the checker found an anomaly (lost, duplicated, mismatched, unexpected, "
        "orphaned, unaudited, undelivered, double-processed) or the audit chain is broken; "
        "aborted: steady state did not hold before the fault (nothing injected) or did not "
        "return after it; passed: otherwise"
    ),
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
    fault_at: float | None = None
    fault_ended_at: float | None = None
    observed_until: float = 0.0  # end of the measured method phase (before the rollback)
    ended_at: float = 0.0  # load generator stopped
    actions: list[dict[str, Any]] = field(default_factory=list)
    aborted: str | None = None  # why the experiment was aborted
    drain: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # (t, unpublished, unprocessed) of the run's outbox rows, sampled once a second.
    backlog: list[tuple[float, int | None, int | None]] = field(default_factory=list)

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


def build_report(
    timeline: RunTimeline,
    history: History,
    check: CheckResult | None,
    slo: Slo | None = None,
) -> dict[str, Any]:
    slo = slo or Slo()
    t0 = timeline.started_at
    end = max(timeline.ended_at, t0)
    whole = stats.window(history.attempts, t0, end + 3600.0)  # completions after stop count
    fault_at = timeline.fault_at
    observed = timeline.observed_until or end

    recovered: float | None = None
    err_s, first_err, last_err = 0.0, None, None
    during: stats.WindowStats | None = None
    if fault_at is not None:
        recovered = stats.recovered_at(history.attempts, fault_at, observed, slo.min_clean_s)
        err_s, first_err, last_err = stats.error_window(history.attempts, fault_at, observed)
        fault_end = timeline.fault_ended_at or fault_at
        until = max(fault_end, recovered if recovered is not None else observed, fault_at + 5.0)
        during = stats.window(history.attempts, fault_at, until)

    before = probe(history, t0, fault_at if fault_at is not None else observed, slo)
    after_start = max(t0, observed - slo.probe_window_s)
    if fault_at is not None:
        after_start = max(after_start, timeline.fault_ended_at or fault_at)
    after = probe(history, after_start, observed, slo) if fault_at is not None else None
    slo_met = before["ok"] and (after is None or after["ok"])

    backlog = backlog_figures(timeline)
    gave_up = sum(1 for o in history.outcomes if o.kind == "gave_up")
    rejected = sum(1 for o in history.outcomes if o.kind == "rejected")
    started_orders = len(history.orders)
    acknowledged = check.acknowledged if check else len({a.key for a in history.acks})

    verdict, reason = "passed", "no anomaly; steady state held before and after the fault"
    if check is not None and not check.ok:
        verdict = "failed"
        reason = "checker found: " + ", ".join(f"{k}={v}" for k, v in check.violations.items())
    elif timeline.aborted:
        verdict, reason = "aborted", timeline.aborted
    elif check is None:
        verdict, reason = "aborted", "the checker did not run"
    if rejected and verdict == "passed":
        reason += f"; note: {rejected} orders were rejected with a non-retryable 4xx"

    report: dict[str, Any] = {
        "scenario": timeline.scenario,
        "description": timeline.description,
        "target": timeline.target,
        "started_at": _iso(t0),
        "fault_at": _iso(fault_at),
        "fault_ended_at": _iso(timeline.fault_ended_at or fault_at),
        "recovered_at": _iso(recovered),
        "observed_until": _iso(observed),
        "ended_at": _iso(end),
        "time_to_recover_s": (
            _round(recovered - fault_at, 2) if recovered is not None and fault_at else None
        ),
        "acknowledged": acknowledged,
        "orders_started": started_orders,
        "order_success_ratio": round(acknowledged / started_orders, 5) if started_orders else None,
        "gave_up": gave_up,
        "rejected": rejected,
        "requests": whole.requests,
        "failed_requests": whole.failed,
        "lost": check.lost if check else None,
        "duplicated": check.duplicated if check else None,
        "orphaned": check.orphaned if check else None,
        "undelivered": check.undelivered if check else None,
        "double_processed": check.double_processed if check else None,
        "mismatched": check.mismatched if check else None,
        "unexpected": check.unexpected if check else None,
        "unaudited": check.unaudited if check else None,
        "in_doubt_committed": check.in_doubt_committed if check else None,
        "audit_chain_ok": check.audit_chain_ok if check else None,
        "audit_detail": check.audit_detail if check else None,
        "error_window_s": round(err_s, 3),
        "first_error_at": _iso(first_err),
        "last_error_at": _iso(last_err),
        "availability": None if whole.availability is None else round(whole.availability, 5),
        "p50_ms": _round(whole.p50_ms),
        "p99_ms": _round(whole.p99_ms),
        "p99_ms_during_fault": _round(during.p99_ms) if during else None,
        "availability_during_fault": (
            round(during.availability, 5) if during and during.availability is not None else None
        ),
        "outbox_backlog_baseline": backlog["baseline"],
        "outbox_backlog_max": backlog["max"],
        "backlog_recovered_at": _iso(backlog["recovered_at"]),
        "steady_state": {"before": before, "after": after},
        "slo": {
            "availability": slo.availability, "p99_ms": slo.p99_ms,
            "probe_window_s": slo.probe_window_s,
        },
        "slo_met": slo_met,
        "verdict": verdict,
        "verdict_reason": reason,
        "drain": timeline.drain,
        "queue": (
            None if check is None or check.queue is None
            else {"visible": check.queue.visible, "in_flight": check.queue.in_flight,
                  "dlq": check.queue.dlq}
        ),
        "checker_samples": {k: v for k, v in (check.samples if check else {}).items() if v},
        "actions": timeline.actions,
        "notes": timeline.notes,
        "definitions": DEFINITIONS,
    }
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


def plot_timeline(
    series: Sequence[dict[str, Any]], report: dict[str, Any], timeline: RunTimeline, path: Path
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = timeline.started_at
    xs = [s["second"] + 0.5 for s in series]
    has_backlog = any(s.get("outbox_backlog") is not None for s in series)
    rows = 4 if has_backlog else 3
    fig, axes = plt.subplots(rows, 1, figsize=(11, 2.5 * rows), sharex=True)
    ax_tp, ax_err, ax_lat = axes[0], axes[1], axes[2]
    ax_tp.plot(xs, [s["acks"] for s in series], color="tab:blue", label="orders acknowledged/s")
    ax_tp.plot(xs, [s["requests"] for s in series], color="tab:gray", linewidth=0.8,
               label="requests/s (incl. retries)")
    ax_tp.set_ylabel("per second")
    ax_tp.legend(loc="upper right", fontsize=8)
    ax_err.bar(xs, [s["failed"] for s in series], width=0.9, color="tab:red",
               label="failed requests/s")
    ax_err.set_ylabel("errors/s")
    ax_err.legend(loc="upper right", fontsize=8)
    p99 = [math.nan if s["p99_ms"] is None else s["p99_ms"] for s in series]
    ax_lat.plot(xs, p99, color="tab:purple", label="P99 latency (ms)")
    slo_ms = report.get("slo", {}).get("p99_ms")
    if slo_ms:
        ax_lat.axhline(slo_ms, color="black", linestyle=":", linewidth=1,
                       label=f"SLO {slo_ms:g} ms")
    ax_lat.set_ylabel("ms")
    if any(not math.isnan(v) and v > 0 for v in p99):
        ax_lat.set_yscale("log")
    ax_lat.legend(loc="upper right", fontsize=8)
    if has_backlog:
        ax_bl = axes[3]
        ax_bl.plot(xs, [math.nan if s.get("outbox_backlog") is None else s["outbox_backlog"]
                        for s in series],
                   color="tab:brown", label="outbox events not yet processed (run's)")
        ax_bl.set_ylabel("backlog")
        ax_bl.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("seconds since load start")

    marks = [
        (timeline.fault_at, "tab:red", "-", "fault"),
        (timeline.fault_ended_at if timeline.fault_ended_at != timeline.fault_at else None,
         "tab:orange", "--", "fault ended"),
        (_epoch(report.get("recovered_at")), "tab:green", "-", "recovered"),
        (timeline.observed_until, "tab:gray", ":", "rollback"),
    ]
    for ax in axes:
        for ts, color, style, label in marks:
            if ts is not None:
                ax.axvline(ts - t0, color=color, linestyle=style, linewidth=1.2,
                           label=None if ax is not ax_tp else label)
        first, last = _epoch(report.get("first_error_at")), _epoch(report.get("last_error_at"))
        if first is not None and last is not None:
            ax.axvspan(first - t0, last - t0, color="tab:red", alpha=0.08)
    ax_tp.legend(loc="upper right", fontsize=8)
    title = (
        f"{report['scenario']}: {report['verdict']} | acked {report['acknowledged']}, "
        f"lost {report['lost']}, dup {report['duplicated']} | error window "
        f"{report['error_window_s']:.1f}s | P99 during fault {report['p99_ms_during_fault']} ms"
    )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _epoch(iso: str | None) -> float | None:
    if iso is None:
        return None
    from chaos.drill.records import from_iso

    return from_iso(iso)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.1f}"
    return str(value)


def markdown(report: dict[str, Any], png_name: str | None = None) -> str:
    r = report
    lines = [
        f"# Drill `{r['scenario']}`: **{r['verdict'].upper()}**",
        "",
        r.get("description") or "",
        "",
        f"Verdict: {r['verdict_reason']}.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    rows = [
        ("started_at", r["started_at"]), ("fault_at", r["fault_at"]),
        ("fault_ended_at", r["fault_ended_at"]), ("recovered_at", r["recovered_at"]),
        ("time_to_recover_s", r["time_to_recover_s"]),
        ("error_window_s", r["error_window_s"]),
        ("acknowledged orders", r["acknowledged"]), ("orders started", r["orders_started"]),
        ("in-doubt orders that committed", r["in_doubt_committed"]),
        ("gave up / rejected", f"{r['gave_up']} / {r['rejected']}"),
        ("lost", r["lost"]), ("duplicated", r["duplicated"]), ("orphaned", r["orphaned"]),
        ("undelivered", r["undelivered"]), ("double_processed", r["double_processed"]),
        ("mismatched / unexpected / unaudited",
         f"{_fmt(r['mismatched'])} / {_fmt(r['unexpected'])} / {_fmt(r['unaudited'])}"),
        ("audit chain intact", r["audit_chain_ok"]),
        ("requests (failed)", f"{r['requests']} ({r['failed_requests']})"),
        ("availability", r["availability"]),
        ("P50 / P99 ms", f"{_fmt(r['p50_ms'])} / {_fmt(r['p99_ms'])}"),
        ("P99 ms during fault", r["p99_ms_during_fault"]),
        ("availability during fault", r["availability_during_fault"]),
        ("SLO met (steady state before and after)", r["slo_met"]),
        ("outbox backlog: warm-up baseline / peak",
         f"{_fmt(r['outbox_backlog_baseline'])} / {_fmt(r['outbox_backlog_max'])}"),
        ("backlog back to baseline at", r["backlog_recovered_at"]),
    ]
    lines += [f"| {name} | {_fmt(value)} |" for name, value in rows]
    lines += ["", "## Steady-state hypothesis", ""]
    lines += [
        "| probe | window | requests | availability | P99 ms | held |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("before", "after"):
        p = r["steady_state"].get(name)
        if p:
            lines.append(
                f"| {name} | {p['window_start']} → {p['window_end']} | {p['requests']} | "
                f"{_fmt(p['availability'])} | {_fmt(p['p99_ms'])} | {_fmt(p['ok'])} |"
            )
    slo = r["slo"]
    lines += [
        "",
        f"Thresholds: availability ≥ {slo['availability']}, P99 < {slo['p99_ms']} ms.",
        "",
    ]
    if png_name:
        lines += ["## Timeline", "", f"![timeline]({png_name})", ""]
    lines += ["## Method and rollback (journal)", ""]
    lines += [f"- {a['t']} {a['action']}"
              + "".join(f" {k}={v}" for k, v in a.items() if k not in ("t", "action"))
              for a in r["actions"]]
    if r.get("drain"):
        lines += ["", "Drain: " + ", ".join(f"{k}={v}" for k, v in r["drain"].items())]
    if r.get("queue"):
        lines += ["", "Queue afterwards: " + ", ".join(f"{k}={v}" for k, v in r["queue"].items())]
    if r.get("audit_detail"):
        lines += ["", f"Audit chain: {r['audit_detail']}"]
    if r.get("checker_samples"):
        lines += ["", "## Checker findings (samples)", ""]
        for name, sample in r["checker_samples"].items():
            lines.append(f"- **{name}**: " + ", ".join(sample))
    if r.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in r["notes"]]
    lines += ["", "## Definitions", ""]
    lines += [f"- **{k}**: {v}." for k, v in r["definitions"].items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RunFiles:
    json: Path
    markdown: Path
    png: Path
    series: Path


def write_run(
    out_dir: Path, report: dict[str, Any], history: History, timeline: RunTimeline
) -> RunFiles:
    """reports/<...>/<scenario>/: report.json, report.md, timeline.png, series.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    series = series_json(history, timeline)
    files = RunFiles(
        json=out_dir / "report.json",
        markdown=out_dir / "report.md",
        png=out_dir / "timeline.png",
        series=out_dir / "series.json",
    )
    plot_timeline(series, report, timeline, files.png)
    report = {**report, "files": {k: str(v) for k, v in vars(files).items()}}
    files.json.write_text(json.dumps(report, indent=2) + "\n")
    files.series.write_text(json.dumps(series) + "\n")
    files.markdown.write_text(markdown(report, files.png.name))
    return files


SUMMARY_COLUMNS = (
    "scenario", "verdict", "acknowledged", "lost", "duplicated", "orphaned", "undelivered",
    "double_processed", "audit_chain_ok", "error_window_s", "time_to_recover_s",
    "availability", "p50_ms", "p99_ms", "p99_ms_during_fault", "slo_met",
)


def overall_verdict(reports: Sequence[dict[str, Any]]) -> str:
    verdicts = {r["verdict"] for r in reports}
    if "failed" in verdicts:
        return "failed"
    if "aborted" in verdicts or not reports:
        return "aborted"
    return "passed"


def exit_code(reports: Sequence[dict[str, Any]]) -> int:
    """1: an anomaly or a broken audit chain; 2: a run aborted; 0: all passed."""
    return {"failed": 1, "aborted": 2, "passed": 0}[overall_verdict(reports)]


def write_summary(out_dir: Path, reports: Sequence[dict[str, Any]]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [{c: r.get(c) for c in SUMMARY_COLUMNS} for r in reports]
    verdict = overall_verdict(reports)
    summary = {"verdict": verdict, "runs": rows}
    json_path = out_dir / "summary.json"
    json_path.write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        f"# Drill summary: **{verdict.upper()}**",
        "",
        "| " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|" + "---|" * len(SUMMARY_COLUMNS),
    ]
    for row in rows:
        cells = [
            f"[{row['scenario']}]({row['scenario']}/report.md)" if c == "scenario"
            else _fmt(row[c]) for c in SUMMARY_COLUMNS
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Definitions: see any report's Definitions section or chaos/drill/report.py."]
    md_path = out_dir / "summary.md"
    md_path.write_text("\n".join(lines) + "\n")
    return json_path, md_path


# The module docstring lists the definitions, so `pydoc chaos.drill.report` shows them.
__doc__ = (__doc__ or "") + "\n" + "\n".join(f"- {k}: {v}." for k, v in DEFINITIONS.items())

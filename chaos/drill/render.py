"""Markdown renderings of drill reports: one per run, and the summary across runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

SUMMARY_COLUMNS = (
    "scenario", "verdict", "acknowledged", "lost", "duplicated", "orphaned", "undelivered",
    "double_processed", "audit_chain_ok", "error_window_s", "time_to_recover_s",
    "availability", "p50_ms", "p99_ms", "p99_ms_during_fault", "slo_met",
    "expected_alerts_met",
)


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
    lines += alerts_section(r)
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


def alerts_section(r: dict[str, Any]) -> list[str]:
    """The alerts table: every alert Alertmanager held during the run, and the verdict on
    the scenario's expected ones."""
    expected = r.get("expected_alerts") or []
    met = _fmt(r.get("expected_alerts_met"))
    lines = ["## Alerts", "", f"Expected: {', '.join(expected) or 'none'}; met: {met}."]
    if not r.get("alerts_observed"):
        return [*lines, "", "Alerts were not observed (no Prometheus/Alertmanager).", ""]
    fault_at = r.get("fault_at")
    lines += ["", "| alert | severity | fired_at | resolved_at | seconds after the fault |",
              "|---|---|---|---|---|"]
    for a in r.get("alerts") or []:
        after = None
        if fault_at:
            after = (datetime.fromisoformat(a["fired_at"])
                     - datetime.fromisoformat(fault_at)).total_seconds()
        mark = " (expected)" if a["name"] in expected else ""
        lines.append(f"| {a['name']}{mark} | {a['severity']} | {a['fired_at']} | "
                     f"{_fmt(a['resolved_at'])} | {_fmt(after)} |")
    if not r.get("alerts"):
        lines.append("| (none fired) | | | | |")
    detect = r.get("time_to_detect_s") or {}
    if detect:
        lines += ["", "Time to detect (fault to first firing): "
                  + ", ".join(f"{name} {s:g} s" for name, s in detect.items()) + "."]
    return [*lines, ""]


def summary_markdown(verdict: str, rows: Sequence[dict[str, Any]]) -> str:
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
    return "\n".join(lines) + "\n"

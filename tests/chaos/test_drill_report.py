"""Report arithmetic and files (JSON, Markdown, PNG, summary) on a synthetic history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.drill import stats
from chaos.drill.checker import CheckResult
from chaos.drill.files import write_run, write_summary
from chaos.drill.records import Ack, Attempt, History, OrderIntent, Outcome, from_iso
from chaos.drill.report import (
    REPORT_FIELDS,
    RUN_FIELDS,
    RunTimeline,
    Slo,
    build_report,
    empty_report,
)
from chaos.drill.verdict import exit_code

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def synthetic(
    *, outage: tuple[float, float] = (25.0, 29.0), seconds: int = 60, per_second: int = 20
) -> History:
    """20 orders/s for 60 s at 20 ms; during the outage every attempt fails (503 in 5 ms)
    and is retried after 100 ms until the outage ends, then succeeds in 40 ms."""
    history = History()
    for i in range(seconds * per_second):
        t = T0 + i / per_second
        key = f"k{i}"
        history.orders.append(OrderIntent(key, f"c{i}", "A", "p", t))
        n = 0
        while outage[0] <= t - T0 < outage[1]:
            n += 1
            history.attempts.append(Attempt(key, n, t, 0.005, 503, None, 0.1))
            t += 0.1
        latency = 0.040 if n else 0.020
        history.attempts.append(Attempt(key, n + 1, t, latency, 201))
        history.acks.append(Ack(key, f"id{i}", f"c{i}", "A", "p", t + latency))
    return history


def timeline(**overrides: object) -> RunTimeline:
    values: dict[str, object] = {
        "scenario": "db-primary-kill", "description": "synthetic", "started_at": T0,
        "fault_at": T0 + 25.0, "fault_ended_at": T0 + 25.0, "observed_until": T0 + 55.0,
        "ended_at": T0 + 60.0,
    }
    values.update(overrides)
    return RunTimeline(**values)  # type: ignore[arg-type]


def clean_check(history: History) -> CheckResult:
    return CheckResult(acknowledged=len(history.acks), attempted_orders=len(history.orders),
                       audit_chain_ok=True, audit_detail="chain intact")


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert stats.percentile(values, 99) == 99.0
    assert stats.percentile(values, 50) == 50.0
    assert stats.percentile([7.0], 99) == 7.0
    assert stats.percentile([], 99) is None


def test_report_fields_computed_from_the_history() -> None:
    history = synthetic()
    report = build_report(timeline(), history, clean_check(history))
    for name in RUN_FIELDS:
        assert name in report
    assert report["verdict"] == "passed" and report["slo_met"] is True
    assert report["acknowledged"] == 1200
    # Outage: every send in [25, 29) fails in 5 ms; the error window spans them.
    failures = [a for a in history.attempts if not a.ok]
    expected = max(a.t + a.latency_s for a in failures) - min(a.t for a in failures)
    assert report["error_window_s"] == pytest.approx(expected, abs=1e-3)
    assert 3.95 <= report["error_window_s"] <= 4.01
    assert from_iso(report["first_error_at"]) == pytest.approx(T0 + 25.0)
    # The first request sent after the last failure (retries of outage orders at ~29.0).
    last_failed_send = max(a.t for a in failures)
    first_ok_after = min(a.t for a in history.attempts if a.t > last_failed_send)
    assert from_iso(report["recovered_at"]) == pytest.approx(first_ok_after, abs=1e-5)
    assert 29.0 <= first_ok_after - T0 <= 29.11
    assert report["time_to_recover_s"] == pytest.approx(first_ok_after - T0 - 25.0, abs=0.01)
    failed = sum(1 for a in history.attempts if not a.ok)
    assert report["failed_requests"] == failed
    assert report["availability"] == pytest.approx(1200 / (1200 + failed), abs=1e-5)
    latencies = sorted(a.latency_ms for a in history.attempts)
    rank = -(-len(latencies) * 50 // 100)  # nearest rank: ceil(0.5 n)
    assert report["p50_ms"] == pytest.approx(round(latencies[rank - 1], 1))
    assert report["p99_ms"] == pytest.approx(40.0)
    assert report["p99_ms_during_fault"] == pytest.approx(40.0)
    before, after = report["steady_state"]["before"], report["steady_state"]["after"]
    assert before["ok"] and after["ok"]
    assert before["availability"] == 1.0 and before["requests"] == 500
    assert from_iso(after["window_start"]) == pytest.approx(T0 + 45.0)


def test_no_failures_means_zero_error_window_and_immediate_recovery() -> None:
    history = synthetic(outage=(0, 0))
    report = build_report(timeline(), history, clean_check(history))
    assert report["error_window_s"] == 0.0 and report["first_error_at"] is None
    assert from_iso(report["recovered_at"]) == pytest.approx(T0 + 25.0, abs=0.051)
    assert report["availability"] == 1.0


def test_outage_that_never_ends_is_not_recovered_and_aborts() -> None:
    history = synthetic(outage=(25.0, 70.0))
    tl = timeline(aborted="steady state did not return within 30 s after the fault")
    report = build_report(tl, history, clean_check(history))
    assert report["recovered_at"] is None
    assert report["steady_state"]["after"]["ok"] is False
    assert report["slo_met"] is False
    assert report["verdict"] == "aborted"
    assert exit_code([report]) == 2


def test_checker_findings_fail_the_run() -> None:
    history = synthetic()
    check = clean_check(history)
    check.lost, check.samples["lost"] = 2, ["id1", "id2"]
    report = build_report(timeline(), history, check)
    assert report["verdict"] == "failed" and "lost=2" in report["verdict_reason"]
    assert exit_code([report]) == 1
    check = clean_check(history)
    check.audit_chain_ok = False
    assert build_report(timeline(), history, check)["verdict"] == "failed"


def test_an_unverified_audit_log_is_unknown_never_passed() -> None:
    history = synthetic()
    check = clean_check(history)
    check.audit_chain_ok, check.audit_detail = None, "exit 2: no checkpoint store reachable"
    report = build_report(timeline(), history, check)
    assert report["checker_result"] == "unknown"
    assert report["verdict"] == "unknown" and "not verified" in report["verdict_reason"]
    assert exit_code([report]) == 2
    assert exit_code([report, build_report(timeline(), history, clean_check(history))]) == 2


def test_one_schema_for_every_report() -> None:
    history = synthetic()
    report = build_report(timeline(), history, clean_check(history))
    assert tuple(report) == REPORT_FIELDS
    assert (report["alerts"], report["expected_alerts_met"]) == ([], None)
    assert tuple(empty_report("x", "aws")) == REPORT_FIELDS
    with pytest.raises(KeyError, match="not in the report schema"):
        empty_report("x", "local", invented=1)


def test_slow_warm_up_fails_the_before_probe() -> None:
    history = synthetic(outage=(0, 0))
    report = build_report(timeline(), history, clean_check(history), Slo(p99_ms=15.0))
    assert report["steady_state"]["before"]["ok"] is False
    assert report["slo_met"] is False


def test_gave_up_and_rejected_are_counted() -> None:
    history = synthetic()
    history.outcomes += [Outcome("gave_up", "k1", T0, "x"), Outcome("rejected", "k2", T0, "y")]
    report = build_report(timeline(), history, clean_check(history))
    assert (report["gave_up"], report["rejected"]) == (1, 1)


def test_outbox_backlog_figures() -> None:
    history = synthetic(outage=(0, 0))
    tl = timeline(fault_ended_at=T0 + 30.0)
    # Warm-up hovers at 3-5 unprocessed; the outage piles up to 120; back to 4 at t=41.
    tl.backlog = [(T0 + s, 0, 3 + s % 3) for s in range(25)]
    tl.backlog += [(T0 + 25 + s, 20 * s, 20 * s) for s in range(7)]  # peak 120 at t=31
    tl.backlog += [(T0 + 32, None, None)]  # the database unreadable for a moment
    tl.backlog += [(T0 + 33 + s, 0, max(4, 100 - 12 * s)) for s in range(20)]
    report = build_report(tl, history, clean_check(history))
    assert report["outbox_backlog_baseline"] == 5
    assert report["outbox_backlog_max"] == 120
    assert from_iso(report["backlog_recovered_at"]) == pytest.approx(T0 + 41.0)
    from chaos.drill.report import series_json

    series = series_json(history, tl)
    assert series[31]["outbox_backlog"] == 120 and series[32]["outbox_backlog"] is None


def test_files_written_and_summary(tmp_path: Path) -> None:
    history = synthetic()
    tl = timeline()
    tl.backlog = [(T0 + s + 0.5, 0, 5 if not 25 <= s < 29 else 40) for s in range(60)]
    tl.journal(T0 + 25.0, "kill", component="pg-a", signal="SIGKILL")
    report = build_report(tl, history, clean_check(history))
    files = write_run(tmp_path / "db-primary-kill", report, history, tl)
    for path in (files.json, files.markdown, files.png, files.series):
        assert path.exists() and path.stat().st_size > 0
    assert files.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(files.json.read_text())
    assert saved["verdict"] == "passed" and saved["files"]["png"] == str(files.png)
    series = json.loads(files.series.read_text())
    assert len(series) == 61
    assert sum(s["acks"] for s in series) == 1200
    assert series[26]["failed"] > 0 and series[10]["failed"] == 0
    md = files.markdown.read_text()
    assert "PASSED" in md and "timeline.png" in md and "kill component=pg-a" in md
    assert "error_window_s" in md and "Definitions" in md

    second = {**report, "scenario": "redis-primary-kill", "verdict": "aborted"}
    json_path, md_path = write_summary(tmp_path, [report, second])
    summary = json.loads(json_path.read_text())
    assert summary["verdict"] == "aborted"
    assert [r["scenario"] for r in summary["runs"]] == ["db-primary-kill", "redis-primary-kill"]
    assert "[redis-primary-kill](redis-primary-kill/report.md)" in md_path.read_text()

"""Run AWS scenarios: plan, pre-check, fault, recovery, rollback, and a report per run.

`execute(scenario, observer)` is what a caller wraps load around: the observer hears
each phase (`pre_checked`, `injected`, `recovered`, `rolled_back`) and may add the load
generator's and checker's figures to the returned report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from chaos.aws.scenarios import AwsScenario, NotRecovered, PreCheckFailed

# Fields of the local drill report that need the load generator and the checker; the AWS
# runner alone cannot measure them and reports them as null.
LOAD_FIELDS = (
    "acknowledged",
    "lost",
    "duplicated",
    "orphaned",
    "undelivered",
    "double_processed",
    "error_window_s",
    "availability",
    "p50_ms",
    "p99_ms",
    "p99_ms_during_fault",
    "slo_met",
)

PASSED, FAILED, ABORTED, REFUSED, NOT_SUPPORTED, DRY_RUN = (
    "passed",
    "failed",
    "aborted",
    "refused",
    "not-supported",
    "dry-run",
)


class DrillObserver(Protocol):
    def on_phase(self, scenario: AwsScenario, phase: str, report: dict[str, Any]) -> None: ...


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def execute(scenario: AwsScenario, observer: DrillObserver | None = None) -> dict[str, Any]:
    """Run one scenario end to end and return its report (never raises for drill faults)."""
    ctx = scenario.ctx
    clock = ctx.calls.clock
    emit = ctx.emit
    first_call = len(ctx.calls.calls)
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "target": "aws",
        "title": scenario.title,
        "hypothesis": scenario.hypothesis,
        "aws_fault": scenario.aws_fault,
        "dry_run": ctx.dry_run,
        "started_at": _iso(clock.now()),
        "fault_at": None,
        "recovered_at": None,
        "recovery_s": None,
        **dict.fromkeys(LOAD_FIELDS),
        "verdict": None,
        "verdict_reason": None,
    }

    def phase(name: str) -> None:
        if observer is not None:
            observer.on_phase(scenario, name, report)

    emit(f"== {scenario.name}: {scenario.title}")
    for line in scenario.plan():
        emit(f"#  {line}")

    refusal = scenario.refusal()
    if refusal:
        report.update(verdict=REFUSED, verdict_reason=refusal)
        emit(refusal)
        return _finish(scenario, report, first_call)
    if not scenario.supported:
        reason = f"not supported on AWS: {getattr(scenario, 'reason', '')}"
        report.update(verdict=NOT_SUPPORTED, verdict_reason=reason)
        emit(reason)
        return _finish(scenario, report, first_call)

    try:
        scenario.pre_check()
    except PreCheckFailed as exc:
        report.update(verdict=ABORTED,
                      verdict_reason=f"pre-check failed, nothing injected: {exc}")
        emit(report["verdict_reason"])
        return _finish(scenario, report, first_call)
    except Exception as exc:  # an AWS error or an unexpected answer: still nothing injected
        report.update(verdict=ABORTED,
                      verdict_reason=f"pre-check failed, nothing injected: {_error(exc)}")
        emit(report["verdict_reason"])
        return _finish(scenario, report, first_call)
    phase("pre_checked")

    fault_at: datetime | None = None
    try:
        fault_at = clock.now()
        scenario.injected = True
        scenario.inject()
        report["fault_at"] = _iso(fault_at)
        phase("injected")
        scenario.wait_recovered()
        recovered_at = clock.now()
        if ctx.dry_run:
            report.update(fault_at=None, verdict=DRY_RUN)
        else:
            report["recovered_at"] = _iso(recovered_at)
            report["recovery_s"] = round((recovered_at - fault_at).total_seconds(), 1)
            report["verdict"] = PASSED
        phase("recovered")
    except NotRecovered as exc:
        report.update(verdict=FAILED, verdict_reason=f"steady state did not return: {exc}")
    except Exception as exc:  # AWS/HTTP errors and surprises alike: report, then roll back
        stage = "recovery" if report["fault_at"] else "fault injection"
        report.update(verdict=FAILED, verdict_reason=f"{stage} failed: {_error(exc)}")
    finally:
        try:
            scenario.rollback()
        except Exception as exc:
            reason = f"rollback failed: {_error(exc)}"
            if report["verdict_reason"]:
                reason = f"{report['verdict_reason']}; {reason}"
            report.update(verdict=FAILED, verdict_reason=reason)
        phase("rolled_back")
    if report["verdict_reason"]:
        emit(report["verdict_reason"])
    return _finish(scenario, report, first_call)


def _finish(scenario: AwsScenario, report: dict[str, Any], first_call: int) -> dict[str, Any]:
    calls = scenario.ctx.calls.calls[first_call:]
    report["details"] = dict(scenario.facts)
    report["notes"] = list(scenario.notes)
    report["aws_calls"] = [json.loads(c.to_json()) | {"at": c.at} for c in calls if c.mutating]
    scenario.ctx.emit(f"verdict: {report['verdict']}")
    return report


def exit_code(reports: Iterable[dict[str, Any]]) -> int:
    """As the local drill: 1 any failed; 2 any aborted, refused or not supported; else 0."""
    verdicts = [r["verdict"] for r in reports]
    if FAILED in verdicts:
        return 1
    if any(v in (ABORTED, REFUSED, NOT_SUPPORTED) for v in verdicts):
        return 2
    return 0


def summary_markdown(reports: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | verdict | fault_at | recovered_at | recovery_s | reason |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        reason = (r.get("verdict_reason") or "").replace("|", "/")
        lines.append(
            f"| {r['scenario']} | {r['verdict']} | {r['fault_at'] or '-'} | "
            f"{r['recovered_at'] or '-'} | "
            f"{'-' if r['recovery_s'] is None else r['recovery_s']} | {reason} |"
        )
    return "\n".join(lines) + "\n"


def write_reports(reports: list[dict[str, Any]], directory: Path, stamp: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for r in reports:
        path = directory / f"aws-{r['scenario']}-{stamp}.json"
        path.write_text(json.dumps(r, indent=2, sort_keys=True, default=str) + "\n")
        written.append(path)
    summary = directory / f"aws-summary-{stamp}.md"
    summary.write_text("# AWS drill summary\n\n" + summary_markdown(reports))
    written.append(summary)
    return written

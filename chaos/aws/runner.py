"""Run AWS scenarios: plan, pre-check, fault, recovery, rollback, and a report per run.

`execute(scenario, observer)` is what a caller wraps load around: the observer hears
each phase (`pre_checked`, `injected`, `recovered`, `rolled_back`) and may add the load
generator's and checker's figures to the returned report. The report has the local
drill's schema (`chaos.drill.report.empty_report`); what needs the load generator and the
checker stays null, and `time_to_recover_s` is the time until the recovery probes held.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from chaos.aws.scenarios import AwsScenario, NotRecovered, PreCheckFailed
from chaos.drill.report import empty_report
from chaos.drill.verdict import ABORTED, DRY_RUN, FAILED, NOT_SUPPORTED, PASSED, REFUSED


class DrillObserver(Protocol):
    def on_phase(self, scenario: AwsScenario, phase: str, report: dict[str, Any]) -> None: ...


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _phase(report: dict[str, Any], name: str, at: datetime, outcome: str = "ok") -> None:
    """Journal a phase the same way the local runner does (report `phases`)."""
    report["phases"].append({"phase": name, "outcome": outcome, "started_at": _iso(at)})


def _gate(scenario: AwsScenario, report: dict[str, Any]) -> bool:
    """Refusal, no AWS implementation, failed pre-check: report why, inject nothing."""
    refusal = scenario.refusal()
    if refusal:
        report.update(verdict=REFUSED, verdict_reason=refusal)
        return False
    if not scenario.supported:
        report.update(verdict=NOT_SUPPORTED,
                      verdict_reason=f"not supported on AWS: {getattr(scenario, 'reason', '')}")
        return False
    started = scenario.ctx.calls.clock.now()
    try:
        scenario.pre_check()
    except PreCheckFailed as exc:
        reason = str(exc)
    except Exception as exc:  # an AWS error or an unexpected answer: still nothing injected
        reason = _error(exc)
    else:
        _phase(report, "pre-check", started)
        return True
    _phase(report, "pre-check", started, "aborted")
    report.update(verdict=ABORTED, verdict_reason=f"pre-check failed, nothing injected: {reason}")
    return False


def _inject_and_recover(scenario: AwsScenario, report: dict[str, Any],
                        phase: Callable[[str], None]) -> None:
    clock = scenario.ctx.calls.clock
    fault_at = clock.now()
    scenario.injected = True
    scenario.inject()
    report["fault_at"] = _iso(fault_at)
    _phase(report, "inject", fault_at)
    phase("injected")
    scenario.wait_recovered()
    recovered_at = clock.now()
    _phase(report, "recovery", recovered_at)
    if scenario.ctx.dry_run:
        report.update(fault_at=None, verdict=DRY_RUN)
    else:
        report["recovered_at"] = _iso(recovered_at)
        report["time_to_recover_s"] = round((recovered_at - fault_at).total_seconds(), 1)
        report["verdict"] = PASSED
    phase("recovered")


def _rollback(scenario: AwsScenario, report: dict[str, Any]) -> None:
    started = scenario.ctx.calls.clock.now()
    try:
        scenario.rollback()
    except Exception as exc:
        reason = f"rollback failed: {_error(exc)}"
        if report["verdict_reason"]:
            reason = f"{report['verdict_reason']}; {reason}"
        report.update(verdict=FAILED, verdict_reason=reason)
        _phase(report, "rollback", started, "error")
    else:
        _phase(report, "rollback", started)


def execute(scenario: AwsScenario, observer: DrillObserver | None = None) -> dict[str, Any]:
    """Run one scenario end to end and return its report (never raises for drill faults)."""
    ctx = scenario.ctx
    first_call = len(ctx.calls.calls)
    report = empty_report(
        scenario.name, "aws", title=scenario.title, hypothesis=scenario.hypothesis,
        method=scenario.aws_fault, dry_run=ctx.dry_run, started_at=_iso(ctx.calls.clock.now()),
    )

    def phase(name: str) -> None:
        if observer is not None:
            observer.on_phase(scenario, name, report)

    ctx.emit(f"== {scenario.name}: {scenario.title}")
    for line in scenario.plan():
        ctx.emit(f"#  {line}")
    if not _gate(scenario, report):
        ctx.emit(report["verdict_reason"])
        return _finish(scenario, report, first_call)
    phase("pre_checked")
    try:
        _inject_and_recover(scenario, report, phase)
    except NotRecovered as exc:
        report.update(verdict=FAILED, verdict_reason=f"steady state did not return: {exc}")
    except Exception as exc:  # AWS/HTTP errors and surprises alike: report, then roll back
        stage = "recovery" if report["fault_at"] else "fault injection"
        report.update(verdict=FAILED, verdict_reason=f"{stage} failed: {_error(exc)}")
    finally:
        _rollback(scenario, report)
        phase("rolled_back")
    if report["verdict_reason"]:
        ctx.emit(report["verdict_reason"])
    return _finish(scenario, report, first_call)


def _finish(scenario: AwsScenario, report: dict[str, Any], first_call: int) -> dict[str, Any]:
    calls = scenario.ctx.calls.calls[first_call:]
    report["details"] = dict(scenario.facts)
    report["notes"] = list(scenario.notes)
    report["aws_calls"] = [json.loads(c.to_json()) | {"at": c.at} for c in calls if c.mutating]
    scenario.ctx.emit(f"verdict: {report['verdict']}")
    return report


def summary_markdown(reports: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | verdict | fault_at | recovered_at | time_to_recover_s | reason |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        reason = (r.get("verdict_reason") or "").replace("|", "/")
        lines.append(
            f"| {r['scenario']} | {r['verdict']} | {r['fault_at'] or '-'} | "
            f"{r['recovered_at'] or '-'} | "
            f"{'-' if r['time_to_recover_s'] is None else r['time_to_recover_s']} | {reason} |"
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

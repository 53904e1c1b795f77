"""What an auditor files: per-control evidence by URN and honest framework statuses.

Shared by the JSON, Markdown and HTML renderings so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .evaluate import Evaluation, PolicyResult
from .framework import FRAMEWORKS, Framework

STATUS_MARK = {
    "pass": "PASS",
    "fail": "FAIL",
    "warn": "WARN (advisory finding)",
    "not-applicable": "N/A",
    "not-evaluated": "NOT EVALUATED",
    "not-tested": "NOT TESTED (disabled)",
}
STATUS_LEGEND = (
    "PASS = evaluated on every resource in scope without violation (exempted resources "
    "are listed separately, never counted as passed); WAIVED = every resource in scope is "
    "exempted by a waiver, so nothing was shown to pass; FAIL = a mandatory control is violated "
    "(blocks deployment); WARN = an advisory control found something (never shown as a "
    "pass); N/A = no resource of the control's types in the input; NOT EVALUATED = the "
    "check could not be decided (values unknown before deployment, or the check could not "
    "run); NOT TESTED = the control is disabled by config."
)


def control_status(result: PolicyResult) -> str:
    mark = STATUS_MARK.get(result.status, result.status)
    if result.status == "pass" and result.exempted:
        if not result.passed:  # every resource in scope is waived: nothing was shown to pass
            return f"WAIVED ({len(result.exempted)} exempted by waiver, none passed)"
        return f"PASS on {len(result.passed)} ({len(result.exempted)} exempted by waiver)"
    return mark


# The first status found among the mapped controls decides the requirement's status.
_DECISIVE = (("fail", "FAIL"), ("warn", "ADVISORY FINDING"), ("not-evaluated", "NOT EVALUATED"))


def requirement_status(framework: Framework, mapped: list[PolicyResult]) -> str:
    """One framework requirement, from the statuses of the controls mapped to it."""
    statuses = [m.status for m in mapped]
    decisive = next((label for status, label in _DECISIVE if status in statuses), None)
    if decisive is not None:
        return decisive
    if "pass" not in statuses:
        return "NOT TESTED (control disabled)" if "not-tested" in statuses else "N/A"
    if all(m.exempted and not m.passed for m in mapped if m.status == "pass"):
        return "WAIVED (no resource passed: every one in scope is exempted by waiver)"
    if framework.partial or "not-tested" in statuses:
        suffix = "; a mapped control is disabled" if "not-tested" in statuses else ""
        return f"NO AUTOMATED FINDING (partial evidence{suffix})"
    return "PASS (with waivers)" if any(m.exempted for m in mapped) else "PASS"


@dataclass
class RequirementRow:
    framework: Framework
    control_id: str
    title: str
    controls: list[PolicyResult]

    @property
    def status(self) -> str:
        return requirement_status(self.framework, self.controls)


def _sort_key(control: str) -> list[Any]:
    parts: list[Any] = []
    for chunk in control.replace("-", ".").split("."):
        parts.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk))
    return parts


def requirements(evaluation: Evaluation) -> dict[str, list[RequirementRow]]:
    table: dict[str, list[RequirementRow]] = {}
    for framework in FRAMEWORKS:
        rows: dict[str, RequirementRow] = {}
        for result in evaluation.results:
            for ref in result.frameworks:
                if ref["framework"] != framework.title:
                    continue
                row = rows.setdefault(
                    ref["control"], RequirementRow(framework, ref["control"], ref["title"], [])
                )
                row.controls.append(result)
        if rows:
            ordered = sorted(rows.values(), key=lambda r: _sort_key(r.control_id))
            table[framework.title] = ordered
    return table


def control_evidence(result: PolicyResult) -> dict[str, Any]:
    return {
        "evaluated": list(result.evaluated),
        "passed": result.passed,
        "failed": list(result.failed),
        "exempted": [{"urn": urn, "waiver": waiver} for urn, waiver in result.exempted],
        "skipped": [{"urn": urn, "reason": reason} for urn, reason in result.skipped],
    }

"""Rendering an evaluation: JSON for machines, Markdown for auditors."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pulumi_policy

from .evaluate import Evaluation, PolicyResult, Violation
from .framework import FRAMEWORKS

SEVERITIES = ("critical", "high", "medium", "low")
STATUS_MARK = {
    "pass": "PASS",
    "fail": "FAIL",
    "warn": "WARN",
    "not-applicable": "N/A",
    "not-evaluated": "NOT EVALUATED",
    "disabled": "DISABLED",
}


def to_json(evaluation: Evaluation) -> dict[str, Any]:
    source = evaluation.provenance
    return {
        "pack": {"name": source.pack_name, "version": source.pack_version},
        "input": {
            "kind": source.kind,
            "path": source.path,
            "sha256": source.sha256,
            "size": source.size,
            "modified": source.modified,
            "resources": source.resources,
        },
        "evaluatedAt": source.evaluated_at,
        "result": "fail" if evaluation.mandatory_violations else "pass",
        "summary": {
            "policies": dict(Counter(r.status for r in evaluation.results)),
            "violationsBySeverity": {s: _count(evaluation.violations, s) for s in SEVERITIES},
            "mandatoryViolations": len(evaluation.mandatory_violations),
            "advisoryViolations": len(evaluation.violations) - len(evaluation.mandatory_violations),
        },
        "policies": [
            {
                "name": r.name,
                "description": r.description,
                "category": r.category,
                "severity": r.severity,
                "enforcement": r.enforcement,
                "frameworks": r.frameworks,
                "status": r.status,
                "resourcesInScope": r.in_scope,
                "violations": r.violations,
                "notes": r.notes,
                "config": r.config,
                "remediation": r.remediation,
            }
            for r in evaluation.results
        ],
        "violations": [
            {
                "policy": v.policy,
                "resourceType": v.resource_type,
                "resourceName": v.resource_name,
                "region": v.region,
                "urn": v.urn,
                "message": v.message,
                "severity": v.severity,
                "enforcement": v.enforcement,
            }
            for v in evaluation.violations
        ],
        "notes": [
            {
                "policy": n.policy,
                "resourceType": n.resource_type,
                "resourceName": n.resource_name,
                "message": n.message,
            }
            for n in evaluation.notes
        ],
    }


def render_json(evaluation: Evaluation) -> str:
    return json.dumps(to_json(evaluation), indent=2, sort_keys=False) + "\n"


def _count(violations: list[Violation], severity: str) -> int:
    return sum(1 for v in violations if v.severity == severity)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(evaluation: Evaluation) -> str:
    source = evaluation.provenance
    results = evaluation.results
    by_name = {r.name: r for r in results}
    mandatory = evaluation.mandatory_violations
    lines: list[str] = []
    add = lines.append

    add("# Policy compliance report: investment-orders platform")
    add("")
    verdict = "FAIL" if mandatory else "PASS"
    add(
        f"**Result: {verdict}** ({len(mandatory)} mandatory violation(s), "
        f"{len(evaluation.violations) - len(mandatory)} advisory violation(s), "
        f"{len(evaluation.notes)} check(s) not evaluated)"
    )
    add("")
    add("## Provenance")
    add("")
    add("| | |")
    add("|---|---|")
    add(
        f"| Policy pack | `{source.pack_name}` version `{source.pack_version}` (pulumi-policy "
        f"{_sdk_version()}) |"
    )
    add(f"| Input | {_input_kind(source.kind)}: `{source.path}` |")
    add(f"| Input SHA-256 | `{source.sha256}` ({source.size} bytes) |")
    add(f"| Input modified | {source.modified} |")
    add(f"| Evaluated at | {source.evaluated_at} |")
    add(f"| Resources | {source.resources} |")
    add("")

    add("## Summary")
    add("")
    statuses = Counter(r.status for r in results)
    add(
        "Controls: "
        + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        + f" (of {len(results)})."
    )
    add("")
    add("| Severity | Violations | of which mandatory | Controls failing |")
    add("|---|---|---|---|")
    for severity in SEVERITIES:
        failing = sum(1 for r in results if r.severity == severity and r.status in ("fail", "warn"))
        add(
            f"| {severity} | {_count(evaluation.violations, severity)} | "
            f"{_count(mandatory, severity)} | {failing} |"
        )
    add("")
    add("| Control | Category | Severity | Enforcement | Status | Resources | Violations |")
    add("|---|---|---|---|---|---|---|")
    for r in results:
        add(
            f"| `{r.name}` | {r.category} | {r.severity} | {r.enforcement} | "
            f"**{STATUS_MARK.get(r.status, r.status)}** | {r.in_scope} | {r.violations} |"
        )
    add("")
    add(
        "Status: PASS = evaluated on every resource in scope without violation; FAIL = a "
        "mandatory control is violated (blocks deployment); WARN = an advisory control is "
        "violated; N/A = no resource of the control's types in the input; NOT EVALUATED = "
        "every resource in scope depended on values unknown before deployment (see Notes)."
    )
    add("")

    add("## Controls by framework")
    add("")
    for framework in FRAMEWORKS:
        rows: dict[str, list[PolicyResult]] = {}
        titles: dict[str, str] = {}
        for r in results:
            for ref in r.frameworks:
                if ref["framework"] == framework.title:
                    rows.setdefault(ref["control"], []).append(r)
                    titles.setdefault(ref["control"], ref["title"])
        if not rows:
            continue
        add(f"### {framework.title} ({framework.version})")
        add("")
        add("| Requirement | Description | Controls | Status |")
        add("|---|---|---|---|")
        for control, mapped in sorted(rows.items(), key=lambda kv: _sort_key(kv[0])):
            title = titles[control]
            status = _combine([m.status for m in mapped])
            names = "<br>".join(
                f"`{m.name}` ({STATUS_MARK.get(m.status, m.status)})" for m in mapped
            )
            add(f"| {control} | {_cell(title)} | {names} | **{status}** |")
        add("")

    add("## Violations")
    add("")
    if not evaluation.violations:
        add("None.")
        add("")
    ordered = sorted(
        evaluation.violations,
        key=lambda v: (
            v.enforcement != "mandatory",
            SEVERITIES.index(v.severity) if v.severity in SEVERITIES else 9,
        ),
    )
    for number, v in enumerate(ordered, 1):
        result = by_name.get(v.policy)
        add(f"### {number}. `{v.policy}` ({v.enforcement}, {v.severity})")
        add("")
        add(
            f"- Resource: `{v.resource_name}` "
            f"({v.resource_type}){f' in {v.region}' if v.region else ''}"
        )
        add(f"- Finding: {v.message}")
        if result is not None and result.frameworks:
            refs = ", ".join(f"{f['framework']} {f['control']}" for f in result.frameworks)
            add(f"- Requirements: {refs}")
        if result is not None and result.remediation:
            add(f"- Remediation: {result.remediation}")
        add("")

    add("## Notes (checks not evaluated)")
    add("")
    if not evaluation.notes:
        add("None: every check could be decided from the input.")
    for note in evaluation.notes:
        add(f"- `{note.policy}` on `{note.resource_name}` ({note.resource_type}): {note.message}")
    add("")

    configured = [r for r in results if r.config]
    if configured:
        add("## Thresholds in effect")
        add("")
        add("| Control | Setting | Value |")
        add("|---|---|---|")
        for r in configured:
            for key, value in r.config.items():
                add(f"| `{r.name}` | `{key}` | `{json.dumps(value)}` |")
        add("")
    return "\n".join(lines)


def _combine(statuses: list[str]) -> str:
    if "fail" in statuses:
        return "FAIL"
    if "warn" in statuses:
        return "PASS (advisory findings)"
    if "pass" in statuses:
        return "PASS"
    if "not-evaluated" in statuses:
        return "NOT EVALUATED"
    return "N/A"


def _sort_key(control: str) -> list[Any]:
    parts: list[Any] = []
    for chunk in control.replace("-", ".").split("."):
        parts.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk))
    return parts


def _input_kind(kind: str) -> str:
    return {
        "plan": "offline plan (`python -m infra.plan --json`)",
        "stack-export": "deployed state (`pulumi stack export`)",
        "preview-events": "engine policy events (`pulumi preview --json --policy-pack`)",
    }.get(kind, kind)


def _sdk_version() -> str:
    try:
        from importlib.metadata import version

        return version("pulumi-policy")
    except Exception:  # pragma: no cover
        return getattr(pulumi_policy, "__version__", "unknown")

"""Rendering an evaluation: JSON for machines, Markdown for auditors."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pulumi_policy

from .evaluate import Evaluation, Violation
from .evidence import (
    STATUS_LEGEND,
    control_evidence,
    control_status,
    requirements,
)

SEVERITIES = ("critical", "high", "medium", "low")


def provenance_rows(evaluation: Evaluation) -> list[tuple[str, str]]:
    """(label, value) rows of the provenance table, shared with the HTML rendering."""
    source = evaluation.provenance
    return [
        (
            "Policy pack",
            f"{source.pack_name} version {source.pack_version} (pulumi-policy {_sdk_version()})",
        ),
        ("Pack git commit", source.git_commit or "unknown"),
        ("Pack SHA-256", source.pack_sha256 or "unknown"),
        ("Config SHA-256", source.config_sha256 or "unknown"),
        ("Waiver register SHA-256", source.waivers_sha256 or "unknown"),
        ("Input source", source.source or _input_kind(source.kind)),
        ("Input", source.path),
        ("Input SHA-256", f"{source.sha256} ({source.size} bytes)"),
        ("Input modified", source.modified),
        ("Evaluated at", source.evaluated_at),
        ("Waivers judged on", evaluation.judged_on or "n/a"),
        ("Resources", str(source.resources)),
    ]


def to_json(evaluation: Evaluation) -> dict[str, Any]:
    source = evaluation.provenance
    return {
        "pack": {
            "name": source.pack_name,
            "version": source.pack_version,
            "gitCommit": source.git_commit,
            "sha256": source.pack_sha256,
        },
        "configSha256": source.config_sha256,
        "waiversSha256": source.waivers_sha256,
        "source": source.source,
        "input": {
            "kind": source.kind,
            "path": source.path,
            "sha256": source.sha256,
            "size": source.size,
            "modified": source.modified,
            "resources": source.resources,
        },
        "evaluatedAt": source.evaluated_at,
        "result": "fail" if evaluation.exit_code else "pass",
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
                "statusText": control_status(r),
                "evidence": control_evidence(r),
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
        "frameworks": {
            title: [
                {
                    "requirement": row.control_id,
                    "title": row.title,
                    "status": row.status,
                    "controls": [c.name for c in row.controls],
                }
                for row in rows
            ]
            for title, rows in requirements(evaluation).items()
        },
        "waivers": [w.to_json() for w in evaluation.waivers],
        "expiredWaivers": [w.id for w in evaluation.expired_waivers],
        "unusedWaivers": [w.id for w in evaluation.unused_waivers],
        "exemptions": [
            {"policy": e.policy, "urn": e.urn, "message": e.message, "waiver": e.waiver}
            for e in evaluation.exemptions
        ],
        "unexamined": [{"urn": urn, "type": type_} for urn, type_ in evaluation.unexamined],
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
    lines: list[str] = []
    add = lines.append
    for section in (
        _header_section,
        _summary_section,
        _framework_section,
        _violation_section,
        _note_section,
        _waiver_section,
        _evidence_section,
        _threshold_section,
    ):
        section(evaluation, add)
    return "\n".join(lines)


def _header_section(evaluation: Evaluation, add: Any) -> None:
    mandatory = evaluation.mandatory_violations
    add("# Policy compliance report: investment-orders platform")
    add("")
    verdict = "FAIL" if evaluation.exit_code else "PASS"
    add(
        f"**Result: {verdict}** ({len(mandatory)} mandatory violation(s), "
        f"{len(evaluation.violations) - len(mandatory)} advisory violation(s), "
        f"{len(evaluation.exemptions)} exempted by waiver, "
        f"{len(evaluation.expired_waivers)} expired waiver(s), "
        f"{len(evaluation.notes)} check(s) not evaluated)"
    )
    add("")
    add("## Provenance")
    add("")
    add("| | |")
    add("|---|---|")
    for label, value in provenance_rows(evaluation):
        add(f"| {label} | `{_cell(value)}` |")
    add("")


def _summary_section(evaluation: Evaluation, add: Any) -> None:
    results = evaluation.results
    mandatory = evaluation.mandatory_violations
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
    add(
        "| Control | Category | Severity | Enforcement | Status | Evaluated | Passed | "
        "Failed | Exempted | Skipped |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        add(
            f"| `{r.name}` | {r.category} | {r.severity} | {r.enforcement} | "
            f"**{control_status(r)}** | {len(r.evaluated)} | {len(r.passed)} | "
            f"{len(r.failed)} | {len(r.exempted)} | {len(r.skipped)} |"
        )
    add("")
    add(f"Status: {STATUS_LEGEND}")
    add("")


def _framework_section(evaluation: Evaluation, add: Any) -> None:
    add("## Controls by framework")
    add("")
    add(
        "PCI DSS and SOC 2 requirements are also about people and procedures: where the "
        "pack finds nothing the status is NO AUTOMATED FINDING (partial evidence), never PASS."
    )
    add("")
    for title, rows in requirements(evaluation).items():
        framework = rows[0].framework
        add(f"### {title} ({framework.version})")
        add("")
        add("| Requirement | Description | Controls | Status |")
        add("|---|---|---|---|")
        for row in rows:
            names = "<br>".join(f"`{m.name}` ({control_status(m)})" for m in row.controls)
            add(f"| {row.control_id} | {_cell(row.title)} | {names} | **{row.status}** |")
        add("")


def _violation_section(evaluation: Evaluation, add: Any) -> None:
    by_name = {r.name: r for r in evaluation.results}
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


def _note_section(evaluation: Evaluation, add: Any) -> None:
    add("## Notes (checks not evaluated)")
    add("")
    if not evaluation.notes:
        add("None: every check could be decided from the input.")
    for note in evaluation.notes:
        add(f"- `{note.policy}` on `{note.resource_name}` ({note.resource_type}): {note.message}")
    add("")


def _threshold_section(evaluation: Evaluation, add: Any) -> None:
    configured = [r for r in evaluation.results if r.config]
    if not configured:
        return
    add("## Thresholds in effect")
    add("")
    add("| Control | Setting | Value |")
    add("|---|---|---|")
    for r in configured:
        for key, value in r.config.items():
            add(f"| `{r.name}` | `{key}` | `{json.dumps(value)}` |")
    add("")


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


def _waiver_section(evaluation: Evaluation, add: Any) -> None:
    add("## Waiver register")
    add("")
    if not evaluation.waivers:
        add("No waivers: no resource is exempted from any control.")
        add("")
        return
    expired = {w.id for w in evaluation.expired_waivers}
    unused = {w.id for w in evaluation.unused_waivers}
    add("| Waiver | Control | Resource | Owner | Approver | Expires | State | Justification |")
    add("|---|---|---|---|---|---|---|---|")
    for w in evaluation.waivers:
        state = "EXPIRED (fails)" if w.id in expired else "unused" if w.id in unused else "in force"
        add(
            f"| {w.id} | `{w.policy}` | `{_cell(w.resource)}` | {_cell(w.owner)} | "
            f"{_cell(w.approver)} | {w.expires.isoformat()} | {state} | {_cell(w.justification)} |"
        )
    add("")


def _evidence_section(evaluation: Evaluation, add: Any) -> None:
    add("## Evidence by resource")
    add("")
    for r in evaluation.results:
        if not r.evaluated and not r.skipped:
            continue
        add(f"### `{r.name}`: {control_status(r)}")
        add("")
        add(
            f"- Evaluated ({len(r.evaluated)}), passed ({len(r.passed)}): "
            + (", ".join(f"`{u}`" for u in r.passed) or "none")
        )
        if r.failed:
            add("- Failed: " + ", ".join(f"`{u}`" for u in r.failed))
        if r.exempted:
            add("- Exempted: " + ", ".join(f"`{u}` (waiver {w})" for u, w in r.exempted))
        if r.skipped:
            add("- Skipped: " + ", ".join(f"`{u}` ({why})" for u, why in r.skipped))
        add("")
    add("## Resources no control looked at")
    add("")
    add(
        "Only the checks that see every resource (the type allow-list, the scan for "
        "foreign key ARNs) saw these: no control reviewed their settings."
    )
    add("")
    for urn, type_ in evaluation.unexamined:
        add(f"- `{urn}` ({type_})")
    if not evaluation.unexamined:
        add("None.")
    add("")

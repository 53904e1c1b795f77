"""The auditor report as one self-contained HTML page (no scripts, no external assets).

Same content as the Markdown report, laid out to be opened in a browser and printed:
tables repeat their header on each printed page and rows are not split.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from .evaluate import Evaluation
from .evidence import STATUS_LEGEND, control_status, requirements
from .report import provenance_rows

STYLE = """
body { font: 13px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 24px;
       color: #1b1f24; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 26px 0 8px;
     border-bottom: 1px solid #ccd; padding-bottom: 3px; } h3 { font-size: 14px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; }
th, td { border: 1px solid #c8ccd4; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef1f6; } thead { display: table-header-group; } tr { break-inside: avoid; }
code { font: 12px "DejaVu Sans Mono", monospace; word-break: break-all; }
.verdict { display: inline-block; padding: 4px 12px; border-radius: 4px; font-weight: bold;
           color: #fff; }
.verdict.pass { background: #1a7f37; } .verdict.fail { background: #cf222e; }
.s-fail { color: #cf222e; font-weight: bold; } .s-warn { color: #9a6700; font-weight: bold; }
.s-pass { color: #1a7f37; } .muted { color: #57606a; }
@media print { body { margin: 10mm; } h2 { break-after: avoid; } }
"""


def _status_class(text: str) -> str:
    upper = text.upper()
    if upper.startswith("FAIL") or "EXPIRED" in upper:
        return "s-fail"
    if upper.startswith(("WARN", "ADVISORY", "NOT EVALUATED")):
        return "s-warn"
    if upper.startswith("PASS"):
        return "s-pass"
    return "muted"


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], table_id: str = "", raw: bool = False
) -> str:
    """A table; cells are escaped unless ``raw`` (then the caller escaped them)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else escape(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _status(text: str) -> str:
    return f'<span class="{_status_class(text)}">{escape(text)}</span>'


def _controls(evaluation: Evaluation) -> str:
    rows = [
        (
            f"<code>{escape(r.name)}</code>",
            escape(r.category),
            escape(r.severity),
            escape(r.enforcement),
            _status(control_status(r)),
            str(len(r.evaluated)),
            str(len(r.passed)),
            str(len(r.failed)),
            str(len(r.exempted)),
            str(len(r.skipped)),
        )
        for r in evaluation.results
    ]
    headers = (
        "Control",
        "Category",
        "Severity",
        "Enforcement",
        "Status",
        "Evaluated",
        "Passed",
        "Failed",
        "Exempted",
        "Skipped",
    )
    return _table(headers, rows, "controls", raw=True)


def _frameworks(evaluation: Evaluation) -> str:
    parts = []
    for title, rows in requirements(evaluation).items():
        parts.append(f"<h3>{escape(title)} ({escape(rows[0].framework.version)})</h3>")
        cells = [
            (
                escape(row.control_id),
                escape(row.title),
                "<br>".join(f"<code>{escape(c.name)}</code>" for c in row.controls),
                _status(row.status),
            )
            for row in rows
        ]
        parts.append(_table(("Requirement", "Description", "Controls", "Status"), cells, raw=True))
    return "".join(parts)


def _violations(evaluation: Evaluation) -> str:
    if not evaluation.violations:
        return "<p>None.</p>"
    rows = [
        (v.policy, v.enforcement, v.severity, v.urn or v.resource_name, v.message)
        for v in evaluation.violations
    ]
    return _table(("Control", "Enforcement", "Severity", "Resource", "Finding"), rows)


def _waivers(evaluation: Evaluation) -> str:
    if not evaluation.waivers:
        return "<p>No waivers: no resource is exempted from any control.</p>"
    expired = {w.id for w in evaluation.expired_waivers}
    unused = {w.id for w in evaluation.unused_waivers}
    rows = [
        (
            w.id,
            w.policy,
            w.resource,
            w.owner,
            w.approver,
            w.expires.isoformat(),
            "EXPIRED (fails)" if w.id in expired else "unused" if w.id in unused else "in force",
            w.justification,
        )
        for w in evaluation.waivers
    ]
    headers = (
        "Waiver",
        "Control",
        "Resource",
        "Owner",
        "Approver",
        "Expires",
        "State",
        "Justification",
    )
    return _table(headers, rows)


def _evidence(evaluation: Evaluation) -> str:
    rows = []
    for r in evaluation.results:
        if not r.evaluated and not r.skipped:
            continue
        exempted = [f"{u} (waiver {w})" for u, w in r.exempted]
        skipped = [f"{u}: {why}" for u, why in r.skipped]
        rows.append(
            (
                r.name,
                "\n".join(r.passed) or "-",
                "\n".join(r.failed) or "-",
                "\n".join(exempted) or "-",
                "\n".join(skipped) or "-",
            )
        )
    table = _table(("Control", "Passed", "Failed", "Exempted", "Skipped"), rows)
    return table.replace("\n", "<br>")


def render_html(evaluation: Evaluation) -> str:
    verdict = "FAIL" if evaluation.exit_code else "PASS"
    mandatory = len(evaluation.mandatory_violations)
    summary = (
        f"{mandatory} mandatory violation(s), "
        f"{len(evaluation.violations) - mandatory} advisory, "
        f"{len(evaluation.exemptions)} exempted by waiver, "
        f"{len(evaluation.expired_waivers)} expired waiver(s), "
        f"{len(evaluation.notes)} check(s) not evaluated"
    )
    unexamined = (
        _table(("Resource", "Type"), evaluation.unexamined)
        if evaluation.unexamined
        else "<p>None.</p>"
    )
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Policy compliance report: investment-orders platform</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Policy compliance report: investment-orders platform</h1>",
        f'<p><span class="verdict {verdict.lower()}" id="verdict">{verdict}</span> '
        f"{escape(summary)}</p>",
        "<h2>Provenance</h2>",
        _table(("Item", "Value"), provenance_rows(evaluation), "provenance"),
        "<h2>Controls</h2>",
        _controls(evaluation),
        f'<p class="muted">{escape(STATUS_LEGEND)}</p>',
        "<h2>Controls by framework</h2>",
        _frameworks(evaluation),
        "<h2>Violations</h2>",
        _violations(evaluation),
        "<h2>Waiver register</h2>",
        _waivers(evaluation),
        "<h2>Evidence by resource</h2>",
        _evidence(evaluation),
        "<h2>Resources no control looked at</h2>",
        '<p class="muted">Only the checks that see every resource (type allow-list, '
        "foreign key ARNs) saw these.</p>",
        unexamined,
        "</body></html>",
    ]
    return "\n".join(sections) + "\n"

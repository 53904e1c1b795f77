"""Coverage of the pack against the published anchors (``policies/anchors/*.json``).

Each catalogue lists a published control set's requirements (AWS Security Hub FSBP, CIS
AWS 3.0, CIS EKS 1.5, pulumi/compliance-policies) with the resource types of this program
(and the plausible next ones) each applies to, and either the controls of this pack that
cover it or why it is a gap or not applicable. The lists were taken from the published
sets, not from the pack; ``check`` keeps the catalogue and the pack's own framework
references in agreement, so neither can claim coverage the other does not show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import all_policies

ANCHOR_DIR = Path(__file__).resolve().parent / "anchors"
# catalogue file -> the framework key the pack's references use (None: by equivalence)
CATALOGUES = {
    "fsbp": "aws-fsbp",
    "cis-aws": "cis-aws",
    "cis-eks": "cis-eks",
    "compliance-policies": None,
}
STATUSES = ("covered", "gap", "not-applicable")


@dataclass(frozen=True)
class Coverage:
    framework: str
    version: str
    covered: int
    applicable: int
    not_applicable: int

    @property
    def ratio(self) -> float:
        return self.covered / self.applicable if self.applicable else 1.0


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ANCHOR_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def coverage() -> list[Coverage]:
    rows = []
    for name in CATALOGUES:
        data = load(name)
        statuses = [e["status"] for e in data["entries"]]
        rows.append(
            Coverage(
                framework=data["framework"],
                version=data["version"],
                covered=statuses.count("covered"),
                applicable=statuses.count("covered") + statuses.count("gap"),
                not_applicable=statuses.count("not-applicable"),
            )
        )
    return rows


def _entry_problems(name: str, entry: dict[str, Any], controls: set[str]) -> list[str]:
    where = f"{name}:{entry.get('id')}"
    status = entry.get("status")
    if status not in STATUSES:
        return [f"{where}: status {status!r}"]
    if status == "covered":
        unknown = [c for c in entry.get("coveredBy", []) if c not in controls]
        return (
            [f"{where}: covered by unknown control(s) {unknown}"]
            if unknown
            else ([] if entry.get("coveredBy") else [f"{where}: covered by nothing"])
        )
    if not str(entry.get("reason") or "").strip():
        return [f"{where}: {status} without a reason"]
    if status == "gap" and not entry.get("appliesTo"):
        return [f"{where}: a gap must name the resource types it applies to"]
    return []


def check() -> list[str]:
    """Disagreements between the catalogues and the pack (empty when consistent)."""
    policies = all_policies()
    controls = {p.name for p in policies}
    problems: list[str] = []
    for name, key in CATALOGUES.items():
        entries = load(name)["entries"]
        for entry in entries:
            problems += _entry_problems(name, entry, controls)
        if key is None:
            continue
        by_id = {e["id"]: e for e in entries}
        for policy in policies:
            for ref in policy.meta.frameworks:
                if ref.framework.key != key:
                    continue
                entry = by_id.get(ref.control_id)
                if entry is None:
                    problems.append(f"{policy.name} cites {key} {ref.control_id}: not published")
                elif policy.name not in entry.get("coveredBy", []):
                    problems.append(f"{name}:{ref.control_id} does not list {policy.name}")
    return problems


def markdown_table() -> str:
    lines = [
        "| Anchor | Version | Covered / applicable | Not applicable |",
        "|---|---|---|---|",
    ]
    for row in coverage():
        lines.append(
            f"| {row.framework} | {row.version} | {row.covered} / {row.applicable} "
            f"({row.ratio:.0%}) | {row.not_applicable} |"
        )
    return "\n".join(lines) + "\n"

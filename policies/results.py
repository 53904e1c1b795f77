"""What an offline evaluation produces: the subjects evaluated, the input's provenance, the
violations, per-control results and the evaluation as a whole (reports read these)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import PACK_NAME, pack_version
from . import waivers as W
from .framework import ANY_TYPE, Control, Note

STACK_SUBJECT = "(stack)"
# How infra.plan renders values it cannot show (infra/mocks.py).
PLAN_PLACEHOLDERS = {"[unknown]", "[secret]"}


class InputError(Exception):
    """The input file is unreadable or not in the expected format (exit code 2)."""


@dataclass
class Subject:
    """One resource to evaluate, whatever file it came from."""

    type: str
    name: str
    region: str | None
    props: dict[str, Any]
    urn: str
    outputs: dict[str, Any] | None = None
    parent: str | None = None
    provider: str | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Provenance:
    kind: str  # "plan" | "stack-export" | "preview-events"
    path: str
    sha256: str
    size: int
    modified: str
    evaluated_at: str
    resources: int
    pack_name: str = PACK_NAME
    pack_version: str = field(default_factory=pack_version)
    git_commit: str = ""
    pack_sha256: str = ""
    config_sha256: str = ""
    waivers_sha256: str = ""
    source: str = ""  # offline mocks, deployed state or a real preview


@dataclass
class Violation:
    policy: str
    resource_type: str
    resource_name: str
    region: str | None
    urn: str
    message: str
    severity: str
    enforcement: str


@dataclass
class PolicyResult:
    policy: Control | None
    name: str
    description: str
    category: str
    severity: str
    enforcement: str
    frameworks: list[dict[str, str]]
    remediation: str
    config: dict[str, Any]
    in_scope: int = 0
    violations: int = 0
    notes: int = 0
    # Evidence by URN: what the control looked at and what came of it.
    evaluated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    exempted: list[tuple[str, str]] = field(default_factory=list)  # (urn, waiver id)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (urn, why)
    error: str = ""  # the (stack) check could not run at all

    @property
    def passed(self) -> list[str]:
        other = set(self.failed) | {u for u, _ in self.exempted} | {u for u, _ in self.skipped}
        return [urn for urn in self.evaluated if urn not in other]

    @property
    def status(self) -> str:
        if self.enforcement == "disabled":
            return "not-tested"
        if self.violations:
            return "fail" if self.enforcement == "mandatory" else "warn"
        if self.error:
            return "not-evaluated"
        if self.in_scope == 0:
            return "not-applicable"
        if self.notes >= self.in_scope:
            return "not-evaluated"
        return "pass"


@dataclass
class Evaluation:
    provenance: Provenance
    results: list[PolicyResult]
    violations: list[Violation]
    notes: list[Note]
    exemptions: list[W.Exemption] = field(default_factory=list)
    waivers: list[W.Waiver] = field(default_factory=list)
    resources: list[tuple[str, str]] = field(default_factory=list)  # (urn, type) evaluated
    judged_on: str = ""  # the day waivers were judged on (UTC)

    @property
    def mandatory_violations(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]

    @property
    def expired_waivers(self) -> list[W.Waiver]:
        day = dt.date.fromisoformat(self.judged_on) if self.judged_on else W.today()
        return [w for w in self.waivers if w.expired(day)]

    @property
    def unused_waivers(self) -> list[W.Waiver]:
        used = {e.waiver for e in self.exemptions}
        return [w for w in self.waivers if w.id not in used and w not in self.expired_waivers]

    @property
    def unexamined(self) -> list[tuple[str, str]]:
        """Resources no control looked at, apart from checks that see every resource (the
        type allow-list, the scan for foreign key ARNs): their settings were not reviewed."""
        seen = {
            urn
            for r in self.results
            if r.policy is None
            or (r.policy.meta.resource_types and ANY_TYPE not in r.policy.meta.resource_types)
            for urn in r.evaluated
        }
        return [(urn, type_) for urn, type_ in self.resources if urn not in seen]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory_violations or self.expired_waivers else 0


# --- loading -----------------------------------------------------------------------------

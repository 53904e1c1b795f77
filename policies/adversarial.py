"""Adversarial mutation suite: changes a careful auditor expects the pack to catch.

Unlike a coverage figure built from the properties the controls already read, the
catalogue (``adversarial_catalogue``) was written from the outside: from the published
control sets (Security Hub FSBP, CIS AWS 3.0, CIS EKS 1.5, Pod Security Standards,
pulumi/compliance-policies) and from ways of slipping past a control. It deletes required
resources, adds resource types the program does not use, renames types, weakens and
combines properties, and tries evasions.

A mutation is *caught* when the mutated plan has a mandatory violation the unmutated plan
does not have. Each mutation names the requirements it tests, so the score is reported
per framework requirement. ``python -m policies adversarial --plan FILE`` runs it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .evaluate import Provenance, Violation, evaluate, parse_plan
from .framework import Control

Plan = list[dict[str, Any]]
KINDS = ("delete", "add", "rename", "weaken", "combine", "evasion")


@dataclass(frozen=True)
class Mutation:
    id: str
    kind: str  # one of KINDS
    description: str
    requirements: tuple[str, ...]  # "FSBP EC2.8", "CIS-AWS 5.6", "CIS-EKS 4.2.4", "PSS ...", ...
    apply: Callable[[Plan], None] = field(repr=False, compare=False)
    # A mandatory control must catch it; False only where the pack deliberately reports
    # an advisory finding (then an advisory violation counts as caught).
    mandatory: bool = True


@dataclass
class Outcome:
    mutation: Mutation
    caught_by: list[str]
    error: str = ""

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


@dataclass
class Score:
    outcomes: list[Outcome]

    @property
    def missed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.caught]

    @property
    def caught(self) -> int:
        return sum(1 for o in self.outcomes if o.caught)

    def by_requirement(self) -> dict[str, tuple[int, int]]:
        table: dict[str, list[int]] = {}
        for outcome in self.outcomes:
            for requirement in outcome.mutation.requirements:
                row = table.setdefault(requirement, [0, 0])
                row[0] += outcome.caught
                row[1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(table.items())}

    def by_framework(self) -> dict[str, tuple[int, int]]:
        table: dict[str, list[int]] = {}
        for requirement, (caught, total) in self.by_requirement().items():
            row = table.setdefault(requirement.split(" ", 1)[0], [0, 0])
            row[0] += caught
            row[1] += total
        return {k: (v[0], v[1]) for k, v in sorted(table.items())}

    def by_kind(self) -> dict[str, tuple[int, int]]:
        return {
            kind: (
                sum(1 for o in self.outcomes if o.mutation.kind == kind and o.caught),
                sum(1 for o in self.outcomes if o.mutation.kind == kind),
            )
            for kind in KINDS
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "mutations": len(self.outcomes),
            "caught": self.caught,
            "byKind": {k: {"caught": c, "total": t} for k, (c, t) in self.by_kind().items()},
            "byFramework": {
                k: {"caught": c, "total": t} for k, (c, t) in self.by_framework().items()
            },
            "byRequirement": {
                k: {"caught": c, "total": t} for k, (c, t) in self.by_requirement().items()
            },
            "missed": [
                {"id": o.mutation.id, "description": o.mutation.description, "error": o.error}
                for o in self.missed
            ],
            "outcomes": [
                {
                    "id": o.mutation.id,
                    "kind": o.mutation.kind,
                    "description": o.mutation.description,
                    "requirements": list(o.mutation.requirements),
                    "caughtBy": o.caught_by,
                }
                for o in self.outcomes
            ],
        }


def _key(v: Violation) -> tuple[str, str, str]:
    return (v.policy, v.urn, v.message)


def _violations(plan: Plan, policies: Sequence[Control] | None = None) -> list[Violation]:
    source = Provenance("plan", "<adversarial>", "0" * 64, 0, "", "", len(plan))
    return evaluate(parse_plan(plan, "<adversarial>"), source, policies=policies).violations


def run(
    plan: Plan, mutations: Sequence[Mutation], policies: Sequence[Control] | None = None
) -> Score:
    """Apply each mutation to a copy of ``plan`` and see what the pack (or ``policies``) says."""
    baseline = {_key(v) for v in _violations(plan, policies)}
    outcomes = []
    for mutation in mutations:
        mutated = copy.deepcopy(plan)
        try:
            mutation.apply(mutated)
        except (KeyError, IndexError, StopIteration) as exc:
            # The plan no longer has what the mutation targets: report it, never pass it.
            outcomes.append(Outcome(mutation, [], f"mutation does not apply: {exc!r}"))
            continue
        levels = ("mandatory",) if mutation.mandatory else ("mandatory", "advisory")
        new = [
            v
            for v in _violations(mutated, policies)
            if _key(v) not in baseline and v.enforcement in levels
        ]
        outcomes.append(Outcome(mutation, sorted({v.policy for v in new})))
    return Score(outcomes)


def render_text(score: Score) -> str:
    lines = [
        f"adversarial mutations: {score.caught}/{len(score.outcomes)} caught",
        "by kind: " + ", ".join(f"{k} {c}/{t}" for k, (c, t) in score.by_kind().items() if t),
        "by framework: " + ", ".join(f"{k} {c}/{t}" for k, (c, t) in score.by_framework().items()),
    ]
    lines += [
        f"  NOT CAUGHT: {o.mutation.id}: {o.mutation.description} {o.error}" for o in score.missed
    ]
    return "\n".join(lines) + "\n"

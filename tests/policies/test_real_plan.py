"""The pack over the real program: `python -m infra.plan --json` (infra/, under mocks).

* no mandatory control is violated by the real plan;
* every control is in scope of the real plan (no vacuous pass);
* mutation coverage: every guarded property of every resource, flipped to its unsafe
  value one at a time, is caught by some mandatory control.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policies import all_policies
from policies.cli import main
from policies.evaluate import Evaluation, load, load_plan
from policies.mutations import coverage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "infra.plan", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"python -m infra.plan --json failed:\n{done.stderr[-4000:]}"
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    path.write_text(done.stdout, encoding="utf-8")
    assert isinstance(json.loads(done.stdout), list)
    return path


@pytest.fixture(scope="module")
def evaluation(plan_file: Path) -> Evaluation:
    return load("plan", plan_file)


def _listing(violations: list[Any]) -> str:
    return "\n".join(
        f"- {v.policy}: {v.resource_name} ({v.resource_type}, {v.region}): {v.message}"
        for v in violations
    )


def test_real_plan_has_no_mandatory_violation(evaluation: Evaluation) -> None:
    mandatory = evaluation.mandatory_violations
    assert mandatory == [], f"mandatory controls violated by infra.plan:\n{_listing(mandatory)}"


def test_every_control_is_in_scope_of_the_real_plan(evaluation: Evaluation) -> None:
    idle = [r.name for r in evaluation.results if r.status in ("not-applicable", "not-evaluated")]
    assert idle == []
    assert evaluation.notes == []  # mocks know every value: nothing skipped as unknown


def test_mutation_coverage_of_the_real_plan(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subjects, _ = load_plan(plan_file)
    result = coverage(subjects)
    with capsys.disabled():
        print(
            f"\nmutation coverage over infra.plan: {result.caught}/{result.total} "
            f"({result.ratio:.1%}) caught by a mandatory control"
        )
    missed = "\n".join(
        f"- {o.mutation.resource} ({o.mutation.type}): {o.mutation.change}" for o in result.missed
    )
    assert result.missed == [], f"mutations no mandatory control catches:\n{missed}"
    assert result.total >= 100
    # every kind of data store and workload was mutated
    mutated_types = {o.mutation.type for o in result.outcomes}
    assert {
        "aws:rds/cluster:Cluster",
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:rds/globalCluster:GlobalCluster",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:sqs/queue:Queue",
        "eks:index:Cluster",
        "aws:backup/plan:Plan",
        "aws:backup/vault:Vault",
        "aws:kms/key:Key",
        "kubernetes:argoproj.io/v1alpha1:Rollout",
        "kubernetes:apps/v1:Deployment",
    } <= mutated_types
    # the controls that catch them span every category
    catching = {name for o in result.outcomes for name in o.caught_by}
    categories = {p.meta.category for p in all_policies() if p.name in catching}
    assert categories == {p.meta.category for p in all_policies()}


def test_policy_report_is_written_for_the_real_plan(
    plan_file: Path, evaluation: Evaluation, tmp_path: Path
) -> None:
    out = tmp_path / "policy-report.md"
    code = main(["evaluate", "--plan", str(plan_file), "--format", "markdown", "--out", str(out)])
    assert code == evaluation.exit_code
    text = out.read_text(encoding="utf-8")
    assert "## Controls by framework" in text and "## Provenance" in text
    assert f"| Resources | {evaluation.provenance.resources} |" in text


def test_plan_identities_are_recovered_from_infra_mocks(plan_file: Path) -> None:
    """Cross-resource controls need the ARNs/ids the mocks assigned (plans carry inputs only)."""
    subjects, _ = load_plan(plan_file)
    keys = [s for s in subjects if s.type == "aws:kms/key:Key"]
    assert keys and all(
        s.outputs and str(s.outputs.get("arn", "")).startswith("arn:aws:kms:") for s in keys
    )

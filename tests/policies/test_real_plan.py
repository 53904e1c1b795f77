"""The pack over the real program: `python -m infra.plan --json` (infra/, under mocks).

* no mandatory control is violated by the real plan (except the audit checkpoint bucket,
  which the audit-log component adds);
* every control is in scope of the real plan, except those for types the program does not
  use yet (listed, so a control cannot silently fall out of scope);
* the adversarial mutation suite: nothing mandatory slips.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policies import all_policies
from policies.adversarial import Score, render_text, run
from policies.adversarial_catalogue import CATALOGUE
from policies.cli import main
from policies.evaluate import Evaluation, load, load_plan

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


# The audit-log component (infra/audit_log.py) declares the checkpoint bucket; until it is
# part of the program this is the one mandatory finding the real plan is allowed to have.
# Controls for resource types the program does not declare (yet): they are exercised by
# the fixture tests and the adversarial suite, not by the real plan.
NOT_YET_IN_THE_PROGRAM = {
    "aws-backup-selection-covers-efs",
    "aws-dynamodb-table-require-on-demand-capacity",
    "aws-dynamodb-table-configure-customer-managed-key",
    "aws-dynamodb-table-enable-deletion-protection",
    "aws-dynamodb-table-enable-point-in-time-recovery",
    "aws-ec2-instance-disallow-unencrypted-block-device",
    "aws-ecr-repository-configure-customer-managed-key",
    "aws-ecr-repository-disallow-mutable-image",
    "aws-ecr-repository-enable-image-scan",
    "aws-efs-filesystem-disallow-single-availability-zone",
    "aws-efs-filesystem-disallow-unencrypted-file-system",
    "aws-elasticache-cluster-disallow-standalone",
    "aws-lb-loadbalancer-drop-invalid-header-fields",
    "aws-lb-loadbalancer-enable-access-logging",
    "aws-lb-loadbalancer-enable-deletion-protection",
    "aws-rds-instance-disallow-unencrypted-storage",
    "aws-rds-instance-multi-az",
    "aws-s3-bucket-disallow-public-acl",
    "aws-s3-bucket-require-customer-managed-key",
    "aws-s3-bucket-require-owner-enforced",
    "aws-s3-bucket-require-public-access-block",
    "aws-s3-bucket-require-tls-only-policy",
    "aws-s3-bucket-require-versioning",
    "aws-wafv2-webacl-require-rules",
    "kubernetes-pod-disallow-bare-pod",
    "kubernetes-prometheusrule-require-alert-routing",
}


def test_real_plan_has_no_mandatory_violation(evaluation: Evaluation) -> None:
    mandatory = list(evaluation.mandatory_violations)
    assert mandatory == [], f"mandatory controls violated by infra.plan:\n{_listing(mandatory)}"


def test_every_shipped_waiver_exempts_a_real_violation(evaluation: Evaluation) -> None:
    """A waiver nothing needs any more must be removed, not kept as a blank cheque."""
    assert evaluation.waivers, "the pack's own register applies to the real plan"
    assert [w.id for w in evaluation.unused_waivers] == []
    assert evaluation.expired_waivers == []


def test_every_control_is_in_scope_of_the_real_plan(evaluation: Evaluation) -> None:
    idle = {r.name for r in evaluation.results if r.status in ("not-applicable", "not-evaluated")}
    # a subset: once the program declares one of these types, its controls come into scope
    assert idle <= NOT_YET_IN_THE_PROGRAM, idle - NOT_YET_IN_THE_PROGRAM
    assert evaluation.notes == []  # mocks know every value: nothing skipped as unknown


@pytest.fixture(scope="module")
def adversarial(plan_file: Path) -> Score:
    return run(json.loads(plan_file.read_text(encoding="utf-8")), CATALOGUE)


def test_adversarial_suite_nothing_mandatory_slips(
    adversarial: Score, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print("\n" + render_text(adversarial))
    assert [o.mutation.id for o in adversarial.missed] == []
    assert len(adversarial.outcomes) >= 100
    kinds = adversarial.by_kind()
    assert all(total >= 5 for _, total in kinds.values()), kinds
    # scored against every anchor framework
    assert {"FSBP", "CIS-AWS", "CIS-EKS", "CP", "PSS"} <= set(adversarial.by_framework())


def test_adversarial_suite_notices_a_missing_control(plan_file: Path) -> None:
    """Not self-fulfilling: without the IMDSv2 control the IMDSv1 mutations slip.

    The added instance also lacks an instance profile, which the Systems Manager control
    reports; it is left out too so that only the metadata options tell the two apart."""
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    chosen = [m for m in CATALOGUE if m.id in ("lt-imdsv1", "add-ec2-imdsv1")]
    left_out = {"aws-ec2-instance-require-imdsv2", "aws-ec2-instance-require-ssm-instance-profile"}
    pack = [p for p in all_policies() if p.name not in left_out]
    slipped = run(plan, chosen, pack).missed
    assert sorted(o.mutation.id for o in slipped) == ["add-ec2-imdsv1", "lt-imdsv1"]


def test_policy_report_is_written_for_the_real_plan(
    plan_file: Path, evaluation: Evaluation, tmp_path: Path
) -> None:
    out = tmp_path / "policy-report.md"
    code = main(["evaluate", "--plan", str(plan_file), "--format", "markdown", "--out", str(out)])
    assert code == evaluation.exit_code
    text = out.read_text(encoding="utf-8")
    assert "## Controls by framework" in text and "## Provenance" in text
    assert f"| Resources | `{evaluation.provenance.resources}` |" in text


def test_plan_identities_are_recovered_from_infra_mocks(plan_file: Path) -> None:
    """Cross-resource controls need the ARNs/ids the mocks assigned (plans carry inputs only)."""
    subjects, _ = load_plan(plan_file)
    keys = [s for s in subjects if s.type == "aws:kms/key:Key"]
    assert keys and all(
        s.outputs and str(s.outputs.get("arn", "")).startswith("arn:aws:kms:") for s in keys
    )

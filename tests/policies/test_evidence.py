"""Evidence for auditors: waivers, config validation, honest statuses, provenance."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policies import all_policies
from policies import waivers as W
from policies.cli import main
from policies.evaluate import Evaluation
from policies.evidence import control_status, requirement_status
from policies.framework import AWS_FSBP, HIGH, MANDATORY, PCI_DSS, Reporter, stack_control
from policies.model import Stack

from .fixtures import baseline_plan, mutated, run

TODAY = dt.date(2026, 12, 3)
PUBLIC_DB = ("orders-primary-0", ("publiclyAccessible",), True)
PUBLIC_DB_URN = "urn:pulumi:plan::plan::aws:rds/clusterInstance:ClusterInstance::orders-primary-0"


def _waiver(**changes: Any) -> dict[str, Any]:
    entry = {
        "id": "W-1",
        "policy": "aws-rds-instance-disallow-public-access",
        "resource": "orders-primary-0",
        "owner": "dba-team",
        "justification": "Temporary vendor migration over a dedicated allow-listed link.",
        "approver": "ciso",
        "expires": "2027-01-31",
        "created": "2026-12-01",
    }
    entry.update(changes)
    return entry


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _evaluate(
    tmp_path: Path, plan: Any, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["evaluate", "--plan", str(_write(tmp_path, "plan.json", plan)), *extra])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out.strip() else {"stderr": captured.err}
    return code, report


def _with_waivers(entries: list[dict[str, Any]], day: dt.date = TODAY) -> Evaluation:
    register = W.parse({"waivers": entries})
    tokens = (W.ACTIVE.set(register), W.TODAY.set(day))
    try:
        return run(mutated(*PUBLIC_DB))
    finally:
        W.ACTIVE.reset(tokens[0])
        W.TODAY.reset(tokens[1])


def test_a_valid_waiver_exempts_and_is_listed_never_passed() -> None:
    evaluation = _with_waivers([_waiver()])
    assert evaluation.mandatory_violations == []
    assert evaluation.exit_code == 0
    [exemption] = evaluation.exemptions
    assert (exemption.urn, exemption.waiver) == (PUBLIC_DB_URN, "W-1")
    result = next(r for r in evaluation.results if r.name == exemption.policy)
    assert (PUBLIC_DB_URN, "W-1") in result.exempted
    assert PUBLIC_DB_URN not in result.passed


def test_a_control_whose_every_resource_is_waived_is_never_shown_as_pass() -> None:
    evaluation = _with_waivers([_waiver()])
    [exemption] = evaluation.exemptions
    result = next(r for r in evaluation.results if r.name == exemption.policy)
    only_waived = dataclasses.replace(result, evaluated=[urn for urn, _ in result.exempted])
    assert only_waived.status == "pass" and only_waived.passed == []
    assert control_status(only_waived).startswith("WAIVED")
    assert requirement_status(AWS_FSBP, [only_waived]).startswith("WAIVED")
    if result.passed:  # some resources passed, one waived: a pass that names the waiver
        assert control_status(result).startswith(f"PASS on {len(result.passed)}")


def test_an_expired_waiver_fails_and_exempts_nothing() -> None:
    evaluation = _with_waivers([_waiver(expires="2026-11-30")])
    [violation] = evaluation.mandatory_violations
    assert violation.message.endswith("[waiver W-1 expired on 2026-11-30]")
    assert [w.id for w in evaluation.expired_waivers] == ["W-1"]
    assert evaluation.exemptions == [] and evaluation.exit_code == 1


def test_an_expired_unmatched_waiver_still_fails_the_run() -> None:
    register = W.parse({"waivers": [_waiver(expires="2026-01-01", resource="gone")]})
    tokens = (W.ACTIVE.set(register), W.TODAY.set(TODAY))
    try:
        evaluation = run(baseline_plan())
    finally:
        W.ACTIVE.reset(tokens[0])
        W.TODAY.reset(tokens[1])
    assert evaluation.violations == [] and evaluation.exit_code == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"approver": "dba-team"}, "the approver must not be the owner"),
        ({"justification": ""}, "lacks justification"),
        ({"expires": "soon"}, "expires is not an ISO date"),
        ({"created": "2025-01-01"}, "valid for more than a year"),
    ],
)
def test_incomplete_waivers_are_refused(
    change: dict[str, Any], error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register = _write(tmp_path, "waivers.json", {"waivers": [_waiver(**change)]})
    code, report = _evaluate(tmp_path, baseline_plan(), capsys, "--waivers", str(register))
    assert code == 2
    assert error in report["stderr"]


def test_the_shipped_register_is_valid_and_names_controls_of_the_pack() -> None:
    controls = {p.name for p in all_policies()}
    waivers = W.load()
    assert waivers, "the shipped register records the program's exceptions"
    assert [w.id for w in waivers if w.policy not in controls] == []
    assert [w.id for w in waivers if w.expired(TODAY)] == []


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"no-such-control": "advisory"}, "unknown control"),
        ({"aws-cloudwatch-loggroup-retention": {"minRetentionDays": 0}}, "less than the minimum"),
        (
            {"aws-ec2-securitygroup-disallow-public-ingress": {"allowedPublicPorts": [443, 5432]}},
            "should not be valid",
        ),
        ({"aws-rds-cluster-backup-retention": {"enforcementLevel": "off"}}, "enforcementLevel"),
        ({"aws-rds-cluster-backup-retention": {"minRetention": 3}}, "unknown setting"),
        ({"kubernetes-workload-min-replicas": {"exemptWorkloads": ["orders-api"]}}, "unknown"),
    ],
)
def test_config_is_validated_against_the_schema(
    config: dict[str, Any], error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "config.json", config)
    code, report = _evaluate(tmp_path, baseline_plan(), capsys, "--config", str(path))
    assert code == 2
    assert error in report["stderr"]


def test_a_valid_config_is_accepted_and_hashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        "config.json",
        {"aws-ec2-securitygroup-disallow-public-ingress": {"allowedPublicPorts": [443]}},
    )
    code, report = _evaluate(tmp_path, baseline_plan(), capsys, "--config", str(path))
    assert code == 0
    _, plain = _evaluate(tmp_path, baseline_plan(), capsys)
    assert report["configSha256"] != plain["configSha256"]


def test_disabled_and_advisory_controls_are_never_shown_as_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        "config.json",
        {
            "aws-rds-instance-disallow-public-access": "disabled",
            "aws-elasticache-replicationgroup-disallow-unencrypted-transit": "advisory",
        },
    )
    plan = mutated("orders-cache", ("transitEncryptionEnabled",), False)
    code, report = _evaluate(tmp_path, plan, capsys, "--config", str(path))
    assert code == 0
    status = {p["name"]: p["statusText"] for p in report["policies"]}
    assert status["aws-rds-instance-disallow-public-access"] == "NOT TESTED (disabled)"
    assert status["aws-elasticache-replicationgroup-disallow-unencrypted-transit"] == (
        "WARN (advisory finding)"
    )
    fsbp = {r["requirement"]: r["status"] for r in report["frameworks"][AWS_FSBP.title]}
    assert fsbp["ElastiCache.5"] == "ADVISORY FINDING"
    assert fsbp["RDS.2"] == "NOT TESTED (control disabled)"
    pci = {r["requirement"]: r["status"] for r in report["frameworks"][PCI_DSS.title]}
    assert "PASS" not in pci.values()  # infrastructure code is partial evidence for PCI DSS


def test_requirement_status_is_partial_for_process_frameworks() -> None:
    evaluation = run(baseline_plan())
    passing = [r for r in evaluation.results if r.status == "pass"][:1]
    assert requirement_status(PCI_DSS, passing).startswith("NO AUTOMATED FINDING")
    assert requirement_status(AWS_FSBP, passing) == "PASS"


def test_evidence_lists_urns_and_what_no_control_looked_at() -> None:
    evaluation = run(mutated(*PUBLIC_DB))
    result = next(
        r for r in evaluation.results if r.name == "aws-rds-instance-disallow-public-access"
    )
    assert PUBLIC_DB_URN in result.evaluated and result.failed == [PUBLIC_DB_URN]
    assert len(result.passed) == len(result.evaluated) - 1
    unexamined = {type_ for _, type_ in evaluation.unexamined}
    assert "pulumi:providers:aws" in unexamined  # seen by the allow-list only
    assert "aws:rds/cluster:Cluster" not in unexamined


@contextlib.contextmanager
def broken_stack_control(name: str, error: Exception) -> Iterator[Any]:
    """A mandatory stack control whose check raises `error`, registered while in use."""
    from policies.framework import REGISTRY

    @stack_control(
        name=name,
        description="A stack control whose check raises.",
        category="Test",
        severity=HIGH,
        enforcement=MANDATORY,
        frameworks=(),
        remediation="-",
    )
    def broken(stack: Stack, rep: Reporter, _cfg: Any) -> None:
        raise error

    try:
        yield broken
    finally:
        REGISTRY.remove(broken)


def test_a_stack_check_that_cannot_run_is_not_a_pass() -> None:
    error = RuntimeError("inventory service unreachable")
    with broken_stack_control("test-broken-stack-check", error) as broken:
        evaluation = run(baseline_plan(), broken)
    [result] = evaluation.results
    assert result.status == "not-evaluated" and result.violations == 0
    assert "could not run (RuntimeError: inventory service unreachable)" in result.error
    [note] = evaluation.notes
    assert "not known yet" in note.message or "could not run" in note.message


def test_every_control_has_remediation_severity_and_a_public_anchor_or_reason() -> None:
    for policy in all_policies():
        assert policy.remediation_steps and policy.severity is not None, policy.name


def test_under_the_engine_a_broken_stack_check_becomes_the_cant_run_diagnostic() -> None:
    """pulumi-policy turns UnknownValueError into its advisory "can't run policy" message."""
    from pulumi_policy import StackValidationArgs
    from pulumi_policy.proxy import UnknownValueError

    reported: list[str] = []
    with (
        broken_stack_control("test-broken-under-engine", KeyError("missing")) as broken,
        pytest.raises(UnknownValueError) as caught,
    ):
        broken.validate(StackValidationArgs([], {}), lambda m, u=None: reported.append(m))
    assert reported == []  # no violation, and no silent pass either
    assert "could not run (KeyError" in caught.value.message


def test_sse_s3_is_accepted_only_for_a_load_balancer_access_log_bucket() -> None:
    """ALB access logs support SSE-S3 only: such a bucket is told apart by its policy."""
    from policies import all_policies as pack

    control = next(p for p in pack() if p.name == "aws-s3-bucket-require-customer-managed-key")
    elb_writes = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::054676820928:root"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::alb-logs/*",
    }

    def bucket(*statements: dict[str, Any], sse: str | None = "AES256") -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = [
            {
                "type": "aws:s3/bucket:Bucket",
                "name": "logs",
                "region": "eu-central-1",
                "inputs": {"bucket": "alb-logs"},
            },
            {
                "type": "aws:s3/bucketPolicy:BucketPolicy",
                "name": "logs-policy",
                "region": "eu-central-1",
                "inputs": {
                    "bucket": "alb-logs",
                    "policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
                },
            },
        ]
        if sse:
            entries.append(
                {
                    "type": "aws:s3/bucketServerSideEncryptionConfiguration:"
                    "BucketServerSideEncryptionConfiguration",
                    "name": "logs-sse",
                    "region": "eu-central-1",
                    "inputs": {
                        "bucket": "alb-logs",
                        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": sse}}],
                    },
                }
            )
        return entries

    assert run(bucket(elb_writes), control).violations == []
    assert len(run(bucket(elb_writes, sse=None), control).violations) == 1
    other = dict(elb_writes, Principal={"AWS": "arn:aws:iam::999999999999:root"})
    assert len(run(bucket(other), control).violations) == 1

"""Per control: the baseline passes, a one-property mutation violates it with the exact
message, and an unknown value (as during `pulumi preview`) neither crashes nor fails."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policies import all_policies
from policies.framework import ANY_TYPE, ControlResourcePolicy

from .case_model import Case, ExtraCase
from .cases_core_operations import OPERATIONS_CASES, UNKNOWN_CASES
from .cases_core_protection import PROTECTION_CASES
from .cases_extra import EXTRA_CASES, EXTRA_UNKNOWN_CASES
from .fixtures import (
    ACCOUNT,
    PRIMARY,
    UNKNOWN,
    baseline_plan,
    mutated,
    run,
    set_path,
)

POLICIES = {p.name: p for p in all_policies()}
CASES = [*PROTECTION_CASES, *OPERATIONS_CASES]


# Prohibitions: any resource in scope is a violation, so the baseline has none.
NOTHING_IN_SCOPE_BY_DESIGN = {
    "kubernetes-pod-disallow-bare-pod",
    "aws-elasticache-cluster-disallow-standalone",
}


def test_every_control_has_a_mutation_and_an_unknown_case() -> None:
    assert set(POLICIES) == {case.policy for case in CASES} | {c.policy for c in EXTRA_CASES}
    assert set(POLICIES) == set(UNKNOWN_CASES) | set(EXTRA_UNKNOWN_CASES)


@pytest.fixture(scope="module")
def baseline_evaluation() -> Any:
    return run(baseline_plan())


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_baseline_passes(name: str, baseline_evaluation: Any) -> None:
    result = next(r for r in baseline_evaluation.results if r.name == name)
    assert result.status in ("pass", "not-applicable"), [
        v.message for v in baseline_evaluation.violations if v.policy == name
    ]
    assert (result.in_scope > 0) is (name not in NOTHING_IN_SCOPE_BY_DESIGN)
    assert not [n for n in baseline_evaluation.notes if n.policy == name]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_mutation_violates_with_exact_message(case: Case) -> None:
    evaluation = run(mutated(case.resource, case.path, case.value), POLICIES[case.policy])
    found = [(v.resource_name, v.message) for v in evaluation.violations]
    assert found == [(case.violator or case.resource, case.message)]
    assert evaluation.violations[0].enforcement == POLICIES[case.policy].meta.enforcement.value


@pytest.mark.parametrize("case", EXTRA_CASES, ids=lambda c: c.id)
def test_extra_mutation_violates_with_exact_messages(case: ExtraCase) -> None:
    plan = baseline_plan()
    if case.add is not None:
        plan.append(case.add)
    else:
        set_path(plan, case.resource, case.path, case.value)
    evaluation = run(plan, POLICIES[case.policy])
    found = tuple((v.resource_name, v.message) for v in evaluation.violations)
    assert found == case.expected


@pytest.mark.parametrize("name", sorted(EXTRA_UNKNOWN_CASES))
def test_extra_unknown_value_is_skipped_with_a_note_or_accepted(name: str) -> None:
    resource, path, expected = EXTRA_UNKNOWN_CASES[name]
    plan = baseline_plan()
    set_path(plan, resource, path, UNKNOWN)
    evaluation = run(plan, POLICIES[name])
    assert evaluation.violations == []
    notes = [n for n in evaluation.notes if n.policy == name]
    if expected == "note":
        assert notes and all("not known yet (unknown during preview)" in n.message for n in notes)
    else:
        assert notes == []


@pytest.mark.parametrize("name", sorted(UNKNOWN_CASES))
def test_unknown_value_is_skipped_with_a_note_or_accepted(name: str) -> None:
    resource, path, expected = UNKNOWN_CASES[name]
    evaluation = run(mutated(resource, path, UNKNOWN), POLICIES[name])
    assert evaluation.violations == []
    notes = [n for n in evaluation.notes if n.policy == name]
    if expected == "note":
        assert notes
        assert all("not known yet (unknown during preview)" in n.message for n in notes)
    else:
        assert notes == []


def _args(
    type_: str, props: dict[str, Any], config: dict[str, Any] | None = None
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        type_,
        unknown_checking_proxy(props),
        f"urn:pulumi:s::p::{type_}::r",
        "r",
        PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), []),
        None,
        config=config or {},
    )


def test_direct_validate_raises_unknown_value_error_like_the_sdk_expects() -> None:
    """Under the CLI an unknown becomes pulumi-policy's advisory "can't run during preview"."""
    policy = POLICIES["aws-rds-cluster-backup-retention"]
    assert isinstance(policy, ControlResourcePolicy)
    reported: list[str] = []
    with pytest.raises(UnknownValueError) as caught:
        policy.validate(
            _args("aws:rds/cluster:Cluster", {"backupRetentionPeriod": UNKNOWN}),
            lambda m, u=None: reported.append(m),
        )
    assert reported == []
    assert (
        caught.value.message
        == "backupRetentionPeriod is not known yet (unknown during preview); not evaluated"
    )


def test_config_threshold_is_honoured() -> None:
    policy = POLICIES["aws-rds-cluster-backup-retention"]
    reported: list[str] = []
    policy.validate(
        _args("aws:rds/cluster:Cluster", {"backupRetentionPeriod": 14}, {"minRetentionDays": 30}),
        lambda m, u=None: reported.append(m),
    )
    assert reported == [
        "Backup retention is 14 days; the minimum is 30 days (backupRetentionPeriod)."
    ]


def test_output_shapes_from_stack_export_are_understood() -> None:
    """Outputs may nest single blocks in lists and carry numbers as strings and secrets wrapped."""
    eks = POLICIES["aws-eks-cluster-disallow-unencrypted-secrets"]
    reported: list[str] = []
    shape = {
        "encryptionConfig": [
            {"provider": [{"keyArn": "arn:aws:kms:eu-central-1:1:key/k"}], "resources": ["secrets"]}
        ]
    }
    eks.validate(_args("aws:eks/cluster:Cluster", shape), lambda m, u=None: reported.append(m))
    retention = POLICIES["aws-rds-cluster-backup-retention"]
    retention.validate(
        _args("aws:rds/cluster:Cluster", {"backupRetentionPeriod": "21"}),
        lambda m, u=None: reported.append(m),
    )
    secret = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "plaintext": json.dumps(True),
    }
    storage = POLICIES["aws-rds-cluster-disallow-unencrypted-storage"]
    storage.validate(
        _args("aws:rds/cluster:Cluster", {"storageEncrypted": secret}),
        lambda m, u=None: reported.append(m),
    )
    assert reported == []


def test_resource_controls_are_not_applicable_to_other_types() -> None:
    for policy in POLICIES.values():
        if isinstance(policy, ControlResourcePolicy) and ANY_TYPE not in policy.meta.resource_types:
            reported: list[str] = []
            with pytest.raises(_NotApplicableError) as caught:
                policy.validate(
                    _args("aws:lightsail/instance:Instance", {}),
                    lambda m, u=None, r=reported: r.append(m),
                )
            assert reported == [] and caught.value.reason.startswith("applies to ")


def test_engine_property_dependencies_resolve_unknown_key_references() -> None:
    """During a real preview a new key's ARN is unknown; the dependency graph still names it."""
    from policies.evaluate import parse_plan

    subjects = parse_plan(mutated("orders-primary", ("kmsKeyId",), UNKNOWN), "<fixture>")
    cluster = next(s for s in subjects if s.name == "orders-primary")
    key = next(s for s in subjects if s.name == "db-key")
    cluster.property_dependencies = {"kmsKeyId": [key.urn]}
    evaluation = run(subjects, POLICIES["aws-kms-data-store-keys-managed-in-stack"])
    assert evaluation.violations == [] and evaluation.notes == []
    key.props["enableKeyRotation"] = False
    evaluation = run(subjects, POLICIES["aws-kms-data-store-keys-managed-in-stack"])
    assert (
        "aws:rds/cluster:Cluster 'orders-primary' uses KMS key 'db-key', which has rotation "
        "disabled (kmsKeyId)." in [v.message for v in evaluation.violations]
    )


def test_vpc_subnets_in_too_few_azs() -> None:
    evaluation = run(
        mutated("isolated-2", ("availabilityZone",), f"{PRIMARY}a"),
        POLICIES["aws-multi-az-subnets"],
    )
    assert [(v.resource_name, v.message) for v in evaluation.violations] == [
        ("(stack)", "Subnets in eu-central-1 span 2 AZ(s); at least 3 are required."),
        (
            "db-subnets",
            "aws:rds/subnetGroup:SubnetGroup 'db-subnets' spans 2 AZ(s)/subnet(s); at least 3 are "
            "required (subnetIds).",
        ),
        (
            "cache-subnets",
            "aws:elasticache/subnetGroup:SubnetGroup 'cache-subnets' spans 2 AZ(s)/subnet(s); at "
            "least 3 are required (subnetIds).",
        ),
        (
            "nodes",
            "eks:index:ManagedNodeGroup 'nodes' spans 2 AZ(s)/subnet(s); at least 3 are required "
            "(subnetIds).",
        ),
    ]


def test_key_from_another_region_is_reported() -> None:
    plan = mutated("standby-vault", ("kmsKeyArn",), f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/backup01")
    evaluation = run(plan, POLICIES["aws-kms-data-store-keys-managed-in-stack"])
    assert [v.message for v in evaluation.violations] == [
        "aws:backup/vault:Vault 'standby-vault' in eu-west-1 uses KMS key 'backup-key' from "
        "eu-central-1 "
        "(kmsKeyArn)."
    ]


def test_public_ports_can_be_allowed_for_a_load_balancer_group() -> None:
    policy = POLICIES["aws-ec2-securitygroup-disallow-public-ingress"]
    rule = {
        "type": "ingress",
        "protocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrBlocks": ["0.0.0.0/0"],
    }
    reported: list[str] = []
    config = {"allowedPublicPorts": [443]}
    policy.validate(
        _args("aws:ec2/securityGroupRule:SecurityGroupRule", rule, config),
        lambda m, u=None: reported.append(m),
    )
    assert reported == []
    policy.validate(
        _args("aws:ec2/securityGroupRule:SecurityGroupRule", {**rule, "protocol": "-1"}, config),
        lambda m, u=None: reported.append(m),
    )
    assert reported == ["Security group allows all traffic from the whole internet (0.0.0.0/0)."]

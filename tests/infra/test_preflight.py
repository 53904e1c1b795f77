"""The pre-flight's calls pinned with botocore's Stubber: exact operations, parameters and
order, and a PASS/FAIL that follows the answers (no AWS account involved)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infra import preflight
from infra.config import StackConfig, load_config
from infra.plan import load_stack_settings

from .conftest import ROOT

TODAY = dt.date(2026, 12, 3)
ACCOUNT = "210987654321"


@pytest.fixture(scope="module")
def cfg() -> StackConfig:
    settings = load_stack_settings(ROOT / "Pulumi.prod.yaml", [])
    return load_config(settings.config.get)


class Stubs:
    """One stubbed client per (service, region), created on first use."""

    def __init__(self) -> None:
        self.stubbers: dict[tuple[str, str], Stubber] = {}
        self.clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self.clients:
            client = boto3.session.Session(
                aws_access_key_id="test",
                aws_secret_access_key="test",
            ).client(service, region_name=region)
            self.clients[key] = client
            self.stubbers[key] = Stubber(client)
            self.stubbers[key].activate()
        return self.clients[key]

    def expect(
        self,
        service: str,
        region: str,
        operation: str,
        response: dict[str, Any],
        params: dict[str, Any] | None = None,
    ) -> None:
        self.client(service, region)
        self.stubbers[(service, region)].add_response(operation, response, params)

    def error(self, service: str, region: str, operation: str, code: str) -> None:
        self.client(service, region)
        self.stubbers[(service, region)].add_client_error(
            operation, service_error_code=code, http_status_code=404
        )

    def assert_all_used(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    s = Stubs()
    yield s
    s.assert_all_used()


def caller(stubs: Stubs) -> preflight.Caller:
    return preflight.Caller(stubs.client)


def test_aurora_version_and_classes_orderable_in_both_regions(
    cfg: StackConfig, stubs: Stubs
) -> None:
    for region in ("eu-central-1", "eu-west-1"):
        stubs.expect(
            "rds",
            region,
            "describe_db_engine_versions",
            {
                "DBEngineVersions": [
                    {
                        "Engine": "aurora-postgresql",
                        "EngineVersion": "17.7",
                        "SupportsGlobalDatabases": region == "eu-central-1",
                    }
                ]
            },
            {"Engine": "aurora-postgresql", "EngineVersion": "17.7", "IncludeAll": False},
        )
        zones = [{"Name": f"{region}{z}"} for z in "abc"]
        stubs.expect(
            "rds",
            region,
            "describe_orderable_db_instance_options",
            {"OrderableDBInstanceOptions": [{"AvailabilityZones": zones}]},
            {
                "Engine": "aurora-postgresql",
                "EngineVersion": "17.7",
                "DBInstanceClass": "db.r6g.large",
            },
        )
    results = list(preflight.check_aurora(cfg, caller(stubs)))
    assert [r.ok for r in results] == [True, True, False, True]
    assert "SupportsGlobalDatabases=False" in results[2].evidence


def test_service_linked_roles_exist_or_will_be_created(cfg: StackConfig, stubs: Stubs) -> None:
    for role in preflight.SERVICE_LINKED_ROLES:
        if role == "AWSServiceRoleForAutoScaling":
            stubs.error("iam", "eu-central-1", "get_role", "NoSuchEntity")
        else:
            stubs.expect(
                "iam",
                "eu-central-1",
                "get_role",
                {
                    "Role": {
                        "Path": "/aws-service-role/",
                        "RoleName": role,
                        "RoleId": "AROAEXAMPLEEXAMPLE1",
                        "Arn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/x/{role}",
                        "CreateDate": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                    }
                },
                {"RoleName": role},
            )
    results = list(preflight.check_service_linked_roles(cfg, caller(stubs)))
    assert all(r.ok for r in results)
    assert "will be created by this stack" in results[0].evidence


def test_an_existing_autoscaling_role_the_stack_would_create_again_fails(
    cfg: StackConfig, stubs: Stubs
) -> None:
    stubs.expect(
        "iam",
        "eu-central-1",
        "get_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": "AWSServiceRoleForAutoScaling",
                "RoleId": "AROAEXAMPLEEXAMPLE1",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/x",
                "CreateDate": dt.datetime(2024, 1, 1),
            }
        },
    )
    first = next(iter(preflight.check_service_linked_roles(cfg, caller(stubs))))
    assert not first.ok and "createAutoScalingServiceLinkedRole false" in first.evidence


@pytest.mark.parametrize(
    ("status", "end", "ok"),
    [
        ("STANDARD_SUPPORT", dt.datetime(2027, 3, 27), True),
        ("EXTENDED_SUPPORT", dt.datetime(2026, 12, 2), False),
    ],
)
def test_eks_version_must_be_in_standard_support(
    cfg: StackConfig, stubs: Stubs, status: str, end: dt.datetime, ok: bool
) -> None:
    for region in ("eu-central-1", "eu-west-1"):
        stubs.expect(
            "eks",
            region,
            "describe_cluster_versions",
            {
                "clusterVersions": [
                    {"clusterVersion": "1.35", "status": status, "endOfStandardSupportDate": end}
                ]
            },
            {"clusterVersions": ["1.35"]},
        )
    results = list(preflight.check_eks_version(cfg, caller(stubs), TODAY))
    assert [r.ok for r in results] == [ok, ok]


def test_every_pinned_chart_version_must_be_in_its_repository_index(cfg: StackConfig) -> None:
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        # One index per repository; prometheus-community's lists two of our charts.
        charts = [c for r, c in preflight.CHART_REPOSITORIES.values() if url.startswith(r)]
        pinned = [
            cfg.addons.load_balancer_controller_chart,
            cfg.addons.argo_rollouts_chart,
            cfg.addons.prometheus_chart,
            cfg.addons.cluster_autoscaler_chart,
            cfg.addons.metrics_server_chart,
            cfg.addons.alertmanager_chart,
            cfg.addons.cloudwatch_exporter_chart,
        ]
        entries = {c: [{"version": v} for v in (["0.0.1"] if c == "keda" else pinned)]
                   for c in charts}
        return json.dumps({"entries": entries}).encode()

    results = {r.name.split()[1]: r.ok for r in preflight.check_charts(cfg, fetch, False)}
    assert results == {
        "aws-load-balancer-controller": True,
        "argo-rollouts": True,
        "keda": False,
        "prometheus": True,
        "cluster-autoscaler": True,
        "metrics-server": True,
        "alertmanager": True,
        "prometheus-yet-another-cloudwatch-exporter": True,
    }
    assert all(u.startswith("https://") and u.endswith("/index.yaml") for u in fetched)


def test_pod_role_policies_are_simulated_with_their_context_keys(
    cfg: StackConfig, stubs: Stubs
) -> None:
    stubs.expect(
        "sts",
        "eu-central-1",
        "get_caller_identity",
        {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/x", "UserId": "AIDAX"},
    )
    simulations = preflight.pod_role_simulations(cfg, cfg.primary, ACCOUNT)
    for sim in simulations:
        params: dict[str, Any] = {
            "PolicyInputList": [sim["policy"]],
            "ActionNames": sim["actions"],
            "ResourceArns": sim["resources"],
        }
        if sim["context"]:
            params["ContextEntries"] = sim["context"]
        decision = "implicitDeny" if sim["role"] == "keda-operator" else "allowed"
        stubs.expect(
            "iam",
            "eu-central-1",
            "simulate_custom_policy",
            {
                "EvaluationResults": [
                    {"EvalActionName": a, "EvalDecision": decision} for a in sim["actions"]
                ]
            },
            params,
        )
    results = list(preflight.check_pod_roles(cfg, caller(stubs)))
    assert [r.ok for r in results] == [s["role"] != "keda-operator" for s in simulations]
    lbc = simulations[0]
    assert lbc["context"][0]["ContextKeyName"] == "aws:RequestTag/elbv2.k8s.aws/cluster"
    autoscaler = simulations[1]["context"][0]["ContextKeyName"]
    assert autoscaler == "aws:ResourceTag/k8s.io/cluster-autoscaler/orders-prod-primary"
    # The bootstrap's key grant holds only for calls Secrets Manager makes on its behalf.
    (via,) = simulations[-1]["context"]
    assert via["ContextKeyName"] == "kms:ViaService"
    assert via["ContextKeyValues"] == ["secretsmanager.eu-central-1.amazonaws.com"]


def test_quotas_leave_room_for_the_stack(cfg: StackConfig, stubs: Stubs) -> None:
    limits = {"L-F678F1CE": 5.0, "L-0263D0A3": 5.0, "L-FE5A380F": 5.0}
    for region in ("eu-central-1", "eu-west-1"):
        stubs.expect(
            "ec2", region, "describe_vpcs", {"Vpcs": [{"VpcId": f"vpc-{i}"} for i in range(4)]}
        )
        stubs.expect(
            "ec2",
            region,
            "describe_addresses",
            {
                "Addresses": [{"AllocationId": f"eipalloc-{i}"} for i in range(3)]
                if region == "eu-west-1"
                else []
            },
        )
        stubs.expect(
            "ec2",
            region,
            "describe_nat_gateways",
            {"NatGateways": [{"SubnetId": "subnet-a"}]},
            {"Filters": [{"Name": "state", "Values": ["pending", "available"]}]},
        )
        stubs.expect(
            "ec2",
            region,
            "describe_subnets",
            {"Subnets": [{"SubnetId": "subnet-a", "AvailabilityZone": f"{region}a"}]},
            {"SubnetIds": ["subnet-a"]},
        )
        for service_code, quota_code, _label, _needed in preflight.QUOTAS:
            stubs.expect(
                "service-quotas",
                region,
                "get_service_quota",
                {"Quota": {"Value": limits[quota_code]}},
                {"ServiceCode": service_code, "QuotaCode": quota_code},
            )
    results = {r.name: r for r in preflight.check_quotas(cfg, caller(stubs))}
    assert results["quota VPCs per Region in eu-central-1"].ok  # 4 used + 1 <= 5
    assert results["quota EC2-VPC Elastic IPs in eu-central-1"].ok  # 0 + 3 <= 5
    assert not results["quota EC2-VPC Elastic IPs in eu-west-1"].ok  # 3 + 3 > 5
    assert results["quota NAT gateways per Availability Zone in eu-west-1"].ok


def test_dry_run_prints_every_call_and_makes_none(cfg: StackConfig) -> None:
    out = io.StringIO()

    def no_client(service: str, region: str) -> Any:
        raise AssertionError("a dry run must not create a client")

    def no_fetch(url: str) -> bytes:
        raise AssertionError("a dry run must not fetch")

    call = preflight.Caller(no_client, dry_run=True, out=out)
    preflight.run_checks(cfg, call, no_fetch, TODAY)
    lines = out.getvalue().splitlines()
    assert sum("rds.describe_db_engine_versions" in line for line in lines) == 2
    assert sum("iam.simulate_custom_policy" in line for line in lines) == 9
    assert sum(line.startswith("would fetch https://") for line in lines) == 8
    assert any("service-quotas.get_service_quota in eu-west-1" in line for line in lines)
    # the service image in both regions, the restore verifier image in the primary
    assert sum("ecr.describe_images" in line for line in lines) == 3


DIGEST = "sha256:" + "ab" * 32


VERIFIER_DIGEST = "sha256:" + "cd" * 32


def _with_digest(cfg: StackConfig, digest: str) -> StackConfig:
    return dataclasses.replace(cfg, workload=dataclasses.replace(
        cfg.workload, image_digest=digest, restore_verifier_image_digest=VERIFIER_DIGEST))


def test_the_image_digest_must_exist_in_each_regions_repository(
    cfg: StackConfig, stubs: Stubs
) -> None:
    pinned = _with_digest(cfg, DIGEST)
    for region in ("eu-central-1", "eu-west-1"):
        params = {
            "registryId": "123456789012",
            "repositoryName": "orders-service",
            "imageIds": [{"imageDigest": DIGEST}],
        }
        if region == "eu-central-1":
            details = {"imageDigest": DIGEST, "imageTags": ["0.1.0"], "registryId": "123456789012",
                       "repositoryName": "orders-service"}
            stubs.expect("ecr", region, "describe_images", {"imageDetails": [details]}, params)
        else:  # not replicated (yet) to the standby's repository
            stubs.client("ecr", region)
            stubs.stubbers[("ecr", region)].add_client_error(
                "describe_images", "ImageNotFoundException", http_status_code=400,
                expected_params=params,
            )
    # the restore jobs' image: the primary region only, under its own tag and digest
    verifier = {"imageDigest": VERIFIER_DIGEST, "imageTags": ["0.1.0-restore-verifier"],
                "registryId": "123456789012", "repositoryName": "orders-service"}
    stubs.expect("ecr", "eu-central-1", "describe_images", {"imageDetails": [verifier]},
                 {"registryId": "123456789012", "repositoryName": "orders-service",
                  "imageIds": [{"imageDigest": VERIFIER_DIGEST}]})
    results = list(preflight.check_image(pinned, caller(stubs)))
    assert [r.ok for r in results] == [True, False, True]
    assert results[2].name.startswith(f"image 0.1.0-restore-verifier@{VERIFIER_DIGEST}")
    assert results[0].name.endswith(
        "in 123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-service"
    )
    assert "tags=['0.1.0']" in results[0].evidence
    assert "ImageNotFoundException" in results[1].evidence
    assert "eu-west-1" in results[1].name


def test_the_all_zero_placeholder_digest_fails_and_says_what_to_set(
    cfg: StackConfig, stubs: Stubs
) -> None:
    assert cfg.workload.image_digest == preflight.PLACEHOLDER_DIGEST  # as in Pulumi.prod.yaml
    results = list(preflight.check_image(cfg, caller(stubs)))  # no call: nothing stubbed
    assert len(results) == 3 and not any(r.ok for r in results)
    assert all("set it to the digest" in r.evidence for r in results)
    assert all("workload.imageDigest" in r.evidence for r in results[:2])
    assert "workload.restoreVerifierImageDigest" in results[2].evidence

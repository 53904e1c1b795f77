"""Shared fakes for the AWS scenario tests: outputs, a fake clock and HTTP, the `Drill`
harness and canned AWS responses. Every AWS call is answered by a botocore Stubber, every
HTTP call by an httpx.MockTransport; credentials are dummies from the environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.stub import Stubber

import contract
from chaos.aws.calls import CallLayer
from chaos.aws.cli import make_scenario
from chaos.aws.outputs import StackOutputs
from chaos.aws.runner import execute
from chaos.aws.scenarios import AwsContext, DrillOptions
from tests.chaos.fis_reference import template_problems

PRIMARY, STANDBY = "eu-west-1", "eu-central-1"
ACCOUNT = "123456789012"
PRIMARY_ARN = f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:cluster:orders-primary"
STANDBY_ARN = f"arn:aws:rds:{STANDBY}:{ACCOUNT}:cluster:orders-standby"
OUTPUTS: dict[str, str] = {
    "primaryRegion": PRIMARY,
    "standbyRegion": STANDBY,
    "globalClusterId": "orders-global",
    "primaryClusterId": "orders-primary",
    "primaryClusterArn": PRIMARY_ARN,
    "standbyClusterArn": STANDBY_ARN,
    "redisReplicationGroupId": "orders-redis",
    "queueUrl": f"https://sqs.{PRIMARY}.amazonaws.com/{ACCOUNT}/orders.fifo",
    "apiEndpoint": "https://api.orders.example.com",
    "primaryHealthCheckId": "hc-primary",
    "standbyHealthCheckId": "hc-standby",
    "fisRoleArn": f"arn:aws:iam::{ACCOUNT}:role/orders-fis",
    "eksClusterName": "orders",
    "serviceNamespace": "orders",
}
READY_URL = "https://api.orders.example.com/health/ready"
K8S = "https://k8s.example.internal"



@pytest.fixture(autouse=True)
def dummy_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": PRIMARY,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("KUBE_TOKEN", raising=False)


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.start = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class Http:
    """Scripted health probe: answers READY_URL from `statuses` (last one repeats)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = statuses or [200]
        self.seen: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == READY_URL
        self.seen.append(str(request.url))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return httpx.Response(status, json={})


class Drill:
    """A context with stubbed clients; `stub(service, region)` returns the active Stubber."""

    def __init__(self, options: DrillOptions | None = None, **outputs: str) -> None:
        self.lines: list[str] = []
        self.clock = FakeClock()
        self.http = Http()
        session = boto3.Session(region_name=PRIMARY)
        self.calls = CallLayer(
            session,
            dry_run=bool(options and options.dry_run),
            emit=self.lines.append,
            clock=self.clock,
        )
        self.ctx = AwsContext(
            outputs=StackOutputs.from_mapping(OUTPUTS | outputs),
            calls=self.calls,
            options=options or DrillOptions(),
            http=httpx.Client(transport=httpx.MockTransport(self.http.handler)),
            session=session,
            token=lambda: "token-1",
        )
        self.stubbers: dict[tuple[str, str], Stubber] = {}

    def stub(self, service: str, region: str = PRIMARY) -> Stubber:
        key = (service, region)
        if key not in self.stubbers:
            stubber = Stubber(self.calls.client(service, region))
            stubber.activate()
            self.stubbers[key] = stubber
        return self.stubbers[key]

    def run(self, name: str) -> dict[str, Any]:
        report = execute(make_scenario(name, self.ctx))
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()
        return report

    def mutating(self) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        return [(c.service, c.operation, c.region, c.params) for c in self.calls.mutating_calls()]


# -- canned responses ----------------------------------------------------------------------
def cluster(status: str = "available", writer: str = "db-1", members: tuple[str, ...] = (
        "db-1", "db-2", "db-3")) -> dict[str, Any]:
    return {
        "DBClusters": [
            {
                "DBClusterIdentifier": "orders-primary",
                "Status": status,
                "DBClusterMembers": [
                    {"DBInstanceIdentifier": m, "IsClusterWriter": m == writer} for m in members
                ],
            }
        ]
    }


def instances(zones: dict[str, str], status: str = "available") -> dict[str, Any]:
    return {
        "DBInstances": [
            {"DBInstanceIdentifier": i, "AvailabilityZone": z, "DBInstanceStatus": status}
            for i, z in zones.items()
        ]
    }


ZONES = {"db-1": "eu-west-1a", "db-2": "eu-west-1b", "db-3": "eu-west-1c"}
CLUSTER_Q = {"DBClusterIdentifier": "orders-primary"}
INSTANCES_Q = {"Filters": [{"Name": "db-cluster-id", "Values": ["orders-primary"]}]}
RG_Q = {"ReplicationGroupId": "orders-redis"}


def group(primary: str = "orders-redis-001", status: str = "available",
          failover: str = "enabled") -> dict[str, Any]:
    members = ["orders-redis-001", "orders-redis-002"]
    return {
        "ReplicationGroups": [
            {
                "ReplicationGroupId": "orders-redis",
                "Status": status,
                "AutomaticFailover": failover,
                "MultiAZ": "enabled",
                "NodeGroups": [
                    {
                        "NodeGroupId": "0001",
                        "NodeGroupMembers": [
                            {
                                "CacheClusterId": m,
                                "PreferredAvailabilityZone": f"eu-west-1{'ab'[i]}",
                                "CurrentRole": "primary" if m == primary else "replica",
                            }
                            for i, m in enumerate(members)
                        ],
                    }
                ],
            }
        ]
    }


def expect_primary_cluster(d: Drill, zones: dict[str, str] = ZONES) -> Stubber:
    rds = d.stub("rds")
    rds.add_response("describe_db_clusters", cluster(), CLUSTER_Q)
    rds.add_response("describe_db_instances", instances(zones), INSTANCES_Q)
    return rds


def created_template(d: Drill) -> dict[str, Any]:
    """The parameters of the drill's one create_experiment_template call."""
    (params,) = [c.params for c in d.calls.mutating_calls()
                 if c.operation == "create_experiment_template"]
    return params


# The scenario library's tag values (AWS FIS "AZ Availability: Power Interruption").
AZ_POWER_TAG_VALUES = {"StopInstances", "IceAsg", "DisruptSubnet", "ElasticacheImpact"}


def _tag_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    for target in template["targets"].values():
        tags = target.get("resourceTags", {})
        if tags and (set(tags) != {contract.FIS_AZ_POWER_TAG}
                     or not set(tags.values()) <= AZ_POWER_TAG_VALUES):
            problems.append(f"{target['resourceType']}: tags {tags}")
    return problems


def check_zone_template(template: dict[str, Any], zone: str) -> None:
    """The template is a valid FIS request (botocore model, FIS actions reference) and
    every target and zonal parameter points at `zone` only."""
    problems = template_problems(template) + _tag_problems(template)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for target in template["targets"].values():
        by_type.setdefault(target["resourceType"], []).append(target)
    zone_filter = {"path": "Placement.AvailabilityZone", "values": [zone]}
    if not all(zone_filter in t.get("filters", []) for t in by_type["aws:ec2:instance"]):
        problems.append(f"an instance target is not limited to {zone}")
    for subnet in by_type["aws:ec2:subnet"]:
        if {"path": "AvailabilityZone", "values": [zone]} not in subnet.get("filters", []):
            problems.append(f"a subnet target is not limited to {zone}")
    (rds,) = by_type["aws:rds:cluster"]
    if rds["resourceArns"] != [PRIMARY_ARN] or rds["parameters"] != {
            "writerAvailabilityZoneIdentifiers": zone}:
        problems.append(f"the RDS target is not the primary cluster's writer in {zone}: {rds}")
    (cache,) = by_type["aws:elasticache:replicationgroup"]
    if cache["parameters"] != {"availabilityZoneIdentifier": zone}:
        problems.append(f"the ElastiCache target is not {zone}: {cache}")
    for action in template["actions"].values():
        if action["actionId"] == "aws:ec2:asg-insufficient-instance-capacity-error" and (
                action["parameters"]["availabilityZoneIdentifiers"] != zone):
            problems.append(f"insufficient capacity is not injected in {zone}")
    if template["roleArn"] != OUTPUTS["fisRoleArn"]:
        problems.append(f"roleArn {template['roleArn']} is not the stack's FIS role")
    assert problems == [], "\n".join(problems)


def experiment(status: str, reason: str = "") -> dict[str, Any]:
    return {"experiment": {"id": "EXP1", "state": {"status": status, "reason": reason}}}


def expect_zone_prechecks(d: Drill) -> tuple[Stubber, Stubber, Stubber]:
    rds = expect_primary_cluster(d)
    ec = d.stub("elasticache")
    ec.add_response("describe_replication_groups", group(), RG_Q)
    return rds, ec, d.stub("fis")


START = {
    "clientToken": "token-1",
    "experimentTemplateId": "EXT1",
    "tags": {"chaos-drill": "zone-loss", "zone": "eu-west-1a"},
}


SWITCH_TO_STANDBY = {"GlobalClusterIdentifier": "orders-global",
                     "TargetDbClusterIdentifier": STANDBY_ARN}
SWITCH_TO_PRIMARY = {"GlobalClusterIdentifier": "orders-global",
                     "TargetDbClusterIdentifier": PRIMARY_ARN}

"""AWS drill scenarios against botocore Stubbers: the exact calls, their parameters, aborts.

No network: every AWS call is answered by a Stubber, every HTTP call (health probe,
Kubernetes API) by an httpx.MockTransport; credentials are dummies from the environment.
"""

from __future__ import annotations

import argparse
import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.stub import ANY, Stubber

from chaos.aws import cli
from chaos.aws.calls import CallLayer
from chaos.aws.cli import make_scenario
from chaos.aws.kube import KubeApi, eks_token
from chaos.aws.outputs import StackOutputs
from chaos.aws.runner import execute
from chaos.aws.scenarios import AwsContext, DrillOptions
from chaos.drill.report import REPORT_FIELDS
from chaos.drill.verdict import exit_code

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


# -- Aurora in-region ----------------------------------------------------------------------
def test_db_primary_kill_fails_over_and_waits_for_a_new_writer() -> None:
    d = Drill()
    rds = expect_primary_cluster(d)
    rds.add_response("failover_db_cluster", {"DBCluster": {}}, CLUSTER_Q)
    rds.add_response("describe_db_clusters", cluster("failing-over"), CLUSTER_Q)
    rds.add_response("describe_db_clusters", cluster("available", writer="db-2"), CLUSTER_Q)
    d.http.statuses = [200, 503, 200]

    report = d.run("db-primary-kill")

    assert report["verdict"] == "passed", report
    assert d.mutating() == [
        ("rds", "failover_db_cluster", PRIMARY, {"DBClusterIdentifier": "orders-primary"})
    ]
    assert report["details"]["writer_before"] == "db-1"
    assert report["details"]["writer_after"] == "db-2"
    assert report["fault_at"] == "2025-01-01T12:00:00+00:00"
    assert report["time_to_recover_s"] == 10.0  # one 5 s wait for Aurora, one for the probe
    for field in ("scenario", "started_at", "fault_at", "recovered_at", "verdict", "lost"):
        assert field in report
    assert report["lost"] is None  # the checker's field: not measured without load


def test_db_primary_kill_aborts_when_cluster_not_available() -> None:
    d = Drill()
    d.stub("rds").add_response("describe_db_clusters", cluster("modifying"), CLUSTER_Q)

    report = d.run("db-primary-kill")

    assert report["verdict"] == "aborted"
    assert "orders-primary is 'modifying', not 'available'" in report["verdict_reason"]
    assert "nothing injected" in report["verdict_reason"]
    assert d.mutating() == []


def test_db_primary_kill_aborts_on_an_aws_error_in_the_pre_check() -> None:
    d = Drill()
    d.stub("rds").add_client_error(
        "describe_db_clusters", "DBClusterNotFoundFault", "DBCluster orders-primary not found",
        expected_params=CLUSTER_Q,
    )
    report = d.run("db-primary-kill")
    assert report["verdict"] == "aborted"
    assert "DBClusterNotFoundFault" in report["verdict_reason"]
    assert d.mutating() == []


def test_failed_fault_call_is_reported_and_rolled_back() -> None:
    d = Drill()
    _, _, fis = expect_zone_prechecks(d)
    fis.add_response(
        "create_experiment_template", {"experimentTemplate": {"id": "EXT1"}},
        expected_template("eu-west-1a"),
    )
    fis.add_client_error("start_experiment", "ServiceQuotaExceededException", "quota",
                         expected_params=START)
    fis.add_response("delete_experiment_template", {"experimentTemplate": {}}, {"id": "EXT1"})

    report = d.run("zone-loss")

    assert report["verdict"] == "failed"
    assert report["verdict_reason"].startswith(
        "fault injection failed: ServiceQuotaExceededException")
    assert report["fault_at"] is None
    assert [op for _, op, _, _ in d.mutating()] == [
        "create_experiment_template", "start_experiment", "delete_experiment_template"]


def test_eks_token_is_a_presigned_sts_call_for_the_cluster() -> None:
    token = eks_token(boto3.Session(region_name=PRIMARY), "orders", PRIMARY)
    assert token.startswith("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(token.removeprefix("k8s-aws-v1.") + "==").decode()
    assert url.startswith(f"https://sts.{PRIMARY}.amazonaws.com/?Action=GetCallerIdentity")
    assert "x-k8s-aws-id" in url and "X-Amz-Expires=60" in url


def test_db_primary_kill_aborts_when_steady_state_probe_fails() -> None:
    d = Drill()
    d.http.statuses = [503]
    report = d.run("db-primary-kill")
    assert report["verdict"] == "aborted"
    assert "/health/ready is not 200" in report["verdict_reason"]
    assert d.mutating() == []


def test_db_primary_kill_fails_when_no_new_writer_in_time() -> None:
    d = Drill(DrillOptions(recovery_timeout_s=12))
    rds = expect_primary_cluster(d)
    rds.add_response("failover_db_cluster", {"DBCluster": {}}, CLUSTER_Q)
    for _ in range(4):  # t = 0, 5, 10, 15 (> 12: give up)
        rds.add_response("describe_db_clusters", cluster("failing-over"), CLUSTER_Q)

    report = d.run("db-primary-kill")

    assert report["verdict"] == "failed"
    assert "timed out waiting until cluster orders-primary is 'available'" in report["verdict_reason"]


def test_db_leader_node_loss_targets_a_reader_in_another_zone() -> None:
    d = Drill()
    zones = {"db-1": "eu-west-1a", "db-2": "eu-west-1a", "db-3": "eu-west-1c"}
    rds = expect_primary_cluster(d, zones)
    target = {"DBClusterIdentifier": "orders-primary", "TargetDBInstanceIdentifier": "db-3"}
    rds.add_response("failover_db_cluster", {"DBCluster": {}}, target)
    rds.add_response("describe_db_clusters", cluster(writer="db-3"), CLUSTER_Q)

    report = d.run("db-leader-node-loss")

    assert report["verdict"] == "passed", report
    assert d.mutating() == [("rds", "failover_db_cluster", PRIMARY, target)]


def test_db_leader_node_loss_aborts_without_a_reader_in_another_zone() -> None:
    d = Drill()
    expect_primary_cluster(d, {z: "eu-west-1a" for z in ZONES})
    report = d.run("db-leader-node-loss")
    assert report["verdict"] == "aborted"
    assert "no available Aurora reader outside the writer's zone eu-west-1a" in report["verdict_reason"]
    assert d.mutating() == []


# -- ElastiCache ---------------------------------------------------------------------------
def test_redis_primary_kill_calls_test_failover_on_the_primary_node_group() -> None:
    d = Drill()
    ec = d.stub("elasticache")
    ec.add_response("describe_replication_groups", group(), RG_Q)
    params = {"ReplicationGroupId": "orders-redis", "NodeGroupId": "0001"}
    ec.add_response("test_failover", {"ReplicationGroup": {}}, params)
    ec.add_response("describe_replication_groups", group(status="modifying"), RG_Q)
    ec.add_response("describe_replication_groups", group(primary="orders-redis-002"), RG_Q)

    report = d.run("redis-primary-kill")

    assert report["verdict"] == "passed", report
    assert d.mutating() == [("elasticache", "test_failover", PRIMARY, params)]
    assert report["details"]["primary_after"] == "orders-redis-002"


def test_redis_primary_kill_aborts_without_automatic_failover() -> None:
    d = Drill()
    d.stub("elasticache").add_response(
        "describe_replication_groups", group(failover="disabled"), RG_Q
    )
    report = d.run("redis-primary-kill")
    assert report["verdict"] == "aborted"
    assert "automatic failover 'disabled'" in report["verdict_reason"]
    assert d.mutating() == []


def test_redis_primary_kill_aborts_when_group_not_available() -> None:
    d = Drill()
    d.stub("elasticache").add_response(
        "describe_replication_groups", group(status="snapshotting"), RG_Q
    )
    report = d.run("redis-primary-kill")
    assert report["verdict"] == "aborted"
    assert "'snapshotting', not 'available'" in report["verdict_reason"]


# -- zone loss (FIS) -----------------------------------------------------------------------
def expected_template(zone: str) -> dict[str, Any]:
    running = [
        {"path": "State.Name", "values": ["running"]},
        {"path": "Placement.AvailabilityZone", "values": [zone]},
    ]
    return {
        "clientToken": "token-1",
        "description": f"AZ Availability: Power Interruption of {zone} (chaos drill)",
        "roleArn": OUTPUTS["fisRoleArn"],
        "stopConditions": [{"source": "none"}],
        "targets": {
            "EC2-Instances": {
                "resourceType": "aws:ec2:instance",
                "resourceTags": {"AzImpairmentPower": "StopInstances"},
                "filters": running,
                "selectionMode": "ALL",
            },
            "ASG": {
                "resourceType": "aws:ec2:autoscaling-group",
                "resourceTags": {"AzImpairmentPower": "IceAsg"},
                "selectionMode": "ALL",
            },
            "ASG-EC2-Instances": {
                "resourceType": "aws:ec2:instance",
                "resourceTags": {"AzImpairmentPower": "IceAsg"},
                "filters": running,
                "selectionMode": "ALL",
            },
            "Subnet": {
                "resourceType": "aws:ec2:subnet",
                "resourceTags": {"AzImpairmentPower": "DisruptSubnet"},
                "filters": [{"path": "AvailabilityZone", "values": [zone]}],
                "selectionMode": "ALL",
                "parameters": {},
            },
            "RDS-Cluster": {
                "resourceType": "aws:rds:cluster",
                "resourceArns": [PRIMARY_ARN],
                "selectionMode": "ALL",
                "parameters": {"writerAvailabilityZoneIdentifiers": zone},
            },
            "ElastiCache-Cluster": {
                "resourceType": "aws:elasticache:replicationgroup",
                "resourceTags": {"AzImpairmentPower": "ElasticacheImpact"},
                "selectionMode": "ALL",
                "parameters": {"availabilityZoneIdentifier": zone},
            },
        },
        "actions": {
            "Stop-Instances": {
                "actionId": "aws:ec2:stop-instances",
                "parameters": {
                    "startInstancesAfterDuration": "PT10M",
                    "completeIfInstancesTerminated": "true",
                },
                "targets": {"Instances": "EC2-Instances"},
            },
            "Stop-ASG-Instances": {
                "actionId": "aws:ec2:stop-instances",
                "parameters": {
                    "startInstancesAfterDuration": "PT10M",
                    "completeIfInstancesTerminated": "true",
                },
                "targets": {"Instances": "ASG-EC2-Instances"},
            },
            "Pause-ASG-Scaling": {
                "actionId": "aws:ec2:asg-insufficient-instance-capacity-error",
                "parameters": {
                    "availabilityZoneIdentifiers": zone,
                    "duration": "PT10M",
                    "percentage": "100",
                },
                "targets": {"AutoScalingGroups": "ASG"},
            },
            "Pause-Network-Connectivity": {
                "actionId": "aws:network:disrupt-connectivity",
                "parameters": {"duration": "PT2M", "scope": "all"},
                "targets": {"Subnets": "Subnet"},
            },
            "Failover-RDS": {
                "actionId": "aws:rds:failover-db-cluster",
                "parameters": {},
                "targets": {"Clusters": "RDS-Cluster"},
            },
            "Pause-ElastiCache": {
                "actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
                "parameters": {"duration": "PT10M"},
                "targets": {"ReplicationGroups": "ElastiCache-Cluster"},
            },
        },
        "experimentOptions": {
            "accountTargeting": "single-account",
            "emptyTargetResolutionMode": "skip",
        },
        "tags": {"Name": f"az-power-interruption-{zone}", "chaos-drill": "zone-loss"},
    }


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


def test_zone_loss_creates_the_az_power_interruption_template_runs_it_and_cleans_up() -> None:
    d = Drill()
    rds, ec, fis = expect_zone_prechecks(d)
    template = expected_template("eu-west-1a")  # the writer's zone by default
    fis.add_response(
        "create_experiment_template", {"experimentTemplate": {"id": "EXT1"}}, template
    )
    fis.add_response("start_experiment", experiment("initiating"), START)
    fis.add_response("get_experiment", experiment("running"), {"id": "EXP1"})
    fis.add_response("get_experiment", experiment("completed"), {"id": "EXP1"})
    rds.add_response("describe_db_clusters", cluster(writer="db-2"), CLUSTER_Q)
    ec.add_response("describe_replication_groups", group(primary="orders-redis-002"), RG_Q)
    fis.add_response("delete_experiment_template", {"experimentTemplate": {}}, {"id": "EXT1"})

    report = d.run("zone-loss")

    assert report["verdict"] == "passed", report
    assert [op for _, op, _, _ in d.mutating()] == [
        "create_experiment_template",
        "start_experiment",
        "delete_experiment_template",
    ]
    assert report["details"]["zone"] == "eu-west-1a"


def test_zone_loss_uses_the_template_from_the_outputs_and_zone_option() -> None:
    d = Drill(DrillOptions(zone="eu-west-1c"), fisAzPowerInterruptionTemplateId="EXT1")
    _, _, fis = expect_zone_prechecks(d)
    fis.add_response("get_experiment_template", {"experimentTemplate": {"id": "EXT1"}},
                     {"id": "EXT1"})
    start = START | {"tags": {"chaos-drill": "zone-loss", "zone": "eu-west-1c"}}
    fis.add_response("start_experiment", experiment("initiating"), start)
    fis.add_response("get_experiment", experiment("failed", "stop condition"), {"id": "EXP1"})

    report = d.run("zone-loss")

    assert report["verdict"] == "failed"
    assert "FIS experiment ended failed: stop condition" in report["verdict_reason"]
    # a template from infra is neither created nor deleted; a finished experiment not stopped
    assert [op for _, op, _, _ in d.mutating()] == ["start_experiment"]


def test_zone_loss_stops_the_experiment_when_recovery_times_out() -> None:
    d = Drill(DrillOptions(recovery_timeout_s=7), fisAzPowerInterruptionTemplateId="EXT1")
    _, _, fis = expect_zone_prechecks(d)
    fis.add_response("get_experiment_template", {"experimentTemplate": {"id": "EXT1"}},
                     {"id": "EXT1"})
    fis.add_response("start_experiment", experiment("initiating"), START)
    fis.add_response("get_experiment", experiment("running"), {"id": "EXP1"})
    fis.add_response("get_experiment", experiment("running"), {"id": "EXP1"})
    fis.add_response("stop_experiment", experiment("stopping"), {"id": "EXP1"})

    report = d.run("zone-loss")

    assert report["verdict"] == "failed"
    assert [op for _, op, _, _ in d.mutating()] == ["start_experiment", "stop_experiment"]


# -- region level --------------------------------------------------------------------------
GLOBAL_Q = {"GlobalClusterIdentifier": "orders-global"}


def global_cluster(writer: str = PRIMARY_ARN, status: str = "available") -> dict[str, Any]:
    return {
        "GlobalClusters": [
            {
                "GlobalClusterIdentifier": "orders-global",
                "Status": status,
                "GlobalClusterMembers": [
                    {"DBClusterArn": arn, "IsWriter": arn == writer}
                    for arn in (PRIMARY_ARN, STANDBY_ARN)
                ],
            }
        ]
    }


def expect_global_prechecks(d: Drill, region: str) -> Stubber:
    rds = d.stub("rds", region)
    rds.add_response("describe_global_clusters", global_cluster(), GLOBAL_Q)
    standby_rds = d.stub("rds", STANDBY)
    standby_rds.add_response(
        "describe_db_clusters", cluster(), {"DBClusterIdentifier": "orders-standby"}
    )
    return rds


SWITCH_TO_STANDBY = {"GlobalClusterIdentifier": "orders-global",
                     "TargetDbClusterIdentifier": STANDBY_ARN}
SWITCH_TO_PRIMARY = {"GlobalClusterIdentifier": "orders-global",
                     "TargetDbClusterIdentifier": PRIMARY_ARN}


def test_region_switchover_is_planned_and_waits_for_the_standby_writer() -> None:
    d = Drill()
    rds = expect_global_prechecks(d, PRIMARY)
    rds.add_response("switchover_global_cluster", {"GlobalCluster": {}}, SWITCH_TO_STANDBY)
    standby = d.stub("rds", STANDBY)
    standby.add_response("describe_global_clusters", global_cluster(status="switching-over"),
                         GLOBAL_Q)
    standby.add_response("describe_global_clusters", global_cluster(writer=STANDBY_ARN),
                         GLOBAL_Q)

    report = d.run("region-switchover")

    assert report["verdict"] == "passed", report
    assert d.mutating() == [("rds", "switchover_global_cluster", PRIMARY, SWITCH_TO_STANDBY)]
    assert any("--switch-back" in n for n in report["notes"])


def test_region_switchover_switches_back_only_when_asked() -> None:
    d = Drill(DrillOptions(switch_back=True))
    rds = expect_global_prechecks(d, PRIMARY)
    rds.add_response("switchover_global_cluster", {"GlobalCluster": {}}, SWITCH_TO_STANDBY)
    standby = d.stub("rds", STANDBY)
    standby.add_response("describe_global_clusters", global_cluster(writer=STANDBY_ARN),
                         GLOBAL_Q)
    standby.add_response("switchover_global_cluster", {"GlobalCluster": {}}, SWITCH_TO_PRIMARY)
    standby.add_response("describe_global_clusters", global_cluster(writer=PRIMARY_ARN),
                         GLOBAL_Q)

    report = d.run("region-switchover")

    assert report["verdict"] == "passed", report
    assert d.mutating() == [
        ("rds", "switchover_global_cluster", PRIMARY, SWITCH_TO_STANDBY),
        ("rds", "switchover_global_cluster", STANDBY, SWITCH_TO_PRIMARY),
    ]


def test_region_switchover_aborts_when_already_switched() -> None:
    d = Drill()
    d.stub("rds").add_response(
        "describe_global_clusters", global_cluster(writer=STANDBY_ARN), GLOBAL_Q
    )
    report = d.run("region-switchover")
    assert report["verdict"] == "aborted"
    assert "fail back first" in report["verdict_reason"]
    assert d.mutating() == []


def test_region_failover_is_refused_without_allow_data_loss() -> None:
    d = Drill()
    report = d.run("region-failover")
    assert report["verdict"] == "refused"
    assert "--allow-data-loss" in report["verdict_reason"]
    assert "region-switchover" in report["verdict_reason"]
    assert d.calls.calls == []  # not even a describe


def test_region_failover_with_allow_data_loss_calls_failover_global_cluster() -> None:
    d = Drill(DrillOptions(allow_data_loss=True))
    rds = expect_global_prechecks(d, STANDBY)
    params = SWITCH_TO_STANDBY | {"AllowDataLoss": True}
    rds.add_response("failover_global_cluster", {"GlobalCluster": {}}, params)
    rds.add_response("describe_global_clusters", global_cluster(writer=STANDBY_ARN), GLOBAL_Q)

    report = d.run("region-failover")

    assert report["verdict"] == "passed", report
    assert d.mutating() == [("rds", "failover_global_cluster", STANDBY, params)]


# -- Route 53 ------------------------------------------------------------------------------
def health_check(inverted: bool) -> dict[str, Any]:
    return {
        "HealthCheck": {
            "Id": "hc-primary",
            "CallerReference": "ref",
            "HealthCheckVersion": 3,
            "HealthCheckConfig": {"Type": "HTTPS", "Inverted": inverted},
        }
    }


def observations(status: str) -> dict[str, Any]:
    return {
        "HealthCheckObservations": [
            {"Region": r, "IPAddress": "192.0.2.1", "StatusReport": {"Status": status}}
            for r in ("us-east-1", "eu-west-1", "ap-southeast-1")
        ]
    }


def metric(value: float) -> dict[str, Any]:
    return {
        "Label": "HealthCheckStatus",
        "Datapoints": [
            {"Timestamp": datetime(2025, 1, 1, 11, 59, tzinfo=UTC), "Minimum": 1.0},
            {"Timestamp": datetime(2025, 1, 1, 12, 0, tzinfo=UTC), "Minimum": value},
        ],
    }


def metric_query() -> dict[str, Any]:
    return {
        "Namespace": "AWS/Route53",
        "MetricName": "HealthCheckStatus",
        "Dimensions": [{"Name": "HealthCheckId", "Value": "hc-primary"}],
        "StartTime": ANY,
        "EndTime": ANY,
        "Period": 60,
        "Statistics": ["Minimum"],
    }


def test_dns_failover_inverts_the_primary_health_check_then_reverts_it() -> None:
    d = Drill()
    r53 = d.stub("route53", "us-east-1")
    cw = d.stub("cloudwatch", "us-east-1")
    r53.add_response("get_health_check", health_check(False), {"HealthCheckId": "hc-primary"})
    ok = observations("Success: HTTP Status Code 200, OK")
    r53.add_response("get_health_check_status", ok, {"HealthCheckId": "hc-primary"})
    r53.add_response("get_health_check_status", ok, {"HealthCheckId": "hc-standby"})
    invert = {"HealthCheckId": "hc-primary", "HealthCheckVersion": 3, "Inverted": True}
    r53.add_response("update_health_check", health_check(True), invert)
    cw.add_response("get_metric_statistics", metric(1.0), metric_query())
    cw.add_response("get_metric_statistics", metric(0.0), metric_query())
    revert = {"HealthCheckId": "hc-primary", "Inverted": False}
    r53.add_response("update_health_check", health_check(False), revert)
    cw.add_response("get_metric_statistics", metric(1.0), metric_query())

    report = d.run("dns-failover")

    assert report["verdict"] == "passed", report
    assert d.mutating() == [
        ("route53", "update_health_check", "us-east-1", invert),
        ("route53", "update_health_check", "us-east-1", revert),
    ]


def test_dns_failover_aborts_when_health_check_is_already_inverted() -> None:
    d = Drill()
    d.stub("route53", "us-east-1").add_response(
        "get_health_check", health_check(True), {"HealthCheckId": "hc-primary"}
    )
    report = d.run("dns-failover")
    assert report["verdict"] == "aborted"
    assert "already inverted" in report["verdict_reason"]
    assert d.mutating() == []


# -- Kubernetes pods -----------------------------------------------------------------------
def pod(name: str, node: str, ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"nodeName": node},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


class FakeKube:
    """The Kubernetes API for one namespace; `pods` is replaced by `after` once deleted."""

    def __init__(self, pods: list[dict[str, Any]], after: list[list[dict[str, Any]]]) -> None:
        self.pods = pods
        self.after = after
        self.deleted: list[tuple[str, dict[str, str]]] = []
        self.selectors: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer k8s-token"
        path = request.url.path
        if path == "/api/v1/nodes":
            nodes = [
                {"metadata": {"name": f"node-{z}",
                              "labels": {"topology.kubernetes.io/zone": f"eu-west-1{z}"}}}
                for z in "abc"
            ]
            return httpx.Response(200, json={"items": nodes})
        if request.method == "GET" and path == "/api/v1/namespaces/orders/pods":
            self.selectors.append(request.url.params["labelSelector"])
            if self.deleted and self.after:
                self.pods = self.after.pop(0)
            return httpx.Response(200, json={"items": self.pods})
        if request.method == "DELETE":
            self.deleted.append((path, dict(request.url.params)))
            return httpx.Response(200, json={})
        return httpx.Response(404)


def with_kube(d: Drill, fake: FakeKube) -> None:
    d.stub("eks").add_response(
        "describe_cluster",
        {"cluster": {"name": "orders", "endpoint": K8S,
                     "certificateAuthority": {"data": ""}}},
        {"name": "orders"},
    )
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))

    def factory(ctx: AwsContext) -> KubeApi:
        return KubeApi.for_eks(ctx.calls, cluster_name="orders", region=PRIMARY,
                               session=None, client=client, token=lambda: "k8s-token")

    d.ctx.kube_factory = factory


def test_api_replica_kill_deletes_the_api_pods_of_one_zone() -> None:
    d = Drill(DrillOptions(zone="eu-west-1b"))
    before = [pod("api-a", "node-a"), pod("api-b", "node-b"), pod("api-c", "node-c")]
    fake = FakeKube(
        before,
        after=[
            [pod("api-a", "node-a"), pod("api-c", "node-c"), pod("api-d", "node-a", False)],
            [pod("api-a", "node-a"), pod("api-c", "node-c"), pod("api-d", "node-a")],
        ],
    )
    with_kube(d, fake)

    report = d.run("api-replica-kill")

    assert report["verdict"] == "passed", report
    assert fake.deleted == [("/api/v1/namespaces/orders/pods/api-b", {"gracePeriodSeconds": "0"})]
    assert set(fake.selectors) == {"app.kubernetes.io/name=orders-api"}
    assert report["details"]["ready_after"] == 3
    assert [(s, op) for s, op, _, _ in d.mutating()] == [
        ("kubernetes", f"DELETE {K8S}/api/v1/namespaces/orders/pods/api-b")
    ]


def test_api_replica_kill_aborts_when_all_api_pods_share_one_zone() -> None:
    d = Drill()
    fake = FakeKube([pod("api-a", "node-a"), pod("api-a2", "node-a")], after=[])
    with_kube(d, fake)
    report = d.run("api-replica-kill")
    assert report["verdict"] == "aborted"
    assert "losing one zone would be an outage" in report["verdict_reason"]
    assert fake.deleted == []


def test_relay_kill_deletes_every_relay_pod() -> None:
    d = Drill(relayPodSelector="app=relay")
    fake = FakeKube(
        [pod("relay-1", "node-a"), pod("relay-2", "node-b")],
        after=[[pod("relay-3", "node-a"), pod("relay-4", "node-c")]],
    )
    with_kube(d, fake)

    report = d.run("relay-kill")

    assert report["verdict"] == "passed", report
    assert [p for p, _ in fake.deleted] == [
        "/api/v1/namespaces/orders/pods/relay-1",
        "/api/v1/namespaces/orders/pods/relay-2",
    ]
    assert set(fake.selectors) == {"app=relay"}


@pytest.mark.parametrize("name", ["redis-down", "queue-outage", "api-db-partition",
                                  "zone-partition"])
def test_scenarios_without_a_safe_aws_fault_say_so(name: str) -> None:
    d = Drill()
    report = d.run(name)
    assert report["verdict"] == "not-supported"
    assert "not supported on AWS" in report["verdict_reason"]
    assert d.calls.calls == []
    # The local drill's report schema, whatever the target.
    assert tuple(report) == REPORT_FIELDS
    assert report["target"] == "aws" and report["alerts"] == []


# -- dry run and the CLI -------------------------------------------------------------------
class NoAwsSession:
    """A session whose clients must never be created (dry run makes no call)."""

    def __init__(self, **_: Any) -> None:
        pass

    def client(self, *_: Any, **__: Any) -> Any:
        raise AssertionError("a dry run created an AWS client")


def cli_args(tmp_path: Path, **kw: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario")
    cli.add_arguments(parser)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    argv = ["--stack-outputs", str(outputs), "--reports-dir", str(tmp_path / "reports")]
    for key, value in kw.items():
        flag = "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return parser.parse_args(argv)


def dry_run_calls(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line.removeprefix("DRY-RUN ")) for line in lines
            if line.startswith("DRY-RUN ")]


def test_dry_run_prints_every_call_and_makes_none(tmp_path: Path) -> None:
    lines: list[str] = []
    args = cli_args(tmp_path, scenario="db-primary-kill", dry_run=True)

    rc = cli.run(args, session_factory=NoAwsSession, clock=FakeClock(), emit=lines.append)

    assert rc == 0
    assert [(c["service"], c["operation"], c["region"], c["params"])
            for c in dry_run_calls(lines)] == [
        ("http", f"GET {READY_URL}", None, {}),
        ("rds", "describe_db_clusters", PRIMARY, CLUSTER_Q),
        ("rds", "describe_db_instances", PRIMARY, INSTANCES_Q),
        ("rds", "failover_db_cluster", PRIMARY, CLUSTER_Q),
        ("rds", "describe_db_clusters", PRIMARY, CLUSTER_Q),
        ("http", f"GET {READY_URL}", None, {}),
    ]
    assert any("repeated every 5s until cluster orders-primary" in line for line in lines)
    assert not (tmp_path / "reports").exists()  # a dry run writes no report


def test_dry_run_of_zone_loss_prints_the_fis_template(tmp_path: Path) -> None:
    lines: list[str] = []
    args = cli_args(tmp_path, scenario="zone-loss", dry_run=True, zone="eu-west-1b")
    assert cli.run(args, session_factory=NoAwsSession, clock=FakeClock(),
                   emit=lines.append) == 0
    calls = {c["operation"]: c for c in dry_run_calls(lines)}
    template = calls["create_experiment_template"]["params"]
    expected = expected_template("eu-west-1b")
    assert template | {"clientToken": "x"} == expected | {"clientToken": "x"}
    assert calls["start_experiment"]["params"]["experimentTemplateId"] == "<template-id>"


def test_cli_refuses_region_failover_without_allow_data_loss(tmp_path: Path) -> None:
    lines: list[str] = []
    for dry_run in (False, True):
        args = cli_args(tmp_path, scenario="region-failover", **({"dry_run": True} if dry_run
                                                                 else {}))
        rc = cli.run(args, session_factory=NoAwsSession, clock=FakeClock(), emit=lines.append)
        assert rc == 2
    assert sum(line.startswith("refused: region-failover") for line in lines) == 2
    assert dry_run_calls(lines) == []


def test_cli_dry_run_of_region_failover_with_the_flag(tmp_path: Path) -> None:
    lines: list[str] = []
    args = cli_args(tmp_path, scenario="region-failover", dry_run=True, allow_data_loss=True)
    assert cli.run(args, session_factory=NoAwsSession, clock=FakeClock(),
                   emit=lines.append) == 0
    failover = [c for c in dry_run_calls(lines) if c["operation"] == "failover_global_cluster"]
    assert failover == [{
        "service": "rds", "operation": "failover_global_cluster", "region": STANDBY,
        "params": SWITCH_TO_STANDBY | {"AllowDataLoss": True},
    }]


def test_cli_real_run_writes_a_report(tmp_path: Path) -> None:
    d = Drill()
    rds = expect_primary_cluster(d)
    rds.add_response("failover_db_cluster", {"DBCluster": {}}, CLUSTER_Q)
    rds.add_response("describe_db_clusters", cluster(writer="db-3"), CLUSTER_Q)

    def reuse_stubbed_context(ctx: AwsContext) -> None:
        ctx.calls = d.calls  # the stubbed clients
        ctx.http = d.ctx.http

    args = cli_args(tmp_path, scenario="db-primary-kill")
    rc = cli.run(args, session_factory=lambda **_: d.calls.session, clock=d.clock,
                 emit=d.lines.append, context_hook=reuse_stubbed_context)

    assert rc == 0, d.lines
    reports = sorted((tmp_path / "reports").glob("aws-db-primary-kill-*.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert report["verdict"] == "passed"
    assert report["aws_calls"][0]["operation"] == "failover_db_cluster"
    assert (tmp_path / "reports").glob("aws-summary-*.md")


def test_cli_unknown_scenario_and_missing_outputs(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli_args(tmp_path, scenario="nope"), session_factory=NoAwsSession) == 2
    assert "unknown scenario 'nope'" in capsys.readouterr().err
    args = cli_args(tmp_path)
    args.stack_outputs = None
    assert cli.run(args, session_factory=NoAwsSession) == 2
    assert "--stack-outputs FILE" in capsys.readouterr().err


def test_add_arguments_tolerates_flags_the_drill_parser_already_has() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario")
    parser.add_argument("--dry-run", action="store_true", help="local drill dry run")
    cli.add_arguments(parser)
    args = parser.parse_args(["--dry-run", "--stack-outputs", "o.json", "--allow-data-loss",
                              "--primary-region", "us-east-1", "--zone", "us-east-1a"])
    assert (args.dry_run, args.stack_outputs, args.allow_data_loss) == (True, "o.json", True)
    assert (args.primary_region, args.zone, args.fis_duration) == ("us-east-1", "us-east-1a",
                                                                   "PT10M")


def test_standard_set_and_scenario_names() -> None:
    assert cli.scenario_names(None) == [
        "db-primary-kill", "db-leader-node-loss", "redis-primary-kill",
        "api-replica-kill", "relay-kill", "zone-loss",
    ]
    assert cli.scenario_names("db-primary-kill, dns-failover") == [
        "db-primary-kill", "dns-failover"]
    assert cli.scenario_names(["zone-loss", "ci,zone-loss"]) == [
        "zone-loss", "db-primary-kill", "redis-primary-kill"]
    assert cli.scenario_names("standard") == cli.scenario_names(None)
    assert len(cli.scenario_names("all")) == 13


@pytest.mark.parametrize(
    ("verdicts", "code"),
    [
        (["passed", "dry-run"], 0),
        (["passed", "failed", "aborted"], 1),
        (["passed", "aborted"], 2),
        (["refused"], 2),
        (["not-supported", "passed"], 2),
    ],
)
def test_exit_code_matches_the_local_drill(verdicts: list[str], code: int) -> None:
    assert exit_code([{"verdict": v} for v in verdicts]) == code

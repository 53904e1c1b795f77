"""AWS drill scenarios, Aurora and ElastiCache, against botocore Stubbers: the exact
calls, their parameters, aborts."""

from __future__ import annotations

import base64

import boto3

from chaos.aws.kube import eks_token
from chaos.aws.scenarios import DrillOptions
from tests.chaos.aws_support import (  # noqa: F401 - dummy_aws_env is an autouse fixture
    CLUSTER_Q,
    PRIMARY,
    RG_Q,
    START,
    ZONES,
    Drill,
    check_zone_template,
    cluster,
    created_template,
    dummy_aws_env,
    expect_primary_cluster,
    expect_zone_prechecks,
    group,
)


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
    fis.add_response("create_experiment_template", {"experimentTemplate": {"id": "EXT1"}})
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
    check_zone_template(created_template(d), "eu-west-1a")


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



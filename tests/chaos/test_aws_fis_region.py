"""AWS drill scenarios, zone loss (FIS) and region level (Aurora Global Database), against
botocore Stubbers."""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

from chaos.aws.scenarios import DrillOptions
from tests.chaos.aws_support import (  # noqa: F401 - dummy_aws_env is an autouse fixture
    CLUSTER_Q,
    PRIMARY,
    PRIMARY_ARN,
    RG_Q,
    STANDBY,
    STANDBY_ARN,
    START,
    SWITCH_TO_PRIMARY,
    SWITCH_TO_STANDBY,
    Drill,
    check_zone_template,
    cluster,
    created_template,
    dummy_aws_env,
    expect_zone_prechecks,
    experiment,
    group,
)

# -- zone loss (FIS) -----------------------------------------------------------------------


def test_zone_loss_creates_the_az_power_interruption_template_runs_it_and_cleans_up() -> None:
    d = Drill()
    rds, ec, fis = expect_zone_prechecks(d)
    fis.add_response("create_experiment_template", {"experimentTemplate": {"id": "EXT1"}})
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
    check_zone_template(created_template(d), "eu-west-1a")  # the writer's zone by default


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



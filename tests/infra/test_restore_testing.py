"""Scheduled restore verification as the program declares it (infra/restore_testing.py):
the two CronJobs, their IRSA policy, the alarms, and the AWS Backup restore-testing
selection they validate. (Schemas and the IAM linter: tests/infra/test_validators.py.)"""

from __future__ import annotations

import json
from typing import Any

from infra.restore_testing import JOB_DEADLINE_S, RESTORE_TIMEOUT_S
from tests.infra.conftest import Plan

ALARM_SPAN_MAX_S = 7 * 86400  # PutMetricAlarm: Period x EvaluationPeriods <= 604,800 s


def command(plan: Plan, name: str) -> list[str]:
    job = plan.named(name)["inputs"]
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return list(container["command"])


def option(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == flag]


def test_weekly_drill_restores_the_primary_cluster_and_publishes_its_outcome(
        plan: Plan) -> None:
    job = plan.named("primary-restore-testing-drill")["inputs"]["spec"]
    assert job["schedule"] == "0 3 * * 1" and job["timeZone"] == "Etc/UTC"
    assert job["concurrencyPolicy"] == "Forbid"
    assert job["jobTemplate"]["spec"]["backoffLimit"] == 0  # a retry would restore twice
    # the drill's own waits (restore, then each deletion) end before Kubernetes kills it
    assert job["jobTemplate"]["spec"]["activeDeadlineSeconds"] == JOB_DEADLINE_S
    assert 2 * RESTORE_TIMEOUT_S < JOB_DEADLINE_S

    argv = command(plan, "primary-restore-testing-drill")
    primary = plan.named("primary-database-cluster")["inputs"]
    assert argv[:3] == ["python", "-m", "chaos.aws.restore_cli"]
    assert option(argv, "--cluster-id") == [primary["clusterIdentifier"]]
    assert option(argv, "--publish-metrics") == ["Orders/RestoreVerification"]
    secret = plan.named("primary-database-master-secret")["outputs"]["arn"]
    assert option(argv, "--master-secret-arn") == [secret]
    # the restored cluster admits the pods' subnets only
    private = [s["inputs"]["cidrBlock"] for s in plan.of_type("aws:ec2/subnet:Subnet")
               if "private" in s["name"] and s["name"].startswith("primary")]
    assert sorted(option(argv, "--client-cidr")) == sorted(private) and private


def test_jobs_run_the_verifier_image_pinned_by_digest(plan: Plan) -> None:
    for name in ("primary-restore-testing-drill", "primary-restore-testing-validation"):
        spec = plan.named(name)["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        image = spec["containers"][0]["image"]
        repository, _, reference = image.partition(":")
        assert repository.endswith("/orders-service") and ".eu-central-1." in repository
        assert reference.startswith("0.1.0-restore-verifier@sha256:"), image


def test_daily_job_validates_the_aurora_restore_tests(plan: Plan) -> None:
    assert plan.named("primary-restore-testing-validation")["inputs"]["spec"][
        "schedule"] == "30 6 * * *"
    argv = command(plan, "primary-restore-testing-validation")
    assert argv[:3] == ["python", "-m", "chaos.aws.restore_freshness"]
    plan_arn = plan.named("backup-restore-test")["outputs"]["arn"]
    assert option(argv, "--restore-testing-plan-arn") == [plan_arn]
    selection = plan.named("backup-restore-test-aurora")["inputs"]
    assert selection["protectedResourceType"] == "Aurora"
    assert selection["protectedResourceArns"] == [
        plan.named("primary-database-cluster")["outputs"]["arn"]]
    # a daily validator must see every completed restore test before AWS Backup deletes it
    assert 24 < selection["validationWindowHours"] <= 168
    assert option(argv, "--db-subnet-group") == [
        selection["restoreMetadataOverrides"]["dbsubnetgroupname"]]


def alarms(plan: Plan) -> dict[str, dict[str, Any]]:
    return {a["name"].removeprefix("primary-restore-testing-"): a["inputs"]
            for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
            if a["name"].startswith("primary-restore-testing-")}


def test_alarms_on_failure_staleness_and_failing_restore_tests(plan: Plan) -> None:
    found = alarms(plan)
    assert set(found) == {"restore-drill-failed", "restore-not-verified-8d",
                          "restore-tests-failing"}
    for alarm in found.values():
        assert alarm["period"] * alarm["evaluationPeriods"] <= ALARM_SPAN_MAX_S
        assert alarm["alarmActions"] and alarm["namespace"] == "Orders/RestoreVerification"
        # not the cluster's own dimension: these alarms must not pass for database alarms
        assert set(alarm["dimensions"]) == {"SourceDBClusterIdentifier"}
    stale = found["restore-not-verified-8d"]
    assert (stale["metricName"], stale["threshold"], stale["comparisonOperator"]) == (
        "HoursSinceVerifiedRestore", 8 * 24, "GreaterThanThreshold")
    assert stale["treatMissingData"] == "breaching"  # the daily job stopping alarms too
    failed = found["restore-drill-failed"]
    assert (failed["metricName"], failed["statistic"], failed["threshold"]) == (
        "RestoreVerified", "Minimum", 1)


def test_the_role_may_restore_from_the_source_but_only_change_temporary_resources(
        plan: Plan) -> None:
    policy = json.loads(plan.named("primary-restore-testing-role-policy")["inputs"]["policy"])
    cluster = plan.named("primary-database-cluster")["inputs"]["clusterIdentifier"]
    writes = ("rds:CreateDBInstance", "rds:DeleteDBInstance", "rds:DeleteDBCluster",
              "rds:AddTagsToResource")
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [
            statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
            statement["Resource"]]
        assert not any(a.endswith(":*") for a in actions), statement
        if any(a in writes for a in actions):
            named = [r for r in resources if ":cluster:" in r or ":db:" in r]
            assert named and all(r.endswith(f":{cluster}-restore-*") for r in named), statement
        if "rds:RestoreDBClusterToPointInTime" in actions:
            clusters = sorted(r.rsplit(":", 1)[1] for r in resources if ":cluster:" in r)
            assert clusters == [cluster, f"{cluster}-restore-*"]
        if any(a.startswith("ec2:") and a != "ec2:CreateTags" for a in actions):
            assert "Condition" in statement, statement  # only groups tagged as the drill's

"""The daily restore-testing job against botocore Stubbers: AWS Backup restore-test
validation and the freshness metric the 8-day alarm reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from chaos.aws.calls import CallLayer
from chaos.aws.restore_freshness import RestoreFreshness, parser
from tests.chaos.aws_support import ACCOUNT, PRIMARY, FakeClock, dummy_aws_env

__all__ = ["dummy_aws_env"]

PLAN = f"arn:aws:backup:{PRIMARY}:{ACCOUNT}:restore-testing-plan:orders_restore_test-abc"
KEY = f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/1111"
RESTORED = f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:cluster:awsbackup-restore-test-1"
ARGS = ["--region", PRIMARY, "--cluster", "orders-primary", "--namespace", "Orders/Restore",
        "--restore-testing-plan-arn", PLAN, "--kms-key-arn", KEY,
        "--db-subnet-group", "orders-db"]
DIMENSIONS = [{"Name": "SourceDBClusterIdentifier", "Value": "orders-primary"}]


class Job:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.lines: list[str] = []
        self.calls = CallLayer(boto3.Session(region_name=PRIMARY), emit=self.lines.append,
                               clock=self.clock)
        self.stubs: dict[str, Stubber] = {}

    def stub(self, service: str) -> Stubber:
        if service not in self.stubs:
            self.stubs[service] = Stubber(self.calls.client(service, PRIMARY))
            self.stubs[service].activate()
        return self.stubs[service]

    def run(self) -> None:
        assert RestoreFreshness(self.calls, parser().parse_args(ARGS)).run() == 0
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def expect_jobs(job: Job, jobs: list[dict[str, Any]]) -> None:
    job.stub("backup").add_response("list_restore_jobs", {"RestoreJobs": jobs}, {
        "ByRestoreTestingPlanArn": PLAN, "ByCreatedAfter": job.clock.now() - timedelta(days=2)})


def expect_metrics(job: Job, datapoints: list[dict[str, Any]], age: float,
                   failures: float) -> None:
    cw = job.stub("cloudwatch")
    now = job.clock.now()
    cw.add_response("get_metric_statistics", {"Datapoints": datapoints}, {
        "Namespace": "Orders/Restore", "MetricName": "RestoreVerified", "Dimensions": DIMENSIONS,
        "StartTime": now - timedelta(days=15), "EndTime": now, "Period": 3600,
        "Statistics": ["Maximum"]})
    cw.add_response("put_metric_data", {}, {"Namespace": "Orders/Restore", "MetricData": [
        {"MetricName": "HoursSinceVerifiedRestore", "Dimensions": DIMENSIONS, "Unit": "None",
         "Value": age},
        {"MetricName": "RestoreTestFailures", "Dimensions": DIMENSIONS, "Unit": "Count",
         "Value": failures}]})


def restored(**overrides: Any) -> dict[str, Any]:
    return {"DBClusters": [{"Status": "available", "StorageEncrypted": True, "KmsKeyId": KEY,
                            "DBSubnetGroup": "orders-db", "PubliclyAccessible": False}
                           | overrides]}


def test_completed_restore_tests_are_validated_and_recent_success_is_fresh() -> None:
    job = Job()
    expect_jobs(job, [{"RestoreJobId": "good", "Status": "COMPLETED",
                       "CreatedResourceArn": RESTORED},
                      {"RestoreJobId": "done", "Status": "COMPLETED",
                       "ValidationStatus": "SUCCESSFUL"}])
    job.stub("rds").add_response("describe_db_clusters", restored(),
                                 {"DBClusterIdentifier": RESTORED})
    job.stub("backup").add_response("put_restore_validation_result", {}, {
        "RestoreJobId": "good", "ValidationStatus": "SUCCESSFUL", "ValidationStatusMessage": ANY})
    expect_metrics(job, [{"Timestamp": job.clock.now() - timedelta(hours=30), "Maximum": 1.0},
                         {"Timestamp": job.clock.now() - timedelta(hours=2), "Maximum": 0.0}],
                   age=30.0, failures=0.0)
    job.run()


def test_a_wrongly_restored_cluster_fails_validation_and_counts() -> None:
    job = Job()
    expect_jobs(job, [{"RestoreJobId": "bad", "Status": "COMPLETED",
                       "CreatedResourceArn": RESTORED},
                      {"RestoreJobId": "broken", "Status": "FAILED"}])
    job.stub("rds").add_response("describe_db_clusters", restored(
        DBSubnetGroup="default", PubliclyAccessible=True), {"DBClusterIdentifier": RESTORED})
    job.stub("backup").add_response("put_restore_validation_result", {}, {
        "RestoreJobId": "bad", "ValidationStatus": "FAILED",
        "ValidationStatusMessage": "subnet group 'default', not 'orders-db'; "
                                   "publicly accessible"})
    # no successful drill in the lookback: the age is the whole lookback (alarms at 192 h)
    expect_metrics(job, [], age=360.0, failures=2.0)
    job.run()

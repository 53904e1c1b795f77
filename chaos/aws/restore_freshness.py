"""The daily half of scheduled restore testing (the weekly half is the restore drill).

    python -m chaos.aws.restore_freshness --region eu-west-1 --cluster orders-primary \\
        --namespace Orders/RestoreDrill --restore-testing-plan-arn ARN \\
        --kms-key-arn ARN --db-subnet-group NAME [--dry-run]

1. Validates AWS Backup's restore tests of the Aurora cluster: every restore-testing job
   completed in the last two days and not yet validated is checked (the restored cluster
   is available, encrypted with the database key, in the isolated subnet group, not
   public; AWS Backup restores an Aurora cluster without instances, so no query can be
   run) and its result sent with `backup:PutRestoreValidationResult`. The selection's
   validation window is longer than a day so that this daily run always sees the job.
2. Publishes `RestoreTestFailures` (restore-testing jobs failed, aborted or failing
   validation) and `HoursSinceVerifiedRestore`: the age of the newest `RestoreVerified`
   = 1 the weekly drill put, looked up over 15 days. A CloudWatch alarm cannot look back
   8 days on the drill's own metric (an alarm's period x evaluation periods is at most
   7 days), so it alarms on this daily figure instead; missing data is breaching, so a
   stopped daily job alarms too.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from typing import Any

from chaos.aws.calls import CallLayer, SystemClock
from chaos.aws.restore_cli import METRIC_DIMENSION, METRIC_VERIFIED

METRIC_AGE = "HoursSinceVerifiedRestore"
METRIC_TEST_FAILURES = "RestoreTestFailures"
LOOKBACK = timedelta(days=15)  # hourly datapoints are kept 15 days; 360 fit one request
RECENT_JOBS = timedelta(days=2)


def restore_test_problems(cluster: dict[str, Any], kms_key_arn: str,
                          subnet_group: str) -> list[str]:
    problems = []
    if cluster.get("Status") != "available":
        problems.append(f"status {cluster.get('Status')!r}")
    if not cluster.get("StorageEncrypted") or cluster.get("KmsKeyId") != kms_key_arn:
        problems.append("not encrypted with the database key")
    if cluster.get("DBSubnetGroup") != subnet_group:
        problems.append(f"subnet group {cluster.get('DBSubnetGroup')!r}, not {subnet_group!r}")
    if cluster.get("PubliclyAccessible"):
        problems.append("publicly accessible")
    return problems


class RestoreFreshness:
    def __init__(self, calls: CallLayer, args: argparse.Namespace) -> None:
        self.calls, self.args = calls, args

    def aws(self, service: str, operation: str, **params: Any) -> Any:
        return self.calls.aws(service, operation, region=self.args.region, **params)

    def validate_restore_tests(self) -> int:
        """Validate the recent restore-testing jobs; returns how many failed."""
        since = self.calls.clock.now() - RECENT_JOBS
        reply = self.aws("backup", "list_restore_jobs",
                         ByRestoreTestingPlanArn=self.args.restore_testing_plan_arn,
                         ByCreatedAfter=since)
        failures = 0
        for job in reply.get("RestoreJobs", []):
            if job.get("Status") in ("FAILED", "ABORTED"):
                failures += 1
            elif job.get("Status") == "COMPLETED" and not job.get("ValidationStatus"):
                failures += not self._validate(job)
            elif job.get("ValidationStatus") in ("FAILED", "TIMED_OUT"):
                failures += 1
        return failures

    def _validate(self, job: dict[str, Any]) -> bool:
        reply = self.aws("rds", "describe_db_clusters",
                         DBClusterIdentifier=job.get("CreatedResourceArn", ""))
        cluster = (reply.get("DBClusters") or [{}])[0]
        problems = restore_test_problems(cluster, self.args.kms_key_arn,
                                         self.args.db_subnet_group)
        self.aws("backup", "put_restore_validation_result", RestoreJobId=job["RestoreJobId"],
                 ValidationStatus="FAILED" if problems else "SUCCESSFUL",
                 ValidationStatusMessage="; ".join(problems) or
                 "restored cluster available, encrypted with the database key, isolated")
        return not problems

    def hours_since_verified(self) -> float:
        now = self.calls.clock.now()
        reply = self.aws(
            "cloudwatch", "get_metric_statistics", Namespace=self.args.namespace,
            MetricName=METRIC_VERIFIED,
            Dimensions=[{"Name": METRIC_DIMENSION, "Value": self.args.cluster}],
            StartTime=now - LOOKBACK, EndTime=now, Period=3600, Statistics=["Maximum"])
        successes = [p["Timestamp"] for p in reply.get("Datapoints", [])
                     if p.get("Maximum", 0) >= 1]
        newest: datetime = max(successes, default=now - LOOKBACK)
        # the hour bucket's start: the success may be up to an hour later, never earlier
        return round((now - newest).total_seconds() / 3600, 1)

    def run(self) -> int:
        failures = self.validate_restore_tests()
        age = self.hours_since_verified()
        dimensions = [{"Name": METRIC_DIMENSION, "Value": self.args.cluster}]
        self.aws("cloudwatch", "put_metric_data", Namespace=self.args.namespace, MetricData=[
            {"MetricName": METRIC_AGE, "Dimensions": dimensions, "Unit": "None",
             "Value": age},
            {"MetricName": METRIC_TEST_FAILURES, "Dimensions": dimensions, "Unit": "Count",
             "Value": float(failures)},
        ])
        self.calls.emit(f"restore tests failing: {failures}; hours since a verified restore "
                        f"drill: {age}")
        return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m chaos.aws.restore_freshness",
                                description=(__doc__ or "").split("\n")[0])
    p.add_argument("--region", required=True)
    p.add_argument("--cluster", required=True, help="primary Aurora cluster identifier")
    p.add_argument("--namespace", required=True, help="CloudWatch namespace of the metrics")
    p.add_argument("--restore-testing-plan-arn", required=True)
    p.add_argument("--kms-key-arn", required=True, help="the database's KMS key ARN")
    p.add_argument("--db-subnet-group", required=True,
                   help="the isolated subnet group restore tests must use")
    p.add_argument("--dry-run", action="store_true", help="print every call, make none")
    return p


def main(argv: list[str] | None = None, session: Any = None) -> int:
    args = parser().parse_args(argv)
    if session is None:
        import boto3

        session = boto3.Session(region_name=args.region)
    calls = CallLayer(session, dry_run=args.dry_run, clock=SystemClock())
    return RestoreFreshness(calls, args).run()


if __name__ == "__main__":
    sys.exit(main())

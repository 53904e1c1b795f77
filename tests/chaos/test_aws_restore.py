"""The AWS restore drill against botocore Stubbers: the exact calls of a restore, its
verification hand-off, the cleanup on success and on failure, the dry run and the CLI.
(Every stubbed call is also validated by botocore against the RDS/EC2 service models.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chaos.aws.calls import CallLayer
from chaos.aws.restore import (
    IDENTIFIER_MAX,
    AuroraRestoreDrill,
    RestoredEndpoint,
    RestoreOptions,
    RestoreSource,
    Verification,
    temporary_identifier,
)
from chaos.aws.restore_cli import run
from tests.chaos.aws_support import ACCOUNT, OUTPUTS, PRIMARY, FakeClock, dummy_aws_env

__all__ = ["dummy_aws_env"]  # the autouse fixture: dummy credentials, no AWS config

SECRET_ARN = f"arn:aws:secretsmanager:{PRIMARY}:{ACCOUNT}:secret:orders/aurora/master-AbC"
KMS = f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/1111-2222"
NEW = "orders-primary-restore-202501011200"
NEW_INSTANCE = NEW + "-1"
TARGET = datetime(2025, 1, 1, 11, 30, tzinfo=UTC)
TAGS = [{"Key": "temporary", "Value": "true"}, {"Key": "purpose", "Value": "restore-drill"},
        {"Key": "restore-drill-source", "Value": "orders-primary"}, {"Key": "Name", "Value": NEW}]


class FakeVerifier:
    def __init__(self, clock: FakeClock, anomalies: list[str] | None = None,
                 error: Exception | None = None) -> None:
        self.clock, self.anomalies, self.error = clock, anomalies or [], error
        self.seen: list[tuple[RestoredEndpoint, datetime]] = []

    def __call__(self, endpoint: RestoredEndpoint, target_time: datetime) -> Verification:
        self.seen.append((endpoint, target_time))
        if self.error:
            raise self.error
        first = self.clock.now() + timedelta(seconds=2)
        return Verification(first, first + timedelta(seconds=40), self.anomalies)


class Harness:
    def __init__(self, options: RestoreOptions, dry_run: bool = False, **verifier: Any) -> None:
        self.clock = FakeClock()
        self.lines: list[str] = []
        self.calls = CallLayer(boto3.Session(region_name=PRIMARY), dry_run=dry_run,
                               emit=self.lines.append, clock=self.clock)
        source = RestoreSource(PRIMARY, "orders-primary", SECRET_ARN)
        self.verifier = FakeVerifier(self.clock, **verifier)
        self.drill = AuroraRestoreDrill(self.calls, source, options, self.verifier)
        self.stubs: dict[str, Stubber] = {}

    def stub(self, service: str) -> Stubber:
        if service not in self.stubs:
            self.stubs[service] = Stubber(self.calls.client(service, PRIMARY))
            self.stubs[service].activate()
        return self.stubs[service]

    def run(self) -> dict[str, Any]:
        report = self.drill.run()
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
        return report

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls.calls if c.mutating]


OPTIONS = RestoreOptions(target_time=TARGET, client_cidrs=("10.0.16.0/20",),
                         poll_interval_s=30.0, timeout_s=3600.0)


def expect_source(h: Harness) -> None:
    rds, ec2 = h.stub("rds"), h.stub("ec2")
    rds.add_response("describe_db_clusters", {"DBClusters": [{
        "DBClusterIdentifier": "orders-primary", "KmsKeyId": KMS, "DBSubnetGroup": "orders-db",
        "DBClusterParameterGroup": "orders-params", "Engine": "aurora-postgresql", "Port": 5432,
        "DatabaseName": "orders", "MasterUsername": "orders_master",
        "DBClusterMembers": [{"DBInstanceIdentifier": "orders-primary-1",
                              "IsClusterWriter": True}],
    }]}, {"DBClusterIdentifier": "orders-primary"})
    rds.add_response("describe_db_instances", {"DBInstances": [{
        "DBInstanceIdentifier": "orders-primary-1", "DBInstanceClass": "db.r6g.large"}]},
        {"DBInstanceIdentifier": "orders-primary-1"})
    rds.add_response("describe_db_subnet_groups", {"DBSubnetGroups": [{"VpcId": "vpc-1"}]},
                     {"DBSubnetGroupName": "orders-db"})
    ec2.add_response("create_security_group", {"GroupId": "sg-restore"}, {
        "GroupName": NEW + "-sg", "VpcId": "vpc-1",
        "Description": "restore drill of orders-primary: verifier only",
        "TagSpecifications": [{"ResourceType": "security-group", "Tags": TAGS}]})
    ec2.add_response("revoke_security_group_egress", {"Return": True}, {
        "GroupId": "sg-restore",
        "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]})
    ec2.add_response("authorize_security_group_ingress", {"Return": True}, {
        "GroupId": "sg-restore", "IpPermissions": [{
            "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "IpRanges": [{"CidrIp": "10.0.16.0/20", "Description": "restore verifier"}]}]})


def expect_restore(h: Harness) -> None:
    rds = h.stub("rds")
    rds.add_response("restore_db_cluster_to_point_in_time", {"DBCluster": {}}, {
        "DBClusterIdentifier": NEW, "SourceDBClusterIdentifier": "orders-primary",
        "RestoreType": "full-copy", "RestoreToTime": TARGET, "KmsKeyId": KMS,
        "DBSubnetGroupName": "orders-db", "VpcSecurityGroupIds": ["sg-restore"],
        "DBClusterParameterGroupName": "orders-params", "DeletionProtection": False,
        "CopyTagsToSnapshot": False, "Tags": TAGS})
    rds.add_response("create_db_instance", {"DBInstance": {}}, {
        "DBInstanceIdentifier": NEW_INSTANCE, "DBClusterIdentifier": NEW,
        "DBInstanceClass": "db.r6g.large", "Engine": "aurora-postgresql",
        "PubliclyAccessible": False, "Tags": TAGS})


def expect_available(h: Harness) -> None:
    rds = h.stub("rds")
    query = {"DBClusterIdentifier": NEW}
    rds.add_response("describe_db_clusters", {"DBClusters": [{"Status": "creating"}]}, query)
    rds.add_response("describe_db_clusters", {"DBClusters": [{
        "Status": "available", "KmsKeyId": KMS, "StorageEncrypted": True}]}, query)
    rds.add_response("describe_db_instances", {"DBInstances": [{
        "DBInstanceStatus": "available", "PubliclyAccessible": False,
        "Endpoint": {"Address": "restored.example.internal", "Port": 5432}}]},
        {"DBInstanceIdentifier": NEW_INSTANCE})
    h.stub("secretsmanager").add_response("get_secret_value", {"SecretString": json.dumps(
        {"username": "orders_master", "password": "s3cret-value"})}, {"SecretId": SECRET_ARN})


def expect_cleanup(h: Harness, *, instance: bool = True) -> None:
    rds = h.stub("rds")
    if instance:
        rds.add_response("delete_db_instance", {"DBInstance": {}}, {
            "DBInstanceIdentifier": NEW_INSTANCE, "SkipFinalSnapshot": True,
            "DeleteAutomatedBackups": True})
        rds.add_response("describe_db_instances", {"DBInstances": [{
            "DBInstanceStatus": "deleting"}]}, {"DBInstanceIdentifier": NEW_INSTANCE})
        rds.add_client_error("describe_db_instances", "DBInstanceNotFound",
                             expected_params={"DBInstanceIdentifier": NEW_INSTANCE})
    rds.add_response("delete_db_cluster", {"DBCluster": {}}, {
        "DBClusterIdentifier": NEW, "SkipFinalSnapshot": True, "DeleteAutomatedBackups": True})
    rds.add_client_error("describe_db_clusters", "DBClusterNotFoundFault",
                         expected_params={"DBClusterIdentifier": NEW})
    h.stub("ec2").add_response("delete_security_group", {},
                               {"GroupId": "sg-restore"})


def test_restore_verify_and_delete() -> None:
    h = Harness(OPTIONS)
    expect_source(h)
    expect_restore(h)
    expect_available(h)
    expect_cleanup(h)
    report = h.run()

    assert report["verdict"] == "passed", report["verdict_reason"]
    endpoint, target = h.verifier.seen[0]
    assert (endpoint.host, endpoint.user, endpoint.password) == (
        "restored.example.internal", "orders_master", "s3cret-value")
    assert target == TARGET
    assert "s3cret-value" not in repr(endpoint) + json.dumps(report, default=str)
    assert report["timings"]["restore_requested_at"] == "2025-01-01T12:00:00+00:00"
    assert report["timings"]["cluster_available_at"] == "2025-01-01T12:00:30+00:00"
    assert report["rto_s"] == {"to_first_query": 32.0, "to_verified": 72.0}
    assert report["leftovers"] == []
    assert [op for op in h.operations() if op.startswith("delete")] == [
        "delete_db_instance", "delete_db_cluster", "delete_security_group"]


def test_anomalies_fail_the_drill_and_still_clean_up() -> None:
    h = Harness(OPTIONS, anomalies=["missing_acknowledged: 3"])
    expect_source(h)
    expect_restore(h)
    expect_available(h)
    expect_cleanup(h)
    report = h.run()
    assert report["verdict"] == "failed"
    assert report["verdict_reason"] == "anomaly: missing_acknowledged: 3"
    assert report["anomalies"] == ["missing_acknowledged: 3"]


def test_cleanup_runs_when_the_instance_cannot_be_created() -> None:
    h = Harness(OPTIONS)
    expect_source(h)
    rds = h.stub("rds")
    rds.add_response("restore_db_cluster_to_point_in_time", {"DBCluster": {}})
    rds.add_client_error("create_db_instance", "InsufficientDBInstanceCapacity",
                         "no capacity")
    # the instance was never created: its delete answers not-found, the rest goes on
    rds.add_client_error("delete_db_instance", "DBInstanceNotFound",
                         expected_params={"DBInstanceIdentifier": NEW_INSTANCE,
                                          "SkipFinalSnapshot": True,
                                          "DeleteAutomatedBackups": True})
    rds.add_client_error("describe_db_instances", "DBInstanceNotFound",
                         expected_params={"DBInstanceIdentifier": NEW_INSTANCE})
    expect_cleanup(h, instance=False)
    report = h.run()
    assert report["verdict"] == "failed"
    assert "InsufficientDBInstanceCapacity" in report["verdict_reason"]
    assert report["leftovers"] == []
    assert h.verifier.seen == []


def test_cleanup_runs_when_verification_fails_and_reports_leftovers() -> None:
    h = Harness(OPTIONS, error=ConnectionError("connection refused"))
    expect_source(h)
    expect_restore(h)
    expect_available(h)
    rds = h.stub("rds")
    rds.add_response("delete_db_instance", {"DBInstance": {}})
    rds.add_client_error("describe_db_instances", "DBInstanceNotFound")
    rds.add_client_error("delete_db_cluster", "InvalidDBClusterStateFault", "busy")
    h.stub("ec2").add_client_error("delete_security_group", "DependencyViolation", "in use")
    report = h.run()
    assert report["verdict"] == "failed"
    assert report["verdict_reason"].startswith("ConnectionError: connection refused")
    assert [left.split(":")[0] for left in report["leftovers"]] == ["cluster", "security-group"]
    assert "delete by hand" in report["verdict_reason"]


def test_timeout_waiting_for_the_cluster_cleans_up() -> None:
    h = Harness(RestoreOptions(target_time=TARGET, client_cidrs=("10.0.16.0/20",),
                               poll_interval_s=30.0, timeout_s=60.0))
    expect_source(h)
    expect_restore(h)
    rds = h.stub("rds")
    for _ in range(3):  # t = 0, 30, 60: still creating at the deadline
        rds.add_response("describe_db_clusters", {"DBClusters": [{"Status": "creating"}]},
                         {"DBClusterIdentifier": NEW})
    expect_cleanup(h)
    report = h.run()
    assert report["verdict"] == "failed"
    assert "timed out waiting until cluster" in report["verdict_reason"]


def test_a_public_or_re_keyed_restore_is_refused() -> None:
    h = Harness(OPTIONS)
    expect_source(h)
    expect_restore(h)
    rds = h.stub("rds")
    rds.add_response("describe_db_clusters", {"DBClusters": [{
        "Status": "available", "KmsKeyId": "another-key"}]}, {"DBClusterIdentifier": NEW})
    rds.add_response("describe_db_instances", {"DBInstances": [{
        "DBInstanceStatus": "available", "PubliclyAccessible": False}]})
    expect_cleanup(h)
    report = h.run()
    assert report["verdict"] == "failed"
    assert "not encrypted with the source's key" in report["verdict_reason"]
    assert h.verifier.seen == []


def test_latest_restorable_time_when_no_target_is_given() -> None:
    h = Harness(RestoreOptions(client_cidrs=("10.0.16.0/20",)), dry_run=True)
    report = h.run()
    restore = next(c for c in h.calls.calls
                   if c.operation == "restore_db_cluster_to_point_in_time")
    assert restore.params["UseLatestRestorableTime"] is True
    assert "RestoreToTime" not in restore.params
    assert report["verdict"] == "dry-run"


def test_dry_run_prints_every_call_and_makes_none() -> None:
    h = Harness(OPTIONS, dry_run=True)
    report = h.run()
    printed = [json.loads(line.removeprefix("DRY-RUN "))["operation"]
               for line in h.lines if line.startswith("DRY-RUN ")]
    assert printed == [c.operation for c in h.calls.calls]
    assert printed == [
        "describe_db_clusters", "describe_db_instances", "describe_db_subnet_groups",
        "create_security_group", "revoke_security_group_egress",
        "authorize_security_group_ingress", "restore_db_cluster_to_point_in_time",
        "create_db_instance", "describe_db_clusters", "describe_db_instances",
        "get_secret_value", "delete_db_instance", "describe_db_instances",
        "delete_db_cluster", "describe_db_clusters", "delete_security_group"]
    assert h.verifier.seen == []
    assert report["verdict"] == "dry-run"


@pytest.mark.parametrize("source", ["orders-primary", "x" * 80, "9-Prod--Orders-"])
def test_temporary_identifiers_are_valid_rds_identifiers(source: str) -> None:
    ident = temporary_identifier(source, datetime(2025, 1, 1, 12, 0, tzinfo=UTC))
    instance = ident + "-1"
    assert len(instance) <= IDENTIFIER_MAX
    for name in (ident, instance):
        assert name[0].isalpha() and not name.endswith("-") and "--" not in name
        assert all((ch.isalnum() and ch == ch.lower()) or ch == "-" for ch in name)


def test_cli_requires_client_cidrs_and_a_zoned_target_time(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS | {"databaseMasterSecretArn": SECRET_ARN}))
    import argparse

    from chaos.aws.restore_cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run(parser.parse_args(["--stack-outputs", str(outputs)])) == 2
    assert run(parser.parse_args(["--stack-outputs", str(outputs), "--client-cidr",
                                  "10.0.0.0/16", "--target-time", "2025-01-01T10:00"])) == 2
    lines: list[str] = []
    args = parser.parse_args(["--stack-outputs", str(outputs), "--dry-run",
                              "--target-time", "2025-01-01T10:00:00Z",
                              "--publish-metrics", "Orders/RestoreDrill"])
    assert run(args, emit=lines.append, clock=FakeClock()) == 0
    calls = [json.loads(line.removeprefix("DRY-RUN ")) for line in lines
             if line.startswith("DRY-RUN ")]
    restore = next(c for c in calls if c["operation"] == "restore_db_cluster_to_point_in_time")
    assert restore["params"]["RestoreToTime"] == "2025-01-01T10:00:00+00:00"
    assert calls[-1]["operation"] == "put_metric_data"
    assert calls[-1]["params"]["Namespace"] == "Orders/RestoreDrill"


def test_cli_takes_the_source_without_stack_outputs() -> None:
    import argparse

    from chaos.aws.restore_cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run(parser.parse_args(["--region", PRIMARY, "--dry-run"])) == 2  # no cluster
    lines: list[str] = []
    args = parser.parse_args(["--region", "eu-central-1", "--cluster-id", "orders-standby",
                              "--master-secret-arn", SECRET_ARN, "--dry-run"])
    assert run(args, emit=lines.append, clock=FakeClock()) == 0
    calls = [json.loads(line.removeprefix("DRY-RUN ")) for line in lines
             if line.startswith("DRY-RUN ")]
    assert {c["region"] for c in calls} == {"eu-central-1"}
    assert calls[0]["params"] == {"DBClusterIdentifier": "orders-standby"}
    secret = next(c for c in calls if c["operation"] == "get_secret_value")
    assert secret["params"] == {"SecretId": SECRET_ARN}


def test_python_m_chaos_restore_drill_reaches_the_aws_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The one `restore-drill` command: --target aws gets the AWS options and runs dry."""
    from chaos.__main__ import main

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS | {"databaseMasterSecretArn": SECRET_ARN}))
    code = main(["restore-drill", "--target", "aws", "--stack-outputs", str(outputs),
                 "--dry-run", "--reports-dir", str(tmp_path / "reports")])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    dry = [line for line in (printed.out + printed.err).splitlines() if "DRY-RUN" in line]
    assert any("restore_db_cluster_to_point_in_time" in line for line in dry)

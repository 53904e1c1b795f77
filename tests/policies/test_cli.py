"""`python -m policies evaluate`: inputs, formats, exit codes and the auditor report."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policies import all_policies, pack_version
from policies.cli import main

from .fixtures import baseline_plan, mutated

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, plan: Any, name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(plan) if not isinstance(plan, str) else plan, encoding="utf-8")
    return path


def evaluate_json(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    code = main(["evaluate", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_compliant_plan_exits_0_with_every_policy_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = evaluate_json(["--plan", str(write(tmp_path, baseline_plan()))], capsys)
    assert code == 0
    assert report["result"] == "pass"
    assert report["violations"] == []
    names = [p["name"] for p in report["policies"]]
    assert names == [p.name for p in all_policies()]
    first = report["policies"][0]
    assert set(first) >= {"name", "severity", "enforcement", "frameworks", "status"}
    assert {f["framework"] for p in report["policies"] for f in p["frameworks"]} >= {
        "PCI DSS",
        "SOC 2 Trust Services Criteria",
        "CIS AWS Foundations Benchmark",
    }
    pack = report["pack"]
    assert (pack["name"], pack["version"]) == ("investment-orders-controls", pack_version())
    assert len(pack["sha256"]) == 64 and pack["gitCommit"]
    assert len(report["configSha256"]) == 64 and report["source"].startswith("offline")


def test_mandatory_violation_exits_1_and_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = mutated("orders-cache", ("transitEncryptionEnabled",), False)
    code, report = evaluate_json(["--plan", str(write(tmp_path, plan))], capsys)
    assert code == 1
    assert report["result"] == "fail"
    assert report["violations"] == [
        {
            "policy": "aws-elasticache-replicationgroup-disallow-unencrypted-transit",
            "resourceType": "aws:elasticache/replicationGroup:ReplicationGroup",
            "resourceName": "orders-cache",
            "region": "eu-central-1",
            "urn": "urn:pulumi:plan::plan::aws:elasticache/replicationGroup:ReplicationGroup::orders-cache",
            "message": "ElastiCache replication group does not encrypt traffic in transit "
            "(transitEncryptionEnabled is not true).",
            "severity": "high",
            "enforcement": "mandatory",
        }
    ]


def test_advisory_violation_alone_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = mutated(
        "orders-api", ("spec", "template", "spec", "containers", 0, "resources", "limits"), {}
    )
    code, report = evaluate_json(["--plan", str(write(tmp_path, plan))], capsys)
    assert code == 0
    assert [v["enforcement"] for v in report["violations"]] == ["advisory"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ('{"type": "x"}', "a plan is a JSON array"),
        ('[{"type": "aws:kms/key:Key", "name": "k"}]', "entry 0 lacks inputs"),
        (
            '[{"type": "aws:kms/key:Key", "name": "k", "inputs": []}]',
            "inputs that are not an object",
        ),
        ("[1]", "entry 0 is not an object"),
    ],
)
def test_invalid_plan_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    code = main(["evaluate", "--plan", str(write(tmp_path, content))])
    assert code == 2
    captured = capsys.readouterr()
    assert expected in captured.err
    assert captured.out == ""


def test_missing_file_and_bad_arguments_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--plan", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["evaluate"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", "--plan", "a.json", "--stack-export", "b.json"])
    assert exited.value.code == 2
    assert main(["evaluate", "--stack-export", str(write(tmp_path, "[]"))]) == 2
    assert main(["evaluate", "--preview-events", str(write(tmp_path, "not json\n"))]) == 2


def test_policy_config_changes_thresholds_and_enforcement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write(tmp_path, baseline_plan())
    config = write(
        tmp_path,
        {
            "aws-rds-cluster-backup-retention": {
                "minRetentionDays": 21,
                "enforcementLevel": "advisory",
            }
        },
        "config.json",
    )
    code, report = evaluate_json(["--plan", str(plan), "--config", str(config)], capsys)
    assert code == 0  # advisory now
    assert [(v["policy"], v["message"], v["enforcement"]) for v in report["violations"]] == [
        (
            "aws-rds-cluster-backup-retention",
            "Backup retention is 14 days; the minimum is 21 days (backupRetentionPeriod).",
            "advisory",
        )
    ]
    entry = next(p for p in report["policies"] if p["name"] == "aws-rds-cluster-backup-retention")
    assert entry["config"] == {"minRetentionDays": 21}


def test_markdown_report_for_auditors(tmp_path: Path) -> None:
    plan = write(tmp_path, mutated("orders-primary-0", ("publiclyAccessible",), True))
    out = tmp_path / "reports" / "policy-report.md"
    assert main(["evaluate", "--plan", str(plan), "--format", "markdown", "--out", str(out)]) == 1
    text = out.read_text(encoding="utf-8")
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    for expected in (
        "**Result: FAIL** (1 mandatory violation(s)",
        f"| Input SHA-256 | `{digest} (",
        f"| Policy pack | `investment-orders-controls version {pack_version()} (pulumi-policy",
        "| Pack SHA-256 |",
        "| Config SHA-256 |",
        "| Pack git commit |",
        "| Input source | `offline: the program run under infra's mocks",
        "## Waiver register",
        "## Evidence by resource",
        "## Resources no control looked at",
        "NO AUTOMATED FINDING (partial evidence)",
        "| critical | 1 | 1 | 1 |",
        "### PCI DSS (4.0.1)",
        "### SOC 2 Trust Services Criteria",
        "### CIS AWS Foundations Benchmark (3.0.0)",
        "| 2.3.3 | Ensure that public access is not given to RDS Instance | "
        "`aws-rds-instance-disallow-public-access` (FAIL) | **FAIL** |",
        "### 1. `aws-rds-instance-disallow-public-access` (mandatory, critical)",
        "- Resource: `orders-primary-0` (aws:rds/clusterInstance:ClusterInstance) in eu-central-1",
        "- Finding: Database is publicly accessible (publiclyAccessible is true).",
        "- Remediation: Set `publicly_accessible=False`",
        "| `aws-rds-cluster-backup-retention` | `minRetentionDays` | `14` |",
    ):
        assert expected in text, expected


def test_stack_export_is_evaluated_on_outputs() -> None:
    from policies.evaluate import load

    evaluation = load("stack-export", DATA / "stack-export.json")
    assert evaluation.provenance.kind == "stack-export"
    assert sorted(
        (v.policy, v.resource_name, v.region, v.message) for v in evaluation.violations
    ) == sorted(
        [
            (
                "aws-rds-cluster-require-tls-parameter-group",
                "orders-primary",
                "eu-central-1",
                "Aurora cluster 'orders-primary' uses parameter group 'default.aurora-postgresql16', which is not "
                "managed in this stack, so TLS enforcement cannot be verified.",
            ),
            (
                "aws-rds-cluster-backup-retention",
                "orders-primary",
                "eu-central-1",
                "Backup retention is 7 days; the minimum is 14 days (backupRetentionPeriod).",
            ),
            (
                "aws-rds-cluster-multi-az-instances",
                "orders-primary",
                "eu-central-1",
                "Aurora cluster 'orders-primary' has 0 instance(s); at least 2 are required.",
            ),
            # a minimal export: no backup plan, no alarm, no audit checkpoint bucket
            (
                "aws-rds-copy-tags-to-snapshots",
                "orders-primary",
                "eu-central-1",
                "Tags are not copied to snapshots (copyTagsToSnapshot).",
            ),
            (
                "aws-rds-enable-iam-authentication",
                "orders-primary",
                "eu-central-1",
                "IAM database authentication is off (iamDatabaseAuthenticationEnabled).",
            ),
            (
                "aws-backup-selection-linked-to-plan",
                "(stack)",
                None,
                "The stack has data stores but no AWS Backup plan.",
            ),
            (
                "aws-cloudwatch-data-store-alarms",
                "orders-primary",
                "eu-central-1",
                "aws:rds/cluster:Cluster 'orders-primary' has no CloudWatch alarm with an alarm action.",
            ),
            (
                "aws-s3-audit-checkpoint-bucket-object-lock",
                "(stack)",
                None,
                "No S3 bucket in the stack can hold the audit checkpoints: none has Object Lock in "
                "COMPLIANCE mode with versioning and a customer-managed key.",
            ),
            (
                "aws-backup-selection-covers-aurora",
                "orders-primary",
                "eu-central-1",
                "Aurora cluster 'orders-primary' is not selected by any AWS Backup plan.",
            ),
            (
                "aws-backup-restore-testing",
                "orders-primary",
                "eu-central-1",
                "Aurora cluster 'orders-primary' has no restore test.",
            ),
            # the minimal export's cluster has no subnet group, log exports or port of its own
            (
                "aws-rds-disallow-default-port",
                "orders-primary",
                "eu-central-1",
                "The database listens on the aurora-postgresql default port 5432 (port).",
            ),
            (
                "aws-rds-enable-log-exports",
                "orders-primary",
                "eu-central-1",
                "No database log is exported to CloudWatch Logs (enabledCloudwatchLogsExports).",
            ),
            (
                "aws-rds-require-vpc",
                "orders-primary",
                "eu-central-1",
                "The database is not placed in the program's VPC (dbSubnetGroupName is not set "
                "or is the default group).",
            ),
            (
                "aws-resource-require-description",
                "db-key",
                "eu-central-1",
                "KMS key has no description (description).",
            ),
            (
                "aws-rds-restore-verification-scheduled",
                "orders-primary",
                "eu-central-1",
                "Aurora cluster 'orders-primary' has no restore verification scheduled at least "
                "weekly.",
            ),
        ]
    )
    # the key reference resolved through the export's propertyDependencies: no key finding
    keys = next(
        r for r in evaluation.results if r.name == "aws-kms-data-store-keys-managed-in-stack"
    )
    assert keys.status == "pass"


def test_preview_events_give_the_engine_results(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = evaluate_json(["--preview-events", str(DATA / "preview-events.jsonl")], capsys)
    assert code == 1
    assert report["input"]["kind"] == "preview-events"
    assert [
        (v["policy"], v["resourceName"], v["message"], v["enforcement"])
        for v in report["violations"]
    ] == [
        (
            "aws-rds-cluster-backup-retention",
            "orders-primary",
            "Backup retention is 7 days; the minimum is 14 days (backupRetentionPeriod).",
            "mandatory",
        ),
        (
            "aws-backup-plan-enable-continuous-backup",
            "orders-backup",
            "No backup rule enables continuous backup (enableContinuousBackup is not true).",
            "advisory",
        ),
    ]
    status = {p["name"]: p["status"] for p in report["policies"]}
    assert status["aws-rds-cluster-deletion-protection"] == "pass"
    assert status["aws-rds-cluster-backup-retention"] == "fail"
    assert status["aws-sqs-queue-configure-customer-managed-key"] == "not-applicable"


def test_module_entry_point_dispatches_to_the_cli(tmp_path: Path) -> None:
    plan = write(tmp_path, baseline_plan())
    done = subprocess.run(
        [sys.executable, "-m", "policies", "evaluate", "--plan", str(plan), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == "pass"

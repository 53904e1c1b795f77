"""The adversarial mutations of the real program's plan (see ``adversarial``).

Requirement labels: ``FSBP <id>`` (AWS Security Hub FSBP), ``CIS-AWS <id>`` (CIS AWS 3.0),
``CIS-EKS <id>`` (CIS EKS 1.5), ``PSS <rule>`` (Pod Security Standard restricted), ``CP
<policy>`` (pulumi/compliance-policies) and ``PLATFORM <rule>`` for the platform's own
requirements (required resources, evasions) that no public control set states.
"""

from __future__ import annotations

from .adversarial import Mutation
from .adversarial_additions import ADDITIONS, RENAMES
from .adversarial_coverage import COVERAGE_MUTATIONS
from .adversarial_evasions import COMBINATIONS, EVASIONS
from .adversarial_helpers import (
    drop,
)
from .adversarial_weakenings import WEAKENINGS

M = Mutation
DELETIONS = [
    M(
        "del-backup-plan",
        "delete",
        "the backup plan is removed (selection left dangling)",
        ("PLATFORM backup-plan-linked", "SOC2 A1.2"),
        drop("backup-plan"),
    ),
    M(
        "del-backup-all",
        "delete",
        "plan, selection, restore tests and vault locks removed",
        ("PLATFORM backup-plan-linked", "SOC2 A1.2"),
        drop(
            "backup-plan",
            "backup-selection",
            "backup-restore-test-aurora",
            "backup-restore-test",
            "backup-primary-vault-lock",
            "backup-standby-vault-lock",
        ),
    ),
    M(
        "del-backup-selection",
        "delete",
        "the Aurora backup selection is removed",
        ("PLATFORM backup-selection", "SOC2 A1.2"),
        drop("backup-selection"),
    ),
    M(
        "del-flow-log",
        "delete",
        "the primary VPC's flow log is removed",
        ("CIS-AWS 3.7", "FSBP EC2.6"),
        drop("primary-network-flow-log"),
    ),
    M(
        "del-health-check",
        "delete",
        "the primary failover record's health check is removed",
        ("PLATFORM failover-health-check",),
        drop("dns-primary-health"),
    ),
    M(
        "del-default-deny",
        "delete",
        "the default-deny NetworkPolicy is removed",
        ("CIS-EKS 4.3.2",),
        drop("primary-workload-default-deny"),
    ),
    M(
        "del-db-alarms",
        "delete",
        "every Aurora alarm is removed",
        ("PLATFORM data-store-alarms",),
        drop(prefix="primary-alarms-db-"),
    ),
    M(
        "del-dlq-alarm",
        "delete",
        "the dead-letter queue alarm is removed",
        ("PLATFORM data-store-alarms",),
        drop("primary-alarms-dlq-not-empty"),
    ),
    M(
        "del-redis-alarms",
        "delete",
        "every Redis alarm is removed",
        ("PLATFORM data-store-alarms",),
        drop(prefix="primary-alarms-redis-"),
    ),
    M(
        "del-control-plane-log-group",
        "delete",
        "the EKS control-plane log group is removed",
        ("CIS-EKS 2.1.1", "PCI 10.5.1"),
        drop("primary-cluster-control-plane-logs"),
    ),
    M(
        "del-pdb",
        "delete",
        "the API's PodDisruptionBudget is removed",
        ("PLATFORM pdb-per-workload",),
        drop("primary-workload-api-pdb"),
    ),
    M(
        "del-vault-lock",
        "delete",
        "the primary backup vault lock is removed",
        ("PLATFORM vault-lock",),
        drop("backup-primary-vault-lock"),
    ),
    M(
        "del-db-key",
        "delete",
        "the database KMS key is removed (the cluster keeps its ARN)",
        ("PLATFORM keys-in-stack", "PCI 3.6.1"),
        drop("primary-keys-database"),
    ),
    M(
        "del-param-group",
        "delete",
        "the TLS cluster parameter group is removed",
        ("PLATFORM tls-parameter-group",),
        drop("primary-database-params"),
    ),
    M(
        "del-namespace",
        "delete",
        "the restricted namespace declaration is removed",
        ("CIS-EKS 4.2.1", "PSS namespace"),
        drop("primary-workload-namespace"),
    ),
    M(
        "del-restore-verification",
        "delete",
        "the weekly restore drill CronJob is removed",
        ("PLATFORM restore-verification-scheduled", "SOC2 A1.3"),
        drop("primary-restore-testing-drill"),
    ),
    M(
        "del-restore-test",
        "delete",
        "the restore-test selection is removed (advisory control)",
        ("SOC2 A1.3",),
        drop("backup-restore-test-aurora"),
        mandatory=False,
    ),
]


CATALOGUE: list[Mutation] = [
    *DELETIONS,
    *ADDITIONS,
    *RENAMES,
    *WEAKENINGS,
    *COMBINATIONS,
    *EVASIONS,
    *COVERAGE_MUTATIONS,
]

"""aws-rds-cluster-backup-retention

Aurora/RDS clusters must keep automated backups (point-in-time recovery) for at least the
configured number of days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import number
from ...checks.resilience import CATEGORY, MIN_RETENTION, PCI_IR, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-cluster-backup-retention",
    description="Aurora/RDS clusters must keep automated backups (point-in-time recovery) for at "
    "least the configured number of days.",
    resource_types=(T.RDS_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        PCI_IR,
        fsbp("RDS.11", "RDS instances should have automatic backups enabled"),
    ),
    remediation=(
        "Set `backup_retention_period` to at least the configured minimum (default 14 days) on "
        "every cluster, including the standby region's secondary cluster, which keeps its own "
        "setting after a failover."
    ),
    config=(MIN_RETENTION,),
)
def rds_backup_retention(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    days = number(r, rep, "backupRetentionPeriod")
    minimum = int(cfg["minRetentionDays"])
    if days is None:
        rep.violation(
            f"Backup retention is not set (AWS default 1 day); the minimum is {minimum} days "
            "(backupRetentionPeriod)."
        )
    elif days < minimum:
        rep.violation(
            f"Backup retention is {int(days)} days; the minimum is {minimum} days "
            f"(backupRetentionPeriod)."
        )

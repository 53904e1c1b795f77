"""aws-rds-instance-backup-retention

RDS DB instances must keep automated backups for at least the configured number of days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import number
from ...checks.resilience import CATEGORY, MIN_RETENTION, PCI_IR, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-instance-backup-retention",
    description="RDS DB instances must keep automated backups for the configured minimum days.",
    resource_types=(T.RDS_INSTANCE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        PCI_IR,
        fsbp("RDS.11", "RDS instances should have automatic backups enabled"),
    ),
    remediation="Set `backup_retention_period` to at least the minimum.",
    config=(MIN_RETENTION,),
)
def instance_backups(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    days = number(r, rep, "backupRetentionPeriod")
    minimum = int(cfg["minRetentionDays"])
    if (days or 0) < minimum:
        rep.violation(
            f"Backup retention is {int(days or 0)} days; the minimum is {minimum} days "
            "(backupRetentionPeriod)."
        )

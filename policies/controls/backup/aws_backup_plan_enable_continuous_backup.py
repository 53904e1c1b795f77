"""aws-backup-plan-enable-continuous-backup

An AWS Backup plan should take continuous backups for point-in-time restore.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import ADVISORY, MEDIUM, Reporter, Resource, resource_control


@resource_control(
    name="aws-backup-plan-enable-continuous-backup",
    description="An AWS Backup plan should take continuous backups for point-in-time restore.",
    resource_types=(T.BACKUP_PLAN,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=ADVISORY,
    frameworks=(SOC2_RECOVERY,),
    remediation="Add a rule with `enable_continuous_backup=True` (retention up to 35 days).",
)
def backup_plan_continuous(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    flags = [P.get(rule, "enableContinuousBackup") for rule in P.as_list(r.get("rules"))]
    if any(P.is_unknown(flag) for flag in flags):
        rep.skip("rules[].enableContinuousBackup")
    if not any(P.as_bool(flag) for flag in flags):
        rep.violation(
            "No backup rule enables continuous backup (enableContinuousBackup is not true)."
        )

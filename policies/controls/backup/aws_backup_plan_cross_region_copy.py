"""aws-backup-plan-cross-region-copy

Every AWS Backup plan must copy recovery points to a vault in another region.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.resilience import CATEGORY, PCI_IR, SOC2_RECOVERY, SOC2_RISK, _check_cross_region
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="aws-backup-plan-cross-region-copy",
    description="Every AWS Backup plan must copy recovery points to a vault in another region.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, SOC2_RISK, PCI_IR),
    scope=(T.BACKUP_PLAN,),
    remediation=(
        "Add a `copy_actions` entry to the plan's rule with `destination_vault_arn` set to the "
        "standby region's backup vault (encrypted with that region's CMK) and a lifecycle no "
        "shorter than the configured minimum."
    ),
)
def backup_cross_region(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for plan in stack.of_type(T.BACKUP_PLAN):
        with rep.guard(plan):
            _check_cross_region(stack, plan, rep)

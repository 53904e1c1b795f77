"""aws-backup-selection-linked-to-plan

Every AWS Backup selection must belong to a backup plan declared in the stack, and a
stack with data stores must have at least one plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, PCI_IR, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack

DATA_STORES = (T.RDS_CLUSTER, T.RDS_INSTANCE, T.DYNAMODB_TABLE, T.EFS_FILE_SYSTEM)


@stack_control(
    name="aws-backup-selection-linked-to-plan",
    description=(
        "Every backup selection must belong to a backup plan declared in the stack, and a "
        "stack with data stores must declare a backup plan."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, PCI_IR),
    remediation="Declare an `aws.backup.Plan` and set each selection's `plan_id=plan.id`.",
    scope=(*DATA_STORES, T.BACKUP_PLAN, T.BACKUP_SELECTION),
)
def selection_linked(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    plans = stack.of_type(T.BACKUP_PLAN)
    if stack.of_type(*DATA_STORES) and not plans:
        rep.violation("The stack has data stores but no AWS Backup plan.")
    for selection in stack.of_type(T.BACKUP_SELECTION):
        plan_id = selection.get("planId")
        if not stack.resolve(selection, "planId", plan_id, T.BACKUP_PLAN) and not P.is_unknown(
            plan_id
        ):
            rep.violation(
                f"Backup selection '{selection.name}' refers to plan {plan_id!r}, which is not "
                "declared in the stack.",
                selection,
            )

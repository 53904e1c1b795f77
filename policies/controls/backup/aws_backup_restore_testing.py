"""aws-backup-restore-testing

Backups of every primary Aurora cluster should be restore-tested on a schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY_TEST, _is_global_secondary, _selected
from ...framework import ADVISORY, MEDIUM, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="aws-backup-restore-testing",
    description="Backups of every primary Aurora cluster should be restore-tested on a schedule.",
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=ADVISORY,
    frameworks=(SOC2_RECOVERY_TEST,),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Add an `aws.backup.RestoreTestingPlan` with an `aws.backup.RestoreTestingSelection` whose "
        "`protected_resource_arns` list the cluster's ARN."
    ),
)
def backup_restore_testing(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    selections = _selected(stack, T.BACKUP_RESTORE_TESTING_SELECTION, "protectedResourceArns")
    for cluster in stack.of_type(T.RDS_CLUSTER):
        if _is_global_secondary(cluster):
            continue
        with rep.guard(cluster):
            arns = [arn for _, listed in selections for arn in listed]
            if any(arn == "*" for arn in arns) or any(
                cluster in stack.resolve(sel, "protectedResourceArns", arn, T.RDS_CLUSTER)
                for sel, listed in selections
                for arn in listed
            ):
                continue
            if any(P.is_unknown(arn) for arn in arns):
                rep.skip(f"the restore-testing selections covering '{cluster.name}'")
            rep.violation(f"Aurora cluster '{cluster.name}' has no restore test.", cluster)

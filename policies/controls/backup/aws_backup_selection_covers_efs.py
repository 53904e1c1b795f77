"""aws-backup-selection-covers-efs

Every EFS file system must be selected by an AWS Backup plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.resilience import CATEGORY, PCI_IR, SOC2_RECOVERY, backup_selection_status
from ...framework import HIGH, MANDATORY, Reporter, fsbp, stack_control
from ...model import Stack


@stack_control(
    name="aws-backup-selection-covers-efs",
    description="Every EFS file system must be selected by an AWS Backup plan.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("EFS.2", "Amazon EFS volumes should be in backup plans"),
        SOC2_RECOVERY,
        PCI_IR,
    ),
    scope=(T.EFS_FILE_SYSTEM,),
    remediation=(
        "Add the file system's ARN to the `resources` of an `aws.backup.Selection` of the "
        "stack's backup plan."
    ),
)
def backup_covers_efs(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for file_system in stack.of_type(T.EFS_FILE_SYSTEM):
        with rep.guard(file_system):
            status = backup_selection_status(stack, file_system)
            if status == "unknown":
                rep.skip(f"the resources of the backup selections covering '{file_system.name}'")
            if status == "missing":
                rep.violation(
                    f"EFS file system '{file_system.name}' is not selected by any AWS Backup plan.",
                    file_system,
                )

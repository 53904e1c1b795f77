"""aws-backup-selection-covers-aurora

Every primary Aurora cluster must be selected by an AWS Backup plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.resilience import (
    CATEGORY,
    PCI_IR,
    SOC2_RECOVERY,
    _is_global_secondary,
    backup_selection_status,
)
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="aws-backup-selection-covers-aurora",
    description="Every primary Aurora cluster must be selected by an AWS Backup plan.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, PCI_IR),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Add an `aws.backup.Selection` for the backup plan whose `resources` list the cluster's "
        "ARN. Secondary clusters of a global database are covered through the primary."
    ),
)
def backup_covers_aurora(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for cluster in stack.of_type(T.RDS_CLUSTER):
        if _is_global_secondary(cluster):
            continue
        with rep.guard(cluster):
            status = backup_selection_status(stack, cluster)
            if status == "unknown":
                rep.skip(f"the resources of the backup selections covering '{cluster.name}'")
            if status == "missing":
                rep.violation(
                    f"Aurora cluster '{cluster.name}' is not selected by any AWS Backup plan.",
                    cluster,
                )

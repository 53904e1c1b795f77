"""aws-rds-cluster-deletion-protection

Aurora/RDS clusters and global clusters must have deletion protection enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-cluster-deletion-protection",
    description="Aurora/RDS clusters and global clusters must have deletion protection enabled.",
    resource_types=(T.RDS_CLUSTER, T.RDS_GLOBAL_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("RDS.8", "RDS DB instances should have deletion protection enabled"),
        SOC2_RECOVERY,
        fsbp("RDS.7", "RDS clusters should have deletion protection enabled"),
    ),
    remediation="Set `deletion_protection=True`; turn it off deliberately (and reviewed) only to "
    "decommission.",
)
def rds_deletion_protection(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "deletionProtection",
        "Deletion protection is not enabled (deletionProtection is not true).",
    )

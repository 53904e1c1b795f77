"""aws-rds-instance-deletion-protection

RDS DB instances must have deletion protection enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-instance-deletion-protection",
    description="RDS DB instances must have deletion protection enabled.",
    resource_types=(T.RDS_INSTANCE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, fsbp("RDS.8", "RDS DB instances should have deletion protection")),
    remediation="Set `deletion_protection=True`.",
)
def instance_deletion_protection(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "deletionProtection",
        "RDS instance has no deletion protection.",
    )

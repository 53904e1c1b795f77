"""aws-rds-instance-multi-az

RDS DB instances must be deployed Multi-AZ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-instance-multi-az",
    description="RDS DB instances must be deployed Multi-AZ (a standby in another AZ).",
    resource_types=(T.RDS_INSTANCE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp("RDS.5", "RDS DB instances should be configured with multiple Availability Zones"),
    ),
    remediation="Set `multi_az=True` (or use an Aurora cluster with instances in several AZs).",
)
def instance_multi_az(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(r, rep, "multiAz", "RDS instance is single-AZ (multiAz is not true).")

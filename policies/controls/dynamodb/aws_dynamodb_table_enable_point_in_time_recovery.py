"""aws-dynamodb-table-enable-point-in-time-recovery

DynamoDB tables must have point-in-time recovery enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-dynamodb-table-enable-point-in-time-recovery",
    description="DynamoDB tables must have point-in-time recovery enabled.",
    resource_types=(T.DYNAMODB_TABLE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp("DynamoDB.2", "DynamoDB tables should have point-in-time recovery enabled"),
    ),
    remediation="Set `point_in_time_recovery={'enabled': True}`.",
)
def pitr(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    enabled = r.get("pointInTimeRecovery", "enabled")
    if P.is_unknown(enabled):
        rep.skip("pointInTimeRecovery.enabled")
    if P.as_bool(enabled) is not True:
        rep.violation("Point-in-time recovery is off (pointInTimeRecovery.enabled).")

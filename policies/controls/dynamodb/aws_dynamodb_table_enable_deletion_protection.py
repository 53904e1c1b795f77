"""aws-dynamodb-table-enable-deletion-protection

DynamoDB tables must have deletion protection enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-dynamodb-table-enable-deletion-protection",
    description="DynamoDB tables must have deletion protection enabled.",
    resource_types=(T.DYNAMODB_TABLE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY,),
    remediation="Set `deletion_protection_enabled=True`.",
)
def dynamodb_deletion(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "deletionProtectionEnabled",
        "Table has no deletion protection (deletionProtectionEnabled).",
    )

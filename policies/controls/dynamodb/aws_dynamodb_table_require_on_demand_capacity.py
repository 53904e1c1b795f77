"""aws-dynamodb-table-require-on-demand-capacity

DynamoDB tables must scale capacity with demand. The pack accepts on-demand billing; a
provisioned table would need Application Auto Scaling, whose types are not on the reviewed
allow-list yet, so it fails until they are reviewed (or a waiver records it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import SOC2_CAPACITY
from ...checks.resilience import CATEGORY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-dynamodb-table-require-on-demand-capacity",
    description="DynamoDB tables must use on-demand capacity (billingMode PAY_PER_REQUEST).",
    resource_types=(T.DYNAMODB_TABLE,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("DynamoDB.1", "DynamoDB tables should automatically scale capacity with demand"),
        SOC2_CAPACITY,
    ),
    remediation="Set `billing_mode='PAY_PER_REQUEST'` on the `aws.dynamodb.Table`.",
)
def on_demand(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    mode = r.get("billingMode")
    if P.is_unknown(mode):
        rep.skip("billingMode")
    if mode != "PAY_PER_REQUEST":
        rep.violation(
            f"The table uses {mode or 'PROVISIONED (the default)'} capacity, which does not scale "
            "with demand (billingMode)."
        )

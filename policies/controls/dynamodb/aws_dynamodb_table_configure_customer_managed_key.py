"""aws-dynamodb-table-configure-customer-managed-key

DynamoDB tables must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import key_reference_problem
from ...checks.encryption import CATEGORY, PCI_KEYS, SOC2_LOGICAL
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-dynamodb-table-configure-customer-managed-key",
    description="DynamoDB tables must be encrypted with a customer-managed KMS key.",
    resource_types=(T.DYNAMODB_TABLE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_KEYS, SOC2_LOGICAL),
    remediation="Set `server_side_encryption={'enabled': True, 'kms_key_arn': key.arn}`.",
)
def dynamodb_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    sse = r.get("serverSideEncryption")
    if P.is_unknown(sse):
        rep.skip("serverSideEncryption")
    if P.as_bool(P.get(sse, "enabled")) is not True:
        rep.violation("Table uses the AWS-owned key (serverSideEncryption.enabled is not true).")
    elif key_reference_problem(P.get(sse, "kmsKeyArn")):
        rep.violation("Table is not encrypted with a customer-managed key (kmsKeyArn).")

"""aws-cloudwatch-loggroup-configure-customer-managed-key

CloudWatch log groups must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.encryption import CATEGORY, SOC2_LOGICAL, require_customer_managed_key
from ...framework import HIGH, MANDATORY, Reporter, Resource, pci, resource_control


@resource_control(
    name="aws-cloudwatch-loggroup-configure-customer-managed-key",
    description="CloudWatch log groups must be encrypted with a customer-managed KMS key.",
    resource_types=(T.LOG_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        pci("10.3.2", "Audit log files are protected to prevent modifications by individuals"),
        SOC2_LOGICAL,
    ),
    remediation=(
        "Set `kms_key_id` on the `aws.cloudwatch.LogGroup` to the logs key; the key policy must "
        "allow the `logs.<region>.amazonaws.com` service principal to use it."
    ),
)
def log_group_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_customer_managed_key(r, rep, "kmsKeyId", "CloudWatch log group", "logs")

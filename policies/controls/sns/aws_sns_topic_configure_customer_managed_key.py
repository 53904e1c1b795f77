"""aws-sns-topic-configure-customer-managed-key

SNS topics must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.encryption import (
    CATEGORY,
    PCI_STORED_DATA,
    SOC2_LOGICAL,
    require_customer_managed_key,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-sns-topic-configure-customer-managed-key",
    description="SNS topics must be encrypted with a customer-managed KMS key.",
    resource_types=(T.SNS_TOPIC,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        fsbp("SNS.1", "SNS topics should be encrypted at-rest using AWS KMS"),
    ),
    remediation="Set `kmsMasterKeyId` to a customer-managed KMS key created in this stack.",
)
def cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_customer_managed_key(r, rep, "kmsMasterKeyId", "SNS topic", "sns")

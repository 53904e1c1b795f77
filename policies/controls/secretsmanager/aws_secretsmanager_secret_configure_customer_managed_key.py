"""aws-secretsmanager-secret-configure-customer-managed-key

Secrets Manager secrets must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.encryption import CATEGORY, PCI_KEYS, SOC2_LOGICAL, require_customer_managed_key
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-secretsmanager-secret-configure-customer-managed-key",
    description="Secrets Manager secrets must be encrypted with a customer-managed KMS key.",
    resource_types=(T.SECRETS_MANAGER_SECRET,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_KEYS, SOC2_LOGICAL),
    remediation="Set `kmsKeyId` to a customer-managed KMS key created in this stack.",
)
def cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_customer_managed_key(r, rep, "kmsKeyId", "Secret", "secretsmanager")

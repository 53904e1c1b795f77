"""aws-rds-instance-disallow-unencrypted-storage

RDS DB instance storage must be encrypted at rest with a customer-managed key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.encryption import (
    CATEGORY,
    PCI_STORED_DATA,
    SOC2_LOGICAL,
    require_customer_managed_key,
)
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, cis_aws, fsbp, resource_control


@resource_control(
    name="aws-rds-instance-disallow-unencrypted-storage",
    description="RDS DB instances must encrypt storage with a customer-managed KMS key.",
    resource_types=(T.RDS_INSTANCE,),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.3.1", "Ensure that encryption-at-rest is enabled for RDS Instances"),
        fsbp("RDS.3", "RDS DB instances should have encryption at-rest enabled"),
    ),
    remediation="Set `storage_encrypted=True` and `kms_key_id` to a customer-managed key.",
)
def instance_encrypted(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r, rep, "storageEncrypted", "RDS instance storage is not encrypted (storageEncrypted)."
    )
    if rep.count == 0:
        require_customer_managed_key(r, rep, "kmsKeyId", "RDS instance storage", "rds")

"""aws-efs-filesystem-disallow-unencrypted-file-system

EFS file systems must be encrypted with a customer-managed KMS key.
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
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_aws, fsbp, resource_control


@resource_control(
    name="aws-efs-filesystem-disallow-unencrypted-file-system",
    description="EFS file systems must be encrypted with a customer-managed KMS key.",
    resource_types=(T.EFS_FILE_SYSTEM,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.4.1", "Ensure that encryption is enabled for EFS file systems"),
        fsbp("EFS.1", "EFS should be configured to encrypt file data at-rest using AWS KMS"),
    ),
    remediation="Set `encrypted=True` and `kms_key_id` (a replacement: EFS cannot be encrypted).",
)
def efs_encrypted(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(r, rep, "encrypted", "EFS file system is not encrypted (encrypted is not true).")
    if rep.count == 0:
        require_customer_managed_key(r, rep, "kmsKeyId", "EFS file system", "elasticfilesystem")

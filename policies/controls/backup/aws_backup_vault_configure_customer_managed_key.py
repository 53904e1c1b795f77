"""aws-backup-vault-configure-customer-managed-key

AWS Backup vaults must encrypt recovery points with a customer-managed KMS key.
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
    name="aws-backup-vault-configure-customer-managed-key",
    description="AWS Backup vaults must encrypt recovery points with a customer-managed KMS key.",
    resource_types=(T.BACKUP_VAULT,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        fsbp("Backup.1", "AWS Backup recovery points should be encrypted at rest"),
    ),
    remediation=(
        "Set `kms_key_arn` on every `aws.backup.Vault` (the primary vault and the standby "
        "region's copy-destination vault) to a customer-managed key in that vault's region."
    ),
)
def backup_vault_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_customer_managed_key(r, rep, "kmsKeyArn", "Backup vault", "backup")

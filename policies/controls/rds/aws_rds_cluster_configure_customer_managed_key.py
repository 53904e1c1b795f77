"""aws-rds-cluster-configure-customer-managed-key

Aurora/RDS cluster storage must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.encryption import CATEGORY, PCI_KEYS, SOC2_LOGICAL, require_customer_managed_key
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-cluster-configure-customer-managed-key",
    description="Aurora/RDS cluster storage must be encrypted with a customer-managed KMS key.",
    resource_types=(T.RDS_CLUSTER,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_KEYS,
        SOC2_LOGICAL,
        fsbp("RDS.27", "RDS DB clusters should be encrypted at rest"),
    ),
    remediation=(
        "Create an `aws.kms.Key` with rotation enabled in the stack (one per region for a "
        "global database) and pass its ARN as `kms_key_id` on every `aws.rds.Cluster`, "
        "including secondary clusters of a global cluster."
    ),
)
def rds_cluster_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_customer_managed_key(r, rep, "kmsKeyId", "RDS cluster storage", "rds")

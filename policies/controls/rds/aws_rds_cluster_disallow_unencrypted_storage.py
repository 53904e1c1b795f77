"""aws-rds-cluster-disallow-unencrypted-storage

Aurora/RDS cluster storage must be encrypted at rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.encryption import CATEGORY, PCI_STORED_DATA, SOC2_LOGICAL
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, cis_aws, fsbp, resource_control


@resource_control(
    name="aws-rds-cluster-disallow-unencrypted-storage",
    description="Aurora/RDS cluster storage must be encrypted at rest.",
    resource_types=(T.RDS_CLUSTER,),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.3.1", "Ensure that encryption-at-rest is enabled for RDS instances"),
        fsbp("RDS.27", "RDS DB clusters should be encrypted at rest"),
    ),
    remediation=(
        "Set `storage_encrypted=True` (with `kms_key_id`) on the `aws.rds.Cluster`. Storage "
        "encryption cannot be turned on in place: restore a snapshot into a new encrypted "
        "cluster (or create the replacement encrypted) and cut over."
    ),
)
def rds_cluster_storage_encrypted(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "storageEncrypted",
        "RDS cluster storage is not encrypted (storageEncrypted is not true).",
    )

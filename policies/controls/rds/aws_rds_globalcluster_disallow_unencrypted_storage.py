"""aws-rds-globalcluster-disallow-unencrypted-storage

Aurora global clusters must be encrypted at rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import require_true
from ...checks.encryption import CATEGORY, PCI_STORED_DATA, SOC2_LOGICAL
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, cis_aws, resource_control


@resource_control(
    name="aws-rds-globalcluster-disallow-unencrypted-storage",
    description="Aurora global clusters must be encrypted at rest.",
    resource_types=(T.RDS_GLOBAL_CLUSTER,),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.3.1", "Ensure that encryption-at-rest is enabled for RDS instances"),
    ),
    remediation=(
        "Set `storage_encrypted=True` on the `aws.rds.GlobalCluster` (or create it from an "
        "encrypted source cluster with `source_db_cluster_identifier`)."
    ),
)
def rds_global_cluster_encrypted(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    source = r.get("sourceDbClusterIdentifier")
    if source is not None and P.as_bool(r.get("storageEncrypted")) is None:
        return  # inherits the (separately checked) source cluster's encryption
    require_true(
        r,
        rep,
        "storageEncrypted",
        "Global cluster storage is not encrypted (storageEncrypted is not true).",
    )

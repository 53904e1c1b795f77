"""aws-elasticache-replicationgroup-configure-customer-managed-key

ElastiCache replication groups must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.encryption import (
    CATEGORY,
    FSBP_CACHE_AT_REST,
    PCI_KEYS,
    SOC2_LOGICAL,
    require_customer_managed_key,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-elasticache-replicationgroup-configure-customer-managed-key",
    description="ElastiCache replication groups must be encrypted with a customer-managed KMS key.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_KEYS, SOC2_LOGICAL, FSBP_CACHE_AT_REST),
    remediation="Pass the cache's customer-managed key ARN as `kms_key_id` on the replication "
    "group.",
)
def cache_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_customer_managed_key(r, rep, "kmsKeyId", "ElastiCache replication group", "elasticache")

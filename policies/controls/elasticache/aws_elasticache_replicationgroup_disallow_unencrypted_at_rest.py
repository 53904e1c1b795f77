"""aws-elasticache-replicationgroup-disallow-unencrypted-at-rest

ElastiCache replication groups must be encrypted at rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.encryption import CATEGORY, FSBP_CACHE_AT_REST, PCI_STORED_DATA, SOC2_LOGICAL
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-elasticache-replicationgroup-disallow-unencrypted-at-rest",
    description="ElastiCache replication groups must be encrypted at rest.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(PCI_STORED_DATA, SOC2_LOGICAL, FSBP_CACHE_AT_REST),
    remediation=(
        "Set `at_rest_encryption_enabled=True` and `kms_key_id` on the "
        "`aws.elasticache.ReplicationGroup` (requires replacement of an existing group: "
        "create the encrypted group, switch the service's endpoint, delete the old one)."
    ),
)
def cache_at_rest(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "atRestEncryptionEnabled",
        "ElastiCache replication group is not encrypted at rest (atRestEncryptionEnabled is not "
        "true).",
    )

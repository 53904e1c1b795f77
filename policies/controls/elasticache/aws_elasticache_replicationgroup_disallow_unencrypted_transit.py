"""aws-elasticache-replicationgroup-disallow-unencrypted-transit

ElastiCache replication groups must require TLS for client connections.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.transit import CATEGORY, PCI_TRANSIT, SOC2_TRANSMISSION
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-elasticache-replicationgroup-disallow-unencrypted-transit",
    description="ElastiCache replication groups must require TLS for client connections.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_TRANSIT,
        SOC2_TRANSMISSION,
        fsbp("ElastiCache.5", "ElastiCache replication groups should be encrypted in transit"),
    ),
    remediation=(
        "Set `transit_encryption_enabled=True` and leave `transit_encryption_mode` unset or "
        "`required` on the replication group; clients connect with `rediss://`."
    ),
)
def cache_transit(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "transitEncryptionEnabled",
        "ElastiCache replication group does not encrypt traffic in transit "
        "(transitEncryptionEnabled is not true).",
    )
    mode = r.get("transitEncryptionMode")
    if rep.count == 0 and isinstance(mode, str) and mode.lower() == "preferred":
        rep.violation(
            "ElastiCache replication group accepts unencrypted connections "
            "(transitEncryptionMode is 'preferred'; use 'required')."
        )

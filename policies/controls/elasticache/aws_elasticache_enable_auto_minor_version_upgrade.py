"""aws-elasticache-enable-auto-minor-version-upgrade

ElastiCache replication groups and clusters must keep automatic minor version upgrades on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import PCI_HARDENING
from ...checks.resilience import CATEGORY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-elasticache-enable-auto-minor-version-upgrade",
    description="ElastiCache replication groups and clusters must keep automatic minor version "
    "upgrades on (the AWS default).",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP, T.ELASTICACHE_CLUSTER),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "ElastiCache.2",
            "ElastiCache for Redis cache clusters should have auto minor version upgrades enabled",
        ),
        PCI_HARDENING,
    ),
    remediation="Remove `auto_minor_version_upgrade=False` (security patches arrive as minors).",
)
def cache_auto_minor(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    value = r.get("autoMinorVersionUpgrade")
    if P.is_unknown(value):
        rep.skip("autoMinorVersionUpgrade")
    # aws.elasticache.Cluster takes the flag as a string ("true"/"false").
    if P.as_bool(value) is False:
        rep.violation("Automatic minor version upgrades are off (autoMinorVersionUpgrade).")

"""aws-elasticache-replicationgroup-multi-az-failover

ElastiCache replication groups must run replicas in several AZs with Multi-AZ and automatic
failover on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import number, require_true
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-elasticache-replicationgroup-multi-az-failover",
    description="ElastiCache replication groups must run replicas in several AZs with Multi-AZ "
    "and automatic failover on.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp(
            "ElastiCache.3", "ElastiCache replication groups should have automatic failover enabled"
        ),
    ),
    remediation=(
        "Set `automatic_failover_enabled=True`, `multi_az_enabled=True` and "
        "`num_cache_clusters>=2` with `preferred_cache_cluster_azs` listing distinct AZs."
    ),
)
def cache_multi_az(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "automaticFailoverEnabled",
        "Automatic failover is not enabled (automaticFailoverEnabled is not true).",
    )
    require_true(r, rep, "multiAzEnabled", "Multi-AZ is not enabled (multiAzEnabled is not true).")
    nodes = number(r, rep, "numCacheClusters")
    replicas = number(r, rep, "replicasPerNodeGroup")
    total = nodes if nodes is not None else (replicas + 1 if replicas is not None else 1)
    if total < 2:
        rep.violation(
            f"Replication group has {int(total)} node(s); at least 2 are required "
            f"(numCacheClusters)."
        )
    azs = [az for az in P.as_list(r.get("preferredCacheClusterAzs")) if isinstance(az, str)]
    if azs and len(set(azs)) < min(len(azs), 2):
        rep.violation(
            f"Cache nodes are placed in a single AZ ({azs[0]}) (preferredCacheClusterAzs)."
        )

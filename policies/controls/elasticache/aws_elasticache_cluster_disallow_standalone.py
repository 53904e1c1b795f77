"""aws-elasticache-cluster-disallow-standalone

ElastiCache must be declared as a Multi-AZ replication group, never a standalone cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-elasticache-cluster-disallow-standalone",
    description=(
        "ElastiCache clusters must belong to a replication group (a standalone cluster has "
        "no replica, no failover and no encryption in transit for Memcached)."
    ),
    resource_types=(T.ELASTICACHE_CLUSTER,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp("ElastiCache.3", "ElastiCache replication groups should have automatic failover"),
    ),
    remediation="Declare an `aws.elasticache.ReplicationGroup` with Multi-AZ and failover.",
)
def standalone_cache(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    group = r.get("replicationGroupId")
    if P.is_unknown(group):
        return  # joins a replication group created in the same update
    if not group:
        nodes = P.as_number(r.get("numCacheNodes")) or 1
        rep.violation(f"Standalone ElastiCache cluster with {int(nodes)} node(s).")

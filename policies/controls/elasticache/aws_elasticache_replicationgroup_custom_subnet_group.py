"""aws-elasticache-replicationgroup-custom-subnet-group

ElastiCache must run in a subnet group the program declares, never the default one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, SOC2_BOUNDARY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-elasticache-replicationgroup-custom-subnet-group",
    description="ElastiCache must use a declared subnet group, not the default one.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP, T.ELASTICACHE_CLUSTER),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("ElastiCache.7", "ElastiCache clusters should not use the default subnet group"),
        SOC2_BOUNDARY,
    ),
    remediation="Set `subnet_group_name` to an `aws.elasticache.SubnetGroup` of private subnets.",
)
def subnet_group(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type == T.ELASTICACHE_CLUSTER and r.get("replicationGroupId"):
        return  # a member of a replication group uses the group's subnet group
    name = r.get("subnetGroupName")
    if P.is_unknown(name):
        return  # a subnet group created in the same update
    if not name or name == "default":
        rep.violation("ElastiCache uses the default subnet group (subnetGroupName).")

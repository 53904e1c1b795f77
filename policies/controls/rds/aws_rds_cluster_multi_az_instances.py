"""aws-rds-cluster-multi-az-instances

Every Aurora cluster must have at least the configured number of instances, in distinct AZs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, ConfigOption, Reporter, fsbp, stack_control
from ...model import Stack


@stack_control(
    name="aws-rds-cluster-multi-az-instances",
    description="Every Aurora cluster must have at least the configured number of instances, in "
    "distinct AZs.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp("RDS.15", "RDS DB clusters should be configured for multiple Availability Zones"),
    ),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Create at least two `aws.rds.ClusterInstance` per cluster (writer and reader) with "
        "`availability_zone` set to different AZs (in the standby region too)."
    ),
    config=(
        ConfigOption(
            "minInstances",
            {"type": "integer", "minimum": 2, "maximum": 15, "default": 2},
            "Minimum number of instances (in as many distinct AZs) per Aurora cluster.",
        ),
    ),
)
def aurora_multi_az(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    minimum = int(cfg["minInstances"])
    instances = stack.of_type(T.RDS_CLUSTER_INSTANCE)
    for cluster in stack.of_type(T.RDS_CLUSTER):
        with rep.guard(cluster):
            members = [
                instance
                for instance in instances
                if cluster
                in stack.resolve(
                    instance, "clusterIdentifier", instance.get("clusterIdentifier"), T.RDS_CLUSTER
                )
            ]
            if not members and any(P.is_unknown(i.get("clusterIdentifier")) for i in instances):
                rep.skip(f"the instances of cluster '{cluster.name}'")
            zones = [instance.get("availabilityZone") for instance in members]
            if any(P.is_unknown(zone) for zone in zones):
                rep.skip(f"the AZs of cluster '{cluster.name}'")
            distinct = {zone for zone in zones if isinstance(zone, str)}
            if len(members) < minimum:
                rep.violation(
                    f"Aurora cluster '{cluster.name}' has {len(members)} instance(s); "
                    f"at least {minimum} are required.",
                    cluster,
                )
            elif len(distinct) < minimum:
                rep.violation(
                    f"Aurora cluster '{cluster.name}' has instances in {len(distinct)} distinct "
                    f"AZ(s) "
                    f"({', '.join(sorted(distinct)) or 'none set'}); at least {minimum} are "
                    f"required "
                    "(availabilityZone).",
                    cluster,
                )

"""aws-multi-az-subnets

The VPC and every data-store subnet group and node group must span at least the configured
number of AZs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import _SUBNET_HOLDERS, CATEGORY, MIN_AZS, SOC2_RECOVERY, SOC2_RISK
from ...framework import HIGH, MANDATORY, Reporter, fsbp, stack_control
from ...model import Resource, Stack

_NODE_GROUPS = (T.EKS_COMPONENT_MANAGED_NODE_GROUP, T.EKS_NODE_GROUP)


@stack_control(
    name="aws-multi-az-subnets",
    description="The VPC and every data-store subnet group and node group must span at least the "
    "configured number of AZs.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "AutoScaling.2",
            "Amazon EC2 Auto Scaling group should cover multiple Availability Zones",
        ),
        SOC2_RECOVERY,
        SOC2_RISK,
    ),
    scope=(T.SUBNET, *_SUBNET_HOLDERS),
    remediation=(
        "Create one private and one isolated subnet per AZ (at least the configured number of "
        "AZs) and pass all of them to the DB/cache subnet groups and the EKS node groups."
    ),
    config=(MIN_AZS,),
)
def multi_az_subnets(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    minimum = int(cfg["minAvailabilityZones"])
    subnets = stack.of_type(T.SUBNET)
    by_region: dict[str | None, set[str]] = {}
    for subnet in subnets:
        zone = subnet.get("availabilityZone")
        if isinstance(zone, str) and not P.is_unknown(zone):
            by_region.setdefault(subnet.region, set()).add(zone)
    for region, zones in sorted(by_region.items(), key=lambda kv: str(kv[0])):
        if len(zones) < minimum:
            rep.violation(
                f"Subnets in {region or 'the default region'} span {len(zones)} AZ(s); at least "
                f"{minimum} are required."
            )
    # Node groups count per cluster: one node group per AZ (so the cluster autoscaler can
    # balance zones) is as resilient as one group over three AZs.
    groups: dict[str, list[Resource]] = {}
    for holder in stack.of_type(*_SUBNET_HOLDERS):
        if P.is_unknown(holder.get(_SUBNET_HOLDERS[holder.type])):
            continue  # a computed list: resolved when the update runs
        cluster = holder.get("cluster") if holder.type in _NODE_GROUPS else None
        cluster = cluster or holder.get("clusterName") if holder.type in _NODE_GROUPS else None
        key = f"cluster:{cluster}" if isinstance(cluster, str) else f"holder:{holder.urn}"
        groups.setdefault(key, []).append(holder)
    for members in groups.values():
        count = len(set().union(*(_zones(stack, m) for m in members)))
        if count < minimum:
            holder = members[0]
            prop = _SUBNET_HOLDERS[holder.type]
            rep.violation(
                f"{holder.label} spans {count} AZ(s)/subnet(s); at least {minimum} are required "
                f"({prop}).",
                holder,
            )


def _zones(stack: Stack, holder: Resource) -> set[str]:
    """The AZs of a holder's subnets (subnet ids stand in when a subnet is not in the stack)."""
    prop = _SUBNET_HOLDERS[holder.type]
    listed = P.as_list(holder.get(prop))
    zones: set[str] = set()
    for subnet_id in listed:
        found = stack.resolve(holder, prop, subnet_id, T.SUBNET)
        zone = found[0].get("availabilityZone") if found else None
        zones.add(zone if isinstance(zone, str) and not P.is_unknown(zone) else f"?{subnet_id}")
    return zones

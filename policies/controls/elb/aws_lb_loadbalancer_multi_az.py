"""aws-lb-loadbalancer-multi-az

Load balancers must span at least two Availability Zones: a declared load balancer through
its subnets, an ALB Ingress through its subnets annotation or, without one, through the
subnets the AWS Load Balancer Controller discovers by their role tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RISK
from ...checks.transit import is_alb_ingress
from ...framework import MANDATORY, MEDIUM, Reporter, fsbp, stack_control
from ...model import Resource, Stack

_ANN = "alb.ingress.kubernetes.io/"


def _declared_subnets(lb: Resource) -> int | None:
    subnets, mappings = lb.get("subnets"), lb.get("subnetMappings")
    if P.is_unknown(subnets) or P.is_unknown(mappings):
        return None
    return len({str(s) for s in P.as_list(subnets)}) + len(P.as_list(mappings))


def _discovered_zones(stack: Stack, ingress: Resource) -> set[str]:
    """AZs of the stack's subnets the controller would pick for this Ingress's scheme."""
    scheme = ingress.get("metadata", "annotations", _ANN + "scheme")
    tag = (
        "kubernetes.io/role/elb"
        if scheme == "internet-facing"
        else "kubernetes.io/role/internal-elb"
    )
    zones = set()
    for subnet in stack.of_type(T.SUBNET):
        same_region = not ingress.region or not subnet.region or subnet.region == ingress.region
        zone = subnet.get("availabilityZone")
        if same_region and P.get(subnet.get("tags"), tag) == "1" and isinstance(zone, str):
            zones.add(zone)
    return zones


def _ingress_zones(stack: Stack, ingress: Resource) -> int | None:
    listed = ingress.get("metadata", "annotations", _ANN + "subnets")
    if P.is_unknown(listed):
        return None
    if isinstance(listed, str) and listed.strip():
        return len({s.strip() for s in listed.split(",") if s.strip()})
    return len(_discovered_zones(stack, ingress))


@stack_control(
    name="aws-lb-loadbalancer-multi-az",
    description="Load balancers and ALB Ingresses must span at least two Availability Zones.",
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "ELB.13",
            "Application, Network and Gateway Load Balancers should span multiple Availability "
            "Zones",
        ),
        SOC2_RISK,
    ),
    remediation=(
        "Give the load balancer subnets in two or more AZs; for an Ingress, list them in the "
        "subnets annotation or tag a public (elb) / private (internal-elb) subnet per AZ."
    ),
    scope=(T.LB_LOAD_BALANCER, T.ALB_LOAD_BALANCER, T.K8S_INGRESS),
)
def multi_az(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for lb in stack.of_type(T.LB_LOAD_BALANCER, T.ALB_LOAD_BALANCER):
        count = _declared_subnets(lb)
        if count is not None and count < 2:
            rep.violation(
                f"Load balancer '{lb.name}' is in {count} subnet(s); use 2 AZs or more.", lb
            )
    for ingress in stack.of_type(T.K8S_INGRESS):
        if not is_alb_ingress(ingress):
            continue
        zones = _ingress_zones(stack, ingress)
        if zones is not None and zones < 2:
            rep.violation(
                f"ALB Ingress '{ingress.name}' would span {zones} Availability Zone(s); use 2 or "
                "more.",
                ingress,
            )

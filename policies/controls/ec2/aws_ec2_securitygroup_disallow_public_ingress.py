"""aws-ec2-securitygroup-disallow-public-ingress

Security groups must not allow ingress from 0.0.0.0/0 or ::/0 (only to ports explicitly
allowed for internet-facing load balancers; never to data stores).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import (
    CATEGORY,
    PCI_INBOUND,
    PCI_NO_DIRECT_ACCESS,
    SOC2_BOUNDARY,
    WORLD,
    _rules,
)
from ...framework import (
    CRITICAL,
    MANDATORY,
    ConfigOption,
    Reporter,
    Resource,
    cis_aws,
    fsbp,
    resource_control,
)


@resource_control(
    name="aws-ec2-securitygroup-disallow-public-ingress",
    description=(
        "Security groups must not allow ingress from 0.0.0.0/0 or ::/0 (only to ports "
        "explicitly allowed for internet-facing load balancers; never to data stores)."
    ),
    resource_types=(T.SECURITY_GROUP, T.SECURITY_GROUP_RULE, T.SECURITY_GROUP_INGRESS_RULE),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_INBOUND,
        PCI_NO_DIRECT_ACCESS,
        SOC2_BOUNDARY,
        cis_aws(
            "5.2",
            "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server "
            "administration ports",
        ),
        cis_aws(
            "5.3",
            "Ensure no security groups allow ingress from ::/0 to remote server administration "
            "ports",
        ),
        fsbp(
            "EC2.18",
            "Security groups should only allow unrestricted incoming traffic for authorized ports",
        ),
    ),
    remediation=(
        "Replace the world CIDR with the source security group (e.g. the EKS node security "
        "group for PostgreSQL 5432 and Redis 6379) or the VPC CIDR."
    ),
    config=(
        ConfigOption(
            "allowedPublicPorts",
            {"type": "array", "items": {"type": "integer"}, "default": []},
            "Ports that may be open to the internet, e.g. [443] for a load balancer security "
            "group managed in the program (the AWS Load Balancer Controller manages its own).",
        ),
    ),
)
def sg_public_ingress(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    allowed = {int(port) for port in cfg["allowedPublicPorts"]}
    for rule in _rules(r):
        cidrs = rule["cidrs"]
        if any(P.is_unknown(c) for c in cidrs):
            rep.skip("ingress CIDR blocks")
        world = sorted(c for c in cidrs if c in WORLD)
        if not world:
            continue
        protocol = str(rule["protocol"] if rule["protocol"] is not None else "-1").lower()
        low, high = P.as_number(rule["from"]), P.as_number(rule["to"])
        if protocol in {"-1", "all"} or low is None or high is None:
            rep.violation(f"Security group allows all traffic from {world[0]}.")
            continue
        ports = set(range(int(low), int(high) + 1)) if high - low < 1024 else None
        if ports is None or not ports <= allowed:
            shown = f"{int(low)}" if low == high else f"{int(low)}-{int(high)}"
            rep.violation(f"Security group allows port {shown} from {world[0]}.")

"""Network exposure: public databases, world-open security groups, public EKS endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    CRITICAL,
    HIGH,
    MANDATORY,
    MEDIUM,
    ConfigOption,
    Reporter,
    Resource,
    cis_aws,
    cis_eks,
    fsbp,
    pci,
    resource_control,
    soc2,
    stack_control,
)
from ..model import Stack

CATEGORY = "Network exposure"

PCI_NO_DIRECT_ACCESS = pci(
    "1.4.4",
    "System components that store account data are not directly accessible from untrusted networks",
)
PCI_INBOUND = pci(
    "1.3.1", "Inbound traffic to the CDE is restricted to only that which is necessary"
)
SOC2_BOUNDARY = soc2(
    "CC6.6", "Logical access security measures against threats from outside system boundaries"
)
WORLD = {"0.0.0.0/0", "::/0"}


@resource_control(
    name="aws-rds-instance-disallow-public-access",
    description="Database instances and clusters must not be publicly accessible.",
    resource_types=(T.RDS_CLUSTER_INSTANCE, T.RDS_INSTANCE, T.RDS_CLUSTER),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_NO_DIRECT_ACCESS,
        SOC2_BOUNDARY,
        cis_aws("2.3.3", "Ensure that public access is not given to RDS Instance"),
        fsbp("RDS.2", "RDS DB Instances should prohibit public access"),
    ),
    remediation="Set `publicly_accessible=False` and place the database in isolated subnets only.",
)
def rds_public(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    value = r.get("publiclyAccessible")
    if P.is_unknown(value):
        rep.skip("publiclyAccessible")
    if P.as_bool(value):
        rep.violation("Database is publicly accessible (publiclyAccessible is true).")


def _rules(r: Resource) -> list[dict[str, Any]]:
    """Ingress rules of any of the three shapes, normalised."""
    if r.type == T.SECURITY_GROUP:
        raw = [P.plain(rule) for rule in P.as_list(r.get("ingress"))]
        out = []
        for rule in raw:
            if not isinstance(rule, dict):
                continue
            out.append(
                {
                    "cidrs": [
                        *P.as_list(rule.get("cidrBlocks")),
                        *P.as_list(rule.get("ipv6CidrBlocks")),
                    ],
                    "protocol": rule.get("protocol"),
                    "from": rule.get("fromPort"),
                    "to": rule.get("toPort"),
                }
            )
        return out
    if r.type == T.SECURITY_GROUP_RULE:
        if r.get("type") != "ingress":
            return []
        return [
            {
                "cidrs": [*P.as_list(r.get("cidrBlocks")), *P.as_list(r.get("ipv6CidrBlocks"))],
                "protocol": r.get("protocol"),
                "from": r.get("fromPort"),
                "to": r.get("toPort"),
            }
        ]
    return [
        {
            "cidrs": [c for c in (r.get("cidrIpv4"), r.get("cidrIpv6")) if c is not None],
            "protocol": r.get("ipProtocol"),
            "from": r.get("fromPort"),
            "to": r.get("toPort"),
        }
    ]


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


@resource_control(
    name="aws-eks-cluster-restrict-public-endpoint",
    description="When the EKS API endpoint is public, it must be restricted to allow-listed CIDRs.",
    resource_types=(T.EKS_COMPONENT_CLUSTER, T.EKS_CLUSTER),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_BOUNDARY,
        PCI_INBOUND,
        cis_eks("5.4.1", "Restrict access to the control plane endpoint"),
        cis_eks(
            "5.4.2",
            "Ensure clusters are created with private endpoint enabled and public access disabled",
        ),
        fsbp("EKS.1", "EKS cluster endpoints should not be publicly accessible"),
    ),
    remediation=(
        "Set `endpoint_public_access=False` (with `endpoint_private_access=True`), or keep it "
        "public only with `public_access_cidrs` listing the operators' egress CIDRs."
    ),
)
def eks_endpoint(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type == T.EKS_COMPONENT_CLUSTER:
        public, cidrs = r.get("endpointPublicAccess"), r.get("publicAccessCidrs")
    else:
        public = r.get("vpcConfig", "endpointPublicAccess")
        cidrs = r.get("vpcConfig", "publicAccessCidrs")
    if P.is_unknown(public):
        rep.skip("endpointPublicAccess")
    if P.as_bool(public) is False:
        return
    if P.is_unknown(cidrs):
        rep.skip("publicAccessCidrs")
    listed = [c for c in P.as_list(cidrs) if isinstance(c, str)]
    if not listed:
        rep.violation(
            "EKS API endpoint is public and open to 0.0.0.0/0 (publicAccessCidrs is not set)."
        )
    elif any(c in WORLD for c in listed):
        rep.violation(
            "EKS API endpoint is public and open to 0.0.0.0/0 (publicAccessCidrs contains a world "
            "CIDR)."
        )


@stack_control(
    name="aws-ec2-default-security-group-restrict-all",
    description="Every VPC's default security group must be managed and allow no traffic.",
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        PCI_INBOUND,
        SOC2_BOUNDARY,
        cis_aws("5.4", "Ensure the default security group of every VPC restricts all traffic"),
        fsbp("EC2.2", "VPC default security groups should not allow inbound or outbound traffic"),
    ),
    scope=(T.VPC,),
    remediation=(
        "Adopt each VPC's default security group with `aws.ec2.DefaultSecurityGroup(vpc_id=..., "
        "ingress=[], egress=[])`, so nothing placed in it by mistake can talk."
    ),
)
def default_sg(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    groups = stack.of_type(T.DEFAULT_SECURITY_GROUP)
    for vpc in stack.of_type(T.VPC):
        with rep.guard(vpc):
            mine = [g for g in groups if vpc in stack.resolve(g, "vpcId", g.get("vpcId"), T.VPC)]
            if not mine:
                if any(P.is_unknown(g.get("vpcId")) for g in groups):
                    rep.skip(f"the VPC of the default security groups (for '{vpc.name}')")
                rep.violation(
                    f"The default security group of VPC '{vpc.name}' is not managed, so it keeps "
                    "AWS's allow-all-within-group rules.",
                    vpc,
                )
            for group in mine:
                for direction in ("ingress", "egress"):
                    rules = group.get(direction)
                    if P.is_unknown(rules):
                        rep.skip(f"{direction} of '{group.name}'")
                    if P.as_list(rules):
                        rep.violation(
                            f"The default security group of VPC '{vpc.name}' has {direction} rules "
                            f"({direction} is not empty).",
                            group,
                        )

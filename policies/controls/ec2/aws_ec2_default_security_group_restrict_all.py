"""aws-ec2-default-security-group-restrict-all

Every VPC's default security group must be managed and allow no traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, PCI_INBOUND, SOC2_BOUNDARY
from ...framework import MANDATORY, MEDIUM, Reporter, cis_aws, fsbp, stack_control
from ...model import Stack


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

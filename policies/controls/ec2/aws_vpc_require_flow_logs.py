"""aws-vpc-require-flow-logs

Every VPC must have a flow log capturing all traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY
from ...framework import HIGH, MANDATORY, Reporter, cis_aws, fsbp, pci, stack_control
from ...model import Stack


@stack_control(
    name="aws-vpc-require-flow-logs",
    description="Every VPC must have a flow log, created in this stack, capturing ALL traffic.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_aws("3.7", "Ensure VPC flow logging is enabled in all VPCs"),
        fsbp("EC2.6", "VPC flow logging should be enabled in all VPCs"),
        pci("10.2.1", "Audit logs are enabled and active for all system components"),
    ),
    remediation="Add an `aws.ec2.FlowLog` with `vpc_id=vpc.id` and `traffic_type='ALL'`.",
    scope=(T.VPC, T.FLOW_LOG),
)
def flow_logs(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    covered: set[int] = set()
    for log in stack.of_type(T.FLOW_LOG):
        if log.get("trafficType") not in ("ALL", None) and not P.is_unknown(log.get("trafficType")):
            continue
        targets = stack.resolve(log, "vpcId", log.get("vpcId"), T.VPC)
        if not targets and P.is_unknown(log.get("vpcId")):
            rep.skip(f"the VPC of flow log '{log.name}'")
        for vpc in targets:
            covered.add(id(vpc))
    for vpc in stack.of_type(T.VPC):
        if id(vpc) not in covered:
            rep.violation(f"VPC '{vpc.name}' has no flow log capturing ALL traffic.", vpc)

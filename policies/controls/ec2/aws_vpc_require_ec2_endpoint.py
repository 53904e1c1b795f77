"""aws-vpc-require-ec2-endpoint

Every VPC must have an interface endpoint for the EC2 API, so nodes and controllers reach
EC2 without leaving the AWS network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, SOC2_BOUNDARY
from ...framework import LOW, MANDATORY, Reporter, fsbp, stack_control
from ...model import Resource, Stack


def _is_ec2_endpoint(endpoint: Resource) -> bool:
    service = endpoint.get("serviceName")
    return P.is_unknown(service) or (
        isinstance(service, str)
        and service.startswith("com.amazonaws.")
        and service.endswith(".ec2")
    )


@stack_control(
    name="aws-vpc-require-ec2-endpoint",
    description="Every VPC must have a VPC endpoint for the EC2 service "
    "(com.amazonaws.<region>.ec2).",
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "EC2.10",
            "Amazon EC2 should be configured to use VPC endpoints that are created for the "
            "Amazon EC2 service",
        ),
        SOC2_BOUNDARY,
    ),
    remediation=(
        "Add an `aws.ec2.VpcEndpoint` with `service_name=f'com.amazonaws.{region}.ec2'`, "
        "`vpc_endpoint_type='Interface'` and private DNS on, in the VPC's private subnets."
    ),
    scope=(T.VPC,),
)
def ec2_endpoint(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    endpoints = [e for e in stack.of_type(T.VPC_ENDPOINT) if _is_ec2_endpoint(e)]
    for vpc in stack.of_type(T.VPC):
        if not any(vpc in stack.resolve(e, "vpcId", e.get("vpcId"), T.VPC) for e in endpoints):
            rep.violation(f"VPC '{vpc.name}' has no VPC endpoint for the EC2 service.", vpc)

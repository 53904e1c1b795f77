"""aws-ec2-subnet-disallow-auto-assign-public-ip

Subnets must not assign public IP addresses to instances launched in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, SOC2_BOUNDARY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-ec2-subnet-disallow-auto-assign-public-ip",
    description="Subnets must not assign public IP addresses on launch (mapPublicIpOnLaunch).",
    resource_types=(T.SUBNET,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("EC2.15", "EC2 subnets should not automatically assign public IP addresses"),
        SOC2_BOUNDARY,
    ),
    remediation="Set `map_public_ip_on_launch=False`; NAT gateways give private subnets egress.",
)
def subnet_public_ip(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if P.as_bool(r.get("mapPublicIpOnLaunch")):
        rep.violation("Subnet assigns public IP addresses on launch (mapPublicIpOnLaunch is true).")

"""aws-ec2-instance-disallow-public-ip

EC2 instances and launch templates must not associate a public IP address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, PCI_NO_DIRECT_ACCESS, SOC2_BOUNDARY
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-ec2-instance-disallow-public-ip",
    description="EC2 instances and launch templates must not associate a public IP address.",
    resource_types=(T.EC2_INSTANCE, T.LAUNCH_TEMPLATE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "EC2.25",
            "Amazon EC2 launch templates should not assign public IPs to network interfaces",
        ),
        fsbp("EC2.9", "EC2 instances should not have a public IPv4 address"),
        PCI_NO_DIRECT_ACCESS,
        SOC2_BOUNDARY,
    ),
    remediation="Launch into private subnets; set `associate_public_ip_address=False`.",
)
def public_ip(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    flags = [r.get("associatePublicIpAddress")]
    flags += [P.get(n, "associatePublicIpAddress") for n in P.as_list(r.get("networkInterfaces"))]
    if any(P.as_bool(flag) for flag in flags):
        rep.violation("A public IP address is associated (associatePublicIpAddress is true).")

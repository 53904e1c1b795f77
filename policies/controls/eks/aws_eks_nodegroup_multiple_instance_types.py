"""aws-eks-nodegroup-multiple-instance-types

Managed node groups must allow more than one instance type, so a capacity shortage of one
type in an AZ does not stop the group from scaling. (That the node groups together span
several AZs is checked by aws-multi-az-subnets.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RISK
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-eks-nodegroup-multiple-instance-types",
    description="EKS managed node groups must list at least two instance types.",
    resource_types=(T.EKS_COMPONENT_MANAGED_NODE_GROUP, T.EKS_NODE_GROUP),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "AutoScaling.6",
            "Auto Scaling groups should use multiple instance types in multiple Availability Zones",
        ),
        SOC2_RISK,
    ),
    remediation=(
        "List equivalent instance types in `instance_types` (same vCPU/memory, e.g. "
        "m6i.xlarge, m6a.xlarge, m5.xlarge)."
    ),
)
def instance_types(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    value = r.get("instanceTypes")
    if P.is_unknown(value):
        rep.skip("instanceTypes")
    distinct = {str(t) for t in P.as_list(value)}
    if len(distinct) < 2:
        rep.violation(
            f"The node group allows {len(distinct)} instance type(s) (instanceTypes); at least 2 "
            "are required."
        )

"""aws-lb-loadbalancer-enable-deletion-protection

Load balancers declared in the program must have deletion protection enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-lb-loadbalancer-enable-deletion-protection",
    description="Load balancers must have deletion protection enabled.",
    resource_types=(T.LB_LOAD_BALANCER, T.ALB_LOAD_BALANCER),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("ELB.6", "Application Load Balancer deletion protection should be enabled"),
        SOC2_RECOVERY,
    ),
    remediation="Set `enable_deletion_protection=True`.",
)
def lb_deletion(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if P.is_unknown(r.get("enableDeletionProtection")):
        rep.skip("enableDeletionProtection")
    if P.as_bool(r.get("enableDeletionProtection")) is not True:
        rep.violation("Load balancer has no deletion protection (enableDeletionProtection).")

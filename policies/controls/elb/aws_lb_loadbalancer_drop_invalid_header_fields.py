"""aws-lb-loadbalancer-drop-invalid-header-fields

Application load balancers must drop invalid HTTP header fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.transit import CATEGORY, SOC2_TRANSMISSION
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-lb-loadbalancer-drop-invalid-header-fields",
    description="Application load balancers must drop invalid HTTP header fields.",
    resource_types=(T.LB_LOAD_BALANCER, T.ALB_LOAD_BALANCER),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("ELB.4", "Application Load Balancer should be configured to drop http headers"),
        SOC2_TRANSMISSION,
    ),
    remediation="Set `drop_invalid_header_fields=True`.",
)
def drop_headers(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.get("loadBalancerType") not in (None, "application"):
        return
    if P.is_unknown(r.get("dropInvalidHeaderFields")):
        rep.skip("dropInvalidHeaderFields")
    if P.as_bool(r.get("dropInvalidHeaderFields")) is not True:
        rep.violation("Invalid HTTP header fields are forwarded (dropInvalidHeaderFields).")

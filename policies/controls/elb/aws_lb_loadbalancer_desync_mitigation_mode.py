"""aws-lb-loadbalancer-desync-mitigation-mode

Application load balancers (declared, or created by the AWS Load Balancer Controller for an
Ingress) must run the defensive or strictest HTTP desync mitigation mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.transit import CATEGORY, SOC2_TRANSMISSION, is_alb_ingress
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control

SAFE_MODES = ("defensive", "strictest")
_ATTRIBUTES = "alb.ingress.kubernetes.io/load-balancer-attributes"
_ATTRIBUTE = "routing.http.desync_mitigation_mode"


def _ingress_mode(r: Resource, rep: Reporter) -> str | None:
    raw = r.get("metadata", "annotations", _ATTRIBUTES)
    if P.is_unknown(raw):
        rep.skip(f"metadata.annotations.{_ATTRIBUTES}")
    if not isinstance(raw, str):
        return None
    for pair in raw.split(","):
        key, _, value = pair.partition("=")
        if key.strip() == _ATTRIBUTE:
            return value.strip()
    return None


@resource_control(
    name="aws-lb-loadbalancer-desync-mitigation-mode",
    description="Application load balancers must use the defensive (default) or strictest "
    "HTTP desync mitigation mode.",
    resource_types=(T.LB_LOAD_BALANCER, T.ALB_LOAD_BALANCER, T.K8S_INGRESS),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "ELB.12",
            "Application Load Balancer should be configured with defensive or strictest desync "
            "mitigation mode",
        ),
        SOC2_TRANSMISSION,
    ),
    remediation=(
        "Remove `desync_mitigation_mode='monitor'` (or set 'defensive'/'strictest'); on an "
        "Ingress remove `routing.http.desync_mitigation_mode=monitor` from the "
        "load-balancer-attributes annotation."
    ),
)
def desync_mode(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type == T.K8S_INGRESS:
        if not is_alb_ingress(r):
            return
        mode = _ingress_mode(r, rep)
        where = f"the {_ATTRIBUTES} annotation"
    else:
        if r.get("loadBalancerType") not in (None, "application"):
            return
        value = r.get("desyncMitigationMode")
        if P.is_unknown(value):
            rep.skip("desyncMitigationMode")
        mode = value if isinstance(value, str) else None
        where = "desyncMitigationMode"
    if mode is not None and mode not in SAFE_MODES:
        rep.violation(
            f"HTTP desync mitigation mode is '{mode}' ({where}); use defensive or strictest."
        )

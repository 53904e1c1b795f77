"""kubernetes-service-disallow-external-exposure

Services must not be LoadBalancer or NodePort, nor carry external IPs (ingress is the ALB).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import PCI_INBOUND, SOC2_BOUNDARY
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control

CATEGORY = "Network exposure"


@resource_control(
    name="kubernetes-service-disallow-external-exposure",
    description=(
        "Services must be ClusterIP (no LoadBalancer, NodePort or externalIPs); traffic "
        "enters through the ALB ingress only."
    ),
    resource_types=(T.K8S_SERVICE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_INBOUND, SOC2_BOUNDARY),
    remediation="Use a ClusterIP Service behind the ALB Ingress (with WAF and TLS).",
)
def service_exposure(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    kind = r.get("spec", "type")
    if P.is_unknown(kind):
        rep.skip("spec.type")
    if kind in ("LoadBalancer", "NodePort"):
        rep.violation(f"Service is of type {kind}.")
    if P.as_list(r.get("spec", "externalIPs")):
        rep.violation("Service sets externalIPs.")

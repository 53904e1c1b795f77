"""aws-alb-require-https

Load balancer listeners and ALB ingresses must serve HTTPS only (plain HTTP may only
redirect to HTTPS).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.transit import (
    _ANN,
    CATEGORY,
    PCI_TRANSIT,
    SOC2_TRANSMISSION,
    _listen_ports,
    _redirect_is_https,
    is_alb_ingress,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, fsbp, resource_control


@resource_control(
    name="aws-alb-require-https",
    description="Load balancer listeners and ALB ingresses must serve HTTPS only (plain HTTP may "
    "only redirect to HTTPS).",
    resource_types=(T.LB_LISTENER, T.ALB_LISTENER, T.K8S_INGRESS),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("5.4.5", "Encrypt traffic to HTTPS load balancers with TLS certificates"),
        PCI_TRANSIT,
        SOC2_TRANSMISSION,
        fsbp(
            "ELB.1",
            "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS",
        ),
    ),
    remediation=(
        "ALB Ingress: annotate `alb.ingress.kubernetes.io/listen-ports: '[{\"HTTPS\":443}]'` "
        "(add `{\"HTTP\":80}` only together with `alb.ingress.kubernetes.io/ssl-redirect: '443'`) "
        "and `alb.ingress.kubernetes.io/certificate-arn`. Listeners: use `protocol='HTTPS'` with "
        "a certificate, or make the HTTP listener's only default action a redirect to HTTPS."
    ),
)
def alb_https_only(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type == T.K8S_INGRESS:
        if not is_alb_ingress(r):
            return
        ports = _listen_ports(r)
        if ports is None:
            rep.skip("metadata.annotations.listen-ports")
            return
        redirect = r.get("metadata", "annotations", _ANN + "ssl-redirect")
        plain = [port for protocol, port in ports if protocol == "HTTP"]
        if not any(protocol == "HTTPS" for protocol, _ in ports):
            rep.violation("ALB ingress has no HTTPS listener (listen-ports has no HTTPS entry).")
        elif plain and redirect is None:
            rep.violation(
                f"ALB ingress serves plain HTTP on port {plain[0]} without redirecting to HTTPS "
                "(ssl-redirect annotation is not set)."
            )
        elif r.get("metadata", "annotations", _ANN + "certificate-arn") is None and not P.as_list(
            r.get("spec", "tls")
        ):
            rep.violation(
                "ALB ingress has no TLS certificate (certificate-arn annotation and spec.tls are "
                "not set)."
            )
        return
    protocol = r.get("protocol")
    if P.is_unknown(protocol):
        rep.skip("protocol")
    protocol = str(protocol or "HTTP").upper()
    if protocol in {"HTTPS", "TLS"}:
        return
    if protocol == "HTTP" and _redirect_is_https(r.get("defaultActions")):
        return
    rep.violation(f"Load balancer listener uses {protocol} without redirecting to HTTPS.")

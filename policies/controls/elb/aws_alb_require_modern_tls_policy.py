"""aws-alb-require-modern-tls-policy

HTTPS listeners and ALB ingresses must use an approved TLS 1.2+ security policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.transit import (
    _ANN,
    CATEGORY,
    DEFAULT_TLS_POLICIES,
    PCI_TRANSIT,
    SOC2_TRANSMISSION,
    _listen_ports,
    is_alb_ingress,
)
from ...framework import HIGH, MANDATORY, ConfigOption, Reporter, Resource, resource_control


@resource_control(
    name="aws-alb-require-modern-tls-policy",
    description="HTTPS listeners and ALB ingresses must use an approved TLS 1.2+ security policy.",
    resource_types=(T.LB_LISTENER, T.ALB_LISTENER, T.K8S_INGRESS),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_TRANSIT, SOC2_TRANSMISSION),
    remediation=(
        "Set `ssl_policy` (listener) or the `alb.ingress.kubernetes.io/ssl-policy` annotation "
        "(ingress) to one of the allowed policies, e.g. `ELBSecurityPolicy-TLS13-1-2-2021-06`; "
        "without it the ALB default policy still negotiates TLS 1.0/1.1."
    ),
    config=(
        ConfigOption(
            "allowedPolicies",
            {"type": "array", "items": {"type": "string"}, "default": DEFAULT_TLS_POLICIES},
            "ELB security policies that are acceptable (TLS 1.2 minimum, forward secrecy).",
        ),
    ),
)
def alb_tls_policy(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    allowed = list(cfg["allowedPolicies"])
    if r.type == T.K8S_INGRESS:
        if not is_alb_ingress(r):
            return
        ports = _listen_ports(r)
        if ports is None:
            rep.skip("metadata.annotations.listen-ports")
            return
        if not any(protocol == "HTTPS" for protocol, _ in ports):
            return  # no TLS listener: the HTTPS-only control reports it
        policy = r.get("metadata", "annotations", _ANN + "ssl-policy")
        where = "ssl-policy annotation"
    else:
        protocol = r.get("protocol")
        if P.is_unknown(protocol):
            rep.skip("protocol")
        if str(protocol or "").upper() not in {"HTTPS", "TLS"}:
            return
        policy = r.get("sslPolicy")
        where = "sslPolicy"
    if P.is_unknown(policy):
        rep.skip(where)
    if policy is None:
        rep.violation(
            f"TLS security policy is not set ({where} is missing), so the ALB default policy "
            f"allows TLS 1.0/1.1."
        )
    elif policy not in allowed:
        rep.violation(f"TLS security policy {policy} is not an approved policy ({where}).")

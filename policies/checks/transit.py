"""Encryption in transit: Redis TLS, database TLS enforcement, HTTPS-only load balancing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import props as P
from ..framework import (
    Resource,
    pci,
    soc2,
)

CATEGORY = "Encryption in transit"

PCI_TRANSIT = pci("4.2.1", "Strong cryptography protects account data during transmission")
SOC2_TRANSMISSION = soc2(
    "CC6.7", "Restricts the transmission of information to authorized parties, protected in transit"
)

ALB_INGRESS_CLASS = "alb"
_ANN = "alb.ingress.kubernetes.io/"
DEFAULT_TLS_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
]


def _parameters(resource: Resource) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for parameter in P.as_list(resource.get("parameters")):
        name = P.get(parameter, "name")
        if isinstance(name, str):
            found[name.lower()] = P.get(parameter, "value")
    return found


def _mysql_problem(parameters: Mapping[str, Any]) -> str | None:
    value = parameters.get("require_secure_transport")
    if P.is_unknown(value) or str(value).strip().upper() in {"1", "ON"}:
        return None
    return "require_secure_transport is not ON"


def _postgres_problem(parameters: Mapping[str, Any]) -> str | None:
    value = parameters.get("rds.force_ssl")
    if P.is_unknown(value):
        return None
    if str(value).strip() != "1" and value != 1:
        return "rds.force_ssl is not 1"
    minimum = parameters.get("ssl_min_protocol_version")
    if isinstance(minimum, str) and minimum.strip() not in MODERN_TLS_VERSIONS:
        return f"ssl_min_protocol_version is {minimum.strip()} (TLSv1.2 or later is required)"
    return None


def tls_parameter_problem(group: Resource) -> str | None:
    """Why a cluster parameter group does not force TLS, or None if it does."""
    family = group.get("family")
    family = family.lower() if isinstance(family, str) else ""
    parameters = _parameters(group)
    return _mysql_problem(parameters) if "mysql" in family else _postgres_problem(parameters)


# PostgreSQL's accepted values of ssl_min_protocol_version that are still considered strong.
MODERN_TLS_VERSIONS = frozenset({"TLSv1.2", "TLSv1.3"})


def is_alb_ingress(r: Resource) -> bool:
    annotations = r.get("metadata", "annotations")
    klass = r.get("spec", "ingressClassName")
    legacy = P.get(annotations, "kubernetes.io/ingress.class")
    return ALB_INGRESS_CLASS in (klass, legacy) or any(
        key.startswith(_ANN) for key, _ in P.items(annotations)
    )


def _listen_ports(r: Resource) -> list[tuple[str, int]] | None:
    raw = r.get("metadata", "annotations", _ANN + "listen-ports")
    if P.is_unknown(raw):
        return None
    if raw is None:
        # The AWS Load Balancer Controller default: HTTPS:443 when a certificate is
        # configured, otherwise HTTP:80.
        has_cert = r.get("metadata", "annotations", _ANN + "certificate-arn") is not None or bool(
            P.as_list(r.get("spec", "tls"))
        )
        return [("HTTPS", 443)] if has_cert else [("HTTP", 80)]
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    ports: list[tuple[str, int]] = []
    for entry in P.as_list(parsed):
        for protocol, port in P.items(entry):
            number = P.as_number(port)
            ports.append((protocol.upper(), int(number) if number is not None else 0))
    return ports


def _redirect_is_https(actions: Any) -> bool:
    listed = P.as_list(actions)
    return bool(listed) and all(
        P.get(action, "type") == "redirect"
        and str(P.get(action, "redirect", "protocol") or "").upper() == "HTTPS"
        for action in listed
    )

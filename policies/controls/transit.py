"""Encryption in transit: Redis TLS, database TLS enforcement, HTTPS-only load balancing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    HIGH,
    MANDATORY,
    ConfigOption,
    Reporter,
    Resource,
    fsbp,
    pci,
    resource_control,
    soc2,
)
from .common import require_true

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


@resource_control(
    name="aws-elasticache-replicationgroup-disallow-unencrypted-transit",
    description="ElastiCache replication groups must require TLS for client connections.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_TRANSIT,
        SOC2_TRANSMISSION,
        fsbp("ElastiCache.5", "ElastiCache replication groups should be encrypted in transit"),
    ),
    remediation=(
        "Set `transit_encryption_enabled=True` and leave `transit_encryption_mode` unset or "
        "`required` on the replication group; clients connect with `rediss://`."
    ),
)
def cache_transit(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "transitEncryptionEnabled",
        "ElastiCache replication group does not encrypt traffic in transit "
        "(transitEncryptionEnabled is not true).",
    )
    mode = r.get("transitEncryptionMode")
    if rep.count == 0 and isinstance(mode, str) and mode.lower() == "preferred":
        rep.violation(
            "ElastiCache replication group accepts unencrypted connections "
            "(transitEncryptionMode is 'preferred'; use 'required')."
        )


def _parameters(resource: Resource) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for parameter in P.as_list(resource.get("parameters")):
        name = P.get(parameter, "name")
        if isinstance(name, str):
            found[name.lower()] = P.get(parameter, "value")
    return found


def tls_parameter_problem(group: Resource) -> str | None:
    """Why a cluster parameter group does not force TLS, or None if it does."""
    family = group.get("family")
    family = family.lower() if isinstance(family, str) else ""
    parameters = _parameters(group)
    if "mysql" in family:
        value = parameters.get("require_secure_transport")
        if P.is_unknown(value):
            return None
        if str(value).strip().upper() not in {"1", "ON"}:
            return "require_secure_transport is not ON"
        return None
    value = parameters.get("rds.force_ssl")
    if P.is_unknown(value):
        return None
    if str(value).strip() != "1" and value != 1:
        return "rds.force_ssl is not 1"
    return None


@resource_control(
    name="aws-rds-clusterparametergroup-force-ssl",
    description="Aurora cluster parameter groups must force TLS for client connections.",
    resource_types=(T.RDS_CLUSTER_PARAMETER_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_TRANSIT, SOC2_TRANSMISSION),
    remediation=(
        "Add the parameter `{name: 'rds.force_ssl', value: '1'}` (Aurora PostgreSQL) or "
        "`{name: 'require_secure_transport', value: 'ON'}` (Aurora MySQL) to the "
        "`aws.rds.ClusterParameterGroup`, and attach the group to the cluster with "
        "`db_cluster_parameter_group_name`."
    ),
)
def parameter_group_force_ssl(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if P.is_unknown(r.get("parameters")):
        rep.skip("parameters")
    problem = tls_parameter_problem(r)
    if problem:
        rep.violation(f"Cluster parameter group does not force TLS ({problem}).")


def _is_alb_ingress(r: Resource) -> bool:
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


@resource_control(
    name="aws-alb-require-https",
    description="Load balancer listeners and ALB ingresses must serve HTTPS only (plain HTTP may "
    "only redirect to HTTPS).",
    resource_types=(T.LB_LISTENER, T.ALB_LISTENER, T.K8S_INGRESS),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
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
        if not _is_alb_ingress(r):
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
        if not _is_alb_ingress(r):
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

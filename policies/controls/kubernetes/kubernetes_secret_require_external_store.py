"""kubernetes-secret-require-external-store

Secret values must live in an external secret store (AWS Secrets Manager, read by the
Secrets Store CSI driver or External Secrets), not in Kubernetes Secrets declared by the
program: those values also sit in the Pulumi state and in every plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.pod_security import CATEGORY, PCI_HARDENING
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, cis_eks, resource_control


@resource_control(
    name="kubernetes-secret-require-external-store",
    description="The program must not declare Kubernetes Secrets with values (data or "
    "stringData); keep secrets in an external store.",
    resource_types=(T.K8S_SECRET,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(cis_eks("4.4.2", "Consider external secret storage"), PCI_HARDENING),
    remediation=(
        "Store the value in AWS Secrets Manager and mount it with the Secrets Store CSI driver "
        "(or sync it with External Secrets); remove the `k8s.core.v1.Secret`."
    ),
)
def external_store(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    secret_type = r.get("type")
    if isinstance(secret_type, str) and secret_type.startswith("kubernetes.io/service-account"):
        return  # token Secrets are filled in by Kubernetes itself
    if r.get("data") is not None or r.get("stringData") is not None:
        rep.violation("The Secret's values are declared in the program (data/stringData).")

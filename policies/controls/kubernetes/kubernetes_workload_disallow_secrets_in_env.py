"""kubernetes-workload-disallow-secrets-in-env

Containers must not receive Kubernetes Secrets as environment variables (they leak into
crash dumps, child processes and `kubectl describe`); mount them as files instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import containers
from ...checks.pod_security import CATEGORY, PCI_HARDENING, spec_of
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, resource_control


def _secret_sources(container: Any) -> list[str]:
    found = []
    for entry in P.as_list(P.get(container, "env")):
        ref = P.get(entry, "valueFrom", "secretKeyRef")
        if ref is not None:
            found.append(f"env {P.get(entry, 'name')} from Secret '{P.get(ref, 'name')}'")
    for entry in P.as_list(P.get(container, "envFrom")):
        ref = P.get(entry, "secretRef")
        if ref is not None:
            found.append(f"envFrom Secret '{P.get(ref, 'name')}'")
    return found


@resource_control(
    name="kubernetes-workload-disallow-secrets-in-env",
    description="Containers must not take Kubernetes Secrets as environment variables "
    "(env valueFrom.secretKeyRef, envFrom secretRef); mount them as files.",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("4.4.1", "Prefer using secrets as files over secrets as environment variables"),
        PCI_HARDENING,
    ),
    remediation=(
        "Mount the Secret as a `secret` volume (read-only) and read the file, or fetch it at "
        "start-up from Secrets Manager with the pod's IAM role."
    ),
)
def secrets_in_env(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    for name, container in containers(spec):
        if P.is_unknown(P.get(container, "env")) or P.is_unknown(P.get(container, "envFrom")):
            rep.skip(f"env of container '{name}'")
        for source in _secret_sources(container):
            rep.violation(
                f"Container '{name}' takes a Secret as an environment variable ({source})."
            )

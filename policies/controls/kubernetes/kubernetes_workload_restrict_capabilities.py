"""kubernetes-workload-restrict-capabilities

Every container must drop ALL capabilities and may add back only NET_BIND_SERVICE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import (
    ALLOWED_ADDED_CAPABILITIES,
    CATEGORY,
    CIS_EKS_PRIVILEGED,
    PCI_HARDENING,
    each_container,
    spec_of,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-restrict-capabilities",
    description="Containers must drop ALL capabilities and add back at most NET_BIND_SERVICE.",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(CIS_EKS_PRIVILEGED, PCI_HARDENING),
    remediation='Set `securityContext.capabilities: {drop: ["ALL"]}` on every container.',
)
def capabilities(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    for name, _container, context in each_container(spec, rep):
        caps = P.get(context, "capabilities")
        if P.is_unknown(caps):
            rep.skip(f"capabilities of container '{name}'")
        dropped = {str(c).upper() for c in P.as_list(P.get(caps, "drop"))}
        added = {str(c).upper().removeprefix("CAP_") for c in P.as_list(P.get(caps, "add"))}
        if "ALL" not in dropped:
            rep.violation(f"Container '{name}' does not drop ALL capabilities.")
        extra = sorted(added - ALLOWED_ADDED_CAPABILITIES)
        if extra:
            rep.violation(f"Container '{name}' adds capabilities {', '.join(extra)}.")

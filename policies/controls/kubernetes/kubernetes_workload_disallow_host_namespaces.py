"""kubernetes-workload-disallow-host-namespaces

Pods must not share the node's network, PID or IPC namespace (Pod Security Standard).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import (
    CATEGORY,
    CIS_EKS_HOST_IPC,
    CIS_EKS_HOST_NETWORK,
    CIS_EKS_HOST_PID,
    PCI_HARDENING,
    spec_of,
)
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, resource_control

HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


@resource_control(
    name="kubernetes-workload-disallow-host-namespaces",
    description="Pods must not share the node's network, PID or IPC namespace.",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(CIS_EKS_HOST_NETWORK, CIS_EKS_HOST_PID, CIS_EKS_HOST_IPC, PCI_HARDENING),
    remediation="Remove `hostNetwork`, `hostPID` and `hostIPC` (or set them to false).",
)
def host_namespaces(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    for field in HOST_NAMESPACES:
        value = P.get(spec, field)
        if P.is_unknown(value):
            rep.skip(field)
        if P.as_bool(value):
            rep.violation(f"Pod spec sets {field}: true.")

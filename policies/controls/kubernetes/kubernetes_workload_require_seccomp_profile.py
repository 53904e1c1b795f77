"""kubernetes-workload-require-seccomp-profile

Pods (or every container) must use the RuntimeDefault or a Localhost seccomp profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import (
    ALLOWED_SECCOMP,
    CATEGORY,
    CIS_EKS_SECURITY_CONTEXT,
    PCI_HARDENING,
    each_container,
    seccomp_type,
    spec_of,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-require-seccomp-profile",
    description="Pods must run under the RuntimeDefault (or a Localhost) seccomp profile.",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(CIS_EKS_SECURITY_CONTEXT, PCI_HARDENING),
    remediation="Set `securityContext.seccompProfile.type: RuntimeDefault` in the pod spec.",
)
def seccomp(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    pod_type = seccomp_type(P.get(spec, "securityContext"))
    if P.is_unknown(pod_type):
        rep.skip("securityContext.seccompProfile")
    for name, _container, context in each_container(spec, rep):
        own = seccomp_type(context)
        effective = own if own is not None else pod_type
        if P.is_unknown(effective):
            rep.skip(f"seccompProfile of container '{name}'")
        if effective not in ALLOWED_SECCOMP:
            shown = effective if effective is not None else "not set"
            rep.violation(f"Container '{name}' seccomp profile is {shown}.")

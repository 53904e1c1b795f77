"""kubernetes-workload-disallow-privilege-escalation

Every container must set allowPrivilegeEscalation: false (Pod Security Standard restricted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import (
    CATEGORY,
    CIS_EKS_ESCALATION,
    PCI_HARDENING,
    each_container,
    spec_of,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-disallow-privilege-escalation",
    description="Every container must set securityContext.allowPrivilegeEscalation to false.",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(CIS_EKS_ESCALATION, PCI_HARDENING),
    remediation="Set `securityContext.allowPrivilegeEscalation: false` on every container.",
)
def privilege_escalation(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    for name, _container, context in each_container(spec, rep):
        value = P.get(context, "allowPrivilegeEscalation")
        if P.is_unknown(value):
            rep.skip(f"allowPrivilegeEscalation of container '{name}'")
        if P.as_bool(value) is not False:
            rep.violation(f"Container '{name}' does not set allowPrivilegeEscalation: false.")

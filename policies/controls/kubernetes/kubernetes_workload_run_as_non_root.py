"""kubernetes-workload-run-as-non-root

Containers must run as a non-root user and must not be privileged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import CATEGORY, PCI_HARDENING, SOC2_MALWARE, _template, containers
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-run-as-non-root",
    description="Containers must run as a non-root user and must not be privileged.",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_HARDENING, SOC2_MALWARE),
    remediation=(
        "Set `security_context={run_as_non_root: True, run_as_user: <uid > 0>}` on the pod (or "
        "each container), `allow_privilege_escalation: False` and never `privileged: True`."
    ),
)
def non_root(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = _template(r, rep)
    if spec is None:
        return
    pod_non_root = P.as_bool(P.get(spec, "securityContext", "runAsNonRoot"))
    pod_user = P.as_number(P.get(spec, "securityContext", "runAsUser"))
    for name, container in containers(spec):
        context = P.get(container, "securityContext")
        if P.is_unknown(context):
            rep.skip(f"securityContext of container '{name}'")
        non_root_flag = P.as_bool(P.get(context, "runAsNonRoot"))
        user = P.as_number(P.get(context, "runAsUser"))
        effective_user = user if user is not None else pod_user
        effective_flag = non_root_flag if non_root_flag is not None else pod_non_root
        if effective_user == 0 or (not effective_flag and not (effective_user or 0) > 0):
            rep.violation(f"Container '{name}' may run as root (runAsNonRoot is not true).")
        if P.as_bool(P.get(context, "privileged")):
            rep.violation(f"Container '{name}' is privileged (securityContext.privileged is true).")

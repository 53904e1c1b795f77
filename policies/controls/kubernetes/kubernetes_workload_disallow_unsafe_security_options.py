"""kubernetes-workload-disallow-unsafe-security-options

No unmasked /proc, custom SELinux types, unsafe sysctls or Windows host processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import (
    ALLOWED_SELINUX_TYPES,
    CATEGORY,
    PCI_HARDENING,
    SAFE_SYSCTLS,
    each_container,
    spec_of,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


def _selinux(where: str, context: Any, rep: Reporter) -> None:
    kind = P.get(context, "seLinuxOptions", "type")
    if isinstance(kind, str) and kind not in ALLOWED_SELINUX_TYPES:
        rep.violation(f"{where} sets SELinux type {kind}.")
    for key in ("user", "role"):
        if P.get(context, "seLinuxOptions", key):
            rep.violation(f"{where} sets a custom SELinux {key}.")


@resource_control(
    name="kubernetes-workload-disallow-unsafe-security-options",
    description=(
        "Pods must not unmask /proc, set custom SELinux users/roles/types, use unsafe "
        "sysctls, unconfined AppArmor or Windows host processes."
    ),
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_HARDENING,),
    remediation="Remove the security option; the Pod Security Standard baseline forbids it.",
)
def unsafe_options(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    pod_context = P.get(spec, "securityContext")
    _selinux("Pod", pod_context, rep)
    for sysctl in P.as_list(P.get(pod_context, "sysctls")):
        name = P.get(sysctl, "name")
        if isinstance(name, str) and name not in SAFE_SYSCTLS:
            rep.violation(f"Pod sets unsafe sysctl {name}.")
    if P.as_bool(P.get(pod_context, "windowsOptions", "hostProcess")):
        rep.violation("Pod runs as a Windows host process.")
    for name, _container, context in each_container(spec, rep):
        where = f"Container '{name}'"
        _selinux(where, context, rep)
        proc = P.get(context, "procMount")
        if isinstance(proc, str) and proc != "Default":
            rep.violation(f"{where} sets procMount {proc}.")
        if P.get(context, "appArmorProfile", "type") == "Unconfined":
            rep.violation(f"{where} runs with AppArmor unconfined.")
        if P.as_bool(P.get(context, "windowsOptions", "hostProcess")):
            rep.violation(f"{where} runs as a Windows host process.")

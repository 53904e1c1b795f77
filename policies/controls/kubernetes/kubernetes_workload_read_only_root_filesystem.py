"""kubernetes-workload-read-only-root-filesystem

Every container must mount its root filesystem read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import CATEGORY, PCI_HARDENING, each_container, spec_of
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-read-only-root-filesystem",
    description="Every container must mount its root filesystem read-only.",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(PCI_HARDENING,),
    remediation="Set `securityContext.readOnlyRootFilesystem: true`; mount an emptyDir for /tmp.",
)
def read_only_root(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    for name, _container, context in each_container(spec, rep):
        value = P.get(context, "readOnlyRootFilesystem")
        if P.is_unknown(value):
            rep.skip(f"readOnlyRootFilesystem of container '{name}'")
        if P.as_bool(value) is not True:
            rep.violation(f"Container '{name}' root filesystem is writable.")

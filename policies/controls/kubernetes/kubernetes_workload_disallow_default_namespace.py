"""kubernetes-workload-disallow-default-namespace

Workloads and Services must be created in a dedicated namespace, not `default`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import CATEGORY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, cis_eks, resource_control, soc2


@resource_control(
    name="kubernetes-workload-disallow-default-namespace",
    description="Workloads and Services must be created in a dedicated namespace, not default.",
    resource_types=(*T.K8S_PODS, T.K8S_SERVICE),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("4.5.3", "The default namespace should not be used"),
        cis_eks("4.5.1", "Create administrative boundaries between resources using namespaces"),
        soc2("CC6.1", "Logical access security over protected information assets"),
    ),
    remediation="Set `metadata.namespace` to the application's namespace.",
)
def not_default(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    value = r.get("metadata", "namespace")
    if P.is_unknown(value):
        return  # a namespace created in the same update: never `default`
    if value in (None, "", "default"):
        rep.violation("Resource is in the default namespace (metadata.namespace is not set).")

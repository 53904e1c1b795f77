"""kubernetes-workload-resource-limits

Every container must declare CPU/memory requests and limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import CATEGORY, SOC2_CAPACITY, _template, containers
from ...framework import ADVISORY, MEDIUM, ConfigOption, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-resource-limits",
    description="Every container must declare CPU/memory requests and limits.",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=ADVISORY,
    frameworks=(SOC2_CAPACITY,),
    remediation="Set `resources={requests: {cpu, memory}, limits: {cpu, memory}}` on each "
    "container.",
    config=(
        ConfigOption(
            "requiredRequests",
            {"type": "array", "items": {"type": "string"}, "default": ["cpu", "memory"]},
            "Resources every container must request.",
        ),
        ConfigOption(
            "requiredLimits",
            {"type": "array", "items": {"type": "string"}, "default": ["cpu", "memory"]},
            "Resources every container must limit.",
        ),
    ),
)
def resource_limits(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    spec = _template(r, rep)
    if spec is None:
        return
    for name, container in containers(spec):
        resources = P.get(container, "resources")
        if P.is_unknown(resources):
            rep.skip(f"resources of container '{name}'")
        missing = [
            f"requests.{k}"
            for k in cfg["requiredRequests"]
            if P.get(resources, "requests", k) is None
        ]
        missing += [
            f"limits.{k}" for k in cfg["requiredLimits"] if P.get(resources, "limits", k) is None
        ]
        if missing:
            rep.violation(f"Container '{name}' does not set {', '.join(missing)}.")

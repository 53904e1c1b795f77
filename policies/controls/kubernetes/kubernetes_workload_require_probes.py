"""kubernetes-workload-require-probes

Every container of a serving workload that exposes ports must define readiness and liveness
probes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import (
    CATEGORY,
    SOC2_AVAILABILITY,
    SOC2_CHANGE,
    _serves_traffic,
    _template,
    containers,
)
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-require-probes",
    description=(
        "Every container of a serving workload that exposes ports must define readiness and "
        "liveness probes."
    ),
    resource_types=T.K8S_SERVING_WORKLOADS,
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(SOC2_AVAILABILITY, SOC2_CHANGE),
    remediation=(
        "Give each container that exposes a port a `readiness_probe` (gates Service traffic "
        "and canary progress) and a `liveness_probe` (restarts a wedged process), e.g. HTTP "
        "GET /health/ready and /health/live."
    ),
)
def probes(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = _template(r, rep)
    if spec is None:
        return
    for name, container in containers(spec, init=False):
        if not _serves_traffic(container):
            continue  # see kubernetes-workload-background-liveness-probe
        missing = [
            probe
            for probe in ("readinessProbe", "livenessProbe")
            if P.get(container, probe) is None
        ]
        if missing:
            rep.violation(f"Container '{name}' has no {' or '.join(missing)}.")

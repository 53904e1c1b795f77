"""kubernetes-workload-background-liveness-probe

Long-running containers that expose no port (queue consumers, relays) should define a
liveness probe, so a wedged process is restarted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import CATEGORY, SOC2_AVAILABILITY, _serves_traffic, _template, containers
from ...framework import ADVISORY, MEDIUM, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-background-liveness-probe",
    description=(
        "Long-running containers that expose no port (queue consumers, relays) should define a "
        "liveness probe, so a wedged process is restarted."
    ),
    resource_types=T.K8S_SERVING_WORKLOADS,
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=ADVISORY,
    frameworks=(SOC2_AVAILABILITY,),
    remediation=(
        "Add a `liveness_probe` that fails when the loop stops making progress, e.g. an `exec` "
        "probe checking the age of a heartbeat file the process touches each iteration, or an "
        "HTTP probe on its metrics listener bound to the pod IP. Exiting on fatal errors does "
        "not cover a process that hangs."
    ),
)
def background_liveness(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = _template(r, rep)
    if spec is None:
        return
    for name, container in containers(spec, init=False):
        if not _serves_traffic(container) and P.get(container, "livenessProbe") is None:
            rep.violation(f"Container '{name}' exposes no port and has no livenessProbe.")

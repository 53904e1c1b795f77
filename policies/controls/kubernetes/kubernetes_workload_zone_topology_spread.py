"""kubernetes-workload-zone-topology-spread

Serving workloads must spread their pods across availability zones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import CATEGORY, SOC2_AVAILABILITY, ZONE_KEY, _template
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-zone-topology-spread",
    description="Serving workloads must spread their pods across availability zones.",
    resource_types=T.K8S_SERVING_WORKLOADS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_AVAILABILITY,),
    remediation=(
        "Add to the pod template `topology_spread_constraints=[{max_skew: 1, topology_key: "
        f"'{ZONE_KEY}', when_unsatisfiable: 'DoNotSchedule', label_selector: "
        f"{{match_labels: <pod labels>}}}}]`."
    ),
)
def zone_spread(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    spec = _template(r, rep)
    if spec is None:
        return  # e.g. a Rollout with workloadRef: the referenced Deployment is checked
    constraints = P.get(spec, "topologySpreadConstraints")
    if P.is_unknown(constraints):
        rep.skip("topologySpreadConstraints")
    keys = [P.get(c, "topologyKey") for c in P.as_list(constraints)]
    if ZONE_KEY not in keys:
        rep.violation(
            f"Pods are not spread across zones (no topologySpreadConstraints entry with "
            f"topologyKey {ZONE_KEY})."
        )

"""kubernetes-workload-require-pod-disruption-budget

Every serving workload must be covered by a PodDisruptionBudget that keeps pods available
during voluntary disruptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.kubernetes import CATEGORY, SOC2_AVAILABILITY, _check_pdb
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="kubernetes-workload-require-pod-disruption-budget",
    description="Every serving workload must be covered by a PodDisruptionBudget that keeps pods "
    "available during voluntary disruptions.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_AVAILABILITY,),
    scope=T.K8S_SERVING_WORKLOADS,
    remediation=(
        "Create a `policy/v1` PodDisruptionBudget in the workload's namespace whose "
        "`spec.selector.matchLabels` match the pod template labels, with `minAvailable` >= 1 "
        "(or `maxUnavailable` below the replica count)."
    ),
)
def require_pdb(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    pdbs = stack.of_type(T.K8S_PDB)
    for workload in stack.of_type(*T.K8S_SERVING_WORKLOADS):
        with rep.guard(workload):
            _check_pdb(workload, pdbs, rep)

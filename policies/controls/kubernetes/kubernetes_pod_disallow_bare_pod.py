"""kubernetes-pod-disallow-bare-pod

Pods and ReplicaSets must not be declared directly; use a Deployment, Rollout or Job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.kubernetes import SOC2_AVAILABILITY
from ...checks.pod_security import CATEGORY
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-pod-disallow-bare-pod",
    description="Pods and ReplicaSets must not be declared directly (use a controller).",
    resource_types=(T.K8S_POD, T.K8S_REPLICASET),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_AVAILABILITY,),
    remediation="Declare a Deployment, Rollout or Job; its controller recreates lost pods.",
)
def bare_pod(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    kind = "Pod" if r.type == T.K8S_POD else "ReplicaSet"
    rep.violation(f"A bare {kind} is declared; nothing recreates it when its node goes away.")

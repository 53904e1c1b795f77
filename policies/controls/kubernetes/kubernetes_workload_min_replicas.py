"""kubernetes-workload-min-replicas

Serving workloads (Rollouts, Deployments, StatefulSets) must run at least the configured
number of replicas, including their autoscaler minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.kubernetes import (
    CATEGORY,
    MIN_REPLICAS,
    SOC2_AVAILABILITY,
    SOC2_CAPACITY,
    STANDBY_MIN_REPLICAS,
    STANDBY_REGIONS,
    _check_replicas,
    _is_warm_standby,
)
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="kubernetes-workload-min-replicas",
    description="Serving workloads (Rollouts, Deployments, StatefulSets) must run at least the "
    "configured number of replicas, including their autoscaler minimum.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_AVAILABILITY, SOC2_CAPACITY),
    scope=T.K8S_SERVING_WORKLOADS,
    remediation=(
        "Set `spec.replicas` to at least the configured minimum (default 2), and the "
        "HorizontalPodAutoscaler `minReplicas` / KEDA `minReplicaCount` targeting it likewise. "
        "Workloads labelled as warm standby (`warmStandbySelector`, default "
        "`orders/region-role=standby`) must keep `warmStandbyMinReplicas` (default 1) and scale "
        "out on failover. A deliberate singleton needs a waiver in policies/waivers.json."
    ),
    config=(MIN_REPLICAS, STANDBY_REGIONS, STANDBY_MIN_REPLICAS),
)
def min_replicas(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    scalers = stack.of_type(T.K8S_HPA, T.K8S_SCALED_OBJECT)
    for workload in stack.of_type(*T.K8S_SERVING_WORKLOADS):
        minimum = int(cfg["minReplicas"])
        if _is_warm_standby(workload, cfg):
            minimum = int(cfg["warmStandbyMinReplicas"])
        with rep.guard(workload):
            _check_replicas(workload, scalers, minimum, rep)

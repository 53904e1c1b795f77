"""Kubernetes workload controls (Argo Rollouts, Deployments, StatefulSets, Jobs, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    ConfigOption,
    Reporter,
    Resource,
    pci,
    soc2,
)

CATEGORY = "Kubernetes workload"
ZONE_KEY = "topology.kubernetes.io/zone"

SOC2_CAPACITY = soc2("A1.1", "Current processing capacity and use are managed to meet objectives")
SOC2_AVAILABILITY = soc2(
    "A1.2", "Environmental protections, data backup and recovery infrastructure"
)
SOC2_CHANGE = soc2(
    "CC8.1", "Changes to infrastructure and software are authorized, tested and implemented"
)
SOC2_MALWARE = soc2("CC6.8", "Controls prevent or detect unauthorized or malicious software")
PCI_HARDENING = pci("2.2.6", "System security parameters are configured to prevent misuse")

MIN_REPLICAS = ConfigOption(
    "minReplicas",
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 2},
    "Minimum replicas (and HPA/KEDA minimum) of a serving workload.",
)
STANDBY_REGIONS = ConfigOption(
    "warmStandbyRegions",
    {
        "type": "array",
        "items": {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$"},
        "default": ["eu-west-1"],
    },
    "Regions whose clusters run the warm standby. A workload is standby by the region of "
    "the provider (cluster) it is deployed with, never by labels it sets on itself.",
)
STANDBY_MIN_REPLICAS = ConfigOption(
    "warmStandbyMinReplicas",
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 1},
    "Minimum replicas of a warm-standby workload (scaled down, scaled out on failover).",
)


def pod_spec(r: Resource) -> Any:
    """The pod template spec of a workload, None if it has none (e.g. Rollout workloadRef)."""
    if r.type == T.K8S_CRONJOB:
        return r.get("spec", "jobTemplate", "spec", "template", "spec")
    if r.type == T.K8S_POD:
        return r.get("spec")
    return r.get("spec", "template", "spec")


def pod_labels(r: Resource) -> Any:
    if r.type == T.K8S_CRONJOB:
        return r.get("spec", "jobTemplate", "spec", "template", "metadata", "labels")
    return r.get("spec", "template", "metadata", "labels")


def containers(spec: Any, *, init: bool = True) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    keys = ("containers", "initContainers") if init else ("containers",)
    for key in keys:
        for index, container in enumerate(P.as_list(P.get(spec, key))):
            name = P.get(container, "name")
            found.append((name if isinstance(name, str) else f"{key}[{index}]", container))
    return found


def workload_name(r: Resource) -> str:
    name = r.out("metadata", "name")
    return name if isinstance(name, str) and not P.is_unknown(name) else r.name


def namespace(r: Resource) -> str | None:
    value = r.out("metadata", "namespace")
    return value if isinstance(value, str) and not P.is_unknown(value) else None


def _template(r: Resource, rep: Reporter) -> Any:
    spec = pod_spec(r)
    if P.is_unknown(spec):
        rep.skip("spec.template.spec")
    return spec


def _same_namespace(a: Resource, b: Resource) -> bool:
    """Could ``a`` and ``b`` be in the same namespace of the same cluster?"""
    if a.provider and b.provider and a.provider != b.provider:
        return False  # different Kubernetes providers: different clusters
    if a.region and b.region and a.region != b.region:
        return False
    first, second = namespace(a), namespace(b)
    return first is None or second is None or first == second


def _targets(scaler: Resource, workload: Resource) -> bool:
    ref = scaler.get("spec", "scaleTargetRef")
    kind, name = P.get(ref, "kind"), P.get(ref, "name")
    wanted_kind = {
        T.K8S_ROLLOUT: "Rollout",
        T.K8S_DEPLOYMENT: "Deployment",
        T.K8S_STATEFULSET: "StatefulSet",
    }[workload.type]
    if kind is not None and kind != wanted_kind:
        return False
    return _same_namespace(scaler, workload) and name in {workload_name(workload), workload.name}


def _is_warm_standby(workload: Resource, cfg: Mapping[str, Any]) -> bool:
    regions = set(cfg.get("warmStandbyRegions") or [])
    return workload.region is not None and workload.region in regions


def _check_replicas(
    workload: Resource, scalers: list[Resource], minimum: int, rep: Reporter
) -> None:
    name = workload_name(workload)
    mine = [s for s in scalers if _targets(s, workload)]
    for scaler in mine:
        key = "minReplicas" if scaler.type == T.K8S_HPA else "minReplicaCount"
        raw = scaler.get("spec", key)
        if P.is_unknown(raw):
            rep.skip(f"spec.{key} of '{scaler.name}'")
        low = P.as_number(raw)
        if low is None:
            low = 1 if scaler.type == T.K8S_HPA else 0
        if low < minimum:
            rep.violation(
                f"Autoscaler '{scaler.name}' for '{name}' allows {int(low)} replica(s); "
                f"the minimum is {minimum} (spec.{key}).",
                scaler,
            )
    replicas = workload.get("spec", "replicas")
    if P.is_unknown(replicas):
        rep.skip(f"spec.replicas of '{name}'")
    count = P.as_number(replicas)
    if count is None and mine:
        return  # the autoscaler owns the replica count
    if count is None or count < minimum:
        shown = 1 if count is None else int(count)
        rep.violation(
            f"Workload '{name}' runs {shown} replica(s); the minimum is {minimum} (spec.replicas).",
            workload,
        )


def _selector_matches(pdb: Resource, workload: Resource) -> bool | None:
    selector = pdb.get("spec", "selector", "matchLabels")
    labels = pod_labels(workload)
    if P.is_unknown(selector) or P.is_unknown(labels):
        return None
    wanted = dict(P.items(selector))
    have = dict(P.items(labels))
    if not wanted:
        return False
    return all(have.get(key) == value for key, value in wanted.items())


def _check_pdb(workload: Resource, pdbs: list[Resource], rep: Reporter) -> None:
    name = workload_name(workload)
    matches = [pdb for pdb in pdbs if _same_namespace(pdb, workload)]
    results = [_selector_matches(pdb, workload) for pdb in matches]
    if any(result is None for result in results) and not any(results):
        rep.skip(f"the PodDisruptionBudget selector for '{name}'")
    covering = [pdb for pdb, ok in zip(matches, results, strict=True) if ok]
    if not covering:
        rep.violation(f"Workload '{name}' has no PodDisruptionBudget selecting its pods.", workload)
        return
    for pdb in covering:
        min_available = P.as_number(pdb.get("spec", "minAvailable"))
        max_unavailable = pdb.get("spec", "maxUnavailable")
        if min_available is not None and min_available < 1:
            rep.violation(
                f"PodDisruptionBudget '{pdb.name}' allows all pods of '{name}' to be evicted "
                f"(minAvailable 0).",
                pdb,
            )
        if isinstance(max_unavailable, str) and max_unavailable.strip() == "100%":
            rep.violation(
                f"PodDisruptionBudget '{pdb.name}' allows all pods of '{name}' to be evicted "
                "(maxUnavailable 100%).",
                pdb,
            )
        if min_available is None and max_unavailable is None:
            rep.violation(
                f"PodDisruptionBudget '{pdb.name}' sets neither minAvailable nor maxUnavailable.",
                pdb,
            )


def _serves_traffic(container: Any) -> bool:
    return bool(P.as_list(P.get(container, "ports")))

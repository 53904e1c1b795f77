"""Kubernetes workload controls (Argo Rollouts, Deployments, StatefulSets, Jobs, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    ADVISORY,
    HIGH,
    MANDATORY,
    MEDIUM,
    ConfigOption,
    Reporter,
    Resource,
    pci,
    resource_control,
    soc2,
    stack_control,
)
from ..model import Stack

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
STANDBY_SELECTOR = ConfigOption(
    "warmStandbySelector",
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "default": {"orders/region-role": "standby"},
    },
    "Labels (all must match metadata.labels) marking a warm-standby workload.",
)
STANDBY_MIN_REPLICAS = ConfigOption(
    "warmStandbyMinReplicas",
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 1},
    "Minimum replicas of a warm-standby workload (scaled down, scaled out on failover).",
)
EXEMPT = ConfigOption(
    "exemptWorkloads",
    {"type": "array", "items": {"type": "string"}, "default": []},
    "Workload names (metadata.name or logical name) exempt from this control, e.g. a deliberate "
    "singleton.",
)


def pod_spec(r: Resource) -> Any:
    """The pod template spec of a workload, None if it has none (e.g. Rollout workloadRef)."""
    if r.type == T.K8S_CRONJOB:
        return r.get("spec", "jobTemplate", "spec", "template", "spec")
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


def _exempt(r: Resource, cfg: Mapping[str, Any]) -> bool:
    names = set(cfg.get("exemptWorkloads") or [])
    return workload_name(r) in names or r.name in names


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
        "out on failover. A deliberate singleton must be listed in `exemptWorkloads`."
    ),
    config=(MIN_REPLICAS, STANDBY_SELECTOR, STANDBY_MIN_REPLICAS, EXEMPT),
)
def min_replicas(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    scalers = stack.of_type(T.K8S_HPA, T.K8S_SCALED_OBJECT)
    for workload in stack.of_type(*T.K8S_SERVING_WORKLOADS):
        if _exempt(workload, cfg):
            continue
        minimum = int(cfg["minReplicas"])
        if _is_warm_standby(workload, cfg):
            minimum = int(cfg["warmStandbyMinReplicas"])
        with rep.guard(workload):
            _check_replicas(workload, scalers, minimum, rep)


def _is_warm_standby(workload: Resource, cfg: Mapping[str, Any]) -> bool:
    selector = dict(cfg.get("warmStandbySelector") or {})
    if not selector:
        return False
    labels = dict(P.items(workload.get("metadata", "labels")))
    return all(labels.get(key) == value for key, value in selector.items())


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
    config=(EXEMPT,),
)
def require_pdb(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    pdbs = stack.of_type(T.K8S_PDB)
    for workload in stack.of_type(*T.K8S_SERVING_WORKLOADS):
        if _exempt(workload, cfg):
            continue
        with rep.guard(workload):
            _check_pdb(workload, pdbs, rep)


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
        if min_available is None and max_unavailable is None:
            rep.violation(
                f"PodDisruptionBudget '{pdb.name}' sets neither minAvailable nor maxUnavailable.",
                pdb,
            )


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
    config=(EXEMPT,),
)
def zone_spread(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    if _exempt(r, cfg):
        return
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


def _serves_traffic(container: Any) -> bool:
    return bool(P.as_list(P.get(container, "ports")))


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


@resource_control(
    name="kubernetes-workload-run-as-non-root",
    description="Containers must run as a non-root user and must not be privileged.",
    resource_types=T.K8S_POD_WORKLOADS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_HARDENING, SOC2_MALWARE),
    remediation=(
        "Set `security_context={run_as_non_root: True, run_as_user: <uid > 0>}` on the pod (or "
        "each container), `allow_privilege_escalation: False` and never `privileged: True`."
    ),
)
def non_root(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = _template(r, rep)
    if spec is None:
        return
    pod_non_root = P.as_bool(P.get(spec, "securityContext", "runAsNonRoot"))
    pod_user = P.as_number(P.get(spec, "securityContext", "runAsUser"))
    for name, container in containers(spec):
        context = P.get(container, "securityContext")
        if P.is_unknown(context):
            rep.skip(f"securityContext of container '{name}'")
        non_root_flag = P.as_bool(P.get(context, "runAsNonRoot"))
        user = P.as_number(P.get(context, "runAsUser"))
        effective_user = user if user is not None else pod_user
        effective_flag = non_root_flag if non_root_flag is not None else pod_non_root
        if effective_user == 0 or (not effective_flag and not (effective_user or 0) > 0):
            rep.violation(f"Container '{name}' may run as root (runAsNonRoot is not true).")
        if P.as_bool(P.get(context, "privileged")):
            rep.violation(f"Container '{name}' is privileged (securityContext.privileged is true).")


@resource_control(
    name="kubernetes-workload-resource-limits",
    description="Every container must declare CPU/memory requests and limits.",
    resource_types=T.K8S_POD_WORKLOADS,
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

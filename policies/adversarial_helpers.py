"""Building blocks for adversarial mutations of a plan (a list of plan entries)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Plan = list[dict[str, Any]]
Apply = Callable[[Plan], None]
PRIMARY = "eu-central-1"
FOREIGN_ACCOUNT = "999999999999"


def entry(plan: Plan, name: str) -> dict[str, Any]:
    """The entry named ``name``, or ``type::name`` where two resources share a name."""
    type_, _, logical = name.rpartition("::")
    return next(e for e in plan if e["name"] == logical and (not type_ or e["type"] == type_))


def set_(name: str, path: tuple[Any, ...], value: Any) -> Apply:
    def apply(plan: Plan) -> None:
        target: Any = entry(plan, name)["inputs"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return apply


def unset(name: str, path: tuple[Any, ...]) -> Apply:
    def apply(plan: Plan) -> None:
        target: Any = entry(plan, name)["inputs"]
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return apply


def drop(*names: str, prefix: str = "") -> Apply:
    def apply(plan: Plan) -> None:
        doomed = [
            e for e in plan if e["name"] in names or (prefix and e["name"].startswith(prefix))
        ]
        if not doomed:
            raise KeyError(names or prefix)
        for e in doomed:
            plan.remove(e)

    return apply


def add(type_: str, name: str, inputs: dict[str, Any], region: str = PRIMARY) -> Apply:
    def apply(plan: Plan) -> None:
        plan.append({"type": type_, "name": name, "region": region, "inputs": inputs})

    return apply


def retype(name: str, new_type: str) -> Apply:
    def apply(plan: Plan) -> None:
        entry(plan, name)["type"] = new_type

    return apply


def both(*steps: Apply) -> Apply:
    def apply(plan: Plan) -> None:
        for step in steps:
            step(plan)

    return apply


def edit(name: str, change: Callable[[dict[str, Any]], None]) -> Apply:
    def apply(plan: Plan) -> None:
        change(entry(plan, name)["inputs"])

    return apply


def policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def container(
    path_to_spec: tuple[Any, ...] = ("spec", "template", "spec"),
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def get(inputs: dict[str, Any]) -> dict[str, Any]:
        spec: Any = inputs
        for key in path_to_spec:
            spec = spec[key]
        return dict(spec["containers"][0])

    return get


def in_container(name: str, change: Callable[[dict[str, Any]], None]) -> Apply:
    """Change the first container of a workload's pod template."""

    def apply(plan: Plan) -> None:
        change(entry(plan, name)["inputs"]["spec"]["template"]["spec"]["containers"][0])

    return apply


def in_pod(name: str, change: Callable[[dict[str, Any]], None]) -> Apply:
    def apply(plan: Plan) -> None:
        change(entry(plan, name)["inputs"]["spec"]["template"]["spec"])

    return apply


def copy_of(name: str, new_name: str, new_type: str | None = None, **changes: Any) -> Apply:
    """Add a copy of a resource (optionally with another type and changed inputs)."""

    def apply(plan: Plan) -> None:
        original = entry(plan, name)
        clone = json.loads(json.dumps(original))
        clone["name"] = new_name
        clone.pop("outputs", None)
        if new_type:
            clone["type"] = new_type
        clone["inputs"].update(changes)
        plan.append(clone)

    return apply


# The real program's resources the mutations aim at.
API, WORKER, RELAY = "primary-workload-api", "primary-workload-worker", "primary-workload-relay"
DB, CACHE, DB_SG, CACHE_SG = (
    "primary-database-cluster",
    "primary-cache-redis",
    "primary-database-sg",
    "primary-cache-sg",
)
KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/d64e8fc5"  # the database key
PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "orders"},
        "spec": {"containers": [{"name": name, "image": "busybox:1.36"}], **spec},
    }


def world(port: int, *cidrs: str) -> list[dict[str, Any]]:
    return [{"protocol": "tcp", "fromPort": port, "toPort": port, "cidrBlocks": list(cidrs)}]


def drop_pod_security_context(spec: dict[str, Any]) -> None:
    spec["securityContext"] = {}


def scale_to(workload: str, replicas: int) -> Apply:
    """Set a workload's replicas and the minimum of every autoscaler (HPA or KEDA) of it."""

    def apply(plan: Plan) -> None:
        target = entry(plan, workload)
        target["inputs"]["spec"]["replicas"] = replicas
        name = target["inputs"]["metadata"]["name"]
        for scaler in plan:
            ref = scaler["inputs"].get("spec", {}).get("scaleTargetRef", {})
            if not isinstance(ref, dict) or ref.get("name") != name:
                continue
            key = (
                "minReplicas"
                if scaler["type"].endswith("HorizontalPodAutoscaler")
                else ("minReplicaCount")
            )
            scaler["inputs"]["spec"][key] = replicas

    return apply


def image_base(image: str) -> str:
    """The repository part of an image reference (no tag, no digest)."""
    without_digest = image.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return without_digest.rsplit(":", 1)[0] if ":" in last else without_digest

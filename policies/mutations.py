"""Mutation coverage: does some mandatory control catch each weakening of the real plan?

Every guarded property of every resource in a plan is flipped, one at a time, to its
unsafe value (encryption off, key removed, retention lowered, deletion protection off,
public access on, replicas down, ...). A mutation is *caught* when evaluating the
mutated plan yields a mandatory violation that the unmutated plan does not have.
``python -m policies mutation-coverage --plan FILE`` prints the figure.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import all_policies
from . import types as T
from .evaluate import Provenance, Subject, Violation, evaluate
from .framework import Control, ControlResourcePolicy

Props = dict[str, Any]
_FOREIGN_KEY = "arn:aws:kms:{region}:000000000000:key/not-managed-here"


@dataclass(frozen=True)
class Mutation:
    """One weakening of one resource (``touches`` other resources for cross-resource ones)."""

    resource: str  # logical name
    type: str
    change: str  # human description, e.g. "storageEncrypted = false"
    apply: Callable[[dict[str, Subject]], None] = field(repr=False, compare=False)
    urn: str = ""
    touches: tuple[str, ...] = ()  # URNs whose props the mutation edits


@dataclass
class Outcome:
    mutation: Mutation
    caught_by: list[str]

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


@dataclass
class Coverage:
    outcomes: list[Outcome]

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def caught(self) -> int:
        return sum(1 for o in self.outcomes if o.caught)

    @property
    def ratio(self) -> float:
        return self.caught / self.total if self.total else 1.0

    @property
    def missed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.caught]

    def to_json(self) -> dict[str, Any]:
        return {
            "mutations": self.total,
            "caught": self.caught,
            "coverage": round(self.ratio, 4),
            "missed": [
                {
                    "resource": o.mutation.resource,
                    "type": o.mutation.type,
                    "change": o.mutation.change,
                }
                for o in self.missed
            ],
            "outcomes": [
                {
                    "resource": o.mutation.resource,
                    "type": o.mutation.type,
                    "change": o.mutation.change,
                    "caughtBy": o.caught_by,
                }
                for o in self.outcomes
            ],
        }


# --- property surgery ----------------------------------------------------------------------


def _walk(props: Any, path: Sequence[str | int]) -> Any:
    for key in path:
        in_dict = isinstance(props, dict) and isinstance(key, str) and key in props
        in_list = isinstance(props, list) and isinstance(key, int) and key < len(props)
        if not (in_dict or in_list):
            return None
        props = props[key]
    return props


def _set(path: Sequence[str | int], value: Any) -> Callable[[Props], bool]:
    def apply(props: Props) -> bool:
        parent = _walk(props, path[:-1])
        if isinstance(parent, dict):
            parent[path[-1]] = copy.deepcopy(value)
            return True
        if isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
            parent[path[-1]] = copy.deepcopy(value)
            return True
        return False

    return apply


def _delete(path: Sequence[str | int]) -> Callable[[Props], bool]:
    def apply(props: Props) -> bool:
        parent = _walk(props, path[:-1])
        if isinstance(parent, dict) and path[-1] in parent:
            del parent[path[-1]]
            return True
        return False

    return apply


def _pod_spec(props: Props) -> Any:
    return _walk(props, ("spec", "template", "spec"))


def _containers(props: Props) -> list[dict[str, Any]]:
    spec = _pod_spec(props)
    found = spec.get("containers") if isinstance(spec, dict) else None
    return [c for c in found or [] if isinstance(c, dict)]


def _each_container(edit: Callable[[dict[str, Any]], bool]) -> Callable[[Props], bool]:
    def apply(props: Props) -> bool:
        return any([edit(c) for c in _containers(props)])

    return apply


def _run_as_root(props: Props) -> bool:
    spec = _pod_spec(props)
    if not isinstance(spec, dict):
        return False
    spec["securityContext"] = {
        **(spec.get("securityContext") or {}),
        "runAsNonRoot": False,
        "runAsUser": 0,
    }
    for container in _containers(props):
        context = container.setdefault("securityContext", {})
        context.pop("runAsNonRoot", None)
        context.pop("runAsUser", None)
    return True


def _drop_probe(probe: str) -> Callable[[dict[str, Any]], bool]:
    def edit(container: dict[str, Any]) -> bool:
        if container.get("ports") and probe in container:
            del container[probe]
            return True
        return False

    return edit


def _json_field(prop: str, key: str, value: Any) -> Callable[[Props], bool]:
    def apply(props: Props) -> bool:
        raw = props.get(prop)
        if not isinstance(raw, str):
            return False
        try:
            data = json.loads(raw)
        except ValueError:
            return False
        data[key] = value
        props[prop] = json.dumps(data)
        return True

    return apply


def _rules(edit: Callable[[dict[str, Any]], bool]) -> Callable[[Props], bool]:
    def apply(props: Props) -> bool:
        rules = props.get("rules")
        return (
            any([edit(rule) for rule in rules if isinstance(rule, dict)])
            if isinstance(rules, list)
            else False
        )

    return apply


def _shorten_retention(rule: dict[str, Any]) -> bool:
    lifecycle = rule.get("lifecycle")
    if isinstance(lifecycle, dict) and "deleteAfter" in lifecycle:
        lifecycle["deleteAfter"] = 1
        return True
    return False


def _drop_copies(rule: dict[str, Any]) -> bool:
    if rule.get("copyActions"):
        rule["copyActions"] = []
        return True
    return False


def _truncate(prop: str, keep: int) -> Callable[[Props], bool]:
    def apply(props: Props) -> bool:
        value = props.get(prop)
        if isinstance(value, list) and len(value) > keep:
            props[prop] = value[:keep]
            return True
        return False

    return apply


def _world_ingress(props: Props) -> bool:
    rules = props.get("ingress")
    if isinstance(rules, list) and rules:
        for rule in rules:
            if isinstance(rule, dict):
                rule["cidrBlocks"] = ["0.0.0.0/0"]
        return True
    return False


def _label_mismatch(props: Props) -> bool:
    labels = _walk(props, ("spec", "selector", "matchLabels"))
    if isinstance(labels, dict) and labels:
        for key in labels:
            labels[key] = "no-such-pods"
        return True
    return False


def _standby(props: Props) -> bool:
    labels = _walk(props, ("metadata", "labels"))
    return isinstance(labels, dict) and labels.get("orders/region-role") == "standby"


def _replicas_down(path: Sequence[str]) -> Callable[[Props], bool]:
    """Below the minimum: 1 for a primary workload, 0 for a warm-standby one."""

    def apply(props: Props) -> bool:
        if _walk(props, path) is None:
            return False
        return _set(path, 0 if _standby(props) else 1)(props)

    return apply


def _scaler_down(key: str) -> Callable[[Props], bool]:
    def apply(props: Props) -> bool:
        if _walk(props, ("spec", key)) is None:
            return False
        # a scaler's target carries the standby label, not the scaler: 0 is below either minimum
        return _set(("spec", key), 0)(props)

    return apply


def _block_devices(key: str, value: Any) -> Callable[[Props], bool]:
    """Set (None: remove) ``ebs.<key>`` on every block device mapping of a launch template."""

    def apply(props: Props) -> bool:
        changed = False
        for mapping in props.get("blockDeviceMappings") or []:
            ebs = mapping.get("ebs") if isinstance(mapping, dict) else None
            if not isinstance(ebs, dict):
                continue
            if value is None:
                changed = ebs.pop(key, None) is not None or changed
            else:
                ebs[key] = value
                changed = True
        return changed

    return apply


def _force_ssl_off(props: Props) -> bool:
    changed = False
    for parameter in props.get("parameters") or []:
        if isinstance(parameter, dict) and parameter.get("name") in (
            "rds.force_ssl",
            "require_secure_transport",
        ):
            parameter["value"] = "0"
            changed = True
    return changed


def _foreign_key(props: Props, prop: str) -> bool:
    if prop not in props:
        return False
    region = str(props.get("region") or "eu-central-1")
    props[prop] = _FOREIGN_KEY.format(region=region)
    return True


# (type) -> [(change description, edit)]; an edit returns False when it does not apply.
SINGLE: dict[str, list[tuple[str, Callable[[Props], bool]]]] = {
    T.RDS_CLUSTER: [
        ("storageEncrypted = false", _set(("storageEncrypted",), False)),
        ("kmsKeyId removed", _delete(("kmsKeyId",))),
        ("kmsKeyId = alias/aws/rds", _set(("kmsKeyId",), "alias/aws/rds")),
        ("backupRetentionPeriod = 1", _set(("backupRetentionPeriod",), 1)),
        ("deletionProtection = false", _set(("deletionProtection",), False)),
        ("publiclyAccessible = true", _set(("publiclyAccessible",), True)),
        ("dbClusterParameterGroupName removed", _delete(("dbClusterParameterGroupName",))),
    ],
    T.RDS_CLUSTER_INSTANCE: [
        ("publiclyAccessible = true", _set(("publiclyAccessible",), True)),
        ("performanceInsightsKmsKeyId removed", _delete(("performanceInsightsKmsKeyId",))),
    ],
    T.RDS_GLOBAL_CLUSTER: [
        ("storageEncrypted = false", _set(("storageEncrypted",), False)),
        ("deletionProtection = false", _set(("deletionProtection",), False)),
    ],
    T.RDS_CLUSTER_PARAMETER_GROUP: [
        ("rds.force_ssl = 0", _force_ssl_off),
    ],
    T.ELASTICACHE_REPLICATION_GROUP: [
        ("atRestEncryptionEnabled = false", _set(("atRestEncryptionEnabled",), False)),
        ("kmsKeyId removed", _delete(("kmsKeyId",))),
        ("transitEncryptionEnabled = false", _set(("transitEncryptionEnabled",), False)),
        ("transitEncryptionMode = preferred", _set(("transitEncryptionMode",), "preferred")),
        ("automaticFailoverEnabled = false", _set(("automaticFailoverEnabled",), False)),
        ("multiAzEnabled = false", _set(("multiAzEnabled",), False)),
        ("numCacheClusters = 1", _set(("numCacheClusters",), 1)),
        ("snapshotRetentionLimit = 0", _set(("snapshotRetentionLimit",), 0)),
    ],
    T.SQS_QUEUE: [
        ("kmsMasterKeyId removed", _delete(("kmsMasterKeyId",))),
        ("redrivePolicy removed", _delete(("redrivePolicy",))),
        (
            "dead-letter target is a standard queue",
            _json_field(
                "redrivePolicy", "deadLetterTargetArn", "arn:aws:sqs:eu-central-1:0:standard"
            ),
        ),
    ],
    T.EKS_COMPONENT_CLUSTER: [
        ("encryptionConfigKeyArn removed", _delete(("encryptionConfigKeyArn",))),
        (
            "endpointPublicAccess = true, no publicAccessCidrs",
            lambda p: _set(("endpointPublicAccess",), True)(p) | _delete(("publicAccessCidrs",))(p),
        ),
    ],
    T.EKS_COMPONENT_MANAGED_NODE_GROUP: [
        ("subnetIds cut to 1", _truncate("subnetIds", 1)),
        ("launchTemplate removed", _delete(("launchTemplate",))),
    ],
    T.LAUNCH_TEMPLATE: [
        ("block devices unencrypted", _block_devices("encrypted", "false")),
        ("block devices without kmsKeyId", _block_devices("kmsKeyId", None)),
    ],
    T.EBS_VOLUME: [
        ("encrypted = false", _set(("encrypted",), False)),
        ("kmsKeyId removed", _delete(("kmsKeyId",))),
    ],
    T.RDS_SUBNET_GROUP: [("subnetIds cut to 2", _truncate("subnetIds", 2))],
    T.ELASTICACHE_SUBNET_GROUP: [("subnetIds cut to 2", _truncate("subnetIds", 2))],
    T.BACKUP_VAULT: [("kmsKeyArn removed", _delete(("kmsKeyArn",)))],
    T.BACKUP_VAULT_LOCK: [("minRetentionDays = 1", _set(("minRetentionDays",), 1))],
    T.BACKUP_PLAN: [
        ("every rule's lifecycle.deleteAfter = 1", _rules(_shorten_retention)),
        ("copyActions removed", _rules(_drop_copies)),
    ],
    T.BACKUP_SELECTION: [("resources emptied", _set(("resources",), []))],
    T.LOG_GROUP: [("kmsKeyId removed", _delete(("kmsKeyId",)))],
    T.KMS_KEY: [("enableKeyRotation = false", _set(("enableKeyRotation",), False))],
    T.SECRETS_MANAGER_SECRET: [
        ("kmsKeyId = a key not managed here", lambda p: _foreign_key(p, "kmsKeyId"))
    ],
    T.SNS_TOPIC: [
        ("kmsMasterKeyId = a key not managed here", lambda p: _foreign_key(p, "kmsMasterKeyId"))
    ],
    T.SECURITY_GROUP: [("ingress from 0.0.0.0/0", _world_ingress)],
    T.DEFAULT_SECURITY_GROUP: [
        (
            "allow-all ingress",
            _set(("ingress",), [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]),
        )
    ],
    T.K8S_ROLLOUT: [],  # filled below (shared with Deployments)
    T.K8S_HPA: [("minReplicas below the minimum", _scaler_down("minReplicas"))],
    T.K8S_SCALED_OBJECT: [("minReplicaCount below the minimum", _scaler_down("minReplicaCount"))],
    T.K8S_PDB: [("selector matches no pods", _label_mismatch)],
    T.K8S_INGRESS: [
        (
            "listen-ports HTTP only",
            _set(
                ("metadata", "annotations", "alb.ingress.kubernetes.io/listen-ports"),
                '[{"HTTP": 80}]',
            ),
        ),
        (
            "ssl-policy = ELBSecurityPolicy-2016-08",
            _set(
                ("metadata", "annotations", "alb.ingress.kubernetes.io/ssl-policy"),
                "ELBSecurityPolicy-2016-08",
            ),
        ),
    ],
}
_WORKLOAD = [
    ("spec.replicas below the minimum", _replicas_down(("spec", "replicas"))),
    (
        "topologySpreadConstraints removed",
        _delete(("spec", "template", "spec", "topologySpreadConstraints")),
    ),
    ("runs as root", _run_as_root),
    ("readinessProbe removed", _each_container(_drop_probe("readinessProbe"))),
    ("livenessProbe removed", _each_container(_drop_probe("livenessProbe"))),
]
SINGLE[T.K8S_ROLLOUT] = _WORKLOAD
SINGLE[T.K8S_DEPLOYMENT] = _WORKLOAD


def _collapse_azs(subjects: dict[str, Subject], cluster_urn: str) -> Iterator[Mutation]:
    """Cross-resource: every instance of one Aurora cluster placed in the same AZ."""
    from .model import Resource, Stack

    resources = {
        urn: Resource(s.type, s.name, s.props, s.urn, s.region, outputs=s.outputs)
        for urn, s in subjects.items()
    }
    stack = Stack(list(resources.values()))
    cluster = resources[cluster_urn]
    members = [
        r.urn
        for r in stack.of_type(T.RDS_CLUSTER_INSTANCE)
        if cluster
        in stack.resolve(r, "clusterIdentifier", r.get("clusterIdentifier"), T.RDS_CLUSTER)
    ]
    if len(members) < 2:
        return

    def apply(state: dict[str, Subject]) -> None:
        zone = state[members[0]].props.get("availabilityZone")
        for urn in members:
            state[urn].props["availabilityZone"] = zone

    yield Mutation(
        cluster.name, cluster.type, "all instances in one AZ", apply, cluster.urn, tuple(members)
    )


def mutations(subjects: Sequence[Subject]) -> list[Mutation]:
    by_urn = {s.urn: s for s in subjects}
    found: list[Mutation] = []
    for subject in subjects:
        for change, edit in SINGLE.get(subject.type, []):
            probe = copy.deepcopy(subject.props)
            if not edit(probe):
                continue  # the property is not set on this resource: nothing to weaken

            def apply(state: dict[str, Subject], urn: str = subject.urn, edit: Any = edit) -> None:
                edit(state[urn].props)

            found.append(
                Mutation(subject.name, subject.type, change, apply, subject.urn, (subject.urn,))
            )
        if subject.type == T.RDS_CLUSTER:
            found.extend(_collapse_azs(by_urn, subject.urn))
    return found


def _key(v: Violation) -> tuple[str, str, str]:
    return v.policy, v.urn, v.message


def coverage(subjects: Sequence[Subject], policies: Sequence[Control] | None = None) -> Coverage:
    """Evaluate every mutation; only mandatory controls count as catching one."""
    chosen = [p for p in (policies or all_policies()) if p.meta.enforcement.value == "mandatory"]
    resource_policies = [p for p in chosen if isinstance(p, ControlResourcePolicy)]
    stack_policies = [p for p in chosen if not isinstance(p, ControlResourcePolicy)]
    source = Provenance("plan", "<mutation>", "", 0, "", "", len(subjects))
    baseline = {_key(v) for v in evaluate(subjects, source, policies=chosen).violations}
    outcomes: list[Outcome] = []
    for mutation in mutations(subjects):
        state = {s.urn: s for s in subjects}
        for urn in mutation.touches:  # only what the mutation edits gets its own copy
            state[urn] = copy.copy(state[urn])
            state[urn].props = copy.deepcopy(state[urn].props)
        mutation.apply(state)
        mutated = list(state.values())
        changed = [state[mutation.urn]] if mutation.urn in state else mutated
        found = evaluate(changed, source, policies=resource_policies).violations
        found += evaluate(mutated, source, policies=stack_policies).violations
        caught = sorted(
            {v.policy for v in found if v.enforcement == "mandatory" and _key(v) not in baseline}
        )
        outcomes.append(Outcome(mutation, caught))
    return Coverage(outcomes)

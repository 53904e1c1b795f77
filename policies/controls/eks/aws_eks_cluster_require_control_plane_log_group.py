"""aws-eks-cluster-require-control-plane-log-group

Every EKS cluster's control-plane log group must be declared in the stack (with its key
and retention), not left to EKS to create unencrypted and kept forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY
from ...framework import HIGH, MANDATORY, Reporter, Resource, pci, stack_control
from ...model import Stack


def _cluster_name(cluster: Resource) -> Any:
    return cluster.out("name") if cluster.type == T.EKS_COMPONENT_CLUSTER else cluster.get("name")


@stack_control(
    name="aws-eks-cluster-require-control-plane-log-group",
    description=(
        "Every EKS cluster's /aws/eks/<name>/cluster log group must be declared in the stack "
        "(so its KMS key and retention are controlled)."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(pci("10.5.1", "Audit log history is retained for at least 12 months"),),
    remediation="Declare `aws.cloudwatch.LogGroup('/aws/eks/<cluster>/cluster', kms_key_id=...)`.",
    scope=(T.EKS_CLUSTER, T.EKS_COMPONENT_CLUSTER, T.LOG_GROUP),
)
def control_plane_log_group(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    groups = {g.get("name") for g in stack.of_type(T.LOG_GROUP)}
    for cluster in stack.of_type(T.EKS_CLUSTER, T.EKS_COMPONENT_CLUSTER):
        name = _cluster_name(cluster)
        if not isinstance(name, str) or P.is_unknown(name):
            continue  # an auto-named cluster: the group name is not known before creation
        wanted = f"/aws/eks/{name}/cluster"
        if wanted not in groups:
            rep.violation(f"EKS cluster '{name}' has no log group {wanted} in the stack.", cluster)

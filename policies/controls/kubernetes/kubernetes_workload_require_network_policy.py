"""kubernetes-workload-require-network-policy

Every workload's namespace must have a default-deny NetworkPolicy for ingress and egress.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import namespace, workload_name
from ...checks.pod_security import CATEGORY
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, pci, stack_control
from ...model import Stack


def default_deny(policy: Resource) -> bool:
    """Selects every pod, covers both directions, and allows nothing by itself."""
    selector = policy.get("spec", "podSelector")
    if P.items(selector) and any(P.items(v) for _, v in P.items(selector)):
        return False
    types = {str(t) for t in P.as_list(policy.get("spec", "policyTypes"))}
    allows = P.as_list(policy.get("spec", "ingress")) or P.as_list(policy.get("spec", "egress"))
    return {"Ingress", "Egress"} <= types and not allows


@stack_control(
    name="kubernetes-workload-require-network-policy",
    description=(
        "Every workload's namespace must have a default-deny NetworkPolicy (all pods, "
        "ingress and egress)."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("4.3.2", "Ensure that all Namespaces have Network Policies defined"),
        pci("1.3.1", "Inbound traffic to the CDE is restricted to only that which is necessary"),
    ),
    remediation=(
        "Add a NetworkPolicy with `podSelector: {}` and `policyTypes: [Ingress, Egress]` to "
        "the namespace, then allow the required flows with narrower policies."
    ),
    scope=(*T.K8S_PODS, T.K8S_NETWORK_POLICY),
)
def network_policy(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    policies = [p for p in stack.of_type(T.K8S_NETWORK_POLICY) if default_deny(p)]
    for workload in stack.of_type(*T.K8S_PODS):
        wanted = namespace(workload) or "default"
        found = [
            p
            for p in policies
            if (namespace(p) or "default") == wanted
            and (not p.region or not workload.region or p.region == workload.region)
        ]
        if not found:
            rep.violation(
                f"Workload '{workload_name(workload)}' runs in namespace '{wanted}' without a "
                "default-deny NetworkPolicy.",
                workload,
            )

"""kubernetes-namespace-enforce-restricted-pod-security

Every namespace the program's workloads run in must be declared with Pod Security
Admission enforcing the restricted profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import namespace, workload_name
from ...checks.pod_security import CATEGORY, CIS_EKS_PRIVILEGED, PCI_HARDENING
from ...framework import HIGH, MANDATORY, Reporter, Resource, stack_control
from ...model import Stack

ENFORCE = "pod-security.kubernetes.io/enforce"


def _restricted(ns: Resource) -> bool:
    return P.get(ns.get("metadata", "labels"), ENFORCE) == "restricted"


@stack_control(
    name="kubernetes-namespace-enforce-restricted-pod-security",
    description=(
        "Every namespace that runs the program's workloads must be declared in the stack "
        "with pod-security.kubernetes.io/enforce: restricted."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(CIS_EKS_PRIVILEGED, PCI_HARDENING),
    remediation="Label the Namespace `pod-security.kubernetes.io/enforce: restricted`.",
    scope=(*T.K8S_PODS, T.K8S_NAMESPACE),
)
def namespaces_restricted(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    declared = stack.of_type(T.K8S_NAMESPACE)
    for workload in stack.of_type(*T.K8S_PODS):
        wanted = namespace(workload)
        if wanted is None:
            continue  # the default namespace is reported by its own control
        same = [
            ns
            for ns in declared
            if ns.out("metadata", "name") == wanted
            and (not ns.region or not workload.region or ns.region == workload.region)
        ]
        if any(P.is_unknown(ns.get("metadata", "labels")) for ns in same):
            with rep.guard(workload):
                rep.skip(f"the labels of namespace '{wanted}'")
            continue
        if not any(_restricted(ns) for ns in same):
            rep.violation(
                f"Namespace '{wanted}' of workload '{workload_name(workload)}' does not enforce "
                "the restricted Pod Security Standard.",
                workload,
            )

"""Mutation and unknown-value cases of the Kubernetes controls (see ``cases_extra``)."""

from __future__ import annotations

from typing import Any

from .case_model import ExtraCase
from .fixtures import DELETE, PRIMARY

K8S_CASES = [
    ExtraCase(
        "kubernetes-workload-restrict-service-account",
        "orders-worker",
        ("spec", "template", "spec", "automountServiceAccountToken"),
        True,
        (
            (
                "orders-worker",
                "The API token is mounted (automountServiceAccountToken is not false).",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-workload-approved-registries",
        "orders-worker",
        ("spec", "template", "spec", "containers", 0, "image"),
        "docker.io/library/orders:1.0.0",
        (
            (
                "orders-worker",
                "Container 'worker' image docker.io/library/orders:1.0.0 is not from an approved registry.",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-host-namespaces",
        "orders-api",
        ("spec", "template", "spec", "hostNetwork"),
        True,
        (("orders-api", "Pod spec sets hostNetwork: true."),),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-privilege-escalation",
        "orders-api",
        (
            "spec",
            "template",
            "spec",
            "containers",
            0,
            "securityContext",
            "allowPrivilegeEscalation",
        ),
        True,
        (("orders-api", "Container 'api' does not set allowPrivilegeEscalation: false."),),
    ),
    ExtraCase(
        "kubernetes-workload-restrict-capabilities",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "capabilities"),
        {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
        (("orders-api", "Container 'api' adds capabilities SYS_ADMIN."),),
    ),
    ExtraCase(
        "kubernetes-workload-require-seccomp-profile",
        "orders-api",
        ("spec", "template", "spec", "securityContext", "seccompProfile"),
        {"type": "Unconfined"},
        (("orders-api", "Container 'api' seccomp profile is Unconfined."),),
    ),
    ExtraCase(
        "kubernetes-workload-restrict-volume-types",
        "orders-api",
        ("spec", "template", "spec", "volumes"),
        [{"name": "host", "hostPath": {"path": "/"}}],
        (("orders-api", "Volume 'host' is of type hostPath."),),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-host-ports",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "ports"),
        [{"containerPort": 8000, "hostPort": 8000}],
        (("orders-api", "Container 'api' binds host port 8000."),),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-unsafe-security-options",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "procMount"),
        "Unmasked",
        (("orders-api", "Container 'api' sets procMount Unmasked."),),
    ),
    ExtraCase(
        "kubernetes-workload-read-only-root-filesystem",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"),
        False,
        (("orders-api", "Container 'api' root filesystem is writable."),),
    ),
    ExtraCase(
        "kubernetes-workload-pin-image-version",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "image"),
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders:latest",
        (
            (
                "orders-api",
                "Container 'api' image 123456789012.dkr.ecr.eu-central-1.amazonaws.com/"
                "orders:latest uses the latest tag.",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-default-namespace",
        "orders-worker",
        ("metadata", "namespace"),
        DELETE,
        (
            (
                "orders-worker",
                "Resource is in the default namespace (metadata.namespace is not set).",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-pod-disallow-bare-pod",
        "debug-pod",
        (),
        None,
        (("debug-pod", "A bare Pod is declared; nothing recreates it when its node goes away."),),
        add={
            "type": "kubernetes:core/v1:Pod",
            "name": "debug-pod",
            "region": PRIMARY,
            "inputs": {
                "metadata": {"name": "debug", "namespace": "orders"},
                "spec": {"containers": []},
            },
        },
    ),
    ExtraCase(
        "kubernetes-service-disallow-external-exposure",
        "orders-api-service",
        ("spec", "type"),
        "LoadBalancer",
        (("orders-api-service", "Service is of type LoadBalancer."),),
    ),
    ExtraCase(
        "kubernetes-namespace-enforce-restricted-pod-security",
        "orders-namespace",
        ("metadata", "labels"),
        {},
        (
            (
                "orders-api",
                "Namespace 'orders' of workload 'orders-api' does not enforce the restricted Pod Security Standard.",
            ),
            (
                "orders-worker",
                "Namespace 'orders' of workload 'orders-worker' does not enforce the restricted Pod Security Standard.",
            ),
            (
                "migrate",
                "Namespace 'orders' of workload 'migrate' does not enforce the restricted Pod Security Standard.",
            ),
            (
                "restore-verification",
                "Namespace 'orders' of workload 'restore-verification' does not enforce the restricted Pod Security Standard.",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-workload-require-network-policy",
        "default-deny-standby",
        (),
        DELETE,
        (
            (
                "orders-api-standby",
                "Workload 'orders-api-standby' runs in namespace 'orders' without a default-deny NetworkPolicy.",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-helm-release-pin-chart-version",
        "keda",
        ("version",),
        DELETE,
        (("keda", "Helm release does not pin an exact chart version (version is None)."),),
    ),
    ExtraCase(
        "kubernetes-prometheusrule-require-alert-routing",
        "orders-alerts",
        ("spec", "groups", 0, "rules", 1, "labels"),
        {},
        (("orders-alerts", "Alert OutboxBacklogHigh has no severity label of page or ticket."),),
    ),
]

K8S_UNKNOWN_CASES: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "kubernetes-workload-restrict-service-account": (
        "orders-worker",
        ("spec", "template", "spec", "automountServiceAccountToken"),
        "note",
    ),
    "kubernetes-workload-approved-registries": (
        "orders-worker",
        ("spec", "template", "spec", "containers", 0, "image"),
        "accepted",
    ),
    "kubernetes-workload-disallow-host-namespaces": (
        "orders-api",
        ("spec", "template", "spec", "hostNetwork"),
        "note",
    ),
    "kubernetes-workload-disallow-privilege-escalation": (
        "orders-api",
        (
            "spec",
            "template",
            "spec",
            "containers",
            0,
            "securityContext",
            "allowPrivilegeEscalation",
        ),
        "note",
    ),
    "kubernetes-workload-restrict-capabilities": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "capabilities"),
        "note",
    ),
    "kubernetes-workload-require-seccomp-profile": (
        "orders-api",
        ("spec", "template", "spec", "securityContext", "seccompProfile"),
        "note",
    ),
    "kubernetes-workload-restrict-volume-types": (
        "orders-api",
        ("spec", "template", "spec", "volumes"),
        "note",
    ),
    "kubernetes-workload-disallow-host-ports": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "ports"),
        "accepted",
    ),
    "kubernetes-workload-disallow-unsafe-security-options": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "procMount"),
        "accepted",
    ),
    "kubernetes-workload-read-only-root-filesystem": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"),
        "note",
    ),
    "kubernetes-workload-pin-image-version": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "image"),
        "accepted",
    ),
    "kubernetes-workload-disallow-default-namespace": (
        "orders-worker",
        ("metadata", "namespace"),
        "accepted",
    ),
    "kubernetes-pod-disallow-bare-pod": ("orders-api", ("spec", "template"), "accepted"),
    "kubernetes-service-disallow-external-exposure": (
        "orders-api-service",
        ("spec", "type"),
        "note",
    ),
    "kubernetes-namespace-enforce-restricted-pod-security": (
        "orders-namespace",
        ("metadata", "labels"),
        "note",
    ),
    "kubernetes-workload-require-network-policy": (
        "default-deny-standby",
        ("spec", "podSelector"),
        "accepted",
    ),
    "kubernetes-helm-release-pin-chart-version": ("keda", ("version",), "note"),
    "kubernetes-prometheusrule-require-alert-routing": (
        "orders-alerts",
        ("spec", "groups", 0, "rules", 1, "labels"),
        "note",
    ),
}

"""Pod Security Standard "restricted" (Kubernetes 1.25+), field by field.

Each control walks the pod spec of anything that runs containers (bare Pods included)
through ``pod_specs`` and reports per container. The rules follow
https://kubernetes.io/docs/concepts/security/pod-security-standards/ (restricted profile).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import props as P
from ..framework import Reporter, Resource, cis_eks, pci
from .kubernetes import containers, pod_spec

CATEGORY = "Kubernetes pod security"

PCI_HARDENING = pci("2.2.6", "System security parameters are configured to prevent misuse")
CIS_EKS_PRIVILEGED = cis_eks("4.2.1", "Minimize the admission of privileged containers")
CIS_EKS_HOST_PID = cis_eks(
    "4.2.2", "Minimize the admission of containers wishing to share the host process ID namespace"
)
CIS_EKS_HOST_IPC = cis_eks(
    "4.2.3", "Minimize the admission of containers wishing to share the host IPC namespace"
)
CIS_EKS_HOST_NETWORK = cis_eks(
    "4.2.4", "Minimize the admission of containers wishing to share the host network namespace"
)
CIS_EKS_ESCALATION = cis_eks(
    "4.2.5", "Minimize the admission of containers with allowPrivilegeEscalation"
)
CIS_EKS_SECURITY_CONTEXT = cis_eks("4.5.2", "Apply Security Context to Your Pods and Containers")

# Volume types the restricted profile allows.
RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
ALLOWED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
ALLOWED_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})


def spec_of(r: Resource, rep: Reporter) -> Any:
    """The pod spec, skipping the check when it is unknown; None when there is none."""
    spec = pod_spec(r)
    if P.is_unknown(spec):
        rep.skip("the pod spec")
    return spec if isinstance(spec, dict) or hasattr(spec, "get") else None


def each_container(spec: Any, rep: Reporter) -> Iterator[tuple[str, Any, Any]]:
    """(name, container, its securityContext) for containers, init and ephemeral ones."""
    for name, container in containers(spec):
        context = P.get(container, "securityContext")
        if P.is_unknown(context):
            rep.skip(f"securityContext of container '{name}'")
        yield name, container, context
    for index, container in enumerate(P.as_list(P.get(spec, "ephemeralContainers"))):
        name = P.get(container, "name")
        yield (
            name if isinstance(name, str) else f"ephemeralContainers[{index}]",
            container,
            P.get(container, "securityContext"),
        )


def seccomp_type(context: Any) -> Any:
    return P.get(context, "seccompProfile", "type")

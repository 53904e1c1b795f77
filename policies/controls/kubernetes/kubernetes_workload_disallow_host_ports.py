"""kubernetes-workload-disallow-host-ports

Containers must not bind ports on the node (hostPort).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import CATEGORY, PCI_HARDENING, each_container, spec_of
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-disallow-host-ports",
    description="Containers must not bind ports on the node (hostPort).",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_HARDENING,),
    remediation="Remove `hostPort`; expose the container through a Service instead.",
)
def host_ports(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    for name, container, _context in each_container(spec, rep):
        for port in P.as_list(P.get(container, "ports")):
            host_port = P.as_number(P.get(port, "hostPort"))
            if host_port:
                rep.violation(f"Container '{name}' binds host port {int(host_port)}.")

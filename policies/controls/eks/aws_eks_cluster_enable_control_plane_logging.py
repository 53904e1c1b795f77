"""aws-eks-cluster-enable-control-plane-logging

EKS clusters must send API, audit and authenticator logs to CloudWatch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, fsbp, pci, resource_control

REQUIRED = ("api", "audit", "authenticator")


@resource_control(
    name="aws-eks-cluster-enable-control-plane-logging",
    description="EKS clusters must log api, audit and authenticator events to CloudWatch.",
    resource_types=(T.EKS_CLUSTER, T.EKS_COMPONENT_CLUSTER),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("2.1.1", "Enable audit Logs"),
        fsbp("EKS.8", "EKS clusters should have audit logging enabled"),
        pci("10.2.1", "Audit logs are enabled and active for all system components"),
    ),
    remediation="Set `enabled_cluster_log_types` to include api, audit and authenticator.",
)
def control_plane_logging(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    types = r.get("enabledClusterLogTypes")
    if P.is_unknown(types):
        rep.skip("enabledClusterLogTypes")
    enabled = {str(t) for t in P.as_list(types)}
    missing = [t for t in REQUIRED if t not in enabled]
    if missing:
        rep.violation(f"EKS control-plane logs are off for {', '.join(missing)}.")

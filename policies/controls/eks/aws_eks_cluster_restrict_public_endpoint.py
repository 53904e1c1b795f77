"""aws-eks-cluster-restrict-public-endpoint

When the EKS API endpoint is public, it must be restricted to allow-listed CIDRs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.cidr import public_exposure
from ...checks.exposure import CATEGORY, PCI_INBOUND, SOC2_BOUNDARY
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, fsbp, resource_control


@resource_control(
    name="aws-eks-cluster-restrict-public-endpoint",
    description="When the EKS API endpoint is public, it must be restricted to allow-listed CIDRs.",
    resource_types=(T.EKS_COMPONENT_CLUSTER, T.EKS_CLUSTER),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_BOUNDARY,
        PCI_INBOUND,
        cis_eks("5.4.1", "Restrict access to the control plane endpoint"),
        cis_eks(
            "5.4.2",
            "Ensure clusters are created with private endpoint enabled and public access disabled",
        ),
        fsbp("EKS.1", "EKS cluster endpoints should not be publicly accessible"),
    ),
    remediation=(
        "Set `endpoint_public_access=False` (with `endpoint_private_access=True`), or keep it "
        "public only with `public_access_cidrs` listing the operators' egress CIDRs."
    ),
)
def eks_endpoint(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type == T.EKS_COMPONENT_CLUSTER:
        public, cidrs = r.get("endpointPublicAccess"), r.get("publicAccessCidrs")
    else:
        public = r.get("vpcConfig", "endpointPublicAccess")
        cidrs = r.get("vpcConfig", "publicAccessCidrs")
    if P.is_unknown(public):
        rep.skip("endpointPublicAccess")
    if P.as_bool(public) is False:
        return
    if P.is_unknown(cidrs):
        rep.skip("publicAccessCidrs")
    listed = [c for c in P.as_list(cidrs) if isinstance(c, str)]
    if not listed:
        rep.violation(
            "EKS API endpoint is public and open to 0.0.0.0/0 (publicAccessCidrs is not set)."
        )
    elif (exposure := public_exposure(listed)) is not None:
        rep.violation(f"EKS API endpoint is public and open to {exposure} (publicAccessCidrs).")

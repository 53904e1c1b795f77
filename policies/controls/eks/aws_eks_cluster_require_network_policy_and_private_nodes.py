"""aws-eks-cluster-require-network-policy-and-private-nodes

EKS clusters must enforce NetworkPolicies (VPC CNI) and keep nodes off public IPs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, SOC2_BOUNDARY
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, resource_control


@resource_control(
    name="aws-eks-cluster-require-network-policy-and-private-nodes",
    description=(
        "EKS clusters must enforce NetworkPolicies (VPC CNI network policy on) and give "
        "nodes no public IP."
    ),
    resource_types=(T.EKS_COMPONENT_CLUSTER,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("4.3.1", "Ensure CNI plugin supports network policies"),
        cis_eks("5.4.4", "Ensure Network Policy is Enabled and set as appropriate"),
        cis_eks("5.4.3", "Ensure clusters are created with Private Nodes"),
        SOC2_BOUNDARY,
    ),
    remediation=(
        "Set `vpc_cni_options={'enable_network_policy': True}` and "
        "`node_associate_public_ip_address=False`."
    ),
)
def network_policy_private_nodes(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    enforce = r.get("vpcCniOptions", "enableNetworkPolicy")
    if P.is_unknown(enforce):
        rep.skip("vpcCniOptions.enableNetworkPolicy")
    if P.as_bool(enforce) is not True:
        rep.violation("NetworkPolicies are not enforced (vpcCniOptions.enableNetworkPolicy).")
    if P.as_bool(r.get("nodeAssociatePublicIpAddress")) is not False:
        rep.violation("Nodes may get public IPs (nodeAssociatePublicIpAddress is not false).")

"""The EKS cluster and its node groups,
asserted over `python -m infra.plan --json` (mocked engine): inputs exactly as the
engine and a policy pack receive them (camelCase, secrets masked, references as URNs).
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PRIMARY, STANDBY, Plan


@pytest.mark.parametrize(("role", "region"), [("primary", PRIMARY), ("standby", STANDBY)])
def test_eks_cluster_is_private_logged_encrypted_and_api_authenticated(
    plan: Plan, role: str, region: str
) -> None:
    eks = plan.named(f"{role}-cluster-eks")
    assert eks["region"] == region
    i = eks["inputs"]
    assert i["authenticationMode"] == "API"
    assert i["createOidcProvider"] is True
    assert set(i["enabledClusterLogTypes"]) >= {"api", "audit", "authenticator"}
    assert i["endpointPrivateAccess"] is True
    assert i["endpointPublicAccess"] is False  # the safe default
    assert i["vpcCniOptions"]["enableNetworkPolicy"] is True
    assert i["version"] == "1.35"
    groups = node_groups(plan, region)
    # one group per AZ: the autoscaler adds a node in the zone a pending pod needs
    assert sorted(s for g in groups for s in g["subnetIds"]) == sorted(i["privateSubnetIds"])
    assert all(len(g["subnetIds"]) == 1 for g in groups) and len(groups) == 3
    assert all(g["launchTemplate"]["id"].startswith("lt-") for g in groups)
    assert sum(g["scalingConfig"]["minSize"] for g in groups) >= (3 if role == "primary" else 1)
    # the deployer reaches the private endpoint from its configured network only
    (rule,) = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", region)
    assert rule["inputs"]["cidrIpv4"] == "10.99.0.0/16" and rule["inputs"]["fromPort"] == 443


def node_groups(plan: Plan, region: str) -> list[dict[str, Any]]:
    return [g["inputs"] for g in plan.of_type("eks:index:ManagedNodeGroup", region)]


def test_standby_node_groups_are_smaller(plan: Plan) -> None:
    def total(region: str) -> float:
        return sum(g["scalingConfig"]["desiredSize"] for g in node_groups(plan, region))

    assert total(STANDBY) <= total(PRIMARY)

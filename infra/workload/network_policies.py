"""NetworkPolicies: deny by default, then exactly the traffic each process needs."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

import contract
from infra.workload.args import (
    API,
    HEALTH_PORT,
    HTTP_PORT,
    INTEGRATOR,
    JANITOR,
    MONITORING_NAMESPACE,
    RELAY,
    WORKER,
    manifest,
)
from infra.workload.pods import PodTemplates


def network_policies(pods: PodTemplates, name: str, opts: pulumi.ResourceOptions) -> None:
    a = pods.args

    def policy(resource: str, policy_name: str, spec: dict[str, Any]) -> None:
        k8s.networking.v1.NetworkPolicy(
            resource,
            **manifest(metadata={"name": policy_name, "namespace": pods.namespace}, spec=spec),
            opts=opts,
        )

    data_stores = [{"ipBlock": {"cidr": c}} for c in a.data_cidrs]
    policy(f"{name}-default-deny", "default-deny",
           {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    policy(f"{name}-api-ingress", "api-ingress", {
        "podSelector": {"matchLabels": {contract.APP_LABEL: API}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                # the ALB (target type ip) and Prometheus
                "from": [{"ipBlock": {"cidr": c}} for c in a.alb_source_cidrs]
                + [_namespace_peer(MONITORING_NAMESPACE)],
                "ports": [{"protocol": "TCP", "port": HTTP_PORT}],
            }
        ],
    })
    policy(f"{name}-background-metrics", "background-metrics", {
        "podSelector": {
            "matchExpressions": [
                {
                    "key": contract.APP_LABEL,
                    "operator": "In",
                    "values": [RELAY, WORKER, INTEGRATOR, JANITOR],
                }
            ]
        },
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [_namespace_peer(MONITORING_NAMESPACE)],
                "ports": [{"protocol": "TCP", "port": HEALTH_PORT}],
            }
        ],
    })
    # Redis (the rate limiter) for the API alone; PostgreSQL for every process, below.
    policy(f"{name}-api-redis-egress", "api-redis-egress", {
        "podSelector": {"matchLabels": {contract.APP_LABEL: API}},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": data_stores, "ports": [{"protocol": "TCP", "port": 6379}]},
        ],
    })
    policy(f"{name}-egress", "service-egress", {
        "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "investment-orders"}},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [_namespace_peer("kube-system")],
                "ports": [
                    {"protocol": "UDP", "port": 53},
                    {"protocol": "TCP", "port": 53},
                ],
            },
            {"to": data_stores, "ports": [{"protocol": "TCP", "port": 5432}]},
            # AWS APIs (SQS, STS, KMS via the VPC endpoints) and the OTLP collector
            {
                "ports": [
                    {"protocol": "TCP", "port": 443},
                    {"protocol": "TCP", "port": 4317},
                    {"protocol": "TCP", "port": 4318},
                ]
            },
        ],
    })


def _namespace_peer(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}

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
    k8s.networking.v1.NetworkPolicy(
        f"{name}-default-deny",
        **manifest(
            metadata={"name": "default-deny", "namespace": pods.namespace},
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        ),
        opts=opts,
    )
    k8s.networking.v1.NetworkPolicy(
        f"{name}-api-ingress",
        **manifest(
            metadata={"name": "api-ingress", "namespace": pods.namespace},
            spec={
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
            },
        ),
        opts=opts,
    )
    k8s.networking.v1.NetworkPolicy(
        f"{name}-background-metrics",
        **manifest(
            metadata={"name": "background-metrics", "namespace": pods.namespace},
            spec={
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
            },
        ),
        opts=opts,
    )
    # PostgreSQL for every process; Redis (the rate limiter) for the API alone, below.
    data_ports = [{"protocol": "TCP", "port": 5432}]
    k8s.networking.v1.NetworkPolicy(
        f"{name}-api-redis-egress",
        **manifest(
            metadata={"name": "api-redis-egress", "namespace": pods.namespace},
            spec={
                "podSelector": {"matchLabels": {contract.APP_LABEL: API}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": c}} for c in a.data_cidrs],
                        "ports": [{"protocol": "TCP", "port": 6379}],
                    }
                ],
            },
        ),
        opts=opts,
    )
    k8s.networking.v1.NetworkPolicy(
        f"{name}-egress",
        **manifest(
            metadata={"name": "service-egress", "namespace": pods.namespace},
            spec={
                "podSelector": {
                    "matchLabels": {"app.kubernetes.io/part-of": "investment-orders"}
                },
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [_namespace_peer("kube-system")],
                        "ports": [
                            {"protocol": "UDP", "port": 53},
                            {"protocol": "TCP", "port": 53},
                        ],
                    },
                    {
                        "to": [{"ipBlock": {"cidr": c}} for c in a.data_cidrs],
                        "ports": data_ports,
                    },
                    # AWS APIs (SQS, STS, KMS via the VPC endpoints) and the OTLP collector
                    {
                        "ports": [
                            {"protocol": "TCP", "port": 443},
                            {"protocol": "TCP", "port": 4317},
                            {"protocol": "TCP", "port": 4318},
                        ]
                    },
                ],
            },
        ),
        opts=opts,
    )


def _namespace_peer(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}

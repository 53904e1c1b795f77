"""The Kubernetes workloads of the compliant baseline plan: the API Rollout (primary and
warm standby), the worker Deployment, the migration Job, their PDBs, autoscaler and Ingress.
"""

from __future__ import annotations

from typing import Any

from .fixtures import APP_LABELS, CERT, IMAGE, LABELS, STANDBY, TLS13, _e


def pod_template() -> dict[str, Any]:
    return {
        "metadata": {"labels": dict(LABELS)},
        "spec": {
            "serviceAccountName": "orders-service",
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": dict(LABELS)},
                }
            ],
            "containers": [
                {
                    "name": "api",
                    "image": IMAGE,
                    "ports": [{"name": "http", "containerPort": 8000}],
                    "readinessProbe": {"httpGet": {"path": "/health/ready", "port": 8000}},
                    "livenessProbe": {"httpGet": {"path": "/health/live", "port": 8000}},
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "256Mi"},
                        "limits": {"cpu": "1", "memory": "512Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def worker_template() -> dict[str, Any]:
    template = pod_template()
    template["metadata"]["labels"] = {"app": "orders-worker"}
    spread = template["spec"]["topologySpreadConstraints"][0]
    spread["labelSelector"] = {"matchLabels": {"app": "orders-worker"}}
    container = template["spec"]["containers"][0]
    container["name"] = "worker"
    for key in ("ports", "readinessProbe"):
        del container[key]
    container["livenessProbe"] = {"exec": {"command": ["python", "-m", "service", "heartbeat"]}}
    return template


def kubernetes_workloads() -> list[dict[str, Any]]:
    return [
        _e(
            "kubernetes:argoproj.io/v1alpha1:Rollout",
            "orders-api",
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "metadata": {"name": "orders-api", "namespace": "orders", "labels": APP_LABELS},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": dict(LABELS)},
                    "template": pod_template(),
                    "strategy": {"canary": {"steps": [{"setWeight": 20}]}},
                },
            },
        ),
        _e(
            "kubernetes:policy/v1:PodDisruptionBudget",
            "orders-api-pdb",
            {
                "metadata": {"name": "orders-api", "namespace": "orders"},
                "spec": {"minAvailable": 2, "selector": {"matchLabels": dict(LABELS)}},
            },
        ),
        _e(
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            "orders-api-hpa",
            {
                "metadata": {"name": "orders-api", "namespace": "orders"},
                "spec": {
                    "minReplicas": 3,
                    "maxReplicas": 12,
                    "scaleTargetRef": {
                        "apiVersion": "argoproj.io/v1alpha1",
                        "kind": "Rollout",
                        "name": "orders-api",
                    },
                },
            },
        ),
        _e(
            "kubernetes:networking.k8s.io/v1:Ingress",
            "orders-api-ingress",
            {
                "metadata": {
                    "name": "orders-api",
                    "namespace": "orders",
                    "annotations": {
                        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
                        "alb.ingress.kubernetes.io/ssl-redirect": "443",
                        "alb.ingress.kubernetes.io/certificate-arn": CERT,
                        "alb.ingress.kubernetes.io/ssl-policy": TLS13,
                        "alb.ingress.kubernetes.io/scheme": "internet-facing",
                    },
                },
                "spec": {"ingressClassName": "alb"},
            },
        ),
        _e(
            "kubernetes:argoproj.io/v1alpha1:Rollout",
            "orders-api-standby",
            {
                "metadata": {
                    "name": "orders-api-standby",
                    "namespace": "orders",
                    "labels": {"orders/region-role": "standby", **APP_LABELS},
                },
                "spec": {"replicas": 1, "template": pod_template()},
            },
            STANDBY,
        ),
        _e(
            "kubernetes:policy/v1:PodDisruptionBudget",
            "orders-api-standby-pdb",
            {
                "metadata": {"name": "orders-api-standby", "namespace": "orders"},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(LABELS)}},
            },
            STANDBY,
        ),
        _e(
            "kubernetes:apps/v1:Deployment",
            "orders-worker",
            {
                "metadata": {"name": "orders-worker", "namespace": "orders", "labels": APP_LABELS},
                "spec": {"replicas": 2, "template": worker_template()},
            },
        ),
        _e(
            "kubernetes:policy/v1:PodDisruptionBudget",
            "orders-worker-pdb",
            {
                "metadata": {"name": "orders-worker", "namespace": "orders"},
                "spec": {
                    "maxUnavailable": 1,
                    "selector": {"matchLabels": {"app": "orders-worker"}},
                },
            },
        ),
        _e(
            "kubernetes:batch/v1:Job",
            "migrate",
            {
                "metadata": {"name": "migrate", "namespace": "orders", "labels": APP_LABELS},
                "spec": {
                    "template": {
                        "spec": {
                            "securityContext": {
                                "runAsNonRoot": True,
                                "runAsUser": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "restartPolicy": "Never",
                            "serviceAccountName": "orders-service",
                            "automountServiceAccountToken": False,
                            "containers": [
                                {
                                    "name": "migrate",
                                    "image": IMAGE,
                                    "securityContext": {
                                        "allowPrivilegeEscalation": False,
                                        "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]},
                                    },
                                    "resources": {
                                        "requests": {"cpu": "100m", "memory": "128Mi"},
                                        "limits": {"cpu": "500m", "memory": "256Mi"},
                                    },
                                }
                            ],
                        }
                    }
                },
            },
        ),
    ]

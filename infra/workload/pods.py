"""Pod templates: one image by digest, the ORDERS_* environment, locked-down containers.

Pods spread over the zones, run non-root with a read-only root filesystem, and shut down
in an order that loses no request: the preStop sleep keeps serving while the ALB
deregisters the pod, then SIGTERM fails readiness and drains.
"""

from __future__ import annotations

from typing import Any

import pulumi

import contract
from infra.registry import regional_repository
from infra.workload.args import (
    BOOTSTRAP,
    HEALTH_PORT,
    HTTP_PORT,
    INTEGRATOR,
    JANITOR,
    MIGRATE,
    RDS_CA_BUNDLE,
    RELAY,
    SECRET_FILES,
    SECRET_NAME,
    SECRETS_DIR,
    SERVICE_ACCOUNT,
    WORKER,
    WorkloadArgs,
)


class PodTemplates:
    """Builds the pod templates of every process of the service from the component's args."""

    def __init__(self, args: WorkloadArgs) -> None:
        self.args = args
        self.namespace = args.settings.namespace

    @property
    def image(self) -> str:
        """By digest: the tag is kept for people, the digest decides what runs."""
        s = self.args.settings
        repository = regional_repository(s.image_repository, self.args.region.region)
        return f"{repository}:{s.image_tag}@{s.image_digest}"

    def labels(self, app: str) -> dict[str, str]:
        return {
            contract.APP_LABEL: app,
            "app.kubernetes.io/part-of": "investment-orders",
            "orders/region-role": self.args.region.role,
        }

    def env(self, process: str) -> list[dict[str, Any]]:
        a = self.args
        s = a.settings
        database_url = pulumi.Output.concat(
            "postgresql://",
            a.database_user,
            "@",
            a.database_host,
            ":5432/",
            a.database_name,
            "?sslmode=verify-full",
        )
        redis_url = pulumi.Output.concat("rediss://", a.redis_host, ":6379/0")
        env: list[dict[str, Any]] = [
            {"name": "ORDERS_DATABASE_URL", "value": database_url},
            {"name": "ORDERS_DATABASE_IAM_AUTH", "value": "true"},
            {"name": "ORDERS_DATABASE_SSL_ROOT_CERT", "value": RDS_CA_BUNDLE},
            {"name": "ORDERS_AWS_REGION", "value": a.region.region},
            {"name": "ORDERS_REDIS_URL", "value": redis_url},
            {"name": "ORDERS_QUEUE_URL", "value": a.queue_url},
            *(
                {"name": variable, "value": f"{SECRETS_DIR}/{key}"}
                for variable, key in SECRET_FILES.items()
            ),
            {"name": "ORDERS_JWT_ISSUER", "value": s.jwt_issuer},
            {"name": "ORDERS_JWT_AUDIENCE", "value": s.jwt_audience},
            {"name": "ORDERS_SHUTDOWN_DRAIN_S", "value": str(s.drain_seconds)},
        ]
        if s.otel_endpoint:  # only when a collector runs: no exporter retrying into a void
            env += [
                {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": s.otel_endpoint},
                {"name": "OTEL_SERVICE_NAME", "value": process},
                {
                    "name": "OTEL_RESOURCE_ATTRIBUTES",
                    "value": f"deployment.environment={a.prefix},cloud.region={a.region.region}",
                },
            ]
        return env

    def container(self, app: str, command: list[str], serves_http: bool) -> dict[str, Any]:
        s = self.args.settings
        container: dict[str, Any] = {
            "name": app,
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["python", "-m", "service", *command],
            "env": self.env(app),
            "resources": {
                "requests": {"cpu": s.cpu_request, "memory": s.memory_request},
                "limits": {"cpu": s.cpu_limit, "memory": s.memory_limit},
            },
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "volumeMounts": [
                {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 (emptyDir)
                {"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True},
            ],
        }
        if serves_http:
            http_get = {"port": "http", "scheme": "HTTP"}
            container.update(
                {
                    "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
                    "startupProbe": {
                        "httpGet": {**http_get, "path": "/health/live"},
                        "periodSeconds": 2,
                        "failureThreshold": 30,
                    },
                    # Serving, not "takes orders": a warm standby's pods must be Ready (the
                    # rollout waits for it) although their database is read-only; the ALB
                    # and Route 53 ask /health/ready whether the region takes orders.
                    "readinessProbe": {
                        "httpGet": {**http_get, "path": "/health/serving"},
                        "periodSeconds": 5,
                        "timeoutSeconds": 2,
                        "failureThreshold": 2,
                    },
                    "livenessProbe": {
                        "httpGet": {**http_get, "path": "/health/live"},
                        "periodSeconds": 10,
                        "timeoutSeconds": 2,
                        "failureThreshold": 3,
                    },
                    # Native sleep action: no shell or sleep binary needed in the image.
                    "lifecycle": {"preStop": {"sleep": {"seconds": s.pre_stop_sleep_seconds}}},
                }
            )
        elif app in (RELAY, WORKER, INTEGRATOR, JANITOR):
            bind_all = "0.0.0.0"  # noqa: S104 - the pod's own network namespace
            container["command"] += [
                "--health-host",
                bind_all,
                "--health-port",
                str(HEALTH_PORT),
            ]
            container.update(
                {
                    "ports": [{"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"}],
                    # A rolling update waits for the new pod's loop to turn before it
                    # retires an old one (maxUnavailable 0).
                    "readinessProbe": {
                        "httpGet": {"port": "health", "path": "/health/live", "scheme": "HTTP"},
                        "periodSeconds": 5,
                        "timeoutSeconds": 2,
                        "failureThreshold": 2,
                    },
                    # Fails when the loop has not turned for --stall-seconds (a wedged
                    # process), not merely when it has exited.
                    "livenessProbe": {
                        "httpGet": {"port": "health", "path": "/health/live", "scheme": "HTTP"},
                        "initialDelaySeconds": 10,
                        "periodSeconds": 10,
                        "timeoutSeconds": 2,
                        "failureThreshold": 3,
                    },
                }
            )
        return container

    def pod_spec(
        self, app: str, command: list[str], serves_http: bool, hash_label: str | None
    ) -> dict[str, Any]:
        labels = self.labels(app)
        spread = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {contract.APP_LABEL: app}},
            },
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {contract.APP_LABEL: app}},
            },
        ]
        if hash_label:
            # Spread each revision on its own, so a canary cannot pile into one zone.
            for constraint in spread:
                constraint["matchLabelKeys"] = [hash_label]
        return {
            "metadata": {
                "labels": labels,
                "annotations": {
                    "prometheus.io/scrape": "false" if app in (MIGRATE, BOOTSTRAP) else "true",
                    "prometheus.io/port": str(HTTP_PORT if serves_http else HEALTH_PORT),
                    "prometheus.io/path": "/metrics",
                },
            },
            "spec": {
                "serviceAccountName": SERVICE_ACCOUNT,
                "automountServiceAccountToken": False,
                "terminationGracePeriodSeconds": self.args.settings.termination_grace_seconds,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "runAsGroup": 10001,
                    "fsGroup": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "topologySpreadConstraints": spread if hash_label else [],
                "containers": [self.container(app, command, serves_http)],
                "volumes": [
                    {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    # group-readable: the pods run with fsGroup 10001
                    {
                        "name": "secrets",
                        "secret": {"secretName": SECRET_NAME, "defaultMode": 0o440},
                    },
                ],
            },
        }

"""The order service on Kubernetes: API as an Argo Rollout, relay and worker, migrations.

The API is a canary `Rollout` whose background analysis queries Prometheus for the
canary pods' 5xx rate and P99 latency and aborts (rolls back) on a breach. Pods spread
over the zones, run non-root with a read-only root filesystem, get their AWS access from
an IRSA role, and shut down in an order that loses no request: the preStop sleep keeps
serving while the ALB deregisters the pod, then SIGTERM fails readiness and drains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

import contract
from infra.audit_log import INTEGRATOR_SERVICE_ACCOUNT, IntegratorTarget
from infra.common import COMPONENT_PREFIX, child, irsa_role, policy_document
from infra.config import RegionConfig, SloConfig, WorkloadConfig
from infra.edge import ACCESS_LOG_PREFIX
from infra.registry import regional_repository

HTTP_PORT = 8000
# relay and worker: /health/live (a heartbeat of their loop) and /metrics
HEALTH_PORT = 9100
API, RELAY, WORKER, MIGRATE = (
    contract.API_APP, contract.RELAY_APP, contract.WORKER_APP, contract.MIGRATE_APP)
INTEGRATOR = "orders-integrator"
BOOTSTRAP = "orders-bootstrap-role"
BOOTSTRAP_SCRIPT = Path(__file__).resolve().parent / "bootstrap_role.py"
BOOTSTRAP_SERVICE_ACCOUNT = "orders-bootstrap"  # may read the master secret, nothing else
# Secrets reach the processes as files (ORDERS_*_FILE), never as environment variables.
SECRETS_DIR = "/var/run/secrets/orders"
SECRET_FILES = {
    "ORDERS_REDIS_PASSWORD_FILE": "redis-password",
    "ORDERS_JWT_SECRET_FILE": "jwt-secret",
}
SERVICE_ACCOUNT = "orders-service"
SECRET_NAME = "orders-secrets"  # noqa: S105 (the Kubernetes Secret's name)
RDS_CA_BUNDLE = "/etc/ssl/rds/global-bundle.pem"  # baked into the service image
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ANALYSIS_TEMPLATE = "orders-api-canary"
ROLLOUT_HASH_LABEL = "rollouts-pod-template-hash"
DEPLOYMENT_HASH_LABEL = "pod-template-hash"
MONITORING_NAMESPACE = "monitoring"


def manifest(**fields: Any) -> dict[str, Any]:
    """Resource arguments with Kubernetes fields spelt as the API spells them (camelCase).

    The SDK sends keys it has no snake_case mapping for unchanged, so the manifests read
    like the Kubernetes documentation; its TypedDicts only know snake_case keys, so the
    arguments are passed as `**manifest(...)` rather than checked against them.
    """
    return fields


@dataclass(frozen=True)
class WorkloadArgs:
    prefix: str
    region: RegionConfig
    settings: WorkloadConfig
    slo: SloConfig
    database_host: pulumi.Input[str]
    database_name: str
    database_user: str
    database_resource_id: pulumi.Input[str]
    redis_host: pulumi.Input[str]
    redis_auth_token: pulumi.Input[str]
    queue_url: pulumi.Input[str]
    queue_arn: pulumi.Input[str]
    queue_kms_key_arn: pulumi.Input[str]
    jwt_secret: pulumi.Input[str]
    account_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    certificate_arn: pulumi.Input[str]
    alb_name: str
    api_fqdn: str
    alb_source_cidrs: Sequence[str]  # the public subnets the ALB's nodes live in
    data_cidrs: Sequence[str]  # isolated subnets: PostgreSQL and Redis
    prometheus_url: str
    run_migrations: bool
    web_acl_arn: pulumi.Input[str]
    access_log_bucket: pulumi.Input[str]
    # Primary: the Aurora master secret (rotated) the role bootstrap reads at run time.
    master_secret_arn: pulumi.Input[str] | None = None
    master_secret_kms_key_arn: pulumi.Input[str] | None = None
    addons: Sequence[pulumi.Resource] = ()
    ingress_after: Sequence[pulumi.Resource] = ()  # the access-log bucket policy
    database_ready: Sequence[pulumi.Resource] = ()  # the writer exists: the Jobs can connect
    audit: IntegratorTarget | None = None  # runs the audit log integrator when set


class Workload(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Workload", name, None, opts)
        self.args = args
        settings, region = args.settings, args.region
        ns_name = settings.namespace

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            **manifest(
                metadata={
                    "name": ns_name,
                    "labels": {
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                    },
                },
            ),
            opts=child(self),
        )
        in_ns = child(self, depends_on=[namespace])
        self.namespace = ns_name

        role = irsa_role(
            f"{name}-service-role",
            self,
            args.oidc_provider_arn,
            args.oidc_provider_url,
            ns_name,
            SERVICE_ACCOUNT,
            pulumi.Output.all(
                args.queue_arn, args.queue_kms_key_arn, args.account_id, args.database_resource_id
            ).apply(lambda v: _service_policy(region.region, args.database_user, *map(str, v))),
            description=f"order service pods ({region.role})",
        )
        k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            **manifest(
                metadata={
                    "name": SERVICE_ACCOUNT,
                    "namespace": ns_name,
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                },
                # the IRSA webhook projects its own token; the API token is not needed
                automount_service_account_token=False,
            ),
            opts=in_ns,
        )
        k8s.core.v1.Secret(
            f"{name}-secrets",
            **manifest(
                metadata={"name": SECRET_NAME, "namespace": ns_name},
                type="Opaque",
                string_data={
                    "redis-password": pulumi.Output.secret(args.redis_auth_token),
                    "jwt-secret": pulumi.Output.secret(args.jwt_secret),
                },
            ),
            opts=in_ns,
        )

        after_addons = child(self, depends_on=[namespace, *args.addons])
        migrations: list[pulumi.Resource] = []
        if args.run_migrations:
            # The role must exist before the migrations connect as it.
            bootstrap = self._bootstrap_job(
                name, child(self, depends_on=[namespace, *args.database_ready])
            )
            migrations.append(
                self._migration_job(name, child(self, depends_on=[namespace, bootstrap]))
            )
        after_migrations = child(self, depends_on=[namespace, *args.addons, *migrations])

        self._analysis_template(name, after_addons)
        self._api(name, after_migrations)
        self._background_processes(name, after_migrations)
        if args.audit is not None:
            self._integrator(name, args.audit, after_migrations)
        self._network_policies(name, in_ns)

        self.ingress = self._ingress(
            name, child(self, depends_on=[namespace, *args.addons, *args.ingress_after])
        )
        self.load_balancer_hostname: pulumi.Output[str] = self.ingress.status.apply(
            _load_balancer_hostname
        )
        self.alb_name = args.alb_name
        self.register_outputs({"loadBalancerHostname": self.load_balancer_hostname})

    # ------------------------------------------------------------------ pod building

    @property
    def image(self) -> str:
        """By digest: the tag is kept for people, the digest decides what runs."""
        s = self.args.settings
        repository = regional_repository(s.image_repository, self.args.region.region)
        return f"{repository}:{s.image_tag}@{s.image_digest}"

    def _labels(self, app: str) -> dict[str, str]:
        return {
            contract.APP_LABEL: app,
            "app.kubernetes.io/part-of": "investment-orders",
            "orders/region-role": self.args.region.role,
        }

    def _env(self, process: str) -> list[dict[str, Any]]:
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

    def _container(self, app: str, command: list[str], serves_http: bool) -> dict[str, Any]:
        s = self.args.settings
        container: dict[str, Any] = {
            "name": app,
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["python", "-m", "service", *command],
            "env": self._env(app),
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
        elif app in (RELAY, WORKER, INTEGRATOR):
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

    def _pod_spec(
        self, app: str, command: list[str], serves_http: bool, hash_label: str | None
    ) -> dict[str, Any]:
        labels = self._labels(app)
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
                "containers": [self._container(app, command, serves_http)],
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

    # ------------------------------------------------------------------ resources

    def _migration_job(self, name: str, opts: pulumi.ResourceOptions) -> k8s.batch.v1.Job:
        # Job specs are immutable: a new image replaces the Job, which reruns the
        # migrations before the new API pods roll out (they depend on this Job).
        template = self._pod_spec(MIGRATE, ["migrate"], serves_http=False, hash_label=None)
        template["spec"]["restartPolicy"] = "Never"
        return k8s.batch.v1.Job(
            f"{name}-migrate",
            **manifest(
                metadata={"namespace": self.namespace, "labels": self._labels(MIGRATE)},
                spec={"backoffLimit": 2, "activeDeadlineSeconds": 900, "template": template},
            ),
            opts=opts,
        )

    def _bootstrap_job(self, name: str, opts: pulumi.ResourceOptions) -> k8s.batch.v1.Job:
        """Create the application role as the master user (idempotent SQL from
        infra/bootstrap_role.py, mounted from a ConfigMap). The Job reads the master secret's
        current value itself, through its own IRSA role: no password copy in the cluster."""
        a = self.args
        if a.master_secret_arn is None or a.master_secret_kms_key_arn is None:
            raise ValueError("the primary's master secret is needed to bootstrap the role")
        region = a.region.region
        role = irsa_role(
            f"{name}-bootstrap-role-iam",
            self,
            a.oidc_provider_arn,
            a.oidc_provider_url,
            self.namespace,
            BOOTSTRAP_SERVICE_ACCOUNT,
            pulumi.Output.all(a.master_secret_arn, a.master_secret_kms_key_arn).apply(
                lambda v: bootstrap_policy(region, str(v[0]), str(v[1]))
            ),
            description="role bootstrap Job: reads the Aurora master secret",
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-bootstrap-account",
            **manifest(
                metadata={
                    "name": BOOTSTRAP_SERVICE_ACCOUNT,
                    "namespace": self.namespace,
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                },
                automount_service_account_token=False,
            ),
            opts=opts,
        )
        script = k8s.core.v1.ConfigMap(
            f"{name}-bootstrap-script",
            **manifest(
                metadata={"name": BOOTSTRAP, "namespace": self.namespace},
                data={"bootstrap_role.py": BOOTSTRAP_SCRIPT.read_text()},
            ),
            opts=opts,
        )
        template = self._pod_spec(BOOTSTRAP, [], serves_http=False, hash_label=None)
        pod = template["spec"]
        pod["restartPolicy"] = "Never"
        pod["serviceAccountName"] = BOOTSTRAP_SERVICE_ACCOUNT
        (container,) = pod["containers"]
        container["command"] = ["python", "/bootstrap/bootstrap_role.py"]
        container["env"] = [
            {"name": "ORDERS_BOOTSTRAP_HOST", "value": a.database_host},
            {"name": "ORDERS_BOOTSTRAP_DATABASE", "value": a.database_name},
            {"name": "ORDERS_BOOTSTRAP_REGION", "value": region},
            {"name": "ORDERS_BOOTSTRAP_MASTER_SECRET_ARN", "value": a.master_secret_arn},
            {"name": "ORDERS_BOOTSTRAP_APP_USER", "value": a.database_user},
            {"name": "ORDERS_BOOTSTRAP_SSL_ROOT_CERT", "value": RDS_CA_BUNDLE},
        ]
        container["volumeMounts"] = [
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 (emptyDir)
            {"name": "script", "mountPath": "/bootstrap", "readOnly": True},
        ]
        pod["volumes"] = [
            {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
            {"name": "script", "configMap": {"name": BOOTSTRAP, "defaultMode": 0o444}},
        ]
        return k8s.batch.v1.Job(
            f"{name}-bootstrap-role",
            **manifest(
                metadata={"namespace": self.namespace, "labels": self._labels(BOOTSTRAP)},
                spec={"backoffLimit": 4, "activeDeadlineSeconds": 600, "template": template},
            ),
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[account, script])
            ),
        )

    def _analysis_template(self, name: str, opts: pulumi.ResourceOptions) -> None:
        slo = self.args.slo
        selector = (
            f'namespace="{self.namespace}",app_kubernetes_io_name="{API}",'
            'rollouts_pod_template_hash="{{args.canary-hash}}"'
        )
        window = "[2m]"
        # Order traffic only (not probes or scrapes); no 5xx series at all is a 0 % error
        # rate, while no traffic at all stays "no data" (the denominator is empty).
        orders = f'{selector},route=~"/v1/.+"'
        error_rate = (
            f'(sum(rate(http_request_duration_seconds_count{{{orders},status=~"5.."}}{window}))'
            " or vector(0))"
            f" / sum(rate(http_request_duration_seconds_count{{{orders}}}{window}))"
        )
        p99 = (
            "histogram_quantile(0.99, sum by (le) "
            f"(rate(http_request_duration_seconds_bucket{{{selector}}}{window})))"
        )
        # No data (an empty vector or NaN: no canary traffic, or Prometheus not scraping)
        # is never a pass: the measurement fails, and a scrape outage aborts the canary
        # instead of promoting it unanalysed.
        has_data = "len(result) > 0 && !isNaN(result[0])"
        prometheus = self.args.prometheus_url
        k8s.apiextensions.CustomResource(
            f"{name}-analysis",
            api_version="argoproj.io/v1alpha1",
            kind="AnalysisTemplate",
            metadata={"name": ANALYSIS_TEMPLATE, "namespace": self.namespace},
            spec={
                "args": [{"name": "canary-hash"}],
                "metrics": [
                    {
                        "name": "error-rate",
                        "interval": "1m",
                        "initialDelay": "2m",  # a full rate() window of canary traffic
                        "failureLimit": 1,
                        "successCondition": (
                            f"{has_data} && result[0] <= {slo.error_rate_percent / 100:.4f}"
                        ),
                        "provider": {"prometheus": {"address": prometheus, "query": error_rate}},
                    },
                    {
                        "name": "p99-latency",
                        "interval": "1m",
                        "initialDelay": "2m",  # a full rate() window of canary traffic
                        "failureLimit": 1,
                        "successCondition": (
                            f"{has_data} && result[0] <= {slo.p99_latency_ms / 1000:.3f}"
                        ),
                        "provider": {"prometheus": {"address": prometheus, "query": p99}},
                    },
                ],
            },
            opts=opts,
        )

    def _api(self, name: str, opts: pulumi.ResourceOptions) -> None:
        s, region = self.args.settings, self.args.region
        selector = {"matchLabels": {contract.APP_LABEL: API}}
        steps: list[dict[str, Any]] = []
        for weight in s.canary_weights:
            steps += [{"setWeight": weight}, {"pause": {"duration": f"{s.canary_pause_seconds}s"}}]
        k8s.apiextensions.CustomResource(
            f"{name}-api",
            api_version="argoproj.io/v1alpha1",
            kind="Rollout",
            metadata={
                "name": API,
                "namespace": self.namespace,
                "labels": self._labels(API),
                # make `pulumi up` fail when the canary is aborted instead of reporting success
                "annotations": {"pulumi.com/waitFor": "jsonpath={.status.phase}=Healthy"},
            },
            spec={
                "replicas": region.api_replicas,
                "revisionHistoryLimit": 5,
                "progressDeadlineSeconds": 600,
                "progressDeadlineAbort": True,
                "selector": selector,
                "template": self._pod_spec(
                    API,
                    ["serve", "--host", "0.0.0.0", "--port", str(HTTP_PORT)],  # noqa: S104
                    serves_http=True,
                    hash_label=ROLLOUT_HASH_LABEL,
                ),
                "strategy": {
                    "canary": {
                        "maxSurge": "25%",
                        "maxUnavailable": 0,
                        "analysis": {
                            "templates": [{"templateName": ANALYSIS_TEMPLATE}],
                            "startingStep": 1,
                            "args": [
                                {
                                    "name": "canary-hash",
                                    "valueFrom": {"podTemplateHashValue": "Latest"},
                                }
                            ],
                        },
                        "steps": steps,
                    }
                },
            },
            # The HPA owns the replica count once the Rollout exists.
            opts=pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    ignore_changes=["spec.replicas"],
                    custom_timeouts=pulumi.CustomTimeouts(create="30m", update="30m"),
                ),
            ),
        )
        k8s.core.v1.Service(
            f"{name}-api-service",
            **manifest(
                metadata={"name": API, "namespace": self.namespace, "labels": self._labels(API)},
                spec={
                    "type": "ClusterIP",
                    "selector": {contract.APP_LABEL: API},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                },
            ),
            opts=opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-api-pdb",
            **manifest(
                metadata={"name": API, "namespace": self.namespace},
                # Unhealthy pods may always be evicted: a PDB must not pin nodes that host
                # only failing pods (a node-group upgrade or scale-down would stall).
                spec={"maxUnavailable": 1, "selector": selector,
                      "unhealthyPodEvictionPolicy": "AlwaysAllow"},
            ),
            opts=opts,
        )
        # The API's autoscaler (CPU, memory and P99 latency) is a KEDA ScaledObject:
        # infra/monitoring.py.

    def _background_processes(self, name: str, opts: pulumi.ResourceOptions) -> None:
        """Relay (outbox -> SQS; several may run) and worker (SQS consumer, KEDA-scaled).

        They serve no API: a liveness probe on their health port fails when their loop
        stops turning, and Prometheus scrapes /metrics there."""
        region, s = self.args.region, self.args.settings
        for app, command, replicas in (
            (RELAY, ["relay"], region.relay_replicas),
            (WORKER, ["worker"], region.worker_min_replicas),
        ):
            selector = {"matchLabels": {contract.APP_LABEL: app}}
            k8s.apps.v1.Deployment(
                f"{name}-{app.removeprefix('orders-')}",
                **manifest(
                    metadata={
                        "name": app,
                        "namespace": self.namespace,
                        "labels": self._labels(app),
                    },
                    spec={
                        "replicas": replicas,
                        "selector": selector,
                        "strategy": {
                            "type": "RollingUpdate",
                            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                        },
                        "template": self._pod_spec(
                            app, command, serves_http=False, hash_label=DEPLOYMENT_HASH_LABEL
                        ),
                    },
                ),
                opts=pulumi.ResourceOptions.merge(
                    opts,
                    # KEDA owns their replica count (queue depth, outbox backlog)
                    pulumi.ResourceOptions(ignore_changes=["spec.replicas"])
                    if app in (WORKER, RELAY)
                    else None,
                ),
            )
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-{app.removeprefix('orders-')}-pdb",
                **manifest(
                    metadata={"name": app, "namespace": self.namespace},
                    # Unhealthy pods may always be evicted: a PDB must not pin nodes that host
                # only failing pods (a node-group upgrade or scale-down would stall).
                spec={"maxUnavailable": 1, "selector": selector,
                      "unhealthyPodEvictionPolicy": "AlwaysAllow"},
                ),
                opts=opts,
            )

        keda_auth = k8s.apiextensions.CustomResource(
            f"{name}-keda-auth",
            api_version="keda.sh/v1alpha1",
            kind="TriggerAuthentication",
            metadata={"name": "orders-keda-aws", "namespace": self.namespace},
            # the KEDA operator's own IRSA role may read the queue's attributes
            spec={"podIdentity": {"provider": "aws"}},
            opts=opts,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-worker-scaler",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={"name": WORKER, "namespace": self.namespace},
            spec={
                "scaleTargetRef": {"name": WORKER},
                "minReplicaCount": region.worker_min_replicas,
                "maxReplicaCount": region.worker_max_replicas,
                "pollingInterval": 15,
                "cooldownPeriod": 300,
                "triggers": [
                    {
                        "type": "aws-sqs-queue",
                        "authenticationRef": {"name": "orders-keda-aws"},
                        "metadata": {
                            "queueURL": self.args.queue_url,
                            "queueLength": str(s.queue_messages_per_worker),
                            "awsRegion": region.region,
                            "scaleOnInFlight": "true",
                        },
                    }
                ],
            },
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[keda_auth])),
        )

    def _integrator(
        self, name: str, audit: IntegratorTarget, opts: pulumi.ResourceOptions
    ) -> None:
        """Two replicas, one elected (advisory lock); its own service account and role:
        sign with the KMS key, write checkpoints to the Object Lock bucket."""
        k8s.core.v1.ServiceAccount(
            f"{name}-integrator-account",
            **manifest(
                metadata={"name": INTEGRATOR_SERVICE_ACCOUNT, "namespace": self.namespace,
                          "annotations": {"eks.amazonaws.com/role-arn": audit.role_arn}},
                automount_service_account_token=False,
            ),
            opts=opts,
        )
        template = self._pod_spec(INTEGRATOR, ["integrator"], serves_http=False,
                                  hash_label=DEPLOYMENT_HASH_LABEL)
        template["spec"]["serviceAccountName"] = INTEGRATOR_SERVICE_ACCOUNT
        template["spec"]["containers"][0]["env"] += [
            {"name": "ORDERS_CHECKPOINT_BUCKET", "value": audit.bucket},
            {"name": "ORDERS_AUDIT_KMS_KEY_ID", "value": audit.signing_key_id},
            {"name": "ORDERS_AUDIT_LOG_ORIGIN", "value": audit.origin},
        ]
        selector = {"matchLabels": {"app.kubernetes.io/name": INTEGRATOR}}
        k8s.apps.v1.Deployment(
            f"{name}-integrator",
            **manifest(
                metadata={"name": INTEGRATOR, "namespace": self.namespace,
                          "labels": self._labels(INTEGRATOR)},
                spec={"replicas": 2, "selector": selector, "template": template,
                      "strategy": {"type": "RollingUpdate",
                                   "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}},
            ),
            opts=opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-integrator-pdb",
            **manifest(metadata={"name": INTEGRATOR, "namespace": self.namespace},
                       spec={"maxUnavailable": 1, "selector": selector}),
            opts=opts,
        )

    def _network_policies(self, name: str, opts: pulumi.ResourceOptions) -> None:
        a = self.args
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            **manifest(
                metadata={"name": "default-deny", "namespace": self.namespace},
                spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            ),
            opts=opts,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-api-ingress",
            **manifest(
                metadata={"name": "api-ingress", "namespace": self.namespace},
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
                metadata={"name": "background-metrics", "namespace": self.namespace},
                spec={
                    "podSelector": {
                        "matchExpressions": [
                            {
                                "key": contract.APP_LABEL,
                                "operator": "In",
                                "values": [RELAY, WORKER, INTEGRATOR],
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
        data_ports = [{"protocol": "TCP", "port": 5432}, {"protocol": "TCP", "port": 6379}]
        k8s.networking.v1.NetworkPolicy(
            f"{name}-egress",
            **manifest(
                metadata={"name": "service-egress", "namespace": self.namespace},
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

    def _ingress(self, name: str, opts: pulumi.ResourceOptions) -> k8s.networking.v1.Ingress:
        a, s = self.args, self.args.settings
        blocked = '{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"404"}}'  # noqa: E501
        annotations = {
            "alb.ingress.kubernetes.io/load-balancer-name": a.alb_name,
            "alb.ingress.kubernetes.io/scheme": "internet-facing",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
            "alb.ingress.kubernetes.io/certificate-arn": a.certificate_arn,
            "alb.ingress.kubernetes.io/ssl-policy": TLS_POLICY,
            "alb.ingress.kubernetes.io/healthcheck-path": "/health/ready",
            "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10",
            "alb.ingress.kubernetes.io/healthy-threshold-count": "2",
            "alb.ingress.kubernetes.io/unhealthy-threshold-count": "2",
            "alb.ingress.kubernetes.io/target-group-attributes": (
                "deregistration_delay.timeout_seconds="
                f"{s.drain_seconds + s.in_flight_timeout_seconds}"
            ),
            "alb.ingress.kubernetes.io/load-balancer-attributes": pulumi.Output.concat(
                "deletion_protection.enabled=true,"
                "routing.http.drop_invalid_header_fields.enabled=true,"
                "access_logs.s3.enabled=true,access_logs.s3.bucket=",
                a.access_log_bucket,
                f",access_logs.s3.prefix={ACCESS_LOG_PREFIX}",
            ),
            "alb.ingress.kubernetes.io/wafv2-acl-arn": a.web_acl_arn,
            # /metrics is for Prometheus inside the cluster, never for the internet
            "alb.ingress.kubernetes.io/actions.metrics-blocked": blocked,
        }
        backend = {"service": {"name": API, "port": {"number": 80}}}
        return k8s.networking.v1.Ingress(
            f"{name}-ingress",
            **manifest(
                metadata={"name": API, "namespace": self.namespace, "annotations": annotations},
                spec={
                    "ingressClassName": "alb",
                    # TLS terminates on the ALB with the ACM certificate from the annotation.
                    "tls": [{"hosts": [a.api_fqdn]}],
                    # No host match: Route 53 health checks reach the ALB by its own DNS name.
                    "rules": [
                        {
                            "http": {
                                "paths": [
                                    {
                                        "path": "/metrics",
                                        "pathType": "Prefix",
                                        "backend": {
                                            "service": {
                                                "name": "metrics-blocked",
                                                "port": {"name": "use-annotation"},
                                            }
                                        },
                                    },
                                    {"path": "/", "pathType": "Prefix", "backend": backend},
                                ]
                            }
                        }
                    ],
                },
            ),
            opts=opts,
        )


def _load_balancer_hostname(status: Any) -> str:
    """The ALB's DNS name, which the controller writes into the Ingress status."""
    try:
        return str(status.load_balancer.ingress[0].hostname)
    except (AttributeError, IndexError, TypeError) as missing:
        raise ValueError("the Ingress reports no load balancer address") from missing


def _namespace_peer(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


def _service_policy(
    region: str, db_user: str, queue_arn: str, queue_key_arn: str, account: str, db_resource_id: str
) -> str:
    """Least privilege for the service: its queue, the queue's key, IAM auth as one user."""
    return policy_document(
        [
            {
                "Sid": "OrdersQueue",
                "Effect": "Allow",
                "Action": [
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                "Resource": queue_arn,
            },
            {
                "Sid": "QueueEncryption",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": queue_key_arn,
            },
            {
                "Sid": "DatabaseIamAuth",
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": f"arn:aws:rds-db:{region}:{account}:dbuser:{db_resource_id}/{db_user}",
            },
        ]
    )


def bootstrap_policy(region: str, secret_arn: str, key_arn: str) -> str:
    """The role bootstrap reads one secret: its value, decrypted with its key only when
    Secrets Manager asks KMS on the Job's behalf."""
    return policy_document(
        [
            {
                "Sid": "ReadMasterSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            },
            {
                "Sid": "DecryptMasterSecret",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                },
            },
        ]
    )

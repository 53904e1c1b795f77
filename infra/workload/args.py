"""What the workload component is given, and the names and ports its objects share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

import contract
from infra.audit_log import IntegratorTarget
from infra.config import RegionConfig, SloConfig, WorkloadConfig

HTTP_PORT = 8000
# relay and worker: /health/live (a heartbeat of their loop) and /metrics
HEALTH_PORT = 9100
API, RELAY, WORKER, MIGRATE = (
    contract.API_APP, contract.RELAY_APP, contract.WORKER_APP, contract.MIGRATE_APP)
INTEGRATOR = "orders-integrator"
JANITOR = "orders-janitor"  # purges expired idempotency keys
BOOTSTRAP = "orders-bootstrap-role"
BOOTSTRAP_SCRIPT = Path(__file__).resolve().parent.parent / "bootstrap_role.py"
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

"""The service on Kubernetes (Rollout, pods, Jobs, Ingress, background processes),
asserted over `python -m infra.plan --json` (mocked engine): inputs exactly as the
engine and a policy pack receive them (camelCase, secrets masked, references as URNs).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import PRIMARY, STANDBY, Plan


def rollout(plan: Plan, role: str) -> dict[str, Any]:
    return plan.named(f"{role}-workload-api")["inputs"]


def api_container(plan: Plan, role: str) -> dict[str, Any]:
    (container,) = rollout(plan, role)["spec"]["template"]["spec"]["containers"]
    return container


def test_api_is_a_canary_rollout_with_prometheus_analysis(plan: Plan) -> None:
    r = rollout(plan, "primary")
    assert r["spec"]["replicas"] >= 3
    canary = r["spec"]["strategy"]["canary"]
    assert any("setWeight" in step for step in canary["steps"])
    (template_ref,) = canary["analysis"]["templates"]
    analysis = plan.named("primary-workload-analysis")["inputs"]
    assert analysis["metadata"]["name"] == template_ref["templateName"]
    metrics = {m["name"]: m for m in analysis["spec"]["metrics"]}
    assert set(metrics) == {"error-rate", "p99-latency"}
    for metric in metrics.values():
        assert metric["provider"]["prometheus"]["address"].startswith("http://prometheus-server.")
        assert metric["failureLimit"] >= 1
    assert "histogram_quantile(0.99" in metrics["p99-latency"]["provider"]["prometheus"]["query"]
    assert 'status=~"5.."' in metrics["error-rate"]["provider"]["prometheus"]["query"]


@pytest.mark.parametrize("role", ["primary", "standby"])
def test_api_pods_spread_probe_limit_and_run_locked_down(plan: Plan, role: str) -> None:
    spec = rollout(plan, role)["spec"]["template"]["spec"]
    zones = [
        c
        for c in spec["topologySpreadConstraints"]
        if c["topologyKey"] == "topology.kubernetes.io/zone"
    ]
    assert zones and zones[0]["whenUnsatisfiable"] == "DoNotSchedule"
    container = api_container(plan, role)
    # the kubelet asks "serving" (a read-only standby pod is Ready); the ALB asks "ready"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/serving"
    ingress = plan.named(f"{role}-workload-ingress")
    annotations = ingress["inputs"]["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["ports"][0]["containerPort"] == 8000
    assert set(container["resources"]) == {"requests", "limits"}
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["runAsNonRoot"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert spec["terminationGracePeriodSeconds"] > pre_stop
    assert container["command"][:4] == ["python", "-m", "service", "serve"]


def test_service_contract_environment(plan: Plan) -> None:
    env = {e["name"]: e for e in api_container(plan, "primary")["env"]}
    url = env["ORDERS_DATABASE_URL"]["value"]
    assert url.startswith("postgresql://orders_app@orders-prod-primary.cluster-")
    assert url.endswith(":5432/orders?sslmode=verify-full")
    assert env["ORDERS_DATABASE_IAM_AUTH"]["value"] == "true"
    assert env["ORDERS_DATABASE_SSL_ROOT_CERT"]["value"] == "/etc/ssl/rds/global-bundle.pem"
    assert env["ORDERS_AWS_REGION"]["value"] == PRIMARY
    assert env["ORDERS_REDIS_URL"]["value"].startswith("rediss://")
    assert env["ORDERS_REDIS_URL"]["value"].endswith(":6379/0")
    assert env["ORDERS_QUEUE_URL"]["value"].endswith("/orders-prod-orders.fifo")
    # secrets as mounted files, never as environment values
    assert "ORDERS_REDIS_PASSWORD" not in env and "ORDERS_JWT_SECRET" not in env
    mounts = {m["name"]: m["mountPath"] for m in api_container(plan, "primary")["volumeMounts"]}
    for variable, key in (
        ("ORDERS_REDIS_PASSWORD_FILE", "redis-password"),
        ("ORDERS_JWT_SECRET_FILE", "jwt-secret"),
    ):
        assert env[variable]["value"] == f"{mounts['secrets']}/{key}"
    volumes = {
        v["name"]: v for v in rollout(plan, "primary")["spec"]["template"]["spec"]["volumes"]
    }
    assert volumes["secrets"]["secret"]["secretName"] == "orders-secrets"
    for name in ("ORDERS_JWT_ISSUER", "ORDERS_JWT_AUDIENCE"):
        assert env[name]["value"]
    # no collector is deployed: no OTLP exporter configured
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env
    standby_env = {e["name"]: e for e in api_container(plan, "standby")["env"]}
    assert standby_env["ORDERS_AWS_REGION"]["value"] == STANDBY
    assert "orders-prod-standby.cluster-" in standby_env["ORDERS_DATABASE_URL"]["value"]


@pytest.mark.parametrize(("role", "region"), [("primary", PRIMARY), ("standby", STANDBY)])
def test_disruption_budget_autoscaling_and_network_policy(
    plan: Plan, role: str, region: str
) -> None:
    pdbs = {
        p["inputs"]["metadata"]["name"]
        for p in plan.of_type("kubernetes:policy/v1:PodDisruptionBudget", region)
    }
    integrator = {"orders-integrator"} if role == "primary" else set()
    assert pdbs == {"orders-api", "orders-relay", "orders-worker", "orders-janitor"} | integrator
    # one autoscaler per target: the API's is a KEDA ScaledObject, not a plain HPA
    assert plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", region) == []
    scalers = {
        s["inputs"]["metadata"]["name"]: s["inputs"]["spec"]
        for s in plan.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject", region)
    }
    assert set(scalers) == {"orders-api", "orders-relay", "orders-worker"}
    spec = scalers["orders-api"]
    assert spec["scaleTargetRef"]["kind"] == "Rollout"
    assert [t["type"] for t in spec["triggers"]] == ["cpu", "memory", "prometheus"]
    assert spec["minReplicaCount"] == rollout(plan, role)["spec"]["replicas"]
    (trigger,) = scalers["orders-worker"]["triggers"]
    assert trigger["type"] == "aws-sqs-queue"
    assert trigger["metadata"]["queueURL"].startswith(f"https://sqs.{region}.")
    policies = {
        p["inputs"]["metadata"]["name"]: p["inputs"]["spec"]
        for p in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy", region)
    }
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    # Only the API (its rate limiter) may reach Redis; every process reaches PostgreSQL.
    redis_egress = [
        (name, policy["podSelector"]) for name, policy in policies.items()
        for rule in policy.get("egress", []) for port in rule.get("ports", [])
        if port["port"] == 6379
    ]
    [(granting, selector)] = redis_egress
    assert granting == "api-redis-egress"
    api_labels = rollout(plan, role)["spec"]["template"]["metadata"]["labels"]
    assert selector["matchLabels"].items() <= api_labels.items()
    for deployment in plan.of_type("kubernetes:apps/v1:Deployment", region):
        labels = deployment["inputs"]["spec"]["template"]["metadata"]["labels"]
        assert not selector["matchLabels"].items() <= labels.items(), deployment["name"]
    assert any(
        port["port"] == 5432
        for rule in policies["service-egress"]["egress"] for port in rule.get("ports", [])
    )
    deployments = {
        d["inputs"]["metadata"]["name"]
        for d in plan.of_type("kubernetes:apps/v1:Deployment", region)
    }
    assert deployments == {"orders-relay", "orders-worker", "orders-janitor"} | integrator


def test_migrations_run_once_in_the_primary_only_after_the_role_bootstrap(plan: Plan) -> None:
    jobs = {j["name"]: j for j in plan.of_type("kubernetes:batch/v1:Job")}
    assert set(jobs) == {"primary-workload-migrate", "primary-workload-bootstrap-role"}
    migrate, bootstrap = jobs["primary-workload-migrate"], jobs["primary-workload-bootstrap-role"]
    (container,) = migrate["inputs"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "service", "migrate"]
    (boot,) = bootstrap["inputs"]["spec"]["template"]["spec"]["containers"]
    assert boot["command"] == ["python", "/bootstrap/bootstrap_role.py"]
    env = {e["name"]: e["value"] for e in boot["env"]}
    assert env["ORDERS_BOOTSTRAP_APP_USER"] == "orders_app"
    secret = plan.named("primary-database-master-secret")
    # The Job reads the (rotated) master secret when it runs, through its own account.
    assert env["ORDERS_BOOTSTRAP_MASTER_SECRET_ARN"] == secret["outputs"]["arn"]
    pod = bootstrap["inputs"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "orders-bootstrap"
    assert not any("secret" in volume for volume in pod["volumes"])


def test_no_master_password_reaches_the_cluster(plan: Plan) -> None:
    secrets = plan.of_type("kubernetes:core/v1:Secret")
    # Only the service's own secrets (Redis token, JWT key): no database credentials.
    assert sorted(s["name"] for s in secrets) == ["primary-workload-secrets", "standby-workload-secrets"]
    for secret in secrets:
        assert secret["inputs"]["metadata"]["name"] == "orders-secrets"


def test_the_bootstrap_role_reads_exactly_the_master_secret(plan: Plan) -> None:
    secret_arn = plan.named("primary-database-master-secret")["outputs"]["arn"]
    key_arn = plan.named("primary-keys-database")["outputs"]["arn"]
    account = plan.named("primary-workload-bootstrap-account")["inputs"]["metadata"]
    role = plan.named("primary-workload-bootstrap-role-iam")
    assert account["annotations"]["eks.amazonaws.com/role-arn"] == role["outputs"]["arn"]
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    (subject,) = [
        v for c in trust["Statement"][0]["Condition"].values() for k, v in c.items()
        if k.endswith(":sub")
    ]
    assert subject == "system:serviceaccount:orders:orders-bootstrap"
    policy = json.loads(plan.named("primary-workload-bootstrap-role-iam-policy")["inputs"]["policy"])
    assert policy["Statement"] == [
        {"Sid": "ReadMasterSecret", "Effect": "Allow",
         "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn},
        {"Sid": "DecryptMasterSecret", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": key_arn,
         "Condition": {"StringEquals": {
             "kms:ViaService": f"secretsmanager.{PRIMARY}.amazonaws.com"}}},
    ]


def test_alb_ingress_terminates_tls_and_hides_metrics(plan: Plan) -> None:
    ingress = plan.named("primary-workload-ingress")["inputs"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTPS":443}]'
    assert annotations["alb.ingress.kubernetes.io/ssl-policy"].startswith("ELBSecurityPolicy-TLS13")
    assert ingress["spec"]["ingressClassName"] == "alb"
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert (
        paths[0]["path"] == "/metrics"
        and paths[0]["backend"]["service"]["name"] == "metrics-blocked"
    )


def test_relay_and_worker_have_heartbeat_probes_and_are_scraped(plan: Plan) -> None:
    for name in ("primary-workload-relay", "primary-workload-worker", "standby-workload-worker",
                 "primary-workload-janitor"):
        template = plan.named(name)["inputs"]["spec"]["template"]
        (container,) = template["spec"]["containers"]
        assert container["command"][-4:] == ["--health-host", "0.0.0.0", "--health-port", "9100"]
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/health/live"
            assert container[probe]["httpGet"]["port"] == "health"
        assert template["metadata"]["annotations"]["prometheus.io/port"] == "9100"


def test_the_relays_events_per_message_come_from_config_and_parse_as_the_service_reads_them(
    plan: Plan,
) -> None:
    from service.__main__ import build_parser

    (container,) = plan.named("primary-workload-relay")["inputs"]["spec"]["template"]["spec"][
        "containers"]
    command = container["command"]
    arguments = command[command.index("relay"):]
    assert arguments[:3] == ["relay", "--events-per-message", "10"]  # Pulumi.prod.yaml
    assert build_parser().parse_args(arguments).events_per_message == 10

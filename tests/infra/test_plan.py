"""Properties of the prod stack, asserted over `python -m infra.plan --json` (mocked engine).

The inventory holds the inputs exactly as the engine (and a policy pack) would receive
them: camelCase, secrets masked, resource references as URNs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from infra.mocks import SECRET_PLACEHOLDER, UNKNOWN_PLACEHOLDER

from .conftest import PRIMARY, STANDBY, Plan, run_plan

KMS_ARN = "arn:aws:kms:{region}:123456789012:key/"


def kms_keys(plan: Plan, region: str) -> set[str]:
    """ARNs the mocks gave the region's KMS keys (a key ARN names its region)."""
    refs = set()
    for entry in plan:
        for value in _strings(entry["inputs"]):
            if value.startswith(KMS_ARN.format(region=region)):
                refs.add(value)
    return refs


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def is_cmk(value: Any, region: str) -> bool:
    return isinstance(value, str) and value.startswith(KMS_ARN.format(region=region))


# --------------------------------------------------------------------------- format


def test_inventory_format_is_exactly_what_the_policy_pack_reads(plan: Plan) -> None:
    assert all(set(e) == {"type", "name", "region", "inputs", "outputs"} for e in plan)
    providers = {e["name"]: e for e in plan.of_type("pulumi:providers:aws")}
    assert {n: p["region"] for n, p in providers.items()} == {
        "aws-primary": PRIMARY,
        "aws-standby": STANDBY,
    }
    assert {e["region"] for e in plan} == {PRIMARY, STANDBY}


def test_no_input_is_unknown_or_silently_dropped(plan: Plan) -> None:
    unknown = [e["name"] for e in plan if UNKNOWN_PLACEHOLDER in _strings(e["inputs"])]
    assert unknown == []
    # inputs wired from other resources' outputs: the mocks must have returned them
    for region, role in ((PRIMARY, "primary"), (STANDBY, "standby")):
        eks = plan.named(f"{role}-cluster-eks")["inputs"]
        assert is_cmk(eks["encryptionConfigKeyArn"], region)
        ingress = plan.named(f"{role}-workload-ingress")["inputs"]
        annotations = ingress["metadata"]["annotations"]
        assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
        record = plan.named(f"dns-{role}-record")["inputs"]
        assert record["records"][0].endswith(f".{region}.elb.amazonaws.com")
        p99 = plan.named(f"{role}-alarms-alb-p99-latency")["inputs"]
        assert p99["dimensions"]["LoadBalancer"].startswith(f"app/orders-prod-{role}/")


# --------------------------------------------------------------------------- network


@pytest.mark.parametrize("region", [PRIMARY, STANDBY])
def test_three_distinct_azs_with_public_private_and_isolated_subnets(
    plan: Plan, region: str
) -> None:
    tiers: dict[str, set[str]] = defaultdict(set)
    for subnet in plan.of_type("aws:ec2/subnet:Subnet", region):
        tier = subnet["name"].split("-network-")[1].split("-")[0]
        tiers[tier].add(subnet["inputs"]["availabilityZone"])
    assert {t: len(azs) for t, azs in tiers.items()} == {"public": 3, "private": 3, "isolated": 3}
    assert all(az.startswith(region) for azs in tiers.values() for az in azs)
    nats = plan.of_type("aws:ec2/natGateway:NatGateway", region)
    assert len(nats) == 3  # one per AZ: an AZ outage never takes the others' egress
    isolated_rt = [
        rt
        for rt in plan.of_type("aws:ec2/routeTable:RouteTable", region)
        if "isolated" in rt["name"]
    ]
    assert all(not rt["inputs"].get("routes") for rt in isolated_rt)
    flow_logs = plan.of_type("aws:ec2/flowLog:FlowLog", region)
    assert len(flow_logs) == 1 and flow_logs[0]["inputs"]["trafficType"] == "ALL"
    endpoints = {
        e["inputs"]["serviceName"].rsplit(".", 1)[-1]
        for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint", region)
    }
    assert {"sqs", "sts", "kms", "logs", "s3", "dkr", "api"} <= endpoints


# --------------------------------------------------------------------------- encryption


@pytest.mark.parametrize("region", [PRIMARY, STANDBY])
def test_every_data_store_is_encrypted_with_a_customer_managed_key(plan: Plan, region: str) -> None:
    all_keys = plan.of_type("aws:kms/key:Key", region)
    # Encryption keys rotate; the audit log's Ed25519 signing key (primary only) cannot.
    keys = [k for k in all_keys if k["inputs"].get("keyUsage") != "SIGN_VERIFY"]
    assert len(keys) == (8 if region == PRIMARY else 7)
    assert len(all_keys) - len(keys) == (1 if region == PRIMARY else 0)
    assert all(k["inputs"]["enableKeyRotation"] is True for k in keys)

    for cluster in plan.of_type("aws:rds/cluster:Cluster", region):
        assert cluster["inputs"]["storageEncrypted"] is True
        assert is_cmk(cluster["inputs"]["kmsKeyId"], region)
    for instance in plan.of_type("aws:rds/clusterInstance:ClusterInstance", region):
        assert is_cmk(instance["inputs"]["performanceInsightsKmsKeyId"], region)
    (redis,) = plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup", region)
    assert redis["inputs"]["atRestEncryptionEnabled"] is True
    assert is_cmk(redis["inputs"]["kmsKeyId"], region)
    queues = plan.of_type("aws:sqs/queue:Queue", region)
    assert len(queues) == 2 and all(is_cmk(q["inputs"]["kmsMasterKeyId"], region) for q in queues)
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup", region):
        assert is_cmk(group["inputs"]["kmsKeyId"], region), group["name"]
    for topic in plan.of_type("aws:sns/topic:Topic", region):
        assert is_cmk(topic["inputs"]["kmsMasterKeyId"], region)
    for vault in plan.of_type("aws:backup/vault:Vault", region):
        assert is_cmk(vault["inputs"]["kmsKeyArn"], region)
    for template in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate", region):
        (root,) = template["inputs"]["blockDeviceMappings"]
        assert root["ebs"]["encrypted"] == "true" and is_cmk(root["ebs"]["kmsKeyId"], region)


def test_secrets_never_appear_in_clear(plan: Plan) -> None:
    primary_cluster = plan.named("primary-database-cluster")["inputs"]
    assert primary_cluster["masterPassword"] == SECRET_PLACEHOLDER
    assert "manageMasterUserPassword" not in primary_cluster  # unsupported in global DBs
    for redis in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        assert redis["inputs"]["authToken"] == SECRET_PLACEHOLDER
    for secret in plan.of_type("kubernetes:core/v1:Secret"):
        assert secret["inputs"]["stringData"] == SECRET_PLACEHOLDER  # the whole map is secret
    master = plan.named("primary-database-master-secret-value")["inputs"]
    assert master["secretString"] == SECRET_PLACEHOLDER


# --------------------------------------------------------------------------- data tier


def test_aurora_global_database_primary(plan: Plan) -> None:
    (global_cluster,) = plan.of_type("aws:rds/globalCluster:GlobalCluster")
    assert global_cluster["region"] == PRIMARY
    assert global_cluster["inputs"]["deletionProtection"] is True
    primary = plan.named("primary-database-cluster")["inputs"]
    assert primary["globalClusterIdentifier"] == global_cluster["inputs"]["globalClusterIdentifier"]
    assert primary["backupRetentionPeriod"] >= 14
    assert primary["deletionProtection"] is True
    assert primary["iamDatabaseAuthenticationEnabled"] is True
    assert primary["enabledCloudwatchLogsExports"] == ["postgresql"]
    assert primary["skipFinalSnapshot"] is False


@pytest.mark.parametrize(("role", "region"), [("primary", PRIMARY), ("standby", STANDBY)])
def test_database_instances_spread_over_azs_and_stay_private(
    plan: Plan, role: str, region: str
) -> None:
    instances = [
        i
        for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance", region)
        if i["name"].startswith(f"{role}-")
    ]
    azs = [i["inputs"]["availabilityZone"] for i in instances]
    assert len(instances) >= 2 and len(set(azs)) == len(azs)
    assert all(i["inputs"]["publiclyAccessible"] is False for i in instances)
    assert all(i["inputs"]["performanceInsightsEnabled"] is True for i in instances)


@pytest.mark.parametrize("region", [PRIMARY, STANDBY])
def test_database_forces_tls(plan: Plan, region: str) -> None:
    (group,) = plan.of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup", region)
    params = {p["name"]: p["value"] for p in group["inputs"]["parameters"]}
    assert params["rds.force_ssl"] == "1"
    (cluster,) = plan.of_type("aws:rds/cluster:Cluster", region)
    assert cluster["inputs"]["dbClusterParameterGroupName"].startswith(group["name"])


def test_standby_cluster_joins_the_global_cluster_in_the_other_region(plan: Plan) -> None:
    standby = plan.named("standby-database-cluster")
    assert standby["region"] == STANDBY
    inputs = standby["inputs"]
    assert inputs["globalClusterIdentifier"] == "orders-prod-global"
    for forbidden in ("masterUsername", "masterPassword", "databaseName"):
        assert forbidden not in inputs
    assert inputs["storageEncrypted"] is True and inputs["deletionProtection"] is True


@pytest.mark.parametrize("region", [PRIMARY, STANDBY])
def test_redis_is_multi_az_with_failover_tls_and_auth(plan: Plan, region: str) -> None:
    (redis,) = plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup", region)
    i = redis["inputs"]
    assert i["engine"] == "redis"
    assert i["numCacheClusters"] >= 2
    assert i["automaticFailoverEnabled"] is True and i["multiAzEnabled"] is True
    azs = i["preferredCacheClusterAzs"]
    assert len(set(azs)) == len(azs) == i["numCacheClusters"]
    assert i["transitEncryptionEnabled"] is True and i["transitEncryptionMode"] == "required"
    assert i["authTokenUpdateStrategy"] == "ROTATE"
    assert i["snapshotRetentionLimit"] >= 1


@pytest.mark.parametrize("region", [PRIMARY, STANDBY])
def test_fifo_queue_with_fifo_dead_letter_queue(plan: Plan, region: str) -> None:
    queues = {
        q["name"].rsplit("-", 1)[-1]: q["inputs"]
        for q in plan.of_type("aws:sqs/queue:Queue", region)
    }
    orders, dlq = queues["orders"], queues["dlq"]
    assert orders["fifoQueue"] is True and dlq["fifoQueue"] is True
    assert orders["name"].endswith(".fifo") and dlq["name"].endswith(".fifo")
    redrive = json.loads(orders["redrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(dlq["name"])
    assert redrive["maxReceiveCount"] >= 1
    policies = plan.of_type("aws:sqs/queuePolicy:QueuePolicy", region)
    assert all('"aws:SecureTransport": "false"' in p["inputs"]["policy"] for p in policies)


# --------------------------------------------------------------------------- backup


def test_backups_are_retained_copied_to_the_standby_and_restore_tested(plan: Plan) -> None:
    (backup_plan,) = plan.of_type("aws:backup/plan:Plan")
    rules = {r["ruleName"]: r for r in backup_plan["inputs"]["rules"]}
    daily, continuous = rules["daily"], rules["continuous-pitr"]
    assert daily["lifecycle"]["deleteAfter"] >= 14
    (copy,) = daily["copyActions"]
    assert copy["destinationVaultArn"].startswith(f"arn:aws:backup:{STANDBY}:")
    assert continuous["enableContinuousBackup"] is True
    vault_regions = {v["region"] for v in plan.of_type("aws:backup/vault:Vault")}
    assert vault_regions == {PRIMARY, STANDBY}
    locks = plan.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    assert len(locks) == 2 and all(lock["inputs"]["minRetentionDays"] >= 14 for lock in locks)
    (selection,) = plan.of_type("aws:backup/selection:Selection")
    assert selection["inputs"]["resources"] == [
        f"arn:aws:rds:{PRIMARY}:123456789012:cluster:orders-prod-primary"
    ]
    assert plan.of_type("aws:backup/restoreTestingPlan:RestoreTestingPlan")
    (restore_selection,) = plan.of_type(
        "aws:backup/restoreTestingSelection:RestoreTestingSelection"
    )
    assert restore_selection["inputs"]["protectedResourceType"] == "Aurora"


# --------------------------------------------------------------------------- cluster


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


# --------------------------------------------------------------------------- workload


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
    assert pdbs == {"orders-api", "orders-relay", "orders-worker"} | integrator
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
    deployments = {
        d["inputs"]["metadata"]["name"]
        for d in plan.of_type("kubernetes:apps/v1:Deployment", region)
    }
    assert deployments == {"orders-relay", "orders-worker"} | integrator


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


# --------------------------------------------------------------------------- dns + alarms


def test_route53_failover_pair_with_health_checks(plan: Plan) -> None:
    records = plan.of_type("aws:route53/record:Record")
    failover = [r["inputs"] for r in records if r["inputs"].get("failoverRoutingPolicies")]
    assert {r["name"] for r in failover} == {"api.orders.example.com"}
    kinds = {r["failoverRoutingPolicies"][0]["type"]: r for r in failover}
    assert set(kinds) == {"PRIMARY", "SECONDARY"}
    checks = {c["name"]: c["inputs"] for c in plan.of_type("aws:route53/healthCheck:HealthCheck")}
    for kind, region in (("PRIMARY", PRIMARY), ("SECONDARY", STANDBY)):
        record = kinds[kind]
        check = next(c for n, c in checks.items() if record["healthCheckId"].startswith(n))
        assert check["fqdn"] == record["records"][0]
        assert check["fqdn"].endswith(f"{region}.elb.amazonaws.com")
        assert check["resourcePath"] == "/health/ready" and check["type"] == "HTTPS"


@pytest.mark.parametrize(("role", "region"), [("primary", PRIMARY), ("standby", STANDBY)])
def test_alarms_cover_database_cache_queue_and_alb(plan: Plan, role: str, region: str) -> None:
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm", region)
    metrics = {a["inputs"].get("metricName") for a in alarms}
    lag = "AuroraReplicaLagMaximum" if role == "primary" else "AuroraGlobalDBReplicationLag"
    assert {
        lag,
        "CPUUtilization",
        "EngineCPUUtilization",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "TargetResponseTime",
    } <= metrics
    five_xx = plan.named(f"{role}-alarms-alb-5xx-rate")["inputs"]
    assert any("HTTPCode_Target_5XX_Count" in json.dumps(q) for q in five_xx["metricQueries"])
    (topic,) = [  # the other topic is Alertmanager's ticket topic (infra/monitoring.py)
        t for t in plan.of_type("aws:sns/topic:Topic", region) if "alarms" in t["name"]
    ]
    topic_arn_prefix = f"arn:aws:sns:{region}:"
    assert all(a["inputs"]["alarmActions"][0].startswith(topic_arn_prefix) for a in alarms)
    assert topic["name"] == f"{role}-alarms-topic"


# --------------------------------------------------------------------------- outputs


def test_stack_outputs_satisfy_the_aws_drill() -> None:
    from chaos.aws.outputs import StackOutputs

    run = run_plan("--outputs")
    assert run.returncode == 0, run.stderr[-2000:]
    outputs = json.loads(run.stdout)
    parsed = StackOutputs.from_mapping(outputs)
    assert parsed.standby_cluster_id == "orders-prod-standby"
    assert parsed.api_endpoint == "https://api.orders.example.com"


def test_relay_and_worker_have_heartbeat_probes_and_are_scraped(plan: Plan) -> None:
    for name in ("primary-workload-relay", "primary-workload-worker", "standby-workload-worker"):
        template = plan.named(name)["inputs"]["spec"]["template"]
        (container,) = template["spec"]["containers"]
        assert container["command"][-4:] == ["--health-host", "0.0.0.0", "--health-port", "9100"]
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/health/live"
            assert container[probe]["httpGet"]["port"] == "health"
        assert template["metadata"]["annotations"]["prometheus.io/port"] == "9100"

"""The network and the data tier (Aurora, Redis, SQS, backups),
asserted over `python -m infra.plan --json` (mocked engine): inputs exactly as the
engine and a policy pack receive them (camelCase, secrets masked, references as URNs).
"""

from __future__ import annotations

import importlib
import json
from collections import defaultdict
from typing import Any

import pytest
from pulumi._types import input_type_py_to_pulumi_names

from .conftest import PRIMARY, STANDBY, Plan


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


# What the master-password rotation changes, per resource the program first writes it to.
ROTATED_BY_SECRETS_MANAGER = {
    "primary-database-cluster": "masterPassword",
    "primary-database-master-secret-value": "secretString",
}


def test_rotated_master_password_is_never_written_back(
    plan: Plan, plan_options: dict[str, dict[str, Any]]
) -> None:
    """Aurora cannot manage a global-database member's master password, so the program
    generates it and Secrets Manager rotates it. A later `pulumi up` must keep the rotated
    value: the provider replaces a secret version whose secretString differs, and the new
    version would take AWSCURRENT with the stale password."""
    cluster = plan.named("primary-database-cluster")["inputs"]
    assert "manageMasterUserPassword" not in cluster and "masterPassword" in cluster
    secret = plan.named("primary-database-master-secret")
    value = plan.named("primary-database-master-secret-value")
    (rotation,) = plan.of_type("aws:secretsmanager/secretRotation:SecretRotation")
    assert value["inputs"]["secretId"] == rotation["inputs"]["secretId"] == secret["outputs"]["id"]
    for name, rotated in ROTATED_BY_SECRETS_MANAGER.items():
        assert rotated in plan_options[name]["ignoreChanges"], name
    # No pinned staging label: rotation moves AWSCURRENT, and a pinned one would move it back.
    assert "versionStages" not in value["inputs"]


def test_ignored_drift_names_real_properties_of_the_provider(
    plan_options: dict[str, dict[str, Any]],
) -> None:
    """An ignoreChanges path with a typo protects nothing; check each AWS one against the
    property names of the pulumi-aws SDK's resource arguments."""
    checked = 0
    for name, entry in plan_options.items():
        token = entry["type"]
        if not token.startswith("aws:") or not entry["ignoreChanges"]:
            continue
        module, resource = token.split(":")[1].split("/")[0], token.rsplit(":", 1)[1]
        package = importlib.import_module(
            "pulumi_aws" if module == "index" else f"pulumi_aws.{module}"
        )
        properties = set(input_type_py_to_pulumi_names(getattr(package, f"{resource}Args")).values())
        for path in entry["ignoreChanges"]:
            assert path.split(".")[0].split("[")[0] in properties, (name, path)
            checked += 1
    assert checked >= len(ROTATED_BY_SECRETS_MANAGER)


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

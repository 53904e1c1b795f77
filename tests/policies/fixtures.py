"""A small, hand-written, compliant plan in the `python -m infra.plan --json` format.

Entries may carry an ``outputs`` object (the evaluator uses it for the identities that
cross-resource references point at: ARNs, ids, names); the real plan gets those by
replaying infra's deterministic mocks.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.evaluate import Provenance, Subject, evaluate, parse_plan

UNKNOWN = UNKNOWN_STRING_VALUE
DELETE = object()
PRIMARY, STANDBY = "eu-central-1", "eu-west-1"
ACCOUNT = "123456789012"
AZS = [f"{PRIMARY}a", f"{PRIMARY}b", f"{PRIMARY}c"]


def key_arn(key_id: str, region: str = PRIMARY) -> str:
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"


DB_KEY = key_arn("db0001")
CACHE_KEY = key_arn("cache001")
QUEUE_KEY = key_arn("queue001")
EKS_KEY = key_arn("eks00001")
BACKUP_KEY = key_arn("backup01")
BACKUP_KEY_STANDBY = key_arn("backup02", STANDBY)
LOGS_KEY = key_arn("logs0001")

LABELS = {"app": "orders-api"}
APP_LABELS = {"app.kubernetes.io/name": "orders", "app.kubernetes.io/part-of": "investment-orders"}
STANDBY_VAULT_ARN = f"arn:aws:backup:{STANDBY}:{ACCOUNT}:backup-vault:orders-standby"
CLUSTER_ARN = f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:cluster:orders-primary"
EFS_ARN = f"arn:aws:elasticfilesystem:{PRIMARY}:{ACCOUNT}:file-system/fs-0001"
CERT = "arn:aws:acm:eu-central-1:1:certificate/x"
TLS13 = "ELBSecurityPolicy-TLS13-1-2-2021-06"
IMAGE = f"{ACCOUNT}.dkr.ecr.{PRIMARY}.amazonaws.com/orders:1.0.0"


def _e(
    type_: str, logical: str, inputs: dict[str, Any], region: str = PRIMARY, **outputs: Any
) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": type_, "name": logical, "region": region, "inputs": inputs}
    if outputs:
        entry["outputs"] = outputs
    return entry


def _key(name: str, arn: str, region: str = PRIMARY) -> dict[str, Any]:
    key_id = arn.rsplit("/", 1)[1]
    return _e(
        "aws:kms/key:Key",
        name,
        {"enableKeyRotation": True, "description": name},
        region,
        arn=arn,
        id=key_id,
        keyId=key_id,
    )


def baseline_plan() -> list[dict[str, Any]]:
    """Every resource type the pack inspects, configured to pass every control."""
    subnets = [
        _e(
            "aws:ec2/subnet:Subnet",
            f"isolated-{i}",
            {
                "availabilityZone": az,
                "cidrBlock": f"10.0.{i}.0/24",
                "tags": {"kubernetes.io/role/elb": "1"},
            },
            id=f"subnet-{i}",
        )
        for i, az in enumerate(AZS)
    ]
    subnet_ids = [f"subnet-{i}" for i in range(3)]
    from .fixtures_extra import extra_resources
    from .fixtures_k8s import kubernetes_workloads

    return [
        _e("pulumi:providers:aws", "primary", {"region": PRIMARY}),
        _e("pulumi:providers:aws", "standby", {"region": STANDBY}, STANDBY),
        _key("db-key", DB_KEY),
        _key("cache-key", CACHE_KEY),
        _key("queue-key", QUEUE_KEY),
        _key("eks-key", EKS_KEY),
        _key("backup-key", BACKUP_KEY),
        _key("backup-key-standby", BACKUP_KEY_STANDBY, STANDBY),
        _key("logs-key", LOGS_KEY),
        _e("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, id="vpc-1"),
        _e(
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
            "default-sg",
            {"vpcId": "vpc-1", "ingress": [], "egress": []},
        ),
        *subnets,
        _e("aws:rds/subnetGroup:SubnetGroup", "db-subnets", {"subnetIds": subnet_ids}),
        _e("aws:elasticache/subnetGroup:SubnetGroup", "cache-subnets", {"subnetIds": subnet_ids}),
        _e(
            "aws:rds/clusterParameterGroup:ClusterParameterGroup",
            "orders-pg",
            {
                "family": "aurora-postgresql16",
                "name": "orders-pg",
                "parameters": [
                    {"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"}
                ],
            },
            name="orders-pg",
            id="orders-pg",
        ),
        _e(
            "aws:rds/globalCluster:GlobalCluster",
            "orders-global",
            {
                "globalClusterIdentifier": "orders",
                "engine": "aurora-postgresql",
                "storageEncrypted": True,
                "deletionProtection": True,
            },
            id="orders",
        ),
        _e(
            "aws:rds/cluster:Cluster",
            "orders-primary",
            {
                "clusterIdentifier": "orders-primary",
                "engine": "aurora-postgresql",
                "globalClusterIdentifier": "orders",
                "storageEncrypted": True,
                "kmsKeyId": DB_KEY,
                "backupRetentionPeriod": 14,
                "deletionProtection": True,
                "dbClusterParameterGroupName": "orders-pg",
                "performanceInsightsEnabled": True,
                "performanceInsightsKmsKeyId": DB_KEY,
                "iamDatabaseAuthenticationEnabled": True,
                "copyTagsToSnapshot": True,
                "manageMasterUserPassword": True,
                "masterUsername": "orders",
                "dbSubnetGroupName": "db-subnets",
                "enabledCloudwatchLogsExports": ["postgresql"],
                "port": 6432,
            },
            id="orders-primary",
            arn=CLUSTER_ARN,
        ),
        *[
            _e(
                "aws:rds/clusterInstance:ClusterInstance",
                f"orders-primary-{i}",
                {
                    "clusterIdentifier": "orders-primary",
                    "availabilityZone": AZS[i],
                    "instanceClass": "db.r6g.large",
                    "publiclyAccessible": False,
                    "performanceInsightsEnabled": True,
                    "performanceInsightsKmsKeyId": DB_KEY,
                    "monitoringInterval": 60,
                },
            )
            for i in range(2)
        ],
        _e(
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "orders-cache",
            {
                "replicationGroupId": "orders-cache",
                "subnetGroupName": "cache-subnets",
                "atRestEncryptionEnabled": True,
                "kmsKeyId": CACHE_KEY,
                "transitEncryptionEnabled": True,
                "automaticFailoverEnabled": True,
                "multiAzEnabled": True,
                "numCacheClusters": 2,
                "preferredCacheClusterAzs": AZS[:2],
                "snapshotRetentionLimit": 7,
                "authToken": "[secret]",
            },
        ),
        _e(
            "aws:sqs/queue:Queue",
            "orders-queue",
            {
                "name": "orders.fifo",
                "fifoQueue": True,
                "kmsMasterKeyId": QUEUE_KEY,
                "redrivePolicy": json.dumps(
                    {
                        "deadLetterTargetArn": f"arn:aws:sqs:{PRIMARY}:{ACCOUNT}:orders-dlq.fifo",
                        "maxReceiveCount": 5,
                    }
                ),
            },
            arn=f"arn:aws:sqs:{PRIMARY}:{ACCOUNT}:orders.fifo",
        ),
        _e(
            "aws:sqs/queue:Queue",
            "orders-dlq",
            {"name": "orders-dlq.fifo", "fifoQueue": True, "kmsMasterKeyId": QUEUE_KEY},
            arn=f"arn:aws:sqs:{PRIMARY}:{ACCOUNT}:orders-dlq.fifo",
        ),
        _e(
            "eks:index:Cluster",
            "orders-eks",
            {
                "name": "orders-eks",
                "version": "1.35",
                "enabledClusterLogTypes": ["api", "audit", "authenticator"],
                "vpcCniOptions": {"enableNetworkPolicy": True},
                "nodeAssociatePublicIpAddress": False,
                "encryptionConfigKeyArn": EKS_KEY,
                "endpointPublicAccess": True,
                "publicAccessCidrs": ["203.0.113.0/24"],
                "endpointPrivateAccess": True,
            },
        ),
        _e(
            "aws:eks/cluster:Cluster",
            "orders-eks-cluster",
            {
                "name": "orders-eks-2",
                "version": "1.35",
                "enabledClusterLogTypes": ["api", "audit", "authenticator"],
                "encryptionConfig": {"provider": {"keyArn": EKS_KEY}, "resources": ["secrets"]},
                "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
            },
        ),
        _e(
            "aws:ec2/launchTemplate:LaunchTemplate",
            "nodes-lt",
            {
                "blockDeviceMappings": [
                    {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": EKS_KEY}}
                ],
                "metadataOptions": {"httpTokens": "required"},
            },
        ),
        _e(
            "eks:index:ManagedNodeGroup",
            "nodes",
            {
                "launchTemplate": {"id": "lt-1", "version": "1"},
                "subnetIds": subnet_ids,
                "instanceTypes": ["m6i.xlarge", "m6a.xlarge"],
                "nodeRoleArn": f"arn:aws:iam::{ACCOUNT}:role/orders-nodes",
            },
        ),
        _e(
            "aws:ebs/volume:Volume",
            "scratch",
            {"encrypted": True, "kmsKeyId": EKS_KEY, "availabilityZone": AZS[0]},
        ),
        _e(
            "aws:cloudwatch/logGroup:LogGroup",
            "flow-logs",
            {"kmsKeyId": LOGS_KEY, "retentionInDays": 365},
        ),
        _e(
            "aws:backup/vault:Vault",
            "primary-vault",
            {"name": "orders-primary", "kmsKeyArn": BACKUP_KEY},
            arn=f"arn:aws:backup:{PRIMARY}:{ACCOUNT}:backup-vault:orders-primary",
        ),
        _e(
            "aws:backup/vault:Vault",
            "standby-vault",
            {"name": "orders-standby", "kmsKeyArn": BACKUP_KEY_STANDBY},
            STANDBY,
            arn=f"arn:aws:backup:{STANDBY}:{ACCOUNT}:backup-vault:orders-standby",
        ),
        _e(
            "aws:backup/plan:Plan",
            "orders-backup",
            {
                "rules": [
                    {
                        "ruleName": "daily",
                        "targetVaultName": "orders-primary",
                        "schedule": "cron(0 3 * * ? *)",
                        "lifecycle": {"deleteAfter": 35},
                        "copyActions": [
                            {
                                "destinationVaultArn": STANDBY_VAULT_ARN,
                                "lifecycle": {"deleteAfter": 35},
                            }
                        ],
                    },
                    {
                        "ruleName": "continuous",
                        "targetVaultName": "orders-primary",
                        "enableContinuousBackup": True,
                        "lifecycle": {"deleteAfter": 35},
                    },
                ]
            },
            id="plan-1",
        ),
        _e(
            "aws:backup/selection:Selection",
            "orders-backup-selection",
            {"name": "orders-aurora", "resources": [CLUSTER_ARN, EFS_ARN], "planId": "plan-1"},
        ),
        *[
            _e(
                "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
                f"{vault}-lock",
                {"backupVaultName": vault, "minRetentionDays": 35, "maxRetentionDays": 400},
                region,
            )
            for vault, region in (("orders-primary", PRIMARY), ("orders-standby", STANDBY))
        ],
        _e(
            "aws:backup/restoreTestingSelection:RestoreTestingSelection",
            "restore-test-aurora",
            {
                "name": "aurora",
                "protectedResourceType": "Aurora",
                "protectedResourceArns": [CLUSTER_ARN],
            },
        ),
        _e(
            "aws:lb/listener:Listener",
            "https",
            {
                "protocol": "HTTPS",
                "port": 443,
                "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "certificateArn": "arn:aws:acm:eu-central-1:1:certificate/x",
            },
        ),
        _e(
            "aws:lb/listener:Listener",
            "http-redirect",
            {
                "protocol": "HTTP",
                "port": 80,
                "defaultActions": [
                    {
                        "type": "redirect",
                        "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
                    }
                ],
            },
        ),
        _e(
            "aws:ec2/securityGroup:SecurityGroup",
            "db-sg",
            {
                "description": "PostgreSQL from the nodes",
                "ingress": [
                    {
                        "protocol": "tcp",
                        "fromPort": 5432,
                        "toPort": 5432,
                        "securityGroups": ["sg-nodes"],
                        "description": "PostgreSQL from the nodes",
                    }
                ],
            },
        ),
        _e(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            "alb-https",
            {
                "type": "ingress",
                "protocol": "tcp",
                "fromPort": 443,
                "toPort": 443,
                "cidrBlocks": ["10.0.0.0/16"],
                "securityGroupId": "sg-alb",
                "description": "HTTPS from the VPC",
            },
        ),
        _e(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "cache-from-nodes",
            {
                "ipProtocol": "tcp",
                "fromPort": 6379,
                "toPort": 6379,
                "referencedSecurityGroupId": "sg-nodes",
                "securityGroupId": "sg-cache",
                "description": "Redis from the nodes",
            },
        ),
        _e(
            "aws:secretsmanager/secret:Secret",
            "master-secret",
            {
                "name": "orders/aurora/master",
                "kmsKeyId": DB_KEY,
                "description": "Aurora master credentials",
            },
        ),
        *kubernetes_workloads(),
        *extra_resources(),
    ]


def set_path(plan: list[dict[str, Any]], name: str, path: tuple[Any, ...], value: Any) -> None:
    """Set (or with DELETE remove) ``inputs.<path>`` of the entry named ``name``.

    An empty path with DELETE removes the whole resource from the plan."""
    entry = next(e for e in plan if e["name"] == name)
    if not path and value is DELETE:
        plan.remove(entry)
        return
    target: Any = entry["inputs"]
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


def mutated(name: str, path: tuple[Any, ...], value: Any) -> list[dict[str, Any]]:
    plan = copy.deepcopy(baseline_plan())
    set_path(plan, name, path, value)
    return plan


def source() -> Provenance:
    return Provenance("plan", "<fixture>", "0" * 64, 0, "", "", 0)


def run(plan: list[dict[str, Any]] | list[Subject], *policies: Any) -> Any:
    subjects = parse_plan(plan, "<fixture>") if plan and isinstance(plan[0], dict) else plan
    return evaluate(subjects, source(), policies=list(policies) or None)

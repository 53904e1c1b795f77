"""The compliant resources the baseline plan needs beyond the data path itself.

Every type on the pack's allow-list that a control inspects appears here once, configured
to pass, together with what stack controls require (namespace Pod Security labels,
default-deny NetworkPolicies, flow logs, alarms, health checks, the audit checkpoint
bucket, log groups). Mutation cases change or delete one of these at a time.
"""

from __future__ import annotations

import json
from typing import Any

from .fixtures import ACCOUNT, APP_LABELS, EFS_ARN, PRIMARY, STANDBY, _e, key_arn

BUCKET = "orders-audit-checkpoints"
BUCKET_KEY = key_arn("s3000001")
# Everything else here uses its own key, so cases on the data-path keys stay unambiguous.
EXTRA_KEY = key_arn("extra001")
SIGNING_KEY = key_arn("sign0001")
TOPIC_ARN = f"arn:aws:sns:{PRIMARY}:{ACCOUNT}:orders-alarms"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def _alarm(name: str, namespace: str, dimensions: dict[str, str]) -> dict[str, Any]:
    return _e(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        name,
        {
            "namespace": namespace,
            "metricName": "Health",
            "dimensions": dimensions,
            "alarmActions": [TOPIC_ARN],
            "comparisonOperator": "GreaterThanThreshold",
            "threshold": 1,
            "evaluationPeriods": 1,
        },
    )


def _namespace(region: str, suffix: str) -> list[dict[str, Any]]:
    return [
        _e(
            "kubernetes:core/v1:Namespace",
            f"orders-namespace{suffix}",
            {
                "metadata": {
                    "name": "orders",
                    "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                }
            },
            region,
        ),
        _e(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            f"default-deny{suffix}",
            {
                "metadata": {"name": "default-deny", "namespace": "orders"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
            region,
        ),
    ]


def storage() -> list[dict[str, Any]]:
    """The audit checkpoint bucket and its companions, a table, a file system, a database."""
    return [
        _e(
            "aws:kms/key:Key",
            "bucket-key",
            {"enableKeyRotation": True, "description": "bucket"},
            arn=BUCKET_KEY,
            id="s3000001",
        ),
        _e(
            "aws:kms/key:Key",
            "extra-key",
            {"enableKeyRotation": True, "description": "extras"},
            arn=EXTRA_KEY,
            id="extra001",
        ),
        _e(
            "aws:kms/key:Key",
            "audit-signing-key",
            {
                "description": "audit checkpoint signing key",
                "keyUsage": "SIGN_VERIFY",
                "customerMasterKeySpec": "ECC_NIST_P256",
            },
            arn=SIGNING_KEY,
            id="sign0001",
        ),
        _e("aws:s3/bucket:Bucket", "checkpoints", {"bucket": BUCKET, "objectLockEnabled": True}),
        _e(
            "aws:s3/bucketVersioning:BucketVersioning",
            "checkpoints-versioning",
            {
                "bucket": BUCKET,
                "versioningConfiguration": {"status": "Enabled", "mfaDelete": "Enabled"},
            },
        ),
        _e(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "checkpoints-sse",
            {
                "bucket": BUCKET,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": BUCKET_KEY,
                        },
                        "bucketKeyEnabled": True,
                    }
                ],
            },
        ),
        _e(
            "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "checkpoints-lock",
            {
                "bucket": BUCKET,
                "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 400}},
            },
        ),
        _e(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "checkpoints-public-access",
            {
                "bucket": BUCKET,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        _e(
            "aws:s3/bucketPolicy:BucketPolicy",
            "checkpoints-policy",
            {"bucket": BUCKET, "policy": _policy(TLS_DENY)},
        ),
        _e(
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "checkpoints-ownership",
            {"bucket": BUCKET, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        ),
        _e(
            "aws:dynamodb/table:Table",
            "idempotency-table",
            {
                "name": "orders-idempotency",
                "pointInTimeRecovery": {"enabled": True},
                "serverSideEncryption": {"enabled": True, "kmsKeyArn": EXTRA_KEY},
                "deletionProtectionEnabled": True,
                "billingMode": "PAY_PER_REQUEST",
            },
        ),
        _e(
            "aws:efs/fileSystem:FileSystem",
            "shared-fs",
            {"encrypted": True, "kmsKeyId": EXTRA_KEY},
            id="fs-0001",
            arn=EFS_ARN,
        ),
        _e(
            "aws:rds/instance:Instance",
            "reporting-db",
            {
                "identifier": "orders-reporting",
                "storageEncrypted": True,
                "kmsKeyId": EXTRA_KEY,
                "backupRetentionPeriod": 35,
                "deletionProtection": True,
                "multiAz": True,
                "publiclyAccessible": False,
                "copyTagsToSnapshot": True,
                "monitoringInterval": 60,
                "iamDatabaseAuthenticationEnabled": True,
                "engine": "postgres",
                "dbSubnetGroupName": "db-subnets",
                "port": 6432,
                "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
                "performanceInsightsEnabled": True,
                "performanceInsightsKmsKeyId": EXTRA_KEY,
            },
        ),
    ]


def observability() -> list[dict[str, Any]]:
    return [
        _e(
            "aws:sns/topic:Topic",
            "alarms-topic",
            {
                "name": "orders-alarms",
                "kmsMasterKeyId": EXTRA_KEY,
                "sqsFailureFeedbackRoleArn": f"arn:aws:iam::{ACCOUNT}:role/sns-delivery-logs",
            },
        ),
        _alarm("db-cpu", "AWS/RDS", {"DBClusterIdentifier": "orders-primary"}),
        _alarm("reporting-cpu", "AWS/RDS", {"DBInstanceIdentifier": "orders-reporting"}),
        _alarm("cache-cpu", "AWS/ElastiCache", {"CacheClusterId": "orders-cache-001"}),
        _alarm("queue-age", "AWS/SQS", {"QueueName": "orders.fifo"}),
        _alarm("dlq-not-empty", "AWS/SQS", {"QueueName": "orders-dlq.fifo"}),
        _alarm("table-errors", "AWS/DynamoDB", {"TableName": "orders-idempotency"}),
        _alarm("fs-burst", "AWS/EFS", {"FileSystemId": "fs-0001"}),
        _e(
            "aws:cloudwatch/logGroup:LogGroup",
            "eks-control-plane",
            {"name": "/aws/eks/orders-eks/cluster", "kmsKeyId": EXTRA_KEY, "retentionInDays": 365},
        ),
        _e(
            "aws:cloudwatch/logGroup:LogGroup",
            "eks-2-control-plane",
            {
                "name": "/aws/eks/orders-eks-2/cluster",
                "kmsKeyId": EXTRA_KEY,
                "retentionInDays": 365,
            },
        ),
        _e("aws:ec2/flowLog:FlowLog", "vpc-flow-log", {"vpcId": "vpc-1", "trafficType": "ALL"}),
        _e(
            "aws:route53/healthCheck:HealthCheck",
            "api-health",
            {"type": "HTTPS", "fqdn": "api.example.com", "resourcePath": "/health/ready"},
            id="hc-1",
        ),
        _e(
            "aws:route53/record:Record",
            "api-primary",
            {
                "name": "api.example.com",
                "type": "CNAME",
                "records": ["lb.example.com"],
                "setIdentifier": "primary",
                "failoverRoutingPolicies": [{"type": "PRIMARY"}],
                "healthCheckId": "hc-1",
            },
        ),
        _e(
            "aws:secretsmanager/secretRotation:SecretRotation",
            "master-secret-rotation",
            {
                "secretId": "orders/aurora/master",
                "rotationRules": {"automaticallyAfterDays": 30},
            },
        ),
    ]


def edge_and_identity() -> list[dict[str, Any]]:
    return [
        _e(
            "aws:ec2/instance:Instance",
            "bastion",
            {
                "instanceType": "t3.micro",
                "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
                "rootBlockDevice": {"encrypted": True, "kmsKeyId": EXTRA_KEY},
                "associatePublicIpAddress": False,
                "iamInstanceProfile": "orders-bastion",
            },
        ),
        _e(
            "aws:ecr/repository:Repository",
            "orders-repo",
            {
                "name": "orders-service",
                "imageScanningConfiguration": {"scanOnPush": True},
                "imageTagMutability": "IMMUTABLE",
                "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": EXTRA_KEY}],
            },
        ),
        _e(
            "aws:lb/loadBalancer:LoadBalancer",
            "public-alb",
            {
                "loadBalancerType": "application",
                "dropInvalidHeaderFields": True,
                "enableDeletionProtection": True,
                "accessLogs": {"enabled": True, "bucket": "orders-alb-logs"},
                "subnets": ["subnet-0", "subnet-1", "subnet-2"],
            },
        ),
        _e(
            "aws:wafv2/webAcl:WebAcl",
            "api-waf",
            {
                "scope": "REGIONAL",
                "defaultAction": {"allow": {}},
                "rules": [
                    {
                        "name": "common",
                        "priority": 1,
                        "overrideAction": {"none": {}},
                        "statement": {
                            "managedRuleGroupStatement": {
                                "name": "AWSManagedRulesCommonRuleSet",
                                "vendorName": "AWS",
                            }
                        },
                    }
                ],
                "visibilityConfig": {"cloudwatchMetricsEnabled": True},
            },
        ),
        _e(
            "aws:wafv2/webAclAssociation:WebAclAssociation",
            "api-waf-association",
            {"resourceArn": "arn:aws:elasticloadbalancing:x", "webAclArn": "arn:aws:wafv2:x"},
        ),
        _e(
            "aws:iam/role:Role",
            "service-role",
            {
                "assumeRolePolicy": _policy(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                )
            },
        ),
        _e(
            "aws:iam/rolePolicy:RolePolicy",
            "service-role-policy",
            {
                "role": "service-role",
                "policy": _policy(
                    {
                        "Effect": "Allow",
                        "Action": ["sqs:SendMessage"],
                        "Resource": f"arn:aws:sqs:{PRIMARY}:{ACCOUNT}:orders.fifo",
                    }
                ),
            },
        ),
        _e(
            "aws:iam/serviceLinkedRole:ServiceLinkedRole",
            "alb-service-role",
            {"awsServiceName": "elasticloadbalancing.amazonaws.com"},
        ),
        _e(
            "aws:sqs/queuePolicy:QueuePolicy",
            "orders-queue-policy",
            {
                "queueUrl": "orders.fifo",
                "policy": _policy(
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sqs:*",
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ),
            },
        ),
    ]


def kubernetes() -> list[dict[str, Any]]:
    return [
        *_namespace(PRIMARY, ""),
        *_namespace(STANDBY, "-standby"),
        _e(
            "kubernetes:core/v1:Service",
            "orders-api-service",
            {
                "metadata": {"name": "orders-api", "namespace": "orders", "labels": APP_LABELS},
                "spec": {"type": "ClusterIP", "ports": [{"port": 80, "targetPort": 8000}]},
            },
        ),
        _e(
            "kubernetes:helm.sh/v3:Release",
            "keda",
            {
                "chart": "keda",
                "version": "2.17.2",
                "repositoryOpts": {"repo": "https://kedacore.github.io/charts"},
            },
        ),
        _e(
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
            "orders-alerts",
            {
                "metadata": {"name": "orders-alerts", "namespace": "orders"},
                "spec": {
                    "groups": [
                        {
                            "name": "orders",
                            "rules": [
                                {"record": "job:up:sum", "expr": "sum(up)"},
                                {
                                    "alert": "OutboxBacklogHigh",
                                    "expr": "outbox_backlog > 100",
                                    "labels": {"severity": "page"},
                                    "annotations": {
                                        "summary": "Outbox backlog",
                                        "runbook_url": "https://runbooks/outbox",
                                    },
                                },
                            ],
                        }
                    ]
                },
            },
        ),
    ]


def restore_verification() -> list[dict[str, Any]]:
    """The weekly restore drill of orders-primary (infra/restore_testing.py)."""
    from .fixtures import IMAGE

    pod = {
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "restartPolicy": "Never",
            "serviceAccountName": "orders-restore-verification",
            "automountServiceAccountToken": False,
            "containers": [{
                "name": "restore-verification",
                "image": IMAGE,
                "command": ["python", "-m", "chaos.aws.restore_cli", "--region", PRIMARY,
                            "--cluster-id", "orders-primary", "--publish-metrics",
                            "Orders/RestoreVerification"],
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                              "limits": {"cpu": "500m", "memory": "512Mi"}},
            }],
        }
    }
    return [_e(
        "kubernetes:batch/v1:CronJob",
        "restore-verification",
        {
            "metadata": {"name": "restore-verification", "namespace": "orders",
                         "labels": {"app.kubernetes.io/name": "orders-restore-verification",
                                    "app.kubernetes.io/part-of": "investment-orders"}},
            "spec": {"schedule": "0 3 * * 1", "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"spec": {"backoffLimit": 0, "template": pod}}},
        },
    )]


def extra_resources() -> list[dict[str, Any]]:
    from .fixtures_coverage import coverage_resources

    return [
        *storage(),
        *observability(),
        *edge_and_identity(),
        *kubernetes(),
        *coverage_resources(),
        *restore_verification(),
    ]

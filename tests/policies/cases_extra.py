"""Mutation and unknown-value cases of the controls added for the wider control set.

Each case starts from the compliant baseline plan (``fixtures.baseline_plan``), changes one
thing (a property, a deleted resource, or an added resource) and names exactly the
violations the control must report. The messages were checked by reading them, not copied
from a list the controls read.
"""

from __future__ import annotations

import json
from typing import Any

from .case_model import ExtraCase
from .cases_coverage import COVERAGE_CASES, COVERAGE_UNKNOWN_CASES
from .cases_extra_k8s import K8S_CASES, K8S_UNKNOWN_CASES
from .cases_extra_unknown import EXTRA_UNKNOWN_CASES
from .cases_restore import RESTORE_CASES, RESTORE_UNKNOWN_CASES
from .fixtures import DELETE, PRIMARY


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


EXTRA_CASES = [
    ExtraCase(
        "aws-rds-enable-iam-authentication",
        "reporting-db",
        ("iamDatabaseAuthenticationEnabled",),
        False,
        (
            (
                "reporting-db",
                "IAM database authentication is off (iamDatabaseAuthenticationEnabled).",
            ),
        ),
    ),
    ExtraCase(
        "aws-rds-copy-tags-to-snapshots",
        "orders-primary",
        ("copyTagsToSnapshot",),
        False,
        (("orders-primary", "Tags are not copied to snapshots (copyTagsToSnapshot)."),),
    ),
    ExtraCase(
        "aws-rds-enable-enhanced-monitoring",
        "orders-primary-0",
        ("monitoringInterval",),
        0,
        (("orders-primary-0", "Enhanced monitoring is off (monitoringInterval is 0 or not set)."),),
    ),
    ExtraCase(
        "aws-rds-custom-admin-username",
        "orders-primary",
        ("masterUsername",),
        "postgres",
        (("orders-primary", "The administrator user is the well-known name 'postgres'."),),
    ),
    ExtraCase(
        "aws-elasticache-replicationgroup-custom-subnet-group",
        "orders-cache",
        ("subnetGroupName",),
        "default",
        (("orders-cache", "ElastiCache uses the default subnet group (subnetGroupName)."),),
    ),
    ExtraCase(
        "aws-eks-cluster-require-network-policy-and-private-nodes",
        "orders-eks",
        ("vpcCniOptions", "enableNetworkPolicy"),
        False,
        (("orders-eks", "NetworkPolicies are not enforced (vpcCniOptions.enableNetworkPolicy)."),),
    ),
    # Without the redrive policy nothing marks orders-dlq as a dead-letter queue any more
    # (its name does not), so both FIFO queues now lack one.
    ExtraCase(
        "aws-sqs-fifo-queue-require-fifo-dead-letter-queue",
        "orders-queue",
        ("redrivePolicy",),
        DELETE,
        (
            (
                "orders-queue",
                "FIFO queue 'orders-queue' has no dead-letter queue (redrivePolicy is not set).",
            ),
            (
                "orders-dlq",
                "FIFO queue 'orders-dlq' has no dead-letter queue (redrivePolicy is not set).",
            ),
        ),
    ),
    ExtraCase(
        "pulumi-resource-type-allow-list",
        "shadow-box",
        (),
        None,
        (
            (
                "shadow-box",
                "Resource type aws:lightsail/instance:Instance is not on the reviewed allow-list.",
            ),
        ),
        add={
            "type": "aws:lightsail/instance:Instance",
            "name": "shadow-box",
            "region": PRIMARY,
            "inputs": {},
        },
    ),
    ExtraCase(
        "aws-ec2-instance-require-imdsv2",
        "bastion",
        ("metadataOptions", "httpTokens"),
        "optional",
        (("bastion", "IMDSv1 is allowed (metadataOptions.httpTokens is optional)."),),
    ),
    ExtraCase(
        "aws-ec2-instance-disallow-public-ip",
        "bastion",
        ("associatePublicIpAddress",),
        True,
        (("bastion", "A public IP address is associated (associatePublicIpAddress is true)."),),
    ),
    ExtraCase(
        "aws-ec2-instance-disallow-unencrypted-block-device",
        "bastion",
        ("rootBlockDevice", "encrypted"),
        False,
        (("bastion", "Block device rootBlockDevice is not encrypted."),),
    ),
    ExtraCase(
        "aws-ec2-subnet-disallow-auto-assign-public-ip",
        "isolated-0",
        ("mapPublicIpOnLaunch",),
        True,
        (
            (
                "isolated-0",
                "Subnet assigns public IP addresses on launch (mapPublicIpOnLaunch is true).",
            ),
        ),
    ),
    ExtraCase(
        "aws-vpc-require-flow-logs",
        "vpc-flow-log",
        (),
        DELETE,
        (("vpc", "VPC 'vpc' has no flow log capturing ALL traffic."),),
    ),
    ExtraCase(
        "aws-rds-instance-disallow-unencrypted-storage",
        "reporting-db",
        ("storageEncrypted",),
        False,
        (("reporting-db", "RDS instance storage is not encrypted (storageEncrypted)."),),
    ),
    ExtraCase(
        "aws-rds-instance-multi-az",
        "reporting-db",
        ("multiAz",),
        False,
        (("reporting-db", "RDS instance is single-AZ (multiAz is not true)."),),
    ),
    ExtraCase(
        "aws-rds-enable-auto-minor-version-upgrade",
        "reporting-db",
        ("autoMinorVersionUpgrade",),
        False,
        (("reporting-db", "Automatic minor version upgrades are off (autoMinorVersionUpgrade)."),),
    ),
    ExtraCase(
        "aws-dynamodb-table-enable-point-in-time-recovery",
        "idempotency-table",
        ("pointInTimeRecovery",),
        DELETE,
        (("idempotency-table", "Point-in-time recovery is off (pointInTimeRecovery.enabled)."),),
    ),
    ExtraCase(
        "aws-dynamodb-table-configure-customer-managed-key",
        "idempotency-table",
        ("serverSideEncryption",),
        DELETE,
        (
            (
                "idempotency-table",
                "Table uses the AWS-owned key (serverSideEncryption.enabled is not true).",
            ),
        ),
    ),
    ExtraCase(
        "aws-dynamodb-table-enable-deletion-protection",
        "idempotency-table",
        ("deletionProtectionEnabled",),
        False,
        (("idempotency-table", "Table has no deletion protection (deletionProtectionEnabled)."),),
    ),
    ExtraCase(
        "aws-efs-filesystem-disallow-unencrypted-file-system",
        "shared-fs",
        ("encrypted",),
        False,
        (("shared-fs", "EFS file system is not encrypted (encrypted is not true)."),),
    ),
    ExtraCase(
        "aws-efs-filesystem-disallow-single-availability-zone",
        "shared-fs",
        ("availabilityZoneName",),
        "eu-central-1a",
        (("shared-fs", "EFS file system is One Zone (eu-central-1a)."),),
    ),
    ExtraCase(
        "aws-elasticache-cluster-disallow-standalone",
        "single-node",
        (),
        None,
        (("single-node", "Standalone ElastiCache cluster with 1 node(s)."),),
        add={
            "type": "aws:elasticache/cluster:Cluster",
            "name": "single-node",
            "region": PRIMARY,
            "inputs": {"engine": "redis", "numCacheNodes": 1},
        },
    ),
    ExtraCase(
        "aws-s3-bucket-require-public-access-block",
        "checkpoints-public-access",
        ("restrictPublicBuckets",),
        False,
        (
            (
                "checkpoints",
                "Bucket 'orders-audit-checkpoints' has no public access block with all four settings on.",
            ),
        ),
    ),
    ExtraCase(
        "aws-s3-bucket-require-customer-managed-key",
        "checkpoints-sse",
        ("rules", 0, "applyServerSideEncryptionByDefault"),
        {"sseAlgorithm": "AES256"},
        (
            (
                "checkpoints",
                "Bucket 'orders-audit-checkpoints' does not default to SSE-KMS with a customer-managed key.",
            ),
        ),
    ),
    ExtraCase(
        "aws-s3-bucket-require-versioning",
        "checkpoints-versioning",
        ("versioningConfiguration", "status"),
        "Suspended",
        (("checkpoints", "Bucket 'orders-audit-checkpoints' does not have versioning enabled."),),
    ),
    ExtraCase(
        "aws-s3-bucket-require-tls-only-policy",
        "checkpoints-policy",
        (),
        DELETE,
        (
            (
                "checkpoints",
                "Bucket 'orders-audit-checkpoints' has no policy denying requests without TLS.",
            ),
        ),
    ),
    ExtraCase(
        "aws-s3-bucket-require-owner-enforced",
        "checkpoints-ownership",
        ("rule", "objectOwnership"),
        "ObjectWriter",
        (
            (
                "checkpoints",
                "Bucket 'orders-audit-checkpoints' enables ACLs (object ownership ObjectWriter).",
            ),
        ),
    ),
    ExtraCase(
        "aws-s3-bucket-disallow-public-acl",
        "checkpoints",
        ("acl",),
        "public-read",
        (("checkpoints", "Bucket ACL is public-read."),),
    ),
    ExtraCase(
        "aws-s3-audit-checkpoint-bucket-object-lock",
        "checkpoints-lock",
        ("rule", "defaultRetention", "mode"),
        "GOVERNANCE",
        (
            (
                "(stack)",
                "No S3 bucket in the stack can hold the audit checkpoints: none has Object Lock in COMPLIANCE mode with versioning and a customer-managed key (bucket 'orders-audit-checkpoints': its default retention is not COMPLIANCE mode for at least 365 days).",
            ),
        ),
    ),
    ExtraCase(
        "aws-iam-policy-disallow-full-admin",
        "service-role-policy",
        ("policy",),
        _doc({"Sid": "Admin", "Effect": "Allow", "Action": "*:*", "Resource": "*"}),
        (
            (
                "service-role-policy",
                "policy: statement 'Admin' allows every action on every resource.",
            ),
        ),
    ),
    ExtraCase(
        "aws-iam-policy-disallow-privilege-escalation",
        "service-role-policy",
        ("policy",),
        _doc({"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"}),
        (("service-role-policy", "policy: a statement allows iam:PassRole on every resource."),),
    ),
    ExtraCase(
        "aws-resource-policy-disallow-public-principal",
        "orders-queue-policy",
        ("policy",),
        _doc(
            {
                "Sid": "Public",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sqs:SendMessage",
                "Resource": "*",
            }
        ),
        (("orders-queue-policy", "policy: statement 'Public' allows anyone (sqs:SendMessage)."),),
    ),
    ExtraCase(
        "aws-kms-key-disallow-bypass-policy-lockout-safety-check",
        "db-key",
        ("bypassPolicyLockoutSafetyCheck",),
        True,
        (("db-key", "Key bypasses the policy lockout safety check."),),
    ),
    ExtraCase(
        "aws-kms-key-reference-same-account",
        "idempotency-table",
        ("serverSideEncryption", "kmsKeyArn"),
        "arn:aws:kms:eu-central-1:999999999999:key/db0001",
        (
            (
                "idempotency-table",
                "aws:dynamodb/table:Table 'idempotency-table': serverSideEncryption.kmsKeyArn refers to a KMS key in account 999999999999, not this stack's (123456789012).",
            ),
        ),
    ),
    ExtraCase(
        "aws-sns-topic-configure-customer-managed-key",
        "alarms-topic",
        ("kmsMasterKeyId",),
        DELETE,
        (
            (
                "alarms-topic",
                "SNS topic is not encrypted with a customer-managed KMS key (kmsMasterKeyId is not set).",
            ),
        ),
    ),
    ExtraCase(
        "aws-secretsmanager-secret-configure-customer-managed-key",
        "master-secret",
        ("kmsKeyId",),
        DELETE,
        (
            (
                "master-secret",
                "Secret is not encrypted with a customer-managed KMS key (kmsKeyId is not set).",
            ),
        ),
    ),
    ExtraCase(
        "aws-secretsmanager-secret-enable-rotation",
        "master-secret-rotation",
        (),
        DELETE,
        (
            (
                "master-secret",
                "Secret 'master-secret' has no automatic rotation of 90 days or less.",
            ),
        ),
    ),
    ExtraCase(
        "aws-ecr-repository-enable-image-scan",
        "orders-repo",
        ("imageScanningConfiguration", "scanOnPush"),
        False,
        (
            (
                "orders-repo",
                "Images are not scanned on push (imageScanningConfiguration.scanOnPush).",
            ),
        ),
    ),
    ExtraCase(
        "aws-ecr-repository-disallow-mutable-image",
        "orders-repo",
        ("imageTagMutability",),
        "MUTABLE",
        (("orders-repo", "Image tags are mutable (imageTagMutability is MUTABLE)."),),
    ),
    ExtraCase(
        "aws-ecr-repository-configure-customer-managed-key",
        "orders-repo",
        ("encryptionConfigurations",),
        [{"encryptionType": "AES256"}],
        (("orders-repo", "Repository is not encrypted with a customer-managed key."),),
    ),
    ExtraCase(
        "aws-cloudwatch-data-store-alarms",
        "dlq-not-empty",
        (),
        DELETE,
        (
            (
                "orders-dlq",
                "aws:sqs/queue:Queue 'orders-dlq' has no CloudWatch alarm with an alarm action.",
            ),
        ),
    ),
    ExtraCase(
        "aws-route53-failover-record-require-health-check",
        "api-health",
        (),
        DELETE,
        (
            (
                "api-primary",
                "Failover record 'api-primary' has no health check declared in the stack.",
            ),
        ),
    ),
    ExtraCase(
        "aws-eks-cluster-enable-control-plane-logging",
        "orders-eks",
        ("enabledClusterLogTypes",),
        ["api"],
        (("orders-eks", "EKS control-plane logs are off for audit, authenticator."),),
    ),
    ExtraCase(
        "aws-eks-cluster-require-control-plane-log-group",
        "eks-control-plane",
        (),
        DELETE,
        (
            (
                "orders-eks",
                "EKS cluster 'orders-eks' has no log group /aws/eks/orders-eks/cluster in the stack.",
            ),
        ),
    ),
    ExtraCase(
        "aws-backup-selection-linked-to-plan",
        "orders-backup",
        (),
        DELETE,
        (
            ("(stack)", "The stack has data stores but no AWS Backup plan."),
            (
                "orders-backup-selection",
                "Backup selection 'orders-backup-selection' refers to plan 'plan-1', which is not declared in the stack.",
            ),
        ),
    ),
    ExtraCase(
        "aws-lb-loadbalancer-drop-invalid-header-fields",
        "public-alb",
        ("dropInvalidHeaderFields",),
        False,
        (("public-alb", "Invalid HTTP header fields are forwarded (dropInvalidHeaderFields)."),),
    ),
    ExtraCase(
        "aws-lb-loadbalancer-enable-access-logging",
        "public-alb",
        ("accessLogs",),
        DELETE,
        (("public-alb", "Access logging is off (accessLogs.enabled with a bucket)."),),
    ),
    ExtraCase(
        "aws-lb-loadbalancer-enable-deletion-protection",
        "public-alb",
        ("enableDeletionProtection",),
        False,
        (("public-alb", "Load balancer has no deletion protection (enableDeletionProtection)."),),
    ),
    ExtraCase(
        "aws-wafv2-webacl-require-rules",
        "api-waf",
        ("rules",),
        [],
        (("api-waf", "Web ACL has no rules: it only applies its default action."),),
    ),
]

EXTRA_CASES += K8S_CASES + COVERAGE_CASES + RESTORE_CASES
EXTRA_UNKNOWN_CASES.update(K8S_UNKNOWN_CASES)
EXTRA_UNKNOWN_CASES.update(COVERAGE_UNKNOWN_CASES)
EXTRA_UNKNOWN_CASES.update(RESTORE_UNKNOWN_CASES)

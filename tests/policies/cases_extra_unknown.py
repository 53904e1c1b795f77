"""Unknown-value cases of the controls added for the wider control set: the property made
unknown (as during `pulumi preview`) and whether the control skips with a note or accepts.
"""

from __future__ import annotations

from typing import Any

# policy -> (resource, path set to an unknown value, "note" or "accepted")
EXTRA_UNKNOWN_CASES: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "aws-rds-enable-iam-authentication": (
        "reporting-db",
        ("iamDatabaseAuthenticationEnabled",),
        "note",
    ),
    "aws-rds-copy-tags-to-snapshots": ("orders-primary", ("copyTagsToSnapshot",), "note"),
    "aws-rds-enable-enhanced-monitoring": ("orders-primary-0", ("monitoringInterval",), "note"),
    "aws-rds-custom-admin-username": ("orders-primary", ("masterUsername",), "accepted"),
    "aws-elasticache-replicationgroup-custom-subnet-group": (
        "orders-cache",
        ("subnetGroupName",),
        "accepted",
    ),
    "aws-eks-cluster-require-network-policy-and-private-nodes": (
        "orders-eks",
        ("vpcCniOptions", "enableNetworkPolicy"),
        "note",
    ),
    "pulumi-resource-type-allow-list": ("idempotency-table", ("name",), "accepted"),
    "aws-ec2-instance-require-imdsv2": ("bastion", ("metadataOptions", "httpTokens"), "note"),
    "aws-ec2-instance-disallow-public-ip": ("bastion", ("associatePublicIpAddress",), "accepted"),
    "aws-ec2-instance-disallow-unencrypted-block-device": (
        "bastion",
        ("rootBlockDevice", "encrypted"),
        "note",
    ),
    "aws-ec2-subnet-disallow-auto-assign-public-ip": (
        "isolated-0",
        ("mapPublicIpOnLaunch",),
        "accepted",
    ),
    "aws-vpc-require-flow-logs": ("vpc-flow-log", ("vpcId",), "note"),
    "aws-rds-instance-disallow-unencrypted-storage": (
        "reporting-db",
        ("storageEncrypted",),
        "note",
    ),
    "aws-rds-instance-multi-az": ("reporting-db", ("multiAz",), "note"),
    "aws-rds-enable-auto-minor-version-upgrade": (
        "reporting-db",
        ("autoMinorVersionUpgrade",),
        "accepted",
    ),
    "aws-dynamodb-table-enable-point-in-time-recovery": (
        "idempotency-table",
        ("pointInTimeRecovery",),
        "note",
    ),
    "aws-dynamodb-table-configure-customer-managed-key": (
        "idempotency-table",
        ("serverSideEncryption",),
        "note",
    ),
    "aws-dynamodb-table-enable-deletion-protection": (
        "idempotency-table",
        ("deletionProtectionEnabled",),
        "note",
    ),
    "aws-efs-filesystem-disallow-unencrypted-file-system": ("shared-fs", ("encrypted",), "note"),
    "aws-efs-filesystem-disallow-single-availability-zone": (
        "shared-fs",
        ("availabilityZoneName",),
        "accepted",
    ),
    "aws-elasticache-cluster-disallow-standalone": (
        "orders-cache",
        ("replicationGroupId",),
        "accepted",
    ),
    "aws-s3-bucket-require-public-access-block": (
        "checkpoints-public-access",
        ("restrictPublicBuckets",),
        "note",
    ),
    "aws-s3-bucket-require-customer-managed-key": (
        "checkpoints-sse",
        ("rules", 0, "applyServerSideEncryptionByDefault"),
        "note",
    ),
    "aws-s3-bucket-require-versioning": (
        "checkpoints-versioning",
        ("versioningConfiguration", "status"),
        "accepted",
    ),
    "aws-s3-bucket-require-tls-only-policy": ("checkpoints-policy", ("policy",), "note"),
    "aws-s3-bucket-require-owner-enforced": (
        "checkpoints-ownership",
        ("rule", "objectOwnership"),
        "note",
    ),
    "aws-s3-bucket-disallow-public-acl": ("checkpoints", ("acl",), "accepted"),
    "aws-s3-audit-checkpoint-bucket-object-lock": (
        "checkpoints-lock",
        ("rule", "defaultRetention", "mode"),
        "note",
    ),
    "aws-iam-policy-disallow-full-admin": ("service-role-policy", ("policy",), "note"),
    "aws-iam-policy-disallow-privilege-escalation": ("service-role-policy", ("policy",), "note"),
    "aws-resource-policy-disallow-public-principal": ("orders-queue-policy", ("policy",), "note"),
    "aws-kms-key-disallow-bypass-policy-lockout-safety-check": (
        "db-key",
        ("bypassPolicyLockoutSafetyCheck",),
        "accepted",
    ),
    "aws-kms-key-reference-same-account": (
        "idempotency-table",
        ("serverSideEncryption", "kmsKeyArn"),
        "accepted",
    ),
    "aws-sns-topic-configure-customer-managed-key": (
        "alarms-topic",
        ("kmsMasterKeyId",),
        "accepted",
    ),
    "aws-secretsmanager-secret-configure-customer-managed-key": (
        "master-secret",
        ("kmsKeyId",),
        "accepted",
    ),
    "aws-secretsmanager-secret-enable-rotation": ("master-secret-rotation", ("secretId",), "note"),
    "aws-ecr-repository-enable-image-scan": (
        "orders-repo",
        ("imageScanningConfiguration", "scanOnPush"),
        "note",
    ),
    "aws-ecr-repository-disallow-mutable-image": ("orders-repo", ("imageTagMutability",), "note"),
    "aws-ecr-repository-configure-customer-managed-key": (
        "orders-repo",
        ("encryptionConfigurations",),
        "note",
    ),
    "aws-cloudwatch-data-store-alarms": ("dlq-not-empty", ("dimensions",), "note"),
    "aws-route53-failover-record-require-health-check": (
        "api-primary",
        ("healthCheckId",),
        "accepted",
    ),
    "aws-eks-cluster-enable-control-plane-logging": (
        "orders-eks",
        ("enabledClusterLogTypes",),
        "note",
    ),
    "aws-eks-cluster-require-control-plane-log-group": ("orders-eks", ("name",), "accepted"),
    "aws-backup-selection-linked-to-plan": ("orders-backup-selection", ("planId",), "accepted"),
    "aws-lb-loadbalancer-drop-invalid-header-fields": (
        "public-alb",
        ("dropInvalidHeaderFields",),
        "note",
    ),
    "aws-lb-loadbalancer-enable-access-logging": ("public-alb", ("accessLogs",), "note"),
    "aws-lb-loadbalancer-enable-deletion-protection": (
        "public-alb",
        ("enableDeletionProtection",),
        "note",
    ),
    "aws-wafv2-webacl-require-rules": ("api-waf", ("rules",), "note"),
}

"""Mutation and unknown-value cases of the controls added for the wider control set.

Each case starts from the compliant baseline plan (``fixtures.baseline_plan``), changes one
thing (a property, a deleted resource, or an added resource) and names exactly the
violations the control must report. The messages were checked by reading them, not copied
from a list the controls read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .fixtures import DELETE, PRIMARY


@dataclass(frozen=True)
class ExtraCase:
    policy: str
    resource: str  # logical name of the resource changed (or added)
    path: tuple[Any, ...]  # () with DELETE: the resource is deleted
    value: Any
    expected: tuple[tuple[str, str], ...]  # (resource reported on, message)
    add: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return f"{self.policy}:{self.resource}:{'.'.join(map(str, self.path))}"


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
    ExtraCase(
        "kubernetes-workload-restrict-service-account",
        "orders-worker",
        ("spec", "template", "spec", "automountServiceAccountToken"),
        True,
        (
            (
                "orders-worker",
                "The API token is mounted (automountServiceAccountToken is not false).",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-workload-approved-registries",
        "orders-worker",
        ("spec", "template", "spec", "containers", 0, "image"),
        "docker.io/library/orders:1.0.0",
        (
            (
                "orders-worker",
                "Container 'worker' image docker.io/library/orders:1.0.0 is not from an approved registry.",
            ),
        ),
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
        "kubernetes-workload-disallow-host-namespaces",
        "orders-api",
        ("spec", "template", "spec", "hostNetwork"),
        True,
        (("orders-api", "Pod spec sets hostNetwork: true."),),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-privilege-escalation",
        "orders-api",
        (
            "spec",
            "template",
            "spec",
            "containers",
            0,
            "securityContext",
            "allowPrivilegeEscalation",
        ),
        True,
        (("orders-api", "Container 'api' does not set allowPrivilegeEscalation: false."),),
    ),
    ExtraCase(
        "kubernetes-workload-restrict-capabilities",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "capabilities"),
        {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
        (("orders-api", "Container 'api' adds capabilities SYS_ADMIN."),),
    ),
    ExtraCase(
        "kubernetes-workload-require-seccomp-profile",
        "orders-api",
        ("spec", "template", "spec", "securityContext", "seccompProfile"),
        {"type": "Unconfined"},
        (("orders-api", "Container 'api' seccomp profile is Unconfined."),),
    ),
    ExtraCase(
        "kubernetes-workload-restrict-volume-types",
        "orders-api",
        ("spec", "template", "spec", "volumes"),
        [{"name": "host", "hostPath": {"path": "/"}}],
        (("orders-api", "Volume 'host' is of type hostPath."),),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-host-ports",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "ports"),
        [{"containerPort": 8000, "hostPort": 8000}],
        (("orders-api", "Container 'api' binds host port 8000."),),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-unsafe-security-options",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "procMount"),
        "Unmasked",
        (("orders-api", "Container 'api' sets procMount Unmasked."),),
    ),
    ExtraCase(
        "kubernetes-workload-read-only-root-filesystem",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"),
        False,
        (("orders-api", "Container 'api' root filesystem is writable."),),
    ),
    ExtraCase(
        "kubernetes-workload-pin-image-version",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "image"),
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders:latest",
        (
            (
                "orders-api",
                "Container 'api' image 123456789012.dkr.ecr.eu-central-1.amazonaws.com/"
                "orders:latest uses the latest tag.",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-workload-disallow-default-namespace",
        "orders-worker",
        ("metadata", "namespace"),
        DELETE,
        (
            (
                "orders-worker",
                "Resource is in the default namespace (metadata.namespace is not set).",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-pod-disallow-bare-pod",
        "debug-pod",
        (),
        None,
        (("debug-pod", "A bare Pod is declared; nothing recreates it when its node goes away."),),
        add={
            "type": "kubernetes:core/v1:Pod",
            "name": "debug-pod",
            "region": PRIMARY,
            "inputs": {
                "metadata": {"name": "debug", "namespace": "orders"},
                "spec": {"containers": []},
            },
        },
    ),
    ExtraCase(
        "kubernetes-service-disallow-external-exposure",
        "orders-api-service",
        ("spec", "type"),
        "LoadBalancer",
        (("orders-api-service", "Service is of type LoadBalancer."),),
    ),
    ExtraCase(
        "kubernetes-namespace-enforce-restricted-pod-security",
        "orders-namespace",
        ("metadata", "labels"),
        {},
        (
            (
                "orders-api",
                "Namespace 'orders' of workload 'orders-api' does not enforce the restricted Pod Security Standard.",
            ),
            (
                "orders-worker",
                "Namespace 'orders' of workload 'orders-worker' does not enforce the restricted Pod Security Standard.",
            ),
            (
                "migrate",
                "Namespace 'orders' of workload 'migrate' does not enforce the restricted Pod Security Standard.",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-workload-require-network-policy",
        "default-deny-standby",
        (),
        DELETE,
        (
            (
                "orders-api-standby",
                "Workload 'orders-api-standby' runs in namespace 'orders' without a default-deny NetworkPolicy.",
            ),
        ),
    ),
    ExtraCase(
        "kubernetes-helm-release-pin-chart-version",
        "keda",
        ("version",),
        DELETE,
        (("keda", "Helm release does not pin an exact chart version (version is None)."),),
    ),
    ExtraCase(
        "kubernetes-prometheusrule-require-alert-routing",
        "orders-alerts",
        ("spec", "groups", 0, "rules", 1, "labels"),
        {},
        (("orders-alerts", "Alert OutboxBacklogHigh has no severity label of page or ticket."),),
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
    "kubernetes-workload-restrict-service-account": (
        "orders-worker",
        ("spec", "template", "spec", "automountServiceAccountToken"),
        "note",
    ),
    "kubernetes-workload-approved-registries": (
        "orders-worker",
        ("spec", "template", "spec", "containers", 0, "image"),
        "accepted",
    ),
    "pulumi-resource-type-allow-list": ("idempotency-table", ("name",), "accepted"),
    "kubernetes-workload-disallow-host-namespaces": (
        "orders-api",
        ("spec", "template", "spec", "hostNetwork"),
        "note",
    ),
    "kubernetes-workload-disallow-privilege-escalation": (
        "orders-api",
        (
            "spec",
            "template",
            "spec",
            "containers",
            0,
            "securityContext",
            "allowPrivilegeEscalation",
        ),
        "note",
    ),
    "kubernetes-workload-restrict-capabilities": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "capabilities"),
        "note",
    ),
    "kubernetes-workload-require-seccomp-profile": (
        "orders-api",
        ("spec", "template", "spec", "securityContext", "seccompProfile"),
        "note",
    ),
    "kubernetes-workload-restrict-volume-types": (
        "orders-api",
        ("spec", "template", "spec", "volumes"),
        "note",
    ),
    "kubernetes-workload-disallow-host-ports": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "ports"),
        "accepted",
    ),
    "kubernetes-workload-disallow-unsafe-security-options": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "procMount"),
        "accepted",
    ),
    "kubernetes-workload-read-only-root-filesystem": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"),
        "note",
    ),
    "kubernetes-workload-pin-image-version": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "image"),
        "accepted",
    ),
    "kubernetes-workload-disallow-default-namespace": (
        "orders-worker",
        ("metadata", "namespace"),
        "accepted",
    ),
    "kubernetes-pod-disallow-bare-pod": ("orders-api", ("spec", "template"), "accepted"),
    "kubernetes-service-disallow-external-exposure": (
        "orders-api-service",
        ("spec", "type"),
        "note",
    ),
    "kubernetes-namespace-enforce-restricted-pod-security": (
        "orders-namespace",
        ("metadata", "labels"),
        "note",
    ),
    "kubernetes-workload-require-network-policy": (
        "default-deny-standby",
        ("spec", "podSelector"),
        "accepted",
    ),
    "kubernetes-helm-release-pin-chart-version": ("keda", ("version",), "note"),
    "kubernetes-prometheusrule-require-alert-routing": (
        "orders-alerts",
        ("spec", "groups", 0, "rules", 1, "labels"),
        "note",
    ),
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

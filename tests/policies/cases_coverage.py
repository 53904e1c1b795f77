"""Mutation and unknown-value cases of the controls that close the anchors' remaining gaps
(FSBP, CIS AWS/EKS and compliance-policies controls that had no control before).

Each case changes one thing in the compliant baseline and names exactly the violations the
control must report.
"""

from __future__ import annotations

from typing import Any

from .case_model import ExtraCase
from .cases_coverage_platform import PLATFORM_CASES
from .fixtures import CLUSTER_ARN, DELETE, PRIMARY

C = ExtraCase
_PDB_SPEC = ("spec", "maxUnavailable")
_WORKER_CONTAINER = ("spec", "template", "spec", "containers", 0)
_SECRET_ENV = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]


def _add(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, "name": name, "region": PRIMARY, "inputs": inputs}


DATA_STORE_CASES = [
    C(
        "aws-kms-key-deletion-window",
        "db-key",
        ("deletionWindowInDays",),
        7,
        (
            (
                "db-key",
                "KMS key deletion waiting period is 7 days; the minimum is 30 days "
                "(deletionWindowInDays).",
            ),
        ),
    ),
    C(
        "aws-rds-enable-log-exports",
        "orders-primary",
        ("enabledCloudwatchLogsExports",),
        [],
        (
            (
                "orders-primary",
                "No database log is exported to CloudWatch Logs (enabledCloudwatchLogsExports).",
            ),
        ),
    ),
    C(
        "aws-rds-enable-log-exports",
        "reporting-db",
        ("enabledCloudwatchLogsExports",),
        ["upgrade"],
        (
            (
                "reporting-db",
                "The postgres log 'postgresql' is not exported to CloudWatch Logs "
                "(enabledCloudwatchLogsExports is ['upgrade']).",
            ),
        ),
    ),
    C(
        "aws-rds-require-vpc",
        "orders-primary",
        ("dbSubnetGroupName",),
        DELETE,
        (
            (
                "orders-primary",
                "The database is not placed in the program's VPC (dbSubnetGroupName is not set "
                "or is the default group).",
            ),
        ),
    ),
    C(
        "aws-rds-enable-performance-insights",
        "orders-primary-0",
        ("performanceInsightsEnabled",),
        False,
        (("orders-primary-0", "Performance Insights is off (performanceInsightsEnabled)."),),
    ),
    C(
        "aws-elasticache-enable-auto-minor-version-upgrade",
        "orders-cache",
        ("autoMinorVersionUpgrade",),
        False,
        (("orders-cache", "Automatic minor version upgrades are off (autoMinorVersionUpgrade)."),),
    ),
    C(
        "aws-elasticache-replicationgroup-require-redis-auth",
        "legacy-cache",
        (),
        None,
        (
            (
                "legacy-cache",
                "Redis 5.0.6 replication group does not require Redis AUTH (authToken).",
            ),
        ),
        add=_add(
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "legacy-cache",
            {"engine": "redis", "engineVersion": "5.0.6", "transitEncryptionEnabled": True},
        ),
    ),
    C(
        "aws-dynamodb-table-require-on-demand-capacity",
        "idempotency-table",
        ("billingMode",),
        "PROVISIONED",
        (
            (
                "idempotency-table",
                "The table uses PROVISIONED capacity, which does not scale with demand "
                "(billingMode).",
            ),
        ),
    ),
    C(
        "aws-backup-selection-covers-efs",
        "orders-backup-selection",
        ("resources",),
        [CLUSTER_ARN],
        (("shared-fs", "EFS file system 'shared-fs' is not selected by any AWS Backup plan."),),
    ),
]

S3_CASES = [
    C(
        "aws-s3-bucket-enable-server-access-logging",
        "checkpoints-logging",
        (),
        DELETE,
        (
            (
                "checkpoints",
                "Bucket 'orders-audit-checkpoints' does not log server access requests "
                "(no aws.s3.BucketLogging with a targetBucket).",
            ),
        ),
    ),
    C(
        "aws-s3-bucket-require-lifecycle-policy",
        "checkpoints-lifecycle",
        ("rules", 0, "status"),
        "Disabled",
        (
            (
                "checkpoints",
                "Bucket 'orders-audit-checkpoints' has no lifecycle configuration with an "
                "enabled rule.",
            ),
        ),
    ),
    C(
        "aws-s3-bucket-enable-replication",
        "checkpoints-replication",
        (),
        DELETE,
        (
            (
                "checkpoints",
                "Bucket 'orders-audit-checkpoints' is not replicated (no "
                "aws.s3.BucketReplicationConfig with an enabled rule).",
            ),
        ),
    ),
    C(
        "aws-s3-bucket-enable-bucket-key",
        "checkpoints-sse",
        ("rules", 0, "bucketKeyEnabled"),
        False,
        (
            (
                "checkpoints-sse",
                "SSE-KMS encryption does not use an S3 Bucket Key (bucketKeyEnabled).",
            ),
        ),
    ),
    C(
        "aws-s3-bucket-enable-mfa-delete",
        "checkpoints-versioning",
        ("versioningConfiguration", "mfaDelete"),
        "Disabled",
        (
            (
                "checkpoints-versioning",
                "MFA delete is not enabled (versioningConfiguration.mfaDelete).",
            ),
        ),
    ),
]

KUBERNETES_CASES = [
    C(
        "kubernetes-workload-disallow-secrets-in-env",
        "orders-worker",
        (*_WORKER_CONTAINER, "env"),
        _SECRET_ENV,
        (
            (
                "orders-worker",
                "Container 'worker' takes a Secret as an environment variable "
                "(env DB_PASSWORD from Secret 'db').",
            ),
        ),
    ),
    C(
        "kubernetes-workload-disallow-secrets-in-env",
        "orders-worker",
        (*_WORKER_CONTAINER, "envFrom"),
        [{"secretRef": {"name": "db"}}],
        (
            (
                "orders-worker",
                "Container 'worker' takes a Secret as an environment variable "
                "(envFrom Secret 'db').",
            ),
        ),
    ),
    C(
        "kubernetes-pdb-disallow-zero-voluntary-disruption",
        "orders-worker-pdb",
        _PDB_SPEC,
        0,
        (
            (
                "orders-worker-pdb",
                "The PodDisruptionBudget allows no voluntary disruption (maxUnavailable 0).",
            ),
        ),
    ),
    C(
        "kubernetes-pdb-disallow-zero-voluntary-disruption",
        "orders-api-pdb",
        ("spec", "minAvailable"),
        "100%",
        (
            (
                "orders-api-pdb",
                "The PodDisruptionBudget allows no voluntary disruption (minAvailable 100%).",
            ),
        ),
    ),
    C(
        "kubernetes-workload-recommended-labels",
        "orders-worker",
        ("metadata", "labels"),
        DELETE,
        (
            (
                "orders-worker",
                "Recommended labels are missing: app.kubernetes.io/name, "
                "app.kubernetes.io/part-of (metadata.labels).",
            ),
        ),
    ),
]

COVERAGE_CASES = [*DATA_STORE_CASES, *S3_CASES, *PLATFORM_CASES, *KUBERNETES_CASES]

# control -> (resource, path set to an unknown value, "note" | "accepted")
COVERAGE_UNKNOWN_CASES: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "aws-kms-key-deletion-window": ("db-key", ("deletionWindowInDays",), "note"),
    "aws-rds-enable-log-exports": ("orders-primary", ("enabledCloudwatchLogsExports",), "note"),
    "aws-rds-require-vpc": ("orders-primary", ("dbSubnetGroupName",), "note"),
    "aws-rds-enable-performance-insights": (
        "orders-primary-0",
        ("performanceInsightsEnabled",),
        "note",
    ),
    "aws-elasticache-enable-auto-minor-version-upgrade": (
        "orders-cache",
        ("autoMinorVersionUpgrade",),
        "note",
    ),
    "aws-elasticache-replicationgroup-require-redis-auth": (
        "orders-cache",
        ("engineVersion",),
        "note",
    ),
    "aws-dynamodb-table-require-on-demand-capacity": (
        "idempotency-table",
        ("billingMode",),
        "note",
    ),
    "aws-backup-selection-covers-efs": ("orders-backup-selection", ("resources", 1), "note"),
    "aws-s3-bucket-enable-server-access-logging": (
        "checkpoints-logging",
        ("targetBucket",),
        "accepted",
    ),
    "aws-s3-bucket-require-lifecycle-policy": ("checkpoints-lifecycle", ("rules",), "accepted"),
    "aws-s3-bucket-enable-replication": ("checkpoints-replication", ("rules",), "accepted"),
    "aws-s3-bucket-enable-bucket-key": ("checkpoints-sse", ("rules",), "note"),
    "aws-s3-bucket-enable-mfa-delete": (
        "checkpoints-versioning",
        ("versioningConfiguration", "mfaDelete"),
        "note",
    ),
    "aws-lb-loadbalancer-desync-mitigation-mode": ("public-alb", ("desyncMitigationMode",), "note"),
    "aws-eks-cluster-supported-version": ("orders-eks", ("version",), "note"),
    "aws-eks-nodegroup-multiple-instance-types": ("nodes", ("instanceTypes",), "note"),
    "aws-ecr-repository-require-lifecycle-policy": (
        "orders-repo-lifecycle",
        ("policy",),
        "accepted",
    ),
    "aws-vpc-require-ec2-endpoint": ("ec2-endpoint", ("serviceName",), "accepted"),
    "aws-ec2-instance-require-ssm-instance-profile": ("bastion", ("iamInstanceProfile",), "note"),
    "aws-ec2-securitygroup-rule-require-description": ("alb-https", ("description",), "note"),
    "aws-resource-require-description": ("db-key", ("description",), "note"),
    "aws-iam-restrict-ecr-to-read-only": ("service-role-policy", ("policy",), "note"),
    "aws-sns-topic-enable-delivery-status-logging": (
        "alarms-topic",
        ("sqsFailureFeedbackRoleArn",),
        "accepted",
    ),
    "kubernetes-workload-disallow-secrets-in-env": (
        "orders-worker",
        (*_WORKER_CONTAINER, "env"),
        "note",
    ),
    "kubernetes-pdb-disallow-zero-voluntary-disruption": ("orders-worker-pdb", _PDB_SPEC, "note"),
    "kubernetes-workload-recommended-labels": ("orders-worker", ("metadata", "labels"), "note"),
}

COVERAGE_CASES += [
    C(
        "aws-rds-disallow-default-port",
        "orders-primary",
        ("port",),
        DELETE,
        (
            (
                "orders-primary",
                "The database listens on the aurora-postgresql default port 5432 (port).",
            ),
        ),
    ),
    C(
        "aws-rds-disallow-default-port",
        "reporting-db",
        ("port",),
        5432,
        (("reporting-db", "The database listens on the postgres default port 5432 (port)."),),
    ),
    C(
        "aws-s3-bucket-enable-event-notifications",
        "checkpoints-events",
        ("eventbridge",),
        False,
        (
            (
                "checkpoints",
                "Bucket 'orders-audit-checkpoints' sends no event notifications "
                "(no aws.s3.BucketNotification with a target).",
            ),
        ),
    ),
    C(
        "kubernetes-secret-require-external-store",
        "metrics-reader-token",
        ("type",),
        "Opaque",
        (),
    ),
    C(
        "kubernetes-secret-require-external-store",
        "orders-db-secret",
        (),
        None,
        (
            (
                "orders-db-secret",
                "The Secret's values are declared in the program (data/stringData).",
            ),
        ),
        add=_add(
            "kubernetes:core/v1:Secret",
            "orders-db-secret",
            {
                "metadata": {"name": "orders-db", "namespace": "orders"},
                "type": "Opaque",
                "stringData": {"password": "[secret]"},
            },
        ),
    ),
    C(
        "aws-lb-loadbalancer-multi-az",
        "public-alb",
        ("subnets",),
        ["subnet-0"],
        (("public-alb", "Load balancer 'public-alb' is in 1 subnet(s); use 2 AZs or more."),),
    ),
    C(
        "aws-lb-loadbalancer-multi-az",
        "orders-api-ingress",
        ("metadata", "annotations", "alb.ingress.kubernetes.io/subnets"),
        "subnet-0",
        (
            (
                "orders-api-ingress",
                "ALB Ingress 'orders-api-ingress' would span 1 Availability Zone(s); use 2 or "
                "more.",
            ),
        ),
    ),
    C(
        "aws-lb-loadbalancer-multi-az",
        "isolated-1",
        ("tags",),
        {},
        (),
    ),
]

COVERAGE_UNKNOWN_CASES.update(
    {
        "aws-rds-disallow-default-port": ("orders-primary", ("port",), "note"),
        "aws-s3-bucket-enable-event-notifications": (
            "checkpoints-events",
            ("eventbridge",),
            "accepted",
        ),
        "kubernetes-secret-require-external-store": ("metrics-reader-token", ("type",), "accepted"),
        "aws-lb-loadbalancer-multi-az": ("public-alb", ("subnets",), "accepted"),
    }
)

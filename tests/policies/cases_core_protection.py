"""Single-mutation cases of the original controls: encryption at rest and in transit.

Each case changes one property of the compliant baseline plan and names the exact message.
"""

from __future__ import annotations

from .case_model import Case
from .fixtures import ACCOUNT, DELETE, PRIMARY

PROTECTION_CASES = [
    # --- encryption at rest
    Case(
        "aws-rds-cluster-disallow-unencrypted-storage",
        "orders-primary",
        ("storageEncrypted",),
        False,
        "RDS cluster storage is not encrypted (storageEncrypted is not true).",
    ),
    Case(
        "aws-rds-cluster-configure-customer-managed-key",
        "orders-primary",
        ("kmsKeyId",),
        DELETE,
        "RDS cluster storage is not encrypted with a customer-managed KMS key (kmsKeyId is not "
        "set).",
    ),
    Case(
        "aws-rds-cluster-configure-customer-managed-key",
        "orders-primary",
        ("kmsKeyId",),
        "alias/aws/rds",
        "RDS cluster storage uses the AWS-managed key alias/aws/rds; set kmsKeyId to a "
        "customer-managed KMS key.",
    ),
    Case(
        "aws-rds-globalcluster-disallow-unencrypted-storage",
        "orders-global",
        ("storageEncrypted",),
        False,
        "Global cluster storage is not encrypted (storageEncrypted is not true).",
    ),
    Case(
        "aws-rds-performance-insights-configure-customer-managed-key",
        "orders-primary-1",
        ("performanceInsightsKmsKeyId",),
        DELETE,
        "Performance Insights is enabled without a customer-managed KMS key "
        "(performanceInsightsKmsKeyId is not set).",
    ),
    Case(
        "aws-elasticache-replicationgroup-disallow-unencrypted-at-rest",
        "orders-cache",
        ("atRestEncryptionEnabled",),
        False,
        "ElastiCache replication group is not encrypted at rest (atRestEncryptionEnabled is not "
        "true).",
    ),
    Case(
        "aws-elasticache-replicationgroup-configure-customer-managed-key",
        "orders-cache",
        ("kmsKeyId",),
        DELETE,
        "ElastiCache replication group is not encrypted with a customer-managed KMS key (kmsKeyId "
        "is not set).",
    ),
    Case(
        "aws-sqs-queue-configure-customer-managed-key",
        "orders-queue",
        ("kmsMasterKeyId",),
        DELETE,
        "SQS queue is not encrypted with a customer-managed KMS key (kmsMasterKeyId is not set).",
    ),
    Case(
        "aws-eks-cluster-disallow-unencrypted-secrets",
        "orders-eks",
        ("encryptionConfigKeyArn",),
        DELETE,
        "EKS secrets are not envelope-encrypted with a KMS key (encryptionConfigKeyArn is not "
        "set).",
    ),
    Case(
        "aws-eks-cluster-disallow-unencrypted-secrets",
        "orders-eks-cluster",
        ("encryptionConfig", "resources"),
        [],
        "EKS secrets are not envelope-encrypted with a KMS key (encryptionConfig with "
        "provider.keyArn and "
        "resources ['secrets'] is not set).",
    ),
    Case(
        "aws-backup-vault-configure-customer-managed-key",
        "primary-vault",
        ("kmsKeyArn",),
        DELETE,
        "Backup vault is not encrypted with a customer-managed KMS key (kmsKeyArn is not set).",
    ),
    Case(
        "aws-ec2-ebs-disallow-unencrypted-volumes",
        "nodes-lt",
        ("blockDeviceMappings", 0, "ebs", "encrypted"),
        "false",
        "Launch template volume /dev/xvda is not encrypted (ebs.encrypted is not true).",
    ),
    Case(
        "aws-ec2-ebs-disallow-unencrypted-volumes",
        "nodes",
        ("launchTemplate",),
        DELETE,
        "Node group does not use a launch template, so its node volumes are not encrypted with a "
        "customer-managed KMS key (launchTemplate is not set).",
    ),
    Case(
        "aws-ec2-ebs-disallow-unencrypted-volumes",
        "scratch",
        ("encrypted",),
        False,
        "EBS volume is not encrypted (encrypted is not true).",
    ),
    Case(
        "aws-cloudwatch-loggroup-configure-customer-managed-key",
        "flow-logs",
        ("kmsKeyId",),
        DELETE,
        "CloudWatch log group is not encrypted with a customer-managed KMS key (kmsKeyId is not "
        "set).",
    ),
    Case(
        "aws-kms-key-enable-rotation",
        "db-key",
        ("enableKeyRotation",),
        False,
        "KMS key rotation is not enabled (enableKeyRotation is not true).",
    ),
    Case(
        "aws-kms-key-enable-rotation",
        "db-key",
        ("rotationPeriodInDays",),
        730,
        "KMS key rotation period is 730 days; the maximum is 365 days.",
    ),
    Case(
        "aws-kms-data-store-keys-managed-in-stack",
        "orders-cache",
        ("kmsKeyId",),
        f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/not-ours",
        "aws:elasticache/replicationGroup:ReplicationGroup 'orders-cache' uses a KMS key that is "
        "not created in "
        f"this stack (kmsKeyId = arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/not-ours).",
    ),
    Case(
        "aws-kms-data-store-keys-managed-in-stack",
        "logs-key",
        ("enableKeyRotation",),
        False,
        "aws:cloudwatch/logGroup:LogGroup 'flow-logs' uses KMS key 'logs-key', which has rotation "
        "disabled "
        "(kmsKeyId).",
        violator="flow-logs",
    ),
    # --- encryption in transit
    Case(
        "aws-elasticache-replicationgroup-disallow-unencrypted-transit",
        "orders-cache",
        ("transitEncryptionEnabled",),
        False,
        "ElastiCache replication group does not encrypt traffic in transit "
        "(transitEncryptionEnabled is not true).",
    ),
    Case(
        "aws-elasticache-replicationgroup-disallow-unencrypted-transit",
        "orders-cache",
        ("transitEncryptionMode",),
        "preferred",
        "ElastiCache replication group accepts unencrypted connections (transitEncryptionMode is "
        "'preferred'; "
        "use 'required').",
    ),
    Case(
        "aws-rds-clusterparametergroup-force-ssl",
        "orders-pg",
        ("parameters", 0, "value"),
        "0",
        "Cluster parameter group does not force TLS (rds.force_ssl is not 1).",
    ),
    Case(
        "aws-alb-require-https",
        "https",
        ("protocol",),
        "HTTP",
        "Load balancer listener uses HTTP without redirecting to HTTPS.",
    ),
    Case(
        "aws-alb-require-https",
        "orders-api-ingress",
        ("metadata", "annotations", "alb.ingress.kubernetes.io/listen-ports"),
        '[{"HTTP": 80}]',
        "ALB ingress has no HTTPS listener (listen-ports has no HTTPS entry).",
    ),
    Case(
        "aws-alb-require-https",
        "orders-api-ingress",
        ("metadata", "annotations", "alb.ingress.kubernetes.io/ssl-redirect"),
        DELETE,
        "ALB ingress serves plain HTTP on port 80 without redirecting to HTTPS (ssl-redirect "
        "annotation is "
        "not set).",
    ),
    Case(
        "aws-alb-require-modern-tls-policy",
        "https",
        ("sslPolicy",),
        "ELBSecurityPolicy-2016-08",
        "TLS security policy ELBSecurityPolicy-2016-08 is not an approved policy (sslPolicy).",
    ),
    Case(
        "aws-alb-require-modern-tls-policy",
        "orders-api-ingress",
        ("metadata", "annotations", "alb.ingress.kubernetes.io/ssl-policy"),
        DELETE,
        "TLS security policy is not set (ssl-policy annotation is missing), so the ALB default "
        "policy "
        "allows TLS 1.0/1.1.",
    ),
    Case(
        "aws-rds-cluster-require-tls-parameter-group",
        "orders-primary",
        ("dbClusterParameterGroupName",),
        DELETE,
        "Aurora cluster 'orders-primary' uses the default cluster parameter group, which does not "
        "force TLS "
        "(dbClusterParameterGroupName is not set).",
    ),
    Case(
        "aws-rds-cluster-require-tls-parameter-group",
        "orders-pg",
        ("parameters", 0, "value"),
        "0",
        "Aurora cluster 'orders-primary' uses parameter group 'orders-pg', which does not force "
        "TLS "
        "(rds.force_ssl is not 1).",
        violator="orders-primary",
    ),
]

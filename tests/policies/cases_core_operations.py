"""Single-mutation cases of the original controls: resilience, exposure and Kubernetes
workloads, and the unknown-value case of every original control.
"""

from __future__ import annotations

from .case_model import Case
from .fixtures import ACCOUNT, DELETE, PRIMARY

OPERATIONS_CASES = [
    # --- resilience
    Case(
        "aws-rds-cluster-backup-retention",
        "orders-primary",
        ("backupRetentionPeriod",),
        7,
        "Backup retention is 7 days; the minimum is 14 days (backupRetentionPeriod).",
    ),
    Case(
        "aws-rds-cluster-deletion-protection",
        "orders-primary",
        ("deletionProtection",),
        False,
        "Deletion protection is not enabled (deletionProtection is not true).",
    ),
    Case(
        "aws-rds-cluster-deletion-protection",
        "orders-global",
        ("deletionProtection",),
        False,
        "Deletion protection is not enabled (deletionProtection is not true).",
    ),
    Case(
        "aws-elasticache-replicationgroup-multi-az-failover",
        "orders-cache",
        ("multiAzEnabled",),
        False,
        "Multi-AZ is not enabled (multiAzEnabled is not true).",
    ),
    Case(
        "aws-elasticache-replicationgroup-multi-az-failover",
        "orders-cache",
        ("automaticFailoverEnabled",),
        False,
        "Automatic failover is not enabled (automaticFailoverEnabled is not true).",
    ),
    Case(
        "aws-elasticache-replicationgroup-multi-az-failover",
        "orders-cache",
        ("numCacheClusters",),
        1,
        "Replication group has 1 node(s); at least 2 are required (numCacheClusters).",
    ),
    Case(
        "aws-elasticache-replicationgroup-snapshot-retention",
        "orders-cache",
        ("snapshotRetentionLimit",),
        0,
        "Snapshot retention is 0 days; the minimum is 1 days (snapshotRetentionLimit).",
    ),
    Case(
        "aws-backup-plan-retention",
        "orders-backup",
        ("rules", 0, "lifecycle", "deleteAfter"),
        7,
        "Backup rule daily keeps recovery points 7 days; the minimum is 14 days "
        "(lifecycle.deleteAfter).",
    ),
    Case(
        "aws-backup-plan-enable-continuous-backup",
        "orders-backup",
        ("rules", 1, "enableContinuousBackup"),
        False,
        "No backup rule enables continuous backup (enableContinuousBackup is not true).",
    ),
    Case(
        "aws-backup-plan-cross-region-copy",
        "orders-backup",
        ("rules", 0, "copyActions", 0, "destinationVaultArn"),
        f"arn:aws:backup:{PRIMARY}:{ACCOUNT}:backup-vault:orders-primary",
        "Backup plan 'orders-backup' copies recovery points only within eu-central-1 (no copy "
        "action targets a "
        "vault in another region).",
    ),
    Case(
        "aws-backup-plan-cross-region-copy",
        "orders-backup",
        ("rules", 0, "copyActions"),
        DELETE,
        "Backup plan 'orders-backup' has no cross-region copy action (rules[].copyActions is "
        "empty).",
    ),
    Case(
        "aws-rds-cluster-multi-az-instances",
        "orders-primary-1",
        ("availabilityZone",),
        f"{PRIMARY}a",
        "Aurora cluster 'orders-primary' has instances in 1 distinct AZ(s) (eu-central-1a); at "
        "least 2 are "
        "required (availabilityZone).",
        violator="orders-primary",
    ),
    Case(
        "aws-rds-cluster-multi-az-instances",
        "orders-primary-1",
        ("clusterIdentifier",),
        "elsewhere",
        "Aurora cluster 'orders-primary' has 1 instance(s); at least 2 are required.",
        violator="orders-primary",
    ),
    Case(
        "aws-multi-az-subnets",
        "db-subnets",
        ("subnetIds",),
        ["subnet-0", "subnet-1"],
        "aws:rds/subnetGroup:SubnetGroup 'db-subnets' spans 2 AZ(s)/subnet(s); at least 3 are "
        "required "
        "(subnetIds).",
    ),
    Case(
        "aws-sqs-fifo-queue-require-fifo-dead-letter-queue",
        "orders-dlq",
        ("fifoQueue",),
        False,
        "FIFO queue 'orders-queue' redrives to a dead-letter queue that is not FIFO "
        f"(arn:aws:sqs:{PRIMARY}:{ACCOUNT}:orders-dlq.fifo).",
        violator="orders-queue",
    ),
    Case(
        "aws-backup-selection-covers-aurora",
        "orders-backup-selection",
        ("resources",),
        [],
        "Aurora cluster 'orders-primary' is not selected by any AWS Backup plan.",
        violator="orders-primary",
    ),
    Case(
        "aws-backup-vault-lock",
        "orders-primary-lock",
        ("backupVaultName",),
        "another-vault",
        "Backup vault 'primary-vault' has no vault lock.",
        violator="primary-vault",
    ),
    Case(
        "aws-backup-vault-lock",
        "orders-standby-lock",
        ("minRetentionDays",),
        7,
        "Vault lock of 'standby-vault' allows deleting recovery points after 7 days; the minimum "
        "is 14 days (minRetentionDays).",
        violator="standby-vault",
    ),
    Case(
        "aws-backup-restore-testing",
        "restore-test-aurora",
        ("protectedResourceArns",),
        [],
        "Aurora cluster 'orders-primary' has no restore test.",
        violator="orders-primary",
    ),
    Case(
        "aws-cloudwatch-loggroup-retention",
        "flow-logs",
        ("retentionInDays",),
        90,
        "Log group keeps logs 90 days; the minimum is 365 days (retentionInDays).",
    ),
    # --- exposure
    Case(
        "aws-rds-instance-disallow-public-access",
        "orders-primary-0",
        ("publiclyAccessible",),
        True,
        "Database is publicly accessible (publiclyAccessible is true).",
    ),
    Case(
        "aws-ec2-securitygroup-disallow-public-ingress",
        "db-sg",
        ("ingress", 0, "cidrBlocks"),
        ["0.0.0.0/0"],
        "Security group allows port 5432 from the whole internet (0.0.0.0/0).",
    ),
    Case(
        "aws-ec2-securitygroup-disallow-public-ingress",
        "cache-from-nodes",
        ("cidrIpv6",),
        "::/0",
        "Security group allows port 6379 from the whole internet (::/0).",
    ),
    Case(
        "aws-ec2-securitygroup-disallow-public-ingress",
        "alb-https",
        ("cidrBlocks",),
        ["0.0.0.0/0"],
        "Security group allows port 443 from the whole internet (0.0.0.0/0).",
    ),
    Case(
        "aws-eks-cluster-restrict-public-endpoint",
        "orders-eks",
        ("publicAccessCidrs",),
        DELETE,
        "EKS API endpoint is public and open to 0.0.0.0/0 (publicAccessCidrs is not set).",
    ),
    Case(
        "aws-eks-cluster-restrict-public-endpoint",
        "orders-eks-cluster",
        ("vpcConfig", "endpointPublicAccess"),
        True,
        "EKS API endpoint is public and open to 0.0.0.0/0 (publicAccessCidrs is not set).",
    ),
    Case(
        "aws-ec2-default-security-group-restrict-all",
        "default-sg",
        ("ingress",),
        [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
        "The default security group of VPC 'vpc' has ingress rules (ingress is not empty).",
    ),
    Case(
        "aws-ec2-default-security-group-restrict-all",
        "default-sg",
        ("vpcId",),
        "vpc-other",
        "The default security group of VPC 'vpc' is not managed, so it keeps AWS's "
        "allow-all-within-group rules.",
        violator="vpc",
    ),
    # --- kubernetes workload
    Case(
        "kubernetes-workload-min-replicas",
        "orders-api",
        ("spec", "replicas"),
        1,
        "Workload 'orders-api' runs 1 replica(s); the minimum is 2 (spec.replicas).",
    ),
    Case(
        "kubernetes-workload-min-replicas",
        "orders-api-hpa",
        ("spec", "minReplicas"),
        1,
        "Autoscaler 'orders-api-hpa' for 'orders-api' allows 1 replica(s); the minimum is 2 "
        "(spec.minReplicas).",
    ),
    Case(
        "kubernetes-workload-require-pod-disruption-budget",
        "orders-api-pdb",
        ("spec", "selector", "matchLabels", "app"),
        "other",
        "Workload 'orders-api' has no PodDisruptionBudget selecting its pods.",
        violator="orders-api",
    ),
    Case(
        "kubernetes-workload-require-pod-disruption-budget",
        "orders-api-pdb",
        ("spec", "minAvailable"),
        0,
        "PodDisruptionBudget 'orders-api-pdb' allows all pods of 'orders-api' to be evicted "
        "(minAvailable 0).",
    ),
    Case(
        "kubernetes-workload-zone-topology-spread",
        "orders-api",
        ("spec", "template", "spec", "topologySpreadConstraints"),
        DELETE,
        "Pods are not spread across zones (no topologySpreadConstraints entry with topologyKey "
        "topology.kubernetes.io/zone).",
    ),
    Case(
        "kubernetes-workload-require-probes",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "readinessProbe"),
        DELETE,
        "Container 'api' has no readinessProbe.",
    ),
    Case(
        "kubernetes-workload-run-as-non-root",
        "orders-api",
        ("spec", "template", "spec", "securityContext"),
        DELETE,
        "Container 'api' may run as root (runAsNonRoot is not true).",
    ),
    Case(
        "kubernetes-workload-run-as-non-root",
        "migrate",
        ("spec", "template", "spec", "containers", 0, "securityContext"),
        {"privileged": True},
        "Container 'migrate' is privileged (securityContext.privileged is true).",
    ),
    Case(
        "kubernetes-workload-background-liveness-probe",
        "orders-worker",
        ("spec", "template", "spec", "containers", 0, "livenessProbe"),
        DELETE,
        "Container 'worker' exposes no port and has no livenessProbe.",
    ),
    Case(
        "kubernetes-workload-min-replicas",
        "orders-api-standby",
        ("spec", "replicas"),
        0,
        "Workload 'orders-api-standby' runs 0 replica(s); the minimum is 1 (spec.replicas).",
    ),
    Case(
        "kubernetes-workload-min-replicas",
        "orders-worker",
        ("spec", "replicas"),
        1,
        "Workload 'orders-worker' runs 1 replica(s); the minimum is 2 (spec.replicas).",
    ),
    Case(
        "kubernetes-workload-resource-limits",
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "resources", "limits", "cpu"),
        DELETE,
        "Container 'api' does not set limits.cpu.",
    ),
]

# The property to make unknown for each control's unknown-value case, and what is expected:
# "note" (skipped with a note) or "pass" (an unknown reference is accepted as present).
UNKNOWN_CASES = {
    "aws-rds-cluster-disallow-unencrypted-storage": (
        "orders-primary",
        ("storageEncrypted",),
        "note",
    ),
    "aws-rds-cluster-configure-customer-managed-key": ("orders-primary", ("kmsKeyId",), "pass"),
    "aws-rds-globalcluster-disallow-unencrypted-storage": (
        "orders-global",
        ("storageEncrypted",),
        "note",
    ),
    "aws-rds-performance-insights-configure-customer-managed-key": (
        "orders-primary-1",
        ("performanceInsightsEnabled",),
        "note",
    ),
    "aws-elasticache-replicationgroup-disallow-unencrypted-at-rest": (
        "orders-cache",
        ("atRestEncryptionEnabled",),
        "note",
    ),
    "aws-elasticache-replicationgroup-configure-customer-managed-key": (
        "orders-cache",
        ("kmsKeyId",),
        "pass",
    ),
    "aws-sqs-queue-configure-customer-managed-key": ("orders-queue", ("kmsMasterKeyId",), "pass"),
    "aws-eks-cluster-disallow-unencrypted-secrets": (
        "orders-eks",
        ("encryptionConfigKeyArn",),
        "pass",
    ),
    "aws-backup-vault-configure-customer-managed-key": ("primary-vault", ("kmsKeyArn",), "pass"),
    "aws-ec2-ebs-disallow-unencrypted-volumes": ("nodes-lt", ("blockDeviceMappings",), "note"),
    "aws-cloudwatch-loggroup-configure-customer-managed-key": ("flow-logs", ("kmsKeyId",), "pass"),
    "aws-kms-key-enable-rotation": ("db-key", ("enableKeyRotation",), "note"),
    "aws-elasticache-replicationgroup-disallow-unencrypted-transit": (
        "orders-cache",
        ("transitEncryptionEnabled",),
        "note",
    ),
    "aws-rds-clusterparametergroup-force-ssl": ("orders-pg", ("parameters",), "note"),
    "aws-alb-require-https": ("https", ("protocol",), "note"),
    "aws-alb-require-modern-tls-policy": ("https", ("sslPolicy",), "note"),
    "aws-rds-cluster-require-tls-parameter-group": (
        "orders-primary",
        ("dbClusterParameterGroupName",),
        "note",
    ),
    "aws-kms-data-store-keys-managed-in-stack": ("orders-primary", ("kmsKeyId",), "note"),
    "aws-rds-cluster-backup-retention": ("orders-primary", ("backupRetentionPeriod",), "note"),
    "aws-rds-cluster-deletion-protection": ("orders-primary", ("deletionProtection",), "note"),
    "aws-elasticache-replicationgroup-multi-az-failover": (
        "orders-cache",
        ("multiAzEnabled",),
        "note",
    ),
    "aws-elasticache-replicationgroup-snapshot-retention": (
        "orders-cache",
        ("snapshotRetentionLimit",),
        "note",
    ),
    "aws-backup-plan-retention": (
        "orders-backup",
        ("rules", 0, "lifecycle", "deleteAfter"),
        "note",
    ),
    "aws-backup-plan-enable-continuous-backup": (
        "orders-backup",
        ("rules", 1, "enableContinuousBackup"),
        "note",
    ),
    "aws-backup-plan-cross-region-copy": (
        "orders-backup",
        ("rules", 0, "copyActions", 0, "destinationVaultArn"),
        "note",
    ),
    "aws-rds-cluster-multi-az-instances": ("orders-primary-1", ("availabilityZone",), "note"),
    "aws-multi-az-subnets": ("db-subnets", ("subnetIds",), "pass"),
    "aws-sqs-fifo-queue-require-fifo-dead-letter-queue": (
        "orders-queue",
        ("redrivePolicy",),
        "note",
    ),
    "aws-rds-instance-disallow-public-access": (
        "orders-primary-0",
        ("publiclyAccessible",),
        "note",
    ),
    "aws-ec2-securitygroup-disallow-public-ingress": (
        "db-sg",
        ("ingress", 0, "cidrBlocks"),
        "note",
    ),
    "aws-eks-cluster-restrict-public-endpoint": ("orders-eks", ("publicAccessCidrs",), "note"),
    "kubernetes-workload-min-replicas": ("orders-api-hpa", ("spec", "minReplicas"), "note"),
    "kubernetes-workload-require-pod-disruption-budget": (
        "orders-api-pdb",
        ("spec", "selector"),
        "note",
    ),
    "kubernetes-workload-zone-topology-spread": ("orders-api", ("spec", "template"), "note"),
    "kubernetes-workload-require-probes": ("orders-api", ("spec", "template"), "note"),
    "kubernetes-workload-run-as-non-root": ("orders-api", ("spec", "template"), "note"),
    "aws-backup-selection-covers-aurora": ("orders-backup-selection", ("resources", 0), "note"),
    "aws-backup-vault-lock": ("orders-primary-lock", ("backupVaultName",), "note"),
    "aws-backup-restore-testing": ("restore-test-aurora", ("protectedResourceArns", 0), "note"),
    "aws-cloudwatch-loggroup-retention": ("flow-logs", ("retentionInDays",), "note"),
    "aws-ec2-default-security-group-restrict-all": ("default-sg", ("vpcId",), "note"),
    "kubernetes-workload-background-liveness-probe": (
        "orders-worker",
        ("spec", "template"),
        "note",
    ),
    "kubernetes-workload-resource-limits": (
        "orders-api",
        ("spec", "template", "spec", "containers", 0, "resources"),
        "note",
    ),
}

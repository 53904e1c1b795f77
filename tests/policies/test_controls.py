"""Per control: the baseline passes, a one-property mutation violates it with the exact
message, and an unknown value (as during `pulumi preview`) neither crashes nor fails."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policies import all_policies
from policies.framework import ANY_TYPE, ControlResourcePolicy

from .case_model import ExtraCase
from .cases_extra import EXTRA_CASES, EXTRA_UNKNOWN_CASES
from .fixtures import (
    ACCOUNT,
    DELETE,
    PRIMARY,
    UNKNOWN,
    baseline_plan,
    mutated,
    run,
    set_path,
)

POLICIES = {p.name: p for p in all_policies()}


@dataclass(frozen=True)
class Case:
    policy: str
    resource: str  # logical name in the baseline plan
    path: tuple[Any, ...]
    value: Any
    message: str
    violator: str = ""  # resource the violation is reported on, if not `resource`

    @property
    def id(self) -> str:
        return f"{self.policy}:{self.resource}:{'.'.join(map(str, self.path))}"


CASES = [
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


# Prohibitions: any resource in scope is a violation, so the baseline has none.
NOTHING_IN_SCOPE_BY_DESIGN = {
    "kubernetes-pod-disallow-bare-pod",
    "aws-elasticache-cluster-disallow-standalone",
}


def test_every_control_has_a_mutation_and_an_unknown_case() -> None:
    assert set(POLICIES) == {case.policy for case in CASES} | {c.policy for c in EXTRA_CASES}
    assert set(POLICIES) == set(UNKNOWN_CASES) | set(EXTRA_UNKNOWN_CASES)


@pytest.fixture(scope="module")
def baseline_evaluation() -> Any:
    return run(baseline_plan())


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_baseline_passes(name: str, baseline_evaluation: Any) -> None:
    result = next(r for r in baseline_evaluation.results if r.name == name)
    assert result.status in ("pass", "not-applicable"), [
        v.message for v in baseline_evaluation.violations if v.policy == name
    ]
    assert (result.in_scope > 0) is (name not in NOTHING_IN_SCOPE_BY_DESIGN)
    assert not [n for n in baseline_evaluation.notes if n.policy == name]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_mutation_violates_with_exact_message(case: Case) -> None:
    evaluation = run(mutated(case.resource, case.path, case.value), POLICIES[case.policy])
    found = [(v.resource_name, v.message) for v in evaluation.violations]
    assert found == [(case.violator or case.resource, case.message)]
    assert evaluation.violations[0].enforcement == POLICIES[case.policy].meta.enforcement.value


@pytest.mark.parametrize("case", EXTRA_CASES, ids=lambda c: c.id)
def test_extra_mutation_violates_with_exact_messages(case: ExtraCase) -> None:
    plan = baseline_plan()
    if case.add is not None:
        plan.append(case.add)
    else:
        set_path(plan, case.resource, case.path, case.value)
    evaluation = run(plan, POLICIES[case.policy])
    found = tuple((v.resource_name, v.message) for v in evaluation.violations)
    assert found == case.expected


@pytest.mark.parametrize("name", sorted(EXTRA_UNKNOWN_CASES))
def test_extra_unknown_value_is_skipped_with_a_note_or_accepted(name: str) -> None:
    resource, path, expected = EXTRA_UNKNOWN_CASES[name]
    plan = baseline_plan()
    set_path(plan, resource, path, UNKNOWN)
    evaluation = run(plan, POLICIES[name])
    assert evaluation.violations == []
    notes = [n for n in evaluation.notes if n.policy == name]
    if expected == "note":
        assert notes and all("not known yet (unknown during preview)" in n.message for n in notes)
    else:
        assert notes == []


@pytest.mark.parametrize("name", sorted(UNKNOWN_CASES))
def test_unknown_value_is_skipped_with_a_note_or_accepted(name: str) -> None:
    resource, path, expected = UNKNOWN_CASES[name]
    evaluation = run(mutated(resource, path, UNKNOWN), POLICIES[name])
    assert evaluation.violations == []
    notes = [n for n in evaluation.notes if n.policy == name]
    if expected == "note":
        assert notes
        assert all("not known yet (unknown during preview)" in n.message for n in notes)
    else:
        assert notes == []


def _args(
    type_: str, props: dict[str, Any], config: dict[str, Any] | None = None
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        type_,
        unknown_checking_proxy(props),
        f"urn:pulumi:s::p::{type_}::r",
        "r",
        PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), []),
        None,
        config=config or {},
    )


def test_direct_validate_raises_unknown_value_error_like_the_sdk_expects() -> None:
    """Under the CLI an unknown becomes pulumi-policy's advisory "can't run during preview"."""
    policy = POLICIES["aws-rds-cluster-backup-retention"]
    assert isinstance(policy, ControlResourcePolicy)
    reported: list[str] = []
    with pytest.raises(UnknownValueError) as caught:
        policy.validate(
            _args("aws:rds/cluster:Cluster", {"backupRetentionPeriod": UNKNOWN}),
            lambda m, u=None: reported.append(m),
        )
    assert reported == []
    assert (
        caught.value.message
        == "backupRetentionPeriod is not known yet (unknown during preview); not evaluated"
    )


def test_config_threshold_is_honoured() -> None:
    policy = POLICIES["aws-rds-cluster-backup-retention"]
    reported: list[str] = []
    policy.validate(
        _args("aws:rds/cluster:Cluster", {"backupRetentionPeriod": 14}, {"minRetentionDays": 30}),
        lambda m, u=None: reported.append(m),
    )
    assert reported == [
        "Backup retention is 14 days; the minimum is 30 days (backupRetentionPeriod)."
    ]


def test_output_shapes_from_stack_export_are_understood() -> None:
    """Outputs may nest single blocks in lists and carry numbers as strings and secrets wrapped."""
    eks = POLICIES["aws-eks-cluster-disallow-unencrypted-secrets"]
    reported: list[str] = []
    shape = {
        "encryptionConfig": [
            {"provider": [{"keyArn": "arn:aws:kms:eu-central-1:1:key/k"}], "resources": ["secrets"]}
        ]
    }
    eks.validate(_args("aws:eks/cluster:Cluster", shape), lambda m, u=None: reported.append(m))
    retention = POLICIES["aws-rds-cluster-backup-retention"]
    retention.validate(
        _args("aws:rds/cluster:Cluster", {"backupRetentionPeriod": "21"}),
        lambda m, u=None: reported.append(m),
    )
    secret = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "plaintext": json.dumps(True),
    }
    storage = POLICIES["aws-rds-cluster-disallow-unencrypted-storage"]
    storage.validate(
        _args("aws:rds/cluster:Cluster", {"storageEncrypted": secret}),
        lambda m, u=None: reported.append(m),
    )
    assert reported == []


def test_resource_controls_are_not_applicable_to_other_types() -> None:
    for policy in POLICIES.values():
        if isinstance(policy, ControlResourcePolicy) and ANY_TYPE not in policy.meta.resource_types:
            reported: list[str] = []
            with pytest.raises(_NotApplicableError) as caught:
                policy.validate(
                    _args("aws:lightsail/instance:Instance", {}),
                    lambda m, u=None, r=reported: r.append(m),
                )
            assert reported == [] and caught.value.reason.startswith("applies to ")


def test_engine_property_dependencies_resolve_unknown_key_references() -> None:
    """During a real preview a new key's ARN is unknown; the dependency graph still names it."""
    from policies.evaluate import parse_plan

    subjects = parse_plan(mutated("orders-primary", ("kmsKeyId",), UNKNOWN), "<fixture>")
    cluster = next(s for s in subjects if s.name == "orders-primary")
    key = next(s for s in subjects if s.name == "db-key")
    cluster.property_dependencies = {"kmsKeyId": [key.urn]}
    evaluation = run(subjects, POLICIES["aws-kms-data-store-keys-managed-in-stack"])
    assert evaluation.violations == [] and evaluation.notes == []
    key.props["enableKeyRotation"] = False
    evaluation = run(subjects, POLICIES["aws-kms-data-store-keys-managed-in-stack"])
    assert (
        "aws:rds/cluster:Cluster 'orders-primary' uses KMS key 'db-key', which has rotation "
        "disabled (kmsKeyId)." in [v.message for v in evaluation.violations]
    )


def test_vpc_subnets_in_too_few_azs() -> None:
    evaluation = run(
        mutated("isolated-2", ("availabilityZone",), f"{PRIMARY}a"),
        POLICIES["aws-multi-az-subnets"],
    )
    assert [(v.resource_name, v.message) for v in evaluation.violations] == [
        ("(stack)", "Subnets in eu-central-1 span 2 AZ(s); at least 3 are required."),
        (
            "db-subnets",
            "aws:rds/subnetGroup:SubnetGroup 'db-subnets' spans 2 AZ(s)/subnet(s); at least 3 are "
            "required (subnetIds).",
        ),
        (
            "cache-subnets",
            "aws:elasticache/subnetGroup:SubnetGroup 'cache-subnets' spans 2 AZ(s)/subnet(s); at "
            "least 3 are required (subnetIds).",
        ),
        (
            "nodes",
            "eks:index:ManagedNodeGroup 'nodes' spans 2 AZ(s)/subnet(s); at least 3 are required "
            "(subnetIds).",
        ),
    ]


def test_key_from_another_region_is_reported() -> None:
    plan = mutated("standby-vault", ("kmsKeyArn",), f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/backup01")
    evaluation = run(plan, POLICIES["aws-kms-data-store-keys-managed-in-stack"])
    assert [v.message for v in evaluation.violations] == [
        "aws:backup/vault:Vault 'standby-vault' in eu-west-1 uses KMS key 'backup-key' from "
        "eu-central-1 "
        "(kmsKeyArn)."
    ]


def test_public_ports_can_be_allowed_for_a_load_balancer_group() -> None:
    policy = POLICIES["aws-ec2-securitygroup-disallow-public-ingress"]
    rule = {
        "type": "ingress",
        "protocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrBlocks": ["0.0.0.0/0"],
    }
    reported: list[str] = []
    config = {"allowedPublicPorts": [443]}
    policy.validate(
        _args("aws:ec2/securityGroupRule:SecurityGroupRule", rule, config),
        lambda m, u=None: reported.append(m),
    )
    assert reported == []
    policy.validate(
        _args("aws:ec2/securityGroupRule:SecurityGroupRule", {**rule, "protocol": "-1"}, config),
        lambda m, u=None: reported.append(m),
    )
    assert reported == ["Security group allows all traffic from the whole internet (0.0.0.0/0)."]

"""Encryption at rest with customer-managed KMS keys, and key rotation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    CRITICAL,
    HIGH,
    MANDATORY,
    ConfigOption,
    Reporter,
    Resource,
    cis_aws,
    cis_eks,
    fsbp,
    pci,
    resource_control,
    soc2,
)
from .common import key_reference_problem, require_true

CATEGORY = "Encryption at rest"

PCI_STORED_DATA = pci("3.5.1", "Stored account data is rendered unreadable (strong cryptography)")
PCI_KEYS = pci("3.6.1", "Cryptographic keys used to protect stored data are protected")
SOC2_LOGICAL = soc2("CC6.1", "Logical access security over protected information assets")


def _require_cmk(
    resource: Resource, reporter: Reporter, prop: str, what: str, service: str
) -> None:
    problem = key_reference_problem(resource.get(prop))
    if problem == "missing":
        reporter.violation(
            f"{what} is not encrypted with a customer-managed KMS key ({prop} is not set)."
        )
    elif problem == "aws-managed":
        reporter.violation(
            f"{what} uses the AWS-managed key alias/aws/{service}; "
            f"set {prop} to a customer-managed KMS key."
        )


# --- RDS / Aurora --------------------------------------------------------------------------


@resource_control(
    name="aws-rds-cluster-disallow-unencrypted-storage",
    description="Aurora/RDS cluster storage must be encrypted at rest.",
    resource_types=(T.RDS_CLUSTER,),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.3.1", "Ensure that encryption-at-rest is enabled for RDS instances"),
        fsbp("RDS.27", "RDS DB clusters should be encrypted at rest"),
    ),
    remediation=(
        "Set `storage_encrypted=True` (with `kms_key_id`) on the `aws.rds.Cluster`. Storage "
        "encryption cannot be turned on in place: restore a snapshot into a new encrypted "
        "cluster (or create the replacement encrypted) and cut over."
    ),
)
def rds_cluster_storage_encrypted(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "storageEncrypted",
        "RDS cluster storage is not encrypted (storageEncrypted is not true).",
    )


@resource_control(
    name="aws-rds-cluster-configure-customer-managed-key",
    description="Aurora/RDS cluster storage must be encrypted with a customer-managed KMS key.",
    resource_types=(T.RDS_CLUSTER,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_KEYS,
        SOC2_LOGICAL,
        fsbp("RDS.27", "RDS DB clusters should be encrypted at rest"),
    ),
    remediation=(
        "Create an `aws.kms.Key` with rotation enabled in the stack (one per region for a "
        "global database) and pass its ARN as `kms_key_id` on every `aws.rds.Cluster`, "
        "including secondary clusters of a global cluster."
    ),
)
def rds_cluster_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    _require_cmk(r, rep, "kmsKeyId", "RDS cluster storage", "rds")


@resource_control(
    name="aws-rds-globalcluster-disallow-unencrypted-storage",
    description="Aurora global clusters must be encrypted at rest.",
    resource_types=(T.RDS_GLOBAL_CLUSTER,),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.3.1", "Ensure that encryption-at-rest is enabled for RDS instances"),
    ),
    remediation=(
        "Set `storage_encrypted=True` on the `aws.rds.GlobalCluster` (or create it from an "
        "encrypted source cluster with `source_db_cluster_identifier`)."
    ),
)
def rds_global_cluster_encrypted(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    source = r.get("sourceDbClusterIdentifier")
    if source is not None and P.as_bool(r.get("storageEncrypted")) is None:
        return  # inherits the (separately checked) source cluster's encryption
    require_true(
        r,
        rep,
        "storageEncrypted",
        "Global cluster storage is not encrypted (storageEncrypted is not true).",
    )


@resource_control(
    name="aws-rds-performance-insights-configure-customer-managed-key",
    description="Performance Insights data must be encrypted with a customer-managed KMS key.",
    resource_types=(T.RDS_CLUSTER, T.RDS_CLUSTER_INSTANCE, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_STORED_DATA, SOC2_LOGICAL),
    remediation=(
        "Where `performance_insights_enabled=True`, also set "
        "`performance_insights_kms_key_id` to the database's customer-managed key (on the "
        "cluster and on each cluster instance). Performance Insights samples SQL text, which "
        "can contain order data."
    ),
)
def rds_performance_insights_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    enabled = r.get("performanceInsightsEnabled")
    if P.is_unknown(enabled):
        rep.skip("performanceInsightsEnabled")
    if not P.as_bool(enabled):
        return
    problem = key_reference_problem(r.get("performanceInsightsKmsKeyId"))
    if problem == "missing":
        rep.violation(
            "Performance Insights is enabled without a customer-managed KMS key "
            "(performanceInsightsKmsKeyId is not set)."
        )
    elif problem == "aws-managed":
        rep.violation(
            "Performance Insights uses the AWS-managed key alias/aws/rds; set "
            "performanceInsightsKmsKeyId to a customer-managed KMS key."
        )


# --- ElastiCache ---------------------------------------------------------------------------

FSBP_CACHE_AT_REST = fsbp(
    "ElastiCache.4", "ElastiCache replication groups should be encrypted at rest"
)


@resource_control(
    name="aws-elasticache-replicationgroup-disallow-unencrypted-at-rest",
    description="ElastiCache replication groups must be encrypted at rest.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(PCI_STORED_DATA, SOC2_LOGICAL, FSBP_CACHE_AT_REST),
    remediation=(
        "Set `at_rest_encryption_enabled=True` and `kms_key_id` on the "
        "`aws.elasticache.ReplicationGroup` (requires replacement of an existing group: "
        "create the encrypted group, switch the service's endpoint, delete the old one)."
    ),
)
def cache_at_rest(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "atRestEncryptionEnabled",
        "ElastiCache replication group is not encrypted at rest (atRestEncryptionEnabled is not "
        "true).",
    )


@resource_control(
    name="aws-elasticache-replicationgroup-configure-customer-managed-key",
    description="ElastiCache replication groups must be encrypted with a customer-managed KMS key.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_KEYS, SOC2_LOGICAL, FSBP_CACHE_AT_REST),
    remediation="Pass the cache's customer-managed key ARN as `kms_key_id` on the replication "
    "group.",
)
def cache_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    _require_cmk(r, rep, "kmsKeyId", "ElastiCache replication group", "elasticache")


# --- SQS -----------------------------------------------------------------------------------


@resource_control(
    name="aws-sqs-queue-configure-customer-managed-key",
    description="SQS queues must be encrypted with a customer-managed KMS key.",
    resource_types=(T.SQS_QUEUE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        fsbp("SQS.1", "Amazon SQS queues should be encrypted at rest"),
    ),
    remediation=(
        "Set `kms_master_key_id` to the queue's customer-managed key ARN (and leave "
        "`sqs_managed_sse_enabled` unset) on both the orders queue and its dead-letter queue."
    ),
)
def sqs_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    key = r.get("kmsMasterKeyId")
    problem = key_reference_problem(key)
    if problem == "missing":
        if P.as_bool(r.get("sqsManagedSseEnabled")):
            rep.violation(
                "SQS queue uses SQS-managed encryption (SSE-SQS), not a customer-managed KMS key "
                "(kmsMasterKeyId is not set)."
            )
        else:
            rep.violation(
                "SQS queue is not encrypted with a customer-managed KMS key (kmsMasterKeyId is "
                "not set)."
            )
    elif problem == "aws-managed":
        rep.violation(
            "SQS queue uses the AWS-managed key alias/aws/sqs; set kmsMasterKeyId to a "
            "customer-managed KMS key."
        )


# --- EKS secrets ---------------------------------------------------------------------------


@resource_control(
    name="aws-eks-cluster-disallow-unencrypted-secrets",
    description="EKS clusters must envelope-encrypt Kubernetes secrets with a customer-managed "
    "KMS key.",
    resource_types=(T.EKS_COMPONENT_CLUSTER, T.EKS_CLUSTER),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_eks("5.3.1", "Ensure Kubernetes Secrets are encrypted using CMKs managed in AWS KMS"),
        fsbp("EKS.3", "EKS clusters should use encrypted Kubernetes secrets"),
    ),
    remediation=(
        "Pass `encryption_config_key_arn=<CMK ARN>` to `eks.Cluster` (pulumi-eks), or "
        "`encryption_config={provider: {key_arn}, resources: ['secrets']}` to "
        "`aws.eks.Cluster`. Envelope encryption cannot be removed once enabled."
    ),
)
def eks_secrets(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type == T.EKS_COMPONENT_CLUSTER:
        if key_reference_problem(r.get("encryptionConfigKeyArn")):
            rep.violation(
                "EKS secrets are not envelope-encrypted with a KMS key (encryptionConfigKeyArn is "
                "not set)."
            )
        return
    config = r.get("encryptionConfig")
    if P.is_unknown(config):
        rep.skip("encryptionConfig")
    key = r.get("encryptionConfig", "provider", "keyArn")
    scope = r.get("encryptionConfig", "resources")
    covers_secrets = P.is_unknown(scope) or "secrets" in P.as_list(scope)
    if key_reference_problem(key) or not covers_secrets:
        rep.violation(
            "EKS secrets are not envelope-encrypted with a KMS key "
            "(encryptionConfig with provider.keyArn and resources ['secrets'] is not set)."
        )


# --- Backup --------------------------------------------------------------------------------


@resource_control(
    name="aws-backup-vault-configure-customer-managed-key",
    description="AWS Backup vaults must encrypt recovery points with a customer-managed KMS key.",
    resource_types=(T.BACKUP_VAULT,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        fsbp("Backup.1", "AWS Backup recovery points should be encrypted at rest"),
    ),
    remediation=(
        "Set `kms_key_arn` on every `aws.backup.Vault` (the primary vault and the standby "
        "region's copy-destination vault) to a customer-managed key in that vault's region."
    ),
)
def backup_vault_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    _require_cmk(r, rep, "kmsKeyArn", "Backup vault", "backup")


# --- EBS / launch templates ----------------------------------------------------------------


@resource_control(
    name="aws-ec2-ebs-disallow-unencrypted-volumes",
    description="EBS volumes, launch template block devices and node group disks must be "
    "encrypted with a customer-managed KMS key.",
    resource_types=(
        T.LAUNCH_TEMPLATE,
        T.EBS_VOLUME,
        T.EKS_COMPONENT_MANAGED_NODE_GROUP,
        T.EKS_NODE_GROUP,
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.2.1", "Ensure EBS volume encryption is enabled in all regions"),
        fsbp("EC2.7", "EBS default encryption should be enabled"),
    ),
    remediation=(
        "Give every launch template a `block_device_mappings` entry for the root device with "
        "`ebs={encrypted: 'true', kms_key_id: <CMK ARN>}`, and make EKS managed node groups use "
        "such a launch template (`launch_template={id, version}`) instead of `disk_size`."
    ),
)
def ebs_encrypted(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type in (T.EKS_COMPONENT_MANAGED_NODE_GROUP, T.EKS_NODE_GROUP):
        template = r.get("launchTemplate")
        if template is None:
            rep.violation(
                "Node group does not use a launch template, so its node volumes are not encrypted "
                "with a customer-managed KMS key (launchTemplate is not set)."
            )
        return
    if r.type == T.EBS_VOLUME:
        require_true(r, rep, "encrypted", "EBS volume is not encrypted (encrypted is not true).")
        if rep.count == 0:
            _require_cmk(r, rep, "kmsKeyId", "EBS volume", "ebs")
        return
    mappings = r.get("blockDeviceMappings")
    if P.is_unknown(mappings):
        rep.skip("blockDeviceMappings")
    ebs_mappings = [m for m in P.as_list(mappings) if P.get(m, "ebs") is not None]
    if not ebs_mappings:
        rep.violation(
            "Launch template defines no EBS block device mapping, so volumes are not encrypted "
            "with a customer-managed KMS key (blockDeviceMappings[].ebs is not set)."
        )
        return
    for mapping in ebs_mappings:
        device = P.get(mapping, "deviceName") or "?"
        encrypted = P.get(mapping, "ebs", "encrypted")
        if P.is_unknown(encrypted):
            rep.skip(f"blockDeviceMappings[{device}].ebs.encrypted")
        if not P.as_bool(encrypted):
            rep.violation(
                f"Launch template volume {device} is not encrypted (ebs.encrypted is not true)."
            )
        elif key_reference_problem(P.get(mapping, "ebs", "kmsKeyId")):
            rep.violation(
                f"Launch template volume {device} is not encrypted with a customer-managed KMS key "
                "(ebs.kmsKeyId is not set)."
            )


# --- CloudWatch Logs -----------------------------------------------------------------------


@resource_control(
    name="aws-cloudwatch-loggroup-configure-customer-managed-key",
    description="CloudWatch log groups must be encrypted with a customer-managed KMS key.",
    resource_types=(T.LOG_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        pci("10.3.2", "Audit log files are protected to prevent modifications by individuals"),
        SOC2_LOGICAL,
    ),
    remediation=(
        "Set `kms_key_id` on the `aws.cloudwatch.LogGroup` to the logs key; the key policy must "
        "allow the `logs.<region>.amazonaws.com` service principal to use it."
    ),
)
def log_group_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    _require_cmk(r, rep, "kmsKeyId", "CloudWatch log group", "logs")


# --- KMS -----------------------------------------------------------------------------------


@resource_control(
    name="aws-kms-key-enable-rotation",
    description="Customer-managed symmetric KMS keys must have automatic rotation enabled.",
    resource_types=(T.KMS_KEY,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        pci("3.7.4", "Cryptographic key changes at the end of the defined cryptoperiod"),
        SOC2_LOGICAL,
        cis_aws("3.6", "Ensure rotation for customer-created symmetric CMKs is enabled"),
        fsbp("KMS.4", "AWS KMS key rotation should be enabled"),
    ),
    remediation=(
        "Set `enable_key_rotation=True` (optionally `rotation_period_in_days` no longer than the "
        "configured maximum) on the `aws.kms.Key`. Replica keys follow their primary key."
    ),
    config=(
        ConfigOption(
            "maxRotationPeriodDays",
            {"type": "integer", "minimum": 90, "maximum": 2560, "default": 365},
            "Longest allowed key rotation period, in days.",
        ),
    ),
)
def kms_rotation(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    spec = r.get("customerMasterKeySpec")
    usage = r.get("keyUsage")
    if (isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT") or (
        isinstance(usage, str) and usage != "ENCRYPT_DECRYPT"
    ):
        return  # asymmetric and HMAC keys cannot rotate automatically
    require_true(
        r,
        rep,
        "enableKeyRotation",
        "KMS key rotation is not enabled (enableKeyRotation is not true).",
    )
    period = P.as_number(r.get("rotationPeriodInDays"))
    maximum = int(cfg["maxRotationPeriodDays"])
    if rep.count == 0 and period is not None and period > maximum:
        rep.violation(
            f"KMS key rotation period is {int(period)} days; the maximum is {maximum} days."
        )

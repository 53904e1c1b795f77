"""Stack-level controls whose evidence spans several resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    HIGH,
    MANDATORY,
    Reporter,
    Resource,
    pci,
    soc2,
    stack_control,
)
from ..model import Stack
from .common import key_reference_problem
from .transit import PCI_TRANSIT, SOC2_TRANSMISSION, tls_parameter_problem


@stack_control(
    name="aws-rds-cluster-require-tls-parameter-group",
    description="Every Aurora cluster must use a cluster parameter group, created in this stack, "
    "that forces TLS.",
    category="Encryption in transit",
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_TRANSIT, SOC2_TRANSMISSION),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Create an `aws.rds.ClusterParameterGroup` with `rds.force_ssl=1` in each region and set "
        "`db_cluster_parameter_group_name=<group>.name` on every `aws.rds.Cluster` (primary and "
        "secondary). The default parameter group does not force TLS."
    ),
)
def cluster_tls_parameter_group(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for cluster in stack.of_type(T.RDS_CLUSTER):
        with rep.guard(cluster):
            reference = cluster.get("dbClusterParameterGroupName")
            if reference is None:
                rep.violation(
                    f"Aurora cluster '{cluster.name}' uses the default cluster parameter group, "
                    f"which does "
                    "not force TLS (dbClusterParameterGroupName is not set).",
                    cluster,
                )
                continue
            groups = stack.resolve(
                cluster, "dbClusterParameterGroupName", reference, T.RDS_CLUSTER_PARAMETER_GROUP
            )
            if not groups:
                if P.is_unknown(reference):
                    rep.skip(f"the parameter group of cluster '{cluster.name}'")
                rep.violation(
                    f"Aurora cluster '{cluster.name}' uses parameter group '{reference}', which "
                    f"is not "
                    "managed in this stack, so TLS enforcement cannot be verified.",
                    cluster,
                )
                continue
            for group in groups:
                problem = tls_parameter_problem(group)
                if problem:
                    rep.violation(
                        f"Aurora cluster '{cluster.name}' uses parameter group '{group.name}', "
                        f"which does "
                        f"not force TLS ({problem}).",
                        cluster,
                    )


# (resource type, top-level property, path to the key reference)
KEY_REFERENCES: tuple[tuple[str, str, tuple[str | int, ...]], ...] = (
    (T.RDS_CLUSTER, "kmsKeyId", ("kmsKeyId",)),
    (T.RDS_CLUSTER, "performanceInsightsKmsKeyId", ("performanceInsightsKmsKeyId",)),
    (T.RDS_CLUSTER, "masterUserSecretKmsKeyId", ("masterUserSecretKmsKeyId",)),
    (T.RDS_CLUSTER_INSTANCE, "performanceInsightsKmsKeyId", ("performanceInsightsKmsKeyId",)),
    (T.RDS_INSTANCE, "kmsKeyId", ("kmsKeyId",)),
    (T.RDS_INSTANCE, "performanceInsightsKmsKeyId", ("performanceInsightsKmsKeyId",)),
    (T.ELASTICACHE_REPLICATION_GROUP, "kmsKeyId", ("kmsKeyId",)),
    (T.SQS_QUEUE, "kmsMasterKeyId", ("kmsMasterKeyId",)),
    (T.EKS_COMPONENT_CLUSTER, "encryptionConfigKeyArn", ("encryptionConfigKeyArn",)),
    (T.EKS_CLUSTER, "encryptionConfig", ("encryptionConfig", "provider", "keyArn")),
    (T.BACKUP_VAULT, "kmsKeyArn", ("kmsKeyArn",)),
    (T.LOG_GROUP, "kmsKeyId", ("kmsKeyId",)),
    (T.EBS_VOLUME, "kmsKeyId", ("kmsKeyId",)),
    (T.SECRETS_MANAGER_SECRET, "kmsKeyId", ("kmsKeyId",)),
    (T.SNS_TOPIC, "kmsMasterKeyId", ("kmsMasterKeyId",)),
)


def _key_references(resource: Resource) -> list[tuple[str, str, Any]]:
    """(property, display path, value) of every key reference a resource holds."""
    found = [
        (prop, ".".join(str(p) for p in path), resource.get(*path))
        for kind, prop, path in KEY_REFERENCES
        if kind == resource.type
    ]
    if resource.type == T.LAUNCH_TEMPLATE:
        for index, mapping in enumerate(P.as_list(resource.get("blockDeviceMappings"))):
            found.append(
                (
                    "blockDeviceMappings",
                    f"blockDeviceMappings[{index}].ebs.kmsKeyId",
                    P.get(mapping, "ebs", "kmsKeyId"),
                )
            )
    return [(prop, path, value) for prop, path, value in found if value is not None]


@stack_control(
    name="aws-kms-data-store-keys-managed-in-stack",
    description="Every data store's KMS key must be a customer-managed key created in this stack, "
    "in the data store's region, with rotation on.",
    category="Encryption at rest",
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        pci("3.6.1", "Cryptographic keys used to protect stored data are protected"),
        pci("3.7.4", "Cryptographic key changes at the end of the defined cryptoperiod"),
        soc2("CC6.1", "Logical access security over protected information assets"),
    ),
    scope=tuple(sorted({kind for kind, _, _ in KEY_REFERENCES} | {T.LAUNCH_TEMPLATE})),
    remediation=(
        "Create the key with `aws.kms.Key(enable_key_rotation=True)` (or an `aws.kms.ReplicaKey` "
        "of a multi-region key) in the same region as the data store, in this program, and pass "
        "its `.arn`. Keys managed elsewhere cannot be shown to have rotation and a reviewed key "
        "policy."
    ),
)
def keys_in_stack(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for resource in stack:
        references = _key_references(resource)
        if not references:
            continue
        with rep.guard(resource):
            for prop, path, value in references:
                if key_reference_problem(value) == "missing":
                    continue
                if key_reference_problem(value) == "aws-managed":
                    continue  # reported by the resource's own CMK control
                keys = stack.resolve(resource, prop, value, T.KMS_KEY, T.KMS_REPLICA_KEY)
                if not keys:
                    if P.is_unknown(value):
                        rep.skip(f"the key behind {path} of {resource.label}")
                    rep.violation(
                        f"{resource.label} uses a KMS key that is not created in this stack "
                        f"({path} = {value}).",
                        resource,
                    )
                    continue
                for key in keys:
                    if key.region and resource.region and key.region != resource.region:
                        rep.violation(
                            f"{resource.label} in {resource.region} uses KMS key '{key.name}' from "
                            f"{key.region} ({path}).",
                            resource,
                        )
                    if (
                        key.type == T.KMS_KEY
                        and P.as_bool(key.get("enableKeyRotation")) is not True
                    ):
                        rep.violation(
                            f"{resource.label} uses KMS key '{key.name}', which has rotation "
                            f"disabled ({path}).",
                            resource,
                        )

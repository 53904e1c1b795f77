"""Stack-level controls whose evidence spans several resources."""

from __future__ import annotations

from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    Resource,
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

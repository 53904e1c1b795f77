"""aws-s3-bucket-enable-replication

Every S3 bucket must replicate its objects to another bucket (cross-region copy of the data).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.resilience import SOC2_RISK
from ...checks.s3 import CATEGORY, SOC2_RECOVERY, bucket_label, buckets_without, enabled_rules
from ...framework import MANDATORY, MEDIUM, Reporter, stack_control
from ...model import Resource, Stack


def _replicates(companion: Resource) -> bool:
    return bool(enabled_rules(companion, "rules"))


@stack_control(
    name="aws-s3-bucket-enable-replication",
    description="Every S3 bucket must have a replication configuration with an enabled rule.",
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, SOC2_RISK),
    remediation=(
        "Add an `aws.s3.BucketReplicationConfig` with an Enabled rule to a versioned bucket in "
        "the standby region (or record a waiver when the data must stay in one region)."
    ),
    scope=(T.S3_BUCKET,),
)
def replication(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for bucket in buckets_without(stack, T.S3_REPLICATION, _replicates):
        rep.violation(
            f"Bucket {bucket_label(bucket)} is not replicated (no aws.s3.BucketReplicationConfig "
            "with an enabled rule).",
            bucket,
        )

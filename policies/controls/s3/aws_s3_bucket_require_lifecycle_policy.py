"""aws-s3-bucket-require-lifecycle-policy

Every S3 bucket (versioned or not) must have a lifecycle configuration with an enabled rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.s3 import CATEGORY, SOC2_RECOVERY, bucket_label, buckets_without, enabled_rules
from ...framework import LOW, MANDATORY, Reporter, fsbp, stack_control
from ...model import Resource, Stack


def _has_enabled_rule(companion: Resource) -> bool:
    return bool(enabled_rules(companion, "rules"))


@stack_control(
    name="aws-s3-bucket-require-lifecycle-policy",
    description="Every S3 bucket must have a lifecycle configuration with at least one "
    "enabled rule.",
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("S3.13", "S3 buckets should have lifecycle policies configured"),
        fsbp(
            "S3.10", "S3 buckets with versioning enabled should have lifecycle policies configured"
        ),
        SOC2_RECOVERY,
    ),
    remediation=(
        "Add an `aws.s3.BucketLifecycleConfiguration` with an Enabled rule (expire old or "
        "noncurrent versions, abort incomplete multipart uploads)."
    ),
    scope=(T.S3_BUCKET,),
)
def lifecycle(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for bucket in buckets_without(stack, T.S3_LIFECYCLE, _has_enabled_rule):
        rep.violation(
            f"Bucket {bucket_label(bucket)} has no lifecycle configuration with an enabled rule.",
            bucket,
        )

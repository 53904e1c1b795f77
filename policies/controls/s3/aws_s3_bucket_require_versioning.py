"""aws-s3-bucket-require-versioning

Every S3 bucket must have versioning enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.s3 import (
    CATEGORY,
    FSBP_VERSIONING,
    SOC2_RECOVERY,
    bucket_label,
    companions,
)
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="aws-s3-bucket-require-versioning",
    description="Every S3 bucket must have versioning enabled.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(FSBP_VERSIONING, SOC2_RECOVERY),
    remediation="Add an `aws.s3.BucketVersioning` with status Enabled for the bucket.",
    scope=(T.S3_BUCKET,),
)
def versioning(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for bucket in stack.of_type(T.S3_BUCKET):
        configs = companions(stack, bucket, T.S3_VERSIONING)
        statuses = [P.get(c.get("versioningConfiguration"), "status") for c in configs]
        if "Enabled" not in statuses and not any(P.is_unknown(s) for s in statuses):
            rep.violation(
                f"Bucket {bucket_label(bucket)} does not have versioning enabled.", bucket
            )

"""aws-s3-bucket-enable-server-access-logging

Every S3 bucket must log server access requests to a log bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.s3 import CATEGORY, bucket_label, buckets_without
from ...framework import MANDATORY, MEDIUM, Reporter, fsbp, pci, soc2, stack_control
from ...model import Resource, Stack


def _logs(companion: Resource) -> bool:
    target = companion.get("targetBucket")
    return P.is_unknown(target) or (isinstance(target, str) and bool(target.strip()))


@stack_control(
    name="aws-s3-bucket-enable-server-access-logging",
    description="Every S3 bucket must have server access logging to a target bucket "
    "(aws.s3.BucketLogging).",
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("S3.9", "S3 bucket server access logging should be enabled"),
        pci("10.2.1", "Audit logs are enabled and active for all system components"),
        soc2("CC7.2", "System components are monitored for anomalies"),
    ),
    remediation=(
        "Add an `aws.s3.BucketLogging` with `target_bucket` set to a log bucket whose policy "
        "lets `logging.s3.amazonaws.com` write (SSE-S3 target)."
    ),
    scope=(T.S3_BUCKET,),
)
def access_logging(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for bucket in buckets_without(stack, T.S3_LOGGING, _logs):
        rep.violation(
            f"Bucket {bucket_label(bucket)} does not log server access requests "
            "(no aws.s3.BucketLogging with a targetBucket).",
            bucket,
        )

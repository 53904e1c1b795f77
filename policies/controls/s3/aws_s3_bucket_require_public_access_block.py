"""aws-s3-bucket-require-public-access-block

Every S3 bucket must have a public access block with all four settings on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.s3 import (
    CATEGORY,
    CIS_BLOCK_PUBLIC,
    FSBP_BLOCK_PUBLIC,
    SOC2_BOUNDARY,
    bucket_label,
    companions,
)
from ...framework import CRITICAL, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="aws-s3-bucket-require-public-access-block",
    description="Every S3 bucket must have a public access block with all four settings on.",
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(CIS_BLOCK_PUBLIC, FSBP_BLOCK_PUBLIC, SOC2_BOUNDARY),
    remediation="Add an `aws.s3.BucketPublicAccessBlock` with all four flags true for the bucket.",
    scope=(T.S3_BUCKET,),
)
def public_access_block(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in stack.of_type(T.S3_BUCKET):
        blocks = companions(stack, bucket, T.S3_PUBLIC_ACCESS_BLOCK)
        if any(P.is_unknown(b.get(f)) for b in blocks for f in flags):
            with rep.guard(bucket):
                rep.skip(f"the public access block of bucket {bucket_label(bucket)}")
            continue
        complete = [b for b in blocks if all(P.as_bool(b.get(f)) is True for f in flags)]
        if not complete:
            rep.violation(
                f"Bucket {bucket_label(bucket)} has no public access block with all four "
                "settings on.",
                bucket,
            )

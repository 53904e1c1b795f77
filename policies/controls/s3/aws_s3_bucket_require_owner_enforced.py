"""aws-s3-bucket-require-owner-enforced

Every S3 bucket must disable ACLs (object ownership BucketOwnerEnforced).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.s3 import (
    CATEGORY,
    FSBP_ACLS,
    SOC2_LOGICAL,
    bucket_label,
    companions,
)
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="aws-s3-bucket-require-owner-enforced",
    description="Every S3 bucket must disable ACLs (object ownership BucketOwnerEnforced).",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(FSBP_ACLS, SOC2_LOGICAL),
    remediation=(
        "Add an `aws.s3.BucketOwnershipControls` with object_ownership BucketOwnerEnforced."
    ),
    scope=(T.S3_BUCKET,),
)
def owner_enforced(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for bucket in stack.of_type(T.S3_BUCKET):
        controls = companions(stack, bucket, T.S3_OWNERSHIP)
        owners = [P.get(c.get("rule"), "objectOwnership") for c in controls]
        if any(P.is_unknown(o) for o in owners):
            with rep.guard(bucket):
                rep.skip(f"the ownership controls of bucket {bucket_label(bucket)}")
            continue
        if "BucketOwnerEnforced" not in owners:
            rep.violation(
                f"Bucket {bucket_label(bucket)} still uses ACLs (no BucketOwnerEnforced "
                "ownership control).",
                bucket,
            )

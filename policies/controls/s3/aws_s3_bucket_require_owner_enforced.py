"""aws-s3-bucket-require-owner-enforced

S3 buckets must keep ACLs disabled (object ownership BucketOwnerEnforced, the default).
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
    description=(
        "S3 buckets must keep ACLs disabled (object ownership BucketOwnerEnforced, the default)."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(FSBP_ACLS, SOC2_LOGICAL),
    remediation="Remove the ACL and any ownership control other than BucketOwnerEnforced.",
    scope=(T.S3_BUCKET,),
)
def owner_enforced(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    # Since April 2023 a new bucket has ACLs disabled (BucketOwnerEnforced) unless an
    # ownership control or an ACL says otherwise: those are what is reported.
    for bucket in stack.of_type(T.S3_BUCKET):
        controls = companions(stack, bucket, T.S3_OWNERSHIP)
        owners = [P.get(c.get("rule"), "objectOwnership") for c in controls]
        if any(P.is_unknown(o) for o in owners):
            with rep.guard(bucket):
                rep.skip(f"the ownership controls of bucket {bucket_label(bucket)}")
            continue
        weaker = sorted({str(o) for o in owners if o != "BucketOwnerEnforced"})
        if weaker:
            rep.violation(
                f"Bucket {bucket_label(bucket)} enables ACLs (object ownership "
                f"{', '.join(weaker)}).",
                bucket,
            )
        elif bucket.get("acl") not in (None, "private") and not P.is_unknown(bucket.get("acl")):
            rep.violation(f"Bucket {bucket_label(bucket)} manages access with an ACL.", bucket)

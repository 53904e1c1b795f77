"""aws-s3-bucket-enable-bucket-key

Buckets encrypted with SSE-KMS must use an S3 Bucket Key (fewer KMS calls, less exposure of
the key to request volume).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.s3 import CATEGORY, SOC2_LOGICAL
from ...framework import LOW, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-s3-bucket-enable-bucket-key",
    description="S3 server-side encryption with KMS must enable the S3 Bucket Key "
    "(bucketKeyEnabled).",
    resource_types=(T.S3_SSE,),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(SOC2_LOGICAL,),
    remediation=(
        "Set `bucket_key_enabled=True` on every rule that uses `sse_algorithm='aws:kms'` "
        "(SSE-S3 buckets have no bucket key)."
    ),
)
def bucket_key(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    rules = r.get("rules")
    if P.is_unknown(rules):
        rep.skip("rules")
    for rule in P.as_list(rules):
        algorithm = P.get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        enabled = P.get(rule, "bucketKeyEnabled")
        if P.is_unknown(algorithm) or P.is_unknown(enabled):
            rep.skip("rules.bucketKeyEnabled")
        if algorithm == "aws:kms" and P.as_bool(enabled) is not True:
            rep.violation("SSE-KMS encryption does not use an S3 Bucket Key (bucketKeyEnabled).")
            return

"""aws-s3-bucket-require-customer-managed-key

Every S3 bucket must default to SSE-KMS with a customer-managed key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import key_reference_problem
from ...checks.s3 import (
    CATEGORY,
    FSBP_SSE,
    PCI_STORED_DATA,
    SOC2_LOGICAL,
    bucket_label,
    companions,
    receives_elb_access_logs,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, stack_control
from ...model import Stack


def _sse_s3(config: Resource) -> bool:
    return any(
        P.get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") == "AES256"
        for rule in P.as_list(config.get("rules"))
    )


def _cmk_rule(config: Resource) -> bool:
    for rule in P.as_list(config.get("rules")):
        default = P.get(rule, "applyServerSideEncryptionByDefault")
        algorithm = P.get(default, "sseAlgorithm")
        if algorithm in ("aws:kms", "aws:kms:dsse") and not key_reference_problem(
            P.get(default, "kmsMasterKeyId")
        ):
            return True
    return False


@stack_control(
    name="aws-s3-bucket-require-customer-managed-key",
    description="Every S3 bucket must default to SSE-KMS with a customer-managed key.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_STORED_DATA, SOC2_LOGICAL, FSBP_SSE),
    remediation="Add an `aws.s3.BucketServerSideEncryptionConfiguration` with aws:kms and the CMK.",
    scope=(T.S3_BUCKET,),
)
def bucket_cmk(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for bucket in stack.of_type(T.S3_BUCKET):
        configs = companions(stack, bucket, T.S3_SSE)
        if any(
            P.is_unknown(P.get(r, "applyServerSideEncryptionByDefault"))
            for c in configs
            for r in P.as_list(c.get("rules"))
        ):
            with rep.guard(bucket):
                rep.skip(f"the encryption configuration of bucket {bucket_label(bucket)}")
            continue
        if receives_elb_access_logs(stack, bucket) and any(_sse_s3(c) for c in configs):
            continue  # ALB access logs support SSE-S3 only (AWS Elastic Load Balancing docs)
        if not any(_cmk_rule(c) for c in configs):
            rep.violation(
                f"Bucket {bucket_label(bucket)} does not default to SSE-KMS with a "
                "customer-managed key.",
                bucket,
            )

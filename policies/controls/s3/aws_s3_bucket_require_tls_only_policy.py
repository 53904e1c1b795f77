"""aws-s3-bucket-require-tls-only-policy

Every S3 bucket policy must deny requests that do not use TLS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.iam import statements
from ...checks.s3 import (
    CATEGORY,
    CIS_DENY_HTTP,
    FSBP_TLS,
    SOC2_BOUNDARY,
    bucket_label,
    companions,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, stack_control
from ...model import Stack


def _denies_plain_http(policy: Resource) -> bool:
    for statement in statements(policy.get("policy")):
        if statement.effect.lower() != "deny" or "*" not in statement.principals:
            continue
        condition = P.plain(statement.condition) or {}
        for operator, keys in condition.items() if isinstance(condition, dict) else []:
            if not isinstance(keys, dict) or not str(operator).startswith("Bool"):
                continue
            for key, value in keys.items():
                if str(key).lower() == "aws:securetransport" and str(value).lower() == "false":
                    return True
    return False


@stack_control(
    name="aws-s3-bucket-require-tls-only-policy",
    description="Every S3 bucket policy must deny requests that do not use TLS.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(CIS_DENY_HTTP, FSBP_TLS, SOC2_BOUNDARY),
    remediation="Add a bucket policy statement denying s3:* when aws:SecureTransport is false.",
    scope=(T.S3_BUCKET,),
)
def tls_only(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for bucket in stack.of_type(T.S3_BUCKET):
        policies = companions(stack, bucket, T.S3_BUCKET_POLICY)
        if any(P.is_unknown(p.get("policy")) for p in policies):
            with rep.guard(bucket):
                rep.skip(f"the policy of bucket {bucket_label(bucket)}")
            continue
        if not any(_denies_plain_http(p) for p in policies):
            rep.violation(
                f"Bucket {bucket_label(bucket)} has no policy denying requests without TLS.",
                bucket,
            )

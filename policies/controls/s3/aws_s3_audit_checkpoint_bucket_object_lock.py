"""aws-s3-audit-checkpoint-bucket-object-lock

The stack must hold the audit-log checkpoint bucket: S3 Object Lock in COMPLIANCE mode,
versioning and a customer-managed key, so signed checkpoints cannot be rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import key_reference_problem
from ...checks.s3 import CATEGORY, FSBP_VERSIONING, bucket_label, companions
from ...framework import (
    CRITICAL,
    MANDATORY,
    ConfigOption,
    Reporter,
    Resource,
    pci,
    soc2,
    stack_control,
)
from ...model import Stack


class UnknownRetention(Exception):
    """The lock's retention is computed during the update."""


MIN_DAYS = ConfigOption(
    "minRetentionDays",
    {"type": "integer", "minimum": 1, "maximum": 36500, "default": 365},
    "Minimum default Object Lock retention of the checkpoint bucket, in days.",
)


def _lock_problem(bucket: Resource, stack: Stack, minimum: int) -> str | None:
    if P.as_bool(bucket.get("objectLockEnabled")) is not True:
        return "object lock is not enabled on the bucket (objectLockEnabled)"
    locks = companions(stack, bucket, T.S3_OBJECT_LOCK)
    for lock in locks:
        retention = P.get(lock.get("rule"), "defaultRetention")
        mode = P.get(retention, "mode")
        if P.is_unknown(mode) or P.is_unknown(P.get(retention, "days")):
            raise UnknownRetention
        days = P.as_number(P.get(retention, "days"))
        years = P.as_number(P.get(retention, "years"))
        total = (days or 0) + 365 * (years or 0)
        if mode == "COMPLIANCE" and total >= minimum:
            return None
    if not locks:
        return "it has no BucketObjectLockConfiguration"
    return f"its default retention is not COMPLIANCE mode for at least {minimum} days"


def _storage_problem(bucket: Resource, stack: Stack) -> str | None:
    versioning = [
        P.get(c.get("versioningConfiguration"), "status")
        for c in companions(stack, bucket, T.S3_VERSIONING)
    ]
    if "Enabled" not in versioning:
        return "versioning is not enabled"
    for config in companions(stack, bucket, T.S3_SSE):
        for rule in P.as_list(config.get("rules")):
            default = P.get(rule, "applyServerSideEncryptionByDefault")
            if P.get(default, "sseAlgorithm") in ("aws:kms", "aws:kms:dsse") and not (
                key_reference_problem(P.get(default, "kmsMasterKeyId"))
            ):
                return None
    return "it is not encrypted with a customer-managed key"


@stack_control(
    name="aws-s3-audit-checkpoint-bucket-object-lock",
    description=(
        "The stack must contain the audit-log checkpoint bucket: S3 Object Lock in COMPLIANCE "
        "mode, versioning and a customer-managed key."
    ),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        pci(
            "10.3.4",
            "Audit logs are protected from modification (file integrity / change detection)",
        ),
        soc2("CC7.2", "System components are monitored for anomalies and security events"),
        FSBP_VERSIONING,
    ),
    remediation=(
        "Declare the checkpoint bucket with `object_lock_enabled=True`, a "
        "`BucketObjectLockConfiguration` (mode COMPLIANCE), `BucketVersioning` (Enabled) and "
        "`BucketServerSideEncryptionConfiguration` with the CMK."
    ),
    config=(MIN_DAYS,),
)
def checkpoint_bucket(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    minimum = int(cfg["minRetentionDays"])
    problems = []
    for bucket in stack.of_type(T.S3_BUCKET):
        try:
            problem = _lock_problem(bucket, stack, minimum) or _storage_problem(bucket, stack)
        except UnknownRetention:
            rep.skip(f"the Object Lock retention of bucket {bucket_label(bucket)}")
        if problem is None:
            return  # found a bucket fit for immutable checkpoints
        if P.as_bool(bucket.get("objectLockEnabled")):
            problems.append(f"bucket {bucket_label(bucket)}: {problem}")
    detail = f" ({'; '.join(problems)})" if problems else ""
    rep.violation(
        "No S3 bucket in the stack can hold the audit checkpoints: none has Object Lock in "
        f"COMPLIANCE mode with versioning and a customer-managed key{detail}."
    )

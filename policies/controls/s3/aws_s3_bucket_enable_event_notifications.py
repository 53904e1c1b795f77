"""aws-s3-bucket-enable-event-notifications

Every S3 bucket must send event notifications (object created, removed, ...) to a consumer,
so unexpected writes and deletions can raise an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.s3 import CATEGORY, bucket_label, buckets_without
from ...framework import LOW, MANDATORY, Reporter, fsbp, soc2, stack_control
from ...model import Resource, Stack

_TARGETS = ("topics", "queues", "lambdaFunctions")


def _notifies(companion: Resource) -> bool:
    eventbridge = companion.get("eventbridge")
    if P.is_unknown(eventbridge) or P.as_bool(eventbridge) is True:
        return True
    return any(
        P.is_unknown(companion.get(key)) or bool(P.as_list(companion.get(key))) for key in _TARGETS
    )


@stack_control(
    name="aws-s3-bucket-enable-event-notifications",
    description="Every S3 bucket must have event notifications to a topic, queue, function or "
    "EventBridge (aws.s3.BucketNotification).",
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("S3.11", "S3 buckets should have event notifications enabled"),
        soc2("CC7.2", "System components are monitored for anomalies"),
    ),
    remediation=(
        "Add an `aws.s3.BucketNotification` sending object-created and object-removed events to "
        "an SNS topic, SQS queue, Lambda function or EventBridge (`eventbridge=True`)."
    ),
    scope=(T.S3_BUCKET,),
)
def event_notifications(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for bucket in buckets_without(stack, T.S3_NOTIFICATION, _notifies):
        rep.violation(
            f"Bucket {bucket_label(bucket)} sends no event notifications "
            "(no aws.s3.BucketNotification with a target).",
            bucket,
        )

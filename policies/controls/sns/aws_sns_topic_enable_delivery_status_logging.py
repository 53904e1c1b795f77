"""aws-sns-topic-enable-delivery-status-logging

SNS topics must log message delivery status to CloudWatch Logs (at least failures), so a
notification that never arrived leaves evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY
from ...framework import LOW, MANDATORY, Reporter, Resource, fsbp, resource_control, soc2

# Protocols whose delivery status SNS can log (email and SMS topics have no such setting).
_FEEDBACK_ROLES = tuple(
    f"{protocol}FailureFeedbackRoleArn"
    for protocol in ("application", "firehose", "http", "lambda", "sqs")
)


@resource_control(
    name="aws-sns-topic-enable-delivery-status-logging",
    description="SNS topics must log delivery failures to CloudWatch Logs "
    "(a <protocol>FailureFeedbackRoleArn).",
    resource_types=(T.SNS_TOPIC,),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "SNS.2",
            "Logging of delivery status should be enabled for notification messages sent to a "
            "topic",
        ),
        soc2("CC7.2", "System components are monitored for anomalies"),
    ),
    remediation=(
        "Set `<protocol>_failure_feedback_role_arn` (and optionally the success role and "
        "sample rate) for the protocols the topic delivers to, with a role SNS may assume "
        "that can write to CloudWatch Logs."
    ),
)
def delivery_status(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    values = [r.get(prop) for prop in _FEEDBACK_ROLES]
    if any(P.is_unknown(v) for v in values):
        return  # a role ARN created in the same update: logging is configured
    if not any(isinstance(v, str) and v.strip() for v in values):
        rep.violation("The topic does not log delivery status (no *FailureFeedbackRoleArn is set).")

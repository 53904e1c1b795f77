"""aws-sqs-queue-configure-customer-managed-key

SQS queues must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.encryption import (
    CATEGORY,
    PCI_STORED_DATA,
    SOC2_LOGICAL,
    require_customer_managed_key,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-sqs-queue-configure-customer-managed-key",
    description="SQS queues must be encrypted with a customer-managed KMS key.",
    resource_types=(T.SQS_QUEUE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        fsbp("SQS.1", "Amazon SQS queues should be encrypted at rest"),
    ),
    remediation=(
        "Set `kms_master_key_id` to the queue's customer-managed key ARN (and leave "
        "`sqs_managed_sse_enabled` unset) on both the orders queue and its dead-letter queue."
    ),
)
def sqs_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    sse_sqs = P.as_bool(r.get("sqsManagedSseEnabled"))
    require_customer_managed_key(
        r,
        rep,
        "kmsMasterKeyId",
        "SQS queue",
        "sqs",
        missing=(
            "SQS queue uses SQS-managed encryption (SSE-SQS), not a customer-managed KMS key "
            "(kmsMasterKeyId is not set)."
        )
        if sse_sqs
        else None,
    )

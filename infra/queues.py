"""The orders SQS FIFO queue and its FIFO dead-letter queue, both KMS-encrypted.

High-throughput FIFO (per-message-group deduplication and throughput): ordering is only
needed within one account's orders, which is the message group the relay sets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child, policy_document
from infra.config import QueueConfig, RegionConfig

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to inspect and redrive


@dataclass(frozen=True)
class QueueArgs:
    prefix: str
    region: RegionConfig
    settings: QueueConfig
    kms_key_arn: pulumi.Input[str]


class Queue(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: QueueArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Queue", name, None, opts)
        settings = args.settings
        self.queue_name = f"{args.prefix}-orders.fifo"
        self.dlq_name = f"{args.prefix}-orders-dlq.fifo"
        encryption: dict[str, Any] = {
            "kms_master_key_id": args.kms_key_arn,
            "kms_data_key_reuse_period_seconds": 300,
        }

        self.dlq = aws.sqs.Queue(
            f"{name}-dlq",
            name=self.dlq_name,
            fifo_queue=True,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            **encryption,
            opts=child(self),
        )
        self.queue = aws.sqs.Queue(
            f"{name}-orders",
            name=self.queue_name,
            fifo_queue=True,
            content_based_deduplication=True,
            deduplication_scope="messageGroup",
            fifo_throughput_limit="perMessageGroupId",
            visibility_timeout_seconds=settings.visibility_timeout_seconds,
            message_retention_seconds=settings.message_retention_seconds,
            receive_wait_time_seconds=20,
            redrive_policy=self.dlq.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": settings.max_receive_count}
                )
            ),
            **encryption,
            opts=child(self),
        )
        # Only the orders queue may dead-letter into the DLQ (a separate resource because
        # the two queues reference each other).
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-redrive-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=self.queue.arn.apply(
                lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]})
            ),
            opts=child(self),
        )
        for label, queue in (("orders", self.queue), ("dlq", self.dlq)):
            aws.sqs.QueuePolicy(
                f"{name}-{label}-tls-only",
                queue_url=queue.url,
                policy=queue.arn.apply(_deny_insecure_transport),
                opts=child(self),
            )
        self.url = self.queue.url
        self.arn = self.queue.arn
        self.register_outputs({"url": self.queue.url, "dlqUrl": self.dlq.url})


def _deny_insecure_transport(queue_arn: str) -> str:
    return policy_document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )

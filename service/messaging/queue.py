"""SQS FIFO access. Locally the queue and its FIFO DLQ are created when missing."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config

from service.config import Settings

VISIBILITY_TIMEOUT_S = 30


def sqs_client(settings: Settings) -> Any:
    return boto3.client(
        "sqs",
        region_name=settings.aws_region,
        endpoint_url=settings.sqs_endpoint_url,
        config=Config(
            connect_timeout=1,
            read_timeout=10,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )


def dlq_name_for(queue_name: str) -> str:
    return queue_name.removesuffix(".fifo") + "-dlq.fifo"


def ensure_queues(client: Any, settings: Settings) -> str:
    """Return the queue URL; on a local endpoint create the queue and its DLQ first.

    In AWS the queues belong to the infrastructure (Pulumi) and are only looked up.
    """
    queue_url = settings.require_queue_url()
    name = settings.queue_name
    assert name is not None
    if settings.sqs_endpoint_url is None:
        return queue_url
    dlq_url = client.create_queue(
        QueueName=dlq_name_for(name),
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    created = client.create_queue(
        QueueName=name,
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_S),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.dlq_max_receive_count}
            ),
        },
    )
    return str(created["QueueUrl"])

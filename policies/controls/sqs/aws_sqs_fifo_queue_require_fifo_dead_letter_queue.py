"""aws-sqs-fifo-queue-require-fifo-dead-letter-queue

Every FIFO work queue must redrive failed messages to a FIFO dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY, _check_fifo_dlq
from ...framework import HIGH, MANDATORY, Reporter, soc2, stack_control
from ...model import Stack


@stack_control(
    name="aws-sqs-fifo-queue-require-fifo-dead-letter-queue",
    description="Every FIFO work queue must redrive failed messages to a FIFO dead-letter queue.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, soc2("PI1.3", "Processing is complete, accurate and timely")),
    scope=(T.SQS_QUEUE,),
    remediation=(
        "Create a second queue with `fifo_queue=True` (name ending in `.fifo`) and set "
        "`redrive_policy=json.dumps({'deadLetterTargetArn': dlq.arn, 'maxReceiveCount': N})` "
        "on the work queue. A queue counts as a dead-letter queue when another queue redrives "
        "to it, when it has a `redrive_allow_policy`, or when its name says so ('dlq', "
        "'dead-letter')."
    ),
)
def fifo_dlq(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    queues = stack.of_type(T.SQS_QUEUE)
    redrives: dict[int, Any] = {}
    for queue in queues:
        redrives[id(queue)] = queue.get("redrivePolicy")
    for extra in stack.of_type(T.SQS_REDRIVE_POLICY):
        for queue in stack.resolve(extra, "queueUrl", extra.get("queueUrl"), T.SQS_QUEUE):
            redrives[id(queue)] = extra.get("redrivePolicy")
    targets: set[int] = set()
    unknown = any(P.is_unknown(policy) for policy in redrives.values())
    for queue in queues:
        policy = P.as_json(redrives[id(queue)])
        arn = P.get(policy, "deadLetterTargetArn")
        for target in stack.resolve(queue, "redrivePolicy", arn, T.SQS_QUEUE):
            targets.add(id(target))
    for queue in queues:
        # A dead-letter queue is one another queue's redrive policy points at; what the
        # queue is called, or a redrive-allow policy it declares itself, proves nothing.
        if not P.as_bool(queue.get("fifoQueue")) or id(queue) in targets:
            continue
        if unknown and not P.is_unknown(redrives[id(queue)]):
            with rep.guard(queue):  # it may be the target of the redrive policy not known yet
                rep.skip("which queues are dead-letter queues")
            continue
        with rep.guard(queue):
            _check_fifo_dlq(stack, queue, redrives[id(queue)], rep)

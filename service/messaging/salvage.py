"""A pack with a poison event, on its last receipt: the poison goes to the DLQ alone, and
the account's other events in the pack are applied, in order.

Left to the queue, the redrive policy would move the whole pack to the DLQ after
maxReceiveCount receipts, the good events after the poison with it; redriven later they
would land behind the account's newer events, out of order. So on the receipt that the
queue would otherwise make the last, the worker walks the pack itself: each event is applied
alone (one already applied comes back as a duplicate and changes nothing), and each event it
cannot apply (unknown order, unparseable) is sent alone to the DLQ, in the pack's message
group. Only when every event is applied or dead-lettered is the pack deleted; if anything
else fails (the database, the DLQ), the pack is left as it is and the queue moves it whole,
as before packs existed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from service.messaging.envelope import unpack
from service.observability import Metrics, log
from service.venue import UnknownOrderEvent

# Applies one decoded event alone: its outcome (a venue outcome text, or the exception that
# refused it, UnknownOrderEvent for a poison; None when held back).
ApplyDocument = Callable[[Any], Awaitable[str | Exception | None]]
DeadLetter = Callable[[Any], Awaitable[None]]


async def salvage_pack(
    body: str, apply_document: ApplyDocument, dead_letter: DeadLetter, metrics: Metrics
) -> bool:
    """True when every event of the pack was applied or dead-lettered alone (delete it)."""
    try:
        for document in unpack(body):
            outcome = await apply_document(document)
            if isinstance(outcome, UnknownOrderEvent):
                await dead_letter(document)
                metrics.worker_processed.labels("poison_dead_lettered").inc()
                log.error("poison_event_dead_lettered", detail=str(outcome),
                          event_id=_event_id(document))
            elif not isinstance(outcome, str):
                log.warning("pack_salvage_stopped", outcome=repr(outcome)[:200])
                return False
    except Exception as error:  # the queue moves the pack whole, as it would have
        log.warning("pack_salvage_failed", error=type(error).__name__, detail=str(error)[:200])
        return False
    return True


def dead_letter_event(sqs: Any, dlq_url: str, group: str, document: Any) -> None:
    """One event alone to the DLQ, in its account's message group."""
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    sqs.send_message(
        QueueUrl=dlq_url, MessageBody=body, MessageGroupId=group,
        MessageDeduplicationId="poison-" + hashlib.sha256(body.encode()).hexdigest(),
    )


def _event_id(document: Any) -> str:
    return str(document.get("event_id", "")) if isinstance(document, dict) else ""

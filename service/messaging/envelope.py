"""The queue message: one account's events in outbox order, several to a message.

Every SQS call costs far more than the events it carries (a SendMessageBatch, a receive and
a delete per ten messages, whatever their size), so the relay puts the events of one account
that one claim took into one message, a *pack*: `{"events": [event, ...]}`, up to 10
(`relay --events-per-message`; 1 writes no packs). A message of one event is the event
itself, as before packs existed, so a low-traffic queue, the DLQ and anything written by
hand read as they always did, and the worker reads both.

Rolling out or back: a worker older than packs dead-letters them, so workers that read packs
must run before any relay writes them, and a rollback past packs starts with
`--events-per-message 1` (`relayEventsPerMessage` in Pulumi) until no pack is left in the
queue (runbooks/queue-backlog.md).

Per-account order holds: a pack is one account's events in outbox id order, and a
SendMessageBatch carries at most one message per account (service.messaging.relay).
Deduplication: a one-event message is deduplicated on its event id, as before; a pack on a
digest of its event ids in order. A relay that re-claims after a crash may pack the same
events differently; the queue then delivers an event twice, and the worker applies it once
(processed_events), as it does for any redelivery.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# At most 10 messages a receive, so at most 100 events in one receive's transaction.
PACK_MAX_EVENTS = 10
# SQS allows 256 KiB per message and per SendMessageBatch (the sum of its messages, UTF-8).
# A pack stays well under, so ten packs of ordinary events fit one call; an event larger
# than this travels alone, and the relay cuts a call short to fit it.
PACK_MAX_BYTES = 16 * 1024
# The limit counts message attributes and ids too (the event_type attribute, ~50 bytes an
# entry): the bodies of one call keep 1 KiB an entry clear of it.
SEND_BATCH_MAX_BYTES = 256 * 1024 - 10 * 1024


def pack_body(payloads: list[str]) -> str:
    """The message body of one account's events (JSON texts, in outbox order)."""
    if not payloads:
        raise ValueError("a message carries at least one event")
    if len(payloads) == 1:
        return payloads[0]
    return '{"events":[' + ",".join(payloads) + "]}"


def pack_deduplication_id(event_ids: list[str]) -> str:
    """At most 128 characters, as SQS requires: the event id itself for one event."""
    if len(event_ids) == 1:
        return event_ids[0]
    return "pack-" + hashlib.sha256(",".join(event_ids).encode()).hexdigest()


def unpack(body: str) -> list[Any]:
    """The decoded events of a message body, in order; ValueError when it is not one."""
    document = json.loads(body)
    if isinstance(document, dict) and set(document) == {"events"}:
        events = document["events"]
        if not isinstance(events, list) or not events:
            raise ValueError("a pack's events must be a non-empty list")
        return events
    return [document]

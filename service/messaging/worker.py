"""The downstream consumer: a simulated execution venue.

It applies each queue event exactly once (processed_events in the same transaction as the
state change) and deletes the message only after that commit. A message carries one event
or a pack of one account's events (service.messaging.envelope). The events of one receive
(up to 10 messages) are applied in one transaction and deleted with one DeleteMessageBatch:
one commit instead of one per event. A receive of new orders only is applied by one SQL call
(service.venue.apply_created_events); anything else event by event, a savepoint each. A
message it cannot apply (unknown order or event type, unparseable body) writes nothing and
is made visible again at once, so after maxReceiveCount receipts the queue's redrive policy
moves it to the DLQ; the messages of its group after it wait (FIFO), those before it and the
other groups' events commit.

A fill racing a cancel of the same order is decided by the order's row lock (both take it,
FOR UPDATE, before checking the status): whichever commits first wins, and the other sees
its result (the fill is skipped, or the cancel refused). The worker takes no Redis lock: it
would cost two Redis round trips per receive to shift the odds of a race that the database
already decides, and Redis is never the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg

from service.db import DatabaseUnavailable, with_retries
from service.messaging.envelope import unpack
from service.messaging.health import Heartbeat
from service.observability import Metrics, log, span
from service.stopping import pause
from service.venue import (
    HELD,
    MISMATCH,
    UNKNOWN,
    CreatedEvent,
    UnknownOrderEvent,
    apply_created_events,
    apply_venue_event,
)


@dataclass(frozen=True)
class QueueEvent:
    event_id: uuid.UUID
    order_id: uuid.UUID
    event_type: str
    quantity: Decimal | None = None  # as the message carries it; the row is the truth


# What applying one event came to: the venue's outcome, a poison or other failure, or None
# when it was held back behind an earlier message of its group.
Outcome = str | Exception | None


@dataclass
class Admitted:
    """A received message cleared to be applied in this batch."""

    message: dict[str, Any]
    group: str
    event: QueueEvent


def parse_events(body: str) -> list[QueueEvent]:
    """The events of a message, one or a pack (service.messaging.envelope), in order."""
    try:
        return [
            QueueEvent(
                event_id=uuid.UUID(document["event_id"]),
                order_id=uuid.UUID(document["order"]["id"]),
                event_type=str(document["event_type"]),
                quantity=_quantity(document["order"].get("quantity")),
            )
            for document in unpack(body)
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UnknownOrderEvent(f"unparseable message body: {error}") from None


QUANTITY_LIMIT = Decimal(10) ** 18  # orders.quantity is numeric(26, 8)
QUANTITY_STEP = Decimal("0.00000001")


def _quantity(value: object) -> Decimal | None:
    """The message's quantity when it is a decimal text the orders.quantity column could
    hold, else None: the event then takes the general path, which reads it from the row."""
    if not isinstance(value, str):
        return None
    try:
        quantity = Decimal(value)
        fits = (quantity.is_finite() and abs(quantity) < QUANTITY_LIMIT
                and quantity == quantity.quantize(QUANTITY_STEP))
    except InvalidOperation:
        return None
    return quantity if fits else None


DEAD_LETTER_SAMPLE_S = 15.0
RECEIVE_MAX = 10  # SQS: messages per ReceiveMessage


def _all_created(admitted: list[Admitted]) -> bool:
    """True when every event to apply is an 'order.created' whose message carries its
    quantity: the batch then takes the one-round-trip path."""
    return bool(admitted) and all(
        item.event.event_type == "order.created" and item.event.quantity is not None
        for item in admitted
    )


def oldest_age_s(messages: list[dict[str, Any]], now_s: float) -> float:
    """Age at receive of the oldest message (SQS SentTimestamp is epoch milliseconds)."""
    sent = [
        int(m["Attributes"]["SentTimestamp"]) / 1000
        for m in messages
        if "SentTimestamp" in m.get("Attributes", {})
    ]
    return max(0.0, now_s - min(sent)) if sent else 0.0


class Worker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sqs: Any,
        queue_url: str,
        consumer: str,
        metrics: Metrics,
        *,
        wait_s: int = 1,
        heartbeat: Heartbeat | None = None,
        receives: int = 1,
        linger_s: float = 0.0,
    ) -> None:
        if receives < 1:
            raise ValueError("receives must be at least 1")
        self.pool, self.sqs, self.queue_url = pool, sqs, queue_url
        self.consumer, self.metrics = consumer, metrics
        self.wait_s = wait_s
        self.receives = receives
        self._ages = dict.fromkeys(range(receives), 0.0)  # every slot up front: see _receive
        self.linger_s = linger_s
        self.heartbeat = heartbeat or Heartbeat()
        self._dlq_url: str | None = None
        self._dead_letters_sampled_at = 0.0

    def _receive(self, slot: int = 0) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=RECEIVE_MAX,
            WaitTimeSeconds=self.wait_s,
            MessageSystemAttributeNames=[
                "MessageGroupId", "ApproximateReceiveCount", "SentTimestamp"
            ],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        # The oldest of each receive loop's latest: while one loop keeps getting a stuck
        # group's old message, the others' empty receives must not reset the gauge to 0.
        self._ages[slot] = oldest_age_s(messages, time.time())
        self.metrics.queue_message_age.set(max(self._ages.values()))
        return messages

    def _dead_letter_url(self) -> str | None:
        """The DLQ named by the queue's redrive policy (looked up once)."""
        if self._dlq_url is None:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"]
            ).get("Attributes", {})
            policy = attributes.get("RedrivePolicy")
            if policy is None:
                return None
            name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]
            self._dlq_url = str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])
        return self._dlq_url

    async def _maybe_sample_dead_letters(self) -> None:
        """Every DEAD_LETTER_SAMPLE_S; a failure (no permission on the DLQ, queue failing
        over) only leaves the gauge as it was: it must never hold up the work."""
        if time.monotonic() - self._dead_letters_sampled_at < DEAD_LETTER_SAMPLE_S:
            return
        self._dead_letters_sampled_at = time.monotonic()
        try:
            await asyncio.to_thread(self.sample_dead_letters)
        except Exception as error:
            log.debug("dead_letter_sampling_failed", error=type(error).__name__)

    def sample_dead_letters(self) -> None:
        dlq_url = self._dead_letter_url()
        if dlq_url is None:
            return
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        self.metrics.dead_letter_messages.set(float(attributes["ApproximateNumberOfMessages"]))

    def _release(self, message: dict[str, Any], delay_s: int) -> None:
        with contextlib.suppress(Exception):  # it becomes visible at its timeout anyway
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=delay_s,
            )

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        if messages:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

    def _admit(
        self, messages: list[dict[str, Any]], held_groups: set[str],
        releases: list[tuple[dict[str, Any], int]],
    ) -> list[Admitted]:
        """Parse each message in delivery order, each event of a pack in its order; a
        message that cannot be parsed is a poison message and holds back the rest of its
        group (FIFO)."""
        admitted: list[Admitted] = []
        for message in messages:
            group = message.get("Attributes", {}).get("MessageGroupId", "")
            if group in held_groups:
                releases.append((message, 0))
                continue
            try:
                events = parse_events(message["Body"])
            except UnknownOrderEvent as error:
                self._poison(message, error, group, held_groups, releases)
                continue
            admitted.extend(Admitted(message, group, event) for event in events)
        return admitted

    def _poison(
        self, message: dict[str, Any], error: Exception, group: str, held_groups: set[str],
        releases: list[tuple[dict[str, Any], int]],
    ) -> None:
        self.metrics.worker_processed.labels("poison").inc()
        log.error("poison_message", message_id=message.get("MessageId"), detail=str(error))
        held_groups.add(group)
        releases.append((message, 0))

    async def _apply_in_one_transaction(self, admitted: list[Admitted]) -> list[Outcome]:
        """Each admitted event's outcome, all committed together; None = held back. Every
        admitted message comes before any refused one of its group, so none starts held."""

        async def apply_batch(conn: asyncpg.Connection) -> list[Outcome]:
            held: set[str] = set()  # a retry starts over: nothing of a failed try committed
            outcomes: list[Outcome] = []
            async with conn.transaction():
                if _all_created(admitted):
                    return await self._apply_created(conn, admitted, held)
                for item in admitted:
                    outcomes.append(None if item.group in held else await self._apply_one(
                        conn, item, held))
            return outcomes

        with span("worker.apply", events=len(admitted)):
            return await with_retries(self.pool, apply_batch, budget_s=5.0)

    async def _apply_one(
        self, conn: asyncpg.Connection, item: Admitted, held: set[str]
    ) -> Outcome:
        try:
            # apply_venue_event opens a nested transaction: a savepoint here, so an event
            # it cannot apply rolls back alone.
            return await apply_venue_event(
                conn, event_id=item.event.event_id, order_id=item.event.order_id,
                event_type=item.event.event_type, consumer=self.consumer,
            )
        except UnknownOrderEvent as error:
            held.add(item.group)
            return error

    async def _apply_created(
        self, conn: asyncpg.Connection, admitted: list[Admitted], held: set[str]
    ) -> list[Outcome]:
        """The common case, a receive of new orders only: one round trip (migration 0015).
        A row that disagrees with its message is applied the general way, and so are the
        events of its group after it (the function held them), in order."""
        results = await apply_created_events(conn, [
            CreatedEvent(item.event.event_id, item.event.order_id, item.group,
                         item.event.quantity or Decimal(0))
            for item in admitted
        ], consumer=self.consumer)
        general: set[str] = set()  # groups continuing the general way after a mismatch
        outcomes: list[Outcome] = []
        for item, result in zip(admitted, results, strict=True):
            if item.group in held:
                outcomes.append(None)
            elif result == UNKNOWN:
                held.add(item.group)
                outcomes.append(UnknownOrderEvent(f"order {item.event.order_id} does not exist"))
            elif result == MISMATCH or (result == HELD and item.group in general):
                general.add(item.group)
                outcomes.append(await self._apply_one(conn, item, held))
            else:
                outcomes.append(None if result == HELD else result)
        return outcomes

    async def _apply_each_alone(self, admitted: list[Admitted]) -> list[Outcome]:
        """After a batch failed for another reason: isolate the event that fails. A failed
        event is left invisible until its visibility timeout, as a lone failure always was;
        the events of its group after it are held back."""
        failed: set[str] = set()
        outcomes: list[Outcome] = []
        for item in admitted:
            if item.group in failed:
                outcomes.append(None)
                continue
            try:
                [outcome] = await self._apply_in_one_transaction([item])
            except DatabaseUnavailable:
                raise
            except Exception as error:
                log.warning("worker_apply_failed", error=type(error).__name__)
                outcome = error
            if isinstance(outcome, Exception):
                failed.add(item.group)
            outcomes.append(outcome)
        return outcomes

    async def run_once(self) -> int:
        """Handle one receive; return the number of messages deleted."""
        return (await self._receive_and_apply())[1]

    async def _receive_and_apply(self, slot: int = 0) -> tuple[int, int]:
        """Handle one receive; return how many messages it got and how many were deleted."""
        messages = await asyncio.to_thread(self._receive, slot)
        if not messages:
            return 0, 0
        held_groups: set[str] = set()
        releases: list[tuple[dict[str, Any], int]] = []
        admitted = self._admit(messages, held_groups, releases)
        try:
            outcomes = await self._apply_in_one_transaction(admitted)
        except DatabaseUnavailable:
            raise
        except Exception as error:
            log.warning("worker_batch_failed", error=type(error).__name__)
            outcomes = await self._apply_each_alone(admitted)
        done = self._settle(admitted, outcomes, held_groups, releases)
        for message, delay_s in releases:
            await asyncio.to_thread(self._release, message, delay_s)
        await asyncio.to_thread(self._delete, done)
        return len(messages), len(done)

    def _settle(
        self, admitted: list[Admitted], outcomes: list[Outcome],
        held_groups: set[str], releases: list[tuple[dict[str, Any], int]],
    ) -> list[dict[str, Any]]:
        """Count what happened; return the messages to delete (all their events committed).

        A pack whose event failed or was held is not deleted: the events before it
        committed, and when it comes back they are found applied (processed_events)."""
        by_message: dict[str, list[tuple[Admitted, Outcome]]] = {}
        for item, outcome in zip(admitted, outcomes, strict=True):
            by_message.setdefault(item.message["ReceiptHandle"], []).append((item, outcome))
        done: list[dict[str, Any]] = []
        for settled in by_message.values():
            first = settled[0][0]
            for _, outcome in settled:
                if isinstance(outcome, str):
                    self.metrics.worker_processed.labels(outcome.split(" ")[0]).inc()
            failures = [o for _, o in settled if isinstance(o, Exception)]
            poison = next((o for o in failures if isinstance(o, UnknownOrderEvent)), None)
            if poison is not None:
                self._poison(first.message, poison, first.group, held_groups, releases)
            elif failures:
                continue  # visible again at its timeout; its group is held meanwhile
            elif any(outcome is None for _, outcome in settled):
                releases.append((first.message, 0))  # behind a message of its group
            else:
                done.append(first.message)
        return done

    async def run(self, stop: asyncio.Event) -> None:
        """`receives` loops, each receive -> apply -> delete. SQS FIFO hands a message group
        to one receive at a time (none of its messages is delivered while another is in
        flight), so loops in one process keep per-account order as separate workers do; they
        overlap one receive's queue and commit waits with another's work."""
        log.info("worker_started", consumer=self.consumer, receives=self.receives)
        for slot in range(self.receives):
            self.heartbeat.beat(slot)
        await asyncio.gather(*(self._loop(stop, slot) for slot in range(self.receives)))
        log.info("worker_stopped", consumer=self.consumer)

    async def _loop(self, stop: asyncio.Event, slot: int) -> None:
        backoff = 0.0
        while not stop.is_set():
            self.heartbeat.beat(slot)  # its own slot: one wedged loop fails liveness
            try:
                await self._maybe_sample_dead_letters()
                received, _ = await self._receive_and_apply(slot)
                backoff = 0.0
                if 0 < received < RECEIVE_MAX and self.linger_s > 0:
                    # A part-filled receive under a trickle of events: let the next ones
                    # gather for linger_s rather than spend a receive and a delete on one.
                    await pause(stop, self.linger_s)
            except Exception as error:  # queue or database failing over: back off, go on
                backoff = min(max(backoff * 2, 0.2), 5.0)
                log.warning("worker_error", error=type(error).__name__, detail=str(error)[:200])
                await pause(stop, backoff)

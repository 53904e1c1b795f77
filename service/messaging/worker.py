"""The downstream consumer: a simulated execution venue.

It applies each queue event exactly once (processed_events in the same transaction as the
state change) and deletes the message only after that commit. A message it cannot apply
(unknown order or event type, unparseable body) is made visible again at once, so after
maxReceiveCount receipts the queue's redrive policy moves it to the DLQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from service.db import with_retries
from service.messaging.health import Heartbeat
from service.observability import Metrics, log, span
from service.redis_gate import RedisGate
from service.venue import UnknownOrderEvent, apply_venue_event


@dataclass(frozen=True)
class QueueEvent:
    event_id: uuid.UUID
    order_id: uuid.UUID
    event_type: str


def parse_event(body: str) -> QueueEvent:
    try:
        document = json.loads(body)
        return QueueEvent(
            event_id=uuid.UUID(document["event_id"]),
            order_id=uuid.UUID(document["order"]["id"]),
            event_type=str(document["event_type"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise UnknownOrderEvent(f"unparseable message body: {error}") from None


DEAD_LETTER_SAMPLE_S = 15.0


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
        redis: RedisGate,
        *,
        wait_s: int = 1,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.pool, self.sqs, self.queue_url = pool, sqs, queue_url
        self.consumer, self.metrics, self.redis = consumer, metrics, redis
        self.wait_s = wait_s
        self.heartbeat = heartbeat or Heartbeat()
        self._dlq_url: str | None = None
        self._dead_letters_sampled_at = 0.0

    def _receive(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self.wait_s,
            MessageSystemAttributeNames=[
                "MessageGroupId", "ApproximateReceiveCount", "SentTimestamp"
            ],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        self.metrics.queue_message_age.set(oldest_age_s(messages, time.time()))
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

    async def _apply(self, event: QueueEvent) -> str:
        async def apply(conn: asyncpg.Connection) -> str:
            return await apply_venue_event(
                conn,
                event_id=event.event_id,
                order_id=event.order_id,
                event_type=event.event_type,
                consumer=self.consumer,
            )

        return await with_retries(self.pool, apply, budget_s=5.0)

    async def run_once(self) -> int:
        """Handle one receive; return the number of messages deleted."""
        messages = await asyncio.to_thread(self._receive)
        done: list[dict[str, Any]] = []
        # A message that could not be applied holds back the rest of its group (FIFO order).
        held_groups: set[str] = set()
        for message in messages:
            group = message.get("Attributes", {}).get("MessageGroupId", "")
            if group in held_groups:
                await asyncio.to_thread(self._release, message, 0)
                continue
            try:
                event = parse_event(message["Body"])
                lock = await self.redis.acquire_lock(f"order:{event.order_id}")
                if lock is None and self.redis.configured and not self.redis.degraded:
                    # A cancel holds this order right now; let it finish first.
                    held_groups.add(group)
                    await asyncio.to_thread(self._release, message, 1)
                    continue
                try:
                    with span("worker.apply", event_type=event.event_type):
                        outcome = await self._apply(event)
                finally:
                    if lock is not None:
                        await self.redis.release_lock(f"order:{event.order_id}", lock)
            except UnknownOrderEvent as error:
                self.metrics.worker_processed.labels("poison").inc()
                log.error("poison_message", message_id=message.get("MessageId"), detail=str(error))
                held_groups.add(group)
                await asyncio.to_thread(self._release, message, 0)
                continue
            except Exception as error:
                log.warning("worker_apply_failed", error=type(error).__name__)
                held_groups.add(group)
                continue
            self.metrics.worker_processed.labels(outcome.split(" ")[0]).inc()
            done.append(message)
        await asyncio.to_thread(self._delete, done)
        return len(done)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker_started", consumer=self.consumer)
        backoff = 0.0
        while not stop.is_set():
            self.heartbeat.beat()
            try:
                await self._maybe_sample_dead_letters()
                await self.run_once()
                backoff = 0.0
            except Exception as error:  # queue or database failing over: back off, go on
                backoff = min(max(backoff * 2, 0.2), 5.0)
                log.warning("worker_error", error=type(error).__name__, detail=str(error)[:200])
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
        log.info("worker_stopped", consumer=self.consumer)

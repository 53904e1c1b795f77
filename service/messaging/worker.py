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
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from service.db import with_retries
from service.domain.orders import UnknownOrderEvent, apply_venue_event
from service.messaging.health import Heartbeat
from service.observability import Metrics, log, span
from service.redis_gate import RedisGate


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

    def _receive(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self.wait_s,
            MessageSystemAttributeNames=["MessageGroupId", "ApproximateReceiveCount"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

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
                await self.run_once()
                backoff = 0.0
            except Exception as error:  # queue or database failing over: back off, go on
                backoff = min(max(backoff * 2, 0.2), 5.0)
                log.warning("worker_error", error=type(error).__name__, detail=str(error)[:200])
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
        log.info("worker_stopped", consumer=self.consumer)

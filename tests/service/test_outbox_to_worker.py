"""Outbox → relay → SQS FIFO → worker, end to end on the local SQS endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from service.db import create_pool
from service.messaging.envelope import unpack
from service.messaging.queue import dlq_name_for, ensure_queues, sqs_client
from service.messaging.relay import Relay, claim_batch, publish_rounds
from service.messaging.worker import Worker
from service.observability import Metrics
from tests.service.conftest import Database, auth_headers, new_key, order_body

ACCOUNTS = ["ACC-1", "ACC-2", "ACC-3", "ACC-4"]


async def place_orders(
    settings: Settings, count: int, cancel_every: int = 0
) -> list[dict[str, Any]]:
    placed = []
    async with AsyncTestClient(app=create_app(settings, Metrics())) as client:
        for i in range(count):
            account = ACCOUNTS[i % len(ACCOUNTS)]
            quantity = "2000000" if i % 7 == 6 else f"{i + 1}.5"  # every 7th: venue rejects
            response = await client.post(
                "/v1/orders",
                json=order_body(account, quantity=quantity),
                headers=auth_headers(*ACCOUNTS, key=new_key()),
            )
            assert response.status_code == 201
            placed.append(response.json())
            if cancel_every and i % cancel_every == 0:
                cancel = await client.post(
                    f"/v1/orders/{placed[-1]['id']}/cancel", headers=auth_headers(*ACCOUNTS)
                )
                assert cancel.status_code == 200
    return placed


class Pipeline:
    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.pool = pool
        self.sqs = sqs_client(settings)
        self.queue_url = ensure_queues(self.sqs, settings)
        self.metrics = Metrics()

    def relay(self, name: str, lease_s: float = 30.0) -> Relay:
        return Relay(self.pool, self.sqs, self.queue_url, name, self.metrics, lease_s=lease_s)

    def worker(self, name: str = "venue-test", **options: Any) -> Worker:
        """A worker on this queue (options: receives, linger_s)."""
        return Worker(self.pool, self.sqs, self.queue_url, name, self.metrics, **options)

    def dead_letters(self, max_messages: int = 1) -> list[dict[str, Any]]:
        """One receive from the queue's DLQ (what the redrive policy moved there)."""
        dlq_url = self.sqs.get_queue_url(
            QueueName=dlq_name_for(self.settings.queue_name or ""))["QueueUrl"]
        return self.sqs.receive_message(  # type: ignore[no-any-return]
            QueueUrl=dlq_url, WaitTimeSeconds=1, MaxNumberOfMessages=max_messages,
        ).get("Messages", [])

    def receive_all(self) -> list[dict[str, Any]]:
        """Drain the queue with a raw consumer, in delivery order."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["MessageGroupId"],
            ).get("Messages", [])
            if not batch:
                return received
            received.extend(batch)
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
                ],
            )


async def run_until(step: Any, done: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await done():
        assert time.monotonic() < deadline, "pipeline did not converge"
        await step()


async def test_every_order_is_published_in_per_account_order_and_executed_once(
    queue_settings: Settings, database: Database
) -> None:
    placed = await place_orders(queue_settings, 24, cancel_every=5)
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        relays = [pipe.relay("relay-a"), pipe.relay("relay-b")]

        async def unpublished() -> bool:
            return (
                await database.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                == 0
            )

        await run_until(lambda: asyncio.gather(*(r.run_once() for r in relays)), unpublished)
        messages = await asyncio.to_thread(pipe.receive_all)
    finally:
        await pool.close()

    outbox = await database.fetch("SELECT event_id::text, account_id FROM outbox ORDER BY id")
    expected: dict[str, list[str]] = defaultdict(list)
    for row in outbox:
        expected[row["account_id"]].append(row["event_id"])
    delivered: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        for event in unpack(message["Body"]):
            delivered[message["Attributes"]["MessageGroupId"]].append(event["event_id"])
    assert delivered == expected  # each event once, per-account order preserved
    assert len(placed) == 24
    # An account's events in one claim travel as one message (a pack): fewer messages.
    assert len(messages) < len(outbox)


async def test_worker_executes_each_event_exactly_once(
    queue_settings: Settings, database: Database
) -> None:
    placed = await place_orders(queue_settings, 14, cancel_every=5)
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        relay, worker = pipe.relay("relay-a"), pipe.worker()

        async def step() -> None:
            await relay.run_once()
            await worker.run_once()

        async def all_processed() -> bool:
            return (
                await database.fetchval(
                    "SELECT count(*) FROM outbox o WHERE NOT EXISTS"
                    " (SELECT 1 FROM processed_events p WHERE p.event_id = o.event_id)"
                )
                == 0
            )

        await run_until(step, all_processed)
        # Redelivering everything again changes nothing (dedup by event id).
        for row in await database.fetch(
            "SELECT payload::text AS payload, account_id, event_id::text FROM outbox"
        ):
            pipe.sqs.send_message(
                QueueUrl=pipe.queue_url,
                MessageBody=row["payload"],
                MessageGroupId=row["account_id"],
                MessageDeduplicationId=row["event_id"] + "-again",
            )
        for _ in range(4):
            await worker.run_once()
    finally:
        await pool.close()

    statuses = {
        r["id"]: r["status"] for r in await database.fetch("SELECT id::text, status FROM orders")
    }
    for index, order in enumerate(placed):
        if index % 5 == 0:
            assert statuses[order["id"]] == "CANCELLED"
        elif index % 7 == 6:
            assert statuses[order["id"]] == "REJECTED"
        else:
            assert statuses[order["id"]] == "FILLED"
    transitions = await database.fetchval(
        "SELECT count(*) FROM audit_events WHERE payload ? 'cause_event_id'"
    )
    distinct = await database.fetchval(
        "SELECT count(DISTINCT (payload->>'cause_event_id', to_status)) FROM audit_events"
        " WHERE payload ? 'cause_event_id'"
    )
    assert transitions == distinct  # no transition applied twice
    assert pipe.metrics.worker_processed.labels("duplicate")._value.get() >= 14


async def test_relay_crash_mid_batch_loses_nothing(
    queue_settings: Settings, database: Database
) -> None:
    await place_orders(queue_settings, 12)
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        # Relay A claims a batch with a 1 s lease, publishes part of it, then dies.
        async with pool.acquire() as conn:
            claimed = await claim_batch(conn, "relay-a", 8, 1.0)
        assert len(claimed) == 8
        crashed = pipe.relay("relay-a")
        [first_round] = publish_rounds(claimed[:3])  # reached the queue, never marked published
        assert len(crashed._send(first_round)) == len(first_round)
        relay_b = pipe.relay("relay-b")
        # While A's lease holds, B leaves A's accounts alone (per-account order).
        assert await relay_b.run_once() == 0
        await asyncio.sleep(1.2)

        async def published_all() -> bool:
            return (
                await database.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                == 0
            )

        await run_until(relay_b.run_once, published_all)
        messages = await asyncio.to_thread(pipe.receive_all)
    finally:
        await pool.close()
    event_ids = [event["event_id"] for m in messages for event in unpack(m["Body"])]
    assert len(set(event_ids)) == 12  # every event reached the queue
    # Only what A had sent can come twice: B packed its accounts' rows anew, so the queue
    # deduplicated none of them (the worker applies each once: processed_events).
    sent_by_a = {row.event_id for row in claimed[:3]}
    assert {e for e in event_ids if event_ids.count(e) > 1} <= sent_by_a
    assert await database.fetchval("SELECT max(attempts) FROM outbox") == 2


async def test_queue_outage_keeps_rows_and_drains_after(
    queue_settings: Settings, database: Database
) -> None:
    await place_orders(queue_settings, 5)
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        broken = Relay(
            pool,
            pipe.sqs,
            pipe.queue_url.replace(".fifo", "-missing.fifo"),
            "relay-x",
            pipe.metrics,
        )
        with contextlib.suppress(Exception):  # the failure is what is being provoked
            await broken.run_once()
        unclaimed = await database.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL AND claimed_by IS NULL"
        )
        assert unclaimed == 5  # released at once, not held until the lease expires
        assert await pipe.relay("relay-y").run_once() == 5
    finally:
        await pool.close()


async def test_poison_message_goes_to_dlq(queue_settings: Settings, database: Database) -> None:
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        pipe.sqs.send_message(
            QueueUrl=pipe.queue_url,
            MessageBody="{not json",
            MessageGroupId="ACC-X",
            MessageDeduplicationId="poison-1",
        )
        worker = pipe.worker()
        for _ in range(4):
            await worker.run_once()
        dead = pipe.dead_letters()
    finally:
        await pool.close()
    assert [m["Body"] for m in dead] == ["{not json"]
    assert await database.fetchval("SELECT count(*) FROM processed_events") == 0

"""The relay woken by NOTIFY, per-entry SendMessageBatch failures, and the key janitor,
against the real PostgreSQL and the local SQS endpoint."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from service.config import Settings
from service.db import connect, create_pool
from service.janitor import IdempotencyKeyJanitor
from service.messaging.relay import Relay
from service.observability import Metrics
from tests.service.conftest import Database
from tests.service.test_outbox_to_worker import Pipeline, place_orders

# U+FFFE is outside the characters an SQS message body may hold: the queue refuses that
# entry of the batch (InvalidMessageContents), and only that one.
REFUSED_CHARACTER = "\ufffe"


async def unpublished(database: Database) -> int:
    return int(await database.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def test_relay_wakes_on_notify_long_before_its_poll(
    queue_settings: Settings, database: Database
) -> None:
    pool = await create_pool(queue_settings)
    stop = asyncio.Event()
    try:
        pipe = Pipeline(queue_settings, pool)
        relay = Relay(pool, pipe.sqs, pipe.queue_url, "relay-listening", pipe.metrics,
                      listen=lambda: connect(queue_settings), poll_s=60.0)
        running = asyncio.create_task(relay.run(stop))
        # Its first turn finds nothing; it then sleeps on a 60 s poll unless notified.
        deadline = time.monotonic() + 5
        while not (relay.wakeup and relay.wakeup.listening):
            assert time.monotonic() < deadline, "the relay never started listening"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        for _ in range(2):  # each placement finds the relay idle, so each one wakes it
            await place_orders(queue_settings, 1)
            deadline = time.monotonic() + 5  # generous; the poll alone would take 60 s
            while await unpublished(database):
                assert time.monotonic() < deadline, "a notification did not wake the relay"
                await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, 5)
        messages = await asyncio.to_thread(pipe.receive_all)
    finally:
        stop.set()
        await pool.close()
    assert len(messages) == 2


async def test_relay_without_its_listening_connection_still_publishes_by_polling(
    queue_settings: Settings, database: Database
) -> None:
    async def unreachable() -> asyncpg.Connection:
        raise OSError("connection refused")

    pool = await create_pool(queue_settings)
    stop = asyncio.Event()
    try:
        pipe = Pipeline(queue_settings, pool)
        relay = Relay(pool, pipe.sqs, pipe.queue_url, "relay-deaf", pipe.metrics,
                      listen=unreachable, poll_s=0.2)
        running = asyncio.create_task(relay.run(stop))
        await place_orders(queue_settings, 2)
        deadline = time.monotonic() + 5
        while await unpublished(database):
            assert time.monotonic() < deadline, "the fallback poll did not publish"
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, 5)
    finally:
        stop.set()
        await pool.close()
    assert relay.wakeup is not None and not relay.wakeup.listening


async def test_placements_notify_only_an_idle_relay(
    queue_settings: Settings, database: Database
) -> None:
    """NOTIFY serialises the commits of notifying transactions: with a backlog of
    unpublished rows (the relay is busy), a placement must not notify."""
    received: list[str] = []
    listener = await database.connect()
    try:
        await listener.add_listener("outbox_inserted", lambda *args: received.append(args[2]))
        await place_orders(queue_settings, 1)  # empty outbox: notifies
        await asyncio.sleep(0.5)
        assert len(received) == 1
        await place_orders(queue_settings, 2)  # the first is still unpublished: silent
        await asyncio.sleep(0.5)
        assert len(received) == 1
        await database.fetch("UPDATE outbox SET published_at = now()")
        await place_orders(queue_settings, 1)  # the relay caught up: notifies again
        await asyncio.sleep(0.5)
        assert len(received) == 2
    finally:
        await listener.close()


async def test_a_refused_entry_is_retried_while_the_others_are_published(
    queue_settings: Settings, database: Database
) -> None:
    await place_orders(queue_settings, 4)  # four accounts: one batch of four entries
    refused_id = await database.fetchval("SELECT min(id) FROM outbox")
    await database.fetch(
        "UPDATE outbox SET payload = jsonb_set(payload, '{note}', to_jsonb($2::text))"
        " WHERE id = $1", refused_id, REFUSED_CHARACTER,
    )
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        relay = pipe.relay("relay-a")
        assert await relay.run_once() == 3
        row = (await database.fetch(
            "SELECT published_at, claimed_by, attempts FROM outbox WHERE id = $1", refused_id
        ))[0]
        # Not marked published, and released at once for the next turn.
        assert row["published_at"] is None and row["claimed_by"] is None
        assert row["attempts"] == 1
        assert pipe.metrics.outbox_publish_failures._value.get() == 1
        assert await relay.run_once() == 0  # still refused: retried, still not published
        await database.fetch(
            "UPDATE outbox SET payload = payload - 'note' WHERE id = $1", refused_id
        )
        assert await relay.run_once() == 1
        messages = await asyncio.to_thread(pipe.receive_all)
    finally:
        await pool.close()
    assert await unpublished(database) == 0
    event_ids = {json.loads(m["Body"])["event_id"] for m in messages}
    assert len(messages) == 4 and len(event_ids) == 4
    assert await database.fetchval("SELECT attempts FROM outbox WHERE id = $1", refused_id) == 3


async def test_janitor_purges_expired_keys_in_batches_and_keeps_live_ones(
    queue_settings: Settings, database: Database
) -> None:
    await place_orders(queue_settings, 7)
    expired = datetime.now(UTC) - timedelta(minutes=1)
    await database.fetch(
        "UPDATE idempotency_keys SET expires_at = $1 WHERE order_id IN"
        " (SELECT order_id FROM idempotency_keys ORDER BY created_at LIMIT 5)", expired,
    )
    pool = await create_pool(queue_settings)
    try:
        metrics = Metrics()
        janitor = IdempotencyKeyJanitor(pool, metrics, batch_size=2)
        assert await janitor.run_once() == 5  # batches of 2, 2, 1
        assert await janitor.run_once() == 0
    finally:
        await pool.close()
    assert await database.fetchval("SELECT count(*) FROM idempotency_keys") == 2
    assert await database.fetchval(
        "SELECT count(*) FROM idempotency_keys WHERE expires_at < now()"
    ) == 0
    assert metrics.idempotency_keys_purged._value.get() == 5


async def test_worker_fills_a_batch_in_one_transaction_and_poison_still_reaches_the_dlq(
    queue_settings: Settings, database: Database
) -> None:
    await place_orders(queue_settings, 6)  # six orders over four accounts (message groups)
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        assert await pipe.relay("relay-a").run_once() == 6
        # Well-formed, but its order does not exist: it fails inside the batch's transaction.
        poison_event = str(uuid.uuid4())
        pipe.sqs.send_message(
            QueueUrl=pipe.queue_url,
            MessageBody=json.dumps({"event_id": poison_event, "event_type": "order.created",
                                    "order": {"id": str(uuid.uuid4())}}),
            MessageGroupId="ACC-POISON", MessageDeduplicationId=poison_event,
        )
        worker = pipe.worker()
        deleted = 0
        for _ in range(6):  # the poison is received twice (maxReceiveCount 2), then redriven
            deleted += await worker.run_once()
        dead = pipe.dead_letters()
    finally:
        await pool.close()
    assert deleted == 4  # one message per account: ACC-1's and ACC-2's two events are packs
    assert [json.loads(m["Body"])["event_id"] for m in dead] == [poison_event]
    statuses = [r["status"] for r in await database.fetch("SELECT status FROM orders")]
    assert sorted(statuses) == ["FILLED"] * 6
    assert await database.fetchval(
        "SELECT count(*) FROM processed_events WHERE event_id = $1", uuid.UUID(poison_event)
    ) == 0
    # Batched: the six fills share fewer transactions than events (one per receive; now(),
    # which processed_at records, is the transaction's start time).
    commits = await database.fetchval("SELECT count(DISTINCT processed_at) FROM processed_events")
    assert commits < 6, commits
    # The poison was handled, and released, on each of its receipts.
    assert pipe.metrics.worker_processed.labels("poison")._value.get() >= 2


async def test_after_a_part_filled_batch_relay_and_worker_let_the_next_rows_gather(
    queue_settings: Settings, database: Database
) -> None:
    """Under a trickle, one call per event would cost a SendMessageBatch, a receive and a
    delete each: after a claim short of its batch size (the relay) or a receive of fewer
    than 10 messages (the worker) both wait linger_s (here 30 s, so the wait is
    unmistakable) before the next, and a stop cuts that wait short."""
    pool = await create_pool(queue_settings)
    stop = asyncio.Event()
    try:
        pipe = Pipeline(queue_settings, pool)
        relay = Relay(pool, pipe.sqs, pipe.queue_url, "relay-lingering", pipe.metrics,
                      poll_s=0.05, linger_s=30.0)
        worker = pipe.worker("venue-lingering", linger_s=30.0)
        await place_orders(queue_settings, 2)
        tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(worker.run(stop))]
        filled = "SELECT count(*) FROM orders WHERE status = 'FILLED'"
        deadline = time.monotonic() + 10
        while await database.fetchval(filled) < 2:  # the first batch goes at once
            assert time.monotonic() < deadline, "the first batch was not filled"
            await asyncio.sleep(0.05)
        await place_orders(queue_settings, 2)
        await asyncio.sleep(1.5)  # far longer than a turn of either loop takes here
        assert await unpublished(database) == 2  # the relay is lingering
        assert await relay.run_once() == 2  # published past it: now the worker's turn
        await asyncio.sleep(1.5)
        assert await database.fetchval(filled) == 2  # the worker is lingering too
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert time.monotonic() - started < 5  # the stop ended both waits, not the 30 s
    finally:
        stop.set()
        await pool.close()


async def test_a_relay_lingers_only_after_a_claim_short_of_its_batch_size(
    queue_settings: Settings, database: Database
) -> None:
    """A full claim means a backlog: the next claim goes at once. Ten rows with claims of
    four: 4 and 4 go back to back, and the short claim of 2 comes straight after them (a
    linger of 30 s after any of them would be unmistakable)."""
    await place_orders(queue_settings, 10)
    pool = await create_pool(queue_settings)
    stop = asyncio.Event()
    try:
        pipe = Pipeline(queue_settings, pool)
        relay = Relay(pool, pipe.sqs, pipe.queue_url, "relay-backlog", pipe.metrics,
                      batch_size=4, poll_s=60.0, linger_s=30.0)
        running = asyncio.create_task(relay.run(stop))
        deadline = time.monotonic() + 10
        while await unpublished(database) > 0:
            assert time.monotonic() < deadline, "a full claim waited before the next"
            await asyncio.sleep(0.05)
        await place_orders(queue_settings, 1)
        await asyncio.sleep(1.5)
        assert await unpublished(database) == 1  # after the short claim it lingers
        stop.set()
        await asyncio.wait_for(running, 10)
    finally:
        stop.set()
        await pool.close()

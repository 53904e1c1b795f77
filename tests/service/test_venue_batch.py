"""The worker's one-round-trip fill (migration 0015) against the per-event reference,
`apply_venue_event`: the same orders through each must leave the same rows and audit events,
the audit log must verify, and every outcome the batch can give is exercised."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from service.config import Settings
from service.db import create_pool
from service.venue import (
    HELD,
    MISMATCH,
    UNKNOWN,
    CreatedEvent,
    apply_created_events,
    apply_venue_event,
)
from tests.service.audit_support import integrate, make_audit_config, placed, run_cli
from tests.service.conftest import Database, auth_headers, new_key, order_body
from tests.service.test_outbox_to_worker import Pipeline

CONSUMER = "venue-test"
ACCOUNTS = ("ACC-1", "ACC-2", "ACC-3", "ACC-4")


async def place(client: AsyncTestClient[Any], account: str, quantity: str) -> str:
    return placed(await client.post(
        "/v1/orders", json=order_body(account, quantity=quantity),
        headers=auth_headers(*ACCOUNTS, key=new_key()),
    ))


async def created_event(database: Database, order_id: str) -> CreatedEvent:
    [row] = await database.fetch(
        "SELECT event_id, account_id, payload::text AS payload FROM outbox"
        " WHERE order_id = $1 AND event_type = 'order.created'", uuid.UUID(order_id))
    quantity = Decimal(json.loads(row["payload"])["order"]["quantity"])
    return CreatedEvent(row["event_id"], uuid.UUID(order_id), row["account_id"], quantity)


async def trace(database: Database, order_id: str) -> dict[str, Any]:
    """What the venue left on an order, with the per-event ids taken out."""
    [order] = await database.fetch(
        "SELECT status, filled_quantity FROM orders WHERE id = $1", uuid.UUID(order_id))
    events = await database.fetch(
        "SELECT event_type, from_status, to_status, actor, payload::text AS payload"
        " FROM audit_events WHERE order_id = $1 AND event_type <> 'order.created' ORDER BY seq",
        uuid.UUID(order_id))
    steps = []
    for event in events:
        payload = json.loads(event["payload"])
        assert payload.pop("cause_event_id")  # differs per order: present, then ignored
        steps.append((event["event_type"], event["from_status"], event["to_status"],
                      event["actor"], payload))
    processed = await database.fetchval(
        "SELECT count(*) FROM processed_events WHERE order_id = $1 AND consumer = $2",
        uuid.UUID(order_id), CONSUMER)
    return {"status": order["status"], "filled": order["filled_quantity"], "steps": steps,
            "processed": processed}


async def test_the_batch_fill_leaves_what_the_per_event_path_leaves_and_the_log_verifies(
    client: AsyncTestClient[Any], database: Database, settings: Settings, tmp_path: Path
) -> None:
    quantities = ["10.5", "0.00000001", "1000000", "1000000.00000001", "2000000"]
    pairs = [(await place(client, "ACC-1", q), await place(client, "ACC-2", q))
             for q in quantities]
    pool = await create_pool(settings)
    try:
        async with pool.acquire() as conn:
            for reference, _ in pairs:
                event = await created_event(database, reference)
                async with conn.transaction():
                    await apply_venue_event(conn, event_id=event.event_id,
                                            order_id=event.order_id,
                                            event_type="order.created", consumer=CONSUMER)
            batch = [await created_event(database, batched) for _, batched in pairs]
            async with conn.transaction():
                outcomes = await apply_created_events(conn, batch, consumer=CONSUMER)
    finally:
        await pool.close()

    assert outcomes == ["filled", "filled", "filled", "rejected", "rejected"]
    for reference, batched in pairs:
        expected = await trace(database, reference)
        assert expected["processed"] == 1 and len(expected["steps"]) == 2
        assert await trace(database, batched) == expected
    # Every leaf hash the worker computed matches what an auditor recomputes from the rows.
    config = make_audit_config(tmp_path / "audit")
    assert await integrate(database, config) == 5 * 2 * 3  # created, submitted, final
    result = run_cli(database, config, "audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr


async def test_every_outcome_of_a_batch_and_nothing_written_for_the_refused(
    client: AsyncTestClient[Any], database: Database, settings: Settings
) -> None:
    behind_unknown = await place(client, "ACC-1", "5")
    applied_before = await place(client, "ACC-2", "5")
    disagreeing, behind_it = await place(client, "ACC-3", "5"), await place(client, "ACC-3", "6")
    cancelled = await place(client, "ACC-4", "5")
    response = await client.post(f"/v1/orders/{cancelled}/cancel", headers=auth_headers("ACC-4"))
    assert response.status_code == 200
    cancelled_status = await database.fetchval(
        "SELECT status FROM orders WHERE id = $1", uuid.UUID(cancelled))

    unknown = CreatedEvent(uuid.uuid4(), uuid.uuid4(), "ACC-1", Decimal(5))
    twice = await created_event(database, applied_before)
    wrong = await created_event(database, disagreeing)
    wrong = CreatedEvent(wrong.event_id, wrong.order_id, wrong.group, Decimal("5.00000001"))
    batch = [unknown, await created_event(database, behind_unknown), twice, wrong,
             await created_event(database, behind_it), await created_event(database, cancelled)]
    pool = await create_pool(settings)
    try:
        async with pool.acquire() as conn:
            async with conn.transaction():
                assert await apply_created_events(conn, [twice], consumer=CONSUMER) == ["filled"]
            async with conn.transaction():
                outcomes = await apply_created_events(conn, batch, consumer=CONSUMER)
    finally:
        await pool.close()

    assert outcomes == [UNKNOWN, HELD, "duplicate", MISMATCH, HELD,
                        f"skipped ({cancelled_status})"]
    for untouched in (behind_unknown, disagreeing, behind_it):
        assert await trace(database, untouched) == {
            "status": "PENDING", "filled": 0, "steps": [], "processed": 0}
    assert await database.fetchval(
        "SELECT count(*) FROM processed_events WHERE event_id = $1", unknown.event_id) == 0
    assert (await trace(database, applied_before))["steps"][-1][2] == "FILLED"  # once only
    assert len((await trace(database, applied_before))["steps"]) == 2


async def test_a_message_that_disagrees_with_its_row_is_filled_from_the_row(
    client: AsyncTestClient[Any], database: Database, queue_settings: Settings
) -> None:
    """The row is the truth: a message whose quantity was altered goes the general way."""
    order_id = await place(client, "ACC-1", "7.25")
    [row] = await database.fetch(
        "SELECT event_id::text, payload::text AS payload FROM outbox WHERE order_id = $1",
        uuid.UUID(order_id))
    body = json.loads(row["payload"])
    body["order"]["quantity"] = "3000000"  # would be rejected if the message were believed
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        pipe.sqs.send_message(
            QueueUrl=pipe.queue_url, MessageBody=json.dumps(body), MessageGroupId="ACC-1",
            MessageDeduplicationId=row["event_id"], MessageAttributes={
                "event_type": {"DataType": "String", "StringValue": "order.created"}})
        assert await pipe.worker(CONSUMER).run_once() == 1
    finally:
        await pool.close()
    result = await trace(database, order_id)
    assert result["status"] == "FILLED" and result["filled"] == Decimal("7.25")
    assert result["steps"][-1][4] == {"fill_quantity": "7.25"}


async def test_an_order_a_cancel_holds_waits_and_the_batch_leaves_no_lock_behind(
    client: AsyncTestClient[Any], database: Database, queue_settings: Settings, redis_url: str
) -> None:
    import redis.asyncio as redis

    from service.messaging.worker import Worker
    from service.observability import Metrics
    from service.redis_gate import RedisGate

    held, free = await place(client, "ACC-1", "1"), await place(client, "ACC-2", "2")
    raw = redis.Redis.from_url(redis_url)
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        assert await pipe.relay("relay-a").run_once() == 2
        await raw.set(f"lock:order:{held}", "a-cancel", px=60_000)  # as a cancel takes it
        metrics = Metrics()
        worker = Worker(pool, pipe.sqs, pipe.queue_url, CONSUMER, metrics,
                        RedisGate(redis.Redis.from_url(redis_url), metrics, 0.5))
        assert await worker.run_once() == 1  # the free order only
        assert (await trace(database, held))["status"] == "PENDING"
        assert (await trace(database, free))["status"] == "FILLED"
        assert await raw.get(f"lock:order:{held}") == b"a-cancel"  # not taken over
        assert await raw.exists(f"lock:order:{free}") == 0  # released after the commit
        await raw.delete(f"lock:order:{held}")
        deleted = 0
        for _ in range(4):  # made visible again after 1 s
            deleted += await worker.run_once()
            if deleted:
                break
        assert deleted == 1 and (await trace(database, held))["status"] == "FILLED"
        assert await raw.keys("lock:*") == []
    finally:
        await pool.close()
        await raw.aclose()


async def test_receives_in_flight_fill_each_order_once_in_each_accounts_order(
    client: AsyncTestClient[Any], database: Database, queue_settings: Settings
) -> None:
    import asyncio

    placed_ids = [await place(client, ACCOUNTS[i % 4], str(i + 1)) for i in range(60)]
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        relay = pipe.relay("relay-a")
        while await relay.run_once():
            pass
        worker = pipe.worker(CONSUMER)
        worker.receives = 3
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        for _ in range(300):
            if await database.fetchval("SELECT count(*) FROM processed_events") == 60:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(running, 15)
    finally:
        await pool.close()
    assert await database.fetchval(
        "SELECT count(*) FROM orders WHERE status = 'FILLED'") == len(placed_ids)
    assert await database.fetchval(
        "SELECT count(*) FROM audit_events WHERE event_type = 'order.filled'") == 60
    rows = await database.fetch(
        "SELECT o.account_id, o.created_at, e.seq FROM orders o JOIN audit_events e"
        " ON e.order_id = o.id AND e.event_type = 'order.filled' ORDER BY o.created_at")
    for account in ACCOUNTS:
        fills = [r["seq"] for r in rows if r["account_id"] == account]
        assert fills == sorted(fills), account  # FIFO per account across the receives

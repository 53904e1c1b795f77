"""The worker's one-round-trip fill (migration 0015) against the per-event reference,
`apply_venue_event`: the same orders through each must leave the same rows and audit events,
the audit log must verify, and every outcome the batch can give is exercised."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

import service.messaging.worker as worker_module
from service.config import Settings
from service.db import create_pool
from service.orders import repository
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
        " FROM audit_events WHERE order_id = $1 AND actor = $2 ORDER BY seq",
        uuid.UUID(order_id), CONSUMER)  # the venue's transitions
    cause = await database.fetchval(
        "SELECT event_id::text FROM outbox WHERE order_id = $1 AND event_type = 'order.created'",
        uuid.UUID(order_id))
    steps = []
    for event in events:
        payload = json.loads(event["payload"])
        assert payload.pop("cause_event_id") == cause  # this order's own event, then set aside
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
    skipped = await trace(database, cancelled)
    assert skipped["processed"] == 1 and skipped["status"] == cancelled_status  # ledger only


def spy_on_batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record what each call of the batch function returned to the worker."""
    seen: list[list[str]] = []

    async def recording(*args: Any, **kwargs: Any) -> list[str]:
        outcomes = await apply_created_events(*args, **kwargs)
        seen.append(list(outcomes))
        return outcomes

    monkeypatch.setattr(worker_module, "apply_created_events", recording)
    return seen


async def test_a_message_that_disagrees_with_its_row_is_filled_from_the_row(
    client: AsyncTestClient[Any], database: Database, queue_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The row is the truth: a message whose quantity was altered goes the general way."""
    order_id = await place(client, "ACC-1", "7.25")
    [row] = await database.fetch(
        "SELECT event_id::text, payload::text AS payload FROM outbox WHERE order_id = $1",
        uuid.UUID(order_id))
    body = json.loads(row["payload"])
    body["order"]["quantity"] = "3000000"  # would be rejected if the message were believed
    batch_outcomes = spy_on_batches(monkeypatch)
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
    assert batch_outcomes == [[MISMATCH]]  # the batch path saw it, then handed it over
    result = await trace(database, order_id)
    assert result["status"] == "FILLED" and result["filled"] == Decimal("7.25")
    assert result["steps"][-1][4] == {"fill_quantity": "7.25"}


@pytest.mark.parametrize("path", ["batch", "per-event"])
async def test_a_fill_racing_a_cancel_waits_for_the_row_lock_and_the_cancel_stands(
    client: AsyncTestClient[Any], database: Database, queue_settings: Settings,
    monkeypatch: pytest.MonkeyPatch, path: str,
) -> None:
    """The order's row lock decides a fill racing a cancel (no Redis lock): the fill waits
    for the cancel's transaction, then finds the order CANCELLED and only records the event.
    Without the fill's FOR UPDATE its UPDATE would wait too, then write FILLED over it.
    Both fill paths: the batch function, and apply_venue_event (taken by any receive the
    function cannot take whole)."""
    if path == "per-event":
        monkeypatch.setattr(worker_module, "_all_created", lambda admitted: False)
    cancelled, free = await place(client, "ACC-1", "1"), await place(client, "ACC-2", "2")
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        assert await pipe.relay("relay-a").run_once() == 2
        worker = pipe.worker(CONSUMER)

        async def drain() -> int:
            deleted = 0
            for _ in range(10):
                deleted += await worker.run_once()
                if deleted == 2:
                    break
            return deleted

        async with pool.acquire() as conn, conn.transaction():
            # The cancel's own transaction, held open: it keeps the row lock meanwhile
            # (well inside the pool's 5 s idle-in-transaction timeout).
            await repository.cancel_order(
                conn, order_id=uuid.UUID(cancelled), accounts=["ACC-1"], actor="a-cancel")
            filling = asyncio.create_task(drain())
            try:
                for _ in range(60):
                    if await database.fetchval(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE $1 = ANY (pg_blocking_pids(pid))", conn.get_server_pid(),
                    ):
                        break
                    await asyncio.sleep(0.05)
                else:
                    pytest.fail("the fill never waited for the cancel's row lock")
                assert not filling.done()
            except BaseException:
                filling.cancel()
                raise
        assert await asyncio.wait_for(filling, 20) == 2
    finally:
        await pool.close()
    skipped = await trace(database, cancelled)
    assert skipped["status"] == "CANCELLED" and skipped["steps"] == []
    assert skipped["processed"] == 1  # the event is recorded as handled, nothing else
    assert (await trace(database, free))["status"] == "FILLED"


async def test_receives_in_flight_fill_each_order_once_in_each_accounts_order(
    client: AsyncTestClient[Any], database: Database, queue_settings: Settings
) -> None:
    placed_ids = [await place(client, ACCOUNTS[i % 4], str(i + 1)) for i in range(60)]
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        relay = pipe.relay("relay-a")
        while await relay.run_once():
            pass
        worker = pipe.worker(CONSUMER, receives=3)
        in_flight, most = 0, 0
        receive_and_apply = worker._receive_and_apply

        async def counting(slot: int = 0) -> tuple[int, int]:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            try:
                return await receive_and_apply(slot)
            finally:
                in_flight -= 1

        worker._receive_and_apply = counting  # type: ignore[method-assign]
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
    assert most == 3  # three receives were in flight at once
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


async def test_through_the_worker_a_poison_waits_behind_nothing_and_a_mismatch_holds_nothing(
    client: AsyncTestClient[Any], database: Database, queue_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In one receive: ACC-1 = a good order, then a poison (a well-formed new-order event
    for no order: the batch function's UNKNOWN); ACC-2 = a good order, then a body that is
    not JSON (refused before the batch); ACC-3 = a message that disagrees with its row, then
    a good order. The good orders before the poisons are filled; the poisons are released
    until the queue moves them to the DLQ; the mismatch and the order after it are both
    filled in that same receive, not bounced."""
    before_poison = await place(client, "ACC-1", "2")
    before_garbage = await place(client, "ACC-2", "5")
    disagreeing = await place(client, "ACC-3", "3")
    after_it = await place(client, "ACC-3", "4")
    batch_outcomes = spy_on_batches(monkeypatch)
    poison_event, dead_order = uuid.uuid4(), str(uuid.uuid4())
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        rows = {r["order_id"]: r for r in await database.fetch(
            "SELECT order_id::text, event_id::text, account_id, payload::text AS payload"
            " FROM outbox ORDER BY id")}

        def send(group: str, event_id: str, body: dict[str, Any]) -> None:
            pipe.sqs.send_message(QueueUrl=pipe.queue_url, MessageBody=json.dumps(body),
                                  MessageGroupId=group, MessageDeduplicationId=event_id)

        send("ACC-1", rows[before_poison]["event_id"], json.loads(rows[before_poison]["payload"]))
        send("ACC-1", str(poison_event), {
            "event_id": str(poison_event), "event_type": "order.created",
            "order": {"id": dead_order, "quantity": "1"}})
        send("ACC-2", rows[before_garbage]["event_id"],
             json.loads(rows[before_garbage]["payload"]))
        pipe.sqs.send_message(QueueUrl=pipe.queue_url, MessageBody="{not json",
                              MessageGroupId="ACC-2", MessageDeduplicationId="garbage")
        altered = json.loads(rows[disagreeing]["payload"])
        altered["order"]["quantity"] = "30"
        send("ACC-3", rows[disagreeing]["event_id"], altered)
        send("ACC-3", rows[after_it]["event_id"], json.loads(rows[after_it]["payload"]))
        worker = pipe.worker(CONSUMER)
        assert await worker.run_once() == 4  # all but the two poisons, in one receive
        deleted = 0
        for _ in range(4):  # the poison's second receipt, then the redrive (maxReceiveCount 2)
            deleted += await worker.run_once()
        dead = pipe.dead_letters(max_messages=10)
    finally:
        await pool.close()
    assert batch_outcomes[0] == ["filled", UNKNOWN, "filled", MISMATCH, HELD]
    assert deleted == 0
    assert sorted(m["Body"] for m in dead) == sorted(
        ["{not json", json.dumps({"event_id": str(poison_event), "event_type": "order.created",
                                  "order": {"id": dead_order, "quantity": "1"}})])
    for order_id in (before_poison, before_garbage, disagreeing, after_it):
        assert (await trace(database, order_id))["status"] == "FILLED"
    assert pipe.metrics.worker_processed.labels("poison")._value.get() >= 2

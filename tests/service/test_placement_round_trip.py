"""The placement is one statement (the `place_order` SQL function) and keeps every
idempotency rule, also when two requests with one key race each other."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.audit.log import canonical_encoding
from service.audit.merkle import leaf_hash
from service.domain import orders as domain
from service.domain.idempotency import scoped_key
from service.observability import Metrics
from service.orders import repository
from tests.service.conftest import (
    Database,
    auth_headers,
    make_settings,
    new_key,
    order_body,
)


def a_placement(key: str | None = None, **order: Any) -> repository.Placement:
    fields: dict[str, Any] = {
        "account_id": "ACC-1", "instrument": "US0378331005", "side": "buy",
        "order_type": "limit", "quantity": Decimal("10.50"), "limit_price": Decimal("187.25"),
        "currency": "USD", "time_in_force": "DAY", "client_order_id": None, **order,
    }
    return repository.Placement(
        principal="alice", idempotency_key=key or new_key(), request_hash="a" * 64,
        request_id=secrets.token_hex(8), order=domain.NewOrder(**fields),
        key_ttl=timedelta(hours=24),
    )


async def outcome(conn: asyncpg.Connection, placement: repository.Placement) -> str:
    try:
        result = await repository.place_order(conn, placement)
    except domain.KeyInFlight:
        return "in_flight"
    except domain.KeyReusedWithOtherPayload:
        return "key_reused"
    return "replayed" if result.replayed else "created"


class QueryLog:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, record: Any) -> None:
        self.queries.append(record.query)


async def test_every_outcome_is_one_statement(database: Database) -> None:
    conn = await database.connect("orders_app")
    log = QueryLog()
    conn.add_query_logger(log)
    try:
        first = a_placement(client_order_id="c-1")
        created = await repository.place_order(conn, first)
        again = await repository.place_order(conn, first)  # our own in-doubt commit
        replayed = await repository.place_order(conn, replace(first, request_id="other"))
        with pytest.raises(domain.KeyReusedWithOtherPayload):
            await repository.place_order(conn, replace(first, request_hash="b" * 64))
        with pytest.raises(domain.DuplicateClientOrderId) as clash:
            await repository.place_order(conn, a_placement(client_order_id="c-1"))
    finally:
        await conn.close()
    assert log.queries == [repository.PLACE_ORDER] * 5
    assert created.status_code == 201 and not created.replayed
    # The same request id is the first response again, another one a replay.
    assert (again.order_id, again.body, again.replayed) == (created.order_id, created.body, False)
    assert (replayed.order_id, replayed.body, replayed.replayed) == (
        created.order_id, created.body, True)
    assert clash.value.order_id == created.order_id


async def test_body_and_rows_match_what_the_database_reads_back(database: Database) -> None:
    conn = await database.connect("orders_app")
    try:
        placement = a_placement(quantity=Decimal("0012.50000000"), client_order_id="c-9")
        result = await repository.place_order(conn, placement)
        row = await repository.get_order(conn, result.order_id, ["ACC-1"])
        event = await conn.fetchrow(
            "SELECT event_id, payload::text AS payload, occurred_at, leaf_hash, actor,"
            " from_status, to_status FROM audit_events WHERE order_id = $1",
            result.order_id,
        )
        outbox = await conn.fetchval(
            "SELECT payload::text FROM outbox WHERE order_id = $1", result.order_id
        )
    finally:
        await conn.close()
    # The body computed before the round trip is the document read back from the row.
    assert json.loads(result.body) == domain.order_document(row)
    assert json.loads(result.body)["quantity"] == "12.5"
    assert json.loads(outbox)["order"] == domain.order_document(row)
    # The stored leaf hash is the one the audit package computes from the stored event.
    expected = leaf_hash(canonical_encoding(
        event_id=event["event_id"], order_id=result.order_id, event_type="order.created",
        from_status=event["from_status"], to_status=event["to_status"], actor=event["actor"],
        payload=json.loads(event["payload"]), occurred_at=event["occurred_at"],
    ))
    assert bytes(event["leaf_hash"]) == expected
    assert event["actor"] == "alice" and event["to_status"] == "PENDING"


async def test_a_held_key_is_in_flight_and_writes_nothing(database: Database) -> None:
    placement = a_placement()
    holder = await database.connect()
    conn = await database.connect("orders_app")
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                f"idempotency:{scoped_key('alice', placement.idempotency_key)}",
            )
            assert await outcome(conn, placement) == "in_flight"
        assert await database.fetchval("SELECT count(*) FROM orders") == 0
        assert await outcome(conn, placement) == "created"
    finally:
        await holder.close()
        await conn.close()


async def race(database: Database, first: repository.Placement,
               second: repository.Placement) -> list[str]:
    """Both placements sent at the same moment on two connections."""
    conns = [await database.connect("orders_app") for _ in range(2)]
    try:
        start = asyncio.Event()

        async def go(conn: asyncpg.Connection, placement: repository.Placement) -> str:
            await start.wait()
            return await outcome(conn, placement)

        tasks = [asyncio.create_task(go(c, p)) for c, p in zip(conns, (first, second), strict=True)]
        await asyncio.sleep(0)
        start.set()
        return sorted(await asyncio.gather(*tasks))
    finally:
        for conn in conns:
            await conn.close()


@pytest.mark.parametrize("rounds", [20])
async def test_same_key_at_once_makes_exactly_one_order(database: Database, rounds: int) -> None:
    seen: set[tuple[str, ...]] = set()
    for _ in range(rounds):
        first = a_placement()
        outcomes = await race(database, first, replace(first, request_id="retry"))
        seen.add(tuple(outcomes))
        assert outcomes in (["created", "in_flight"], ["created", "replayed"]), outcomes
    assert await database.fetchval("SELECT count(*) FROM orders") == rounds
    assert await database.fetchval("SELECT count(*) FROM idempotency_keys") == rounds
    assert await database.fetchval("SELECT count(*) FROM outbox") == rounds
    assert await database.fetchval("SELECT count(*) FROM audit_events") == rounds
    print(f"\nsame key at once, outcomes seen: {sorted(seen)}")


async def test_same_key_other_payload_at_once_never_makes_two_orders(
    database: Database,
) -> None:
    for _ in range(20):
        first = a_placement()
        other = replace(first, request_hash="b" * 64, request_id="other",
                        order=replace(first.order, quantity=Decimal("11")))
        outcomes = await race(database, first, other)
        assert outcomes in (["created", "in_flight"], ["created", "key_reused"]), outcomes
    assert await database.fetchval("SELECT count(*) FROM orders") == 20


async def test_client_order_id_at_once_under_two_keys(database: Database) -> None:
    for n in range(10):
        first, second = a_placement(client_order_id=f"c-{n}"), a_placement(client_order_id=f"c-{n}")
        conns = [await database.connect("orders_app") for _ in range(2)]
        try:
            results = await asyncio.gather(
                *(repository.place_order(c, p) for c, p in zip(conns, (first, second), strict=True)),
                return_exceptions=True,
            )
        finally:
            for conn in conns:
                await conn.close()
        created = [r for r in results if isinstance(r, domain.PlacementResult)]
        clashes = [r for r in results if isinstance(r, domain.DuplicateClientOrderId)]
        assert len(created) == 1 and len(clashes) == 1, results
        assert clashes[0].order_id == created[0].order_id
    assert await database.fetchval("SELECT count(*) FROM orders") == 10


async def test_an_expired_key_starts_over(database: Database) -> None:
    conn = await database.connect("orders_app")
    try:
        placement = a_placement()
        first = await repository.place_order(conn, placement)
        await database.fetchval(
            "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' RETURNING 1"
        )
        second = await repository.place_order(conn, replace(placement, request_hash="c" * 64))
    finally:
        await conn.close()
    assert second.order_id != first.order_id and not second.replayed
    assert await database.fetchval("SELECT count(*) FROM idempotency_keys") == 1


class CountingPool:
    """The app's pool, logging every statement sent on a connection it hands out,
    including what the pool sends when the connection comes back."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.log = QueryLog()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def acquire(self, *, timeout: float | None = None) -> Any:
        outer = self

        class Acquired:
            async def __aenter__(self) -> Any:
                self._context = outer._pool.acquire(timeout=timeout)
                proxy = await self._context.__aenter__()
                self._raw = proxy._con
                self._raw.add_query_logger(outer.log)
                return proxy

            async def __aexit__(self, *exc: Any) -> None:
                try:
                    await self._context.__aexit__(*exc)
                finally:
                    self._raw.remove_query_logger(outer.log)

        return Acquired()


async def test_a_placement_through_the_api_is_one_round_trip(database: Database) -> None:
    settings = make_settings(database, None)
    async with AsyncTestClient(app=create_app(settings, Metrics())) as client:
        state = client.app.state.orders
        counting = CountingPool(state.pool)
        state.pool = counting
        key = new_key()
        placed = await client.post("/v1/orders", json=order_body(),
                                   headers=auth_headers("ACC-1", key=key))
        first = list(counting.log.queries)
        replay = await client.post("/v1/orders", json=order_body(),
                                   headers=auth_headers("ACC-1", key=key))
        state.pool = counting._pool
    assert placed.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert first == [repository.PLACE_ORDER]
    assert counting.log.queries == [repository.PLACE_ORDER] * 2
    assert placed.content == replay.content

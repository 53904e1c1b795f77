"""POST /v1/orders: creation, idempotency (draft-ietf-httpapi-idempotency-key-header) and the
one-transaction write of order, audit event, outbox row and idempotency record."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from service.domain.idempotency import scoped_key
from tests.service.conftest import Database, LiveServer, auth_headers, new_key, order_body


async def test_places_an_order_with_exact_decimals(
    client: AsyncTestClient[Any], database: Database
) -> None:
    key = new_key()
    response = await client.post(
        "/v1/orders",
        json=order_body(quantity="0.00000001", limit_price="123456789012345678.12345678"),
        headers=auth_headers("ACC-1", key=key),
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "PENDING"
    assert order["quantity"] == "0.00000001"
    assert order["limit_price"] == "123456789012345678.12345678"
    assert order["created_at"].endswith("+00:00")
    assert response.headers["location"] == f"/v1/orders/{order['id']}"
    assert "idempotent-replayed" not in response.headers

    row = (await database.fetch("SELECT quantity, limit_price FROM orders"))[0]
    assert row["quantity"] == Decimal("0.00000001")
    assert row["limit_price"] == Decimal("123456789012345678.12345678")
    # Order, audit event, outbox row and idempotency record were written together.
    assert await database.fetchval("SELECT count(*) FROM audit_events") == 1
    assert (
        await database.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'order.created'")
        == 1
    )
    assert await database.fetchval("SELECT count(*) FROM idempotency_keys") == 1


async def test_replay_returns_first_response_with_replayed_header(
    client: AsyncTestClient[Any], database: Database
) -> None:
    key = new_key()
    headers = auth_headers("ACC-1", key=key)
    first = await client.post("/v1/orders", json=order_body(), headers=headers)
    # Same payload, keys in another order and other spacing: still the same request.
    reordered = json.dumps(dict(reversed(list(order_body().items()))), indent=2)
    second = await client.post(
        "/v1/orders", content=reordered, headers={**headers, "Content-Type": "application/json"}
    )
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert await database.fetchval("SELECT count(*) FROM orders") == 1


async def test_replay_served_from_database_when_redis_cache_is_empty(
    client: AsyncTestClient[Any], database: Database, redis_url: str
) -> None:
    import redis as redis_sync

    key = new_key()
    headers = auth_headers("ACC-1", key=key)
    first = await client.post("/v1/orders", json=order_body(), headers=headers)
    redis_sync.Redis.from_url(redis_url).flushall()
    second = await client.post("/v1/orders", json=order_body(), headers=headers)
    assert second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert await database.fetchval("SELECT count(*) FROM orders") == 1


async def test_same_key_other_payload_is_422_and_writes_nothing(
    client: AsyncTestClient[Any], database: Database
) -> None:
    key = new_key()
    headers = auth_headers("ACC-1", key=key)
    assert (await client.post("/v1/orders", json=order_body(), headers=headers)).status_code == 201
    response = await client.post("/v1/orders", json=order_body(quantity="11"), headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert await database.fetchval("SELECT count(*) FROM orders") == 1


async def test_key_is_scoped_per_principal(
    client: AsyncTestClient[Any], database: Database
) -> None:
    key = new_key()
    alice = await client.post(
        "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=key)
    )
    bob = await client.post(
        "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=key, subject="bob")
    )
    assert alice.status_code == bob.status_code == 201
    assert alice.json()["id"] != bob.json()["id"]
    assert "idempotent-replayed" not in bob.headers


async def test_retry_while_first_is_in_flight_gets_409_with_retry_after(
    client: AsyncTestClient[Any], database: Database
) -> None:
    key = new_key()
    # Hold the key's lock the way an in-flight first request does.
    holder = await database.connect()
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            f"idempotency:{scoped_key('alice', key)}",
        )
        response = await client.post(
            "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=key)
        )
        await transaction.rollback()
    finally:
        await holder.close()
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("/idempotency-key-in-flight")
    assert await database.fetchval("SELECT count(*) FROM orders") == 0
    # Once the first is gone, the retry goes through.
    retry = await client.post(
        "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=key)
    )
    assert retry.status_code == 201


async def test_fifty_concurrent_requests_with_one_key_make_exactly_one_order(
    database: Database, live_server: LiveServer
) -> None:
    """50 simultaneous connections to a real server: PostgreSQL's constraint decides."""
    key = new_key()
    headers = auth_headers("ACC-1", key=key)
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=30) as http:
        started = time.perf_counter()
        responses = await asyncio.gather(
            *(http.post("/v1/orders", json=order_body(), headers=headers) for _ in range(50))
        )
        elapsed = time.perf_counter() - started
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert len({r.json()["id"] for r in created}) == 1
    assert sum(1 for r in created if "idempotent-replayed" not in r.headers) == 1
    assert all(r.headers["retry-after"] == "1" for r in responses if r.status_code == 409)
    assert await database.fetchval("SELECT count(*) FROM orders") == 1
    assert await database.fetchval("SELECT count(*) FROM outbox") == 1
    assert await database.fetchval("SELECT count(*) FROM audit_events") == 1
    print(
        f"\n50 concurrent, one key: {statuses.count(201)} x 201 "
        f"({sum(1 for r in created if 'idempotent-replayed' in r.headers)} replayed), "
        f"{statuses.count(409)} x 409, 1 order, {elapsed * 1000:.0f} ms"
    )


async def test_client_order_id_is_unique_per_account(
    client: AsyncTestClient[Any], database: Database
) -> None:
    first = await client.post(
        "/v1/orders",
        json=order_body(client_order_id="co-1"),
        headers=auth_headers("ACC-1", key=new_key()),
    )
    second = await client.post(
        "/v1/orders",
        json=order_body(client_order_id="co-1"),
        headers=auth_headers("ACC-1", key=new_key()),
    )
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["existing_order_id"] == first.json()["id"]
    assert await database.fetchval("SELECT count(*) FROM orders") == 1


async def test_market_order(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/v1/orders",
        json=order_body(order_type="market", limit_price=None, side="sell"),
        headers=auth_headers("ACC-1", key=new_key()),
    )
    assert response.status_code == 201
    assert response.json()["limit_price"] is None


async def test_keys_are_retained_24h(client: AsyncTestClient[Any], database: Database) -> None:
    await client.post("/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=new_key()))
    retention = await database.fetchval("SELECT expires_at - created_at FROM idempotency_keys")
    assert retention.total_seconds() == 24 * 3600


async def test_over_the_wire_with_httpx_types(client: AsyncTestClient[Any]) -> None:
    response: httpx.Response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/v1/orders" in paths and "/v1/orders/{order_id}/cancel" in paths

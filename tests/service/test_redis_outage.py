"""Redis is never the source of truth: with it killed, orders are still accepted and correct,
rate limiting fails open with a metric, and the service recovers when Redis returns."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync
from litestar.testing import AsyncTestClient

from localenv.procs import free_port
from localenv.redis import RedisServer
from service.app import create_app
from service.domain.idempotency import scoped_key
from service.observability import Metrics
from tests.service.conftest import Database, auth_headers, make_settings, new_key, order_body


@pytest.fixture
def own_redis(work_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(work_dir / f"redis-own-{time.monotonic_ns()}", free_port()).start()
    yield server
    server.stop()


def gauge(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name)
    return float(value or 0.0)


async def place(client: AsyncTestClient[Any], key: str) -> tuple[int, float, Any]:
    started = time.perf_counter()
    response = await client.post(
        "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=key)
    )
    return response.status_code, time.perf_counter() - started, response


async def test_orders_survive_redis_loss_and_service_recovers(
    database: Database, own_redis: RedisServer
) -> None:
    metrics = Metrics()
    settings = make_settings(database, own_redis.url)
    async with AsyncTestClient(app=create_app(settings, metrics)) as client:
        before_key = new_key()
        assert (await place(client, before_key))[0] == 201
        ready = await client.get("/health/ready")
        assert ready.json() == {"status": "ready", "database": "ok", "redis": "ok"}

        own_redis.kill()  # SIGKILL, as a crash would
        outage: list[float] = []
        keys = [new_key() for _ in range(40)]
        for key in keys:
            status, elapsed, _ = await place(client, key)
            assert status == 201
            outage.append(elapsed)
        # Replays are answered from PostgreSQL while Redis is gone.
        status, _, replay = await place(client, before_key)
        assert status == 201 and replay.headers["idempotent-replayed"] == "true"
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert gauge(metrics, "redis_degraded") == 1.0
        assert gauge(metrics, "rate_limit_fail_open_total") >= 1.0

        own_redis.start()  # same port, empty: nothing of value was only in Redis
        deadline = time.monotonic() + 10
        while (await client.get("/health/ready")).json()["status"] != "ready":
            assert time.monotonic() < deadline, "service did not notice Redis coming back"
            await asyncio.sleep(0.2)
        after_key = new_key()
        assert (await place(client, after_key))[0] == 201
        assert gauge(metrics, "redis_degraded") == 0.0
        # The rate limiter writes its bucket again: the service uses Redis once more.
        assert redis_sync.Redis.from_url(own_redis.url).exists(
            f"ratelimit:{scoped_key('alice', 'write')}"
        ) == 1

    assert await database.fetchval("SELECT count(*) FROM orders") == 42
    outage.sort()
    p99 = outage[int(len(outage) * 0.99) - 1]
    print(
        f"\nredis outage: 40/40 orders accepted, max {max(outage) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )


async def test_rate_limit_is_enforced_on_the_redis_side(database: Database, redis_url: str) -> None:
    settings = make_settings(
        database, redis_url, ORDERS_RATE_LIMIT_PER_SECOND="1", ORDERS_RATE_LIMIT_BURST="3"
    )
    async with AsyncTestClient(app=create_app(settings, Metrics())) as client:
        statuses = [(await place(client, new_key()))[0] for _ in range(5)]
        _, _, limited = await place(client, new_key())
        other = await client.post(
            "/v1/orders",
            json=order_body(),
            headers=auth_headers("ACC-1", key=new_key(), subject="bob"),
        )
    assert statuses[:3] == [201, 201, 201]
    assert 429 in statuses[3:]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["type"].endswith("/rate-limited")
    assert other.status_code == 201  # per principal
    assert await database.fetchval("SELECT count(*) FROM orders") == statuses.count(201) + 1


async def test_without_redis_configured_everything_works(database: Database) -> None:
    async with AsyncTestClient(app=create_app(make_settings(database, None), Metrics())) as client:
        key = new_key()
        assert (await place(client, key))[0] == 201
        assert (await place(client, key))[2].headers["idempotent-replayed"] == "true"
        assert (await client.get("/health/ready")).json()["redis"] == "not-configured"

"""Operational behaviour of the real server process: graceful shutdown, health and metrics."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from localenv.procs import pid_alive
from tests.service.conftest import (
    Database,
    LiveServer,
    auth_headers,
    live_env,
    new_key,
    order_body,
)


async def test_sigterm_drains_then_finishes_in_flight_requests(
    database: Database, redis_url: str, work_dir: Path
) -> None:
    server = LiveServer(
        live_env(database, redis_url, ORDERS_SHUTDOWN_DRAIN_S="1"),
        work_dir / f"api-drain-{secrets.token_hex(3)}.log",
    ).start()
    holder = await database.connect()
    try:
        # Block inserts into the audit log so an order placement stays in flight.
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("LOCK TABLE audit_events IN SHARE MODE")
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            in_flight = asyncio.create_task(
                http.post(
                    "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=new_key())
                )
            )
            await asyncio.sleep(0.3)
            assert server.process.pid is not None
            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            draining = await http.get("/health/ready")
            assert draining.status_code == 503
            assert draining.json()["status"] == "draining"
            await asyncio.sleep(1.5)  # past the drain: uvicorn now waits for the request
            await transaction.rollback()
            response = await in_flight
        assert response.status_code == 201, response.text
    finally:
        await holder.close()
    pid = server.process.pid
    assert pid is not None
    deadline = time.monotonic() + 15
    while pid_alive(pid):
        assert time.monotonic() < deadline, "server did not exit after draining"
        await asyncio.sleep(0.1)
    assert server.process._popen is not None
    assert server.process._popen.wait(timeout=5) == 0
    assert await database.fetchval("SELECT count(*) FROM orders") == 1


async def test_database_down_answers_503_problem_with_retry_after(
    database: Database, redis_url: str
) -> None:
    from service.app import create_app
    from service.observability import Metrics
    from tests.service.conftest import make_settings

    dead = database.app_url.replace(f":{database.server.port}/", ":1/")
    settings = make_settings(database, redis_url, ORDERS_DATABASE_URL=dead)
    async with AsyncTestClient(app=create_app(settings, Metrics())) as client:
        response = await client.post(
            "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=new_key())
        )
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/database-unavailable")
    assert ready.status_code == 503
    assert live.status_code == 200


async def test_metrics_exposed(database: Database, redis_url: str) -> None:
    from service.app import create_app
    from service.observability import Metrics
    from tests.service.conftest import make_settings

    settings = make_settings(database, redis_url, ORDERS_GAUGE_INTERVAL_S="0.1")
    async with AsyncTestClient(app=create_app(settings, Metrics())) as client:
        await _exercise_metrics(client, database)


async def _exercise_metrics(client: AsyncTestClient[Any], database: Database) -> None:
    key = new_key()
    headers = auth_headers("ACC-1", key=key)
    await client.post("/v1/orders", json=order_body(), headers=headers)
    await client.post("/v1/orders", json=order_body(), headers=headers)
    await client.post("/v1/orders", json=order_body(quantity="2"), headers=headers)
    # Backdate the order so the pending-age gauge has something to show on its next sample.
    await database.fetch("UPDATE orders SET created_at = now() - interval '90 seconds'")
    await asyncio.sleep(0.5)
    text = (await client.get("/metrics")).text
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples["orders_created_total"] == 1
    assert samples['orders_duplicate_attempts_total{outcome="replayed"}'] == 1
    assert samples['orders_duplicate_attempts_total{outcome="payload_mismatch"}'] == 1
    assert samples["outbox_backlog"] == 1
    assert samples["orders_pending_age_seconds"] >= 90
    assert samples["outbox_publish_lag_seconds"] >= 0
    assert samples["redis_degraded"] == 0
    assert 'le="0.5"' in text and "http_request_duration_seconds_bucket" in text
    assert 'route="/v1/orders"' in text


async def test_request_id_is_echoed_and_secrets_stay_out_of_logs(
    database: Database, live_server: LiveServer
) -> None:
    token = auth_headers("ACC-1")["Authorization"]
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        response = await http.post(
            "/v1/orders",
            json=order_body(),
            headers={
                "Authorization": token,
                "Idempotency-Key": new_key(),
                "X-Request-ID": "req-123",
            },
        )
    assert response.headers["x-request-id"] == "req-123"
    # The access log line is written once the response has gone out: it may trail it.
    deadline = time.monotonic() + 10
    log = live_server.process.log_path.read_text()
    while '"request_id": "req-123"' not in log and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        log = live_server.process.log_path.read_text()
    assert '"request_id": "req-123"' in log
    assert token.split()[1] not in log


async def test_spans_cover_requests_database_and_redis(client: AsyncTestClient[Any]) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    response = await client.post(
        "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=new_key())
    )
    assert response.status_code == 201
    names = {s.name for s in exporter.get_finished_spans()}
    assert {"POST /v1/orders", "db.place", "redis.allow_request"} <= names
    server = next(s for s in exporter.get_finished_spans() if s.name == "POST /v1/orders")
    child = next(s for s in exporter.get_finished_spans() if s.name == "db.place")
    assert child.parent is not None and child.parent.span_id == server.context.span_id


def test_background_health_endpoint_reports_a_stalled_loop() -> None:
    from localenv.procs import free_port
    from service.messaging.health import Heartbeat, serve_health
    from service.observability import Metrics

    heartbeat = Heartbeat()
    metrics = Metrics()
    metrics.outbox_published.inc(3)
    port = free_port()
    server = serve_health("127.0.0.1", port, metrics.registry, heartbeat, max_age_s=0.3)
    try:
        live = httpx.get(f"http://127.0.0.1:{port}/health/live")
        assert live.status_code == 200 and live.json()["status"] == "live"
        assert "outbox_published_total 3.0" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
        time.sleep(0.5)  # the loop did not turn
        stalled = httpx.get(f"http://127.0.0.1:{port}/health/live")
        assert stalled.status_code == 503 and stalled.json()["status"] == "stalled"
        heartbeat.beat()
        assert httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200
        # A process with several loops (the worker's receives): one wedged loop is a stall
        # even while another keeps beating.
        heartbeat.beat(1)
        time.sleep(0.5)
        heartbeat.beat(0)
        stalled = httpx.get(f"http://127.0.0.1:{port}/health/live")
        assert stalled.status_code == 503 and stalled.json()["status"] == "stalled"
        heartbeat.beat(1)
        assert httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200
    finally:
        server.shutdown()

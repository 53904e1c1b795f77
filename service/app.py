"""The Litestar app factory; its lifespan owns the asyncpg pool and the Redis client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, YamlRenderPlugin
from litestar.types import Receive, Scope, Send

from service.api.audit import AUDIT_HANDLERS
from service.api.health import HEALTH_HANDLERS
from service.api.middleware import RequestContext
from service.api.openapi import COMPONENTS
from service.api.problems import (
    Problem,
    handle_database_unavailable,
    handle_http_exception,
    handle_problem,
    handle_unexpected,
)
from service.api.requests import OrdersRequest
from service.api.state import AppState
from service.audit.proofs import CheckpointSource
from service.config import Settings
from service.db import DatabaseUnavailable, create_pool
from service.observability import Metrics, configure_tracing, log
from service.orders.batching import PlacementBatcher
from service.orders.controller import ORDER_HANDLERS
from service.redis_gate import RedisGate


async def sample_backlog_gauges(state: AppState) -> None:
    """Business gauges computed from the database, so every replica exports the truth."""
    while True:
        try:
            async with state.pool.acquire(timeout=2) as conn:
                pending_age = await conn.fetchval(
                    "SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)"
                    " FROM orders WHERE status IN ('PENDING', 'SUBMITTED')"
                )
                backlog = await conn.fetchrow(
                    "SELECT count(*) AS rows,"
                    " COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS lag"
                    " FROM outbox WHERE published_at IS NULL"
                )
            state.metrics.pending_age.set(float(pending_age))
            state.metrics.outbox_backlog.set(float(backlog["rows"]))
            state.metrics.outbox_publish_lag.set(float(backlog["lag"]))
            state.metrics.database_primary_up.set(1)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a failover must not kill the sampler
            state.metrics.database_primary_up.set(0)
            log.debug("gauge_sampling_failed", error=type(error).__name__)
        await asyncio.sleep(state.settings.gauge_interval_s)


class OrdersApp(Litestar):
    """Litestar with the request context around the whole app, router included: Litestar's
    own middleware runs only for matched routes, so 404 and 405 would go unlogged."""

    request_context: RequestContext | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == "http" and self.request_context is not None:
            await self.request_context(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, metrics: Metrics | None = None) -> Litestar:
    settings.require_jwt_secret()
    metrics = metrics or Metrics()
    configure_tracing("orders-api", settings.otlp_endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # The API's handlers use transaction-scoped locks only: no reset query on release.
        pool = await create_pool(settings, session_state_free=True)
        state = AppState(
            settings=settings, metrics=metrics, pool=pool,
            redis=RedisGate.from_settings(settings, metrics),
        )
        state.checkpoints = CheckpointSource()
        state.placements = PlacementBatcher(
            lambda: state.pool, metrics,
            max_batch=settings.placement_batch_max,
            in_flight=settings.placement_batches_in_flight,
        )
        app.state.orders = state
        sampler = asyncio.create_task(sample_backlog_gauges(state))
        log.info("api_started", redis=state.redis.configured)
        try:
            yield
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            await state.placements.drain()
            await state.redis.close()
            await pool.close()
            log.info("api_stopped")

    exception_handlers: dict[Any, Any] = {
        Problem: handle_problem,
        HTTPException: handle_http_exception,
        DatabaseUnavailable: handle_database_unavailable,
        Exception: handle_unexpected,
    }
    app = OrdersApp(
        route_handlers=[*ORDER_HANDLERS, *AUDIT_HANDLERS, *HEALTH_HANDLERS],
        lifespan=[lifespan],
        request_class=OrdersRequest,
        exception_handlers=exception_handlers,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Investment orders API",
            version="1.0.0",
            path="/schema",
            components=COMPONENTS,
            render_plugins=[RedocRenderPlugin(), YamlRenderPlugin()],
        ),
        debug=False,
    )
    app.request_context = RequestContext(app._handle, metrics, settings.body_read_timeout_s)
    return app

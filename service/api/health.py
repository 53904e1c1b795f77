"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.api.state import app_state


@get("/health/live", summary="The process is up", include_in_schema=True)
async def live() -> dict[str, str]:
    return {"status": "live"}


# Ready means "can accept orders": a database that is a replica in recovery (the warm
# standby's Aurora secondary, a Patroni replica) or read-only would take no order, and
# Route 53 / the load balancer must not send traffic there.
_WRITABLE_SQL = (
    "SELECT NOT pg_catalog.pg_is_in_recovery() "
    "AND pg_catalog.current_setting('transaction_read_only') = 'off'"
)


@get(
    "/health/ready", summary="Ready for traffic: a writable database (Redis optional)",
    responses={503: ResponseSpec(
        dict[str, str], description="Not ready: database unavailable or read-only, or draining"
    )},
)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    state = app_state(request)
    if state.draining:
        return Response({"status": "draining"}, status_code=503)
    try:
        async with asyncio.timeout(1.0):
            async with state.pool.acquire() as conn:
                writable = await conn.fetchval(_WRITABLE_SQL)
        database = "ok" if writable else "read-only"
    except Exception:  # any failure means "not ready", whatever its kind
        database = "unavailable"
    if not state.redis.configured:
        redis_status = "not-configured"
    else:
        redis_status = "ok" if await state.redis.ping() else "unavailable"
    body = {"database": database, "redis": redis_status}
    if database != "ok":
        status = "read-only" if database == "read-only" else "unavailable"
        return Response({"status": status, **body}, status_code=503)
    # Redis is a helper: without it the service is degraded but still serves orders.
    overall = "ready" if redis_status in ("ok", "not-configured") else "degraded"
    return Response({"status": overall, **body}, status_code=200)


@get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    registry = app_state(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


HEALTH_HANDLERS = [live, ready, metrics]

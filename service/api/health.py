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


async def _database_status(request: Request[Any, Any, Any]) -> str:
    """ok, read-only or unavailable (any failure counts as unavailable)."""
    try:
        async with asyncio.timeout(1.0):
            async with app_state(request).pool.acquire() as conn:
                writable = await conn.fetchval(_WRITABLE_SQL)
    except Exception:
        return "unavailable"
    return "ok" if writable else "read-only"


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
    database = await _database_status(request)
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


# The kubelet's readiness probe. A warm standby's pods must become Ready (a rollout waits
# for that, and a disruption budget counts it) although their database is read-only until
# promotion; whether a region takes orders is /health/ready's question, asked by the load
# balancer and Route 53.
@get("/health/serving", summary="The pod can serve: not draining, database reachable",
     include_in_schema=False)
async def serving(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    if app_state(request).draining:
        return Response({"status": "draining"}, status_code=503)
    database = await _database_status(request)
    code = 503 if database == "unavailable" else 200
    return Response({"status": "serving" if code == 200 else "unavailable",
                     "database": database}, status_code=code)


@get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    registry = app_state(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


HEALTH_HANDLERS = [live, ready, serving, metrics]

"""Authentication and per-route rate limiting, shared by every order endpoint."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request
from litestar.di import Provide

from service.api.problems import Problem
from service.api.state import AppState, app_state
from service.auth import AuthenticationFailed, Principal

Bucket = Literal["read", "write"]


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    state = app_state(request)
    settings = state.settings
    # Read the raw header list: the parsed view joins repeated headers with ", ".
    values = [
        value.decode("latin-1") for name, value in request.scope["headers"]
        if name.lower() == b"authorization"
    ]
    if len(values) > 1:
        # Proxies and frameworks disagree on which one wins; refuse to guess.
        raise Problem(
            400, "duplicate-authorization", "More than one Authorization header",
            "send exactly one Authorization header",
        )
    try:
        return state.tokens.authenticate(
            values[0] if values else None,
            secret=settings.require_jwt_secret(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    except AuthenticationFailed as error:
        raise Problem(
            401, "unauthorized", "Unauthorized", str(error),
            headers={"WWW-Authenticate": 'Bearer realm="orders"'},
        ) from None


AUTH = {"principal": Provide(provide_principal)}


async def enforce_rate_limit(state: AppState, principal: Principal, bucket: Bucket) -> None:
    """Token bucket per principal: writes (place, cancel) share one, reads another, larger
    one. Checked after authentication and before any database work; fails open."""
    settings = state.settings
    rate, burst = (
        (settings.rate_limit_per_second, settings.rate_limit_burst)
        if bucket == "write"
        else (settings.read_rate_limit_per_second, settings.read_rate_limit_burst)
    )
    allowed, retry_after = await state.redis.allow_request(
        principal.subject, rate, burst, bucket=bucket
    )
    if not allowed:
        raise Problem(
            429, "rate-limited", "Too many requests",
            f"the {bucket} request rate for this caller is above its limit",
            headers={"Retry-After": str(max(1, int(retry_after + 0.999)))},
        )

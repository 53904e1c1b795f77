"""Order endpoints. Handlers parse and authorise; the domain functions do the work."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, get, post, route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from service.api.cursors import CursorCodec
from service.api.guards import AUTH, enforce_rate_limit
from service.api.openapi import (
    CANCEL_PROBLEMS,
    LIST_PROBLEMS,
    ORDER_REQUEST_SCHEMA,
    PLACE_PROBLEMS,
    PLACED_HEADERS,
    READ_PROBLEMS,
    documented,
    order_links,
)
from service.api.problems import Problem
from service.api.schemas import AuditTrail, CreateOrderRequest, OrderPage, OrderView
from service.api.state import app_state
from service.api.visibility import account_holder_view
from service.auth import Principal
from service.db import with_retries
from service.domain import audit
from service.domain import orders as domain
from service.domain.idempotency import body_fingerprint
from service.domain.states import IllegalTransition, OrderStatus
from service.domain.validation import (
    ACCOUNT_PATTERN,
    CLIENT_ORDER_ID_PATTERN,
    FieldError,
    parse_positive_decimal,
    validate_currency,
    validate_isin,
    validate_pattern,
)
from service.redis_gate import CachedResponse

# Documented bounds: 8..128 characters of letters, digits and . _ : - (UUIDs fit).
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,128}", re.ASCII)
JSON = "application/json"


def parse_idempotency_key(raw: str | None) -> str:
    if raw is None:
        raise Problem(
            400, "idempotency-key-missing", "Idempotency-Key required",
            "POST /v1/orders needs an Idempotency-Key header (8-128 of A-Z a-z 0-9 . _ : -)",
        )
    value = raw.strip()
    # draft-ietf-httpapi-idempotency-key-header: the value is a structured-field string.
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(value):
        raise Problem(
            400, "idempotency-key-malformed", "Malformed Idempotency-Key",
            "the Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 . _ : -",
        )
    return value


def to_new_order(data: CreateOrderRequest) -> domain.NewOrder:
    """Every field rule at once, so the client sees all of its mistakes in one answer."""
    errors: list[FieldError] = []

    def check(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except FieldError as error:
            errors.append(error)
            return None

    account = check(
        validate_pattern, "account_id", data.account_id, ACCOUNT_PATTERN,
        "must be 1-64 characters of letters, digits, _ and -",
    )
    instrument = check(validate_isin, "instrument", data.instrument)
    quantity = check(parse_positive_decimal, "quantity", data.quantity)
    currency = check(validate_currency, "currency", data.currency)
    limit_price = None
    if data.order_type == "limit":
        if data.limit_price is None:
            errors.append(FieldError("limit_price", "is required for limit orders"))
        else:
            limit_price = check(parse_positive_decimal, "limit_price", data.limit_price)
    elif data.limit_price is not None:
        errors.append(FieldError("limit_price", "must be absent for market orders"))
    if data.client_order_id is not None:
        check(
            validate_pattern, "client_order_id", data.client_order_id, CLIENT_ORDER_ID_PATTERN,
            "must be 1-64 characters of letters, digits, . _ : -",
        )
    if errors:
        raise Problem(
            400, "validation-error", "Invalid request", "some fields are invalid; see errors",
            extra={"errors": [{"field": e.field, "message": e.message} for e in errors]},
        )
    return domain.NewOrder(
        account_id=account, instrument=instrument, side=data.side, order_type=data.order_type,
        quantity=quantity, limit_price=limit_price, currency=currency,
        time_in_force=data.time_in_force, client_order_id=data.client_order_id,
    )


def order_response(
    body: bytes, status_code: int, order_id: uuid.UUID, *, replayed: bool
) -> Response[bytes]:
    headers = {"Location": f"/v1/orders/{order_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(content=body, status_code=status_code, media_type=JSON, headers=headers)


def key_in_flight() -> Problem:
    return Problem(
        409, "idempotency-key-in-flight", "Request in progress",
        "a request with this Idempotency-Key is still being processed; retry shortly",
        headers={"Retry-After": "1"},
    )


def key_reused() -> Problem:
    return Problem(
        422, "idempotency-key-reused", "Idempotency-Key reused",
        "this Idempotency-Key was already used with a different request body",
    )


@post(
    "/v1/orders",
    dependencies=AUTH,
    status_code=201,
    operation_id="placeOrder",
    summary="Place an order (idempotent per Idempotency-Key)",
    responses={201: ResponseSpec(OrderView, description="The order (also for a retried key)")},
    operation_class=documented(
        problems=PLACE_PROBLEMS, success=201, links=order_links(),
        success_headers=PLACED_HEADERS, required_headers=frozenset({"Idempotency-Key"}),
        request_schema=ORDER_REQUEST_SCHEMA,
    ),
)
async def place_order(
    request: Request[Any, Any, Any],
    data: JSONBody[CreateOrderRequest],
    principal: NamedDependency[Principal],
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key", required=False, description="8-128 of [A-Za-z0-9._:-]"
        ),
    ] = None,
) -> Response[bytes]:
    state = app_state(request)
    key = parse_idempotency_key(idempotency_key)
    await enforce_rate_limit(state, principal, "write")
    new_order = to_new_order(data)
    if not principal.may_use(new_order.account_id):
        raise Problem(
            403, "account-forbidden", "Forbidden",
            f"the token does not allow orders for account {new_order.account_id}",
        )
    # The body as sent (already decoded by the request class), never the parsed struct.
    fingerprint = body_fingerprint(await request.json())
    # Keys recorded before fingerprints covered the body as sent hold the struct's
    # fingerprint; accepted until they expire (one idempotency TTL after the deploy).
    legacy_fingerprint = body_fingerprint(msgspec.to_builtins(data))

    cached = await state.redis.cached_response(principal.subject, key)
    if cached is not None:
        if cached.request_hash not in (fingerprint, legacy_fingerprint):
            state.metrics.duplicate_attempts.labels("payload_mismatch").inc()
            raise key_reused()
        state.metrics.duplicate_attempts.labels("replayed").inc()
        order_id = uuid.UUID(msgspec.json.decode(cached.body)["id"])
        return order_response(cached.body, cached.status, order_id, replayed=True)

    request_id = request.scope["state"]["request_id"]

    async def place(conn: asyncpg.Connection) -> domain.PlacementResult:
        return await domain.place_order(
            conn, principal=principal.subject, idempotency_key=key, request_hash=fingerprint,
            request_id=request_id, order=new_order,
            key_ttl=timedelta(hours=state.settings.idempotency_ttl_hours),
            legacy_request_hash=legacy_fingerprint,
        )

    try:
        result = await with_retries(state.pool, place)
    except domain.KeyInFlight:
        state.metrics.duplicate_attempts.labels("in_flight").inc()
        raise key_in_flight() from None
    except domain.KeyReusedWithOtherPayload:
        state.metrics.duplicate_attempts.labels("payload_mismatch").inc()
        raise key_reused() from None
    except domain.DuplicateClientOrderId as clash:
        raise Problem(
            409, "client-order-id-taken", "Duplicate client_order_id",
            "this account already has an order with this client_order_id",
            extra={"existing_order_id": str(clash.order_id)},
        ) from None
    except Exception:
        state.metrics.orders_failed.labels("unavailable").inc()
        raise

    if result.replayed:
        state.metrics.duplicate_attempts.labels("replayed").inc()
    else:
        state.metrics.orders_created.inc()
    await state.redis.cache_response(
        principal.subject, key,
        CachedResponse(request_hash=fingerprint, status=result.status_code, body=result.body),
        ttl_s=int(state.settings.idempotency_ttl_hours * 3600),
    )
    return order_response(
        result.body, result.status_code, result.order_id, replayed=result.replayed
    )


def not_found(order_id: uuid.UUID) -> Problem:
    return Problem(404, "order-not-found", "Not found", f"no order {order_id} for this caller")


def view(row: asyncpg.Record) -> OrderView:
    return msgspec.convert(domain.order_document(row), OrderView)


@get(
    "/v1/orders/{order_id:uuid}", dependencies=AUTH, operation_id="readOrder",
    summary="Read one order", operation_class=documented(problems=READ_PROBLEMS),
)
async def read_order(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
) -> OrderView:
    state = app_state(request)
    await enforce_rate_limit(state, principal, "read")

    async def read(conn: asyncpg.Connection) -> asyncpg.Record:
        return await domain.get_order(conn, order_id, sorted(principal.accounts))

    try:
        return view(await with_retries(state.pool, read))
    except domain.OrderNotFound:
        raise not_found(order_id) from None


@get(
    "/v1/orders", dependencies=AUTH, operation_id="listOrders",
    summary="List orders, newest first (keyset pagination)",
    operation_class=documented(problems=LIST_PROBLEMS),
)
async def list_orders(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    account_id: Annotated[str | None, QueryParameter()] = None,
    status: Annotated[OrderStatus | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter()] = None,
) -> OrderPage:
    state = app_state(request)
    await enforce_rate_limit(state, principal, "read")
    if account_id is not None and not principal.may_use(account_id):
        raise Problem(
            403, "account-forbidden", "Forbidden",
            f"the token does not allow reading account {account_id}",
        )
    accounts = [account_id] if account_id else sorted(principal.accounts)
    cursors = CursorCodec(state.settings.require_jwt_secret())
    after = cursors.decode(cursor) if cursor is not None else None

    async def page(conn: asyncpg.Connection) -> domain.Page:
        return await domain.list_orders(
            conn, accounts=accounts, status=status.value if status else None, limit=limit,
            after=after,
        )

    result = await with_retries(state.pool, page)
    return OrderPage(
        items=[view(row) for row in result.rows],
        next_cursor=cursors.encode(result.next_cursor) if result.next_cursor else None,
    )


@post(
    "/v1/orders/{order_id:uuid}/cancel", dependencies=AUTH, status_code=200,
    operation_id="cancelOrder",
    summary="Cancel an order (idempotent; only from PENDING, SUBMITTED, PARTIALLY_FILLED)",
    operation_class=documented(problems=CANCEL_PROBLEMS),
)
async def cancel_order(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
) -> OrderView:
    state = app_state(request)
    await enforce_rate_limit(state, principal, "write")
    accounts = sorted(principal.accounts)

    async def visible(conn: asyncpg.Connection) -> asyncpg.Record:
        return await domain.get_order(conn, order_id, accounts)

    # Authorise before any side effect: another account's cancel must not take the lock.
    try:
        await with_retries(state.pool, visible)
    except domain.OrderNotFound:
        raise not_found(order_id) from None
    # Taken so an in-flight fill backs off; correctness comes from the row lock below.
    lock = await state.redis.acquire_lock(f"order:{order_id}")

    async def cancel(conn: asyncpg.Connection) -> tuple[asyncpg.Record, bool]:
        return await domain.cancel_order(
            conn, order_id=order_id, accounts=accounts, actor=principal.subject
        )

    try:
        row, _changed = await with_retries(state.pool, cancel)
    except domain.OrderNotFound:
        raise not_found(order_id) from None
    except IllegalTransition as error:
        raise Problem(
            409, "illegal-transition", "Order cannot be cancelled", str(error),
            extra={"current_status": error.current.value},
        ) from None
    finally:
        if lock is not None:
            await state.redis.release_lock(f"order:{order_id}", lock)
    return view(row)


@get(
    "/v1/orders/{order_id:uuid}/events", dependencies=AUTH, operation_id="orderEvents",
    summary="The order's audit trail, as an account holder may see it",
    operation_class=documented(problems=READ_PROBLEMS),
)
async def order_events(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
) -> AuditTrail:
    state = app_state(request)
    await enforce_rate_limit(state, principal, "read")

    async def trail(conn: asyncpg.Connection) -> list[audit.AuditEvent]:
        await domain.get_order(conn, order_id, sorted(principal.accounts))
        return await audit.events_for_order(conn, order_id)

    try:
        events = await with_retries(state.pool, trail)
    except domain.OrderNotFound:
        raise not_found(order_id) from None
    return msgspec.convert(
        {"order_id": str(order_id), "events": [account_holder_view(e.to_json()) for e in events]},
        AuditTrail,
    )


@route("/v1/orders", http_method=HttpMethod.OPTIONS, include_in_schema=False,
       sync_to_thread=False)
def orders_options(request: Request[Any, Any, Any]) -> Response[None]:
    """Litestar builds the automatic OPTIONS answer with the first handler registered for a
    path, so GET /v1/orders (registered after POST) was missing from its Allow header."""
    methods = request.app.route_handler_method_map.get("/v1/orders", {})
    return Response(None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})


# The explicit OPTIONS handler first: registered later, it would clash with the automatic one.
ORDER_HANDLERS = [
    orders_options, place_order, read_order, list_orders, cancel_order, order_events,
]

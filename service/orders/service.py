"""The order use cases: place, read, list, cancel, and the audit trail.

The service authorises (rate limit, account ownership), runs the repository's SQL with
the failover retry policy, counts what happened, and answers refusals in the API's
problem vocabulary (RFC 9457). It never sees HTTP requests: the controller hands it
parsed values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import msgspec

from service.api.cursors import CursorCodec
from service.api.guards import Bucket, enforce_rate_limit
from service.api.problems import Problem
from service.api.schemas import AuditTrail, CreateOrderRequest, OrderPage, OrderView
from service.api.state import AppState
from service.api.visibility import account_holder_view
from service.auth import Principal
from service.db import with_retries
from service.domain import orders as domain
from service.domain.idempotency import body_fingerprint
from service.domain.states import IllegalTransition, OrderStatus
from service.orders import repository
from service.orders.inputs import to_new_order


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


def not_found(order_id: uuid.UUID) -> Problem:
    return Problem(404, "order-not-found", "Not found", f"no order {order_id} for this caller")


def forbidden(account_id: str, action: str) -> Problem:
    return Problem(
        403, "account-forbidden", "Forbidden",
        f"the token does not allow {action} account {account_id}",
    )


def view(row: asyncpg.Record) -> OrderView:
    return msgspec.convert(domain.order_document(row), OrderView)


@dataclass(frozen=True)
class PlaceOrder:
    """One placement as the controller parsed it."""

    key: str
    data: CreateOrderRequest
    body: Any  # the JSON body as sent, decoded: what the fingerprint covers
    request_id: str


class OrderService:
    def __init__(self, state: AppState, principal: Principal) -> None:
        self._state = state
        self._principal = principal

    async def _rate_limit(self, bucket: Bucket) -> None:
        await enforce_rate_limit(self._state, self._principal, bucket)

    async def place(self, command: PlaceOrder) -> domain.PlacementResult:
        """Idempotent per key: one database statement decides (see the repository).

        No Redis response cache: with the placement one round trip, a replay costs the
        same round trip as a lookup, and a cache lookup and write would cost two Redis
        round trips on every fresh key."""
        state, principal = self._state, self._principal
        await self._rate_limit("write")
        new_order = to_new_order(command.data)
        if not principal.may_use(new_order.account_id):
            raise forbidden(new_order.account_id, "orders for")
        placement = repository.Placement(
            principal=principal.subject, idempotency_key=command.key,
            request_hash=body_fingerprint(command.body), request_id=command.request_id,
            order=new_order, key_ttl=timedelta(hours=state.settings.idempotency_ttl_hours),
            # Keys recorded before fingerprints covered the body as sent hold the struct's
            # fingerprint; accepted until they expire (one idempotency TTL after a deploy).
            legacy_request_hash=body_fingerprint(msgspec.to_builtins(command.data)),
        )

        result = await self._placed(repository.prepare(placement))
        if result.replayed:
            state.metrics.duplicate_attempts.labels("replayed").inc()
        else:
            state.metrics.orders_created.inc()
        return result

    async def _placed(self, placement: repository.PreparedPlacement) -> domain.PlacementResult:
        """Placed through the process's batcher: alone at low load, sharing a statement
        with the other waiting placements under load (service.orders.batching)."""
        metrics = self._state.metrics
        try:
            result: domain.PlacementResult = await self._state.placements.place(placement)
        except domain.KeyInFlight:
            metrics.duplicate_attempts.labels("in_flight").inc()
            raise key_in_flight() from None
        except domain.KeyReusedWithOtherPayload:
            metrics.duplicate_attempts.labels("payload_mismatch").inc()
            raise key_reused() from None
        except domain.DuplicateClientOrderId as clash:
            raise Problem(
                409, "client-order-id-taken", "Duplicate client_order_id",
                "this account already has an order with this client_order_id",
                extra={"existing_order_id": str(clash.order_id)},
            ) from None
        except Exception:
            metrics.orders_failed.labels("unavailable").inc()
            raise
        return result

    async def read(self, order_id: uuid.UUID) -> OrderView:
        await self._rate_limit("read")
        accounts = sorted(self._principal.accounts)

        async def read(conn: asyncpg.Connection) -> asyncpg.Record:
            return await repository.get_order(conn, order_id, accounts)

        try:
            return view(await with_retries(self._state.pool, read))
        except domain.OrderNotFound:
            raise not_found(order_id) from None

    async def page(
        self, *, account_id: str | None, status: OrderStatus | None, limit: int,
        cursor: str | None,
    ) -> OrderPage:
        await self._rate_limit("read")
        if account_id is not None and not self._principal.may_use(account_id):
            raise forbidden(account_id, "reading")
        accounts = [account_id] if account_id else sorted(self._principal.accounts)
        cursors = CursorCodec(self._state.settings.require_jwt_secret())
        after = cursors.decode(cursor) if cursor is not None else None

        async def page(conn: asyncpg.Connection) -> repository.Page:
            return await repository.list_orders(
                conn, accounts=accounts, status=status.value if status else None,
                limit=limit, after=after,
            )

        result = await with_retries(self._state.pool, page)
        return OrderPage(
            items=[view(row) for row in result.rows],
            next_cursor=cursors.encode(result.next_cursor) if result.next_cursor else None,
        )

    async def cancel(self, order_id: uuid.UUID) -> OrderView:
        state = self._state
        await self._rate_limit("write")
        accounts = sorted(self._principal.accounts)

        # One transaction decides: the order's row lock orders this cancel against a fill
        # of the same order (the worker takes it too), and the account check is in the same
        # statement, so another account's order is simply not found.
        async def cancel(conn: asyncpg.Connection) -> tuple[asyncpg.Record, bool]:
            return await repository.cancel_order(
                conn, order_id=order_id, accounts=accounts, actor=self._principal.subject
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
        return view(row)

    async def events(self, order_id: uuid.UUID) -> AuditTrail:
        state = self._state
        await self._rate_limit("read")
        accounts = sorted(self._principal.accounts)

        async def trail(conn: asyncpg.Connection) -> dict[str, Any]:
            await repository.get_order(conn, order_id, accounts)
            # Each event with its leaf index and inclusion proof (service.api.audit).
            from service.api.audit import trail_document

            return await trail_document(conn, state, order_id)

        try:
            document = await with_retries(state.pool, trail)
        except domain.OrderNotFound:
            raise not_found(order_id) from None
        document["events"] = [account_holder_view(e) for e in document["events"]]
        return msgspec.convert(document, AuditTrail)

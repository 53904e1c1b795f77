"""The order context's SQL, plain: no ORM, one statement text per query so asyncpg's
per-connection prepared-statement cache serves every call after the first.

A placement is one round trip: everything that needs no database (ids, the timestamp, the
response body, the outbox event, the audit event's leaf hash) is computed here, then the
`place_order` function (migration 0005) takes the idempotency lock, answers from a recorded
key or inserts the four rows, in the implicit transaction of one autocommit statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import msgspec

from service.audit import log as audit
from service.audit.merkle import leaf_hash
from service.domain.idempotency import scoped_key
from service.domain.orders import (
    ORDER_COLUMNS,
    DuplicateClientOrderId,
    KeyInFlight,
    KeyReusedWithOtherPayload,
    NewOrder,
    OrderNotFound,
    PlacementResult,
    order_document,
    placed_order_document,
)
from service.domain.states import OrderStatus, check_transition

PLACE_ORDER = (
    "SELECT r_outcome, r_response_status, r_response_body, r_order_id, r_request_id"
    " FROM place_order($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
    " $16, $17, $18, $19, $20, $21, $22, $23, $24)"
)
ORDER_CREATED = "order.created"


@dataclass(frozen=True)
class Placement:
    """One placement attempt, as the use case hands it over."""

    principal: str
    idempotency_key: str
    request_hash: str
    request_id: str
    order: NewOrder
    key_ttl: timedelta
    legacy_request_hash: str | None = None


def placement_arguments(placement: Placement) -> tuple[tuple[object, ...], bytes, uuid.UUID]:
    """The function's arguments, the 201 body and the new order's id."""
    now = audit.utc_now()
    order_id, outbox_event_id, audit_event_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    document = placed_order_document(order_id, placement.order, now)
    body = msgspec.json.encode(document)
    outbox_payload = {
        "event_id": str(outbox_event_id), "event_type": ORDER_CREATED, "order": document,
    }
    audit_payload = {
        "order": document,
        "idempotency_key": placement.idempotency_key,
        "request_id": placement.request_id,
        "outbox_event_id": str(outbox_event_id),
    }
    digest = leaf_hash(audit.canonical_encoding(
        event_id=audit_event_id, order_id=order_id, event_type=ORDER_CREATED,
        from_status=None, to_status=OrderStatus.PENDING.value, actor=placement.principal,
        payload=audit_payload, occurred_at=now,
    ))
    order = placement.order
    arguments = (
        placement.principal, placement.idempotency_key,
        f"idempotency:{scoped_key(placement.principal, placement.idempotency_key)}",
        placement.request_hash, placement.legacy_request_hash, placement.request_id,
        order_id, order.account_id, order.client_order_id, order.instrument, order.side,
        order.order_type, order.quantity, order.limit_price, order.currency,
        order.time_in_force, now, now + placement.key_ttl, body,
        outbox_event_id, msgspec.json.encode(outbox_payload).decode(),
        audit_event_id, msgspec.json.encode(audit_payload).decode(), digest,
    )
    return arguments, body, order_id


async def place_order(conn: asyncpg.Connection, placement: Placement) -> PlacementResult:
    """One statement, one round trip; raises the domain's refusals."""
    arguments, body, order_id = placement_arguments(placement)
    row = await conn.fetchrow(PLACE_ORDER, *arguments)
    outcome = row["r_outcome"]
    if outcome == "created":
        return PlacementResult(status_code=201, body=body, order_id=order_id, replayed=False)
    if outcome == "replay":
        return PlacementResult(
            status_code=row["r_response_status"],
            body=bytes(row["r_response_body"]),
            order_id=row["r_order_id"],
            # The same request id means our own earlier attempt committed (an in-doubt
            # commit retried internally): that is the first response, not a replay.
            replayed=row["r_request_id"] != placement.request_id,
        )
    if outcome == "in_flight":
        raise KeyInFlight
    if outcome == "key_reused":
        raise KeyReusedWithOtherPayload
    if outcome == "client_order_id_taken":
        raise DuplicateClientOrderId(row["r_order_id"])
    raise RuntimeError(f"place_order answered an unknown outcome {outcome!r}")


async def insert_outbox(
    conn: asyncpg.Connection, *, order: dict[str, object], event_type: str, now: datetime
) -> uuid.UUID:
    event_id = uuid.uuid4()
    payload = {"event_id": str(event_id), "event_type": event_type, "order": order}
    await conn.execute(
        """
        INSERT INTO outbox (event_id, order_id, account_id, event_type, payload, created_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6)
        """,
        event_id, uuid.UUID(str(order["id"])), order["account_id"], event_type,
        msgspec.json.encode(payload).decode(), now,
    )
    return event_id


async def get_order(
    conn: asyncpg.Connection, order_id: uuid.UUID, accounts: Sequence[str]
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND account_id = ANY($2::text[])",  # noqa: S608
        order_id, list(accounts),
    )
    if row is None:
        raise OrderNotFound
    return row


@dataclass(frozen=True)
class Page:
    rows: list[asyncpg.Record]
    next_cursor: tuple[datetime, uuid.UUID] | None


async def list_orders(
    conn: asyncpg.Connection,
    *,
    accounts: Sequence[str],
    status: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Page:
    """Newest first, keyset-paginated on (created_at, id)."""
    rows = await conn.fetch(
        f"""
        SELECT {ORDER_COLUMNS} FROM orders
        WHERE account_id = ANY($1::text[])
          AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $5
        """,  # noqa: S608
        list(accounts), status, after[0] if after else None, after[1] if after else None,
        limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = (rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None
    return Page(rows=list(rows), next_cursor=cursor)


async def cancel_order(
    conn: asyncpg.Connection, *, order_id: uuid.UUID, accounts: Sequence[str], actor: str
) -> tuple[asyncpg.Record, bool]:
    """Cancel from a cancellable state; cancelling a cancelled order changes nothing."""
    async with conn.transaction():
        row = await conn.fetchrow(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND account_id = ANY($2::text[])"  # noqa: S608
            " FOR UPDATE",
            order_id, list(accounts),
        )
        if row is None:
            raise OrderNotFound
        current = OrderStatus(row["status"])
        if current is OrderStatus.CANCELLED:
            return row, False
        check_transition(current, OrderStatus.CANCELLED)
        now = audit.utc_now()
        updated = await conn.fetchrow(
            f"UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1"  # noqa: S608
            f" RETURNING {ORDER_COLUMNS}",
            order_id, OrderStatus.CANCELLED.value, now,
        )
        document = order_document(updated)
        outbox_event_id = await insert_outbox(
            conn, order=document, event_type="order.cancelled", now=now
        )
        await audit.append_event(
            conn,
            order_id=order_id,
            event_type="order.cancelled",
            from_status=current.value,
            to_status=OrderStatus.CANCELLED.value,
            actor=actor,
            payload={"outbox_event_id": str(outbox_event_id)},
            occurred_at=now,
        )
    return updated, True

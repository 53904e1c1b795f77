"""Placing, reading, cancelling and executing orders: one transaction per state change.

Placing an order writes the order, its outbox row, the idempotency record and the audit
event in one transaction; nothing leaves the database before that commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from service.domain import audit
from service.domain.idempotency import scoped_key
from service.domain.states import OrderStatus, check_transition

ORDER_COLUMNS = (
    "id, account_id, client_order_id, instrument, side, order_type, quantity, limit_price,"
    " currency, time_in_force, status, filled_quantity, created_at, updated_at"
)
# The simulated venue rejects orders above this size.
VENUE_MAX_QUANTITY = Decimal("1000000")


@dataclass(frozen=True)
class NewOrder:
    account_id: str
    instrument: str
    side: str
    order_type: str
    quantity: Decimal
    limit_price: Decimal | None
    currency: str
    time_in_force: str
    client_order_id: str | None


@dataclass(frozen=True)
class PlacementResult:
    status_code: int
    body: bytes
    order_id: uuid.UUID
    replayed: bool


class KeyInFlight(Exception):
    """Another request with this idempotency key holds it right now."""


class KeyReusedWithOtherPayload(Exception):
    """The idempotency key was first used with a different request body."""


class DuplicateClientOrderId(Exception):
    def __init__(self, order_id: uuid.UUID) -> None:
        super().__init__(f"client_order_id already used by order {order_id}")
        self.order_id = order_id


class OrderNotFound(Exception):
    pass


class UnknownOrderEvent(Exception):
    """A queue message that names no known order or event type: a poison message."""


def decimal_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    # Normalise away the numeric(26,8) padding without ever using exponent notation.
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def order_document(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "account_id": row["account_id"],
        "client_order_id": row["client_order_id"],
        "instrument": row["instrument"],
        "side": row["side"],
        "order_type": row["order_type"],
        "quantity": decimal_text(row["quantity"]),
        "limit_price": decimal_text(row["limit_price"]),
        "currency": row["currency"],
        "time_in_force": row["time_in_force"],
        "status": row["status"],
        "filled_quantity": decimal_text(row["filled_quantity"]),
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


async def _insert_outbox(
    conn: asyncpg.Connection,
    *,
    order: dict[str, Any],
    event_type: str,
    now: datetime,
) -> uuid.UUID:
    event_id = uuid.uuid4()
    payload = {"event_id": str(event_id), "event_type": event_type, "order": order}
    await conn.execute(
        """
        INSERT INTO outbox (event_id, order_id, account_id, event_type, payload, created_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6)
        """,
        event_id, uuid.UUID(order["id"]), order["account_id"], event_type,
        json.dumps(payload), now,
    )
    return event_id


async def place_order(
    conn: asyncpg.Connection,
    *,
    principal: str,
    idempotency_key: str,
    request_hash: str,
    request_id: str,
    order: NewOrder,
    key_ttl: timedelta,
    legacy_request_hash: str | None = None,
) -> PlacementResult:
    async with conn.transaction():
        # The lock makes a concurrent retry answer 409 instead of queueing behind the first;
        # the primary key on idempotency_keys is what guarantees one order per key.
        locked = await conn.fetchval(
            "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))",
            f"idempotency:{scoped_key(principal, idempotency_key)}",
        )
        if not locked:
            raise KeyInFlight
        existing = await conn.fetchrow(
            """
            SELECT request_hash, request_id, response_status, response_body, order_id,
                   expires_at <= now() AS expired
            FROM idempotency_keys WHERE principal = $1 AND idempotency_key = $2
            """,
            principal, idempotency_key,
        )
        if existing is not None and existing["expired"]:
            await conn.execute(
                "DELETE FROM idempotency_keys WHERE principal = $1 AND idempotency_key = $2",
                principal, idempotency_key,
            )
            existing = None
        if existing is not None:
            if existing["request_hash"] not in (request_hash, legacy_request_hash):
                raise KeyReusedWithOtherPayload
            return PlacementResult(
                status_code=existing["response_status"],
                body=bytes(existing["response_body"]),
                order_id=existing["order_id"],
                # The same request id means our own earlier attempt committed (in-doubt
                # commit retried internally): that is the first response, not a replay.
                replayed=existing["request_id"] != request_id,
            )
        if order.client_order_id is not None:
            clash = await conn.fetchval(
                "SELECT id FROM orders WHERE account_id = $1 AND client_order_id = $2",
                order.account_id, order.client_order_id,
            )
            if clash is not None:
                raise DuplicateClientOrderId(clash)

        now = audit.utc_now()
        row = await conn.fetchrow(
            f"""
            INSERT INTO orders (id, account_id, principal, client_order_id, instrument, side,
                order_type, quantity, limit_price, currency, time_in_force, status,
                idempotency_key, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
            RETURNING {ORDER_COLUMNS}
            """,  # noqa: S608
            uuid.uuid4(), order.account_id, principal, order.client_order_id, order.instrument,
            order.side, order.order_type, order.quantity, order.limit_price, order.currency,
            order.time_in_force, OrderStatus.PENDING.value, idempotency_key, now,
        )
        document = order_document(row)
        body = msgspec.json.encode(document)
        outbox_event_id = await _insert_outbox(
            conn, order=document, event_type="order.created", now=now
        )
        await conn.execute(
            """
            INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, request_id,
                order_id, response_status, response_body, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, 201, $6, $7, $8)
            """,
            principal, idempotency_key, request_hash, request_id, row["id"], body, now,
            now + key_ttl,
        )
        await audit.append_event(
            conn,
            order_id=row["id"],
            event_type="order.created",
            from_status=None,
            to_status=OrderStatus.PENDING.value,
            actor=principal,
            payload={
                "order": document,
                "idempotency_key": idempotency_key,
                "request_id": request_id,
                "outbox_event_id": str(outbox_event_id),
            },
            occurred_at=now,
        )
    return PlacementResult(status_code=201, body=body, order_id=row["id"], replayed=False)


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
        outbox_event_id = await _insert_outbox(
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


async def _transition(
    conn: asyncpg.Connection,
    *,
    row: asyncpg.Record,
    target: OrderStatus,
    actor: str,
    payload: dict[str, Any],
    filled_quantity: Decimal | None = None,
) -> asyncpg.Record:
    current = OrderStatus(row["status"])
    check_transition(current, target)
    now = audit.utc_now()
    updated = await conn.fetchrow(
        f"""
        UPDATE orders SET status = $2, updated_at = $3,
            filled_quantity = COALESCE($4, filled_quantity)
        WHERE id = $1 RETURNING {ORDER_COLUMNS}
        """,  # noqa: S608
        row["id"], target.value, now, filled_quantity,
    )
    await audit.append_event(
        conn,
        order_id=row["id"],
        event_type=f"order.{target.value.lower()}",
        from_status=current.value,
        to_status=target.value,
        actor=actor,
        payload=payload,
        occurred_at=now,
    )
    return updated


async def apply_venue_event(
    conn: asyncpg.Connection,
    *,
    event_id: uuid.UUID,
    order_id: uuid.UUID,
    event_type: str,
    consumer: str,
) -> str:
    """The simulated venue's handling of one outbox event, applied exactly once.

    Returns "duplicate" when the event was already applied, else what happened.
    """
    async with conn.transaction():
        first_time = await conn.fetchval(
            """
            INSERT INTO processed_events (event_id, order_id, consumer, processed_at)
            VALUES ($1, $2, $3, now()) ON CONFLICT (event_id) DO NOTHING RETURNING true
            """,
            event_id, order_id, consumer,
        )
        if not first_time:
            return "duplicate"
        row = await conn.fetchrow(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE", order_id  # noqa: S608
        )
        if row is None:
            raise UnknownOrderEvent(f"order {order_id} does not exist")
        cause = {"cause_event_id": str(event_id)}
        if event_type == "order.cancelled":
            return "cancel-acknowledged"
        if event_type != "order.created":
            raise UnknownOrderEvent(f"unknown event type {event_type!r}")
        if OrderStatus(row["status"]) is not OrderStatus.PENDING:
            return f"skipped ({row['status']})"
        submitted = await _transition(
            conn, row=row, target=OrderStatus.SUBMITTED, actor=consumer, payload=cause
        )
        if submitted["quantity"] > VENUE_MAX_QUANTITY:
            await _transition(
                conn, row=submitted, target=OrderStatus.REJECTED, actor=consumer,
                payload={**cause, "reason": f"quantity above venue maximum {VENUE_MAX_QUANTITY}"},
            )
            return "rejected"
        await _transition(
            conn, row=submitted, target=OrderStatus.FILLED, actor=consumer,
            payload={**cause, "fill_quantity": decimal_text(submitted["quantity"])},
            filled_quantity=submitted["quantity"],
        )
        return "filled"


async def purge_expired_idempotency_keys(conn: asyncpg.Connection, batch: int = 1000) -> int:
    result = await conn.execute(
        """
        DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT $1))
        """,
        batch,
    )
    return int(result.split()[-1])

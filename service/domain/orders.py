"""The order's domain: what a new order is, how an order reads, and the refusals a
placement can meet. The SQL lives in `service.orders.repository`; the simulated venue's
rules in `service.venue`.

Placing an order writes the order, its outbox row, the idempotency record and the audit
event in one transaction; nothing leaves the database before that commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from service.domain.states import OrderStatus

ORDER_COLUMNS = (
    "id, account_id, client_order_id, instrument, side, order_type, quantity, limit_price,"
    " currency, time_in_force, status, filled_quantity, created_at, updated_at"
)


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


def decimal_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    # Normalise away the numeric(26,8) padding without ever using exponent notation.
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def placed_order_document(
    order_id: uuid.UUID, order: NewOrder, now: datetime
) -> dict[str, Any]:
    """The document `order_document` reads back for a just-placed order, built without
    the database: the quantities fit numeric(26,8) exactly (validation allows at most 18
    integer and 8 fraction digits) and the timestamps are stored to the microsecond."""
    stamp = now.isoformat()
    return {
        "id": str(order_id),
        "account_id": order.account_id,
        "client_order_id": order.client_order_id,
        "instrument": order.instrument,
        "side": order.side,
        "order_type": order.order_type,
        "quantity": decimal_text(order.quantity),
        "limit_price": decimal_text(order.limit_price),
        "currency": order.currency,
        "time_in_force": order.time_in_force,
        "status": OrderStatus.PENDING.value,
        "filled_quantity": "0",
        "created_at": stamp,
        "updated_at": stamp,
    }


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


PURGE_LOCK_TIMEOUT_MS = 100


async def purge_expired_idempotency_keys(conn: asyncpg.Connection, batch: int = 1000) -> int:
    """Delete up to `batch` expired keys. It gives up (asyncpg.LockNotAvailableError) after
    PURGE_LOCK_TIMEOUT_MS rather than wait on a row a placement holds: a statement of
    several placements deletes the expired keys it reuses in its own order, so a purge
    that waited could close a deadlock cycle with it. (SKIP LOCKED would say it in one
    clause, but a locking clause needs UPDATE on the table, which the application's role
    does not have on idempotency records.)"""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{PURGE_LOCK_TIMEOUT_MS}ms'")
        result = await conn.execute(
            """
            DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT $1))
            """,
            batch,
        )
    return int(result.split()[-1])

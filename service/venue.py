"""The simulated venue's rules: how the worker executes an order it receives from the
queue. Each outbox event is applied exactly once (the processed-events ledger), in one
transaction with the order's state changes and their audit events."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import asyncpg

from service.audit import log as audit
from service.domain.orders import ORDER_COLUMNS, decimal_text
from service.domain.states import OrderStatus, check_transition

# The simulated venue rejects orders above this size.
VENUE_MAX_QUANTITY = Decimal("1000000")


class UnknownOrderEvent(Exception):
    """A queue message that names no known order or event type: a poison message."""


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



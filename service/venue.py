"""The simulated venue's rules: how the worker executes an order it receives from the
queue. Each outbox event is applied exactly once (the processed-events ledger), in one
transaction with the order's state changes and their audit events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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
        # The order's row lock first, then the ledger, in the order apply_created_events
        # takes them: two transactions applying one redelivered event cannot deadlock.
        row = await conn.fetchrow(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE", order_id  # noqa: S608
        )
        if row is None:
            raise UnknownOrderEvent(f"order {order_id} does not exist")
        first_time = await conn.fetchval(
            """
            INSERT INTO processed_events (event_id, order_id, consumer, processed_at)
            VALUES ($1, $2, $3, now()) ON CONFLICT (event_id) DO NOTHING RETURNING true
            """,
            event_id, order_id, consumer,
        )
        if not first_time:
            return "duplicate"
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


# -- the same rules for a whole receive of 'order.created' events, in one round trip -------

@dataclass(frozen=True)
class CreatedEvent:
    """An 'order.created' queue event with the quantity its message carries."""

    event_id: uuid.UUID
    order_id: uuid.UUID
    group: str
    quantity: Decimal


# Outcomes of the batch function that apply_venue_event never returns (see migration 0015).
UNKNOWN, MISMATCH, HELD = "unknown", "mismatch", "held"

APPLY_CREATED_EVENTS = (
    "SELECT r_index, r_outcome FROM apply_created_events("
    "$1, $2, $3, $4, $5, $6, $7, $8::jsonb[], $9, $10, $11, $12::jsonb[], $13)"
)


def _audit_step(
    event: CreatedEvent, consumer: str, now: datetime, source: OrderStatus,
    target: OrderStatus, payload: dict[str, Any],
) -> audit.PreparedEvent:
    check_transition(source, target)
    return audit.prepare_event(
        order_id=event.order_id, event_type=f"order.{target.value.lower()}",
        from_status=source.value, to_status=target.value, actor=consumer, payload=payload,
        occurred_at=now,
    )


def _venue_verdict(
    event: CreatedEvent, cause: dict[str, Any]
) -> tuple[OrderStatus, dict[str, Any]]:
    """What the venue does with the order, decided from its quantity (as _transition's
    callers do in apply_venue_event); the function checks the row has that quantity."""
    if event.quantity > VENUE_MAX_QUANTITY:
        return OrderStatus.REJECTED, {
            **cause, "reason": f"quantity above venue maximum {VENUE_MAX_QUANTITY}"}
    return OrderStatus.FILLED, {**cause, "fill_quantity": decimal_text(event.quantity)}


async def apply_created_events(
    conn: asyncpg.Connection, events: Sequence[CreatedEvent], *, consumer: str
) -> list[str]:
    """Each event's outcome, in order: what apply_venue_event would have returned, or
    UNKNOWN (no such order), MISMATCH (the row disagrees with the message: apply it with
    apply_venue_event) or HELD (behind one of those in its group). Runs in the caller's
    transaction; one round trip for the whole receive."""
    if not events:
        return []
    now = audit.utc_now()
    submitted, finals, statuses = [], [], []
    for event in events:
        cause = {"cause_event_id": str(event.event_id)}
        submitted.append(_audit_step(
            event, consumer, now, OrderStatus.PENDING, OrderStatus.SUBMITTED, cause))
        target, payload = _venue_verdict(event, cause)
        finals.append(_audit_step(event, consumer, now, OrderStatus.SUBMITTED, target, payload))
        statuses.append(target.value)
    rows = await conn.fetch(
        APPLY_CREATED_EVENTS, consumer, now,
        [e.event_id for e in events], [e.order_id for e in events],
        [e.group for e in events], [e.quantity for e in events],
        [s.event_id for s in submitted], [s.payload for s in submitted],
        [s.leaf_hash for s in submitted], statuses,
        [f.event_id for f in finals], [f.payload for f in finals], [f.leaf_hash for f in finals],
    )
    outcomes = {row["r_index"]: row["r_outcome"] for row in rows}
    return [outcomes[index] for index in range(1, len(events) + 1)]

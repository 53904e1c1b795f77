"""The order context's SQL, plain: no ORM, one statement text per query so asyncpg's
per-connection prepared-statement cache serves every call after the first.

A placement is one round trip: everything that needs no database (ids, the timestamp, the
response body, the outbox event, the audit event's leaf hash) is computed here, then the
`place_order` function (migration 0005) takes the idempotency lock, answers from a recorded
key or inserts the four rows, in the implicit transaction of one autocommit statement.
Several placements can share one statement (`place_orders`, used by
service.orders.batching under load): the same function once per placement, in order.
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
# place_order's parameter types in its signature's order (migration 0005): the batch
# statement passes each parameter as an array and calls the function once per element.
PLACE_ORDER_TYPES = (
    "text", "text", "text", "text", "text", "text", "uuid", "text", "text", "text", "text",
    "text", "numeric", "numeric", "text", "text", "timestamptz", "timestamptz", "bytea",
    "uuid", "jsonb", "uuid", "jsonb", "bytea",
)


def _place_orders_statement() -> str:
    """One statement placing N orders: unnest the parameter arrays and call place_order
    LATERALly, once per element in array order, all in the statement's one transaction.
    The function is VOLATILE, so each query in every call still takes a fresh snapshot."""
    arrays = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(PLACE_ORDER_TYPES, 1))
    columns = [f"a{i}" for i in range(1, len(PLACE_ORDER_TYPES) + 1)]
    calls = ", ".join("a." + column for column in columns)
    # Built from this module's constants only.
    return (
        "SELECT a.i, p.r_outcome, p.r_response_status, p.r_response_body, p.r_order_id,"  # noqa: S608
        f" p.r_request_id FROM unnest({arrays}) WITH ORDINALITY AS a({', '.join(columns)}, i),"
        f" LATERAL place_order({calls}) p"
    )


PLACE_ORDERS = _place_orders_statement()
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


@dataclass(frozen=True)
class PreparedPlacement:
    """A placement with everything computed that needs no database: sent as it is, again
    when retried (a retried in-doubt commit then finds its own request id)."""

    request_id: str
    arguments: tuple[object, ...]  # place_order's, in PLACE_ORDER_TYPES order
    body: bytes  # the 201 answer
    order_id: uuid.UUID

    @property
    def lock_key(self) -> str:
        return str(self.arguments[2])

    @property
    def lock_order(self) -> tuple[str, str]:
        """(account, client_order_id): the order in which a batch takes row locks."""
        return str(self.arguments[7]), str(self.arguments[8] or "")


def prepare(placement: Placement) -> PreparedPlacement:
    arguments, body, order_id = placement_arguments(placement)
    return PreparedPlacement(placement.request_id, arguments, body, order_id)


async def place_order(conn: asyncpg.Connection, placement: Placement) -> PlacementResult:
    """One statement, one round trip; raises the domain's refusals."""
    return await place_prepared(conn, prepare(placement))


async def place_prepared(conn: asyncpg.Connection, prepared: PreparedPlacement) -> PlacementResult:
    return _answer(await conn.fetchrow(PLACE_ORDER, *prepared.arguments), prepared)


Refusal = KeyInFlight | KeyReusedWithOtherPayload | DuplicateClientOrderId


async def place_orders(
    conn: asyncpg.Connection, batch: Sequence[PreparedPlacement]
) -> list[PlacementResult | Refusal]:
    """Several placements in one statement, so one round trip and one commit: each one's
    result (in `batch`'s order), or the refusal it would have raised alone. An error the
    database raises for any of them (a constraint the input broke) fails the whole
    statement, nothing kept.

    They are placed in (account, client_order_id) order: a placement whose client_order_id
    another uncommitted transaction has just inserted waits for it, so two statements
    taking those index entries in opposite orders would deadlock; in one order, the
    statement that waits holds only entries below the one it waits for."""
    ordered = sorted(range(len(batch)), key=lambda index: batch[index].lock_order)
    columns = [list(column) for column in zip(*(batch[i].arguments for i in ordered), strict=True)]
    answers: dict[int, PlacementResult | Refusal] = {}
    for row in await conn.fetch(PLACE_ORDERS, *columns):
        index = ordered[row["i"] - 1]
        try:
            answers[index] = _answer(row, batch[index])
        except (KeyInFlight, KeyReusedWithOtherPayload, DuplicateClientOrderId) as refusal:
            answers[index] = refusal
    if len(answers) != len(batch):
        raise RuntimeError(f"place_orders answered {len(answers)} of {len(batch)} placements")
    return [answers[index] for index in range(len(batch))]


def _answer(row: asyncpg.Record, prepared: PreparedPlacement) -> PlacementResult:
    """place_order's answer row as a result; its refusals raised."""
    outcome = row["r_outcome"]
    if outcome == "created":
        return PlacementResult(
            status_code=201, body=prepared.body, order_id=prepared.order_id, replayed=False
        )
    if outcome == "replay":
        return PlacementResult(
            status_code=row["r_response_status"],
            body=bytes(row["r_response_body"]),
            order_id=row["r_order_id"],
            # The same request id means our own earlier attempt committed (an in-doubt
            # commit retried internally): that is the first response, not a replay.
            replayed=row["r_request_id"] != prepared.request_id,
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

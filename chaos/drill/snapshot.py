"""The checker's one read-only view of the database: every query it needs, nothing else.

`load_snapshot` runs all the SQL in one read-only, repeatable-read transaction on a
connection whose sessions default to read-only, so the checker sees one consistent
snapshot and cannot change anything. The result is plain data (`Snapshot`); the anomaly
functions in `chaos.drill.checker` are pure functions over it and the client's history.

Scope: the orders of the checked accounts (a drill uses accounts of its own, so earlier
runs against the same database do not leak into its verdict), plus any acknowledged order
id found outside them (looked up globally before it is called lost).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class OrderRow:
    id: str
    account_id: str
    principal: str
    idempotency_key: str
    client_order_id: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class AuditRow:
    order_id: str
    seq: int
    from_status: str | None
    to_status: str
    cause_event_id: str | None


@dataclass(frozen=True)
class OutboxRow:
    event_id: str
    order_id: str
    event_type: str
    published: bool
    processed: bool  # a processed_events row exists for it


@dataclass
class Snapshot:
    """The rows of the checked accounts, read in one transaction."""

    accounts: list[str]
    orders: list[OrderRow] = field(default_factory=list)  # in scope
    outside: list[OrderRow] = field(default_factory=list)  # acked ids found outside scope
    audit: list[AuditRow] = field(default_factory=list)  # of the orders in scope, by seq
    outbox: list[OutboxRow] = field(default_factory=list)  # of the accounts in scope


ORDER_COLUMNS = "id, account_id, principal, idempotency_key, client_order_id, status, created_at"


async def connect_read_only(database_url: str) -> asyncpg.Connection:
    """A connection whose transactions default to read-only."""
    return await asyncpg.connect(
        database_url,
        timeout=5.0,
        command_timeout=60,
        server_settings={
            "default_transaction_read_only": "on",
            "application_name": "drill-checker",
        },
    )


def _order(r: asyncpg.Record) -> OrderRow:
    return OrderRow(str(r["id"]), r["account_id"], r["principal"], r["idempotency_key"],
                    r["client_order_id"], r["status"], r["created_at"])


def _uuids(texts: Iterable[str]) -> list[uuid.UUID]:
    out = []
    for text in texts:
        try:
            out.append(uuid.UUID(text))
        except ValueError:
            continue  # a malformed id cannot be in the table: it stays lost
    return out


async def load_snapshot(
    conn: asyncpg.Connection, accounts: Sequence[str], acked_ids: Iterable[str]
) -> Snapshot:
    """Read everything the checker needs in one read-only repeatable-read transaction."""
    snap = Snapshot(accounts=sorted(set(accounts)))
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE account_id = ANY($1::text[])",  # noqa: S608
            snap.accounts,
        )
        snap.orders = [_order(r) for r in rows]
        in_scope = {o.id for o in snap.orders}
        missing = _uuids(i for i in set(acked_ids) if i not in in_scope)
        if missing:
            found = await conn.fetch(
                f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = ANY($1::uuid[])",  # noqa: S608
                missing,
            )
            snap.outside = [_order(r) for r in found]
        audit = await conn.fetch(
            """
            SELECT a.order_id, a.seq, a.from_status, a.to_status,
                   a.payload->>'cause_event_id' AS cause_event_id
            FROM audit_events a JOIN orders o ON o.id = a.order_id
            WHERE o.account_id = ANY($1::text[])
            ORDER BY a.seq
            """,
            snap.accounts,
        )
        snap.audit = [AuditRow(str(r["order_id"]), int(r["seq"]), r["from_status"],
                               r["to_status"], r["cause_event_id"]) for r in audit]
        outbox = await conn.fetch(
            """
            SELECT x.event_id, x.order_id, x.event_type, x.published_at IS NOT NULL AS published,
                   EXISTS (SELECT 1 FROM processed_events p
                           WHERE p.event_id = x.event_id) AS processed
            FROM outbox x
            WHERE x.account_id = ANY($1::text[])
            ORDER BY x.id
            """,
            snap.accounts,
        )
        snap.outbox = [OutboxRow(str(r["event_id"]), str(r["order_id"]), r["event_type"],
                                 bool(r["published"]), bool(r["processed"])) for r in outbox]
    return snap

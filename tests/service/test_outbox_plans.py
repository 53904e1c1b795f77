"""The relay's per-row outbox statements keep a plan that probes the rows it names, whatever
the statistics say.

Found by `make bench` (2026-12-04): statistics taken while the outbox had no backlog (the
normal state, and what autovacuum's ANALYZE usually sees) made PostgreSQL's generic plan
for "mark these ids published" a full scan of the partial index of unpublished rows, with
the ids as a filter. Under a backlog every call then read the whole backlog: 4,100 buffers
per call of 50 rows instead of ~800, and a relay that slows down exactly when it has to
catch up. The check asks PostgreSQL's own planner, in the state that caused it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from service.messaging import relay
from tests.service.conftest import Database

BACKLOG = 3_000


async def _stale_statistics_then_a_backlog(conn: asyncpg.Connection) -> list[int]:
    """Statistics from an outbox with every row published, then a backlog of unpublished
    rows the statistics do not know about. Returns the backlog's first ids."""
    now = datetime.now(UTC)
    payload = json.dumps({"note": "x" * 400})

    async def add(count: int, published: bool) -> None:
        orders = [uuid.uuid4() for _ in range(count)]
        await conn.executemany(
            "INSERT INTO orders (id, account_id, principal, instrument, side, order_type,"
            " quantity, currency, time_in_force, status, idempotency_key, created_at,"
            " updated_at) VALUES ($1, $2, 'p', 'US0378331005', 'buy', 'market', 1, 'USD',"
            " 'day', 'PENDING', $3, $4, $4)",
            [(order, f"acct-{i % 16}", str(order), now) for i, order in enumerate(orders)])
        await conn.executemany(
            "INSERT INTO outbox (event_id, order_id, account_id, event_type, payload,"
            " created_at, published_at) VALUES ($1, $2, $3, 'order.created', $4::jsonb, $5, $6)",
            [(uuid.uuid4(), order, f"acct-{i % 16}", payload, now, now if published else None)
             for i, order in enumerate(orders)])

    await add(BACKLOG, published=True)
    await conn.execute("ANALYZE outbox")
    await add(BACKLOG, published=False)
    rows = await conn.fetch(
        "SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 50")
    return [row["id"] for row in rows]


PLAN_CACHE_MODES = ("force_custom_plan", "force_generic_plan")


async def _plan(conn: asyncpg.Connection, mode: str, sql: str, types: str, *args: str) -> str:
    """The plan of `sql` as a prepared statement (asyncpg prepares every statement), planned
    for its arguments (custom) or once for any (generic: what a pooled connection settles
    on after five executions when it costs no more)."""
    await conn.execute(f"SET plan_cache_mode = {mode}")
    await conn.execute(f"PREPARE probe({types}) AS {sql}")
    try:
        row = await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE probe({', '.join(args)})")
    finally:
        await conn.execute("DEALLOCATE probe")
    return json.dumps(json.loads(row))


def _scans(plan: str) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []

    def walk(node: dict[str, Any]) -> None:
        if "Index Name" in node or str(node.get("Node Type", "")).endswith("Scan"):
            found.append((str(node.get("Node Type")), str(node.get("Index Name", "")),
                          str(node.get("Index Cond", ""))))
        for child in node.get("Plans", []):
            walk(child)

    walk(json.loads(plan)[0]["Plan"])
    return found


def _assert_probes_the_primary_key(plan: str) -> None:
    """Only the primary key is read, through the ids (an index or a bitmap scan): no
    partial index of unpublished rows, no scan with the ids as a mere filter."""
    scans = _scans(plan)
    assert {index for _, index, _ in scans if index} == {"outbox_pkey"}, plan
    assert all(node in ("Index Scan", "Bitmap Index Scan", "Bitmap Heap Scan")
               for node, _, _ in scans), plan
    assert any("= ANY" in condition for _, _, condition in scans), plan


def _literal(ids: list[int]) -> str:
    return "'{" + ",".join(str(i) for i in ids) + "}'"


# Each statement of the relay that names rows by id: its SQL, its parameter types, and its
# arguments after the ids.
BY_ID = {
    "mark_published": (relay.MARK_PUBLISHED_SQL, "bigint[]", ()),
    "release_claims": (relay.RELEASE_CLAIMS_SQL, "bigint[], text", ("'relay-1'",)),
}


@pytest.mark.parametrize("statement", sorted(BY_ID))
async def test_the_statement_probes_its_ids_whatever_the_statistics(
    database: Database, statement: str
) -> None:
    sql, types, more = BY_ID[statement]
    conn = await database.connect()
    try:
        ids = await _stale_statistics_then_a_backlog(conn)
        plans = [await _plan(conn, mode, sql, types, _literal(ids), *more)
                 for mode in PLAN_CACHE_MODES]
    finally:
        await conn.close()
    for plan in plans:
        _assert_probes_the_primary_key(plan)


async def test_the_rewritten_statements_keep_their_meaning(database: Database) -> None:
    """Publishing again keeps the first publish time; releasing frees only this relay's
    claims (a published row has none: publishing clears the claim, and only unpublished
    rows are claimed)."""
    conn = await database.connect()
    try:
        await _stale_statistics_then_a_backlog(conn)
        mine = await relay.claim_batch(conn, "relay-1", 3, 60.0)
        theirs = await relay.claim_batch(conn, "relay-2", 3, 60.0)
        first, second = mine[0].id, mine[1].id
        await relay.mark_published(conn, [first])
        published_at = await conn.fetchval("SELECT published_at FROM outbox WHERE id = $1", first)
        await relay.mark_published(conn, [first])
        assert await conn.fetchval(
            "SELECT published_at FROM outbox WHERE id = $1", first) == published_at

        await relay.release_claims(conn, "relay-1", [row.id for row in mine + theirs])
        claims = {row["id"]: row["claimed_by"] for row in await conn.fetch(
            "SELECT id, claimed_by FROM outbox WHERE id = ANY($1::bigint[])",
            [row.id for row in mine + theirs])}
        assert claims[second] is None and claims[first] is None
        assert {claims[row.id] for row in theirs} == {"relay-2"}
    finally:
        await conn.close()

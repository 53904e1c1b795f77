"""The hash chain's rows become the Merkle log's first leaves: verified once, nothing lost."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from localenv.postgres import OWNER_ROLE, PostgresServer
from service.audit import merkle
from service.audit.integrator import IntegrationHalted, integrate_batch, publish_pending
from service.audit.log import AuditEvent, append_event, chain_encoding, utc_now
from service.migrate import MIGRATIONS_DIR, apply_migrations
from tests.service.audit_support import make_audit_config, run_cli
from tests.service.conftest import Database

CHAIN_EVENTS = 7


async def _chain_era_database(pg: PostgresServer, tmp_path: Path) -> Database:
    """A database at the last hash-chain migration, holding a chain written the old way."""
    name = f"orders_chain_{uuid.uuid4().hex[:10]}"
    pg.psql(f"CREATE DATABASE {name} OWNER {OWNER_ROLE}", database="postgres")
    database = Database(pg, name)
    old = tmp_path / "chain-era-migrations"
    old.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql"))[:3]:
        shutil.copy(path, old / path.name)
    conn = await database.connect(OWNER_ROLE)
    try:
        await apply_migrations(conn, old)
        order_id = uuid.uuid4()
        start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
        await conn.execute(
            "INSERT INTO orders (id, account_id, principal, instrument, side, order_type,"
            " quantity, currency, time_in_force, status, idempotency_key, created_at, updated_at)"
            " VALUES ($1, 'ACC-1', 'alice', 'US0378331005', 'buy', 'market', 1, 'USD', 'DAY',"
            " 'FILLED', 'key-00000001', $2, $2)", order_id, start)
        prev = "0" * 64
        for seq in range(1, CHAIN_EVENTS + 1):
            event = AuditEvent(
                seq=seq, event_id=uuid.uuid4(), order_id=order_id, event_type="order.noted",
                from_status="PENDING", to_status="PENDING", actor="alice",
                payload={"n": seq, "text": "caf\u00e9"}, occurred_at=start + timedelta(seconds=seq),
                prev_hash=prev, hash="",
            )
            digest = hashlib.sha256(chain_encoding(event)).hexdigest()
            await conn.execute(
                "INSERT INTO audit_events (seq, event_id, order_id, event_type, from_status,"
                " to_status, actor, payload, occurred_at, prev_hash, hash)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)",
                seq, event.event_id, order_id, event.event_type, event.from_status,
                event.to_status, event.actor, json.dumps(event.payload), event.occurred_at,
                prev, digest)
            prev = digest
        await conn.execute("UPDATE audit_chain_head SET last_seq = $1, last_hash = $2",
                           CHAIN_EVENTS, prev)
        assert (await apply_migrations(conn))[0] == "0004_merkle_audit_log"
    finally:
        await conn.close()
    return database


async def test_chain_rows_become_the_first_leaves(pg: PostgresServer, tmp_path: Path) -> None:
    database = await _chain_era_database(pg, tmp_path)
    config = make_audit_config(tmp_path / "audit")
    rows = await database.fetch("SELECT seq, hash FROM audit_events ORDER BY seq")
    conn = await database.connect("orders_app")
    try:
        # A new event after the migration: appended without the chain head.
        order_id = await conn.fetchval("SELECT id FROM orders")
        async with conn.transaction():
            await append_event(conn, order_id=order_id, event_type="order.noted",
                               from_status="FILLED", to_status="FILLED", actor="bob",
                               payload={}, occurred_at=utc_now())
        await integrate_batch(conn)
        await publish_pending(conn, config)
        leaves = await conn.fetch(
            "SELECT l.leaf_index, l.seq, l.leaf_hash FROM audit_leaves l ORDER BY l.leaf_index")
        verified_at = await conn.fetchval(
            "SELECT legacy_chain_verified_at FROM audit_integrator_state")
    finally:
        await conn.close()
    assert [r["seq"] for r in leaves] == [*range(1, CHAIN_EVENTS + 1), CHAIN_EVENTS + 1]
    assert verified_at is not None
    # A chain leaf is the RFC 9162 leaf hash of exactly the bytes its chain hash covered.
    for row, leaf in zip(rows, leaves, strict=False):
        event_rows = await database.fetch(
            "SELECT seq, event_id, order_id, event_type, from_status, to_status, actor,"
            " payload::text AS payload, occurred_at, prev_hash, hash FROM audit_events"
            " WHERE seq = $1", row["seq"])
        e = event_rows[0]
        encoding = chain_encoding(AuditEvent(
            seq=e["seq"], event_id=e["event_id"], order_id=e["order_id"],
            event_type=e["event_type"], from_status=e["from_status"], to_status=e["to_status"],
            actor=e["actor"], payload=json.loads(e["payload"]), occurred_at=e["occurred_at"],
            prev_hash=e["prev_hash"], hash=e["hash"]))
        assert hashlib.sha256(encoding).hexdigest() == row["hash"]
        assert bytes(leaf["leaf_hash"]) == merkle.leaf_hash(encoding)
    result = run_cli(database, config, "audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CHAIN_EVENTS + 1} events verified" in result.stdout


async def test_a_broken_chain_is_not_adopted(pg: PostgresServer, tmp_path: Path) -> None:
    database = await _chain_era_database(pg, tmp_path)
    su = await database.connect("postgres")
    try:
        await su.execute("SET session_replication_role = replica")
        await su.execute("DELETE FROM audit_events WHERE seq = 4")
    finally:
        await su.close()
    conn = await database.connect("orders_app")
    try:
        with pytest.raises(IntegrationHalted, match="broken at seq 4"):
            await integrate_batch(conn)
        assert await conn.fetchval("SELECT count(*) FROM audit_leaves") == 0
    finally:
        await conn.close()


async def test_migration_keeps_every_row(pg: PostgresServer, tmp_path: Path) -> None:
    database = await _chain_era_database(pg, tmp_path)
    assert await database.fetchval("SELECT count(*) FROM audit_events") == CHAIN_EVENTS
    conn: asyncpg.Connection = await database.connect("orders_app")
    try:
        next_seq = await conn.fetchval("SELECT nextval('audit_events_seq')")
    finally:
        await conn.close()
    assert next_seq == CHAIN_EVENTS + 1

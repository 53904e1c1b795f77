"""The checker's snapshot loader and audit verification against a real PostgreSQL with the
service's schema (the anomaly logic itself is tested without a database: test_checker.py)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from chaos.drill.checker import CheckResult
from chaos.drill.records import Ack, History, OrderIntent, Outcome
from chaos.drill.verify import audit_cli_verifier, run_check

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # localenv/ is a repo directory, not an installed package
    sys.path.insert(0, str(REPO))

from localenv.postgres import PostgresServer  # noqa: E402

MIGRATIONS = sorted((REPO / "service" / "migrations").glob("*.sql"))
PRINCIPAL = "drill-test-0"
ACCOUNT = "DRILL-test-0"


@pytest.fixture
async def db(pg: PostgresServer) -> AsyncIterator[dict[str, str]]:
    """A fresh database with the service's migrations applied as the owner role."""
    name = f"chk_{uuid.uuid4().hex[:12]}"
    pg.psql(f"CREATE DATABASE {name} OWNER orders_owner", database="postgres")
    base = f"127.0.0.1:{pg.port}/{name}"
    urls = {
        "owner": f"postgresql://orders_owner@{base}",
        "app": f"postgresql://orders_app@{base}",
        "superuser": f"postgresql://postgres@{base}",
    }
    conn = await asyncpg.connect(urls["owner"])
    try:
        for path in MIGRATIONS:
            await conn.execute(path.read_text())
    finally:
        await conn.close()
    yield urls
    pg.psql(f"DROP DATABASE {name} WITH (FORCE)", database="postgres")


class Fixture:
    """Writes orders the way the service does (order, outbox, idempotency, audit), or not."""

    def __init__(self, conn: asyncpg.Connection, keys: Path) -> None:
        self.conn = conn
        self.keys = keys  # the audit log's signing key and checkpoint store
        self.history = History()
        self.seq = 0

    async def audit(
        self, order_id: uuid.UUID, event_type: str, from_status: str | None, to_status: str,
        payload: dict[str, object],
    ) -> None:
        from service.domain import audit

        async with self.conn.transaction():
            await audit.append_event(
                self.conn, order_id=order_id, event_type=event_type, from_status=from_status,
                to_status=to_status, actor=PRINCIPAL, payload=payload,
                occurred_at=datetime.now(UTC),
            )

    async def order(
        self,
        *,
        key: str | None = None,
        client_order_id: str | None = None,
        account: str = ACCOUNT,
        acked: bool = True,
        in_history: bool = True,
        creation_audit: bool = True,
        outbox: bool = True,
        processed: bool = True,
        status: str | None = None,
    ) -> uuid.UUID:
        self.seq += 1
        key = key or f"drill-{uuid.uuid4().hex}"
        client_order_id = client_order_id or f"c-test-{self.seq}"
        order_id = uuid.uuid4()
        now = datetime.now(UTC)
        final = status or ("FILLED" if processed else "PENDING")
        await self.conn.execute(
            """
            INSERT INTO orders (id, account_id, principal, client_order_id, instrument, side,
                order_type, quantity, currency, time_in_force, status, idempotency_key,
                created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'US0378331005', 'buy', 'market', 5, 'EUR', 'DAY', $5, $6,
                    $7, $7)
            """,
            order_id, account, PRINCIPAL, client_order_id, final, key, now,
        )
        event_id = uuid.uuid4()
        if outbox:
            await self.conn.execute(
                """
                INSERT INTO outbox (event_id, order_id, account_id, event_type, payload,
                                    created_at, published_at)
                VALUES ($1, $2, $3, 'order.created', $4::jsonb, $5, $5)
                """,
                event_id, order_id, account, json.dumps({"event_id": str(event_id)}), now,
            )
        if creation_audit:
            await self.audit(order_id, "order.created", None, "PENDING",
                             {"idempotency_key": key, "outbox_event_id": str(event_id)})
        if processed and outbox:
            await self.conn.execute(
                "INSERT INTO processed_events (event_id, order_id, consumer, processed_at)"
                " VALUES ($1, $2, 'worker-test', now())",
                event_id, order_id,
            )
            cause = {"cause_event_id": str(event_id)}
            await self.audit(order_id, "order.submitted", "PENDING", "SUBMITTED", cause)
            if final == "FILLED":
                await self.audit(order_id, "order.filled", "SUBMITTED", "FILLED", cause)
        if in_history:
            t = time.time()
            self.history.orders.append(OrderIntent(key, client_order_id, account, PRINCIPAL, t))
            if acked:
                self.history.acks.append(
                    Ack(key, str(order_id), client_order_id, account, PRINCIPAL, t + 0.01)
                )
            else:
                self.history.outcomes.append(Outcome("gave_up", key, t + 1, "test"))
        return order_id


@pytest.fixture
async def fx(db: dict[str, str]) -> AsyncIterator[Fixture]:
    conn = await asyncpg.connect(db["owner"])
    keys = Path(tempfile.mkdtemp(prefix="checker-audit-"))
    try:
        yield Fixture(conn, keys)
    finally:
        await conn.close()
        shutil.rmtree(keys, ignore_errors=True)


def audit_env(db: dict[str, str], keys: Path) -> dict[str, str]:
    """The environment of `audit verify`: the log's public key and its checkpoint store."""
    from service.audit.checkpoints import generate_key_files

    private, public = keys / "key.pem", keys / "key.pub.pem"
    if not private.exists():
        generate_key_files(private, public)
    return {"ORDERS_DATABASE_URL": db["app"], "ORDERS_JWT_SECRET": "x" * 32,
            "PYTHONPATH": str(REPO), "ORDERS_AUDIT_SIGNING_KEY_FILE": str(private),
            "ORDERS_AUDIT_PUBLIC_KEY_FILE": str(public),
            "ORDERS_CHECKPOINT_DIR": str(keys / "checkpoints")}


async def integrate_and_publish(db: dict[str, str], env: dict[str, str]) -> None:
    """What the integrator does in a running system: leaves, then a signed checkpoint."""
    from service.audit.checkpoints import AuditConfig
    from service.audit.integrator import integrate_batch, publish_pending

    conn = await asyncpg.connect(db["app"])
    try:
        await integrate_batch(conn)
        await publish_pending(conn, AuditConfig.from_env(env))
    finally:
        await conn.close()


async def check(
    db: dict[str, str], fx: Fixture, audit: bool = True, integrate: bool = True
) -> CheckResult:
    # The app role is enough: the checker only reads.
    verifier = None
    if audit:
        env = audit_env(db, fx.keys)
        if integrate:
            await integrate_and_publish(db, env)
        verifier = audit_cli_verifier(env)
    return await run_check(db["app"], fx.history, accounts=[ACCOUNT], audit_verifier=verifier)


async def test_snapshot_maps_rows_onto_the_anomalies(db: dict[str, str], fx: Fixture) -> None:
    """One pass over real rows: clean orders, then one of each planted anomaly."""
    for _ in range(3):
        await fx.order()
    result = await check(db, fx)
    assert result.result == "valid", result.to_json()
    assert (result.acknowledged, result.orders_in_db, result.audit_chain_ok) == (3, 3, True)

    ghost = str(uuid.uuid4())
    fx.history.acks.append(Ack("drill-lost-key", ghost, "c-lost", ACCOUNT, PRINCIPAL, 1.1))
    no_audit = await fx.order(creation_audit=False)
    stuck = await fx.order(processed=False)
    await fx.conn.execute("UPDATE outbox SET published_at = NULL WHERE order_id = $1", stuck)
    doubled = await fx.order()
    cause = await fx.conn.fetchval("SELECT event_id FROM outbox WHERE order_id = $1", doubled)
    await fx.audit(doubled, "order.submitted", "PENDING", "SUBMITTED",
                   {"cause_event_id": str(cause)})
    result = await check(db, fx, audit=False)
    assert result.samples["lost"] == [ghost]
    assert result.orphaned == 1 and str(no_audit) in result.samples["orphaned"][0]
    assert (result.undelivered, result.unpublished) == (1, 1)
    assert result.double_processed == 1 and str(doubled) in result.samples["double_processed"][0]
    assert result.result == "invalid"


async def test_audit_verify_detects_tampering(db: dict[str, str], fx: Fixture) -> None:
    await fx.order()
    await fx.order()
    # Integrated and published first: history rewritten afterwards must be caught.
    await integrate_and_publish(db, audit_env(db, fx.keys))
    su = await asyncpg.connect(db["superuser"])
    try:
        await su.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
        await su.execute(
            "UPDATE audit_events SET payload = '{\"tampered\": true}' WHERE seq = 2"
        )
    finally:
        await su.close()
    result = await check(db, fx, integrate=False)
    assert result.audit_chain_ok is False, result.audit_detail
    assert result.violations == {"audit_chain_broken": 1}


async def test_checker_session_is_read_only(db: dict[str, str]) -> None:
    from chaos.drill.snapshot import connect_read_only

    conn = await connect_read_only(db["owner"])
    try:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("DELETE FROM processed_events")
    finally:
        await conn.close()

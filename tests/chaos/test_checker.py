"""The drill checker against a real PostgreSQL with the service's schema and planted anomalies."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from chaos.drill.checker import AuditResult, CheckResult, check, cli_verifier, service_verifier
from chaos.drill.records import Ack, History, OrderIntent, Outcome

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # localenv/ is a repo directory, not an installed package
    sys.path.insert(0, str(REPO))

from localenv.postgres import PostgresServer  # noqa: E402
from localenv.procs import free_port  # noqa: E402

MIGRATIONS = sorted((REPO / "service" / "migrations").glob("*.sql"))
PRINCIPAL = "drill-test-0"
ACCOUNT = "DRILL-test-0"


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    base = Path(tempfile.mkdtemp(prefix="drill-checker-pg-", dir="/tmp"))
    base.chmod(0o755)  # the postgres OS user must traverse it
    server = PostgresServer(base / "pg", free_port(), durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


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

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
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
    try:
        yield Fixture(conn)
    finally:
        await conn.close()


async def run_check(db: dict[str, str], fx: Fixture, **kwargs: object) -> CheckResult:
    # The app role is enough: the checker only reads. The in-process (database-only) audit
    # verifier, unless a test picks one: the CLI default needs a checkpoint store.
    kwargs.setdefault("audit_verifier", service_verifier)
    return await check(db["app"], fx.history, accounts=[ACCOUNT], **kwargs)  # type: ignore[arg-type]


async def test_clean_history_passes(db: dict[str, str], fx: Fixture) -> None:
    for _ in range(5):
        await fx.order()
    result = await run_check(db, fx)
    assert result.ok, result.to_json()
    assert result.acknowledged == 5
    assert result.orders_in_db == 5
    assert result.audit_chain_ok is True
    assert (result.lost, result.duplicated, result.orphaned, result.undelivered,
            result.double_processed) == (0, 0, 0, 0, 0)


async def test_catches_a_lost_order(db: dict[str, str], fx: Fixture) -> None:
    await fx.order()
    ghost = str(uuid.uuid4())
    fx.history.orders.append(OrderIntent("drill-lost-key", "c-lost", ACCOUNT, PRINCIPAL, 1.0))
    fx.history.acks.append(Ack("drill-lost-key", ghost, "c-lost", ACCOUNT, PRINCIPAL, 1.1))
    result = await run_check(db, fx)
    assert result.lost == 1
    assert result.samples["lost"] == [ghost]
    assert not result.ok and result.violations == {"lost": 1}


async def test_catches_a_duplicate_per_idempotency_key(db: dict[str, str], fx: Fixture) -> None:
    await fx.order(key="drill-dup-key-1")
    second = await fx.order(key="drill-dup-key-1", acked=False, in_history=False)
    result = await run_check(db, fx)
    assert result.duplicated == 1
    assert result.samples["duplicated"] == [str(second)]
    assert result.violations == {"duplicated": 1}


async def test_catches_a_duplicate_per_client_order_id(db: dict[str, str], fx: Fixture) -> None:
    # The unique index stops this inside one account; across the run's accounts it is the
    # checker that notices one client order id yielding two orders.
    await fx.order(client_order_id="c-shared")
    await fx.order(client_order_id="c-shared", account="DRILL-test-1")
    result = await check(db["app"], fx.history, accounts=[ACCOUNT, "DRILL-test-1"])
    assert result.duplicated == 1
    assert set(result.violations) == {"duplicated"}


async def test_catches_two_order_ids_acknowledged_for_one_key(
    db: dict[str, str], fx: Fixture
) -> None:
    first = await fx.order(key="drill-twice-acked")
    other = await fx.order()
    # The client saw two different orders for one key (the second ack names another order).
    fx.history.acks.append(Ack("drill-twice-acked", str(other), "c-test-1", ACCOUNT, PRINCIPAL, 2))
    result = await run_check(db, fx)
    assert result.duplicated == 1
    assert result.mismatched == 1  # that order belongs to another key
    assert str(first) not in result.samples["duplicated"]


async def test_catches_orphans(db: dict[str, str], fx: Fixture) -> None:
    await fx.order()
    no_audit = await fx.order(creation_audit=False)
    no_outbox = await fx.order(outbox=False, processed=False)
    result = await run_check(db, fx)
    assert result.orphaned == 2
    joined = " ".join(result.samples["orphaned"])
    assert f"{no_audit} (no creation audit event)" in joined
    assert f"{no_outbox} (no order.created outbox row)" in joined
    assert result.violations == {"orphaned": 2}


async def test_catches_undelivered_events(db: dict[str, str], fx: Fixture) -> None:
    await fx.order()
    stuck = await fx.order(processed=False)
    await fx.conn.execute("UPDATE outbox SET published_at = NULL WHERE order_id = $1", stuck)
    result = await run_check(db, fx)
    assert result.undelivered == 1
    assert result.unpublished == 1
    assert result.violations == {"undelivered": 1}
    assert "never published" in result.samples["undelivered"][0]


async def test_catches_a_double_processed_event(db: dict[str, str], fx: Fixture) -> None:
    order_id = await fx.order()
    cause = await fx.conn.fetchval(
        "SELECT event_id FROM outbox WHERE order_id = $1", order_id
    )
    # The worker applied the same event a second time (audit trail shows it twice).
    await fx.audit(order_id, "order.submitted", "PENDING", "SUBMITTED",
                   {"cause_event_id": str(cause)})
    result = await run_check(db, fx)
    assert result.double_processed == 1
    assert str(order_id) in result.samples["double_processed"][0]
    assert "double_processed" in result.violations


async def test_catches_a_transition_without_audit_event(db: dict[str, str], fx: Fixture) -> None:
    order_id = await fx.order(processed=False)
    await fx.conn.execute("UPDATE orders SET status = 'CANCELLED' WHERE id = $1", order_id)
    result = await run_check(db, fx)
    assert result.unaudited == 1
    assert "unaudited" in result.violations


async def test_in_doubt_commit_is_not_lost_and_unknown_order_is_flagged(
    db: dict[str, str], fx: Fixture
) -> None:
    await fx.order()
    await fx.order(acked=False)  # the client gave up, but the order committed
    fx.history.orders.append(OrderIntent("drill-never", "c-never", ACCOUNT, PRINCIPAL, 3.0))
    result = await run_check(db, fx)
    assert result.ok, result.violations
    assert (result.in_doubt_committed, result.never_committed) == (1, 1)

    await fx.order(in_history=False)  # an order the client never sent
    result = await run_check(db, fx)
    assert result.violations == {"unexpected": 1}


async def test_detects_a_tampered_audit_chain(db: dict[str, str], fx: Fixture) -> None:
    await fx.order()
    await fx.order()
    su = await asyncpg.connect(db["superuser"])
    try:
        await su.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
        await su.execute(
            "UPDATE audit_events SET payload = '{\"tampered\": true}' WHERE seq = 2"
        )
    finally:
        await su.close()
    result = await run_check(db, fx)
    assert result.audit_chain_ok is False
    assert "seq 2" in result.audit_detail
    assert result.violations == {"audit_chain_broken": 1}


async def test_verifier_that_cannot_run_is_reported_not_passed(
    db: dict[str, str], fx: Fixture
) -> None:
    await fx.order()

    async def unavailable(_conn: asyncpg.Connection) -> AuditResult:
        return AuditResult(None, "not available")

    result = await run_check(db, fx, audit_verifier=unavailable)
    assert result.audit_chain_ok is None and result.ok
    assert (await run_check(db, fx, audit_verifier=service_verifier)).audit_chain_ok is True


@pytest.mark.skipif(
    not (REPO / "service" / "__main__.py").exists(), reason="service CLI not there yet"
)
async def test_cli_verifier_matches_the_function(
    db: dict[str, str], fx: Fixture, tmp_path: Path
) -> None:
    from service.audit.checkpoints import AuditConfig, generate_key_files
    from service.audit.integrator import integrate_batch, publish_pending

    await fx.order()
    generate_key_files(tmp_path / "key.pem", tmp_path / "key.pub.pem")
    env = {"ORDERS_JWT_SECRET": "x" * 32, "PYTHONPATH": str(REPO),
           "ORDERS_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "key.pem"),
           "ORDERS_AUDIT_PUBLIC_KEY_FILE": str(tmp_path / "key.pub.pem"),
           "ORDERS_CHECKPOINT_DIR": str(tmp_path / "checkpoints")}
    result = await run_check(db, fx, audit_verifier=cli_verifier(db["app"], env))
    assert result.audit_chain_ok is None, result.audit_detail  # nothing published yet
    conn = await asyncpg.connect(db["app"])
    try:
        await integrate_batch(conn)
        await publish_pending(conn, AuditConfig.from_env(env))
    finally:
        await conn.close()
    result = await run_check(db, fx, audit_verifier=cli_verifier(db["app"], env))
    assert result.audit_chain_ok is True, result.audit_detail


async def test_checker_session_is_read_only(db: dict[str, str]) -> None:
    from chaos.drill.checker import connect_read_only

    conn = await connect_read_only(db["owner"])
    try:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("DELETE FROM processed_events")
    finally:
        await conn.close()


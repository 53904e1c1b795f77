"""Placements sharing a statement (service.orders.batching) keep every rule a placement
alone keeps, on a real PostgreSQL: one commit per placement's rows, each caller its own
answer, a refused placement failing alone."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import asyncpg
import httpx
import pytest

from service.db import DatabaseUnavailable
from service.domain import orders as domain
from service.observability import Metrics
from service.orders import repository
from service.orders.batching import PlacementBatcher
from tests.service.conftest import Database, LiveServer, auth_headers, new_key, order_body
from tests.service.test_placement_round_trip import a_placement


async def row_counts(database: Database) -> dict[str, int]:
    tables = ("orders", "outbox", "idempotency_keys", "audit_events")
    return {t: await database.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


def statements(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("orders_placement_batch_size_count") or 0.0


async def place_all(batcher: PlacementBatcher, placements: list[repository.Placement]) -> list[Any]:
    return await asyncio.gather(
        *(batcher.place(repository.prepare(p)) for p in placements), return_exceptions=True
    )


@pytest.fixture
async def pool(database: Database) -> Any:
    pool = await asyncpg.create_pool(database.app_url, min_size=0, max_size=8)
    yield pool
    await pool.close()


def batcher_on(pool: asyncpg.Pool, metrics: Metrics, in_flight: int = 1) -> PlacementBatcher:
    return PlacementBatcher(lambda: pool, metrics, max_batch=16, in_flight=in_flight)


async def test_concurrent_placements_share_statements_and_each_commits_once(
    database: Database, pool: asyncpg.Pool
) -> None:
    metrics = Metrics()
    placements = [
        a_placement(client_order_id=f"c-{n}" if n % 2 else None,
                    **({"order_type": "market", "limit_price": None} if n % 3 == 0 else {}))
        for n in range(24)
    ]
    results = await place_all(batcher_on(pool, metrics), placements)

    assert all(isinstance(r, domain.PlacementResult) for r in results), results
    assert {r.status_code for r in results} == {201} and not any(r.replayed for r in results)
    # One slot: the first goes alone, the 23 that queued behind it in two statements.
    assert statements(metrics) == 3
    assert await row_counts(database) == dict.fromkeys(
        ("orders", "outbox", "idempotency_keys", "audit_events"), 24
    )
    rows = await database.fetch("SELECT id, idempotency_key FROM orders")
    assert {(r["id"], r["idempotency_key"]) for r in rows} == {
        (r.order_id, p.idempotency_key) for r, p in zip(results, placements, strict=True)
    }


async def test_every_outcome_in_one_statement(database: Database) -> None:
    conn = await database.connect("orders_app")
    holder = await database.connect("orders_app")
    try:
        replayed, own, reused, taken, expired = (
            a_placement(client_order_id=f"c-{n}") for n in range(5))
        earlier = [await repository.place_order(conn, p)
                   for p in (replayed, own, reused, taken, expired)]
        await database.fetchval(
            "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
            " WHERE idempotency_key = $1 RETURNING 1", expired.idempotency_key)
        busy = repository.prepare(a_placement())  # another session holds its key's lock
        await holder.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", busy.lock_key)
        before = await row_counts(database)
        fresh = a_placement()
        answers = await repository.place_orders(conn, [repository.prepare(p) for p in (
            replace(replayed, request_id="a-retry"),
            own,  # our own earlier attempt, as after an in-doubt commit
            replace(reused, request_hash="b" * 64),
            a_placement(client_order_id="c-3"),
            fresh,
            replace(expired, request_hash="e" * 64,
                    order=replace(expired.order, client_order_id="c-5")),
        )] + [busy])
    finally:
        await conn.close()
        await holder.close()
    first, second, third, fourth, fifth, sixth, seventh = answers
    assert isinstance(sixth, domain.PlacementResult) and not sixth.replayed
    assert sixth.order_id != earlier[4].order_id  # the expired key started over
    assert isinstance(seventh, domain.KeyInFlight)
    assert isinstance(first, domain.PlacementResult) and first.replayed
    assert first.order_id == earlier[0].order_id and first.body == earlier[0].body
    assert isinstance(second, domain.PlacementResult) and not second.replayed
    assert second.order_id == earlier[1].order_id
    assert isinstance(third, domain.KeyReusedWithOtherPayload)
    assert isinstance(fourth, domain.DuplicateClientOrderId)
    assert fourth.order_id == earlier[3].order_id
    assert isinstance(fifth, domain.PlacementResult) and fifth.status_code == 201
    # Two new orders (the fresh key, the expired key's); the expired record was replaced.
    after = await row_counts(database)
    assert after == {t: n + (1 if t == "idempotency_keys" else 2) for t, n in before.items()}


async def test_two_statements_with_the_same_client_order_ids_never_deadlock(
    database: Database,
) -> None:
    """Statement A names client_order_ids a, x, b and statement B names b, a. A third
    transaction holds x uncommitted, so A stops there after taking a (and, in one lock
    order, b); B then waits for A's a. Released, A goes on: taken in the order given, A
    would now wait for B's b while B waits for A's a, a deadlock."""
    holder, first, second = [await database.connect("orders_app") for _ in range(3)]
    deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    before = await database.fetchval(deadlocks)

    def batch(*client_order_ids: str) -> list[repository.PreparedPlacement]:
        return [repository.prepare(a_placement(client_order_id=c)) for c in client_order_ids]

    try:
        held = holder.transaction()
        await held.start()
        await repository.place_order(holder, a_placement(client_order_id="x"))
        statement_a = asyncio.ensure_future(repository.place_orders(first, batch("a", "x", "b")))
        await asyncio.sleep(0.2)
        statement_b = asyncio.ensure_future(repository.place_orders(second, batch("b", "a")))
        await asyncio.sleep(0.2)
        await held.rollback()
        answers_a, answers_b = await asyncio.gather(statement_a, statement_b)
    finally:
        for conn in (holder, first, second):
            await conn.close()
    assert all(isinstance(r, domain.PlacementResult) for r in answers_a), answers_a
    assert all(isinstance(r, domain.DuplicateClientOrderId) for r in answers_b), answers_b
    assert await database.fetchval(deadlocks) == before


async def test_a_placement_that_waited_too_long_is_refused_unsent(
    database: Database, pool: asyncpg.Pool
) -> None:
    """The one slot is held by a statement waiting on another transaction's insert of
    its client_order_id; the placements queued behind it outwait max_wait_s and get
    DatabaseUnavailable (503) without reaching the database."""
    blocker = await database.connect("orders_app")
    batcher = PlacementBatcher(lambda: pool, Metrics(), max_batch=16, in_flight=1,
                               max_wait_s=0.2)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await repository.place_order(blocker, a_placement(client_order_id="c-held"))
        stuck = asyncio.ensure_future(
            batcher.place(repository.prepare(a_placement(client_order_id="c-held"))))
        await asyncio.sleep(0.1)
        queued = [a_placement() for _ in range(2)]
        late = asyncio.gather(*(batcher.place(repository.prepare(p)) for p in queued),
                              return_exceptions=True)
        await asyncio.sleep(0.4)
        await transaction.rollback()
        placed, refused = await stuck, await late
    finally:
        await blocker.close()
    assert placed.status_code == 201
    assert all(isinstance(r, DatabaseUnavailable) for r in refused), refused
    keys = {r["idempotency_key"] for r in await database.fetch("SELECT idempotency_key FROM orders")}
    assert keys.isdisjoint(p.idempotency_key for p in queued)


async def test_a_statement_sent_again_creates_nothing_twice(database: Database) -> None:
    """What with_retries does after a statement's commit was in doubt."""
    conn = await database.connect("orders_app")
    try:
        batch = [repository.prepare(a_placement()) for _ in range(5)]
        first = await repository.place_orders(conn, batch)
        again = await repository.place_orders(conn, batch)
    finally:
        await conn.close()
    assert [a.order_id for a in again] == [f.order_id for f in first]  # type: ignore[union-attr]
    assert [a.body for a in again] == [f.body for f in first]  # type: ignore[union-attr]
    assert not any(a.replayed for a in again)  # type: ignore[union-attr]
    assert (await row_counts(database))["orders"] == 5


async def test_a_key_already_waiting_answers_in_flight(
    database: Database, pool: asyncpg.Pool
) -> None:
    waiting = a_placement()
    results = await place_all(batcher_on(pool, Metrics()), [
        a_placement(), waiting, replace(waiting, request_id="retry"),
    ])
    assert isinstance(results[0], domain.PlacementResult)
    assert isinstance(results[1], domain.PlacementResult)
    assert isinstance(results[2], domain.KeyInFlight)
    assert (await row_counts(database))["idempotency_keys"] == 2


async def test_a_placement_the_database_refuses_fails_alone(
    database: Database, pool: asyncpg.Pool
) -> None:
    metrics = Metrics()
    good = [a_placement() for _ in range(5)]
    bad = a_placement()
    bad = replace(bad, order=replace(bad.order, side="hold"))  # orders' CHECK refuses it
    results = await place_all(batcher_on(pool, metrics), [good[0], *good[1:3], bad, *good[3:]])

    assert isinstance(results[3], asyncpg.CheckViolationError), results[3]
    others = results[:3] + results[4:]
    assert all(isinstance(r, domain.PlacementResult) and r.status_code == 201 for r in others)
    assert statements(metrics) == 2  # the first alone, then the rest together
    rows = await database.fetch("SELECT idempotency_key FROM orders")
    assert {r["idempotency_key"] for r in rows} == {p.idempotency_key for p in good}


async def test_the_batch_statement_passes_place_orders_parameter_types(
    database: Database,
) -> None:
    """PLACE_ORDER_TYPES against the migrated function's signature in pg_proc."""
    declared = await database.fetch(
        "SELECT format_type(t, NULL) AS kind FROM pg_proc,"
        " unnest(proargtypes) WITH ORDINALITY AS u(t, n)"
        " WHERE proname = 'place_order' ORDER BY n"
    )
    ours = [await database.fetchval("SELECT format_type($1::regtype, NULL)", kind)
            for kind in repository.PLACE_ORDER_TYPES]
    assert ours == [row["kind"] for row in declared]


async def test_concurrent_requests_through_the_api_share_statements(
    database: Database, live_server: LiveServer
) -> None:
    """Over real HTTP to `python -m service serve`: 40 requests at once, then their
    replays; every key one order, every replay the first answer."""
    keys = [new_key() for _ in range(40)]
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        async def post(key: str) -> httpx.Response:
            return await http.post("/v1/orders", json=order_body(),
                                   headers=auth_headers("ACC-1", key=key))

        placed = await asyncio.gather(*(post(k) for k in keys))
        replays = await asyncio.gather(*(post(k) for k in keys))
        exposition = (await http.get("/metrics")).text
    assert [r.status_code for r in placed] == [201] * 40
    assert [r.status_code for r in replays] == [201] * 40
    assert all(r.headers["idempotent-replayed"] == "true" for r in replays)
    assert [r.content for r in replays] == [r.content for r in placed]
    assert (await row_counts(database))["orders"] == 40
    sent = next(float(line.split()[-1]) for line in exposition.splitlines()
                if line.startswith("orders_placement_batch_size_count"))
    assert sent < 80, f"{sent} statements for 80 placements: none shared"


async def test_the_janitor_yields_to_a_placement_reusing_an_expired_key(
    database: Database, pool: asyncpg.Pool
) -> None:
    """A placement (in a transaction still open) has deleted an expired record to reuse its
    key; the janitor's purge must give up on that row instead of waiting for it (waiting
    could close a deadlock cycle with a statement of several placements), and purge it
    once released."""
    from service.janitor import IdempotencyKeyJanitor

    holder = await database.connect("orders_app")
    try:
        placements = [a_placement() for _ in range(3)]
        for placement in placements:
            await repository.place_order(holder, placement)
        await database.fetchval(
            "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' RETURNING 1")
        reusing = holder.transaction()
        await reusing.start()
        await repository.place_order(holder, replace(placements[0], request_hash="f" * 64))
        janitor = IdempotencyKeyJanitor(pool, Metrics())
        yielded = await asyncio.wait_for(janitor.run_once(), timeout=10)
        await reusing.rollback()
        purged = await janitor.run_once()
    finally:
        await holder.close()
    assert yielded == 0
    assert purged == 3
    assert (await row_counts(database))["idempotency_keys"] == 0

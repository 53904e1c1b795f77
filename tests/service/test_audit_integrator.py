"""The integrator: commit order versus insert order, concurrent slow transactions, and
failover of the elected integrator under load (SIGKILL): no gap, no duplicate index."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from localenv.procs import ManagedProcess, free_port, http_ok
from service.audit.checkpoints import AuditConfig
from service.audit.integrator import integrate_batch
from service.audit.log import append_event, utc_now
from tests.service.audit_support import (
    ROOT,
    audit_env,
    integrate,
    leaf_seqs,
    make_audit_config,
    placed,
    run_cli,
)
from tests.service.conftest import Database, auth_headers, new_key, order_body


@pytest.fixture
def audit_config(tmp_path: Path) -> AuditConfig:
    return make_audit_config(tmp_path / "audit")


async def an_order(client: AsyncTestClient[Any]) -> uuid.UUID:
    response = await client.post("/v1/orders", json=order_body(),
                                 headers=auth_headers("ACC-1", key=new_key()))
    return uuid.UUID(placed(response))


async def append(conn: asyncpg.Connection, order_id: uuid.UUID, note: str) -> int:
    await append_event(conn, order_id=order_id, event_type="order.noted", from_status="PENDING",
                       to_status="PENDING", actor="test", payload={"note": note},
                       occurred_at=utc_now())
    return int(await conn.fetchval("SELECT currval('audit_events_seq')"))


async def integrate_once(database: Database) -> list[int]:
    conn = await database.connect("orders_app")
    try:
        await integrate_batch(conn)
    finally:
        await conn.close()
    return await leaf_seqs(database)


async def test_a_late_commit_is_integrated_after_earlier_ones_never_skipped(
    client: AsyncTestClient[Any], database: Database
) -> None:
    order_id = await an_order(client)
    assert await integrate_once(database) != []
    base = await leaf_seqs(database)
    slow, fast = await database.connect("orders_app"), await database.connect("orders_app")
    try:
        slow_tx = slow.transaction()
        await slow_tx.start()
        slow_seq = await append(slow, order_id, "slow")  # lower seq, older transaction
        async with fast.transaction():
            fast_seq = await append(fast, order_id, "fast")
        assert fast_seq > slow_seq
        # The fast event committed, but an older writer is still open: nothing may be
        # integrated yet, or the slow event would later land below it or be skipped.
        assert await integrate_once(database) == base
        await slow_tx.commit()
        assert await integrate_once(database) == [*base, slow_seq, fast_seq]

        rolled_back_tx = slow.transaction()
        await rolled_back_tx.start()
        await append(slow, order_id, "never committed")
        async with fast.transaction():
            later_seq = await append(fast, order_id, "later")
        assert await integrate_once(database) == [*base, slow_seq, fast_seq]
        await rolled_back_tx.rollback()
        assert await integrate_once(database) == [*base, slow_seq, fast_seq, later_seq]
    finally:
        await slow.close()
        await fast.close()


async def test_concurrent_slow_transactions_leave_no_gap_and_no_duplicate(
    client: AsyncTestClient[Any], database: Database
) -> None:
    order_id = await an_order(client)
    rng = random.Random(15)
    stop = asyncio.Event()
    prefixes: list[list[int]] = []

    async def writer(number: int) -> None:
        conn = await database.connect("orders_app")
        try:
            for i in range(20):
                tx = conn.transaction()
                await tx.start()
                await append(conn, order_id, f"w{number}-{i}")
                await asyncio.sleep(rng.uniform(0, 0.06))  # slow, and of varied length
                await (tx.rollback() if rng.random() < 0.15 else tx.commit())
        finally:
            await conn.close()

    async def integrator() -> None:
        conn = await database.connect("orders_app")
        try:
            while not stop.is_set():
                await integrate_batch(conn, batch_size=3)
                prefixes.append(await leaf_seqs(database))
                await asyncio.sleep(0.005)
        finally:
            await conn.close()

    running = asyncio.create_task(integrator())
    await asyncio.gather(*(writer(n) for n in range(6)))
    stop.set()
    await running
    final = await integrate_once(database)
    committed = [r["seq"] for r in await database.fetch("SELECT seq FROM audit_events")]
    assert sorted(final) == sorted(committed)  # every committed event, once
    assert len(set(final)) == len(final)
    indices = [r["leaf_index"] for r in await database.fetch(
        "SELECT leaf_index FROM audit_leaves ORDER BY leaf_index")]
    assert indices == list(range(len(final)))  # contiguous
    # Integration only ever appended: every intermediate tree is a prefix of the final one.
    assert len(prefixes) >= 5
    for prefix in prefixes:
        assert final[: len(prefix)] == prefix


def _integrator(database: Database, config: AuditConfig, work: Path, name: str) -> tuple[
        ManagedProcess, int]:
    port = free_port()
    env = {**os.environ, "ORDERS_DATABASE_URL": database.app_url, "PYTHONPATH": str(ROOT),
           **audit_env(config)}
    process = ManagedProcess(
        name, [sys.executable, "-m", "service", "integrator", "--health-port", str(port),
               "--poll-seconds", "0.05", "--batch-size", "20"],
        work / f"{name}.log", env=env, cwd=ROOT,
    )
    process.start()
    process.wait_healthy(lambda: http_ok(f"http://127.0.0.1:{port}/health/live"), timeout=30)
    return process, port


def _active(port: int) -> bool:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return False
    return re.search(r"^audit_integrator_active 1\.0$", text, re.M) is not None


async def _wait_for(predicate: Any, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(predicate):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_killing_the_active_integrator_under_load_loses_and_repeats_nothing(
    client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig, tmp_path: Path
) -> None:
    first, first_port = _integrator(database, audit_config, tmp_path, "integrator-a")
    second, second_port = _integrator(database, audit_config, tmp_path, "integrator-b")
    stop = asyncio.Event()

    async def load() -> None:
        while not stop.is_set():
            response = await client.post("/v1/orders", json=order_body(),
                                         headers=auth_headers("ACC-1", key=new_key()))
            assert response.status_code in (201, 429), response.text
            await asyncio.sleep(0.01 if response.status_code == 201 else 0.2)

    try:
        await _wait_for(lambda: _active(first_port) or _active(second_port), 20)
        active, standby = ((first, second_port) if _active(first_port)
                           else (second, first_port))
        loader = asyncio.create_task(load())
        await asyncio.sleep(1.5)
        active.send_signal(signal.SIGKILL)  # mid-batch, most likely
        await _wait_for(lambda: _active(standby), 20)
        await asyncio.sleep(1.5)
        stop.set()
        await loader

        async def caught_up() -> bool:
            return bool(await database.fetchval(
                "SELECT (SELECT count(*) FROM audit_events) ="
                " (SELECT tree_size FROM audit_integrator_state)"))

        for _ in range(300):
            if await caught_up():
                break
            await asyncio.sleep(0.1)
        assert await caught_up()
    finally:
        stop.set()
        first.stop()
        second.stop()
    seqs = await leaf_seqs(database)
    events = await database.fetchval("SELECT count(*) FROM audit_events")
    assert len(seqs) == len(set(seqs)) == events > 20
    indices = [r["leaf_index"] for r in await database.fetch(
        "SELECT leaf_index FROM audit_leaves ORDER BY leaf_index")]
    assert indices == list(range(events))
    await integrate(database, audit_config)  # publish anything the killed one left signed
    result = run_cli(database, audit_config, "audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr

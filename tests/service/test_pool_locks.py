"""A process cut off in the middle of a transaction does not hold its locks for long.

A partitioned API replica cannot send COMMIT or ROLLBACK; its backend sits idle in the
transaction, holding the idempotency key's advisory lock, so every retry of that key elsewhere
answered 409 until TCP gave up. The pool asks the server to end such transactions itself.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from service.db import create_pool
from tests.service.conftest import Database, make_settings


async def test_a_transaction_left_idle_releases_its_advisory_lock(database: Database) -> None:
    settings = make_settings(database, None, ORDERS_DB_COMMAND_TIMEOUT_S="0.5")
    pool = await create_pool(settings)
    other = await database.connect()
    try:
        async with pool.acquire() as conn:
            stuck = conn.transaction()
            await stuck.start()
            assert await conn.fetchval("SELECT pg_try_advisory_xact_lock(4242)") is True
            # Another session cannot take the lock while the transaction is open...
            assert await other.fetchval("SELECT pg_try_advisory_lock(4242)") is False
            # ...and the transaction's owner goes silent, as if cut off.
            await asyncio.sleep(1.5)
            assert await other.fetchval("SELECT pg_try_advisory_lock(4242)") is True
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError)):
                await conn.fetchval("SELECT 1")
    finally:
        await other.close()
        await pool.close()

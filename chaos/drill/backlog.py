"""The run's outbox backlog, read from the database in read-only sessions: the drain (wait
until every outbox row of the run is published and processed) and the once-a-second
sampler behind the report's backlog figures."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg

from chaos.drill.snapshot import connect_read_only


async def drain_outbox(database_url: str, accounts: list[str], within_s: float) -> dict[str, Any]:
    """Wait until the run's outbox rows are all published and all processed by the worker."""
    started = time.monotonic()
    deadline = started + within_s
    unpublished = unprocessed = -1
    conn: asyncpg.Connection | None = None
    try:
        while True:
            try:
                if conn is None or conn.is_closed():
                    conn = await connect_read_only(database_url)
                row = await conn.fetchrow(
                    """
                    SELECT count(*) FILTER (WHERE x.published_at IS NULL) AS unpublished,
                           count(*) FILTER (WHERE p.event_id IS NULL) AS unprocessed,
                           count(*) AS total
                    FROM outbox x LEFT JOIN processed_events p ON p.event_id = x.event_id
                    WHERE x.account_id = ANY($1::text[])
                    """,
                    accounts,
                )
                assert row is not None
                unpublished, unprocessed = int(row["unpublished"]), int(row["unprocessed"])
                if unpublished == 0 and unprocessed == 0:
                    return {"drained": True, "seconds": round(time.monotonic() - started, 2),
                            "outbox_rows": int(row["total"]), "unpublished": 0, "unprocessed": 0}
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.terminate()
                conn = None
            if time.monotonic() >= deadline:
                return {"drained": False, "seconds": round(time.monotonic() - started, 2),
                        "unpublished": unpublished, "unprocessed": unprocessed}
            await asyncio.sleep(0.5)
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()


BACKLOG_SQL = """
    SELECT count(*) FILTER (WHERE x.published_at IS NULL) AS unpublished,
           count(*) FILTER (WHERE p.event_id IS NULL) AS unprocessed
    FROM outbox x LEFT JOIN processed_events p ON p.event_id = x.event_id
    WHERE x.account_id = ANY($1::text[])
"""


async def sample_backlog(
    database_url: str, accounts: list[str], out: list[tuple[float, int | None, int | None]],
    stop: asyncio.Event, every_s: float = 1.0,
) -> None:
    """Once a second: the run's outbox rows not yet published / not yet processed by the
    worker ((t, None, None) while the database cannot be read, e.g. during a failover)."""
    conn: asyncpg.Connection | None = None
    try:
        while not stop.is_set():
            t = time.time()
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncio.wait_for(connect_read_only(database_url), every_s)
                live: asyncpg.Connection = conn
                row = await asyncio.wait_for(live.fetchrow(BACKLOG_SQL, accounts), every_s)
                assert row is not None
                out.append((t, int(row["unpublished"]), int(row["unprocessed"])))
            except Exception:
                out.append((t, None, None))
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.terminate()
                conn = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, t + every_s - time.time()))
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

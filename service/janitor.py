"""`python -m service janitor`: purges expired idempotency keys, on its own schedule.

Purging used to ride along in the relay's loop, where its cost and failures were hidden in
the publishing path. Here it runs every `interval_s`, deleting in bounded batches (short
transactions, no long lock on the table) until a batch comes back short. Several janitors
at once are harmless: each DELETE takes only rows that are still there.
"""

from __future__ import annotations

import asyncio

import asyncpg

from service.domain.orders import purge_expired_idempotency_keys
from service.messaging.health import Heartbeat
from service.observability import Metrics, log
from service.stopping import pause

HEARTBEAT_S = 5.0


class IdempotencyKeyJanitor:
    def __init__(
        self,
        pool: asyncpg.Pool,
        metrics: Metrics,
        *,
        interval_s: float = 60.0,
        batch_size: int = 1000,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.pool, self.metrics = pool, metrics
        self.interval_s, self.batch_size = interval_s, batch_size
        self.heartbeat = heartbeat or Heartbeat()

    async def run_once(self) -> int:
        """Purge every expired key, one batch per transaction; return how many."""
        total = 0
        while True:
            try:
                async with self.pool.acquire() as conn:
                    purged = await purge_expired_idempotency_keys(conn, self.batch_size)
            except asyncpg.LockNotAvailableError:
                # A placement is reusing one of these keys right now: the next round.
                log.info("idempotency_purge_yielded", purged=total)
                break
            total += purged
            self.heartbeat.beat()
            if purged < self.batch_size:
                break
        self.metrics.idempotency_keys_purged.inc(total)
        if total:
            log.info("idempotency_keys_purged", count=total)
        return total

    async def run(self, stop: asyncio.Event) -> None:
        log.info("janitor_started", interval_s=self.interval_s)
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as error:  # the database is failing over: try next interval
                log.warning("janitor_error", error=type(error).__name__, detail=str(error)[:200])
            next_run = loop.time() + self.interval_s
            while not stop.is_set() and loop.time() < next_run:
                self.heartbeat.beat()  # idle is not stalled: /health/live stays green
                await pause(stop, min(HEARTBEAT_S, next_run - loop.time()))
        log.info("janitor_stopped")

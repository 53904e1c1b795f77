"""Placements share database round trips under load ("smart batching", as group commit).

Alone, each placement is one statement, one round trip and one commit. The batcher sends
the placements waiting in this API process as one statement (`repository.place_orders`:
place_order once per placement, in one implicit transaction), with at most `in_flight`
statements out at once. There is no timer: a placement that finds a slot free is sent at
once, alone, so at low load nothing waits; placements that arrive while every slot is busy
leave together when one frees. Measured on this machine (docs/capacity.md): PostgreSQL
spent 0.34-0.37 ms of CPU per placement sent alone, 0.17-0.21 ms eight to a statement.

Every rule of a placement stays in place_order, unchanged (the idempotency lock, replay,
another body's 422, the client_order_id clash), and:

- a key already waiting here answers "in flight" (409) at once, as a concurrent retry
  does at the database: one statement never carries a key twice;
- each caller is answered after its statement committed, never before;
- a statement that fails transiently is retried whole (`with_retries`): every placement in
  it is idempotent by its key, and one whose commit was in doubt finds its own record;
- a statement the database refuses for another reason (a constraint one placement broke)
  is retried placement by placement, one after another in the same slot, so that placement
  fails alone and the others commit;
- a statement takes its placements' client_order_id index entries in (account,
  client_order_id) order (`repository.place_orders`), so two never deadlock; the key
  janitor gives up on a row a placement holds rather than wait for it
  (`purge_expired_idempotency_keys`), so it cannot close a cycle with one either;
- a placement that waited longer than `max_wait_s` for a slot (a statement stuck on the
  database) is answered 503 unsent, as the unshared path's retry budget would have.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from service.db import RETRY_BUDGET_S, DatabaseUnavailable, with_retries
from service.domain.orders import KeyInFlight, PlacementResult
from service.observability import Metrics, span
from service.orders import repository
from service.orders.repository import PreparedPlacement, Refusal


@dataclass
class _Waiting:
    placement: PreparedPlacement
    answer: asyncio.Future[PlacementResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    since: float = field(default_factory=time.monotonic)


class PlacementBatcher:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        metrics: Metrics,
        *,
        max_batch: int,
        in_flight: int,
        max_wait_s: float = RETRY_BUDGET_S,
    ) -> None:
        if max_batch < 1 or in_flight < 1 or max_wait_s <= 0:
            raise ValueError("max_batch and in_flight must be at least 1, max_wait_s > 0")
        self._pool, self._metrics = pool, metrics
        self.max_batch, self.in_flight, self.max_wait_s = max_batch, in_flight, max_wait_s
        self._waiting: dict[str, _Waiting] = {}  # by lock key, in arrival order
        self._sending: set[asyncio.Task[None]] = set()

    async def place(self, placement: PreparedPlacement) -> PlacementResult:
        """The placement's result once committed; its refusal raised (KeyInFlight, ...)."""
        if placement.lock_key in self._waiting:
            raise KeyInFlight
        waiting = _Waiting(placement)
        self._waiting[placement.lock_key] = waiting
        # The request's own span covers its wait and its statement; the statement's span
        # is a root of its own, as it serves several requests (see _dispatch).
        with span("db.place", **{"db.system": "postgresql"}):
            self._dispatch()
            # Shielded: a caller that goes away must not cancel what others share; the
            # placement is sent all the same and its key's record answers a retry.
            return await asyncio.shield(waiting.answer)

    async def drain(self) -> None:
        """Wait until everything handed over is answered (before the pool closes)."""
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    def _dispatch(self) -> None:
        stale_before = time.monotonic() - self.max_wait_s
        while self._waiting and len(self._sending) < self.in_flight:
            oldest = next(iter(self._waiting.values()))
            if oldest.since < stale_before:
                del self._waiting[oldest.placement.lock_key]
                _settle(oldest, DatabaseUnavailable(
                    f"placement waited over {self.max_wait_s:g} s for the database"))
                continue
            keys = list(self._waiting)[: self.max_batch]
            batch = [self._waiting.pop(key) for key in keys]
            # A fresh context: not the trace and request context of whichever caller
            # happened to dispatch it.
            task = asyncio.create_task(self._send(batch), context=contextvars.Context())
            self._sending.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._dispatch()

    async def _send(self, batch: list[_Waiting]) -> None:
        self._metrics.placement_batch_size.observe(len(batch))
        try:
            if len(batch) == 1:
                await self._send_alone(batch[0])
            else:
                await self._send_together(batch)
        except BaseException as error:  # never leave a caller waiting
            for waiting in batch:
                _settle(waiting, error)
            raise

    async def _send_together(self, batch: list[_Waiting]) -> None:
        placements = [waiting.placement for waiting in batch]

        async def place_orders(conn: asyncpg.Connection) -> list[PlacementResult | Refusal]:
            return await repository.place_orders(conn, placements)

        try:
            answers = await with_retries(self._pool(), place_orders)
        except DatabaseUnavailable as error:
            for waiting in batch:
                _settle(waiting, error)
            return
        except Exception:
            # One placement broke a rule of the schema: find it by sending each alone, one
            # after another (this slot's share of the pool, not a connection each).
            for waiting in batch:
                await self._send_alone(waiting)
            return
        for waiting, answer in zip(batch, answers, strict=True):
            _settle(waiting, answer)

    async def _send_alone(self, waiting: _Waiting) -> None:
        async def place_order(conn: asyncpg.Connection) -> PlacementResult:
            return await repository.place_prepared(conn, waiting.placement)

        try:
            _settle(waiting, await with_retries(self._pool(), place_order))
        except Exception as error:
            _settle(waiting, error)


def _settle(waiting: _Waiting, answer: object) -> None:
    if waiting.answer.done():
        return
    if isinstance(answer, asyncio.CancelledError):
        waiting.answer.cancel()
    elif isinstance(answer, BaseException):
        waiting.answer.set_exception(answer)
    else:
        assert isinstance(answer, PlacementResult)
        waiting.answer.set_result(answer)

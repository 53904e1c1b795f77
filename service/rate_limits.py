"""Token buckets per caller in Redis, checked together: one script call for every check
waiting in this API process.

Each check used to be its own EVALSHA: a socket write, a read and redis-py's command
machinery per request, 16 % of the API process's CPU at saturation (docs/capacity.md). The
checks that arrive while one call is out now leave together when it returns, as one call to
`BUCKET_CHECKS_SCRIPT`, which walks its keys in arrival order. Redis runs a script without
interleaving any other command, so a batch decides exactly what the same checks one after
another would have: two checks of one bucket in a batch take two tokens, the second seeing
the first's take. (Redis does not undo a script's writes if it fails part-way, e.g. on a
key of another type: the checks before it keep their take, and the batch fails open.)
There is no timer: a check that finds no call out is sent at once, alone, so at low load
nothing waits.

The keys of one call may live in different hash slots. That is fine on a replication group
without cluster mode (infra/cache.py); with cluster mode on, a call would need one slot
(hash tags per caller) or one call per key.

Every failure fails open, as the gate decides (`RedisGate.call`): a batch that times out or
errs lets each of its checks through and counts each in `rate_limit_fail_open_total`. A
check waits for at most one call before its own (bounded by `max_wait_s`, the gate's call
timeout), so the worst case is two call timeouts, 2 x 200 ms by default, against one
before checks shared calls.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from service.observability import log

BUCKET_CHECKS_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local answers = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1]) or burst
  local stamp = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
  local allowed = 0
  local retry_after = 0
  if tokens >= 1 then
    tokens = tokens - 1
    allowed = 1
  else
    retry_after = (1 - tokens) / rate
  end
  redis.call('HSET', key, 'tokens', tokens, 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
  answers[2 * i - 1] = allowed
  answers[2 * i] = tostring(retry_after)
end
return answers
"""

MAX_CHECKS_PER_CALL = 64

# Sends one batch's keys and flat (rate, burst, ...) arguments; returns the script's flat
# (allowed, retry_after, ...) answer, or None when the call failed (and so fails open).
SendBatch = Callable[[list[str], list[float]], Awaitable[list[Any] | None]]


@dataclass
class _Check:
    key: str
    rate: float
    burst: float
    answer: asyncio.Future[tuple[bool, float] | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    since: float = field(default_factory=time.monotonic)


class TokenBuckets:
    def __init__(
        self, send: SendBatch, *, max_wait_s: float, max_batch: int = MAX_CHECKS_PER_CALL
    ) -> None:
        if max_batch < 1 or max_wait_s <= 0:
            raise ValueError("max_batch must be at least 1 and max_wait_s above 0")
        self._send, self.max_batch, self.max_wait_s = send, max_batch, max_wait_s
        self._waiting: deque[_Check] = deque()
        self._sending: asyncio.Task[None] | None = None

    async def take(self, key: str, rate: float, burst: float) -> tuple[bool, float] | None:
        """(allowed, retry_after seconds) for one token of `key`; None if Redis failed or
        the check waited longer than max_wait_s for the call before it (fail open)."""
        check = _Check(key, rate, burst)
        self._waiting.append(check)
        if self._sending is None:
            self._dispatch()
        # A caller that goes away cancels only its own future: a check not yet sent is
        # dropped (it takes no token), one already sent is answered to nobody.
        return await check.answer

    async def drain(self) -> None:
        """Wait until every check handed over is answered (before the client closes)."""
        while self._sending is not None:
            await asyncio.gather(self._sending, return_exceptions=True)

    def _dispatch(self) -> None:
        # A check that waited past max_wait_s fails open here rather than wait for its own
        # call too: a slow Redis that stays under the timeout must not build a queue. So a
        # check waits at most max_wait_s for a call to return, then at most one call.
        stale_before = time.monotonic() - self.max_wait_s
        batch: list[_Check] = []
        while self._waiting and len(batch) < self.max_batch:
            check = self._waiting.popleft()
            if check.answer.done():
                continue  # its caller went away
            if check.since < stale_before:
                check.answer.set_result(None)
            else:
                batch.append(check)
        if not batch:
            return
        # A fresh context: the call serves several requests, not whichever dispatched it.
        self._sending = asyncio.create_task(self._call(batch), context=contextvars.Context())
        self._sending.add_done_callback(self._sent)

    def _sent(self, _: asyncio.Task[None]) -> None:
        self._sending = None
        if self._waiting:
            self._dispatch()

    async def _call(self, batch: list[_Check]) -> None:
        answers: list[Any] | None = None
        try:
            arguments = [number for check in batch for number in (check.rate, check.burst)]
            answers = await self._send([check.key for check in batch], arguments)
        except Exception:  # the gate takes Redis's failures; this is anything else: fail open
            log.exception("rate_limit_call_failed", checks=len(batch))
        finally:  # never leave a caller waiting, whatever happened to the call
            for index, check in enumerate(batch):
                if not check.answer.done():
                    check.answer.set_result(_decision(answers, index, len(batch)))


def _decision(answers: list[Any] | None, index: int, checks: int) -> tuple[bool, float] | None:
    """The check's (allowed, retry_after) from the script's flat answer; None (fail open)
    for an answer that is missing or not what the script returns."""
    if answers is None or len(answers) != 2 * checks:
        return None
    try:
        return bool(int(answers[2 * index])), float(answers[2 * index + 1])
    except (TypeError, ValueError):
        return None

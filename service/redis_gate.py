"""Redis behind a circuit breaker: the API's rate limiter, never the source of truth
(idempotency is decided by PostgreSQL alone, in the placement's one round trip, and a fill
racing a cancel by the order's row lock).

Every call has a short timeout; after a failure the breaker skips Redis for a second, so a
Redis outage costs at most one timed-out call per second per process, and the service
keeps answering from PostgreSQL. It recovers by itself when Redis answers again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from service.config import Settings
from service.domain.idempotency import scoped_key
from service.observability import Metrics, log, span

T = TypeVar("T")

RATE_LIMIT_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
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
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(retry_after)}
"""

BREAKER_OPEN_S = 1.0


def no_retry() -> Retry:
    """The breaker decides when to try again; redis-py's own retries (3 with backoff by
    default in 8.x) would only stretch a failed call past the latency budget."""
    return Retry(NoBackoff(), 0)


def build_client(url: str, password: str | None, timeout_s: float) -> redis.Redis:
    parts = urlsplit(url)
    if parts.scheme == "redis+sentinel":
        hosts = []
        for item in parts.netloc.rsplit("@", 1)[-1].split(","):
            host, _, port = item.partition(":")
            hosts.append((host, int(port or 26379)))
        path = [p for p in parts.path.split("/") if p]
        service_name = path[0] if path else "mymaster"
        db = int(path[1]) if len(path) > 1 else 0
        sentinel = Sentinel(hosts, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        return sentinel.master_for(
            service_name,
            retry=no_retry(),
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            password=password,
            db=db,
        )
    return redis.Redis.from_url(
        url,
        password=password,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=0,
        retry=no_retry(),
    )


class RedisGate:
    def __init__(self, client: redis.Redis | None, metrics: Metrics, timeout_s: float) -> None:
        self._client = client
        self._metrics = metrics
        self._timeout_s = timeout_s
        self._open_until = 0.0
        self._degraded = False
        self._token_bucket = client.register_script(RATE_LIMIT_SCRIPT) if client else None

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> RedisGate:
        """A gate over the configured Redis, or an always-bypassed one when there is none."""
        client = (
            build_client(settings.redis_url, settings.redis_password, settings.redis_timeout_s)
            if settings.redis_url
            else None
        )
        return cls(client, metrics, settings.redis_timeout_s)

    @property
    def configured(self) -> bool:
        return self._client is not None

    @property
    def degraded(self) -> bool:
        return self._client is not None and self._degraded

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _call(self, operation: Callable[[redis.Redis], Awaitable[T]], default: T) -> T:
        if self._client is None or time.monotonic() < self._open_until:
            return default
        try:
            name = getattr(operation, "__qualname__", "call").split(".<locals>")[0]
            # asyncio.timeout rather than wait_for: no task per call (Python 3.11's wait_for
            # wraps the call in one), and this runs on every placement (the rate limiter).
            # It raises TimeoutError unless the task was also being cancelled, in which
            # case the CancelledError goes on up, as a cancellation should.
            with span(f"redis.{name.rsplit('.', 1)[-1]}", **{"db.system": "redis"}):
                async with asyncio.timeout(self._timeout_s * 2):
                    result = await operation(self._client)
        except (TimeoutError, RedisError, OSError) as error:
            self._open_until = time.monotonic() + BREAKER_OPEN_S
            if not self._degraded:
                self._degraded = True
                self._metrics.redis_degraded.set(1)
                log.warning("redis_unavailable", error=type(error).__name__, detail=str(error))
            return default
        if self._degraded:
            self._degraded = False
            self._metrics.redis_degraded.set(0)
            log.info("redis_recovered")
        return result

    async def ping(self) -> bool:
        async def do(client: redis.Redis) -> bool:
            return bool(await client.ping())

        # The readiness probe asks even while the breaker is open, so recovery is noticed.
        self._open_until = 0.0
        return await self._call(do, False)

    async def allow_request(
        self, principal: str, rate: float, burst: float, bucket: str = "write"
    ) -> tuple[bool, float]:
        """Token bucket per (principal, bucket), atomic on the Redis side. Fails open."""
        script = self._token_bucket
        redis_key = f"ratelimit:{scoped_key(principal, bucket)}"

        async def do(_: redis.Redis) -> Any:
            assert script is not None
            return await script(keys=[redis_key], args=[rate, burst])

        result = await self._call(do, None)
        if result is None:
            if self._client is not None:
                self._metrics.rate_limit_fail_open.inc()
            return True, 0.0
        allowed, retry_after = result
        return bool(int(allowed)), float(retry_after)

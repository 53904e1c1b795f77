"""Redis behind a circuit breaker: the API's rate limiter (service/rate_limits.py), never the
source of truth (idempotency is decided by PostgreSQL alone, in the placement's one round
trip, and a fill racing a cancel by the order's row lock).

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
from service.rate_limits import BUCKET_CHECKS_SCRIPT, TokenBuckets

T = TypeVar("T")

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
        script = client.register_script(BUCKET_CHECKS_SCRIPT) if client else None

        async def send(keys: list[str], arguments: list[float]) -> list[Any] | None:
            async def run(_: redis.Redis) -> list[Any]:
                assert script is not None
                # AsyncScript: EVALSHA, and after a NOSCRIPT (a restarted Redis) SCRIPT
                # LOAD and EVALSHA again.
                return list(await script(keys=keys, args=arguments))

            return await self.call(run, None, "redis.token_buckets")

        self._buckets = TokenBuckets(send, max_wait_s=2 * timeout_s)

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
            await self._buckets.drain()
            await self._client.aclose()

    async def call(
        self, operation: Callable[[redis.Redis], Awaitable[T]], default: T, name: str
    ) -> T:
        """The operation's result, or `default` while the breaker is open or when it fails."""
        if self._client is None or time.monotonic() < self._open_until:
            return default
        try:
            # asyncio.timeout rather than wait_for: no task per call (Python 3.11's wait_for
            # wraps the call in one), and this runs for every rate-limit call under load.
            # It raises TimeoutError unless the task was also being cancelled, in which
            # case the CancelledError goes on up, as a cancellation should.
            with span(name, **{"db.system": "redis"}):
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
        return await self.call(do, False, "redis.ping")

    async def allow_request(
        self, principal: str, rate: float, burst: float, bucket: str = "write"
    ) -> tuple[bool, float]:
        """Token bucket per (principal, bucket), atomic on the Redis side. Fails open.

        The checks waiting in this process share one script call (TokenBuckets); this span
        covers the check's wait and its call."""
        if self._client is None:
            return True, 0.0
        with span("redis.allow_request", **{"db.system": "redis"}):
            result = await self._buckets.take(
                f"ratelimit:{scoped_key(principal, bucket)}", rate, burst
            )
        if result is None:
            self._metrics.rate_limit_fail_open.inc()
            return True, 0.0
        return result

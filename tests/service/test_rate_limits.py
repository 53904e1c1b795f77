"""The rate limiter's checks share script calls, against a real Redis: what a batch decides is
what the same checks one after another would have decided, a batch saves round trips, and a
failed or cancelled call never leaves a caller waiting or refused."""

from __future__ import annotations

import asyncio
from typing import Any

import redis as redis_sync
import redis.asyncio as redis_async

from localenv.procs import free_port
from service.domain.idempotency import scoped_key
from service.observability import Metrics
from service.rate_limits import BUCKET_CHECKS_SCRIPT, TokenBuckets
from service.redis_gate import RedisGate, build_client


def evalsha_calls(url: str) -> int:
    stats = redis_sync.Redis.from_url(url).info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


def bucket(url: str, principal: str, name: str = "write") -> dict[bytes, bytes]:
    key = f"ratelimit:{scoped_key(principal, name)}"
    return redis_sync.Redis.from_url(url).hgetall(key)  # type: ignore[return-value]


async def gate_for(url: str, metrics: Metrics | None = None) -> RedisGate:
    return RedisGate(build_client(url, None, 0.5), metrics or Metrics(), 0.5)


async def test_concurrent_checks_share_a_script_call(redis_url: str) -> None:
    gate = await gate_for(redis_url)
    try:
        await gate.allow_request("warm-up", 10, 10)  # loads the script: NOSCRIPT, then LOAD
        redis_sync.Redis.from_url(redis_url).config_resetstat()
        principals = [f"caller-{n}" for n in range(12)]
        answers = await asyncio.gather(*(gate.allow_request(p, 10, 5) for p in principals))
    finally:
        await gate.close()
    assert answers == [(True, 0.0)] * 12
    # The first check goes alone; the other eleven arrived while it was out, so they share
    # the next call. One call per check would be twelve.
    assert evalsha_calls(redis_url) == 2
    for principal in principals:
        assert float(bucket(redis_url, principal)[b"tokens"]) == 4.0


async def test_a_batch_decides_as_the_checks_one_after_another_would(redis_url: str) -> None:
    gate = await gate_for(redis_url)
    try:
        one_by_one = [await gate.allow_request("sequential", 0.01, 3) for _ in range(6)]
        together = await asyncio.gather(*(gate.allow_request("batched", 0.01, 3) for _ in range(6)))
    finally:
        await gate.close()
    for answers in (one_by_one, together):
        assert [allowed for allowed, _ in answers] == [True, True, True, False, False, False]
        # Refused with the time until one token refills: about 1 / 0.01 s.
        assert all(95 < retry_after <= 100 for allowed, retry_after in answers if not allowed)
    assert float(bucket(redis_url, "batched")[b"tokens"]) < 0.01


async def test_buckets_of_one_caller_in_one_call_keep_their_own_limits(redis_url: str) -> None:
    gate = await gate_for(redis_url)
    try:
        checks = [("write", 0.01, 1.0)] * 3 + [("read", 0.01, 2.0)] * 3
        answers = await asyncio.gather(
            *(gate.allow_request("alice", rate, burst, bucket=name) for name, rate, burst in checks)
        )
    finally:
        await gate.close()
    assert [allowed for allowed, _ in answers] == [True, False, False, True, True, False]
    assert float(bucket(redis_url, "alice", "write")[b"tokens"]) < 0.01
    assert float(bucket(redis_url, "alice", "read")[b"tokens"]) < 0.01


async def test_a_call_carries_at_most_max_batch_checks(redis_url: str) -> None:
    client = redis_async.Redis.from_url(redis_url)
    script = client.register_script(BUCKET_CHECKS_SCRIPT)
    sizes: list[int] = []

    async def send(keys: list[str], arguments: list[float]) -> list[Any] | None:
        sizes.append(len(keys))
        return list(await script(keys=keys, args=arguments))

    buckets = TokenBuckets(send, max_wait_s=5, max_batch=4)
    try:
        answers = await asyncio.gather(*(buckets.take(f"k{n}", 1, 1) for n in range(11)))
    finally:
        await client.aclose()
    assert answers == [(True, 0.0)] * 11
    assert sizes == [1, 4, 4, 2]


async def test_checks_fail_open_together_when_redis_is_gone() -> None:
    metrics = Metrics()
    gate = await gate_for(f"redis://127.0.0.1:{free_port()}/0", metrics)  # nothing listens
    try:
        answers = await asyncio.gather(*(gate.allow_request(f"p{n}", 1, 1) for n in range(8)))
    finally:
        await gate.close()
    assert answers == [(True, 0.0)] * 8
    assert gate.degraded
    assert metrics.registry.get_sample_value("rate_limit_fail_open_total") == 8.0
    assert metrics.registry.get_sample_value("redis_degraded") == 1.0


async def test_an_unexpected_failure_of_a_call_fails_its_checks_open() -> None:
    async def send(keys: list[str], arguments: list[float]) -> list[Any] | None:
        raise ValueError("a reply this code did not expect")

    async def short(keys: list[str], arguments: list[float]) -> list[Any] | None:
        return [1]  # half an answer

    async def garbled(keys: list[str], arguments: list[float]) -> list[Any] | None:
        return ["yes", "soon"] * len(keys)

    for broken in (send, short, garbled):
        buckets = TokenBuckets(broken, max_wait_s=5)
        answers = await asyncio.gather(*(buckets.take(f"k{n}", 1, 1) for n in range(3)))
        assert answers == [None] * 3


async def test_a_cancelled_check_leaves_the_others_in_its_call_answered(redis_url: str) -> None:
    gate = await gate_for(redis_url)
    try:
        await gate.allow_request("warm-up", 10, 10)
        checks = [asyncio.create_task(gate.allow_request(f"c{n}", 10, 5)) for n in range(6)]
        await asyncio.sleep(0)  # every check is handed over
        checks[3].cancel()
        results = await asyncio.gather(*checks, return_exceptions=True)
    finally:
        await gate.close()
    assert isinstance(results[3], asyncio.CancelledError)
    assert [r for n, r in enumerate(results) if n != 3] == [(True, 0.0)] * 5
    # It was still waiting for the first call (c0's) to return: it was never sent and took
    # no token; the others took theirs.
    assert bucket(redis_url, "c3") == {}
    assert float(bucket(redis_url, "c4")[b"tokens"]) == 4.0


async def test_a_check_waits_for_at_most_one_slow_call_before_failing_open() -> None:
    """Redis slow but under the timeout: the checks that queued behind a slow call longer
    than max_wait_s fail open at once instead of waiting for a call of their own, so a
    slow Redis cannot build a queue of requests."""
    sent: list[list[str]] = []

    async def slow(keys: list[str], arguments: list[float]) -> list[Any] | None:
        sent.append(keys)
        await asyncio.sleep(0.3)
        return [1, "0"] * len(keys)

    buckets = TokenBuckets(slow, max_wait_s=0.1)
    first = asyncio.create_task(buckets.take("k0", 1, 1))
    await asyncio.sleep(0)
    behind = [asyncio.create_task(buckets.take(f"k{n}", 1, 1)) for n in (1, 2)]
    assert await first == (True, 0.0)
    assert [await check for check in behind] == [None, None]
    assert sent == [["k0"]]


async def test_a_check_cancelled_while_its_call_is_out_leaves_the_others_answered() -> None:
    release = asyncio.Event()

    async def held(keys: list[str], arguments: list[float]) -> list[Any] | None:
        await release.wait()
        return [1, "0"] * len(keys)

    buckets = TokenBuckets(held, max_wait_s=5)
    checks = [asyncio.create_task(buckets.take(f"k{n}", 1, 1)) for n in range(3)]
    await asyncio.sleep(0.01)  # k0's call is out; k1 and k2 wait for it
    checks[0].cancel()
    release.set()
    results = await asyncio.gather(*checks, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == [(True, 0.0), (True, 0.0)]
    await buckets.drain()


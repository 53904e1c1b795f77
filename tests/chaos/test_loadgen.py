"""The load generator against a scripted fake API (httpx.MockTransport): retries, log, bounds."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import jwt
import pytest

from chaos.drill.loadgen import (
    LoadConfig,
    LoadGenerator,
    mint_token,
    order_body,
    parse_retry_after,
    read_secret,
)
from chaos.drill.records import read_history

SECRET = "s" * 40


class FakeApi:
    """Answers POST /v1/orders like the service; `script` maps the n-th request of a key to a
    canned failure ("503", "409", "429", "timeout", "connect", "422") before succeeding."""

    def __init__(self, script: list[str] | None = None) -> None:
        self.script = script or []
        self.calls: dict[str, int] = defaultdict(int)
        self.orders: dict[str, str] = {}
        self.bodies: dict[str, dict[str, object]] = {}
        self.tokens: list[dict[str, object]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/v1/orders"
        key = request.headers["Idempotency-Key"]
        token = request.headers["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="orders-api",
                            issuer="orders-local")
        self.tokens.append(claims)
        body = json.loads(request.content)
        assert body["account_id"] in claims["accounts"]  # type: ignore[operator]
        if key in self.bodies:
            assert self.bodies[key] == body, "a retry must resend the same payload"
        self.bodies[key] = body
        n = self.calls[key]
        self.calls[key] += 1
        step = self.script[n] if n < len(self.script) else "ok"
        if step == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if step == "connect":
            raise httpx.ConnectError("refused", request=request)
        if step in ("503", "409", "429"):
            return httpx.Response(int(step), headers={"Retry-After": "0"},
                                  json={"title": step})
        if step == "500":
            return httpx.Response(500, json={"title": "boom"})
        if step == "422":
            return httpx.Response(422, json={"title": "other payload"})
        replayed = key in self.orders
        order_id = self.orders.setdefault(key, str(uuid.uuid4()))
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return httpx.Response(201, headers=headers, json={"id": order_id, **body})


def generator(api: FakeApi, tmp_path: Path, **overrides: object) -> LoadGenerator:
    settings: dict[str, object] = {
        "rate": 200.0, "clients": 4, "duration_s": None, "max_orders": 20,
        "backoff_initial_s": 0.001, "backoff_max_s": 0.01, "order_deadline_s": 5.0,
    }
    settings.update(overrides)
    config = LoadConfig(**settings)  # type: ignore[arg-type]
    return LoadGenerator("http://api.test", SECRET, config, tmp_path / "client.jsonl",
                         transport=httpx.MockTransport(api.handler))


async def test_every_order_acknowledged_once_with_a_fresh_key(tmp_path: Path) -> None:
    api = FakeApi()
    gen = generator(api, tmp_path)
    history = await gen.run()
    assert len(history.orders) == 20 and len(history.acks) == 20
    assert len({o.key for o in history.orders}) == 20
    assert len({o.client_order_id for o in history.orders}) == 20
    assert all(a.ok for a in history.attempts)
    assert {a.order_id for a in history.acks} == set(api.orders.values())
    # Several accounts and principals, each token naming only its own accounts.
    assert len({o.account for o in history.orders}) == gen.config.accounts
    assert len({str(c["sub"]) for c in api.tokens}) == gen.config.principals
    assert all(float(c["exp"]) > time.time() for c in api.tokens)  # type: ignore[arg-type]


async def test_retries_with_the_same_key_until_acknowledged(tmp_path: Path) -> None:
    api = FakeApi(["503", "timeout", "connect", "409", "429", "500"])
    history = await generator(api, tmp_path, max_orders=5).run()
    assert len(history.acks) == 5 and not history.outcomes
    per_key = Counter(a.key for a in history.attempts)
    assert set(per_key.values()) == {7}
    assert set(api.calls.values()) == {7}  # each key sent 7 times, never a new key
    first = sorted((a for a in history.attempts if a.key == history.acks[0].key),
                   key=lambda a: a.n)
    assert [a.status for a in first] == [503, None, None, 409, 429, 500, 201]
    assert [a.error for a in first][:3] == [None, "timeout", "connect"]


async def test_non_retryable_answer_is_not_retried(tmp_path: Path) -> None:
    api = FakeApi(["422"])
    history = await generator(api, tmp_path, max_orders=3).run()
    assert not history.acks
    assert [o.kind for o in history.outcomes] == ["rejected"] * 3
    assert set(api.calls.values()) == {1}


async def test_gives_up_within_its_attempt_budget(tmp_path: Path) -> None:
    api = FakeApi(["503"] * 100)
    history = await generator(api, tmp_path, max_orders=2, max_attempts=4).run()
    assert not history.acks
    assert [o.kind for o in history.outcomes] == ["gave_up", "gave_up"]
    assert set(api.calls.values()) == {4}


async def test_retry_after_is_honoured(tmp_path: Path) -> None:
    class SlowDown(FakeApi):
        def handler(self, request: httpx.Request) -> httpx.Response:
            key = request.headers["Idempotency-Key"]
            if self.calls[key] == 0:
                self.calls[key] += 1
                return httpx.Response(503, headers={"Retry-After": "1"})
            return super().handler(request)

    history = await generator(SlowDown(), tmp_path, max_orders=1).run()
    first, second = sorted(history.attempts, key=lambda a: a.n)
    assert second.t - first.end >= 0.99


async def test_log_is_complete_and_round_trips(tmp_path: Path) -> None:
    api = FakeApi(["503"])
    gen = generator(api, tmp_path, max_orders=8)
    history = await gen.run()
    loaded = read_history(tmp_path / "client.jsonl")

    def same(a: object, b: object) -> bool:  # times round-trip to the microsecond
        left, right = dict(vars(a)), dict(vars(b))
        return left.pop("t") == pytest.approx(right.pop("t"), abs=1e-5) and left == right

    assert len(loaded.orders) == len(history.orders) == 8
    assert all(same(a, b) for a, b in zip(loaded.orders, history.orders, strict=True))
    assert all(same(a, b) for a, b in zip(loaded.acks, history.acks, strict=True))
    assert len(loaded.attempts) == len(history.attempts) == 16
    for a, b in zip(loaded.attempts, history.attempts, strict=True):
        assert (a.key, a.n, a.status) == (b.key, b.n, b.status)
        assert a.t == pytest.approx(b.t, abs=1e-5)
    lines = (tmp_path / "client.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["t"].endswith("+00:00")


async def test_paced_and_bounded_in_time(tmp_path: Path) -> None:
    api = FakeApi()
    gen = generator(api, tmp_path, rate=40.0, clients=4, max_orders=None, duration_s=1.0)
    started = time.monotonic()
    history = await gen.run()
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert 30 <= len(history.orders) <= 45  # ~40 orders/s for 1 s, no burst


async def test_stop_ends_an_unbounded_run(tmp_path: Path) -> None:
    import asyncio

    api = FakeApi()
    gen = generator(api, tmp_path, rate=50.0, max_orders=None, duration_s=None)
    task = asyncio.create_task(gen.run())
    await asyncio.sleep(0.3)
    gen.stop()
    history = await asyncio.wait_for(task, 2.0)
    assert 5 <= len(history.acks) <= 25


def test_retry_after_parsing() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    http_date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(http_date) == 0.0  # in the past


def test_token_and_secret(tmp_path: Path) -> None:
    token = mint_token(SECRET, "sub-1", ["A", "B"], ttl_s=60)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="orders-api",
                        issuer="orders-local")
    assert claims["sub"] == "sub-1" and claims["accounts"] == ["A", "B"]
    (tmp_path / "secret").write_text(SECRET + "\n")
    assert read_secret(tmp_path / "secret") == SECRET
    (tmp_path / "short").write_text("short")
    with pytest.raises(ValueError, match="32 bytes"):
        read_secret(tmp_path / "short")


def test_order_bodies_are_valid_for_the_service() -> None:
    from service.domain.validation import (
        CLIENT_ORDER_ID_PATTERN,
        isin_check_digit_ok,
        parse_positive_decimal,
        validate_currency,
    )

    for seq in range(60):
        body = order_body(seq, "DRILL-x-1", f"c-0123456789-{seq}")
        assert isin_check_digit_ok(str(body["instrument"]))
        parse_positive_decimal("quantity", str(body["quantity"]))
        validate_currency("currency", str(body["currency"]))
        assert CLIENT_ORDER_ID_PATTERN.match(str(body["client_order_id"]))
        assert ("limit_price" in body) == (body["order_type"] == "limit")

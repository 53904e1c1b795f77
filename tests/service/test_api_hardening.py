"""Findings of an outside test of the API: each input class gets a 4xx problem, never a 500."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.observability import Metrics
from tests.service.conftest import (
    JWT_SECRET,
    Database,
    auth_headers,
    make_settings,
    new_key,
    order_body,
)
from tests.service.test_bad_input import assert_nothing_written, assert_problem

# --- idempotency keys scoped per principal without collisions -----------------------------


async def _place_as_two_colliding_principals(client: AsyncTestClient[Any]) -> list[Any]:
    """`svc` + `batch:KEY12345` and `svc:batch` + `KEY12345` join to the same `a:b:c`."""
    first = await client.post(
        "/v1/orders", json=order_body(),
        headers=auth_headers("ACC-1", key="batch:KEY12345", subject="svc"),
    )
    second = await client.post(
        "/v1/orders", json=order_body(quantity="3"),
        headers=auth_headers("ACC-1", key="KEY12345", subject="svc:batch"),
    )
    same_body = await client.post(
        "/v1/orders", json=order_body(),
        headers=auth_headers("ACC-1", key="KEY12345", subject="svc:batch2"),
    )
    return [first, second, same_body]


async def test_idempotency_keys_do_not_collide_across_principals_with_redis_up(
    client: AsyncTestClient[Any], database: Database
) -> None:
    responses = await _place_as_two_colliding_principals(client)
    assert [r.status_code for r in responses] == [201, 201, 201], [r.text for r in responses]
    assert all("idempotent-replayed" not in r.headers for r in responses)
    assert len({r.json()["id"] for r in responses}) == 3
    assert await database.fetchval("SELECT count(*) FROM orders") == 3


async def test_idempotency_keys_do_not_collide_across_principals_in_postgres(
    database: Database,
) -> None:
    app = create_app(make_settings(database, None), Metrics())
    async with AsyncTestClient(app=app) as client:
        responses = await _place_as_two_colliding_principals(client)
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert await database.fetchval("SELECT count(*) FROM orders") == 3


def test_scoped_keys_are_injective() -> None:
    from service.domain.idempotency import scoped_key

    assert scoped_key("svc", "batch:K") != scoped_key("svc:batch", "K")
    assert scoped_key("a", "bc") != scoped_key("ab", "c")
    assert scoped_key("a", "bc") == scoped_key("a", "bc")


# --- malformed bodies: problem+json 400 before anything else -------------------------------

MALFORMED_BODIES = {
    "invalid-utf8-in-string": b'{"account_id":"ACC-\xff\xfe","instrument":"US0378331005"}',
    "deep-array-nesting": b"[" * 1000 + b"]" * 1000,
    "deep-object-nesting": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "deep-nesting-in-field": b'{"account_id":' + b"[" * 5000 + b"]" * 5000 + b"}",
    "lone-surrogate": b'{"account_id":"\\ud800"}',
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
async def test_malformed_bodies_are_400_not_500(
    client: AsyncTestClient[Any], database: Database, body: bytes, with_token: bool
) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": new_key()}
    if with_token:
        headers.update(auth_headers("ACC-1"))
    response = await client.post("/v1/orders", content=body, headers=headers)
    assert response.status_code in (400, 401), response.text
    if with_token:
        assert_problem(response, 400, "/" + response.json()["type"].rsplit("/", 1)[-1])
    assert response.headers["content-type"].startswith("application/problem+json")
    await assert_nothing_written(database)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/json; charset=latin-1", "application/jsonx"],
)
async def test_only_json_bodies_are_accepted(
    client: AsyncTestClient[Any], database: Database, content_type: str | None
) -> None:
    headers = auth_headers("ACC-1", key=new_key())
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.post(
        "/v1/orders", content=json.dumps(order_body()).encode(), headers=headers
    )
    assert_problem(response, 415, "/unsupported-media-type")
    await assert_nothing_written(database)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8",
                     "Application/JSON;charset=UTF-8"],
)
async def test_json_content_types_are_accepted(
    client: AsyncTestClient[Any], content_type: str
) -> None:
    headers = {**auth_headers("ACC-1", key=new_key()), "Content-Type": content_type}
    response = await client.post(
        "/v1/orders", content=json.dumps(order_body()).encode(), headers=headers
    )
    assert response.status_code == 201, response.text


# --- ASCII-only, full-match validation ------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"instrument": "US037833100\u0665"}, "instrument"),  # Arabic-Indic five
        ({"instrument": "US0378331005\n"}, "instrument"),
        ({"quantity": "\u0661\u0660"}, "quantity"),  # Arabic-Indic ten
        ({"quantity": "10\n"}, "quantity"),
        ({"limit_price": "187.25\n"}, "limit_price"),
        ({"limit_price": "\uff11\uff10"}, "limit_price"),  # fullwidth digits
        ({"client_order_id": "abc\n"}, "client_order_id"),
        ({"account_id": "ACC-1\n"}, "account_id"),
        ({"currency": "USD\n"}, "currency"),
    ],
)
async def test_unicode_digits_and_trailing_newlines_are_rejected(
    client: AsyncTestClient[Any], database: Database, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post(
        "/v1/orders", json=order_body(**overrides),
        headers=auth_headers("ACC-1", "ACC-1\n", key=new_key()),
    )
    problem = assert_problem(response, 400, "/validation-error")
    assert field in {error["field"] for error in problem["errors"]}
    await assert_nothing_written(database)


# --- cursors --------------------------------------------------------------------------------


def _raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _raw_cursor("9999-12-31T23:59:59-23:59|00000000-0000-0000-0000-000000000001"),
        _raw_cursor("0001-01-01T00:00:00+23:59|00000000-0000-0000-0000-000000000001"),
        _raw_cursor("2026-01-01T00:00:00+00:00|00000000-0000-0000-0000-000000000001"),
        _raw_cursor("2026-01-01T00:00:00+00:00|not-a-uuid"),
        "\u00e9\u00e9\u00e9",
        "",
        "a.b.c",
    ],
    ids=["overflow-high", "overflow-low", "unsigned", "bad-uuid", "non-ascii", "empty", "dots"],
)
async def test_odd_or_tampered_cursors_are_400(client: AsyncTestClient[Any], cursor: str) -> None:
    response = await client.get(
        "/v1/orders", params={"cursor": cursor}, headers=auth_headers("ACC-1")
    )
    assert_problem(response, 400, "/invalid-cursor")


async def test_signed_cursor_pages_and_tampering_is_detected(client: AsyncTestClient[Any]) -> None:
    for _ in range(3):
        await client.post(
            "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=new_key())
        )
    first = await client.get("/v1/orders?limit=2", headers=auth_headers("ACC-1"))
    cursor = first.json()["next_cursor"]
    second = await client.get(
        "/v1/orders", params={"limit": 2, "cursor": cursor}, headers=auth_headers("ACC-1")
    )
    assert second.status_code == 200
    assert len(second.json()["items"]) == 1
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    tampered = await client.get(
        "/v1/orders", params={"cursor": flipped}, headers=auth_headers("ACC-1")
    )
    assert_problem(tampered, 400, "/invalid-cursor")


# --- cancel: another account's order is not found, and nothing changes -----------------------


async def test_a_cancel_of_an_order_of_another_account_is_404_and_changes_nothing(
    client: AsyncTestClient[Any], database: Database
) -> None:
    placed = await client.post(
        "/v1/orders", json=order_body("ACC-1"), headers=auth_headers("ACC-1", key=new_key())
    )
    order_id = placed.json()["id"]
    before = await database.fetchval("SELECT count(*) FROM audit_events")
    stranger = await client.post(
        f"/v1/orders/{order_id}/cancel", headers=auth_headers("ACC-2", subject="mallory")
    )
    assert_problem(stranger, 404, "/order-not-found")
    assert await database.fetchval(
        "SELECT status FROM orders WHERE id = $1::uuid", order_id) == "PENDING"
    assert await database.fetchval("SELECT count(*) FROM audit_events") == before
    owner = await client.post(f"/v1/orders/{order_id}/cancel", headers=auth_headers("ACC-1"))
    assert owner.status_code == 200 and owner.json()["status"] == "CANCELLED"


# --- authentication edge cases -----------------------------------------------------------------


def _token_with_exp(exp: Any) -> str:
    claims = {
        "iss": "orders-local", "aud": "orders-api", "sub": "alice", "accounts": ["ACC-1"],
        "iat": int(time.time()), "exp": exp,
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "exp",
    [str(int(time.time()) + 600), int(time.time()) + 600.5, True, None, [1], "1e12"],
    ids=["numeric-string", "float", "bool", "null", "list", "exponent-string"],
)
async def test_exp_must_be_an_integer_numeric_date(client: AsyncTestClient[Any], exp: Any) -> None:
    response = await client.get(
        "/v1/orders", headers={"Authorization": f"Bearer {_token_with_exp(exp)}"}
    )
    assert_problem(response, 401, "/unauthorized")


async def test_integer_exp_is_accepted(client: AsyncTestClient[Any]) -> None:
    response = await client.get(
        "/v1/orders",
        headers={"Authorization": f"Bearer {_token_with_exp(int(time.time()) + 600)}"},
    )
    assert response.status_code == 200


# --- rate limiting covers reads too -------------------------------------------------------------


async def test_reads_are_rate_limited_per_principal(database: Database, redis_url: str) -> None:
    settings = make_settings(
        database, redis_url,
        ORDERS_READ_RATE_LIMIT_PER_SECOND="0.1", ORDERS_READ_RATE_LIMIT_BURST="3",
    )
    async with AsyncTestClient(app=create_app(settings, Metrics())) as client:
        statuses = [
            (await client.get("/v1/orders", headers=auth_headers("ACC-1"))).status_code
            for _ in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]
        limited = await client.get("/v1/orders", headers=auth_headers("ACC-1"))
        assert_problem(limited, 429, "/rate-limited")
        assert int(limited.headers["retry-after"]) >= 1
        other = await client.get("/v1/orders", headers=auth_headers("ACC-1", subject="bob"))
        assert other.status_code == 200


# --- audit trail: what an account holder may see -------------------------------------------------


async def test_audit_trail_hides_keys_request_ids_and_worker_identity(
    client: AsyncTestClient[Any], database: Database
) -> None:
    key = new_key()
    placed = await client.post(
        "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=key)
    )
    order_id = placed.json()["id"]
    conn = await database.connect()
    try:
        from service import venue as domain

        await domain.apply_venue_event(
            conn, event_id=__import__("uuid").uuid4(), order_id=__import__("uuid").UUID(order_id),
            event_type="order.created", consumer="worker-host.internal-4242",
        )
    finally:
        await conn.close()
    response = await client.get(f"/v1/orders/{order_id}/events", headers=auth_headers("ACC-1"))
    assert response.status_code == 200
    text = response.text
    assert key not in text
    assert "host.internal" not in text and "4242" not in text
    assert placed.headers["x-request-id"] not in text
    events = response.json()["events"]
    assert [e["event_type"] for e in events] == ["order.created", "order.submitted", "order.filled"]
    assert [e["actor"] for e in events] == ["client", "venue", "venue"]
    assert events[0]["payload"]["order"]["id"] == order_id
    assert events[2]["payload"]["fill_quantity"] == "10.5"


# --- 404 and 405 are logged and counted -----------------------------------------------------------


async def test_unknown_routes_and_methods_are_logged_and_counted(
    database: Database, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = Metrics()
    async with AsyncTestClient(app=create_app(make_settings(database, redis_url), metrics)) as c:
        capsys.readouterr()
        assert (await c.get("/v1/nothing")).status_code == 404
        assert (await c.delete("/v1/orders")).status_code == 405
        logged = capsys.readouterr().out
    assert "/v1/nothing" in logged and "404" in logged and "405" in logged, logged
    samples = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in metrics.registry.collect()
        if family.name == "http_request_duration_seconds"
        for s in family.samples
        if s.name.endswith("_count")
    }
    assert samples.get(("GET", "unmatched", "404")) == 1, samples
    assert samples.get(("DELETE", "unmatched", "405")) == 1, samples


async def test_options_lists_every_method_of_the_path(client: AsyncTestClient[Any]) -> None:
    response = await client.options("/v1/orders")
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "OPTIONS", "POST"}

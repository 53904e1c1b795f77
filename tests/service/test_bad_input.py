"""Every bad-input class gets a 4xx problem+json and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.service.conftest import Database, auth_headers, new_key, order_body


async def assert_nothing_written(database: Database) -> None:
    for table in ("orders", "audit_events", "outbox", "idempotency_keys"):
        assert await database.fetchval(f"SELECT count(*) FROM {table}") == 0, table


def assert_problem(response: Any, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].endswith(type_suffix), problem
    assert problem["title"] and problem["detail"]
    return problem


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "1e3"}, "quantity"),
        ({"quantity": "1.123456789"}, "quantity"),
        ({"quantity": "1234567890123456789"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"limit_price": "0"}, "limit_price"),
        ({"limit_price": None}, "limit_price"),
        ({"order_type": "market"}, "limit_price"),
        ({"instrument": "US0378331006"}, "instrument"),
        ({"instrument": "AAPL"}, "instrument"),
        ({"currency": "XXX"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"account_id": "ACC 1"}, "account_id"),
        ({"client_order_id": "x" * 65}, "client_order_id"),
    ],
)
async def test_field_rules(
    client: AsyncTestClient[Any], database: Database, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post(
        "/v1/orders",
        json=order_body(**overrides),
        headers=auth_headers("ACC-1", "ACC 1", key=new_key()),
    )
    problem = assert_problem(response, 400, "/validation-error")
    assert field in {error["field"] for error in problem["errors"]}
    await assert_nothing_written(database)


@pytest.mark.parametrize(
    "body",
    [
        {**order_body(), "unexpected": 1},
        {k: v for k, v in order_body().items() if k != "side"},
        {**order_body(), "side": "short"},
        {**order_body(), "time_in_force": "FOREVER"},
        {**order_body(), "quantity": 10.5},
    ],
    ids=["unknown-field", "missing-field", "bad-enum", "bad-tif", "number-not-string"],
)
async def test_schema_violations(
    client: AsyncTestClient[Any], database: Database, body: dict[str, Any]
) -> None:
    response = await client.post(
        "/v1/orders", json=body, headers=auth_headers("ACC-1", key=new_key())
    )
    assert_problem(response, 400, "/validation-error")
    await assert_nothing_written(database)


async def test_malformed_json(client: AsyncTestClient[Any], database: Database) -> None:
    response = await client.post(
        "/v1/orders",
        content=b"{not json",
        headers={**auth_headers("ACC-1", key=new_key()), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    await assert_nothing_written(database)


async def test_body_size_limit(client: AsyncTestClient[Any], database: Database) -> None:
    huge = order_body(client_order_id="a" * 20_000)
    response = await client.post(
        "/v1/orders", json=huge, headers=auth_headers("ACC-1", key=new_key())
    )
    assert_problem(response, 413, "/payload-too-large")
    await assert_nothing_written(database)


@pytest.mark.parametrize(
    ("key", "slug"),
    [
        (None, "/idempotency-key-missing"),
        ("short", "/idempotency-key-malformed"),
        ("has space in it", "/idempotency-key-malformed"),
        ("k" * 129, "/idempotency-key-malformed"),
        ("ключ-ключ-ключ", "/idempotency-key-malformed"),
    ],
)
async def test_idempotency_key_bounds(
    client: AsyncTestClient[Any], database: Database, key: str | None, slug: str
) -> None:
    headers: dict[str, Any] = auth_headers("ACC-1")
    if key is not None:
        headers["Idempotency-Key"] = key.encode()  # raw UTF-8 bytes on the wire
    response = await client.post("/v1/orders", json=order_body(), headers=headers)
    assert_problem(response, 400, slug)
    await assert_nothing_written(database)


async def test_structured_field_string_key_is_accepted(client: AsyncTestClient[Any]) -> None:
    key = new_key()
    quoted = await client.post(
        "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=f'"{key}"')
    )
    bare = await client.post(
        "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=key)
    )
    assert quoted.status_code == 201
    assert bare.headers["idempotent-replayed"] == "true"


async def test_unknown_route_and_method_are_problems(client: AsyncTestClient[Any]) -> None:
    assert_problem(await client.get("/v1/nothing"), 404, "/not-found")
    assert_problem(
        await client.delete("/v1/orders", headers=auth_headers("ACC-1")), 405, "/method-not-allowed"
    )


async def test_bad_order_id_and_query(client: AsyncTestClient[Any]) -> None:
    headers = auth_headers("ACC-1")
    assert (await client.get("/v1/orders/not-a-uuid", headers=headers)).status_code == 404
    assert_problem(
        await client.get("/v1/orders?limit=0", headers=headers), 400, "/validation-error"
    )
    assert_problem(
        await client.get("/v1/orders?status=NOPE", headers=headers), 400, "/validation-error"
    )
    assert_problem(
        await client.get("/v1/orders?cursor=%%%", headers=headers), 400, "/invalid-cursor"
    )

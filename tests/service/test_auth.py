"""Bearer JWT authentication and account isolation."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.service.conftest import (
    JWT_SECRET,
    Database,
    auth_headers,
    new_key,
    order_body,
    token_for,
)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        f"Bearer {token_for('ACC-1', secret='another-secret-that-is-long-enough-0123')}",
        f"Bearer {token_for('ACC-1', issuer='someone-else')}",
        f"Bearer {token_for('ACC-1', audience='another-api')}",
        f"Bearer {token_for('ACC-1', ttl_seconds=-120)}",
    ],
    ids=["missing", "basic", "garbage", "wrong-key", "wrong-issuer", "wrong-audience", "expired"],
)
async def test_rejected_tokens(
    client: AsyncTestClient[Any], database: Database, authorization: str | None
) -> None:
    headers = {"Idempotency-Key": new_key()}
    if authorization:
        headers["Authorization"] = authorization
    response = await client.post("/v1/orders", json=order_body(), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert JWT_SECRET not in response.text
    assert await database.fetchval("SELECT count(*) FROM orders") == 0


async def test_order_for_account_not_in_token_is_403(
    client: AsyncTestClient[Any], database: Database
) -> None:
    response = await client.post(
        "/v1/orders", json=order_body("ACC-2"), headers=auth_headers("ACC-1", key=new_key())
    )
    assert response.status_code == 403
    assert await database.fetchval("SELECT count(*) FROM orders") == 0


async def test_other_accounts_orders_are_invisible(client: AsyncTestClient[Any]) -> None:
    placed = await client.post(
        "/v1/orders", json=order_body("ACC-1"), headers=auth_headers("ACC-1", key=new_key())
    )
    order_id = placed.json()["id"]
    mallory = auth_headers("ACC-9", subject="mallory")
    assert (await client.get(f"/v1/orders/{order_id}", headers=mallory)).status_code == 404
    assert (await client.get(f"/v1/orders/{order_id}/events", headers=mallory)).status_code == 404
    assert (await client.post(f"/v1/orders/{order_id}/cancel", headers=mallory)).status_code == 404
    listing = await client.get("/v1/orders", headers=mallory)
    assert listing.json()["items"] == []
    assert (await client.get("/v1/orders?account_id=ACC-1", headers=mallory)).status_code == 403
    # The owner still sees it; a second principal holding the account sees it too.
    assert (
        await client.get(f"/v1/orders/{order_id}", headers=auth_headers("ACC-1"))
    ).status_code == 200
    colleague = auth_headers("ACC-1", subject="bob")
    assert (await client.get(f"/v1/orders/{order_id}", headers=colleague)).status_code == 200


async def test_token_cli_prints_a_usable_token(
    client: AsyncTestClient[Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from service.__main__ import main

    monkeypatch.setenv("ORDERS_JWT_SECRET", JWT_SECRET)
    assert main(["token", "--account", "ACC-1", "--account", "ACC-2", "--subject", "carol"]) == 0
    token = capsys.readouterr().out.strip()
    response = await client.get(
        "/v1/orders?account_id=ACC-2", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def test_token_cli_refuses_without_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.__main__ import main

    monkeypatch.delenv("ORDERS_JWT_SECRET", raising=False)
    assert main(["token", "--account", "ACC-1"]) == 2

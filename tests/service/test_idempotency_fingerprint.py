"""The idempotency fingerprint covers the body as sent, not the schema it is parsed into."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from service.api.schemas import CreateOrderRequest
from service.app import create_app
from service.observability import Metrics
from service.orders import controller as orders_api
from tests.service.conftest import Database, auth_headers, make_settings, new_key, order_body


class CreateOrderRequestWithNewOptionalField(CreateOrderRequest, kw_only=True):
    """What the next release might add: an optional field an old client never sends."""

    note: str | None = None


async def test_adding_an_optional_field_keeps_the_fingerprint_of_an_unchanged_body(
    database: Database, redis_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, body = new_key(), order_body()
    settings = make_settings(database, None)  # the database decides, not the Redis cache
    async with AsyncTestClient(app=create_app(settings, Metrics())) as before_deploy:
        first = await before_deploy.post(
            "/v1/orders", json=body, headers=auth_headers("ACC-1", key=key)
        )
    assert first.status_code == 201
    monkeypatch.setattr(orders_api, "CreateOrderRequest", CreateOrderRequestWithNewOptionalField)
    async with AsyncTestClient(app=create_app(settings, Metrics())) as after_deploy:
        retry = await after_deploy.post(
            "/v1/orders", json=body, headers=auth_headers("ACC-1", key=key)
        )
        accepts_new_field = await after_deploy.post(
            "/v1/orders", json={**body, "note": "x"}, headers=auth_headers("ACC-1", key=new_key())
        )
    assert accepts_new_field.status_code == 201, "the patched schema is in effect"
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()


def canonical_sha256(document: Any) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def test_stored_fingerprint_is_the_canonical_json_of_the_body_as_sent(
    client: AsyncTestClient[Any], database: Database
) -> None:
    body = order_body(instrument="US0378331005", client_order_id=None)
    raw = b'{ "time_in_force":"DAY",' + json.dumps(body).encode()[1:]  # odd order and spacing
    response = await client.post(
        "/v1/orders", content=raw,
        headers={**auth_headers("ACC-1", key="fingerprint-1"), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    stored = await database.fetchval("SELECT request_hash FROM idempotency_keys")
    assert stored == canonical_sha256(body)
    assert stored != canonical_sha256(msgspec.to_builtins(msgspec.convert(body, CreateOrderRequest)))


def test_fingerprint_ignores_key_order_and_whitespace_but_not_values() -> None:
    from service.domain.idempotency import body_fingerprint

    a = body_fingerprint({"b": "2", "a": "1"})
    assert a == body_fingerprint({"a": "1", "b": "2"})
    assert a != body_fingerprint({"a": "1", "b": "3"})
    assert a != body_fingerprint({"a": "1", "b": "2", "c": None})

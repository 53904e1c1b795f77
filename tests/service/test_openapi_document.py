"""The OpenAPI document tells the truth about statuses, errors, headers and security."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE


@pytest.fixture
async def document(client: AsyncTestClient[Any]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def problem_types(response: dict[str, Any]) -> set[str]:
    schema = response["content"][PROBLEM_MEDIA_TYPE]["schema"]
    return {t for part in schema["allOf"] for t in
            part.get("properties", {}).get("type", {}).get("enum", [])}


async def test_placing_an_order_is_documented_as_it_behaves(document: dict[str, Any]) -> None:
    place = document["paths"]["/v1/orders"]["post"]
    created = place["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/OrderView")
    assert set(created["headers"]) >= {"Location", "Idempotent-Replayed"}
    assert {"ReadOrder", "CancelOrder", "OrderEvents"} <= set(created["links"])
    assert {"400", "401", "403", "409", "413", "415", "422", "429", "503"} <= set(
        place["responses"]
    )
    key = next(p for p in place["parameters"] if p["name"] == "Idempotency-Key")
    assert key["required"] is True and key["in"] == "header"
    assert place["security"] == [{"BearerJWT": []}]
    body = place["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False
    assert "USD" in body["properties"]["currency"]["enum"]
    assert PROBLEM_BASE + "idempotency-key-reused" in problem_types(place["responses"]["422"])
    assert PROBLEM_BASE + "idempotency-key-in-flight" in problem_types(place["responses"]["409"])


async def test_every_order_operation_documents_problem_json_errors(
    document: dict[str, Any],
) -> None:
    scheme = document["components"]["securitySchemes"]["BearerJWT"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/v1/"):
                continue
            responses = operation["responses"]
            assert {"401", "429", "503"} <= set(responses), (method, path)
            for status, response in responses.items():
                if int(status) >= 400:
                    assert problem_types(response), (method, path, status)
                    assert all(t.startswith(PROBLEM_BASE) for t in problem_types(response))

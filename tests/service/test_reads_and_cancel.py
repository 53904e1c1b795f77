"""Reading, listing (keyset pagination), cancelling and the audit trail of an order."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.domain.states import OrderStatus
from tests.service.conftest import Database, auth_headers, new_key, order_body


async def place(
    client: AsyncTestClient[Any], account: str = "ACC-1", **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/orders",
        json=order_body(account, **overrides),
        headers=auth_headers("ACC-1", "ACC-2", key=new_key()),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_read_order(client: AsyncTestClient[Any]) -> None:
    order = await place(client)
    response = await client.get(f"/v1/orders/{order['id']}", headers=auth_headers("ACC-1"))
    assert response.status_code == 200
    assert response.json() == order


async def test_keyset_pagination_walks_every_order_once(client: AsyncTestClient[Any]) -> None:
    placed = [await place(client, "ACC-1" if i % 3 else "ACC-2") for i in range(11)]
    headers = auth_headers("ACC-1", "ACC-2")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        url = "/v1/orders?limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=headers)).json()
        seen.extend(item["id"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [order["id"] for order in reversed(placed)]  # newest first, no repeats
    only_acc2 = (await client.get("/v1/orders?account_id=ACC-2&limit=50", headers=headers)).json()
    assert {item["account_id"] for item in only_acc2["items"]} == {"ACC-2"}
    assert len(only_acc2["items"]) == 4


async def test_status_filter(client: AsyncTestClient[Any]) -> None:
    keep = await place(client)
    cancelled = await place(client)
    await client.post(f"/v1/orders/{cancelled['id']}/cancel", headers=auth_headers("ACC-1"))
    page = (await client.get("/v1/orders?status=PENDING", headers=auth_headers("ACC-1"))).json()
    assert [item["id"] for item in page["items"]] == [keep["id"]]


async def test_cancel_is_idempotent_and_audited(
    client: AsyncTestClient[Any], database: Database
) -> None:
    order = await place(client)
    headers = auth_headers("ACC-1")
    first = await client.post(f"/v1/orders/{order['id']}/cancel", headers=headers)
    second = await client.post(f"/v1/orders/{order['id']}/cancel", headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "CANCELLED"
    events = (await client.get(f"/v1/orders/{order['id']}/events", headers=headers)).json()[
        "events"
    ]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "PENDING"),
        ("PENDING", "CANCELLED"),
    ]
    assert events[1]["prev_hash"] == events[0]["hash"]
    outbox = await database.fetch("SELECT event_type FROM outbox ORDER BY id")
    assert [row["event_type"] for row in outbox] == ["order.created", "order.cancelled"]


@pytest.mark.parametrize("terminal", [OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.FAILED])
async def test_cancel_from_terminal_state_is_409(
    client: AsyncTestClient[Any], database: Database, terminal: OrderStatus
) -> None:
    order = await place(client)
    await database.fetch(
        "UPDATE orders SET status = $1 WHERE id = $2::uuid", terminal.value, order["id"]
    )
    response = await client.post(f"/v1/orders/{order['id']}/cancel", headers=auth_headers("ACC-1"))
    assert response.status_code == 409
    assert response.json()["current_status"] == terminal.value
    assert await database.fetchval("SELECT count(*) FROM audit_events") == 1


async def test_unknown_order_is_404(client: AsyncTestClient[Any]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    headers = auth_headers("ACC-1")
    assert (await client.get(f"/v1/orders/{missing}", headers=headers)).status_code == 404
    assert (await client.post(f"/v1/orders/{missing}/cancel", headers=headers)).status_code == 404

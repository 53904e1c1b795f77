"""API request and response bodies."""

from __future__ import annotations

from typing import Literal

import msgspec


class CreateOrderRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    account_id: str
    instrument: str
    side: Literal["buy", "sell"]
    order_type: Literal["market", "limit"]
    quantity: str
    currency: str
    time_in_force: Literal["DAY", "GTC", "IOC", "FOK"]
    limit_price: str | None = None
    client_order_id: str | None = None


class OrderView(msgspec.Struct, kw_only=True):
    id: str
    account_id: str
    client_order_id: str | None
    instrument: str
    side: str
    order_type: str
    quantity: str
    limit_price: str | None
    currency: str
    time_in_force: str
    status: str
    filled_quantity: str
    created_at: str
    updated_at: str


class OrderPage(msgspec.Struct, kw_only=True):
    items: list[OrderView]
    next_cursor: str | None


class AuditEventView(msgspec.Struct, kw_only=True):
    seq: int
    event_id: str
    order_id: str
    event_type: str
    from_status: str | None
    to_status: str
    actor: str
    payload: dict[str, object]
    occurred_at: str
    prev_hash: str
    hash: str


class AuditTrail(msgspec.Struct, kw_only=True):
    order_id: str
    events: list[AuditEventView]

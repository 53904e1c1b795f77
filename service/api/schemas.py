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
    leaf_index: int | None  # None until the integrator has appended it to the tree
    leaf_hash: str  # base64 RFC 9162 leaf hash of the event's canonical encoding
    inclusion_proof: list[str] | None  # base64 hashes, against `checkpoint`
    prev_hash: str | None = None  # events from the hash-chain era only
    hash: str | None = None


class CheckpointView(msgspec.Struct, kw_only=True):
    tree_size: int
    root_hash: str
    issued_at: str
    note: str  # the C2SP signed note, as published


class AuditTrail(msgspec.Struct, kw_only=True):
    order_id: str
    events: list[AuditEventView]
    checkpoint: CheckpointView | None

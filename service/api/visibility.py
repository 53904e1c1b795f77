"""What an account holder may see of an order's audit trail.

The full event (creator's idempotency key, request id, outbox ids, the worker's host and
PID) stays in the database for auditors (`python -m service audit verify`). An account
holder sees what happened to the order and when, who acted by role (`client` for API
actions, `venue` for the execution venue), the order document and the venue's reason or
fill quantity, and the chain hashes; fields added to events later (such as inclusion
proofs) pass through.
"""

from __future__ import annotations

from typing import Any

CLIENT_EVENT_TYPES = frozenset({"order.created", "order.cancelled"})
VISIBLE_PAYLOAD_FIELDS = frozenset({"order", "reason", "fill_quantity"})


def account_holder_view(event: dict[str, Any]) -> dict[str, Any]:
    payload = event.get("payload") or {}
    return {
        **event,
        "actor": "client" if event.get("event_type") in CLIENT_EVENT_TYPES else "venue",
        "payload": {k: v for k, v in payload.items() if k in VISIBLE_PAYLOAD_FIELDS},
    }

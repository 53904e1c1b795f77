"""Appending audit events, in the caller's transaction, without touching any shared row.

Each event is inserted with its RFC 9162 leaf hash: SHA-256(0x00 || canonical encoding).
The canonical encoding (format 2) is UTF-8 JSON with sorted keys, no spaces, non-ASCII
kept as is, timestamps in UTC with microseconds:
    {"actor","event_id","event_type","format":2,"from_status","occurred_at","order_id",
     "payload","to_status"}
Rows written before the Merkle log (format 1) keep their hash-chain encoding, which also
covers their `seq` and `prev_hash`; they become the tree's first leaves, in seq order.
The integrator later gives each committed event its leaf index.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from service.audit.merkle import leaf_hash

FORMAT_CHAIN = 1
FORMAT_MERKLE = 2


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    event_id: uuid.UUID
    order_id: uuid.UUID
    event_type: str
    from_status: str | None
    to_status: str
    actor: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    prev_hash: str | None = None  # format 1 only
    hash: str | None = None  # format 1 only
    leaf_hash: bytes | None = None  # as stored (format 2)
    leaf_index: int | None = None  # None until integrated

    @property
    def format(self) -> int:
        return FORMAT_CHAIN if self.hash is not None else FORMAT_MERKLE

    def encoding(self) -> bytes:
        if self.format == FORMAT_CHAIN:
            return chain_encoding(self)
        return canonical_encoding(
            event_id=self.event_id, order_id=self.order_id, event_type=self.event_type,
            from_status=self.from_status, to_status=self.to_status, actor=self.actor,
            payload=self.payload, occurred_at=self.occurred_at,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.seq,
            "event_id": str(self.event_id),
            "order_id": str(self.order_id),
            "event_type": self.event_type,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "actor": self.actor,
            "payload": dict(self.payload),
            "occurred_at": self.occurred_at.isoformat(),
            "leaf_index": self.leaf_index,
            "leaf_hash": base64.b64encode(leaf_hash(self.encoding())).decode(),
        }
        if self.hash is not None:
            out["prev_hash"], out["hash"] = self.prev_hash, self.hash
        return out


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _dumps(document: Mapping[str, Any]) -> bytes:
    return _CANONICAL.encode(document).encode()


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_encoding(
    *,
    event_id: uuid.UUID,
    order_id: uuid.UUID,
    event_type: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
) -> bytes:
    return _dumps({
        "format": FORMAT_MERKLE,
        "event_id": str(event_id),
        "order_id": str(order_id),
        "event_type": event_type,
        "from_status": from_status,
        "to_status": to_status,
        "actor": actor,
        "payload": payload,
        "occurred_at": _utc_text(occurred_at),
    })


def chain_encoding(event: AuditEvent) -> bytes:
    """The hash-chain era encoding (what each legacy row's `hash` covers)."""
    return _dumps({
        "seq": event.seq,
        "event_id": str(event.event_id),
        "order_id": str(event.order_id),
        "event_type": event.event_type,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": event.actor,
        "payload": event.payload,
        "occurred_at": _utc_text(event.occurred_at),
        "prev_hash": event.prev_hash,
    })


@dataclass(frozen=True)
class PreparedEvent:
    """A new event's id, the payload as stored (JSON text) and its RFC 9162 leaf hash."""

    event_id: uuid.UUID
    payload: str
    leaf_hash: bytes


def prepare_event(
    *,
    order_id: uuid.UUID,
    event_type: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
) -> PreparedEvent:
    """What an insert of the event needs that the database cannot compute (the leaf hash
    covers the canonical encoding that `audit verify` recomputes from the stored row)."""
    event_id = uuid.uuid4()
    digest = leaf_hash(canonical_encoding(
        event_id=event_id, order_id=order_id, event_type=event_type, from_status=from_status,
        to_status=to_status, actor=actor, payload=payload, occurred_at=occurred_at,
    ))
    return PreparedEvent(event_id, json.dumps(payload), digest)


async def append_event(
    conn: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    event_type: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
) -> uuid.UUID:
    """Insert one event inside the caller's transaction: one INSERT, no shared row, so
    concurrent state changes never wait on each other here. Returns the event id."""
    event = prepare_event(
        order_id=order_id, event_type=event_type, from_status=from_status,
        to_status=to_status, actor=actor, payload=payload, occurred_at=occurred_at,
    )
    await conn.execute(
        """
        INSERT INTO audit_events (event_id, order_id, event_type, from_status, to_status,
                                  actor, payload, occurred_at, leaf_hash)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)
        """,
        event.event_id, order_id, event_type, from_status, to_status, actor,
        event.payload, occurred_at, event.leaf_hash,
    )
    return event.event_id


AUDIT_COLUMNS = (
    "e.seq, e.event_id, e.order_id, e.event_type, e.from_status, e.to_status, e.actor,"
    " e.payload::text AS payload, e.occurred_at, e.prev_hash, e.hash, e.leaf_hash"
)


def row_to_event(row: Mapping[str, Any], leaf_index: int | None = None) -> AuditEvent:
    return AuditEvent(
        seq=row["seq"],
        event_id=row["event_id"],
        order_id=row["order_id"],
        event_type=row["event_type"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        actor=row["actor"],
        # msgspec decodes JSON to the same Python values as json.loads, faster; the
        # canonical encoding is still produced by json (see _dumps).
        payload=msgspec.json.decode(row["payload"]),
        occurred_at=row["occurred_at"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        leaf_hash=bytes(row["leaf_hash"]) if row["leaf_hash"] is not None else None,
        leaf_index=leaf_index,
    )


async def events_for_order(conn: asyncpg.Connection, order_id: uuid.UUID) -> list[AuditEvent]:
    """The order's events, integrated ones in leaf order, then the rest in insert order."""
    rows = await conn.fetch(
        f"""
        SELECT {AUDIT_COLUMNS}, l.leaf_index FROM audit_events e
        -- a primary-key probe per event, never a join over the whole tree
        LEFT JOIN LATERAL (SELECT x.leaf_index FROM audit_leaves x WHERE x.seq = e.seq) l
          ON true
        WHERE e.order_id = $1 ORDER BY l.leaf_index NULLS LAST, e.seq
        """,  # noqa: S608
        order_id,
    )
    return [row_to_event(row, row["leaf_index"]) for row in rows]


def utc_now() -> datetime:
    return datetime.now(UTC)

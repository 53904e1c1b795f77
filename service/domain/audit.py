"""Append-only, hash-chained audit log.

Each event's hash is SHA-256 over a canonical JSON encoding of the event, which includes
the previous event's hash. Appenders serialise on the single chain-head row, so the chain
is one total order; keep the append the last statement before COMMIT to hold that lock
briefly.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

GENESIS_HASH = "0" * 64


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
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event_id": str(self.event_id),
            "order_id": str(self.order_id),
            "event_type": self.event_type,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "actor": self.actor,
            "payload": dict(self.payload),
            "occurred_at": self.occurred_at.isoformat(),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def canonical_encoding(
    *,
    seq: int,
    event_id: uuid.UUID,
    order_id: uuid.UUID,
    event_type: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
    prev_hash: str,
) -> bytes:
    document = {
        "seq": seq,
        "event_id": str(event_id),
        "order_id": str(order_id),
        "event_type": event_type,
        "from_status": from_status,
        "to_status": to_status,
        "actor": actor,
        "payload": payload,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(encoding: bytes) -> str:
    return hashlib.sha256(encoding).hexdigest()


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
) -> AuditEvent:
    """Append one event inside the caller's transaction."""
    head = await conn.fetchrow(
        "SELECT last_seq, last_hash FROM audit_chain_head WHERE singleton FOR UPDATE"
    )
    if head is None:
        raise RuntimeError("audit_chain_head is missing: run `python -m service migrate`")
    seq = int(head["last_seq"]) + 1
    event_id = uuid.uuid4()
    fields: dict[str, Any] = {
        "seq": seq,
        "event_id": event_id,
        "order_id": order_id,
        "event_type": event_type,
        "from_status": from_status,
        "to_status": to_status,
        "actor": actor,
        "payload": payload,
        "occurred_at": occurred_at,
        "prev_hash": head["last_hash"],
    }
    digest = event_hash(canonical_encoding(**fields))
    await conn.execute(
        """
        INSERT INTO audit_events (seq, event_id, order_id, event_type, from_status, to_status,
                                  actor, payload, occurred_at, prev_hash, hash)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)
        """,
        seq, event_id, order_id, event_type, from_status, to_status, actor,
        json.dumps(payload), occurred_at, head["last_hash"], digest,
    )
    await conn.execute(
        "UPDATE audit_chain_head SET last_seq = $1, last_hash = $2 WHERE singleton", seq, digest
    )
    return AuditEvent(hash=digest, **fields)


def row_to_event(row: Mapping[str, Any]) -> AuditEvent:
    return AuditEvent(
        seq=row["seq"],
        event_id=row["event_id"],
        order_id=row["order_id"],
        event_type=row["event_type"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        actor=row["actor"],
        payload=json.loads(row["payload"]),
        occurred_at=row["occurred_at"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


AUDIT_COLUMNS = (
    "seq, event_id, order_id, event_type, from_status, to_status, actor, payload::text AS payload,"
    " occurred_at, prev_hash, hash"
)


async def events_for_order(conn: asyncpg.Connection, order_id: uuid.UUID) -> list[AuditEvent]:
    rows = await conn.fetch(
        f"SELECT {AUDIT_COLUMNS} FROM audit_events WHERE order_id = $1 ORDER BY seq",  # noqa: S608
        order_id,
    )
    return [row_to_event(row) for row in rows]


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    events_checked: int
    broken_seq: int | None = None
    reason: str | None = None


async def verify_chain(conn: asyncpg.Connection, batch_size: int = 5000) -> ChainVerdict:
    """Recompute every hash in seq order; report the first broken link."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = conn.cursor(
            f"SELECT {AUDIT_COLUMNS} FROM audit_events ORDER BY seq",  # noqa: S608
            prefetch=batch_size,
        )
        async for row in cursor:
            event = row_to_event(row)
            if event.seq != expected_seq:
                return ChainVerdict(
                    False, checked, expected_seq,
                    f"event seq {expected_seq} is missing (next present is {event.seq})",
                )
            if event.prev_hash != prev_hash:
                return ChainVerdict(
                    False, checked, event.seq,
                    "prev_hash does not match the previous event's hash",
                )
            recomputed = event_hash(
                canonical_encoding(
                    seq=event.seq, event_id=event.event_id, order_id=event.order_id,
                    event_type=event.event_type, from_status=event.from_status,
                    to_status=event.to_status, actor=event.actor, payload=event.payload,
                    occurred_at=event.occurred_at, prev_hash=event.prev_hash,
                )
            )
            if recomputed != event.hash:
                return ChainVerdict(
                    False, checked, event.seq,
                    "content does not match its hash (the event was altered)",
                )
            prev_hash = event.hash
            expected_seq += 1
            checked += 1
        head = await conn.fetchrow(
            "SELECT last_seq, last_hash FROM audit_chain_head WHERE singleton"
        )
    if head is None or head["last_seq"] != checked or head["last_hash"] != prev_hash:
        return ChainVerdict(
            False, checked, checked + 1,
            "chain head does not match the last event (events removed from the end?)",
        )
    return ChainVerdict(True, checked)


def utc_now() -> datetime:
    return datetime.now(UTC)

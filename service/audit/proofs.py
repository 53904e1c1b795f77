"""Proofs for clients and auditors: an order's events with inclusion proofs against a
published checkpoint, consistency proofs between tree sizes, and self-contained bundles
that `auditor/verify_bundle.py` checks with no database."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from service.audit import tree
from service.audit.checkpoints import AuditConfig
from service.audit.log import events_for_order
from service.audit.notes import Checkpoint

BUNDLE_FORMAT = "orders-audit-bundle/1"


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@dataclass(frozen=True)
class PublishedNote:
    tree_size: int
    root_hash: bytes
    issued_at: datetime
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": b64(self.root_hash),
            "issued_at": self.issued_at.isoformat(),
            "note": self.note,
        }


class CheckpointSource:
    """The newest published checkpoint: one indexed query. Its note is the exact bytes the
    integrator published to the store (clients verify the signature, not this server)."""

    async def latest(self, conn: asyncpg.Connection) -> PublishedNote | None:
        row = await conn.fetchrow(
            "SELECT tree_size, root_hash, issued_at, note FROM audit_checkpoints"
            " WHERE published_at IS NOT NULL ORDER BY tree_size DESC, issued_at DESC LIMIT 1"
        )
        if row is None or row["note"] is None:
            return None
        # Serve a note only for exactly the tree the database describes.
        if Checkpoint.parse(row["note"].split("\n\n")[0] + "\n").root_hash != bytes(
            row["root_hash"]
        ):
            return None
        return PublishedNote(row["tree_size"], bytes(row["root_hash"]), row["issued_at"],
                             row["note"])


async def order_trail(
    conn: asyncpg.Connection, order_id: uuid.UUID, checkpoint: PublishedNote | None
) -> dict[str, Any]:
    """The order's events; each leaf covered by the checkpoint carries its inclusion proof."""
    events = await events_for_order(conn, order_id)
    size = checkpoint.tree_size if checkpoint else 0
    covered = [e.leaf_index for e in events if e.leaf_index is not None and e.leaf_index < size]
    proofs = dict(zip(covered, await tree.inclusion_proofs(conn, covered, size), strict=True))
    documents = []
    for event in events:
        document = event.to_json()
        proof = proofs.get(event.leaf_index) if event.leaf_index is not None else None
        document["inclusion_proof"] = [b64(p) for p in proof] if proof is not None else None
        documents.append(document)
    return {
        "order_id": str(order_id),
        "events": documents,
        "checkpoint": checkpoint.to_json() if checkpoint else None,
    }


async def consistency(conn: asyncpg.Connection, first: int, second: int) -> dict[str, Any]:
    return {
        "first": first,
        "second": second,
        "proof": [b64(p) for p in await tree.consistency_proof(conn, first, second)],
    }


async def bundle(
    conn: asyncpg.Connection, config: AuditConfig, order_id: uuid.UUID,
    checkpoint: PublishedNote,
) -> dict[str, Any]:
    """Everything an auditor needs for one order's trail, against one signed checkpoint:
    each event's exact leaf bytes, its leaf index and inclusion proof."""
    trail = await order_trail(conn, order_id, checkpoint)
    events = await events_for_order(conn, order_id)
    entries = []
    for event, document in zip(events, trail["events"], strict=True):
        if document["inclusion_proof"] is None:
            continue  # not yet covered by the checkpoint: nothing to prove it with yet
        entries.append({
            "leaf_index": event.leaf_index,
            "leaf_data": b64(event.encoding()),
            "inclusion_proof": document["inclusion_proof"],
        })
    return {
        "format": BUNDLE_FORMAT,
        "origin": config.origin,
        "order_id": str(order_id),
        "checkpoint": checkpoint.to_json(),
        "events": entries,
        "not_yet_covered": len(events) - len(entries),
    }

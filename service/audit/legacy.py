"""The hash chain that preceded the Merkle log: verified once before its rows become leaves."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg

from service.audit.log import AUDIT_COLUMNS, chain_encoding, row_to_event

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    broken_seq: int | None = None
    reason: str = ""


async def verify_legacy_chain(conn: asyncpg.Connection) -> ChainCheck:
    """Recompute the old chain (seq 1..n, each hash over its content and the previous hash)
    and compare its end with the frozen `audit_chain_head`."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    rows = await conn.fetch(
        f"SELECT {AUDIT_COLUMNS} FROM audit_events e WHERE e.hash IS NOT NULL ORDER BY e.seq"  # noqa: S608
    )
    for row in rows:
        event = row_to_event(row)
        if event.seq != expected_seq:
            return ChainCheck(False, count, expected_seq,
                              f"chain event seq {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainCheck(False, count, event.seq, "prev_hash does not match the chain")
        if hashlib.sha256(chain_encoding(event)).hexdigest() != event.hash:
            return ChainCheck(False, count, event.seq, "content does not match its chain hash")
        prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
    head = await conn.fetchrow("SELECT last_seq, last_hash FROM audit_chain_head")
    if head is None or head["last_seq"] != count or head["last_hash"] != prev_hash:
        return ChainCheck(False, count, count + 1,
                          "chain head does not match the last chain event")
    return ChainCheck(True, count)

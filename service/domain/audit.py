"""Compatibility names for code written against the hash-chain audit log.

The audit log now lives in `service.audit` (a Merkle transparency log); this module keeps
the old import path of the append function and a database-only `verify_chain` for callers
such as the drill checker's in-process verifier. Full verification, against the signed
checkpoints kept outside the database, is `python -m service audit verify`.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from service.audit.log import AuditEvent, append_event, events_for_order, utc_now

__all__ = ["AuditEvent", "ChainVerdict", "append_event", "events_for_order", "utc_now",
           "verify_chain"]


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    events_checked: int
    broken_seq: int | None = None
    reason: str | None = None


async def verify_chain(conn: asyncpg.Connection) -> ChainVerdict:
    """The database-internal checks of the full verifier (no checkpoint store)."""
    from service.audit.verify import verify_database

    report = await verify_database(conn)
    if report.divergence is None:
        return ChainVerdict(True, report.events_checked)
    return ChainVerdict(
        False, report.events_checked, report.divergence.seq, report.divergence.describe()
    )

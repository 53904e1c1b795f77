"""`audit verify`: recompute every leaf and the tree, and check them against the signed
checkpoints published outside the database.

Database-internal checks (any role that can read): every leaf index present once, every
event's content matching the leaf hash it was integrated (and written) with, no event
below the integrator's cursor left out of the tree, the stored tree's root equal to the
recomputed one. These find careless tampering and name the exact event.

Checkpoint checks (the anchor the database cannot rewrite): each published checkpoint's
signature, then the recomputed root over the first N leaves equal to every checkpoint of
size N, and no checkpoint larger than the tree. A superuser who rewrites events *and*
recomputes every hash, leaf and node (a rebuilt tree), or who restores an older copy of
the database, passes the first group but not this one.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from service.audit import merkle, tree
from service.audit.checkpoints import AuditConfig, issued_at_of
from service.audit.log import AUDIT_COLUMNS, FORMAT_MERKLE, row_to_event
from service.audit.notes import Checkpoint, NoteError, open_checkpoint

LEAVES_SQL = f"""
SELECT l.leaf_index, l.seq AS leaf_seq, l.leaf_hash AS integrated_hash, {AUDIT_COLUMNS}
FROM audit_leaves l LEFT JOIN audit_events e ON e.seq = l.seq
ORDER BY l.leaf_index
"""  # noqa: S608

UNINTEGRATED_SQL = f"""
SELECT {AUDIT_COLUMNS},
       (e.txid, e.seq) <= (s.last_txid, s.last_seq) AS behind_cursor
FROM audit_events e CROSS JOIN audit_integrator_state s
WHERE NOT EXISTS (SELECT 1 FROM audit_leaves l WHERE l.seq = e.seq)
ORDER BY e.seq
"""  # noqa: S608


@dataclass(frozen=True)
class Divergence:
    what: str
    detail: str
    seq: int | None = None
    leaf_index: int | None = None

    def describe(self) -> str:
        where = []
        if self.leaf_index is not None:
            where.append(f"leaf {self.leaf_index}")
        if self.seq is not None:
            where.append(f"event seq {self.seq}")
        prefix = f"{self.what} at {', '.join(where)}" if where else self.what
        return f"{prefix}: {self.detail}"


@dataclass
class DatabaseReport:
    events_checked: int = 0
    tree_size: int = 0
    unintegrated: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)
    divergence: Divergence | None = None

    def diverge(self, divergence: Divergence) -> None:
        if self.divergence is None:
            self.divergence = divergence


def _check_leaf(row: asyncpg.Record, expected_index: int) -> tuple[bytes | None, Divergence | None]:
    index = row["leaf_index"]
    if index != expected_index:
        return None, Divergence(
            "removed", f"leaf indices {expected_index}..{index - 1} are missing from the tree",
            leaf_index=expected_index,
        )
    if row["seq"] is None:
        return None, Divergence("removed", "the event of this leaf no longer exists",
                                seq=row["leaf_seq"], leaf_index=index)
    event = row_to_event(row)
    digest = merkle.leaf_hash(event.encoding())
    if digest != bytes(row["integrated_hash"]):
        return digest, Divergence(
            "modified", "the event's content does not match the leaf it was integrated as"
            " (altered, or leaves reordered)", seq=event.seq, leaf_index=index,
        )
    if event.format == FORMAT_MERKLE and digest != event.leaf_hash:
        return digest, Divergence("modified", "the event's recorded leaf hash was rewritten",
                                  seq=event.seq, leaf_index=index)
    return digest, None


async def _scan_leaves(
    conn: asyncpg.Connection, report: DatabaseReport, sizes: Collection[int]
) -> None:
    compact = merkle.CompactRange()
    wanted = set(sizes)
    if 0 in wanted:
        report.roots[0] = merkle.EMPTY_ROOT
    async for row in conn.cursor(LEAVES_SQL, prefetch=10000):
        digest, divergence = _check_leaf(row, compact.size)
        if divergence is not None:
            report.diverge(divergence)
        if digest is None:  # a hole: what follows cannot form the same tree
            break
        compact.append(digest)
        report.events_checked += 1
        if compact.size in wanted:
            report.roots[compact.size] = compact.root()
    report.tree_size = compact.size
    report.roots[compact.size] = compact.root()


async def _scan_unintegrated(conn: asyncpg.Connection, report: DatabaseReport) -> None:
    async for row in conn.cursor(UNINTEGRATED_SQL, prefetch=1000):
        event = row_to_event(row)
        report.unintegrated += 1
        if row["behind_cursor"]:
            report.diverge(Divergence(
                "inserted", "the event is not in the tree although the integrator has passed"
                " its position: it was added afterwards", seq=event.seq,
            ))
        elif event.format == FORMAT_MERKLE and (
            merkle.leaf_hash(event.encoding()) != event.leaf_hash
        ):
            report.diverge(Divergence(
                "modified", "the event (not yet integrated) does not match the leaf hash it"
                " was written with", seq=event.seq,
            ))


async def verify_database(
    conn: asyncpg.Connection, sizes: Collection[int] = ()
) -> DatabaseReport:
    """The database-internal checks; `roots` gets the recomputed root at each of `sizes`."""
    report = DatabaseReport()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await _scan_leaves(conn, report, sizes)
        await _scan_unintegrated(conn, report)
        state_size = await conn.fetchval("SELECT tree_size FROM audit_integrator_state")
        stored_leaves = await conn.fetchval("SELECT count(*) FROM audit_leaves")
        if report.divergence is None and state_size != stored_leaves:
            report.diverge(Divergence(
                "tree", f"the integrator state says {state_size} leaves, the tree holds"
                f" {stored_leaves}",
            ))
        if report.divergence is None and report.tree_size:
            try:
                stored_root = await tree.root_at(conn, report.tree_size)
            except tree.TreeCorrupt as error:
                report.diverge(Divergence("tree", str(error)))
            else:
                if stored_root != report.roots[report.tree_size]:
                    report.diverge(Divergence(
                        "tree", "the stored tree nodes do not match the recomputed tree"
                        " (proofs served from them would fail)",
                    ))
    return report


@dataclass(frozen=True)
class PublishedCheckpoint:
    name: str
    checkpoint: Checkpoint
    issued_at: datetime


class CheckpointsUnavailable(RuntimeError):
    """No store, no key, or nothing published yet: verification cannot conclude."""


def load_checkpoints(config: AuditConfig) -> tuple[list[PublishedCheckpoint], list[Divergence]]:
    """Every published checkpoint whose signature verifies; bad ones as divergences."""
    try:
        verifier, store = config.verifier(), config.store()
        names = store.names()
    except Exception as error:
        raise CheckpointsUnavailable(str(error)) from None
    good: list[PublishedCheckpoint] = []
    bad: list[Divergence] = []
    for name in names:
        try:
            note = store.read(name).decode()
            checkpoint = open_checkpoint(note, verifier, config.origin)
        except (NoteError, UnicodeDecodeError, ValueError) as error:
            bad.append(Divergence("forged checkpoint", f"{name}: {error}"))
            continue
        good.append(PublishedCheckpoint(name, checkpoint, issued_at_of(name)))
    good.sort(key=lambda p: (p.checkpoint.tree_size, p.issued_at))
    return good, bad


def compare_with_checkpoints(
    report: DatabaseReport, published: list[PublishedCheckpoint]
) -> Divergence | None:
    """The first checkpoint the recomputed tree disagrees with, named with the leaf range
    the change must lie in."""
    last_good = 0
    for item in published:
        size = item.checkpoint.tree_size
        stamp = item.issued_at.isoformat()
        if size > report.tree_size:
            return Divergence(
                "rolled back or truncated",
                f"checkpoint of size {size} (issued {stamp}) was published but the"
                f" database's tree holds only {report.tree_size} leaves: events were removed"
                " from the end or the database was restored from an older copy",
                leaf_index=report.tree_size,
            )
        if report.roots.get(size) != item.checkpoint.root_hash:
            return Divergence(
                "history rewritten",
                f"the recomputed root of the first {size} leaves differs from the signed"
                f" checkpoint of size {size} (issued {stamp}); the first {last_good} leaves"
                f" still match, so an event at leaf index {last_good}..{size - 1} was"
                " modified, inserted, removed or reordered (hashes recomputed)",
                leaf_index=last_good,
            )
        last_good = size
    return None

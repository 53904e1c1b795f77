"""The integrator: gives committed audit events contiguous leaf indices, extends the tree,
ends every batch with a checkpoint and publishes it, signed, outside the database.

Election: a session advisory lock; standbys retry every second. A killed integrator's
session ends, PostgreSQL drops its lock and rolls back its open batch, and a standby takes
over from the last committed state. The state row is locked FOR UPDATE in every batch and
leaf indices are a primary key, so even two leaders could not interleave or reuse an index.

Which events are safe to integrate: commit order differs from insert order (a seq or a
transaction id taken early can commit late). Each event records its writer's transaction
id (`txid`). A transaction id below the snapshot's xmin belongs to a transaction that has
finished, so the set of events with txid < xmin can no longer change. Each batch takes
events with (txid, seq) after the cursor and txid < xmin, in (txid, seq) order, and moves
the cursor: nothing is skipped, nothing taken twice. The price: an event waits while any
older write transaction is still open (see AUDIT.md for the bound).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from service.audit import merkle, tree
from service.audit.checkpoints import AuditConfig, StoreUnavailable, object_name
from service.audit.legacy import verify_legacy_chain
from service.audit.log import AUDIT_COLUMNS, FORMAT_MERKLE, row_to_event
from service.audit.notes import Checkpoint, Verifier, open_checkpoint, sign_checkpoint
from service.messaging.health import Heartbeat
from service.observability import Metrics, log
from service.stopping import pause

LEADER_LOCK_KEY = 0x6F72646572730003

BATCH_SQL = f"""
SELECT {AUDIT_COLUMNS}, e.txid::text AS txid FROM audit_events e
WHERE (e.txid, e.seq) > ($1::text::xid8, $2::bigint)
  AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY e.txid, e.seq
LIMIT $3
"""  # noqa: S608


class IntegrationHalted(RuntimeError):
    """An event cannot be integrated as it is (altered before integration, broken legacy
    chain). The integrator stops appending, so lag grows and pages someone."""


@dataclass
class BatchResult:
    integrated: int
    tree_size: int


async def _border(conn: asyncpg.Connection, size: int) -> list[tuple[merkle.NodeId, bytes]]:
    blocks = merkle.perfect_blocks(0, size)
    nodes = await tree.fetch_nodes(conn, blocks)
    return [(block, nodes[block]) for block in blocks]


async def _check_legacy_once(conn: asyncpg.Connection, state: asyncpg.Record) -> None:
    if state["legacy_chain_verified_at"] is not None:
        return
    check = await verify_legacy_chain(conn)
    if not check.ok:
        raise IntegrationHalted(
            f"the legacy hash chain is broken at seq {check.broken_seq}: {check.reason}"
        )
    await conn.execute("UPDATE audit_integrator_state SET legacy_chain_verified_at = now()")
    log.info("audit_legacy_chain_verified", events=check.events)


async def integrate_batch(
    conn: asyncpg.Connection, batch_size: int = 5000, refresh_s: float = 60.0
) -> BatchResult:
    """One batch in one transaction: leaves, nodes, a checkpoint row, the cursor."""
    async with conn.transaction():
        state = await conn.fetchrow(
            "SELECT tree_size, last_txid::text AS last_txid, last_seq, legacy_chain_verified_at"
            " FROM audit_integrator_state FOR UPDATE"
        )
        size = int(state["tree_size"])
        rows = await conn.fetch(BATCH_SQL, state["last_txid"], state["last_seq"], batch_size)
        if not rows:
            await _refresh_checkpoint(conn, size, refresh_s)
            return BatchResult(0, size)
        if any(row["hash"] is not None for row in rows):
            await _check_legacy_once(conn, state)
        hashes = []
        for row in rows:
            event = row_to_event(row)
            digest = merkle.leaf_hash(event.encoding())
            if event.format == FORMAT_MERKLE and digest != event.leaf_hash:
                raise IntegrationHalted(
                    f"event seq {event.seq} does not match the leaf hash it was written with"
                )
            hashes.append(digest)
        created, border = tree.extend(await _border(conn, size), size, hashes)
        await conn.execute(
            """
            INSERT INTO audit_leaves (leaf_index, seq, leaf_hash, integrated_at)
            SELECT $1::bigint + i - 1, s, h, now()
            FROM unnest($2::bigint[], $3::bytea[]) WITH ORDINALITY AS t(s, h, i)
            """,
            size, [row["seq"] for row in rows], hashes,
        )
        if created:
            await conn.execute(
                "INSERT INTO audit_tree_nodes (level, idx, hash)"
                " SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])",
                [node[0] for node, _ in created], [node[1] for node, _ in created],
                [digest for _, digest in created],
            )
        size += len(rows)
        await conn.execute(
            "INSERT INTO audit_checkpoints (tree_size, root_hash, issued_at)"
            " VALUES ($1, $2, clock_timestamp())",
            size, tree.border_root(border),
        )
        await conn.execute(
            "UPDATE audit_integrator_state"
            " SET tree_size = $1, last_txid = $2::text::xid8, last_seq = $3",
            size, rows[-1]["txid"], rows[-1]["seq"],
        )
    return BatchResult(len(rows), size)


async def _refresh_checkpoint(conn: asyncpg.Connection, size: int, refresh_s: float) -> None:
    """An idle log still issues a fresh checkpoint now and then, so its age measures the
    integrator's health, not the order rate."""
    stale = await conn.fetchval(
        "SELECT coalesce(max(issued_at), '-infinity') < now() - make_interval(secs => $1)"
        " FROM audit_checkpoints",
        refresh_s,
    )
    if stale:
        await conn.execute(
            "INSERT INTO audit_checkpoints (tree_size, root_hash, issued_at)"
            " VALUES ($1, $2, clock_timestamp())",
            size, await tree.root_at(conn, size),
        )


SignedHead = tuple[int, bytes]  # (tree size, root) of the newest checkpoint signed


def latest_published(config: AuditConfig) -> SignedHead | None:
    """The newest checkpoint in the store, checked against our own public key."""
    store, signer = config.store(), config.signer()
    try:
        names = store.names()
    except StoreUnavailable:  # a local directory not created yet: nothing published
        return None
    if not names:
        return None
    verifier = Verifier(config.origin, signer.public_key())
    checkpoint = open_checkpoint(store.read(names[-1]).decode(), verifier, config.origin)
    return checkpoint.tree_size, checkpoint.root_hash


async def _check_extends(
    conn: asyncpg.Connection, last: SignedHead | None, size: int, root: bytes
) -> None:
    """A log must never sign a checkpoint inconsistent with one it signed before: prove
    this tree extends the last signed one before signing (the database is not trusted)."""
    if last is None or last[0] == 0:
        return  # every tree extends the empty one
    try:
        proof = await tree.consistency_proof(conn, last[0], size) if last[0] <= size else []
        merkle.verify_consistency(last[0], size, last[1], root, proof)
    except (merkle.ProofError, tree.TreeCorrupt) as error:
        raise IntegrationHalted(
            f"refusing to sign size {size}: not consistent with the signed checkpoint of size"
            f" {last[0]} ({error}); the database diverged from the published log"
        ) from None


async def publish_pending(
    conn: asyncpg.Connection, config: AuditConfig, last: SignedHead | None = None,
    limit: int = 100,
) -> SignedHead | None:
    """Sign and publish checkpoints not yet published, oldest first; idempotent. Returns the
    newest signed head (pass it back in to skip re-reading the store)."""
    signer, store = config.signer(), config.store()
    if last is None:
        last = await asyncio.to_thread(latest_published, config)
    rows = await conn.fetch(
        "SELECT id, tree_size, root_hash, issued_at FROM audit_checkpoints"
        " WHERE published_at IS NULL ORDER BY id LIMIT $1",
        limit,
    )
    for row in rows:
        size, root = row["tree_size"], bytes(row["root_hash"])
        await _check_extends(conn, last, size, root)
        note = await asyncio.to_thread(sign_checkpoint, Checkpoint(config.origin, size, root),
                                       signer)
        await asyncio.to_thread(store.publish, object_name(size, row["issued_at"]), note.encode())
        await conn.execute(
            "UPDATE audit_checkpoints SET published_at = now(), note = $2 WHERE id = $1",
            row["id"], note,
        )
        last = (size, root)
    return last


async def sample_gauges(conn: asyncpg.Connection, metrics: Metrics) -> None:
    row = await conn.fetchrow(
        """
        SELECT s.tree_size,
               coalesce(EXTRACT(EPOCH FROM now() - (
                   SELECT min(e.occurred_at) FROM audit_events e
                   WHERE (e.txid, e.seq) > (s.last_txid, s.last_seq))), 0) AS lag,
               EXTRACT(EPOCH FROM now() - (
                   SELECT max(issued_at) FROM audit_checkpoints
                   WHERE published_at IS NOT NULL)) AS checkpoint_age
        FROM audit_integrator_state s
        """
    )
    metrics.audit_tree_size.set(row["tree_size"])
    metrics.audit_integration_lag.set(max(0.0, float(row["lag"])))
    if row["checkpoint_age"] is not None:
        metrics.audit_checkpoint_age.set(float(row["checkpoint_age"]))


class Integrator:
    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        config: AuditConfig,
        metrics: Metrics,
        heartbeat: Heartbeat | None = None,
        *,
        batch_size: int = 5000,
        poll_s: float = 0.1,
        refresh_s: float = 60.0,
    ) -> None:
        self._connect, self._config, self._metrics = connect, config, metrics
        self._heartbeat = heartbeat or Heartbeat()
        self._batch_size, self._poll_s, self._refresh_s = batch_size, poll_s, refresh_s
        self._last_signed: SignedHead | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                conn = await self._connect()
            except Exception as error:  # the database is failing over: keep trying
                log.warning("integrator_connect_failed", error=type(error).__name__)
                await pause(stop, 1.0)
                continue
            try:
                await self._serve(conn, stop)
            except IntegrationHalted as error:
                log.error("audit_integration_halted", reason=str(error))
                await pause(stop, 5.0)
            except Exception as error:
                log.warning("integrator_session_lost", error=type(error).__name__,
                            detail=str(error)[:200])
                await pause(stop, 1.0)
            finally:
                self._metrics.audit_integrator_active.set(0)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 5)

    async def _serve(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK_KEY):
                break
            await sample_gauges(conn, self._metrics)
            self._heartbeat.beat()
            await pause(stop, 1.0)
        else:
            return
        log.info("integrator_elected")
        self._metrics.audit_integrator_active.set(1)
        sampled = 0.0
        while not stop.is_set():
            result = await integrate_batch(conn, self._batch_size, self._refresh_s)
            await self._publish(conn)
            if time.monotonic() - sampled >= 1.0:  # gauges once a second, not every batch
                await sample_gauges(conn, self._metrics)
                sampled = time.monotonic()
            self._heartbeat.beat()
            if result.integrated < self._batch_size:
                await pause(stop, self._poll_s)

    async def _publish(self, conn: asyncpg.Connection) -> None:
        try:
            self._last_signed = await publish_pending(conn, self._config, self._last_signed)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, IntegrationHalted):
            raise  # the session is gone (reconnect) or the log must stop (alert)
        except Exception as error:  # the store or the key is unreachable: retry next turn
            self._metrics.audit_publish_failures.inc()
            log.warning("checkpoint_publish_failed", error=type(error).__name__,
                        detail=str(error)[:200])


def connector(database_url: str, **kwargs: Any) -> Callable[[], Awaitable[asyncpg.Connection]]:
    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(database_url, timeout=5, command_timeout=30, **kwargs)

    return connect

"""Shared pieces of the audit-log tests: keys and a checkpoint store, running the
integrator in process, the CLI verifier, and a superuser who rebuilds the whole tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg

from service.audit import merkle, tree
from service.audit.checkpoints import AuditConfig, generate_key_files
from service.audit.integrator import integrate_batch, publish_pending
from service.audit.log import AUDIT_COLUMNS, row_to_event
from tests.service.conftest import JWT_SECRET, Database

ROOT = Path(__file__).resolve().parents[2]


def make_audit_config(directory: Path) -> AuditConfig:
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "signing.pem", directory / "signing.pub.pem"
    if not private.exists():
        generate_key_files(private, public)
    return AuditConfig(
        origin="orders.test/audit-log", signing_key_file=private, public_key_file=public,
        checkpoint_dir=directory / "checkpoints",
    )


def audit_env(config: AuditConfig) -> dict[str, str]:
    return {
        "ORDERS_AUDIT_LOG_ORIGIN": config.origin,
        "ORDERS_AUDIT_SIGNING_KEY_FILE": str(config.signing_key_file),
        "ORDERS_AUDIT_PUBLIC_KEY_FILE": str(config.public_key_file),
        "ORDERS_CHECKPOINT_DIR": str(config.checkpoint_dir),
    }


async def integrate(database: Database, config: AuditConfig, publish: bool = True) -> int:
    """Integrate everything committed, then publish the checkpoints (as the integrator)."""
    conn = await database.connect("orders_app")
    try:
        while (await integrate_batch(conn, batch_size=1000)).integrated:
            pass
        if publish:
            await publish_pending(conn, config)
        return int(await conn.fetchval("SELECT tree_size FROM audit_integrator_state"))
    finally:
        await conn.close()


def run_cli(database: Database, config: AuditConfig | None, *args: str,
            url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORDERS_DATABASE_URL": url or database.app_url,
           "ORDERS_JWT_SECRET": JWT_SECRET, "PYTHONPATH": str(ROOT)}
    for name in ("ORDERS_CHECKPOINT_DIR", "ORDERS_AUDIT_PUBLIC_KEY_FILE",
                 "ORDERS_AUDIT_SIGNING_KEY_FILE", "ORDERS_CHECKPOINT_BUCKET"):
        env.pop(name, None)
    if config is not None:
        env.update(audit_env(config))
    return subprocess.run(
        [sys.executable, "-m", "service", *args], capture_output=True, text=True, env=env,
        cwd=ROOT, check=False, timeout=120,
    )


async def superuser(database: Database) -> asyncpg.Connection:
    """A superuser session that gets past every trigger and foreign key."""
    conn = await database.connect("postgres")
    await conn.execute("SET session_replication_role = replica")
    return conn


async def rebuild_tree(conn: asyncpg.Connection, seqs: list[int]) -> None:
    """The strongest database attacker: recompute every leaf hash from the (tampered)
    events, and rebuild leaves, nodes, the integrator state and the checkpoint rows so
    the database is consistent with itself again, for the events `seqs` in this order."""
    rows = {r["seq"]: r for r in await conn.fetch(
        f"SELECT {AUDIT_COLUMNS}, e.txid::text AS txid FROM audit_events e")}
    hashes: list[bytes] = []
    for seq in seqs:
        digest = merkle.leaf_hash(row_to_event(rows[seq]).encoding())
        hashes.append(digest)
        if rows[seq]["hash"] is None:
            await conn.execute("UPDATE audit_events SET leaf_hash = $1 WHERE seq = $2", digest, seq)
    await conn.execute("DELETE FROM audit_tree_nodes")
    await conn.execute("DELETE FROM audit_leaves")
    await conn.execute("DELETE FROM audit_checkpoints")
    await conn.executemany(
        "INSERT INTO audit_leaves VALUES ($1, $2, $3, now())",
        [(i, seq, h) for i, (seq, h) in enumerate(zip(seqs, hashes, strict=True))],
    )
    created, border = tree.extend([], 0, hashes)
    await conn.executemany(
        "INSERT INTO audit_tree_nodes VALUES ($1, $2, $3)",
        [(level, idx, h) for (level, idx), h in created],
    )
    last = max(seqs, key=lambda s: (int(rows[s]["txid"]), s))
    await conn.execute(
        "UPDATE audit_integrator_state SET tree_size = $1, last_txid = $2::text::xid8,"
        " last_seq = $3", len(seqs), rows[last]["txid"], last,
    )
    await conn.execute(
        "INSERT INTO audit_checkpoints (tree_size, root_hash, issued_at, published_at)"
        " VALUES ($1, $2, now(), now())", len(seqs), tree.border_root(border),
    )


async def leaf_seqs(database: Database) -> list[int]:
    rows = await database.fetch("SELECT seq FROM audit_leaves ORDER BY leaf_index")
    return [r["seq"] for r in rows]


def placed(response: Any) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["id"])

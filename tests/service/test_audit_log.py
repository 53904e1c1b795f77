"""The Merkle audit log against a database superuser.

Every attack runs as `postgres` with triggers and foreign keys bypassed
(`session_replication_role = replica`), after checkpoints were published outside the
database; `python -m service audit verify` must exit 1 and name what it found.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from service.audit.checkpoints import AuditConfig
from service.audit.integrator import IntegrationHalted
from service.audit.notes import Checkpoint, FileSigner, sign_checkpoint
from tests.service.audit_support import (
    integrate,
    leaf_seqs,
    make_audit_config,
    placed,
    rebuild_tree,
    run_cli,
    superuser,
)
from tests.service.conftest import Database, auth_headers, new_key, order_body


@pytest.fixture
def audit_config(tmp_path: Path) -> AuditConfig:
    return make_audit_config(tmp_path / "audit")


async def place_orders(client: AsyncTestClient[Any], count: int) -> list[str]:
    ids = []
    for _ in range(count):
        ids.append(placed(await client.post(
            "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=new_key())
        )))
    for order_id in ids[::2]:
        await client.post(f"/v1/orders/{order_id}/cancel", headers=auth_headers("ACC-1"))
    return ids


async def published_log(
    client: AsyncTestClient[Any], database: Database, config: AuditConfig, orders: int = 4
) -> list[int]:
    """Orders placed and cancelled in two rounds, each integrated and checkpointed."""
    await place_orders(client, orders)
    await integrate(database, config)
    await place_orders(client, orders)
    await integrate(database, config)
    return await leaf_seqs(database)


async def test_intact_log_verifies(
    client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig
) -> None:
    seqs = await published_log(client, database, audit_config)
    assert len(seqs) == 12  # 2 rounds x (4 created + 2 cancelled)
    result = run_cli(database, audit_config, "audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit log intact: 12 events verified in a tree of 12 leaves" in result.stdout


async def test_without_a_checkpoint_store_it_cannot_verify(
    client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig
) -> None:
    await published_log(client, database, audit_config)
    result = run_cli(database, None, "audit", "verify")
    assert result.returncode == 2, result.stdout
    assert "NOT VERIFIED" in result.stdout


@pytest.mark.parametrize("role", ["orders_app", "orders_owner"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DELETE FROM audit_leaves",
        "UPDATE audit_tree_nodes SET hash = hash",
    ],
)
async def test_rewrites_are_rejected_for_app_and_owner(
    client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig,
    role: str, statement: str,
) -> None:
    await place_orders(client, 2)
    await integrate(database, audit_config)
    conn = await database.connect(role)
    try:
        # TRUNCATE by the owner stops earlier still: the tree's leaves reference the events.
        with pytest.raises((asyncpg.InsufficientPrivilegeError,
                            asyncpg.FeatureNotSupportedError)):
            await conn.execute(statement)
    finally:
        await conn.close()
    assert await database.fetchval("SELECT count(*) FROM audit_events") == 3


async def test_app_role_cannot_rewrite_the_log(database: Database) -> None:
    privileges = await database.fetch(
        "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
        " WHERE grantee = 'orders_app' AND table_name IN"
        " ('audit_events', 'audit_leaves', 'audit_tree_nodes', 'audit_chain_head')"
    )
    granted = {(r["table_name"], r["privilege_type"]) for r in privileges}
    assert {p for t, p in granted if t == "audit_events"} == {"SELECT", "INSERT"}
    assert {p for t, p in granted if t == "audit_leaves"} == {"SELECT", "INSERT"}
    assert {p for t, p in granted if t == "audit_chain_head"} == {"SELECT"}


async def _modify(conn: asyncpg.Connection, seqs: list[int]) -> str:
    await conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = $1", seqs[3])
    return f"modified at leaf 3, event seq {seqs[3]}"


async def _modify_and_rebuild(conn: asyncpg.Connection, seqs: list[int]) -> str:
    await conn.execute(
        "UPDATE audit_events SET payload = '{\"forged\": true}' WHERE seq = $1", seqs[2])
    await rebuild_tree(conn, seqs)
    return "history rewritten"


async def _delete_middle(conn: asyncpg.Connection, seqs: list[int]) -> str:
    await conn.execute("DELETE FROM audit_events WHERE seq = $1", seqs[4])
    return f"removed at leaf 4, event seq {seqs[4]}"


async def _delete_middle_and_rebuild(conn: asyncpg.Connection, seqs: list[int]) -> str:
    await conn.execute("DELETE FROM audit_events WHERE seq = $1", seqs[4])
    await rebuild_tree(conn, seqs[:4] + seqs[5:])
    return "history rewritten at leaf 0"


async def _delete_tail(conn: asyncpg.Connection, seqs: list[int]) -> str:
    # What defeated the hash chain: drop the newest three events, make the rest agree.
    tail = seqs[-3:]
    await conn.execute("DELETE FROM audit_events WHERE seq = ANY($1::bigint[])", tail)
    await rebuild_tree(conn, seqs[:-3])
    return f"rolled back or truncated at leaf {len(seqs) - 3}"


async def _insert_in_the_past(conn: asyncpg.Connection, seqs: list[int]) -> str:
    forged = await conn.fetchval(
        "INSERT INTO audit_events (event_id, order_id, event_type, from_status, to_status,"
        " actor, payload, occurred_at, leaf_hash, txid)"
        " SELECT gen_random_uuid(), order_id, 'order.filled', 'PENDING', 'FILLED', 'mallory',"
        " '{}', occurred_at, leaf_hash, '1' FROM audit_events WHERE seq = $1 RETURNING seq",
        seqs[1],
    )
    await rebuild_tree(conn, [*seqs[:2], forged, *seqs[2:]])
    return "history rewritten"


async def _insert_behind_the_cursor(conn: asyncpg.Connection, seqs: list[int]) -> str:
    forged = await conn.fetchval(
        "INSERT INTO audit_events (event_id, order_id, event_type, from_status, to_status,"
        " actor, payload, occurred_at, leaf_hash, txid)"
        " SELECT gen_random_uuid(), order_id, event_type, from_status, to_status, actor,"
        " payload, occurred_at, leaf_hash, '1' FROM audit_events WHERE seq = $1 RETURNING seq",
        seqs[1],
    )
    return f"inserted at event seq {forged}"


async def _reorder(conn: asyncpg.Connection, seqs: list[int]) -> str:
    await conn.execute("UPDATE audit_leaves SET seq = -seq WHERE leaf_index IN (5, 6)")
    await conn.execute("UPDATE audit_leaves SET seq = $1 WHERE leaf_index = 5", seqs[6])
    await conn.execute("UPDATE audit_leaves SET seq = $1 WHERE leaf_index = 6", seqs[5])
    return "modified at leaf 5"


async def _reorder_and_rebuild(conn: asyncpg.Connection, seqs: list[int]) -> str:
    swapped = list(seqs)
    swapped[5], swapped[6] = swapped[6], swapped[5]
    await rebuild_tree(conn, swapped)
    return "history rewritten at leaf 0"


ATTACKS = {
    "modify": _modify,
    "modify-and-rebuild-tree": _modify_and_rebuild,
    "delete-middle": _delete_middle,
    "delete-middle-and-rebuild-tree": _delete_middle_and_rebuild,
    "delete-tail-three": _delete_tail,
    "insert-into-the-past-and-rebuild-tree": _insert_in_the_past,
    "insert-behind-the-integrator": _insert_behind_the_cursor,
    "reorder-leaves": _reorder,
    "reorder-and-rebuild-tree": _reorder_and_rebuild,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_superuser_attacks_are_detected(
    client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig, attack: str
) -> None:
    seqs = await published_log(client, database, audit_config)
    conn = await superuser(database)
    try:
        expected = await ATTACKS[attack](conn, seqs)
    finally:
        await conn.close()
    result = run_cli(database, audit_config, "audit", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "audit log TAMPERED: first divergence: " + expected in result.stdout, result.stdout


async def test_rollback_to_an_earlier_copy_is_detected(
    client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig, tmp_path: Path,
) -> None:
    await place_orders(client, 3)
    await integrate(database, audit_config)
    # The "backup": pg_dump of the database as it is now.
    server = database.server
    backup = tmp_path / "backup.dump"
    subprocess.run([str(server.bin_dir / "pg_dump"), "-Fc", "-h", "127.0.0.1", "-p",
                    str(server.port), "-U", "postgres", "-f", str(backup), database.name],
                   check=True, capture_output=True)
    await place_orders(client, 3)
    await integrate(database, audit_config)  # a later checkpoint is published
    # Restoring it: the database is consistent with itself, and older.
    copy = Database(server, f"{database.name}_copy")
    server.psql(f"CREATE DATABASE {copy.name} OWNER orders_owner", database="postgres")
    try:
        subprocess.run([str(server.bin_dir / "pg_restore"), "-h", "127.0.0.1", "-p",
                        str(server.port), "-U", "postgres", "-d", copy.name, str(backup)],
                       check=True, capture_output=True)
        result = run_cli(database, audit_config, "audit", "verify", url=copy.app_url)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "rolled back or truncated" in result.stdout
        assert "restored from an older copy" in result.stdout
        assert run_cli(database, audit_config, "audit", "verify").returncode == 0
    finally:
        database.server.psql(f"DROP DATABASE {copy.name} WITH (FORCE)", database="postgres")


async def test_a_forged_checkpoint_in_the_store_is_named(
    client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig, tmp_path: Path,
) -> None:
    await place_orders(client, 2)
    await integrate(database, audit_config)
    store = audit_config.store()
    genuine = Checkpoint.parse(store.read(store.names()[-1]).decode().split("\n\n")[0] + "\n")
    other = make_audit_config(tmp_path / "other-key")  # a key the auditor does not trust
    assert other.signing_key_file is not None
    note = sign_checkpoint(genuine, FileSigner(audit_config.origin, other.signing_key_file))
    store.publish("99999999999999999999.20261203T000000000000Z.note", note.encode())
    result = run_cli(database, audit_config, "audit", "verify")
    assert result.returncode == 1, result.stdout
    assert "forged checkpoint: 99999999999999999999" in result.stdout


async def test_the_integrator_refuses_to_sign_a_rewritten_history(
    client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig
) -> None:
    seqs = await published_log(client, database, audit_config)
    store = audit_config.store()
    published = store.names()
    conn = await superuser(database)
    try:
        await _modify_and_rebuild(conn, seqs)
        # ... and queue the rebuilt root for signing, as if the integrator had issued it.
        await conn.execute("UPDATE audit_checkpoints SET published_at = NULL")
    finally:
        await conn.close()
    with pytest.raises(IntegrationHalted, match="not consistent with the signed checkpoint"):
        await integrate(database, audit_config)
    assert store.names() == published  # nothing signed

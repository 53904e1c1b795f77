"""The hash-chained audit log: append-only for everyone, tamper-evident for a superuser."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from service.domain.audit import verify_chain
from tests.service.conftest import JWT_SECRET, Database, auth_headers, new_key, order_body

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def place_orders(client: AsyncTestClient[Any], count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = await client.post(
            "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=new_key())
        )
        ids.append(response.json()["id"])
    for order_id in ids[::2]:
        await client.post(f"/v1/orders/{order_id}/cancel", headers=auth_headers("ACC-1"))
    return ids


def audit_verify(database: Database) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORDERS_DATABASE_URL": database.app_url, "ORDERS_JWT_SECRET": JWT_SECRET}
    return subprocess.run(
        [sys.executable, "-m", "service", "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=60,
    )


async def test_intact_chain_verifies(client: AsyncTestClient[Any], database: Database) -> None:
    await place_orders(client, 6)
    result = audit_verify(database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 events verified" in result.stdout


@pytest.mark.parametrize("role", ["orders_app", "orders_owner"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
async def test_rewrites_are_rejected_for_app_and_owner(
    client: AsyncTestClient[Any], database: Database, role: str, statement: str
) -> None:
    await place_orders(client, 2)
    conn = await database.connect(role)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
    finally:
        await conn.close()
    assert await database.fetchval("SELECT count(*) FROM audit_events") == 3


async def test_app_role_has_no_update_delete_truncate_privilege(database: Database) -> None:
    privileges = await database.fetch(
        "SELECT privilege_type FROM information_schema.role_table_grants"
        " WHERE grantee = 'orders_app' AND table_name = 'audit_events'"
    )
    assert {row["privilege_type"] for row in privileges} == {"SELECT", "INSERT"}


@pytest.mark.parametrize(
    ("tamper", "broken_at"),
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3", 3),
        ("UPDATE audit_events SET payload = '{\"forged\": true}' WHERE seq = 2", 2),
        ("DELETE FROM audit_events WHERE seq = 4", 4),
        ("UPDATE audit_events SET to_status = 'FILLED' WHERE seq = 5", 5),
        (
            "DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)",
            5,
        ),
    ],
    ids=["actor", "payload", "deleted-middle", "status", "deleted-last"],
)
async def test_superuser_tampering_is_caught(
    client: AsyncTestClient[Any], database: Database, tamper: str, broken_at: int
) -> None:
    await place_orders(client, 3)  # 3 created + 2 cancelled = 5 events
    conn = await database.connect("postgres")
    try:
        # A superuser can get past the triggers; the chain is what still catches it.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(tamper)
    finally:
        await conn.close()
    result = audit_verify(database)
    assert result.returncode == 1, result.stdout
    assert f"BROKEN at seq {broken_at}" in result.stdout

    conn = await database.connect("orders_app")
    try:
        verdict = await verify_chain(conn)
    finally:
        await conn.close()
    assert not verdict.ok
    assert verdict.broken_seq == broken_at

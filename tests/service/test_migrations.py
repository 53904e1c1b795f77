"""Migrations: idempotent, recorded, safe to run from several replicas at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from localenv.postgres import OWNER_ROLE, PostgresServer
from service.migrate import MigrationDrift, apply_migrations, discover

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def empty_db(pg: PostgresServer) -> str:
    name = f"orders_empty_{uuid.uuid4().hex[:12]}"
    pg.psql(f"CREATE DATABASE {name} OWNER {OWNER_ROLE}", database="postgres")
    return f"postgresql://{OWNER_ROLE}@127.0.0.1:{pg.port}/{name}"


async def test_concurrent_migrations_apply_once(empty_db: str) -> None:
    async def run() -> list[str]:
        conn = await asyncpg.connect(empty_db)
        try:
            return await apply_migrations(conn)
        finally:
            await conn.close()

    results = await asyncio.gather(*(run() for _ in range(4)))
    versions = [m.version for m in discover()]
    assert sorted(results, key=len)[-1] == versions
    assert sum(len(r) for r in results) == len(versions)  # each applied exactly once
    conn = await asyncpg.connect(empty_db)
    try:
        recorded = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [r["version"] for r in recorded] == versions


async def test_cli_is_idempotent(empty_db: str) -> None:
    env = {**os.environ, "ORDERS_DATABASE_URL": empty_db}
    command = [sys.executable, "-m", "service", "migrate"]
    first = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied: 0001_orders")
    assert second.returncode == 0
    assert second.stdout.strip() == "schema up to date"


async def test_edited_applied_migration_is_refused(empty_db: str, tmp_path: Path) -> None:
    for migration in discover():
        (tmp_path / migration.path.name).write_text(migration.sql)
    conn = await asyncpg.connect(empty_db)
    try:
        await apply_migrations(conn, tmp_path)
        first = sorted(tmp_path.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationDrift, match="changed after it was applied"):
            await apply_migrations(conn, tmp_path)
    finally:
        await conn.close()


def test_missing_config_fails_fast_with_a_clear_message() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_")}
    result = subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "ORDERS_DATABASE_URL is required" in result.stderr

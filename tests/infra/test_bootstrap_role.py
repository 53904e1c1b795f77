"""The application-role bootstrap the migration Job waits for, on a real PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from infra.bootstrap_role import bootstrap, statements
from localenv.postgres import PostgresServer
from localenv.procs import free_port


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    work = Path(tempfile.mkdtemp(prefix="orders-bootstrap-"))
    work.chmod(0o755)  # the postgres OS user must traverse it
    pg = PostgresServer(work / "pg", free_port(), durable=False).start()
    try:
        pg.psql("CREATE DATABASE boot", database="postgres")
        pg.psql("CREATE ROLE rds_iam NOLOGIN", database="postgres")  # Aurora has it built in
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


async def test_the_app_role_can_log_in_own_the_schema_and_it_runs_twice(
    server: PostgresServer,
) -> None:
    master = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/boot")
    try:
        for _ in range(2):  # a re-created Job runs it again: idempotent
            await bootstrap(master, "orders_app", "boot", iam_auth=True)
        role = await master.fetchrow(
            "SELECT rolcanlogin, pg_has_role('orders_app', 'rds_iam', 'MEMBER') AS iam "
            "FROM pg_roles WHERE rolname = 'orders_app'"
        )
        owner = await master.fetchval(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'"
        )
    finally:
        await master.close()
    assert role is not None and role["rolcanlogin"] and role["iam"]
    assert owner == "orders_app"
    # The migrations connect as the app role and create tables in public.
    app = await asyncpg.connect(f"postgresql://orders_app@127.0.0.1:{server.port}/boot")
    try:
        await app.execute("CREATE TABLE migrated (id int)")
    finally:
        await app.close()


def test_names_are_never_interpolated_unchecked() -> None:
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        statements("orders_app; DROP TABLE orders", "orders", iam_auth=False)
    assert not any("rds_iam" in s for s in statements("orders_app", "orders", iam_auth=False))
    on_aurora = statements("orders_app", "orders", iam_auth=True, audit=True)
    assert "CREATE EXTENSION IF NOT EXISTS pgaudit" in on_aurora
    assert any("CREATE ROLE rds_pgaudit" in s for s in on_aurora)

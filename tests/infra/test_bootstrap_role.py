"""The application-role bootstrap the migration Job waits for, on a real PostgreSQL."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from infra.bootstrap_role import bootstrap, master_credentials, statements
from localenv.postgres import PostgresServer
from localenv.procs import free_port


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    work = Path(tempfile.mkdtemp(prefix="orders-bootstrap-"))
    work.chmod(0o755)  # the postgres OS user must traverse it
    pg = PostgresServer(work / "pg", free_port(), durable=False).start()
    try:
        # As on Aurora: the master user is no superuser. It may create roles, owns the
        # database, and may grant the built-in rds_iam role.
        pg.psql("CREATE ROLE rds_iam NOLOGIN", database="postgres")
        pg.psql("CREATE ROLE master LOGIN CREATEROLE NOSUPERUSER", database="postgres")
        pg.psql("GRANT rds_iam TO master WITH ADMIN OPTION", database="postgres")
        pg.psql("CREATE DATABASE boot OWNER master", database="postgres")
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


async def test_the_app_role_can_log_in_and_create_tables_and_it_runs_twice(
    server: PostgresServer,
) -> None:
    master = await asyncpg.connect(f"postgresql://master@127.0.0.1:{server.port}/boot")
    try:
        for _ in range(2):  # a re-created Job runs it again: idempotent
            await bootstrap(master, "orders_app", "boot", iam_auth=True)
        role = await master.fetchrow(
            "SELECT rolcanlogin, pg_has_role('orders_app', 'rds_iam', 'MEMBER') AS iam "
            "FROM pg_roles WHERE rolname = 'orders_app'"
        )
        can_create = await master.fetchval(
            "SELECT has_schema_privilege('orders_app', 'public', 'USAGE, CREATE')"
        )
    finally:
        await master.close()
    assert role is not None and role["rolcanlogin"] and role["iam"]
    assert can_create is True
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


SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-prod/aurora/master-AbCdEf"


def _secrets_manager() -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "secretsmanager",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # never sent: the Stubber answers
    )
    return client, Stubber(client)


def test_the_current_master_password_is_read_from_secrets_manager_at_run_time() -> None:
    client, stub = _secrets_manager()
    # The JSON a single-user RDS rotation function writes: it changed the password.
    rotated = {
        "engine": "postgres",
        "host": "writer.example",
        "username": "orders_admin",
        "password": "rotated-password",
        "dbname": "orders",
        "port": 5432,
    }
    stub.add_response(
        "get_secret_value",
        {"ARN": SECRET_ARN, "Name": "orders-prod/aurora/master", "SecretString": json.dumps(rotated)},
        {"SecretId": SECRET_ARN, "VersionStage": "AWSCURRENT"},
    )
    with stub:
        assert master_credentials(client, SECRET_ARN) == ("orders_admin", "rotated-password")
    stub.assert_no_pending_responses()


def test_a_secret_without_a_password_fails_before_connecting() -> None:
    client, stub = _secrets_manager()
    stub.add_response(
        "get_secret_value",
        {"SecretString": json.dumps({"username": "orders_admin"})},
        {"SecretId": SECRET_ARN, "VersionStage": "AWSCURRENT"},
    )
    with stub, pytest.raises(ValueError, match="no username/password"):
        master_credentials(client, SECRET_ARN)


def test_access_denied_is_not_swallowed() -> None:
    client, stub = _secrets_manager()
    stub.add_client_error("get_secret_value", "AccessDeniedException", http_status_code=400)
    with stub, pytest.raises(ClientError, match="AccessDeniedException"):
        master_credentials(client, SECRET_ARN)

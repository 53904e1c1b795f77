"""Create the application's database role before the migrations run (primary region only).

This file is also the script of the `orders-bootstrap-role` Job: the program mounts it
from a ConfigMap and runs it with the service image's Python, asyncpg and boto3, connected
as the Aurora master user. The credentials are read when the Job runs, from the master
secret in Secrets Manager (the Job's own IRSA role may read that secret only): the rotation
function changes the password every few weeks, so a copy taken when the program ran would
stop working after the first rotation. It is idempotent: every `pulumi up` that re-creates
the Job may run it again.

    python bootstrap_role.py        # reads the ORDERS_BOOTSTRAP_* variables below
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import sys
from typing import Any

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def statements(app_user: str, database: str, iam_auth: bool, audit: bool = False) -> list[str]:
    """The SQL that makes `app_user` able to log in (through IAM on Aurora) and create the
    tables the migrations write in `public`; with `audit`, pgaudit's extension (its event triggers
    classify DDL) and the role the cluster's `pgaudit.role` names."""
    for name in (app_user, database):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")
    sql = [
        # CREATE ROLE has no IF NOT EXISTS; the DO block makes it idempotent.
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{app_user}') THEN "
        f"CREATE ROLE {app_user} LOGIN; END IF; END $$",
        f"GRANT ALL ON DATABASE {database} TO {app_user}",
        # Not ALTER SCHEMA ... OWNER: the Aurora master user is no superuser and cannot
        # SET ROLE to a role it merely created (PostgreSQL 16+), so that would fail there.
        f"GRANT USAGE, CREATE ON SCHEMA public TO {app_user}",
    ]
    if iam_auth:
        sql.insert(1, f"GRANT rds_iam TO {app_user}")
    if audit:
        sql += [
            "DO $$ BEGIN "
            "IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'rds_pgaudit') THEN "
            "CREATE ROLE rds_pgaudit NOLOGIN; END IF; END $$",
            "CREATE EXTENSION IF NOT EXISTS pgaudit",
        ]
    return sql


def master_credentials(secrets_manager: Any, secret_id: str) -> tuple[str, str]:
    """The master user's name and CURRENT password, from the secret's JSON (`username` and
    `password`, the keys the RDS rotation functions read and write)."""
    response = secrets_manager.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
    secret = json.loads(response["SecretString"])
    username, password = secret.get("username"), secret.get("password")
    if not (isinstance(username, str) and username and isinstance(password, str) and password):
        raise ValueError(f"secret {secret_id} has no username/password fields")
    return username, password


async def bootstrap(
    connection: Any, app_user: str, database: str, iam_auth: bool, audit: bool = False
) -> None:
    async with connection.transaction():
        for statement in statements(app_user, database, iam_auth, audit):
            await connection.execute(statement)


async def _main() -> int:
    import asyncpg  # the service image has these; the program never imports this module's main
    import boto3

    env = os.environ
    client = boto3.client("secretsmanager", region_name=env["ORDERS_BOOTSTRAP_REGION"])
    user, password = master_credentials(client, env["ORDERS_BOOTSTRAP_MASTER_SECRET_ARN"])
    context = ssl.create_default_context(cafile=env["ORDERS_BOOTSTRAP_SSL_ROOT_CERT"])
    connection = await asyncpg.connect(
        host=env["ORDERS_BOOTSTRAP_HOST"],
        port=int(env.get("ORDERS_BOOTSTRAP_PORT", "5432")),
        user=user,
        password=password,
        database=env["ORDERS_BOOTSTRAP_DATABASE"],
        ssl=context,
    )
    try:
        await bootstrap(
            connection,
            env["ORDERS_BOOTSTRAP_APP_USER"],
            env["ORDERS_BOOTSTRAP_DATABASE"],
            iam_auth=True,
            audit=True,
        )
    finally:
        await connection.close()
    print(f"role {env['ORDERS_BOOTSTRAP_APP_USER']} ready", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))

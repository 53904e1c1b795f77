"""Real PostgreSQL and Redis for the service tests, on free loopback ports.

A migrated template database is built once; each test gets a fresh copy of it, so tests
(including the ones that tamper with the audit log) never see each other's rows.
"""

from __future__ import annotations

import itertools
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis as redis_sync
from litestar.testing import AsyncTestClient

from localenv.postgres import APP_ROLE, OWNER_ROLE, PostgresServer
from localenv.procs import free_port
from localenv.redis import RedisServer
from service.app import create_app
from service.auth import issue_token
from service.config import Settings, load_settings
from service.migrate import apply_migrations
from service.observability import Metrics

TEMPLATE_DB = "orders_template"
JWT_SECRET = secrets.token_urlsafe(48)
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="orders-tests-"))
    path.chmod(0o755)  # the postgres OS user must traverse it
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
async def pg(work_dir: Path) -> AsyncIterator[PostgresServer]:
    server = PostgresServer(work_dir / "pg", free_port(), durable=False).start()
    try:
        server.psql(f"CREATE DATABASE {TEMPLATE_DB} OWNER {OWNER_ROLE}", database="postgres")
        conn = await asyncpg.connect(_url(server, OWNER_ROLE, TEMPLATE_DB))
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()
        yield server
    finally:
        server.stop()


def _url(server: PostgresServer, role: str, database: str) -> str:
    return f"postgresql://{role}@127.0.0.1:{server.port}/{database}"


class Database:
    """One fresh, migrated database and the URLs of its roles."""

    def __init__(self, server: PostgresServer, name: str) -> None:
        self.server = server
        self.name = name
        self.app_url = _url(server, APP_ROLE, name)
        self.owner_url = _url(server, OWNER_ROLE, name)
        self.superuser_url = _url(server, "postgres", name)

    async def connect(self, role: str = "postgres") -> asyncpg.Connection:
        return await asyncpg.connect(_url(self.server, role, self.name))

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await self.connect()
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        conn = await self.connect()
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()


@pytest.fixture
async def database(pg: PostgresServer) -> AsyncIterator[Database]:
    name = f"orders_t{next(_database_numbers)}"
    pg.psql(
        f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} OWNER {OWNER_ROLE}", database="postgres"
    )
    yield Database(pg, name)
    pg.psql(f"DROP DATABASE {name} WITH (FORCE)", database="postgres")


@pytest.fixture(scope="session")
def redis_server(work_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(work_dir / "redis", free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_sync.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


def make_settings(database: Database, redis_url: str | None, **overrides: str) -> Settings:
    env = {
        "ORDERS_DATABASE_URL": database.app_url,
        "ORDERS_MIGRATION_DATABASE_URL": database.owner_url,
        "ORDERS_JWT_SECRET": JWT_SECRET,
        "ORDERS_SHUTDOWN_DRAIN_S": "0",
        **({"ORDERS_REDIS_URL": redis_url} if redis_url else {}),
        **overrides,
    }
    return load_settings(env)


@pytest.fixture
def settings(database: Database, redis_url: str) -> Settings:
    return make_settings(database, redis_url)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def client(settings: Settings, metrics: Metrics) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(settings, metrics)) as test_client:
        yield test_client


def token_for(*accounts: str, subject: str = "alice", secret: str = JWT_SECRET, **kw: Any) -> str:
    return issue_token(
        secret=secret,
        issuer=kw.get("issuer", "orders-local"),
        audience=kw.get("audience", "orders-api"),
        subject=subject,
        accounts=list(accounts),
        ttl_seconds=kw.get("ttl_seconds", 600),
    )


def auth_headers(*accounts: str, key: str | None = None, subject: str = "alice") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token_for(*accounts, subject=subject)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def order_body(account: str = "ACC-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_id": account,
        "instrument": "US0378331005",
        "side": "buy",
        "order_type": "limit",
        "quantity": "10.5",
        "limit_price": "187.25",
        "currency": "USD",
        "time_in_force": "DAY",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def new_key() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="session")
def sqs_endpoint(work_dir: Path) -> Iterator[Any]:
    from localenv.sqs import LOCAL_AWS_ENV, SqsEndpoint

    patch = pytest.MonkeyPatch()
    for name, value in LOCAL_AWS_ENV.items():
        patch.setenv(name, value)
    endpoint = SqsEndpoint(free_port(), work_dir / "sqs").start()
    yield endpoint
    endpoint.stop()
    patch.undo()


@pytest.fixture
def queue_settings(database: Database, redis_url: str, sqs_endpoint: Any) -> Settings:
    """Settings with a fresh FIFO queue (and DLQ) of its own on the local endpoint."""
    from localenv.sqs import LOCAL_REGION

    name = f"orders-{secrets.token_hex(4)}.fifo"
    return make_settings(
        database,
        redis_url,
        ORDERS_QUEUE_URL=f"{sqs_endpoint.endpoint_url}/queue/{LOCAL_REGION}/000000000000/{name}",
        ORDERS_SQS_ENDPOINT_URL=sqs_endpoint.endpoint_url,
        ORDERS_AWS_REGION=LOCAL_REGION,
        ORDERS_DLQ_MAX_RECEIVE_COUNT="2",
    )


class LiveServer:
    """`python -m service serve` in a real process, reached over real HTTP."""

    def __init__(self, settings_env: dict[str, str], log_path: Path) -> None:
        import os
        import sys

        from localenv.procs import ManagedProcess

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = ManagedProcess(
            "api",
            [sys.executable, "-m", "service", "serve", "--port", str(self.port)],
            log_path,
            env={**os.environ, **settings_env},
            cwd=Path(__file__).resolve().parents[2],
        )

    def start(self) -> LiveServer:
        from localenv.procs import http_ok

        self.process.start()
        self.process.wait_healthy(lambda: http_ok(f"{self.url}/health/ready"), timeout=30)
        return self


def live_env(database: Database, redis_url: str | None, **overrides: str) -> dict[str, str]:
    env = {
        "ORDERS_DATABASE_URL": database.app_url,
        "ORDERS_JWT_SECRET": JWT_SECRET,
        "ORDERS_SHUTDOWN_DRAIN_S": "0",
        **({"ORDERS_REDIS_URL": redis_url} if redis_url else {}),
        **overrides,
    }
    return env


@pytest.fixture
def live_server(database: Database, redis_url: str, work_dir: Path) -> Iterator[LiveServer]:
    server = LiveServer(
        live_env(database, redis_url), work_dir / f"api-{secrets.token_hex(3)}.log"
    ).start()
    yield server
    server.process.stop()

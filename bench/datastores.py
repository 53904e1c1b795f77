"""PostgreSQL (fsync on) and Redis on free loopback ports in a throw-away directory, with
the service environment that points at them: the data stores of the API-only benches."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from localenv.postgres import PostgresServer
from localenv.procs import free_port
from localenv.redis import RedisServer

# Loopback load must not be throttled by the per-principal rate limiter.
UNTHROTTLED = {"ORDERS_RATE_LIMIT_PER_SECOND": "100000", "ORDERS_RATE_LIMIT_BURST": "100000"}


@dataclass(frozen=True)
class DataStores:
    work: Path  # removed on exit; processes of the caller may keep their logs here
    pg: PostgresServer
    redis: RedisServer
    jwt_secret: str
    env: dict[str, str]  # os.environ plus the service's database, Redis and JWT settings


@contextlib.contextmanager
def data_stores(prefix: str) -> Iterator[DataStores]:
    """Started on entry; stopped (Redis, then PostgreSQL) and removed on exit. Stop the
    processes that use them first, inside the `with` block."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    work.chmod(0o755)  # the postgres OS user must traverse it
    secret = secrets.token_urlsafe(48)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        pg = PostgresServer(work / "pg", free_port(), durable=True).start()
        stack.callback(pg.stop)
        redis = RedisServer(work / "redis", free_port()).start()
        stack.callback(redis.stop)
        env = {
            **os.environ,
            "ORDERS_DATABASE_URL": pg.urls.app,
            "ORDERS_MIGRATION_DATABASE_URL": pg.urls.owner,
            "ORDERS_REDIS_URL": redis.url,
            "ORDERS_JWT_SECRET": secret,
            **UNTHROTTLED,
        }
        yield DataStores(work, pg, redis, secret, env)

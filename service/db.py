"""The asyncpg pool: plain loopback locally, TLS verify-full + IAM auth tokens in production.

Also classifies database errors so callers retry what is safe to retry during a failover.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

import asyncpg

from service.config import Settings
from service.observability import span

T = TypeVar("T")

# A new primary can accept connections a moment before it accepts writes, and a killed one
# leaves connections broken: both clear up within a failover, so they are worth a retry.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


class DatabaseUnavailable(Exception):
    """The database could not be reached within the retry budget; answer 503."""


def is_transient(error: BaseException) -> bool:
    if isinstance(error, asyncpg.PostgresConnectionError):
        return True
    return isinstance(error, TRANSIENT_ERRORS)


class IamTokenSource:
    """RDS IAM auth tokens live 15 minutes; renew well before that."""

    REFRESH_AFTER_S = 10 * 60

    def __init__(self, host: str, port: int, user: str, region: str) -> None:
        self._host, self._port, self._user, self._region = host, port, user, region
        self._token: str | None = None
        self._issued_at = 0.0

    def __call__(self) -> str:
        if self._token is None or time.monotonic() - self._issued_at > self.REFRESH_AFTER_S:
            import boto3

            client = boto3.client("rds", region_name=self._region)
            self._token = client.generate_db_auth_token(
                DBHostname=self._host,
                Port=self._port,
                DBUsername=self._user,
                Region=self._region,
            )
            self._issued_at = time.monotonic()
        return self._token


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.database_ssl_root_cert is None:
        return None
    context = ssl.create_default_context(cafile=settings.database_ssl_root_cert)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def connect_kwargs(settings: Settings, url: str) -> dict[str, object]:
    kwargs: dict[str, object] = {"dsn": url, "timeout": settings.db_connect_timeout_s}
    context = ssl_context(settings)
    if context is not None:
        kwargs["ssl"] = context
    if settings.database_iam_auth:
        parts = urlsplit(url)
        if not parts.username or not parts.hostname:
            raise ValueError("IAM database auth needs a user and host in the database URL")
        kwargs["password"] = IamTokenSource(
            parts.hostname, parts.port or 5432, parts.username, settings.aws_region
        )
    return kwargs


async def keep_session(_conn: asyncpg.Connection) -> None:
    """A pool `reset` that sends nothing: asyncpg still rolls back an open transaction on
    release, but skips its reset query (unlock all advisory locks, close cursors, unlisten,
    RESET ALL), a round trip per release. Only for pools whose users leave no session
    state behind: transaction-scoped locks only, no LISTEN, no SET, no cursors outside a
    transaction."""


async def create_pool(settings: Settings, *, session_state_free: bool = False) -> asyncpg.Pool:
    """`session_state_free`: the callers leave no session state on a connection (see
    `keep_session`), so releasing one costs no round trip."""
    kwargs = connect_kwargs(settings, settings.database_url)
    if session_state_free:
        kwargs["reset"] = keep_session
    pool = await asyncpg.create_pool(
        min_size=0,
        max_size=settings.db_pool_max,
        command_timeout=settings.db_command_timeout_s,
        # Recycle idle connections so a failover's dead sockets do not linger in the pool.
        max_inactive_connection_lifetime=60.0,
        # A process cut off mid-transaction (a partition, a frozen pod) must not hold its row
        # and advisory locks until TCP gives up: the server ends such a transaction itself.
        server_settings={
            "idle_in_transaction_session_timeout": str(int(settings.db_command_timeout_s * 1000))
        },
        **kwargs,
    )
    if pool is None:  # pragma: no cover - create_pool returns a pool when awaited
        raise RuntimeError("asyncpg.create_pool returned None")
    return pool


async def connect(settings: Settings, url: str | None = None) -> asyncpg.Connection:
    kwargs = connect_kwargs(settings, url or settings.database_url)
    return await asyncpg.connect(command_timeout=settings.db_command_timeout_s, **kwargs)


RETRY_BUDGET_S = 3.0  # how long a request's database work may retry before 503


async def with_retries(
    pool: asyncpg.Pool,
    operation: Callable[[asyncpg.Connection], Awaitable[T]],
    *,
    budget_s: float = RETRY_BUDGET_S,
    first_delay_s: float = 0.05,
) -> T:
    """Run `operation` on a pooled connection, retrying transient errors within a budget.

    Only for operations that are safe to repeat: reads, and writes guarded by an
    idempotency record (a retried in-doubt commit finds its own record and replays it).
    """
    deadline = time.monotonic() + budget_s
    delay = first_delay_s
    while True:
        try:
            with span(
                f"db.{getattr(operation, '__name__', 'operation')}", **{"db.system": "postgresql"}
            ):
                async with pool.acquire(timeout=budget_s) as conn:
                    return await operation(conn)
        except Exception as error:
            if not is_transient(error):
                raise
            if time.monotonic() + delay > deadline:
                raise DatabaseUnavailable(str(error) or type(error).__name__) from error
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

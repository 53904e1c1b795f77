"""Configuration from `ORDERS_*` environment variables, validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import contract


class ConfigError(ValueError):
    """Missing or invalid configuration; the message names the variable."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum:g}, got {raw!r}")
    return value


HTTP_SERVERS = ("uvloop-httptools", "asyncio-h11")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, the first being the default."""
    raw = env.get(name) or choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """`NAME`, or the contents of the file `NAME_FILE` names (a mounted Kubernetes Secret);
    setting both is an error, so a stale variable cannot shadow the mounted value."""
    value = env.get(name) or None
    path = env.get(f"{name}_FILE") or None
    if path is None:
        return value
    if value is not None:
        raise ConfigError(f"set {name} or {name}_FILE, not both")
    try:
        with open(path, encoding="utf-8") as handle:
            content = handle.read().rstrip("\r\n")
    except OSError as error:
        raise ConfigError(f"{name}_FILE: cannot read {path!r} ({error.strerror})") from None
    return content or None


def _postgres_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise ConfigError(f"{name} must look like postgresql://user@host:5432/db")
    return raw


def _redis_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("redis", "rediss", "redis+sentinel"):
        raise ConfigError(
            f"{name} must be redis://, rediss:// or redis+sentinel://h1:p1,h2:p2/service/db"
        )
    return raw


@dataclass(frozen=True)
class Settings:
    database_url: str
    migration_database_url: str
    database_iam_auth: bool = False
    database_ssl_root_cert: str | None = None
    aws_region: str = "eu-west-1"
    redis_url: str | None = None
    redis_password: str | None = field(default=None, repr=False)
    queue_url: str | None = None
    sqs_endpoint_url: str | None = None
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_issuer: str = contract.JWT_ISSUER_DEFAULT
    jwt_audience: str = contract.JWT_AUDIENCE_DEFAULT
    rate_limit_per_second: float = 100.0
    rate_limit_burst: float = 200.0
    read_rate_limit_per_second: float = 200.0
    read_rate_limit_burst: float = 400.0
    header_read_timeout_s: float = 5.0
    body_read_timeout_s: float = 10.0
    idempotency_ttl_hours: float = 24.0
    db_pool_max: int = 20
    placement_batch_max: int = 16  # placements per statement (1: each alone)
    placement_batches_in_flight: int = 1  # statements of placements out at once, per process
    db_command_timeout_s: float = 5.0
    db_connect_timeout_s: float = 1.0
    redis_timeout_s: float = 0.1
    shutdown_drain_s: float = 5.0
    max_body_bytes: int = 16 * 1024
    dlq_max_receive_count: int = 5
    gauge_interval_s: float = 5.0
    otlp_endpoint: str | None = None
    http_server: str = "uvloop-httptools"

    @property
    def queue_name(self) -> str | None:
        if self.queue_url is None:
            return None
        return self.queue_url.rstrip("/").rsplit("/", 1)[-1]

    def require_jwt_secret(self) -> str:
        if not self.jwt_secret:
            raise ConfigError("ORDERS_JWT_SECRET is required (an HS256 secret of >= "
                              f"{contract.JWT_SECRET_MIN_BYTES} bytes)")
        return self.jwt_secret

    def require_queue_url(self) -> str:
        if not self.queue_url:
            raise ConfigError("ORDERS_QUEUE_URL is required (the SQS FIFO queue URL)")
        return self.queue_url


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    database_url = env.get("ORDERS_DATABASE_URL", "")
    if not database_url:
        raise ConfigError(
            "ORDERS_DATABASE_URL is required, e.g. "
            f"postgresql://{contract.APP_ROLE}@127.0.0.1:5432/{contract.DATABASE_NAME}"
        )
    database_url = _postgres_url("ORDERS_DATABASE_URL", database_url)
    migration_url = env.get("ORDERS_MIGRATION_DATABASE_URL") or database_url
    _postgres_url("ORDERS_MIGRATION_DATABASE_URL", migration_url)

    redis_url = env.get("ORDERS_REDIS_URL") or None
    if redis_url:
        _redis_url("ORDERS_REDIS_URL", redis_url)

    queue_url = env.get("ORDERS_QUEUE_URL") or None
    if queue_url and not queue_url.endswith(".fifo"):
        raise ConfigError("ORDERS_QUEUE_URL must name a FIFO queue (ending in .fifo)")

    jwt_secret = _secret(env, "ORDERS_JWT_SECRET")
    if jwt_secret is not None and len(jwt_secret.encode()) < contract.JWT_SECRET_MIN_BYTES:
        raise ConfigError(
            f"ORDERS_JWT_SECRET must be at least {contract.JWT_SECRET_MIN_BYTES} bytes long")

    ttl = _number(env, "ORDERS_IDEMPOTENCY_TTL_HOURS", 24.0, 24.0)
    return Settings(
        database_url=database_url,
        migration_database_url=migration_url,
        database_iam_auth=_bool(env, "ORDERS_DATABASE_IAM_AUTH", False),
        database_ssl_root_cert=env.get("ORDERS_DATABASE_SSL_ROOT_CERT") or None,
        aws_region=env.get("ORDERS_AWS_REGION") or env.get("AWS_REGION") or "eu-west-1",
        redis_url=redis_url,
        redis_password=_secret(env, "ORDERS_REDIS_PASSWORD"),
        queue_url=queue_url,
        sqs_endpoint_url=env.get("ORDERS_SQS_ENDPOINT_URL") or None,
        jwt_secret=jwt_secret,
        jwt_issuer=env.get("ORDERS_JWT_ISSUER") or contract.JWT_ISSUER_DEFAULT,
        jwt_audience=env.get("ORDERS_JWT_AUDIENCE") or contract.JWT_AUDIENCE_DEFAULT,
        rate_limit_per_second=_number(env, "ORDERS_RATE_LIMIT_PER_SECOND", 100.0, 0.1),
        rate_limit_burst=_number(env, "ORDERS_RATE_LIMIT_BURST", 200.0, 1.0),
        read_rate_limit_per_second=_number(env, "ORDERS_READ_RATE_LIMIT_PER_SECOND", 200.0, 0.1),
        read_rate_limit_burst=_number(env, "ORDERS_READ_RATE_LIMIT_BURST", 400.0, 1.0),
        header_read_timeout_s=_number(env, "ORDERS_HEADER_READ_TIMEOUT_S", 5.0, 0.1),
        body_read_timeout_s=_number(env, "ORDERS_BODY_READ_TIMEOUT_S", 10.0, 0.1),
        idempotency_ttl_hours=ttl,
        db_pool_max=int(_number(env, "ORDERS_DB_POOL_MAX", 20, 1)),
        placement_batch_max=int(_number(env, "ORDERS_PLACEMENT_BATCH_MAX", 16, 1)),
        placement_batches_in_flight=int(
            _number(env, "ORDERS_PLACEMENT_BATCHES_IN_FLIGHT", 1, 1)
        ),
        db_command_timeout_s=_number(env, "ORDERS_DB_COMMAND_TIMEOUT_S", 5.0, 0.1),
        db_connect_timeout_s=_number(env, "ORDERS_DB_CONNECT_TIMEOUT_S", 1.0, 0.1),
        redis_timeout_s=_number(env, "ORDERS_REDIS_TIMEOUT_S", 0.1, 0.01),
        shutdown_drain_s=_number(env, "ORDERS_SHUTDOWN_DRAIN_S", 5.0, 0.0),
        max_body_bytes=int(_number(env, "ORDERS_MAX_BODY_BYTES", 16 * 1024, 1024)),
        dlq_max_receive_count=int(_number(env, "ORDERS_DLQ_MAX_RECEIVE_COUNT", 5, 1)),
        gauge_interval_s=_number(env, "ORDERS_GAUGE_INTERVAL_S", 5.0, 0.05),
        otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        http_server=_choice(env, "ORDERS_HTTP_SERVER", HTTP_SERVERS),
    )

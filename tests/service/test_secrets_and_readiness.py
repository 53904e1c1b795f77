"""Secrets read from mounted files, and readiness meaning "can accept orders"."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.config import ConfigError, load_settings
from tests.service.conftest import Database, make_settings

BASE = {"ORDERS_DATABASE_URL": "postgresql://orders_app@127.0.0.1:5432/orders"}
JWT = "j" * 40


def test_secrets_are_read_from_the_files_the_variables_name(tmp_path: Path) -> None:
    (tmp_path / "jwt-secret").write_text(JWT + "\n")  # a trailing newline is not part of it
    (tmp_path / "redis-password").write_text("redis-auth-token")
    settings = load_settings(
        BASE
        | {
            "ORDERS_JWT_SECRET_FILE": str(tmp_path / "jwt-secret"),
            "ORDERS_REDIS_PASSWORD_FILE": str(tmp_path / "redis-password"),
        }
    )
    assert settings.jwt_secret == JWT
    assert settings.redis_password == "redis-auth-token"


def test_a_secret_file_gets_the_same_checks_as_the_variable(tmp_path: Path) -> None:
    (tmp_path / "jwt-secret").write_text("short")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load_settings(BASE | {"ORDERS_JWT_SECRET_FILE": str(tmp_path / "jwt-secret")})


def test_a_missing_file_or_both_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ORDERS_REDIS_PASSWORD_FILE: cannot read"):
        load_settings(BASE | {"ORDERS_REDIS_PASSWORD_FILE": str(tmp_path / "absent")})
    (tmp_path / "jwt-secret").write_text(JWT)
    with pytest.raises(ConfigError, match="not both"):
        load_settings(
            BASE
            | {"ORDERS_JWT_SECRET": JWT, "ORDERS_JWT_SECRET_FILE": str(tmp_path / "jwt-secret")}
        )


async def test_ready_only_against_a_writable_database(database: Database, redis_url: str) -> None:
    """A read-only database (as a hot standby or the standby region's Aurora secondary
    is) must make the API unready, so no load balancer or Route 53 sends orders there."""
    from service.app import create_app
    from service.observability import Metrics

    settings = make_settings(database, redis_url)
    async with AsyncTestClient(app=create_app(settings, Metrics())) as client:
        writable = await client.get("/health/ready")
    assert writable.status_code == 200, writable.text

    await database.fetch(f"ALTER DATABASE {database.name} SET default_transaction_read_only = on")
    async with AsyncTestClient(app=create_app(settings, Metrics())) as client:
        read_only = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert read_only.status_code == 503
    assert read_only.json()["status"] == "read-only"
    assert read_only.json()["database"] == "read-only"
    assert live.status_code == 200  # alive: nothing to restart, just not a writer

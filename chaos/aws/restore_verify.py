"""Verify a restored Aurora cluster: a read-only TLS session, then the target-independent
checks of a restored database (`chaos.restore.checks.check_restored`, shared with the local
PITR drill), with the load generator's history when one is given, else the invariants.

The checks are reached through the small `RestoredChecks` protocol and imported lazily, so
this module does not depend on how the local drill is packaged.
"""

from __future__ import annotations

import asyncio
import importlib
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from chaos.aws.calls import Clock, SystemClock
from chaos.aws.restore import RestoredEndpoint, RestoreFailed, Verification

CHECKS_MODULE = "chaos.restore.checks"
CONNECT_TIMEOUT_S = 30.0


class CheckResult(Protocol):
    @property
    def violations(self) -> dict[str, int]: ...

    @property
    def result(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


class RestoredChecks(Protocol):
    def __call__(self, conn: asyncpg.Connection, history: Any, target_time: datetime | None,
                 checkpoints: Sequence[Any] | None) -> Awaitable[CheckResult]: ...


Connect = Callable[..., Awaitable[asyncpg.Connection]]


def shared_checks() -> RestoredChecks:
    """`check_restored` of the local PITR drill's checks module."""
    try:
        module = importlib.import_module(CHECKS_MODULE)
    except ImportError as exc:
        raise RestoreFailed(f"{CHECKS_MODULE} is not available: {exc}") from exc
    checks: RestoredChecks = module.check_restored
    return checks


def tls_context(root_cert: Path | None) -> ssl.SSLContext:
    """verify-full against the RDS CA bundle when given; else encrypted, unverified (the
    cluster forces TLS either way)."""
    if root_cert is not None:
        return ssl.create_default_context(cafile=str(root_cert))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class RestoreVerifier:
    """The `Verifier` the AWS restore drill calls once the restored instance is available."""

    history: Any = None  # chaos.drill.records.History, or None: the invariants only
    root_cert: Path | None = None
    checks: RestoredChecks | None = None
    connect: Connect = asyncpg.connect
    clock: Clock | None = None

    def __call__(self, endpoint: RestoredEndpoint, target_time: datetime) -> Verification:
        return asyncio.run(self.verify(endpoint, target_time))

    async def verify(self, endpoint: RestoredEndpoint, target_time: datetime) -> Verification:
        clock = self.clock or SystemClock()
        checks = self.checks or shared_checks()
        conn = await self.connect(
            host=endpoint.host, port=endpoint.port, user=endpoint.user,
            password=endpoint.password, database=endpoint.database,
            ssl=tls_context(self.root_cert), timeout=CONNECT_TIMEOUT_S,
            server_settings={"default_transaction_read_only": "on",
                             "application_name": "restore-drill"},
        )
        try:
            read_only = await conn.fetchval("SHOW default_transaction_read_only")
            first_query_at = clock.now()
            anomalies = [] if read_only == "on" else ["the verifier's session is not read-only"]
            # the audit checkpoints live in the checkpoint bucket, not here: unknown
            result = await checks(conn, self.history, target_time, None)
            verified_at = clock.now()
        finally:
            await conn.close()
        anomalies += [f"{name}: {count}" for name, count in sorted(result.violations.items())]
        return Verification(first_query_at, verified_at, anomalies,
                            {"result": result.result, "checks": result.to_json()})

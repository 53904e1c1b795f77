"""The AWS restore drill's verifier against a real PostgreSQL server: its
session is read-only, the checks run through it, and their violations become anomalies.
(The checks themselves are the local restore drill's, tested with it.)"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from chaos.aws.restore import RestoredEndpoint
from chaos.aws.restore_verify import RestoreVerifier

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # localenv/ is a repo directory, not an installed package
    sys.path.insert(0, str(REPO))

from localenv.postgres import PostgresServer  # noqa: E402

TARGET = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


class Result:
    def __init__(self, violations: dict[str, int]) -> None:
        self.violations = violations
        self.result = "invalid" if violations else "valid"

    def to_json(self) -> dict[str, Any]:
        return {"violations": self.violations, "result": self.result}


class WritingChecks:
    """Stands for the shared checks: reads through the session, and tries to write."""

    def __init__(self) -> None:
        self.write_error: BaseException | None = None
        self.seen: tuple[Any, ...] = ()

    async def __call__(self, conn: asyncpg.Connection, history: Any,
                       target_time: datetime | None, checkpoints: Any) -> Result:
        self.seen = (history, target_time, checkpoints)
        try:
            await conn.execute("CREATE TABLE restore_drill_probe (x int)")
        except asyncpg.PostgresError as exc:
            self.write_error = exc
        late = await conn.fetchval("SELECT count(*) FROM pg_class WHERE relname = 'late'")
        return Result({"created_after_target": int(late)} if late else {})


def plain_connect(**kwargs: Any) -> Any:
    kwargs.pop("ssl")  # the local server has no TLS; the drill's context is tested below
    return asyncpg.connect(**kwargs)


def endpoint(pg: PostgresServer) -> RestoredEndpoint:
    return RestoredEndpoint("127.0.0.1", pg.port, "postgres", "postgres", "")


def test_session_is_read_only_and_violations_become_anomalies(pg: PostgresServer) -> None:
    checks = WritingChecks()
    verifier = RestoreVerifier(checks=checks, connect=plain_connect)
    clean = verifier(endpoint(pg), TARGET)
    assert isinstance(checks.write_error, asyncpg.ReadOnlySQLTransactionError)
    assert checks.seen == (None, TARGET, None)
    assert clean.anomalies == [] and clean.facts["result"] == "valid"
    assert clean.first_query_at <= clean.verified_at

    pg.psql("CREATE TABLE late (x int)", database="postgres")
    try:
        found = RestoreVerifier(checks=WritingChecks(), connect=plain_connect)(
            endpoint(pg), TARGET)
    finally:
        pg.psql("DROP TABLE late", database="postgres")
    assert found.anomalies == ["created_after_target: 1"]


def test_tls_context_verifies_only_with_a_bundle(tmp_path: Path) -> None:
    import ssl

    from chaos.aws.restore_verify import tls_context

    assert tls_context(None).verify_mode == ssl.CERT_NONE
    bundle = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    if not bundle.exists():
        pytest.fail(f"no CA bundle at {bundle} to build a verifying context from")
    context = tls_context(bundle)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname

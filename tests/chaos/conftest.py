"""Fixtures shared by the chaos tests that need a real PostgreSQL server."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # localenv/ is a repo directory, not an installed package
    sys.path.insert(0, str(REPO))

from localenv.postgres import PostgresServer  # noqa: E402
from localenv.procs import free_port  # noqa: E402


@pytest.fixture(scope="module")
def pg(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """One throwaway, non-durable PostgreSQL per test module (run as the postgres user)."""
    prefix = f"{request.module.__name__.rsplit('.', 1)[-1]}-"
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    base.chmod(0o755)  # the postgres OS user must traverse it
    server = PostgresServer(base / "pg", free_port(), durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)

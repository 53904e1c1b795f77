"""Naming the dev system's processes and reading the harness's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import devstack

PY = "/work/main/.venv/bin/python"


@pytest.mark.parametrize(
    ("argv", "role"),
    [
        ([PY, "-m", "service", "serve", "--port", "8000"], "api"),
        ([PY, "-m", "service", "relay"], "relay"),
        ([PY, "-m", "service", "worker"], "worker"),
        ([PY, "-m", "service", "integrator", "--health-port", "9"], "integrator"),
        (["/usr/lib/postgresql/15/bin/postgres", "-D", "/x"], "postgresql"),
        (["/usr/bin/redis-server", "--port", "1"], "redis"),
        (["/work/.venv-sqs/bin/python", "-I", "/work/localenv/sqs_server.py", "serve"], "sqs-endpoint"),
        (["/usr/bin/haproxy", "-f", "x"], "haproxy"),
        ([], "unknown"),
    ],
)
def test_role_of(argv: list[str], role: str) -> None:
    assert devstack.role_of(argv) == role


def test_read_env_file_skips_comments(tmp_path: Path) -> None:
    env = tmp_path / "env"
    env.write_text("# source with: set -a\nORDERS_DATABASE_URL=postgresql://a@127.0.0.1:5/o\n"
                   "ORDERS_JWT_SECRET=$(cat /x/jwt-secret)\n")
    parsed = devstack.read_env_file(env)
    assert parsed["ORDERS_DATABASE_URL"] == "postgresql://a@127.0.0.1:5/o"
    system = devstack.DevSystem(tmp_path, "http://x", parsed, "s", harness=None)  # type: ignore[arg-type]
    assert system.pg_port == 5
    assert system.superuser_url("bench_ceiling") == "postgresql://postgres@127.0.0.1:5/bench_ceiling"


def test_the_harness_module_is_found() -> None:
    assert devstack.harness_module() in devstack.HARNESS_MODULES

"""Schemathesis against the real service (API, relay and worker on real PostgreSQL, Redis and
the SQS endpoint): every check, the stateful phase through the document's links, a bounded
number of examples and a fixed seed. The run must end with 0 failures."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localenv.procs import ManagedProcess
from service.config import Settings
from tests.service.conftest import JWT_SECRET, Database, LiveServer, live_env, token_for

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261203
MAX_EXAMPLES = 25


@pytest.fixture
def order_service(
    queue_settings: Settings, database: Database, redis_url: str, work_dir: Path
) -> Iterator[LiveServer]:
    from localenv.sqs import LOCAL_AWS_ENV

    env = {
        **os.environ, **LOCAL_AWS_ENV,
        **live_env(
            database, redis_url,
            ORDERS_QUEUE_URL=str(queue_settings.queue_url),
            ORDERS_SQS_ENDPOINT_URL=str(queue_settings.sqs_endpoint_url),
            ORDERS_AWS_REGION=queue_settings.aws_region,
            ORDERS_RATE_LIMIT_PER_SECOND="100000", ORDERS_RATE_LIMIT_BURST="100000",
            ORDERS_READ_RATE_LIMIT_PER_SECOND="100000", ORDERS_READ_RATE_LIMIT_BURST="100000",
        ),
    }
    logs = work_dir / f"fuzz-{secrets.token_hex(3)}"
    helpers = [
        ManagedProcess(name, [sys.executable, "-m", "service", name], logs / f"{name}.log",
                       env=env, cwd=ROOT)
        for name in ("relay", "worker")
    ]
    api = LiveServer(env, logs / "api.log")
    try:
        for helper in helpers:
            helper.start()
        yield api.start()
    finally:
        api.process.stop()
        for helper in helpers:
            helper.stop()


def run_schemathesis(url: str, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file", str(ROOT / "tests/service/schemathesis.toml"),
        "run", f"{url}/schema/openapi.json",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--workers", "1",
        "--generation-database", "none",
        "--request-timeout", "10",
        "--header", f"Authorization: Bearer {token_for('ACC-1', ttl_seconds=3600)}",
        "--report", "json", "--report-json-path", str(report),
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.service.schemathesis_hooks",
           "PYTHONPATH": str(ROOT), "ORDERS_JWT_SECRET": JWT_SECRET}
    return subprocess.run(command, cwd=report.parent, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_schemathesis_finds_no_failures(order_service: LiveServer, work_dir: Path) -> None:
    report = work_dir / f"schemathesis-{secrets.token_hex(3)}.json"
    result = run_schemathesis(order_service.url, report)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    summary: dict[str, Any] = json.loads(report.read_text())
    print(  # the figures, for whoever reads the CI log
        "schemathesis:", json.dumps({
            "seed": summary["seed"], "operations": summary["operations"],
            "test_cases": summary["test_cases"], "phases": summary["phases"],
        }),
    )
    assert summary["seed"] == SEED and summary["complete"]
    assert summary["operations"]["tested"] == summary["operations"]["total"] == 9  # 7 order and health operations, 2 audit-log ones
    assert summary["failures"] == [] and summary["errors"] == []
    assert summary["test_cases"]["with_failures"] == 0
    assert {name: phase["status"] for name, phase in summary["phases"].items()} == {
        "examples": "skip", "coverage": "success", "fuzzing": "success", "stateful": "success",
    }
    assert "API Links:    3 covered / 3 selected" in result.stdout, "every link was followed"

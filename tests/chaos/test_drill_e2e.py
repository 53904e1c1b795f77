"""End-to-end failover drills on the real local HA stack (slow; `pytest -m drill`).

One stack is brought up for the module in a temporary state directory (on free loopback
ports, so a developer's own `make stack-up` is left alone) and stopped afterwards. Each
drill is bounded: ~15 s warm-up, the fault, ~30 s recovery, rollback, drain, checker.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaos.drill.loadgen import LoadConfig
from chaos.drill.report import Slo
from chaos.drill.runner import DrillEnv, DrillSettings, run_scenario
from chaos.drill.scenarios import SCENARIOS

pytestmark = [pytest.mark.drill, pytest.mark.timeout(900)]

SETTINGS = DrillSettings(
    warmup_s=15.0,
    recovery_s=30.0,
    max_extension_s=30.0,
    drain_timeout_s=120.0,
    healthy_timeout_s=180.0,
    load=LoadConfig(rate=25.0, clients=8, duration_s=None),
    slo=Slo(),
)


def _unavailable() -> str | None:
    try:
        from chaos.stack import Stack  # noqa: F401
        from chaos.stack.stack import service_available
    except ImportError as exc:
        return f"chaos.stack is not there yet ({exc})"
    ok, reason = service_available()
    if not ok:
        return f"the service cannot run: {reason}"
    if not (Path(__file__).resolve().parents[2] / ".venv-sqs").exists():
        return "the local SQS endpoint is not installed (make sqs-endpoint)"
    return None


@pytest.fixture(scope="module")
def stack_env() -> Iterator[DrillEnv]:
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    from chaos.drill.local import local_stack

    base = Path(tempfile.mkdtemp(prefix="drill-e2e-", dir="/tmp"))
    base.chmod(0o755)  # Patroni/PostgreSQL run as the postgres user
    try:
        with local_stack(base / "stack", keep=False, healthy_timeout=180.0,
                         say=lambda line: print(line, file=sys.stderr)) as env:
            yield env
    finally:
        shutil.rmtree(base, ignore_errors=True)


def assert_no_anomaly(report: dict[str, Any]) -> None:
    summary = {k: report[k] for k in (
        "verdict", "verdict_reason", "acknowledged", "lost", "duplicated", "orphaned",
        "undelivered", "double_processed", "audit_chain_ok", "error_window_s",
        "time_to_recover_s", "p99_ms_during_fault", "availability")}
    print(json.dumps(summary, indent=2), file=sys.stderr)
    assert report["acknowledged"] > 0, summary
    assert report["fault_at"] is not None, summary
    for field in ("lost", "duplicated", "orphaned", "double_processed", "undelivered",
                  "mismatched", "unexpected", "unaudited"):
        assert report[field] == 0, summary
    assert report["audit_chain_ok"] is True, summary
    assert report["verdict"] != "failed", summary
    # Steady state came back within the bounded recovery window.
    assert report["recovered_at"] is not None, summary


@pytest.mark.parametrize("name", ["db-primary-kill", "redis-primary-kill"])
async def test_drill(name: str, stack_env: DrillEnv, tmp_path_factory: pytest.TempPathFactory
                     ) -> None:
    out = tmp_path_factory.mktemp(f"drill-{name}")
    report = await run_scenario(stack_env, SCENARIOS[name], SETTINGS, out)
    assert_no_anomaly(report)
    assert Path(report["files"]["png"]).exists()

"""CI runs the local commands of the runbooks of the catalogue's CI set (db-primary-kill and
redis-primary-kill) end to end, exactly as an SRE would paste them: every `bash local`
block, in order, in one shell.

The blocks bring the real HA stack up, check it, run the drill (`make drill SCENARIO=…`),
verify the audit chain and take the stack down. The drill's report must show no lost,
duplicated, orphaned, undelivered or double-processed order, and its alert expectations
met: the stack runs Prometheus + Alertmanager, every expected alert fired after the fault
and nothing paged during the steady state. Slow: marked `drill`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from chaos import catalogue
from chaos.stack import Stack

pytestmark = [pytest.mark.drill, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[1]
LOCAL_BLOCK = re.compile(r"^```bash local\n(.*?)^```", re.M | re.S)


def local_commands(runbook: str) -> str:
    blocks = LOCAL_BLOCK.findall((ROOT / "runbooks" / f"{runbook}.md").read_text())
    assert blocks, f"{runbook} has no `bash local` block"
    return "".join(blocks)


def assert_no_anomaly(report: dict[str, Any]) -> None:
    summary = {k: report.get(k) for k in (
        "verdict", "verdict_reason", "acknowledged", "lost", "duplicated", "orphaned",
        "undelivered", "double_processed", "audit_chain_ok", "error_window_s",
        "time_to_recover_s", "p99_ms_during_fault", "availability")}
    assert report["verdict"] == "passed", summary
    assert report["acknowledged"] > 0, summary
    assert report["fault_at"] is not None, summary
    for field in ("lost", "duplicated", "orphaned", "double_processed", "undelivered",
                  "mismatched", "unexpected", "unaudited"):
        assert report[field] == 0, summary
    assert report["audit_chain_ok"] is True, summary
    assert report["recovered_at"] is not None, summary


def assert_alert_expectations(report: dict[str, Any], expected: tuple[str, ...]) -> None:
    """`make stack-up` runs Prometheus + Alertmanager: the drill observed the alerts, every
    expected one fired after the fault, and nothing paged during the steady state."""
    fired = {a["name"]: a for a in report["alerts"]}
    summary = {"expected": expected, "fired": report["alerts"],
               "time_to_detect_s": report["time_to_detect_s"]}
    assert report["alerts_observed"] is True, summary
    assert report["expected_alerts_met"] is True, summary
    assert set(expected) <= set(fired), summary
    for name in expected:
        assert report["time_to_detect_s"][name] >= 0, summary


@pytest.mark.parametrize("runbook", [catalogue.get(name).runbook for name in catalogue.ci_set()])
def test_runbook_local_commands_run_the_drill_cleanly(runbook: str) -> None:
    script = local_commands(runbook)
    assert f"make drill SCENARIO={runbook}" in script
    # A short state path: UNIX socket paths under it must stay within 107 bytes.
    base = Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp"))
    base.chmod(0o755)  # Patroni/PostgreSQL run as the postgres user
    state_dir, reports = base / "stack", base / "reports"
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "CHAOS_STACK_DIR": str(state_dir),
        "REPORTS_DIR": str(reports),
    }
    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=1100, check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-4000:]
        assert output.count("audit log intact") == 2, output[-4000:]  # before and after
        index = json.loads((reports / "drill-index.json").read_text())
        report = json.loads(Path(index[runbook]["report"]).read_text())
        assert_no_anomaly(report)
        assert_alert_expectations(report, catalogue.get(runbook).expected_alerts.names)
        assert Path(report["files"]["png"]).exists()
        # `make stack-down` in the checklist block left nothing running.
        assert Stack.load(state_dir).leftover_pids() == []
    finally:
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "chaos", "stack", "down",
             "--state-dir", str(state_dir)],
            cwd=ROOT, env=env, capture_output=True, check=False, timeout=120,
        )
        shutil.rmtree(base, ignore_errors=True)

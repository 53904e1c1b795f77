"""The local point-in-time restore drill end to end, on the real HA stack with pgBackRest:
backups under load, a restore to a noted target time into a fresh instance, the checks
against the load generator's log. Slow (about three minutes): marked `drill`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from chaos.stack import Stack

pytestmark = [pytest.mark.drill, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


def test_pitr_restore_drill_restores_every_acknowledged_order_and_nothing_later() -> None:
    base = Path(tempfile.mkdtemp(prefix="rs-", dir="/tmp"))
    base.chmod(0o755)  # Patroni/PostgreSQL run as the postgres user
    state_dir, reports = base / "stack", base / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "chaos", "restore-drill", "--scenario", "pitr",
         "--state-dir", str(state_dir), "--reports-dir", str(reports), "--load-phase", "5"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=840, check=False,
    )
    try:
        report_path = reports / "restore-latest" / "pitr" / "report.json"
        assert report_path.exists(), (proc.returncode, proc.stderr[-3000:])
        report = json.loads(report_path.read_text())
        summary = {k: report.get(k) for k in (
            "verdict", "verdict_reason", "anomalies", "errors", "rpo_missing_acknowledged",
            "rto_first_query_s", "rto_verified_s", "acknowledged_before_cut_off")}
        assert proc.returncode == 0, (summary, proc.stderr[-3000:])
        assert report["verdict"] == "passed", summary
        assert report["rpo_missing_acknowledged"] == 0, summary
        assert report["rpo_data_loss_s"] == 0, summary
        assert report["acknowledged_before_cut_off"] > 0, summary
        assert report["check"]["after_target"] == 0, summary
        assert report["audit_chain_ok"] is True and report["migrations_ok"] is True, summary
        assert report["rto_first_query_s"] > 0 and report["rto_verified_s"] >= \
            report["rto_first_query_s"], summary
        assert report["backup_size_bytes"] > 0 and report["backup_seconds"] > 0, summary
        assert [b["type"] for b in report["backups"]] == ["full", "incr"], summary
        assert (reports / "restore-latest" / "pitr" / "timeline.png").stat().st_size > 0
    finally:
        # The drill stops the stack it started; make sure, even after a failure.
        if (state_dir / "state.json").exists():
            stack = Stack.load(state_dir)
            if stack.running():
                stack.down()
            assert not stack.leftover_pids()
        shutil.rmtree(base, ignore_errors=True)

"""The restore report's verdict (unknown is never a pass), the pgBackRest configuration the
stack writes, and the restore target format (no database, no stack)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from chaos.drill.verdict import exit_code
from chaos.restore import report as reports
from chaos.restore.cli import scenarios_of
from chaos.stack import backup


def _check(result: str, **violations: int) -> dict[str, object]:
    return {"result": result, "violations": violations, "missing_acknowledged": 0,
            "with_history": True, "data_loss_s": 0.0, "acknowledged_before_cut_off": 5,
            "orders_in_db": 5, "in_doubt_present": 0, "in_doubt_absent": 0,
            "audit_chain_ok": result == "valid", "audit_detail": "", "migrations_ok": True,
            "migration_version": "0004", "cut_off": None}


@pytest.mark.parametrize(("result", "violations", "errors", "tools", "verdict", "code"), [
    ("valid", {}, [], [], "passed", 0),
    ("invalid", {"missing_acknowledged": 2}, [], [], "failed", 1),
    ("unknown", {}, [], [], "unknown", 2),
    ("valid", {}, [], ["pgbackrest_verify: checksum mismatch"], "failed", 1),
    (None, {}, ["RestoredInstanceError: no query answered"], [], "aborted", 2),
])
def test_verdict_and_exit_code(result: str | None, violations: dict[str, int],
                               errors: list[str], tools: list[str], verdict: str,
                               code: int) -> None:
    report = reports.empty_report("pitr", "local")
    report["errors"] = errors
    if result is not None:
        reports.apply_check(report, _check(result, **violations))
    reports.finish(report, tools)
    assert report["verdict"] == verdict
    assert exit_code([report]) == code
    if tools:
        assert "pgbackrest_verify" in report["anomalies"]
    assert set(reports.REPORT_FIELDS) <= set(report)


def test_pgbackrest_config_is_private_encrypted_and_names_no_node(tmp_path: Path) -> None:
    paths = backup.plan_backup(tmp_path)
    mode = stat.S_IMODE(paths.config.stat().st_mode)
    assert mode == 0o600
    text = paths.config.read_text()
    assert "repo1-cipher-type=aes-256-cbc" in text
    assert f"repo1-retention-full={backup.RETENTION_FULL}" in text
    passphrase = next(line.split("=", 1)[1] for line in text.splitlines()
                      if line.startswith("repo1-cipher-pass="))
    assert len(passphrase) >= 32
    assert "pg1-path" not in text  # the leader moves: nodes are named per command
    (tmp_path / "other").mkdir()
    assert backup.plan_backup(tmp_path / "other").config.read_text() != text  # per stack
    command = backup.archive_command(paths.config, tmp_path / "pg-b" / "data")
    assert passphrase not in command
    assert f"--pg1-path={tmp_path / 'pg-b' / 'data'}" in command
    assert command.endswith("archive-push %p")


def test_restore_target_in_pgbackrest_time_format() -> None:
    target = datetime(2026, 12, 3, 11, 8, 29, 901000, tzinfo=UTC)
    assert backup.target_text(target) == "2026-12-03 11:08:29.901+00"
    east = target.astimezone(timezone(timedelta(hours=2)))
    assert backup.target_text(east) == "2026-12-03 11:08:29.901+00"
    with pytest.raises(ValueError, match="millisecond"):
        backup.target_text(target.replace(microsecond=901234))


def test_scenario_names() -> None:
    assert scenarios_of("all") == ["pitr", "disaster"]
    assert scenarios_of("disaster") == ["disaster"]
    with pytest.raises(SystemExit):
        scenarios_of("pitr,nope")

"""`python -m chaos drill` argument handling, delegation to the AWS target, exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from chaos.drill import cli


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos")
    commands = parser.add_subparsers(dest="command", required=True)
    cli.register(commands)
    return parser.parse_args(["drill", *argv])


def test_defaults_and_knobs() -> None:
    args = parse()
    assert args.target == "local" and args.scenario is None
    assert args.reports_dir == "reports" and not args.keep_stack
    settings = cli.settings_from_args(args)
    assert (settings.warmup_s, settings.recovery_s) == (20.0, 35.0)
    assert settings.load.rate == 25.0 and settings.slo.p99_ms == 500.0

    args = parse("--scenario", "db-primary-kill", "--scenario", "redis-down,relay-kill",
                 "--warmup", "5", "--recovery", "7", "--hold", "3", "--rate", "10",
                 "--keep-stack", "--state-dir", "/tmp/x", "--slo-p99-ms", "800")
    assert args.scenario == ["db-primary-kill", "redis-down,relay-kill"]
    settings = cli.settings_from_args(args)
    assert (settings.warmup_s, settings.recovery_s, settings.hold_s) == (5.0, 7.0, 3.0)
    assert settings.load.rate == 10.0 and settings.slo.p99_ms == 800.0
    assert args.keep_stack and args.state_dir == "/tmp/x"


def test_aws_options_are_on_the_drill_parser_and_target_aws_delegates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = parse("--target", "aws", "--stack-outputs", "out.json", "--dry-run",
                 "--scenario", "db-primary-kill")
    assert args.stack_outputs == "out.json" and args.dry_run
    seen: list[Any] = []

    def fake_run(ns: argparse.Namespace) -> int:
        seen.append(ns)
        return 7

    import chaos.aws.cli

    monkeypatch.setattr(chaos.aws.cli, "run", fake_run)
    assert cli.main(args) == 7
    assert seen == [args]


def test_list_and_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(parse("--list")) == 0
    out = capsys.readouterr().out
    assert "db-primary-kill" in out and "zone-loss" in out
    assert cli.main(parse("--scenario", "nope")) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_latest_link_and_index(tmp_path: Path) -> None:
    run_dir = tmp_path / "drill-20260101T000000Z"
    (run_dir / "db-primary-kill").mkdir(parents=True)
    cli._link_latest(tmp_path, run_dir, [
        {"scenario": "db-primary-kill", "started_at": "2026-01-01T00:00:00+00:00",
         "verdict": "passed"},
    ])
    assert (tmp_path / "drill-latest").resolve() == run_dir.resolve()
    import json

    index = json.loads((tmp_path / "drill-index.json").read_text())
    assert index["db-primary-kill"]["verdict"] == "passed"

"""The AWS drill CLI: dry runs, refusals, reports, scenario selection and exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from chaos.aws import cli
from chaos.aws.scenarios import AwsContext
from chaos.drill.verdict import exit_code
from tests.chaos.aws_support import (  # noqa: F401 - dummy_aws_env is an autouse fixture
    CLUSTER_Q,
    INSTANCES_Q,
    OUTPUTS,
    PRIMARY,
    READY_URL,
    STANDBY,
    SWITCH_TO_STANDBY,
    Drill,
    FakeClock,
    check_zone_template,
    cluster,
    dummy_aws_env,
    expect_primary_cluster,
)


# -- dry run and the CLI -------------------------------------------------------------------
class NoAwsSession:
    """A session whose clients must never be created (dry run makes no call)."""

    def __init__(self, **_: Any) -> None:
        pass

    def client(self, *_: Any, **__: Any) -> Any:
        raise AssertionError("a dry run created an AWS client")


def cli_args(tmp_path: Path, **kw: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario")
    cli.add_arguments(parser)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    argv = ["--stack-outputs", str(outputs), "--reports-dir", str(tmp_path / "reports")]
    for key, value in kw.items():
        flag = "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return parser.parse_args(argv)


def dry_run_calls(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line.removeprefix("DRY-RUN ")) for line in lines
            if line.startswith("DRY-RUN ")]


def test_dry_run_prints_every_call_and_makes_none(tmp_path: Path) -> None:
    lines: list[str] = []
    args = cli_args(tmp_path, scenario="db-primary-kill", dry_run=True)

    rc = cli.run(args, session_factory=NoAwsSession, clock=FakeClock(), emit=lines.append)

    assert rc == 0
    assert [(c["service"], c["operation"], c["region"], c["params"])
            for c in dry_run_calls(lines)] == [
        ("http", f"GET {READY_URL}", None, {}),
        ("rds", "describe_db_clusters", PRIMARY, CLUSTER_Q),
        ("rds", "describe_db_instances", PRIMARY, INSTANCES_Q),
        ("rds", "failover_db_cluster", PRIMARY, CLUSTER_Q),
        ("rds", "describe_db_clusters", PRIMARY, CLUSTER_Q),
        ("http", f"GET {READY_URL}", None, {}),
    ]
    assert any("repeated every 5s until cluster orders-primary" in line for line in lines)
    assert not (tmp_path / "reports").exists()  # a dry run writes no report


def test_dry_run_of_zone_loss_prints_the_fis_template(tmp_path: Path) -> None:
    lines: list[str] = []
    args = cli_args(tmp_path, scenario="zone-loss", dry_run=True, zone="eu-west-1b")
    assert cli.run(args, session_factory=NoAwsSession, clock=FakeClock(),
                   emit=lines.append) == 0
    calls = {c["operation"]: c for c in dry_run_calls(lines)}
    template = calls["create_experiment_template"]["params"]
    check_zone_template(template, "eu-west-1b")
    assert calls["start_experiment"]["params"]["experimentTemplateId"] == "<template-id>"


def test_cli_refuses_region_failover_without_allow_data_loss(tmp_path: Path) -> None:
    lines: list[str] = []
    for dry_run in (False, True):
        args = cli_args(tmp_path, scenario="region-failover", **({"dry_run": True} if dry_run
                                                                 else {}))
        rc = cli.run(args, session_factory=NoAwsSession, clock=FakeClock(), emit=lines.append)
        assert rc == 2
    assert sum(line.startswith("refused: region-failover") for line in lines) == 2
    assert dry_run_calls(lines) == []


def test_cli_dry_run_of_region_failover_with_the_flag(tmp_path: Path) -> None:
    lines: list[str] = []
    args = cli_args(tmp_path, scenario="region-failover", dry_run=True, allow_data_loss=True)
    assert cli.run(args, session_factory=NoAwsSession, clock=FakeClock(),
                   emit=lines.append) == 0
    failover = [c for c in dry_run_calls(lines) if c["operation"] == "failover_global_cluster"]
    assert failover == [{
        "service": "rds", "operation": "failover_global_cluster", "region": STANDBY,
        "params": SWITCH_TO_STANDBY | {"AllowDataLoss": True},
    }]


def test_cli_real_run_writes_a_report(tmp_path: Path) -> None:
    d = Drill()
    rds = expect_primary_cluster(d)
    rds.add_response("failover_db_cluster", {"DBCluster": {}}, CLUSTER_Q)
    rds.add_response("describe_db_clusters", cluster(writer="db-3"), CLUSTER_Q)

    def reuse_stubbed_context(ctx: AwsContext) -> None:
        ctx.calls = d.calls  # the stubbed clients
        ctx.http = d.ctx.http

    args = cli_args(tmp_path, scenario="db-primary-kill")
    rc = cli.run(args, session_factory=lambda **_: d.calls.session, clock=d.clock,
                 emit=d.lines.append, context_hook=reuse_stubbed_context)

    assert rc == 0, d.lines
    reports = sorted((tmp_path / "reports").glob("aws-db-primary-kill-*.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert report["verdict"] == "passed"
    assert report["aws_calls"][0]["operation"] == "failover_db_cluster"
    assert (tmp_path / "reports").glob("aws-summary-*.md")


def test_cli_unknown_scenario_and_missing_outputs(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli_args(tmp_path, scenario="nope"), session_factory=NoAwsSession) == 2
    assert "unknown scenario 'nope'" in capsys.readouterr().err
    args = cli_args(tmp_path)
    args.stack_outputs = None
    assert cli.run(args, session_factory=NoAwsSession) == 2
    assert "--stack-outputs FILE" in capsys.readouterr().err


def test_add_arguments_tolerates_flags_the_drill_parser_already_has() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario")
    parser.add_argument("--dry-run", action="store_true", help="local drill dry run")
    cli.add_arguments(parser)
    args = parser.parse_args(["--dry-run", "--stack-outputs", "o.json", "--allow-data-loss",
                              "--primary-region", "us-east-1", "--zone", "us-east-1a"])
    assert (args.dry_run, args.stack_outputs, args.allow_data_loss) == (True, "o.json", True)
    assert (args.primary_region, args.zone, args.fis_duration) == ("us-east-1", "us-east-1a",
                                                                   "PT10M")


def test_standard_set_and_scenario_names() -> None:
    assert cli.scenario_names(None) == [
        "db-primary-kill", "db-leader-node-loss", "redis-primary-kill",
        "api-replica-kill", "relay-kill", "zone-loss",
    ]
    assert cli.scenario_names("db-primary-kill, dns-failover") == [
        "db-primary-kill", "dns-failover"]
    assert cli.scenario_names(["zone-loss", "ci,zone-loss"]) == [
        "zone-loss", "db-primary-kill", "redis-primary-kill"]
    assert cli.scenario_names("standard") == cli.scenario_names(None)
    assert len(cli.scenario_names("all")) == 13


@pytest.mark.parametrize(
    ("verdicts", "code"),
    [
        (["passed", "dry-run"], 0),
        (["passed", "failed", "aborted"], 1),
        (["passed", "aborted"], 2),
        (["refused"], 2),
        (["not-supported", "passed"], 2),
    ],
)
def test_exit_code_matches_the_local_drill(verdicts: list[str], code: int) -> None:
    assert exit_code([{"verdict": v} for v in verdicts]) == code


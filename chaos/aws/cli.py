"""`python -m chaos drill --target aws ...`: the AWS half of the drill command.

The `drill` subcommand's parser belongs to chaos/drill/cli.py; it calls
`add_arguments(parser)` to add the AWS options and `run(args)` when `--target aws`.
`args.scenario` may be None (the standard set), one name, a comma-separated list or a list.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos import catalogue
from chaos.aws.calls import CallLayer, Clock, SystemClock
from chaos.aws.outputs import StackOutputsError, load_stack_outputs
from chaos.aws.runner import DrillObserver, execute, summary_markdown, write_reports
from chaos.aws.scenarios import AwsContext, DrillOptions
from chaos.drill.verdict import exit_code

USAGE_ERROR = 2


def _add(parser: Any, *flags: str, **kwargs: Any) -> None:
    """Add an option unless the drill parser already defines it (shared flags)."""
    with contextlib.suppress(argparse.ArgumentError):
        parser.add_argument(*flags, **kwargs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `--target aws` needs, added to the `drill` subcommand's parser."""
    group = parser.add_argument_group("AWS target (--target aws)")
    _add(
        group,
        "--stack-outputs",
        metavar="FILE",
        help="JSON of `pulumi stack output --json` for the deployed stack (keys: "
        "chaos/aws/README.md)",
    )
    _add(
        group,
        "--dry-run",
        action="store_true",
        help="print every AWS/Kubernetes/HTTP call (service, operation, parameters as JSON) "
        "and make none",
    )
    _add(
        group,
        "--allow-data-loss",
        action="store_true",
        help="allow region-failover (rds failover_global_cluster with AllowDataLoss); "
        "refused without it",
    )
    _add(group, "--primary-region", metavar="REGION",
         help="override primaryRegion from the stack outputs")
    _add(group, "--standby-region", metavar="REGION",
         help="override standbyRegion from the stack outputs")
    _add(group, "--aws-profile", metavar="NAME",
         help="AWS profile for the boto3 session (default: the usual credential chain)")
    _add(group, "--zone", metavar="AZ",
         help="zone for zone-loss / api-replica-kill (default: the Aurora writer's zone / "
         "the first zone running API pods)")
    _add(group, "--switch-back", action="store_true",
         help="after region-switchover/region-failover, switch the global writer back")
    _add(group, "--recovery-timeout", type=float, metavar="SECONDS",
         help="override each scenario's recovery timeout")
    _add(group, "--fis-duration", default="PT10M", metavar="ISO8601",
         help="power-interruption duration of a FIS template the drill creates (default PT10M)")
    _add(group, "--reports-dir", default="reports", metavar="DIR",
         help="where reports are written (default: reports)")


def scenario_names(value: Any) -> list[str]:
    """`--scenario` value(s): None, a name, comma lists, repeated; `standard`, `ci`, `all`
    (the sets come from the scenario catalogue)."""
    values = None if not value else [value] if isinstance(value, str) else [str(v) for v in value]
    return [s.name for s in catalogue.resolve(values, "aws")]


def make_scenario(name: str, ctx: AwsContext) -> Any:
    """The catalogue's AWS implementation of `name`, bound to `ctx`."""
    return catalogue.get(name).aws_scenario(ctx)


def run(
    args: argparse.Namespace,
    *,
    observer: DrillObserver | None = None,
    session_factory: Callable[..., Any] | None = None,
    clock: Clock | None = None,
    emit: Callable[[str], None] = print,
    context_hook: Callable[[AwsContext], None] | None = None,
) -> int:
    """Run the AWS scenarios named by `args.scenario` (None: the standard set)."""
    path = getattr(args, "stack_outputs", None)
    if not path:
        print("error: --target aws needs --stack-outputs FILE "
              "(the JSON of `pulumi stack output --json`)", file=sys.stderr)
        return USAGE_ERROR
    try:
        outputs = load_stack_outputs(path)
    except StackOutputsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    overrides = {
        "primary_region": getattr(args, "primary_region", None),
        "standby_region": getattr(args, "standby_region", None),
    }
    outputs = dataclasses.replace(outputs, **{k: v for k, v in overrides.items() if v})

    try:
        names = scenario_names(getattr(args, "scenario", None))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR

    dry_run = bool(getattr(args, "dry_run", False))
    options = DrillOptions(
        dry_run=dry_run,
        allow_data_loss=bool(getattr(args, "allow_data_loss", False)),
        switch_back=bool(getattr(args, "switch_back", False)),
        zone=getattr(args, "zone", None),
        recovery_timeout_s=getattr(args, "recovery_timeout", None),
        fis_duration=getattr(args, "fis_duration", None) or "PT10M",
    )
    if session_factory is None:
        import boto3

        session_factory = boto3.Session
    session = session_factory(
        profile_name=getattr(args, "aws_profile", None), region_name=outputs.primary_region
    )
    calls = CallLayer(session, dry_run=dry_run, emit=emit, clock=clock or SystemClock())
    ctx = AwsContext(outputs=outputs, calls=calls, options=options, session=session)
    if context_hook is not None:
        context_hook(ctx)

    if dry_run:
        emit("# dry run: every call below is printed, none is made")
    reports = [execute(make_scenario(name, ctx), observer) for name in names]
    emit(summary_markdown(reports))
    if not dry_run:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        directory = Path(getattr(args, "reports_dir", None) or "reports")
        for written in write_reports(reports, directory, stamp):
            emit(f"report: {written}")
    return exit_code(reports)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m chaos.aws.cli`), same options as `drill --target aws`."""
    parser = argparse.ArgumentParser(prog="python -m chaos.aws.cli")
    parser.add_argument("--scenario", help="scenario name(s), comma-separated; default: "
                        + ", ".join(catalogue.standard("aws")))
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

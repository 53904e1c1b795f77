"""`python -m chaos restore-drill --target aws ...`: the AWS half of the restore drill.

    python -m chaos restore-drill --target aws --stack-outputs outputs.json --dry-run
    python -m chaos restore-drill --target aws --stack-outputs outputs.json \\
        --client-cidr 10.0.16.0/20 [--target-time 2026-01-05T10:00:00Z] [--history FILE]

`add_arguments(parser)` adds the AWS options to the `restore-drill` parser and `run(args)`
runs it. With `--publish-metrics NAMESPACE` (what the weekly CronJob passes) the outcome
goes to CloudWatch: `RestoreVerified` (1 passed, 0 failed) and `RestoreTimeToVerified`
(seconds), dimension `SourceDBClusterIdentifier`; the alarms on them are in
infra/restore_testing.py. Exit status: 0 passed (or dry run), 1 failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.aws.calls import CallLayer, Clock, SystemClock
from chaos.aws.outputs import StackOutputsError, load_stack_outputs
from chaos.aws.restore import AuroraRestoreDrill, RestoreOptions, RestoreSource, Verifier

USAGE_ERROR = 2
METRIC_VERIFIED = "RestoreVerified"
METRIC_TIME_TO_VERIFIED = "RestoreTimeToVerified"
# not `DBClusterIdentifier`: these metrics are about restores of the cluster, not the cluster
METRIC_DIMENSION = "SourceDBClusterIdentifier"


def _add(parser: Any, *flags: str, **kwargs: Any) -> None:
    """Add an option unless the restore-drill parser already defines it (shared flags)."""
    with contextlib.suppress(argparse.ArgumentError):
        parser.add_argument(*flags, **kwargs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("AWS target (--target aws)")
    _add(group, "--stack-outputs", metavar="FILE",
         help="JSON of `pulumi stack output --json` (keys: chaos/aws/README.md); or the "
         "three options below")
    _add(group, "--region", help="primary region (instead of --stack-outputs)")
    _add(group, "--cluster-id", help="primary Aurora cluster identifier (instead of "
         "--stack-outputs)")
    _add(group, "--master-secret-arn", help="Aurora master secret ARN (instead of "
         "--stack-outputs)")
    _add(group, "--dry-run", action="store_true",
         help="print every AWS call (service, operation, parameters as JSON) and make none")
    _add(group, "--target-time", metavar="ISO8601",
         help="UTC time to restore to (default: the latest restorable time)")
    _add(group, "--history", metavar="FILE", action="append",
         help="the drill load generator's log (repeatable); without it: the invariants")
    _add(group, "--client-cidr", metavar="CIDR", action="append", default=[],
         help="where the verifier connects from (repeatable): the only ingress of the "
         "restored cluster's security group")
    _add(group, "--instance-class", metavar="CLASS",
         help="instance class of the restored cluster's instance (default: the writer's)")
    _add(group, "--ssl-root-cert", metavar="PEM",
         help="RDS CA bundle for verify-full (default: TLS without verification)")
    _add(group, "--restore-timeout", type=float, default=7200.0, metavar="SECONDS",
         help="give up waiting for the restore, and for each deletion, after this long")
    _add(group, "--poll-interval", type=float, default=30.0, metavar="SECONDS")
    _add(group, "--publish-metrics", metavar="NAMESPACE",
         help=f"put {METRIC_VERIFIED} and {METRIC_TIME_TO_VERIFIED} into this CloudWatch "
         "namespace")
    _add(group, "--aws-profile", metavar="NAME",
         help="AWS profile for the boto3 session (default: the usual credential chain)")
    _add(group, "--reports-dir", default="reports", metavar="DIR",
         help="where aws-restore-<time>.json goes (default: reports)")


def parse_target_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"--target-time {value!r} needs a timezone (e.g. a trailing Z)")
    return parsed.astimezone(UTC)


def restore_source(args: argparse.Namespace) -> RestoreSource:
    path = getattr(args, "stack_outputs", None)
    if path:
        outputs = load_stack_outputs(path)
        return RestoreSource(outputs.primary_region, outputs.primary_cluster_id,
                             outputs.database_master_secret_arn)
    region, cluster = getattr(args, "region", None), getattr(args, "cluster_id", None)
    if not (region and cluster):
        raise ValueError("--target aws needs --stack-outputs FILE, or --region and "
                         "--cluster-id (and --master-secret-arn)")
    return RestoreSource(region, cluster, getattr(args, "master_secret_arn", None))


def default_verifier(args: argparse.Namespace) -> Verifier:
    from chaos.aws.restore_verify import RestoreVerifier

    history = None
    if getattr(args, "history", None):
        from chaos.drill.records import read_history

        history = read_history([Path(p) for p in args.history])
    root = getattr(args, "ssl_root_cert", None)
    return RestoreVerifier(history=history, root_cert=Path(root) if root else None)


def publish_metrics(calls: CallLayer, region: str, namespace: str,
                    report: dict[str, Any]) -> None:
    dimensions = [{"Name": METRIC_DIMENSION, "Value": report["source_cluster"]}]
    data: list[dict[str, Any]] = [{
        "MetricName": METRIC_VERIFIED, "Dimensions": dimensions, "Unit": "Count",
        "Value": 1.0 if report["verdict"] == "passed" else 0.0,
    }]
    if report["rto_s"]["to_verified"] is not None:
        data.append({"MetricName": METRIC_TIME_TO_VERIFIED, "Dimensions": dimensions,
                     "Unit": "Seconds", "Value": float(report["rto_s"]["to_verified"])})
    calls.aws("cloudwatch", "put_metric_data", region=region, Namespace=namespace,
              MetricData=data)


def run(
    args: argparse.Namespace,
    *,
    session_factory: Callable[..., Any] | None = None,
    clock: Clock | None = None,
    emit: Callable[[str], None] = print,
    verifier: Verifier | None = None,
) -> int:
    try:
        source = restore_source(args)
        target_time = parse_target_time(getattr(args, "target_time", None))
    except (StackOutputsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    dry_run = bool(getattr(args, "dry_run", False))
    cidrs = tuple(getattr(args, "client_cidr", None) or ())
    if not cidrs and not dry_run:
        print("error: --client-cidr is required: the restored cluster admits nothing else",
              file=sys.stderr)
        return USAGE_ERROR
    if session_factory is None:
        import boto3

        session_factory = boto3.Session
    session = session_factory(profile_name=getattr(args, "aws_profile", None),
                              region_name=source.region)
    calls = CallLayer(session, dry_run=dry_run, emit=emit, clock=clock or SystemClock())
    options = RestoreOptions(
        target_time=target_time, instance_class=getattr(args, "instance_class", None),
        client_cidrs=cidrs, timeout_s=getattr(args, "restore_timeout", None) or 7200.0,
        poll_interval_s=getattr(args, "poll_interval", None) or 30.0,
    )
    if dry_run:
        emit("# dry run: every call below is printed, none is made")
    drill = AuroraRestoreDrill(calls, source, options, verifier or default_verifier(args))
    report = drill.run()
    namespace = getattr(args, "publish_metrics", None)
    if namespace:
        publish_metrics(calls, source.region, namespace, report)
    emit(f"verdict: {report['verdict']}" + (f" ({report['verdict_reason']})"
                                             if report["verdict_reason"] else ""))
    if not dry_run:
        directory = Path(getattr(args, "reports_dir", None) or "reports")
        directory.mkdir(parents=True, exist_ok=True)
        written = directory / f"aws-restore-{calls.clock.now().strftime('%Y%m%dT%H%M%SZ')}.json"
        written.write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
        emit(f"report: {written}")
    return 0 if report["verdict"] in ("passed", "dry-run") else 1


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m chaos.aws.restore_cli`)."""
    parser = argparse.ArgumentParser(prog="python -m chaos.aws.restore_cli")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

"""`python -m chaos stack up|down|status` (also `python -m chaos.stack ...`)."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from chaos.stack.stack import DEFAULT_STATE_DIR, Stack, StackError

EXIT_NOT_RUNNING = 3  # as LSB `status` does for "not running"


def _progress(message: str) -> None:
    print(message, flush=True)


def _state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state_dir or os.environ.get("CHAOS_STACK_DIR") or DEFAULT_STATE_DIR)


def cmd_up(args: argparse.Namespace) -> int:
    try:
        stack = Stack.up(
            _state_dir(args), app=not args.data_only, sqs=not args.no_sqs,
            integrator=args.integrator and not args.data_only,
            monitoring=args.monitoring and not args.data_only, network=args.network,
            backup=args.backup, progress=_progress, timeout=args.timeout,
        )
    except StackError as exc:
        print(f"stack up FAILED: {exc}", file=sys.stderr)
        return 1
    _print_endpoints(stack)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    try:
        stack = Stack.load(_state_dir(args))
    except StackError as exc:
        print(f"nothing to stop: {exc}")
        return 0
    stack.down(progress=_progress, timeout=args.timeout)
    return 1 if stack.leftover_pids() else 0


def cmd_status(args: argparse.Namespace) -> int:
    try:
        stack = Stack.load(_state_dir(args))
    except StackError as exc:
        print(str(exc))
        return EXIT_NOT_RUNNING
    if not stack.running():
        print(f"stack in {stack.state_dir} is down")
        return EXIT_NOT_RUNNING
    report = stack.health()
    if args.json:
        data: dict[str, Any] = {
            "steady": report.steady,
            "mode": stack.state.mode,
            "pg_leader": report.pg_leader,
            "pg_sync_standby": report.pg_sync_standby,
            "pg_streaming": report.pg_streaming,
            "pg_writable": report.pg_writable,
            "redis_primary": report.redis_primary,
            "redis_replicas_linked": report.redis_replicas_linked,
            "api_ready": report.api_ready,
            "partitions": stack.partitions(),
            "problems": report.problems,
            "components": report.components,
            "endpoints": stack.endpoints,
        }
        print(json.dumps(data, indent=2))
        return 0 if report.steady else 1
    print(f"{'component':<11} {'zone':<6} {'kind':<9} {'pid':>7}  health")
    for name, row in report.components.items():
        zone = row["zone"] or "shared"
        pid = row["pid"] or "-"
        mark = "ok " if row["healthy"] else "BAD"
        print(f"{name:<11} {zone:<6} {row['kind']:<9} {pid!s:>7}  {mark} {row['detail']}")
    print(
        f"PostgreSQL leader: {report.pg_leader or 'NONE'} (sync standby "
        f"{report.pg_sync_standby or 'none'}; writes through HAProxy "
        f"{'ok' if report.pg_writable else 'FAILING'})"
    )
    print(
        f"Redis primary: {report.redis_primary or 'NONE'} (linked replicas: "
        f"{', '.join(report.redis_replicas_linked) or 'none'})"
    )
    for handle, cut in stack.partitions().items():
        print(f"partition {handle}: {cut['side_a']} | {cut['side_b']}")
    if stack.state.skipped:
        print("skipped at start-up: " + "; ".join(stack.state.skipped))
    _print_endpoints(stack)
    if report.problems:
        print("NOT steady: " + "; ".join(report.problems))
        return 1
    print("steady state")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """Shell exports of the service's ORDERS_* configuration for this stack, for
    `eval "$(python -m chaos stack env)"`. The JWT secret is read from its file by the
    shell, so it is never printed."""
    try:
        stack = Stack.load(_state_dir(args))
    except StackError as error:
        print(f"no stack: {error}", file=sys.stderr)
        return 1
    env = stack.app_env()
    env.pop("ORDERS_JWT_SECRET", None)
    for key, value in sorted(env.items()):
        print(f"export {key}={shlex.quote(value)}")
    secret_path = shlex.quote(str(stack.endpoints["jwt_secret_path"]))
    print(f'export ORDERS_JWT_SECRET="$(cat {secret_path})"')
    return 0


def cmd_partition(args: argparse.Namespace) -> int:
    """Cut traffic between two groups; prints the handle for `heal`."""
    try:
        handle = Stack.load(_state_dir(args)).partition(args.side_a, args.side_b)
    except StackError as exc:
        print(f"partition FAILED: {exc}", file=sys.stderr)
        return 1
    print(handle)
    return 0


def cmd_heal(args: argparse.Namespace) -> int:
    """Undo one partition, or (no handle) every fault: partitions, frozen, stopped."""
    try:
        Stack.load(_state_dir(args)).heal(args.handle, timeout=args.timeout)
    except StackError as exc:
        print(f"heal FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


def _print_endpoints(stack: Stack) -> None:
    ep = stack.endpoints
    for key in ("api_url", "database_url_app", "database_url_owner", "redis_url",
                "sqs_endpoint_url", "queue_url", "jwt_secret_path", "prometheus_url",
                "alertmanager_url"):
        print(f"  {key:<19} {ep.get(key) or '-'}")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stack", help="local HA stack: etcd+Patroni+HAProxy, Redis+Sentinel, SQS, the service",
        description="Start, stop or inspect the local HA stack (state in var/stack/).",
    )
    sub = parser.add_subparsers(dest="stack_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir", default=None,
        help=f"state directory (default $CHAOS_STACK_DIR or {DEFAULT_STATE_DIR})",
    )
    up = sub.add_parser("up", parents=[common], help="start the stack on free ports")
    up.add_argument("--data-only", action="store_true",
                    help="only the data tier (etcd, PostgreSQL, HAProxy, Redis, SQS)")
    up.add_argument("--no-integrator", dest="integrator", action="store_false",
                    help="without the audit-log integrators (integrator-a, integrator-b)")
    up.add_argument("--no-monitoring", dest="monitoring", action="store_false",
                    help="without Prometheus and Alertmanager")
    up.add_argument("--network", choices=("auto", "netns", "loopback"), default="auto",
                    help="netns: each zonal component in its own network namespace, needed "
                    "for partitions (root only); auto (default): netns when root")
    up.add_argument("--backup", action="store_true",
                    help="pgBackRest: WAL archiving from the leader into an encrypted "
                    "repository under the state dir (the restore drill needs it)")
    up.add_argument("--no-sqs", action="store_true",
                    help="skip the SQS endpoint (and the relays and worker that need it)")
    up.add_argument("--timeout", type=float, default=90.0,
                    help="seconds each component may take to become healthy (default 90)")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", parents=[common], help="stop everything `up` started")
    down.add_argument("--timeout", type=float, default=30.0,
                      help="seconds before SIGTERM escalates to SIGKILL (default 30)")
    down.set_defaults(func=cmd_down)
    status = sub.add_parser("status", parents=[common],
                            help="health of each component, PG leader, Redis primary")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)
    cut = sub.add_parser(
        "partition", parents=[common],
        help="cut traffic between two groups (zone:a, kind:api@c, pg-a, a,b union, '*')",
    )
    cut.add_argument("side_a")
    cut.add_argument("side_b")
    cut.set_defaults(func=cmd_partition)
    heal = sub.add_parser("heal", parents=[common],
                          help="undo a partition; without a handle, roll back every fault")
    heal.add_argument("handle", nargs="?", default=None)
    heal.add_argument("--timeout", type=float, default=90.0)
    heal.set_defaults(func=cmd_heal)
    env = sub.add_parser("env", parents=[common],
                         help='shell exports for service commands: eval "$(... stack env)"')
    env.set_defaults(func=cmd_env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.stack")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["stack", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))

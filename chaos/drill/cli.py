"""`python -m chaos drill`: run failover drills and write their reports.

    python -m chaos drill                               # the standard set, local stack
    python -m chaos drill --scenario db-primary-kill    # one (repeatable, or a comma list)
    python -m chaos drill --scenario ci                 # db-primary-kill + redis-primary-kill
    python -m chaos drill --target aws --stack-outputs outputs.json [--dry-run]

Locally the drill brings the HA stack up when it is not running (and stops it afterwards
unless --keep-stack; a stack that was already up is left up). Reports go to
<reports-dir>/drill-<UTC stamp>/ (see chaos/drill/report.py for every field), with
<reports-dir>/drill-latest pointing at the newest run.

Exit status: 0 every run passed; 1 the checker found an anomaly (lost, duplicated,
orphaned, undelivered, double-processed, ...) or the audit chain is broken; 2 a run was
aborted (steady state not met before the fault, or it did not return after it), or the
stack could not be brought up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos import catalogue
from chaos.drill.loadgen import LoadConfig
from chaos.drill.report import Slo
from chaos.drill.verdict import exit_code


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "drill",
        help="run failover drills (load, fault, recovery, checker, reports)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=main)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(catalogue.standard("local"))
    ci = ",".join(catalogue.ci_set())
    parser.add_argument(
        "--scenario", action="append", metavar="NAME",
        help=f"scenario to run; repeatable or a comma list; 'standard' (default: {names}), "
        f"'ci' ({ci}), 'all' (every scenario the target implements)",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--target", choices=("local", "aws"), default="local",
                        help="local HA stack (default) or a deployed AWS stack")
    parser.add_argument("--reports-dir", default="reports", metavar="DIR",
                        help="where reports are written (default: reports)")
    parser.add_argument("--state-dir", default=None, metavar="DIR",
                        help="local stack state directory (default: the stack's own default)")
    parser.add_argument("--keep-stack", action="store_true",
                        help="leave a stack this drill started running afterwards")
    parser.add_argument("--zone", default=None, metavar="ZONE",
                        help="zone-loss: the zone to lose (local default: the PostgreSQL "
                        "leader's; --target aws: also api-replica-kill, see chaos/aws)")
    timing = parser.add_argument_group("durations (seconds)")
    timing.add_argument("--warmup", type=float, default=20.0,
                        help="steady load before the fault (default 20)")
    timing.add_argument("--recovery", type=float, default=35.0,
                        help="load after the fault (after a timed outage ends) (default 35)")
    timing.add_argument("--hold", type=float, default=None,
                        help="length of timed outages: redis-down, queue-outage (default 30)")
    timing.add_argument("--max-extension", type=float, default=30.0,
                        help="extra time for steady state to return before aborting (30)")
    timing.add_argument("--drain-timeout", type=float, default=120.0,
                        help="bound on waiting for the outbox and queue to drain (120)")
    timing.add_argument("--healthy-timeout", type=float, default=180.0,
                        help="bound on waiting for the stack to be healthy (180)")
    load = parser.add_argument_group("load")
    load.add_argument("--rate", type=float, default=25.0,
                      help="orders started per second, all clients together (default 25)")
    load.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    load.add_argument("--accounts", type=int, default=6, help="accounts per run (default 6)")
    slo = parser.add_argument_group("steady-state SLO")
    slo.add_argument("--slo-availability", type=float, default=0.99,
                     help="minimum availability in the probe windows (default 0.99)")
    slo.add_argument("--slo-p99-ms", type=float, default=500.0,
                     help="P99 latency bound in the probe windows (default 500)")
    try:
        from chaos.aws.cli import add_arguments as add_aws_arguments
    except ImportError:  # pragma: no cover - the AWS half is part of the repository
        return
    add_aws_arguments(parser)


def settings_from_args(args: argparse.Namespace) -> Any:
    from chaos.drill.runner import DrillSettings

    return DrillSettings(
        warmup_s=args.warmup,
        recovery_s=args.recovery,
        hold_s=args.hold,
        max_extension_s=args.max_extension,
        drain_timeout_s=args.drain_timeout,
        healthy_timeout_s=args.healthy_timeout,
        load=LoadConfig(rate=args.rate, clients=args.clients, accounts=args.accounts,
                        principals=min(3, args.accounts), duration_s=None),
        slo=Slo(availability=args.slo_availability, p99_ms=args.slo_p99_ms),
    )


def main(args: argparse.Namespace) -> int:
    if args.list:
        for scenario in catalogue.SCENARIOS.values():
            sets = [t for t in ("local", "aws") if catalogue.implemented(scenario, t)]
            print(f"{scenario.name:22s} [{'+'.join(sets)}] {scenario.description}")
        return 0
    if args.target == "aws":
        from chaos.aws.cli import run as run_aws

        return int(run_aws(args))
    try:
        scenarios = catalogue.resolve(args.scenario, "local")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings_from_args(args)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    reports_dir = Path(args.reports_dir)
    run_dir = reports_dir / f"drill-{stamp}"

    from chaos.drill.local import LocalStackError, local_stack

    try:
        with local_stack(args.state_dir, keep=args.keep_stack, zone=args.zone,
                         healthy_timeout=args.healthy_timeout) as env:
            from chaos.drill.runner import run_drill

            results = asyncio.run(run_drill(env, scenarios, settings, run_dir))
    except LocalStackError as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("drill: interrupted", file=sys.stderr)
        return 130
    _link_latest(reports_dir, run_dir, results)
    print(f"drill: {len(results)} run(s); summary {run_dir / 'summary.md'}")
    for r in results:
        print(f"  {r['scenario']:22s} {r['verdict']:8s} acked={r['acknowledged']} "
              f"lost={r['lost']} duplicated={r['duplicated']} orphaned={r['orphaned']} "
              f"undelivered={r['undelivered']} double_processed={r['double_processed']} "
              f"audit_ok={r['audit_chain_ok']} error_window_s={r['error_window_s']} "
              f"p99_ms_during_fault={r['p99_ms_during_fault']}")
    return exit_code(results)


def _link_latest(reports_dir: Path, run_dir: Path, results: list[dict[str, Any]]) -> None:
    """reports/drill-latest -> the newest run; reports/drill-index.json: newest per scenario."""
    if not run_dir.exists():
        return
    latest = reports_dir / "drill-latest"
    tmp = reports_dir / ".drill-latest.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)
    index_path = reports_dir / "drill-index.json"
    try:
        index = json.loads(index_path.read_text())
    except (FileNotFoundError, ValueError):
        index = {}
    for r in results:
        index[r["scenario"]] = {
            "report": str(run_dir / r["scenario"] / "report.json"),
            "started_at": r["started_at"],
            "verdict": r["verdict"],
        }
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")

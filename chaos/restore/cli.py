"""`python -m chaos restore-drill`: backups proven by restoring them.

    python -m chaos restore-drill                       # both scenarios, local stack
    python -m chaos restore-drill --scenario pitr       # point-in-time restore only
    python -m chaos restore-drill --scenario disaster   # leader's data dir destroyed
    python -m chaos restore-drill --target aws --stack-outputs FILE [--dry-run]

Locally it uses the stack running from --state-dir when that stack was started with
`--backup` (else it says so and exits 2), or brings one up with pgBackRest (and stops it
afterwards unless --keep-stack). Reports: <reports-dir>/restore-<UTC stamp>/<scenario>/
(report.json, report.md, timeline.png, client-log.jsonl); <reports-dir>/restore-latest
points at the newest. Exit status: 0 passed, 1 an anomaly (RPO > 0, data after the target,
audit log or migrations wrong, pgBackRest check/verify failing), 2 unknown or aborted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.drill.verdict import exit_code


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "restore-drill", help="restore backups and check what came back (PITR, disaster)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=("local", "aws"), default="local")
    parser.add_argument("--scenario", default="all",
                        help="pitr, disaster or all (default; a comma list works too)")
    parser.add_argument("--state-dir", default=None,
                        help="the local stack's state dir (default $CHAOS_STACK_DIR or "
                        "var/stack)")
    parser.add_argument("--reports-dir", default=os.environ.get("CHAOS_REPORTS_DIR", "reports"))
    parser.add_argument("--keep-stack", action="store_true",
                        help="leave a stack this command started running")
    parser.add_argument("--load-phase", type=float, default=8.0,
                        help="seconds of load between two drill steps (default 8)")
    parser.add_argument("--rate", type=float, default=25.0, help="orders/s (default 25)")
    parser.add_argument("--stack-outputs", default=None, help="AWS: the stack outputs file")
    parser.add_argument("--dry-run", action="store_true", help="AWS: print every call only")
    from chaos.aws.restore_cli import add_arguments

    add_arguments(parser)  # the AWS target's own options (the shared ones are kept as above)
    parser.set_defaults(func=main)
    return parser


def scenarios_of(text: str) -> list[str]:
    from chaos.restore.local import SCENARIOS

    names = list(SCENARIOS) if text == "all" else [s.strip() for s in text.split(",") if s]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown restore scenario(s): {', '.join(unknown)} "
                         f"(known: {', '.join(SCENARIOS)})")
    return names


@contextlib.contextmanager
def backup_stack(state_dir: Path, keep: bool) -> Iterator[Any]:
    from chaos.stack import Stack, StackError, backup

    existing = None
    with contextlib.suppress(StackError):
        loaded = Stack.load(state_dir)
        existing = loaded if loaded.running() else None
    if existing is not None:
        if not backup.enabled(existing):
            raise StackError(f"the stack running from {state_dir} has no pgBackRest: stop "
                             "it, or start one with `python -m chaos stack up --backup`")
        _say(f"restore-drill: using the stack running from {state_dir} (it stays up)")
        yield existing
        return
    _say(f"restore-drill: bringing the local HA stack up with pgBackRest in {state_dir}")
    # No monitoring: the restore drill observes no alert, and 2 shared cores are precious.
    stack = Stack.up(state_dir, app=True, monitoring=False, backup=True,
                     progress=lambda m: _say(f"  stack: {m}"), timeout=180.0)
    try:
        yield stack
    finally:
        if keep:
            _say(f"restore-drill: stack left running in {state_dir}")
        else:
            stack.down(progress=lambda m: _say(f"  stack: {m}"))


def run_local(args: argparse.Namespace) -> list[dict[str, Any]]:
    from chaos.drill.local import default_state_dir
    from chaos.restore.local import RestoreSettings, run_scenario

    names = scenarios_of(args.scenario)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    reports_dir = Path(args.reports_dir)
    run_dir = reports_dir / f"restore-{stamp}"
    settings = RestoreSettings(load_phase_s=args.load_phase, rate=args.rate)
    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    results = []
    with backup_stack(state_dir.resolve(), args.keep_stack) as stack:
        for name in names:
            out_dir = run_dir / name
            out_dir.mkdir(parents=True, exist_ok=True)
            results.append(asyncio.run(run_scenario(stack, name, settings, out_dir, _say)))
    latest = reports_dir / "restore-latest"
    with contextlib.suppress(OSError):
        latest.unlink(missing_ok=True)
        latest.symlink_to(run_dir.name)
    (run_dir / "summary.json").write_text(json.dumps(
        [{k: r.get(k) for k in ("scenario", "verdict", "verdict_reason", "backup_seconds",
                                "backup_size_bytes", "rto_first_query_s", "rto_verified_s",
                                "rpo_missing_acknowledged", "rpo_data_loss_s", "anomalies",
                                "duration_s")} for r in results], indent=2) + "\n")
    _say(f"restore-drill: reports in {run_dir}")
    return results


def main(args: argparse.Namespace) -> int:
    if args.target == "aws":
        from chaos.restore import aws

        return int(aws.main(args))
    from chaos.stack import StackError

    try:
        results = run_local(args)
    except StackError as error:
        _say(f"restore-drill: {error}")
        return 2
    return exit_code(results)

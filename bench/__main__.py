"""`make bench` (= `python -m bench`): timing targets, kept out of the test suite.

    python -m bench [system] [options]   the whole `make run` system against the PostgreSQL
                                         ceiling, side by side in one run (default; ~3 min)
    python -m bench api-latency [...]    one API process: placement P50/P95/P99 vs the SLO
    python -m bench sqs-endpoint [...]   the local SQS endpoint's msg/s under the drill pattern
    python -m bench capacity REPORT      pods, nodes and writer class from a system report
    python -m bench audit [...]          the audit log: placements/s with and without a shared
                                         row, integration lag p99, verifying 1,000,000 events,
                                         inclusion-proof latency p99

The system bench writes `reports/bench/system-<UTC time>.json` and `.png`; it exits 0 when
the run completed (the targets are reported, not enforced: the machine is shared).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ("system", "api-latency", "sqs-endpoint", "capacity", "audit")


def system_main(argv: Sequence[str]) -> int:
    from bench import devstack, plot, report, statements
    from bench.system import Options, Run

    parser = argparse.ArgumentParser(prog="python -m bench system", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for option in fields(Options):
        flag = "--" + option.name.replace("_", "-")
        choices = statements.TRACKING if option.name == "statements" else None
        parser.add_argument(flag, type=type(option.default), default=option.default,
                            choices=choices)
    parser.add_argument("--reports-dir", type=Path, default=ROOT / "reports" / "bench")
    parser.add_argument("--keep-work-dir", action="store_true",
                        help="keep logs, wrk and pgbench scripts and outputs")
    args = parser.parse_args(argv)
    options = Options(**{f.name: getattr(args, f.name) for f in fields(Options)})

    work = Path(tempfile.mkdtemp(prefix="bench-system-"))
    work.chmod(0o755)  # the postgres OS user must traverse it
    started_at = datetime.now(UTC)
    print(f"[bench] starting the make run system (work dir {work})", flush=True)
    system = devstack.start(work / "dev", work / "harness.log")
    try:
        print(f"[bench] processes: {system.roles}", flush=True)
        result = Run(system, options, work).execute()
    finally:
        print("[bench] stopping the make run system", flush=True)
        system.stop()
        if not args.keep_work_dir:
            shutil.rmtree(work, ignore_errors=True)
    full = report.build(result, options=options, started_at=started_at,
                        finished_at=datetime.now(UTC))
    json_path = report.write(full, args.reports_dir)
    png_path = plot.render(full, json_path.with_suffix(".png"))
    for line in report.summary_lines(full):
        print(f"[bench] {line}", flush=True)
    print(f"[bench] report: {json_path} and {png_path}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args and args[0] in SUBCOMMANDS else "system"
    if command == "api-latency":
        from bench import api_latency

        return api_latency.main(args)
    if command == "audit":
        from bench import audit

        return audit.main(args)
    if command == "capacity":
        from bench import capacity

        return capacity.main(args)
    if command == "sqs-endpoint":
        from bench import sqs_endpoint

        return sqs_endpoint.main(args)
    return system_main(args)


def stop_on_sigterm() -> None:
    """A bench stopped by SIGTERM (a timeout, a CI cancel) unwinds as on Ctrl-C, so the
    servers it started are stopped and its work dir removed, not left running."""

    def stop(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    stop_on_sigterm()
    sys.exit(main())

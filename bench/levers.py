"""Two versions of the order API side by side in one run: what a write-path lever buys.

    python -m bench.levers --base /path/to/old/tree [--candidate .] [--rounds 3] [--phase-s 10]

One durable PostgreSQL (`fsync` and `synchronous_commit` on) and one Redis serve one API
process per source tree (each started from its own tree, with the tree's own `.venv` when it
has one, on the same database, migrated by the candidate: migrations only add). wrk drives
one API at a time, 16 connections, a fresh Idempotency-Key per request (`bench/wrk.py`), in
alternating phases (base, candidate, candidate, base, ...), so a shared machine's drift hits
both sides alike. Per side: 201s per second, P99, and CPU milliseconds per placement of the
API process and of PostgreSQL (all backends). No relay or worker runs: this isolates the API
and its database round trips; the whole system against the PostgreSQL ceiling is
`python -m bench`.
Traffic goes to 127.0.0.1 only; everything started is stopped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import contract
from bench import cpu
from bench.datastores import data_stores
from bench.wrk import account_names, lua_script, run_wrk
from localenv.postgres import PostgresServer, postgres_bin_dir
from localenv.procs import ManagedProcess, free_port, http_ok
from service.auth import issue_token

ACCOUNTS = 16


def phase_order(rounds: int) -> list[str]:
    """ABBA blocks: each side goes first as often as second."""
    order: list[str] = []
    for index in range(rounds):
        order += ["base", "candidate"] if index % 2 == 0 else ["candidate", "base"]
    return order


def summarise(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals per side: placements/s over all its phases, CPU per placement, worst P99."""
    sides: dict[str, Any] = {}
    for side in ("base", "candidate"):
        mine = [p for p in phases if p["side"] == side]
        placed = sum(p["placements"] for p in mine)
        seconds = sum(p["duration_s"] for p in mine)
        cpu_s = {role: sum(p["cpu_s"][role] for p in mine) for role in ("api", "postgresql")}
        sides[side] = {
            "placements": placed,
            "placements_per_s": round(placed / seconds, 1) if seconds else 0.0,
            "cpu_ms_per_placement": {
                role: round(value * 1000 / placed, 3) if placed else None
                for role, value in cpu_s.items()
            },
            "p99_ms": max((p["p99_ms"] for p in mine), default=None),
            "errors": sum(p["errors"] for p in mine),
        }
    base, candidate = sides["base"], sides["candidate"]
    sides["candidate_over_base"] = {
        "placements_per_s": round(candidate["placements_per_s"] / base["placements_per_s"], 3)
        if base["placements_per_s"] else None,
    }
    return sides


def interpreter(tree: Path) -> str:
    """The tree's own virtual environment when it has one (so an interpreter or dependency
    upgrade can be measured as a lever), else the one running the bench."""
    own = tree / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def _api(tree: Path, env: dict[str, str], work: Path, name: str) -> tuple[ManagedProcess, str]:
    port = free_port()
    process = ManagedProcess(
        name, [interpreter(tree), "-m", "service", "serve", "--port", str(port)],
        work / f"{name}.log", env={**env, "PYTHONPATH": str(tree)}, cwd=tree,
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    process.wait_healthy(lambda: http_ok(f"{url}/health/ready"), 60)
    return process, url


def _phase(side: str, api: ManagedProcess, pg: PostgresServer, url: str, token: str,
           work: Path, seconds: float, index: int) -> dict[str, Any]:
    roles = {"api": [api.pid or 0], "postgresql": [pg.process.pid or 0]}
    before = cpu.settled_snapshot(roles)
    result = run_wrk(
        url, lua_script(account_names(ACCOUNTS)), token=token, work_dir=work,
        duration_s=seconds, connections=16, name=f"{index:02d}-{side}",
    )
    after = cpu.settled_snapshot(roles)
    used = cpu.delta_seconds(before, after)
    return {
        "side": side, "placements": result.count(201), "duration_s": result.duration_s,
        "p99_ms": result.latency_ms.get("p99"), "errors": sum(result.errors_by_status().values()),
        "cpu_s": {role: value or 0.0 for role, value in used.items()},
    }


def analyze(url: str) -> None:
    """Table statistics as autovacuum's first pass would leave them, now. Plans a backend
    cached while the tables were empty (foreign-key checks, the placement function's
    statements) seq-scan and stay cached as the tables grow, until statistics change: the
    first API's connections then cost PostgreSQL about 4 times the CPU per placement of
    the second's (A/A run: 1.45 against 0.35 ms). ANALYZE invalidates those plans."""
    subprocess.run([str(postgres_bin_dir() / "psql"), url, "-q", "-c", "ANALYZE"], check=True)


def run(base: Path, candidate: Path, rounds: int, phase_s: float) -> dict[str, Any]:
    with data_stores("bench-levers-") as stores:
        pg, work = stores.pg, stores.work
        subprocess.run([sys.executable, "-m", "service", "migrate"], check=True,
                       env={**stores.env, "PYTHONPATH": str(candidate)}, cwd=candidate,
                       capture_output=True)
        started: list[ManagedProcess] = []
        try:
            apis = {}
            for side, tree in (("base", base), ("candidate", candidate)):
                process, url = _api(tree, stores.env, work, side)
                started.append(process)
                apis[side] = (process, url)
            token = issue_token(
                secret=stores.jwt_secret, issuer=contract.JWT_ISSUER_DEFAULT,
                audience=contract.JWT_AUDIENCE_DEFAULT, subject="bench",
                accounts=account_names(ACCOUNTS),
            )
            for side, (process, url) in apis.items():  # warm-up: connections, statements
                _phase(side, process, pg, url, token, work, 3, 0)
            analyze(stores.env["ORDERS_MIGRATION_DATABASE_URL"])
            phases = [
                _phase(side, apis[side][0], pg, apis[side][1], token, work, phase_s, index)
                for index, side in enumerate(phase_order(rounds), start=1)
            ]
        finally:
            for process in reversed(started):
                process.stop()
        return {"phases": phases, "summary": summarise(phases),
                "options": {"rounds": rounds, "phase_s": phase_s, "connections": 16,
                            "interpreters": {"base": interpreter(base),
                                             "candidate": interpreter(candidate)}}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.levers", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--base", type=Path, required=True, help="the tree before the lever")
    parser.add_argument("--candidate", type=Path, default=Path.cwd())
    parser.add_argument("--rounds", type=int, default=2, help="ABBA pairs of phases")
    parser.add_argument("--phase-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    report = run(args.base.resolve(), args.candidate.resolve(), args.rounds, args.phase_s)
    for phase in report["phases"]:
        print(json.dumps(phase))
    print(json.dumps(report["options"]))
    print(json.dumps(report["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A few seconds of the real system bench: `python -m bench` starts the whole `make run`
system and the ceiling on real servers. Asserts the report's shape and that both sides
measured something; never a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["--warmup-s", "1", "--ceiling-s", "2", "--saturation-s", "2", "--paced-s", "2",
         "--drain-timeout-s", "10", "--connections", "4", "--accounts", "4",
         "--statements", "all"]
ROLES = {"api", "relay", "worker", "postgresql", "redis", "sqs-endpoint"}


@pytest.mark.bench_smoke
@pytest.mark.timeout(150)
def test_short_system_bench_writes_a_complete_report(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", *SHORT, "--reports-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=140, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [json_path] = tmp_path.glob("system-*.json")
    assert json_path.with_suffix(".png").stat().st_size > 10_000
    report = json.loads(json_path.read_text())

    assert report["placements_per_s"] > 0
    assert report["ceiling_tps"] > 0
    assert report["ratio"] > 0
    assert report["postgres"]["fsync"] == "on"
    assert report["postgres"]["synchronous_commit"] == "on"
    assert set(report["processes"]) >= ROLES
    # Every ceiling transaction, the discarded warm-up's included, wrote one row to each of
    # the four tables.
    warmup = report["ceiling_warmup"]
    assert warmup["transactions"] > 0
    committed = sum(run["transactions"] for run in report["ceiling_runs"]) + warmup["transactions"]
    assert set(report["ceiling_rows"].values()) == {committed}
    assert report["ceiling_audit_format"] in ("chain", "merkle")

    for name in ("saturation", "paced"):
        phase = report[name]
        assert phase["placements"] > 0
        assert phase["orders_created"] >= phase["placements"]
        assert set(phase["latency_ms"]) >= {"p50", "p99"}
        assert phase["lag_ms"]["placed"] >= phase["placements"]
        assert phase["drained"] is True
        assert phase["lag_ms"]["filled"] == phase["lag_ms"]["placed"]
        assert phase["lag_ms"]["filled_per_s"] > 0
        # Fills while wrk ran, over at least the 2 s it ran: never more than it created.
        assert 0 <= phase["lag_ms"]["filled_in_phase_per_s"] * 2 <= phase["lag_ms"]["placed"]
        assert set(phase["cpu_ms_per_placement"]) >= ROLES
        assert all(v is not None and v >= 0 for v in phase["cpu_ms_per_placement"].values())
        assert phase["cpu_ms_per_placement"]["api"] > 0
        # Under load placements share a commit (service.orders.batching): below 1 is fine.
        assert phase["write_transactions_per_placement"] > 0
        assert isinstance(phase["errors_by_status"], dict)
    assert report["paced"]["target_per_s"] > 0
    assert set(report["targets"]) >= {"ratio_goal_met", "paced_p99_met", "paced_lag_p99_met"}

    # PostgreSQL's own statement counts agree with the bench's: every order created came
    # from a top-level statement calling place_order() (alone, or several placements in
    # one), which made one orders insert each (nested: tracked because the run asked for
    # all statements), every ceiling transaction made one outbox insert, and the bench's
    # polling of the orders database (as the superuser) is not charged to the system.
    placing = [s for s in report["saturation"]["statements"]["statements"]
               if "place_order(" in s["query"]]
    assert placing and all(s["toplevel"] for s in placing)
    assert 0 < sum(s["share_of_toplevel"] for s in placing) <= 1
    order_rows = _statement(report["saturation"], "INSERT INTO orders")
    assert not order_rows["toplevel"] and order_rows["calls_per_unit"] >= 1
    outbox = _statement(report["ceiling_runs"][0], "INSERT INTO outbox")
    assert outbox["calls_per_unit"] == 1
    for name in ("saturation", "paced"):
        assert not [s for s in report[name]["statements"]["statements"]
                    if "pg_current_snapshot" in s["query"] or "AS n FROM orders" in s["query"]]


def _statement(phase: dict[str, Any], text: str) -> dict[str, Any]:
    [statement] = [s for s in phase["statements"]["statements"] if text in s["query"]]
    return dict(statement)


@pytest.mark.bench_smoke
@pytest.mark.timeout(120)
def test_a_bench_stopped_by_sigterm_stops_the_system_it_started(tmp_path: Path) -> None:
    """Once the system is up, SIGTERM the bench: every process it listed must be gone."""
    import ast
    import os
    import signal
    import time

    from localenv.procs import pid_alive

    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", *SHORT, "--saturation-s", "60",
         "--reports-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert bench.stdout is not None
    roles: dict[str, list[int]] = {}
    work = ""
    for line in bench.stdout:
        if "(work dir " in line:
            work = line.rsplit("(work dir ", 1)[1].rstrip().rstrip(")")
        if line.startswith("[bench] processes: "):
            roles = ast.literal_eval(line.removeprefix("[bench] processes: "))
            break
    assert roles, "the bench never listed its processes"
    pids = [pid for group in roles.values() for pid in group]
    bench.send_signal(signal.SIGTERM)
    rest = bench.communicate(timeout=60)[0]
    assert bench.returncode == 128 + signal.SIGTERM, rest

    deadline = time.monotonic() + 15
    while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [pid for pid in pids if pid_alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"left running: {survivors} of {roles}"
    assert work and not Path(work).exists()

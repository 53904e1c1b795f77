"""The system-vs-ceiling report: the ratio and target maths, JSON and a one-line summary.

Targets (the order path's goals, judged on the run's own ceiling, not an absolute figure):
placements/s >= 0.5 x the ceiling (below 0.25 the path is not there yet), P99 < 50 ms and
end-to-end lag P99 < 500 ms when paced at 70 % of the measured maximum.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from statistics import mean
from typing import Any

from bench import statements

SCHEMA = "bench.system/1"
RATIO_GOAL = 0.5
RATIO_FLOOR = 0.25
PACED_P99_MS_TARGET = 50.0
PACED_LAG_P99_MS_TARGET = 500.0


def ceiling_tps(runs: list[dict[str, Any]]) -> float:
    """The ceiling: the mean tps of its runs (one before, one after the saturation phase)."""
    values = [float(run["tps"]) for run in runs if run.get("tps")]
    return mean(values) if values else 0.0


def ratio(placements_per_s: float, ceiling: float) -> float | None:
    return round(placements_per_s / ceiling, 4) if ceiling > 0 else None


def sustained_ratio(saturation: dict[str, Any], ceiling: float) -> float | None:
    """The slower of placing and filling during the saturation phase, over the ceiling.

    The ratio counts placements only. A relay and worker that fall behind leave their work
    for the drain after the phase, and the CPU they do not use meanwhile goes to placing:
    the ratio then rises while the backlog grows. This one counts only the fills done
    while wrk was placing (`filled_in_phase_per_s`), so a backlog does not raise it. When
    the pipeline keeps up it sits just under the ratio: the orders placed in the last lag's
    worth of the phase are filled after it."""
    filled = saturation.get("lag_ms", {}).get("filled_in_phase_per_s")
    if filled is None:
        return None
    return ratio(min(float(saturation["placements_per_s"]), float(filled)), ceiling)


def _mean_cpu(runs: list[dict[str, Any]]) -> float | None:
    values = [run["cpu_ms_per_transaction"].get("postgresql") for run in runs]
    known = [float(v) for v in values if v is not None]
    return round(mean(known), 4) if known else None


def _below(value: float | None, limit: float) -> bool | None:
    return None if value is None else value < limit


def targets(result: dict[str, Any], run_ratio: float | None) -> dict[str, Any]:
    paced = result["paced"]
    return {
        "ratio_goal": RATIO_GOAL,
        "ratio_floor": RATIO_FLOOR,
        "ratio_goal_met": None if run_ratio is None else run_ratio >= RATIO_GOAL,
        "ratio_floor_met": None if run_ratio is None else run_ratio >= RATIO_FLOOR,
        "paced_p99_ms_target": PACED_P99_MS_TARGET,
        "paced_p99_met": _below(paced["latency_ms"].get("p99"), PACED_P99_MS_TARGET),
        "paced_lag_p99_ms_target": PACED_LAG_P99_MS_TARGET,
        "paced_lag_p99_met": _below(paced["lag_ms"].get("p99"), PACED_LAG_P99_MS_TARGET),
    }


def build(
    result: dict[str, Any],
    *,
    options: Any,
    started_at: datetime,
    finished_at: datetime,
) -> dict[str, Any]:
    ceiling = ceiling_tps(result["ceiling_runs"])
    placements_per_s = float(result["saturation"]["placements_per_s"])
    run_ratio = ratio(placements_per_s, ceiling)
    return {
        "schema": SCHEMA,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "duration_s": round((finished_at - started_at).total_seconds(), 1),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "note": "shared machine: absolute figures are noisy, compare the ratio",
        },
        "options": asdict(options),
        "placements_per_s": placements_per_s,
        "ceiling_tps": round(ceiling, 1),
        "ratio": run_ratio,
        "sustained_ratio": sustained_ratio(result["saturation"], ceiling),
        "ceiling_postgresql_cpu_ms_per_transaction": _mean_cpu(result["ceiling_runs"]),
        "targets": targets(result, run_ratio),
        **result,
    }


def summary_lines(report: dict[str, Any]) -> list[str]:
    sat, paced = report["saturation"], report["paced"]
    cpu = sat["cpu_ms_per_placement"]
    return [
        f"placements/s {report['placements_per_s']}  ceiling {report['ceiling_tps']} tps"
        f"  ratio {report['ratio']}  sustained (placed and filled) {report['sustained_ratio']}",
        f"saturation  P50 {sat['latency_ms']['p50']} ms  P99 {sat['latency_ms']['p99']} ms"
        f"  lag P50 {sat['lag_ms']['p50']} ms  P99 {sat['lag_ms']['p99']} ms"
        f"  (relay+worker filled {sat['lag_ms'].get('filled_in_phase_per_s')}/s during it,"
        f" {sat['lag_ms'].get('filled_per_s')}/s with the drain)",
        f"paced {paced['placements_per_s']}/s (target {paced['target_per_s']})"
        f"  P50 {paced['latency_ms']['p50']} ms  P99 {paced['latency_ms']['p99']} ms"
        f"  lag P50 {paced['lag_ms']['p50']} ms  P99 {paced['lag_ms']['p99']} ms",
        "CPU ms/placement  " + "  ".join(f"{role} {value}" for role, value in cpu.items()),
        f"errors  saturation {sat['errors_by_status'] or 'none'}"
        f"  paced {paced['errors_by_status'] or 'none'}",
        *(f"saturation: {line}" for line in statements.summary_lines(sat)),
    ]


def write(report: dict[str, Any], directory: Path) -> Path:
    """`system-<UTC time>.json` in `directory`; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(report["started_at"]).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"system-{stamp}.json"
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    return path

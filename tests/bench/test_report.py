"""The report maths (ceiling, ratio, targets), the JSON written and the PNG rendered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench import plot, report
from bench.system import Options, counter_deltas


def phase(rate: float, p99: float, lag_p99: float | None) -> dict[str, Any]:
    return {
        "placements": int(rate * 30),
        "placements_per_s": rate,
        "target_per_s": rate,
        "latency_ms": {"p50": p99 / 4, "p99": p99},
        "lag_ms": {"placed": 10, "filled": 10, "p50": 20.0, "p99": lag_p99},
        "errors_by_status": {"503": 2},
        "cpu_ms_per_placement": {"api": 3.2, "postgresql": 4.0, "relay": None},
    }


def result(rate: float, paced_p99: float, lag_p99: float | None) -> dict[str, Any]:
    return {
        "ceiling_runs": [
            {"tps": 1800.0, "cpu_ms_per_transaction": {"postgresql": 0.6}},
            {"tps": 2200.0, "cpu_ms_per_transaction": {"postgresql": 0.8}},
        ],
        "saturation": phase(rate, 400.0, 6000.0),
        "paced": phase(rate * 0.7, paced_p99, lag_p99),
    }


def build(rate: float, paced_p99: float = 120.0, lag: float | None = 900.0) -> dict[str, Any]:
    start = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    return report.build(result(rate, paced_p99, lag), options=Options(),
                        started_at=start, finished_at=start + timedelta(seconds=170))


def test_ratio_is_placements_over_the_mean_of_the_ceiling_runs() -> None:
    full = build(134.0)
    assert full["ceiling_tps"] == 2000.0
    assert full["ratio"] == pytest.approx(0.067)
    assert full["ceiling_postgresql_cpu_ms_per_transaction"] == pytest.approx(0.7)
    assert full["duration_s"] == 170.0
    assert full["options"]["connections"] == 16


def test_the_sustained_ratio_is_bounded_by_what_relay_and_worker_filled() -> None:
    falling_behind = result(600.0, 45.0, 400.0)
    falling_behind["saturation"]["lag_ms"]["filled_in_phase_per_s"] = 500.0
    start = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    full = report.build(falling_behind, options=Options(), started_at=start, finished_at=start)
    assert full["ratio"] == pytest.approx(0.3)
    assert full["sustained_ratio"] == pytest.approx(0.25)  # 500 filled/s over 2,000 tps
    keeping_up = result(600.0, 45.0, 400.0)
    keeping_up["saturation"]["lag_ms"]["filled_in_phase_per_s"] = 598.0
    assert report.sustained_ratio(keeping_up["saturation"], 2000.0) == pytest.approx(0.299)
    assert build(600.0)["sustained_ratio"] is None  # no fill rate measured
    assert "sustained (placed and filled) 0.25" in report.summary_lines(full)[0]


def test_targets_below_the_floor_and_missed_latencies() -> None:
    targets = build(134.0)["targets"]
    assert targets["ratio_goal_met"] is False and targets["ratio_floor_met"] is False
    assert targets["paced_p99_met"] is False and targets["paced_lag_p99_met"] is False


def test_targets_met_at_half_the_ceiling() -> None:
    targets = build(1000.0, paced_p99=45.0, lag=400.0)["targets"]
    assert targets["ratio_goal_met"] is True and targets["ratio_floor_met"] is True
    assert targets["paced_p99_met"] is True and targets["paced_lag_p99_met"] is True


def test_between_floor_and_goal_and_unknown_lag() -> None:
    targets = build(600.0, lag=None)["targets"]
    assert targets["ratio_floor_met"] is True and targets["ratio_goal_met"] is False
    assert targets["paced_lag_p99_met"] is None


def test_no_ceiling_means_no_ratio() -> None:
    assert report.ceiling_tps([]) == 0.0
    assert report.ratio(100.0, 0.0) is None


def test_counter_deltas_per_placement() -> None:
    before = {"xids": 1000, "wal_bytes": 10_000, "wal_syncs": 50}
    after = {"xids": 1300, "wal_bytes": 730_000, "wal_syncs": 250}
    assert counter_deltas(before, after, 100) == {
        "write_transactions_per_placement": 3.0,
        "wal_bytes_per_placement": 7200.0,
        "wal_syncs_per_placement": 2.0,
    }
    assert counter_deltas(before, after, 0)["wal_bytes_per_placement"] is None


def test_write_and_render(tmp_path: Path) -> None:
    full = build(134.0)
    path = report.write(full, tmp_path / "reports" / "bench")
    assert path.name == "system-20261203T080000Z.json"
    assert json.loads(path.read_text())["ratio"] == full["ratio"]
    png = plot.render(full, path.with_suffix(".png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = report.summary_lines(full)
    assert "ratio 0.067" in lines[0]
    assert "api 3.2" in lines[3]

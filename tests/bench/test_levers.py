"""The side-by-side lever bench: phase order and the per-side summary (no servers)."""

from __future__ import annotations

import sys
from pathlib import Path

from bench import levers
from bench.levers import phase_order, summarise


def test_phases_alternate_in_abba_blocks() -> None:
    assert phase_order(2) == ["base", "candidate", "candidate", "base"]
    order = phase_order(4)
    assert order.count("base") == order.count("candidate") == 4
    firsts = order[0::2]
    assert firsts.count("base") == firsts.count("candidate"), "each side leads as often"


def phase(side: str, placements: int, api_s: float, pg_s: float, p99: float) -> dict[str, object]:
    return {"side": side, "placements": placements, "duration_s": 10.0, "p99_ms": p99,
            "errors": 0, "cpu_s": {"api": api_s, "postgresql": pg_s}}


def test_summary_is_per_side_totals_not_averages_of_phases() -> None:
    summary = summarise([
        phase("base", 400, 2.0, 1.0, 300.0), phase("candidate", 600, 2.1, 0.6, 200.0),
        phase("candidate", 500, 1.9, 0.5, 250.0), phase("base", 100, 0.5, 0.25, 900.0),
    ])
    base, candidate = summary["base"], summary["candidate"]
    assert base["placements_per_s"] == 25.0 and candidate["placements_per_s"] == 55.0
    assert base["cpu_ms_per_placement"] == {"api": 5.0, "postgresql": 2.5}
    assert candidate["cpu_ms_per_placement"] == {"api": 3.636, "postgresql": 1.0}
    assert base["p99_ms"] == 900.0 and candidate["p99_ms"] == 250.0
    assert summary["candidate_over_base"]["placements_per_s"] == 2.2


def test_each_tree_runs_on_its_own_environment_when_it_has_one(tmp_path: Path) -> None:
    own = tmp_path / "with-venv"
    (own / ".venv" / "bin").mkdir(parents=True)
    (own / ".venv" / "bin" / "python").write_text("")
    assert levers.interpreter(own) == str(own / ".venv" / "bin" / "python")
    assert levers.interpreter(tmp_path / "without") == sys.executable

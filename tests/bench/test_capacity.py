"""Capacity on paper: the sizing maths from a report's per-order figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import capacity

REPORT = {
    "saturation": {
        "cpu_ms_per_placement": {"api": 3.0, "relay": 1.2, "worker": 3.6, "postgresql": 4.0,
                                 "redis": 0.4, "sqs-endpoint": 2.5},
        "write_transactions_per_placement": 2.5,
        "wal_bytes_per_placement": 7000.0,
    }
}


def per_order() -> capacity.PerOrder:
    return capacity.PerOrder.from_report(REPORT)


def test_per_order_keeps_the_app_processes_and_the_database() -> None:
    measured = per_order()
    assert measured.app_cpu_ms == {"api": 3.0, "relay": 1.2, "worker": 3.6}
    assert measured.db_cpu_ms == 4.0
    broken = {"saturation": {**REPORT["saturation"], "cpu_ms_per_placement": {"api": 1.0}}}
    with pytest.raises(ValueError, match="relay"):
        capacity.PerOrder.from_report(broken)


def test_pods_at_sixty_percent_and_one_per_zone_at_least() -> None:
    assert capacity.pods(1000, 3.0) == 5  # 3 busy vCPU / 0.6
    assert capacity.pods(1000, 3.6) == 6
    assert capacity.pods(10, 3.0) == 3


def test_nodes_in_whole_zones_smallest_type_first() -> None:
    assert capacity.nodes(14) == ("m6i.2xlarge", 3)
    assert capacity.nodes(70) == ("m6i.2xlarge", 12)
    assert capacity.nodes(300) == ("m6i.8xlarge", 12)


def test_writer_class_and_beyond_one_writer() -> None:
    assert capacity.writer(1000, 4.0) == ("db.r8g.2xlarge", pytest.approx(6.667, abs=1e-3))
    name, needed = capacity.writer(40_000, 4.0)
    assert name is None and needed == pytest.approx(266.7, abs=0.1)
    assert capacity.writer_saturation(per_order(), 64) == pytest.approx(9600.0)


def test_size_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = capacity.size(5000, per_order())
    assert row["pods"] == {"api": 25, "relay": 10, "worker": 30}
    assert row["write_transactions_per_s"] == 12_500
    assert row["wal_mb_per_s"] == 35.0
    assert row["writer_class"] == "db.r8g.12xlarge"
    table = capacity.markdown([row])
    assert table.splitlines()[2].startswith("| 5,000 | 25 | 10 | 30 |")
    path = tmp_path / "report.json"
    path.write_text(json.dumps(REPORT))
    assert capacity.main([str(path), "--peaks", "1000"]) == 0
    assert "| 1,000 |" in capsys.readouterr().out


def test_python_m_bench_dispatches_its_sub_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench.__main__ import main

    path = tmp_path / "report.json"
    path.write_text(json.dumps(REPORT))
    assert main(["capacity", str(path), "--peaks", "20000"]) == 0
    assert "| 20,000 |" in capsys.readouterr().out
    for command, prog in (("sqs-endpoint", "bench.sqs_endpoint"),
                          ("api-latency", "bench.api_latency"), ("system", "bench system")):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert prog in capsys.readouterr().out

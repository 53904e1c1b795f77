"""The statement summary: ranked by time, shares of the top-level total only (a nested
statement's time is already inside its caller's), per unit of work."""

from __future__ import annotations

from typing import Any

import pytest

from bench import statements


def row(query: str, ms: float, calls: int, *, toplevel: bool = True) -> dict[str, Any]:
    return {"query": query, "total_exec_time": ms, "calls": calls, "toplevel": toplevel,
            "rows": calls, "shared_blks_hit": 3 * calls, "shared_blks_read": calls,
            "wal_bytes": 100 * calls}


ROWS = [
    row("SELECT * FROM place_order($1)", 600.0, 100),
    row("INSERT INTO outbox\n   VALUES ($1)", 450.0, 100, toplevel=False),
    row("UPDATE outbox SET published_at = now()", 200.0, 10),
    row("SELECT 1", 1.0, 5),
]


def test_shares_are_of_the_top_level_total_and_nested_time_is_not_added_twice() -> None:
    summary = statements.summarise(ROWS, units=100)
    assert summary["toplevel_exec_ms_per_unit"] == 8.01  # (600 + 200 + 1) / 100
    by_query = {s["query"]: s for s in summary["statements"]}
    assert by_query["SELECT * FROM place_order($1)"]["share_of_toplevel"] == round(600 / 801, 3)
    nested = by_query["INSERT INTO outbox VALUES ($1)"]  # whitespace folded
    assert nested["toplevel"] is False and nested["share_of_toplevel"] == round(450 / 801, 3)
    assert nested["calls_per_unit"] == 1 and nested["buffers_per_call"] == 4
    assert nested["wal_bytes_per_unit"] == 100


def test_ranked_by_time_and_cut_to_the_top() -> None:
    summary = statements.summarise(ROWS, units=100, top=2)
    assert [s["exec_ms_per_unit"] for s in summary["statements"]] == [6.0, 4.5]


def test_a_phase_without_work_has_no_per_unit_figures() -> None:
    summary = statements.summarise(ROWS, units=0)
    assert summary["toplevel_exec_ms_per_unit"] is None
    assert all(s["exec_ms_per_unit"] is None for s in summary["statements"])
    assert statements.summarise([], units=10) == {
        "units": 10, "toplevel_exec_ms_per_unit": 0.0, "statements": []}


def test_summary_lines_mark_nested_statements() -> None:
    lines = statements.summary_lines({"statements": statements.summarise(ROWS, units=100)})
    assert lines[0].startswith("PostgreSQL exec ms/unit 8.01")
    assert lines[2].endswith("(nested)") and not lines[1].endswith("(nested)")
    assert statements.summary_lines({}) == []


def test_tracking_is_validated_before_anything_reaches_the_server() -> None:
    sent: list[str] = []

    def fetch(sql: str, *args: object, database: str = "") -> list[Any]:
        sent.append(sql)
        return []

    with pytest.raises(ValueError, match="expected one of top, all"):
        statements.enable(fetch, "orders", "all'; DROP TABLE orders; --")
    assert sent == []
    statements.enable(fetch, "orders", "top")
    assert sent[1] == "ALTER SYSTEM SET pg_stat_statements.track = 'top'"

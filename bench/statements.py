"""Where PostgreSQL's time goes in one bench phase, statement by statement.

The local server loads pg_stat_statements (`localenv/postgres.py`), as the production
cluster's parameter group does (`infra/database.py`). The bench resets its counters at the
start of each phase and reports the phase's top statements. Tracking is PostgreSQL's
default, top-level statements only, unless the run asks for `--statements all`: then the
statements inside `place_order()` and `apply_created_events()` show too, at the price of
instrumenting them, which the system pays and the ceiling (top-level inserts) hardly does,
so use it to find where the time goes, not for the ratio. A parent's time, buffers and WAL
include its nested statements'; shares are of the top-level total. Times are the executor's
elapsed time: on a loaded machine they include waiting for a CPU, so compare shares, not
absolute figures. The bench's own polling (as the superuser) is left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Fetch = Callable[..., list[Any]]  # bench.system.Database.fetch
TOP = 12
QUERY_CHARS = 200

READ_SQL = """
SELECT s.toplevel, s.calls, s.total_exec_time, s.rows, s.shared_blks_hit, s.shared_blks_read,
       s.wal_bytes, s.query
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = $1 AND s.userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
"""


TRACKING = ("top", "all")


def enable(fetch: Fetch, database: str, track: str) -> None:
    """Create the view in `database` and set what is tracked from now on (ALTER SYSTEM: the
    bench's server is thrown away afterwards)."""
    if track not in TRACKING:
        raise ValueError(f"statements: track {track!r}, expected one of {', '.join(TRACKING)}")
    fetch("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", database=database)
    fetch(f"ALTER SYSTEM SET pg_stat_statements.track = '{track}'", database=database)
    fetch("SELECT pg_reload_conf()", database=database)


def reset(fetch: Fetch, database: str) -> None:
    fetch("SELECT pg_stat_statements_reset()", database=database)


def read(fetch: Fetch, view_database: str, database: str, units: int) -> dict[str, Any]:
    """The statements run in `database` since the last reset, per unit of work."""
    return summarise(fetch(READ_SQL, database, database=view_database), units)


def summarise(rows: Iterable[Mapping[str, Any]], units: int, top: int = TOP) -> dict[str, Any]:
    """The `top` statements by elapsed time, per unit (a placement, a ceiling transaction),
    with each one's share of the top-level statements' total."""
    rows = list(rows)
    toplevel_ms = sum(float(r["total_exec_time"]) for r in rows if r["toplevel"])
    ranked = sorted(rows, key=lambda r: float(r["total_exec_time"]), reverse=True)[:top]
    return {
        "units": units,
        "toplevel_exec_ms_per_unit": _per(toplevel_ms, units, 4),
        "statements": [_statement(r, units, toplevel_ms) for r in ranked],
    }


def _statement(row: Mapping[str, Any], units: int, toplevel_ms: float) -> dict[str, Any]:
    calls = int(row["calls"])
    ms = float(row["total_exec_time"])
    return {
        "query": re.sub(r"\s+", " ", str(row["query"])).strip()[:QUERY_CHARS],
        "toplevel": bool(row["toplevel"]),
        "calls_per_unit": _per(calls, units, 3),
        "exec_ms_per_unit": _per(ms, units, 4),
        "share_of_toplevel": round(ms / toplevel_ms, 3) if toplevel_ms > 0 else None,
        "rows_per_call": _per(int(row["rows"]), calls, 1),
        "buffers_per_call": _per(int(row["shared_blks_hit"]) + int(row["shared_blks_read"]),
                                 calls, 1),
        "wal_bytes_per_unit": _per(int(row["wal_bytes"]), units, 0),
    }


def _per(value: float, units: int, digits: int) -> float | None:
    return round(value / units, digits) if units > 0 else None


def summary_lines(phase: Mapping[str, Any], top: int = 5) -> list[str]:
    """The first `top` statements of a phase, for the bench's stdout."""
    found = phase.get("statements")
    if not found:
        return []
    lines = [f"PostgreSQL exec ms/unit {found['toplevel_exec_ms_per_unit']} (top level); "
             "by statement: ms/unit, share, calls/unit"]
    for s in found["statements"][:top]:
        nested = "" if s["toplevel"] else "  (nested)"
        lines.append(f"  {s['exec_ms_per_unit']}  {s['share_of_toplevel']}  "
                     f"{s['calls_per_unit']}  {s['query'][:90]}{nested}")
    return lines

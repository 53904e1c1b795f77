"""The runbooks' expected-timings tables come from drill reports, never by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chaos import catalogue
from chaos.drill import runbook_timings
from chaos.drill.runbook_timings import BEGIN, END, RUNBOOK_SCENARIOS, update_runbooks

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = """# X

## Expected timings (latest local drill)

Figures from the latest local report; `TBD` until copied in.

| measure | value |
|---|---|
| error window | TBD |

Engine-level measurement: kept as it is.
"""


def report(scenario: str, **overrides: Any) -> dict[str, Any]:
    base = {
        "scenario": scenario, "started_at": "2026-11-24T19:29:34.857029+00:00",
        "acknowledged": 1313, "error_window_s": 2.757, "time_to_recover_s": 2.84,
        "availability": 0.97912, "p50_ms": 8.4, "p99_ms": 362.8, "p99_ms_during_fault": 2002.5,
        "outbox_backlog_baseline": 4, "outbox_backlog_max": 5,
        "fault_ended_at": "2026-11-24T19:30:00+00:00",
        "backlog_recovered_at": "2026-11-24T19:30:10+00:00",
        "lost": 0, "duplicated": 0, "orphaned": 0, "undelivered": 0, "double_processed": 0,
        "audit_chain_ok": True, "verdict": "passed",
    }
    return {**base, **overrides}


def write_run(tmp: Path, reports: list[dict[str, Any]]) -> Path:
    index = {}
    for r in reports:
        path = tmp / "reports" / "drill-1" / r["scenario"] / "report.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(r))
        index[r["scenario"]] = {"report": str(path.relative_to(tmp)), "verdict": r["verdict"]}
    (tmp / "reports" / "drill-index.json").write_text(json.dumps(index))
    return tmp / "reports" / "drill-index.json"


def test_placeholder_is_replaced_with_report_figures_once(tmp_path: Path) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "db-primary-kill.md").write_text(PLACEHOLDER)
    index = write_run(tmp_path, [report("db-primary-kill")])
    assert update_runbooks(index, runbooks) == ["db-primary-kill"]
    text = (runbooks / "db-primary-kill.md").read_text()
    assert "TBD" not in text
    assert "| error window, first to last failed request (`error_window_s`) | 2.757 |" in text
    assert "| outbox backlog back to baseline after the fault ends (s) | 10.0 |" in text
    assert "| lost / duplicated / orphaned / undelivered / double-processed | 0 / 0 / 0 / 0 / 0 |" in text
    assert text.endswith("Engine-level measurement: kept as it is.\n")
    assert update_runbooks(index, runbooks) == []  # idempotent


def test_failed_runs_are_never_copied(tmp_path: Path) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "db-primary-kill.md").write_text(PLACEHOLDER)
    index = write_run(tmp_path, [report("db-primary-kill", verdict="failed", lost=3)])
    assert update_runbooks(index, runbooks) == []
    assert "TBD" in (runbooks / "db-primary-kill.md").read_text()


def test_every_local_runbook_carries_generated_figures() -> None:
    """Runbooks of standard scenarios quote a drill; the others say they are not drilled."""
    standard = set(catalogue.standard("local"))
    for runbook, scenarios in RUNBOOK_SCENARIOS.items():
        text = (ROOT / "runbooks" / f"{runbook}.md").read_text()
        section = text.split(BEGIN, 1)[1].split(END, 1)[0]
        assert "TBD" not in section, runbook
        if set(scenarios) <= standard:
            assert "0 / 0 / 0 / 0 / 0" in section, runbook
        else:
            assert "Not drilled yet" in section, runbook


def test_runbook_map_comes_from_the_catalogue() -> None:
    assert RUNBOOK_SCENARIOS["database-failover"] == ("db-primary-kill", "db-leader-node-loss")
    assert RUNBOOK_SCENARIOS["queue-backlog"] == ("queue-outage", "relay-kill")
    assert RUNBOOK_SCENARIOS["zone-partition"] == ("zone-partition",)
    assert "region-switchover" not in {s for v in RUNBOOK_SCENARIOS.values() for s in v}


def test_readme_figures_list_the_standard_set_and_are_regenerated(tmp_path: Path) -> None:
    from chaos.drill.runbook_timings import FIGURES_BEGIN, FIGURES_END, update_readme

    def rows(text: str) -> list[str]:
        table = text.split(FIGURES_BEGIN, 1)[1].split(FIGURES_END, 1)[0]
        return [line.split("|")[1].strip().split(" (")[0]
                for line in table.strip().splitlines()[2:]]

    assert rows((ROOT / "README.md").read_text()) == list(catalogue.standard("local"))
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    standard = catalogue.standard("local")
    index = write_run(tmp_path, [report(n) for n in standard[:-1]])
    assert update_readme(index, readme) is False  # one standard scenario has no report yet
    index = write_run(tmp_path, [report(n, acknowledged=7) for n in standard])
    assert update_readme(index, readme) is True
    text = readme.read_text()
    assert rows(text) == list(standard)
    assert "| redis-down (30 s) | 7 | 2.8 | 0.979 | 2002 |" in text


def test_detection_row_names_an_expected_alert_that_never_fired() -> None:
    report = {"expected_alerts": ["DatabasePrimaryUnavailable", "OrdersAvailabilityBudgetBurn"],
              "time_to_detect_s": {"DatabasePrimaryUnavailable": 2.4, "ScrapeTargetDown": 3.1}}
    assert runbook_timings.figure(report, "detection") == (
        "DatabasePrimaryUnavailable 2.4, OrdersAvailabilityBudgetBurn did not fire"
    )
    assert runbook_timings.figure({"expected_alerts": []}, "detection") == "none expected"

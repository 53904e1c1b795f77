"""The drill's alert wiring: the poller over a fake Alertmanager, the report's alert fields
and how they change the verdict (no stack: a fake API and a fake alert source)."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chaos import catalogue
from chaos.drill.alerting import AlertPoller, alert_fields, judge
from chaos.drill.render import markdown
from chaos.drill.runner import run_scenario
from chaos.drill.verdict import exit_code
from tests.chaos.test_drill_runner import SETTINGS, FakeStack, make_env

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def am_alert(fp: str, name: str, severity: str, starts: datetime,
             state: str = "active") -> dict[str, Any]:
    return {"fingerprint": fp, "startsAt": starts.isoformat().replace("+00:00", "Z"),
            "status": {"state": state}, "labels": {"alertname": name, "severity": severity}}


async def test_poller_records_fired_and_resolved_and_skips_failed_polls() -> None:
    page = am_alert("a", "OutboxBacklogHigh", "page", T0 + timedelta(seconds=12))
    polls: list[Any] = [[], [page], RuntimeError("connection refused"), [page], []]
    clock = itertools.count()

    def source() -> list[dict[str, Any]]:
        item = polls.pop(0)
        if isinstance(item, Exception):
            raise item
        return list(item)

    poller = AlertPoller(source, now=lambda: T0 + timedelta(seconds=10 * next(clock)))
    for _ in range(5):
        await poller.poll_once()
    [record] = poller.records()
    assert (record.name, record.severity) == ("OutboxBacklogHigh", "page")
    assert record.fired_at == T0 + timedelta(seconds=12)
    # The failed poll did not resolve it; the first successful poll without it did.
    assert record.resolved_at == T0 + timedelta(seconds=30)
    assert poller.failed_polls == 1 and "connection refused" in poller.notes()[0]


async def test_poller_ignores_suppressed_alerts() -> None:
    silenced = am_alert("s", "DatabasePrimaryUnavailable", "page", T0, state="suppressed")
    poller = AlertPoller(lambda: [silenced], now=lambda: T0)
    await poller.poll_once()
    assert poller.records() == [] and poller.active_pages() == []


def fields(alerts: list[dict[str, Any]] | None, expected: tuple[str, ...],
           fault: float | None = 100.0) -> dict[str, Any]:
    from observability.alert_check import AlertRecord

    def at(s: float) -> datetime:
        return datetime.fromtimestamp(s, UTC)

    records = None if alerts is None else [
        AlertRecord(a["name"], a["severity"], at(a["fired"]),
                    at(a["resolved"]) if a.get("resolved") else None) for a in alerts]
    return alert_fields(records, started_at=80.0, fault_at=fault, observed_until=160.0,
                        expected=expected)


def test_expected_alert_met_gives_time_to_detect_and_keeps_a_pass() -> None:
    f = fields([{"name": "RedisDegraded", "severity": "ticket", "fired": 104.5,
                 "resolved": 140.0}], ("RedisDegraded",))
    assert f["expected_alerts_met"] is True and f["time_to_detect_s"] == {"RedisDegraded": 4.5}
    assert f["alerts"][0]["resolved_at"].startswith("1970-01-01T00:02:20")
    assert judge("passed", "ok", f["alert_findings"], observed=True,
                 expected=("RedisDegraded",)) == ("passed", "ok")


def test_missing_expected_alert_fails_the_run() -> None:
    f = fields([], ("OutboxBacklogHigh",))
    assert f["expected_alerts_met"] is False
    verdict, reason = judge("passed", "ok", f["alert_findings"], observed=True,
                            expected=("OutboxBacklogHigh",))
    assert verdict == "failed" and "OutboxBacklogHigh did not fire" in reason


def test_an_alert_already_firing_before_the_fault_does_not_count_as_detection() -> None:
    f = fields([{"name": "ScrapeTargetDown", "severity": "ticket", "fired": 90.0}],
               ("ScrapeTargetDown",))
    assert f["expected_alerts_met"] is False


def test_page_during_the_steady_state_fails_even_when_expectations_are_met() -> None:
    f = fields([{"name": "OrdersLatencyBudgetBurn", "severity": "page", "fired": 70.0,
                 "resolved": 85.0},
                {"name": "RedisDegraded", "severity": "ticket", "fired": 103.0}],
               ("RedisDegraded",))
    assert f["expected_alerts_met"] is True
    verdict, reason = judge("passed", "ok", f["alert_findings"], observed=True,
                            expected=("RedisDegraded",))
    assert verdict == "failed" and "OrdersLatencyBudgetBurn paged during the steady" in reason
    # A ticket during the steady state is not a page: no finding.
    g = fields([{"name": "RedisDegraded", "severity": "ticket", "fired": 85.0}], ())
    assert g["alert_findings"] == []


def test_unobserved_alerts_make_a_pass_unknown_only_when_alerts_are_expected() -> None:
    f = fields(None, ("RedisDegraded",))
    assert f["expected_alerts_met"] is None and f["alerts_observed"] is False
    verdict, reason = judge("passed", "ok", f["alert_findings"], observed=False,
                            expected=("RedisDegraded",))
    assert verdict == "unknown" and "not observed" in reason
    assert judge("passed", "ok", [], observed=False, expected=()) == ("passed", "ok")
    # An anomaly stays failed.
    assert judge("failed", "lost=1", [], observed=False, expected=("X",))[0] == "failed"


def test_no_fault_judges_only_the_steady_state() -> None:
    f = fields([], ("DatabasePrimaryUnavailable",), fault=None)
    assert f["expected_alerts_met"] is None and f["time_to_detect_s"] is None
    assert f["alert_findings"] == []


# -- through the runner, with the fake stack and API --------------------------------------

@pytest.mark.parametrize("case", ["silent", "steady-page"])
async def test_runner_fails_a_scenario_whose_alerts_are_wrong(tmp_path: Path, case: str) -> None:
    stack = FakeStack(outage_s=1.0)
    env, _ = make_env(stack)
    page_before = am_alert("x", "OrdersLatencyBudgetBurn", "page", T0)

    def source() -> list[dict[str, Any]]:
        if case == "silent":
            return []  # the expected database page never fires
        # a page that stays active through the warm-up (and after the fault)
        return [page_before, *stack.alertmanager_alerts()]

    env = dataclasses.replace(env, alert_source=source, quiet_timeout_s=0.3)
    report = await run_scenario(env, catalogue.get("db-primary-kill"), SETTINGS, tmp_path)
    assert report["verdict"] == "failed", report["verdict_reason"]
    assert exit_code([report]) == 1
    if case == "silent":
        assert report["expected_alerts_met"] is False and report["alerts"] == []
        assert "DatabasePrimaryUnavailable did not fire" in report["verdict_reason"]
    else:
        assert "OrdersLatencyBudgetBurn paged during the steady state" in report["verdict_reason"]
        pre_check = next(p for p in report["phases"] if p["phase"] == "pre-check")
        assert pre_check["detail"] == "still paging: OrdersLatencyBudgetBurn"
    assert "## Alerts" in Path(report["files"]["markdown"]).read_text()


async def test_runner_without_an_alertmanager_reports_unknown(tmp_path: Path) -> None:
    stack = FakeStack(outage_s=1.0)
    env, _ = make_env(stack)
    env = dataclasses.replace(env, alert_source=None)
    report = await run_scenario(env, catalogue.get("db-primary-kill"), SETTINGS, tmp_path)
    assert report["verdict"] == "unknown", report["verdict_reason"]
    assert report["expected_alerts_met"] is None and report["alerts_observed"] is False
    assert exit_code([report]) == 2
    assert "Alerts were not observed" in Path(report["files"]["markdown"]).read_text()


def test_markdown_shows_the_alerts_table() -> None:
    report: dict[str, Any] = {
        "expected_alerts": ["RedisDegraded"], "expected_alerts_met": True,
        "alerts_observed": True, "fault_at": "2026-12-01T10:00:00+00:00",
        "time_to_detect_s": {"RedisDegraded": 3.0},
        "alerts": [{"name": "RedisDegraded", "severity": "ticket",
                    "fired_at": "2026-12-01T10:00:03+00:00", "resolved_at": None}],
    }
    from chaos.drill.render import alerts_section

    text = "\n".join(alerts_section(report))
    assert "| RedisDegraded (expected) | ticket | 2026-12-01T10:00:03+00:00 | n/a | 3.0 |" in text
    assert "RedisDegraded 3 s" in text
    assert callable(markdown)

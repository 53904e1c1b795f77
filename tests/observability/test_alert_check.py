from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from observability.alert_check import AlertRecord, AlertTracker, check_alerts

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
FAULT = T0 + timedelta(seconds=60)
STEADY = (T0, FAULT)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_expected_alerts_met_with_time_to_detect() -> None:
    alerts = [
        AlertRecord("DatabasePrimaryUnavailable", "page", at(64.5), at(80)),
        AlertRecord("OrdersAvailabilityBudgetBurn", "page", at(70)),
        AlertRecord("OrdersAvailabilityBudgetBurn", "page", at(90)),  # later window: ignored
        AlertRecord("RedisDegraded", "ticket", at(10), at(20)),  # a ticket in steady state
    ]
    verdict = check_alerts(
        alerts, fault_at=FAULT, steady_state=STEADY,
        expected=["DatabasePrimaryUnavailable", "OrdersAvailabilityBudgetBurn"],
    )
    assert verdict.expected_alerts_met and verdict.passed
    assert verdict.time_to_detect_s == {
        "DatabasePrimaryUnavailable": 4.5, "OrdersAvailabilityBudgetBurn": 10.0,
    }
    assert verdict.time_from_fault_s == verdict.time_to_detect_s  # the ticket fired before
    assert verdict.findings() == []
    assert alerts[0].as_json() == {
        "name": "DatabasePrimaryUnavailable", "severity": "page",
        "fired_at": "2026-12-03T09:01:04.500000+00:00",
        "resolved_at": "2026-12-03T09:01:20+00:00",
    }


def test_missing_alert_and_one_that_fired_only_before_the_fault() -> None:
    alerts = [AlertRecord("OutboxBacklogHigh", "page", at(30), at(50))]
    verdict = check_alerts(
        alerts, fault_at=FAULT, steady_state=STEADY,
        expected=["OutboxBacklogHigh", "QueueMessageAgeHigh"],
    )
    assert not verdict.expected_alerts_met
    assert verdict.missing == ["OutboxBacklogHigh", "QueueMessageAgeHigh"]
    assert [a.name for a in verdict.steady_state_pages] == ["OutboxBacklogHigh"]
    assert len(verdict.findings()) == 3 and not verdict.passed
    late = AlertRecord("ScrapeTargetDown", "ticket", at(75))
    unexpected = check_alerts([late], fault_at=FAULT, steady_state=STEADY, expected=[])
    assert unexpected.time_from_fault_s == {"ScrapeTargetDown": 15.0}


def test_page_still_firing_from_before_the_steady_state_counts() -> None:
    alerts = [AlertRecord("ScrapeTargetDown", "ticket", at(-30)),
              AlertRecord("OrdersErrorBudgetBurn", "page", at(-30), None)]
    verdict = check_alerts(alerts, fault_at=FAULT, steady_state=STEADY, expected=[])
    assert verdict.expected_alerts_met
    assert [a.name for a in verdict.steady_state_pages] == ["OrdersErrorBudgetBurn"]
    resolved_before = [AlertRecord("OrdersErrorBudgetBurn", "page", at(-30), at(-1))]
    assert check_alerts(
        resolved_before, fault_at=FAULT, steady_state=STEADY, expected=[]
    ).passed


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        check_alerts([], fault_at=FAULT.replace(tzinfo=None), steady_state=STEADY, expected=[])


def test_tracker_records_fired_and_resolved_from_alertmanager_polls() -> None:
    def alert(fingerprint: str, name: str, severity: str, starts: str,
              state: str = "active") -> dict[str, object]:
        return {
            "fingerprint": fingerprint, "startsAt": starts, "status": {"state": state},
            "labels": {"alertname": name, "severity": severity},
        }

    page = alert("a1", "DatabasePrimaryUnavailable", "page", "2026-12-03T09:01:04.5Z")
    ticket = alert("b2", "RedisDegraded", "ticket", "2026-12-03T09:01:10Z")
    inhibited = alert("c3", "OrdersAvailabilityBudgetBurn", "ticket", "2026-12-03T09:01:05Z",
                      state="suppressed")
    tracker = AlertTracker()
    tracker.observe([page], at(65))
    tracker.observe([page, ticket, inhibited], at(70))
    tracker.observe([ticket], at(80))
    records = tracker.records()
    assert [r.as_json() for r in records] == [
        {"name": "DatabasePrimaryUnavailable", "severity": "page",
         "fired_at": "2026-12-03T09:01:04.500000+00:00",
         "resolved_at": "2026-12-03T09:01:20+00:00"},
        {"name": "RedisDegraded", "severity": "ticket",
         "fired_at": "2026-12-03T09:01:10+00:00", "resolved_at": None},
    ]
    verdict = check_alerts(records, fault_at=FAULT, steady_state=STEADY,
                           expected=["DatabasePrimaryUnavailable"])
    assert verdict.passed and verdict.time_to_detect_s == {"DatabasePrimaryUnavailable": 4.5}

"""Judge a drill's alerts: did each expected alert fire after the fault, and did anything
page during the steady state before it? Pure: the drill runner feeds it the alerts it
recorded from Alertmanager and writes the result into its report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AlertRecord:
    name: str
    severity: str
    fired_at: datetime
    resolved_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity,
            "fired_at": self.fired_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }

    def active_during(self, start: datetime, end: datetime) -> bool:
        return self.fired_at < end and (self.resolved_at is None or self.resolved_at > start)


@dataclass(frozen=True)
class AlertVerdict:
    expected_alerts_met: bool
    missing: list[str]
    # seconds from the fault to the first firing of each expected alert that fired
    time_to_detect_s: dict[str, float]
    # the same for every alert that fired after the fault, expected or not
    time_from_fault_s: dict[str, float]
    # pages active during the steady state, before the fault
    steady_state_pages: list[AlertRecord]

    @property
    def passed(self) -> bool:
        return self.expected_alerts_met and not self.steady_state_pages

    def findings(self) -> list[str]:
        lines = [f"expected alert {name} did not fire after the fault" for name in self.missing]
        lines += [
            f"{a.name} paged during the steady state (fired {a.fired_at.isoformat()})"
            for a in self.steady_state_pages
        ]
        return lines


def check_alerts(
    alerts: Iterable[AlertRecord],
    *,
    fault_at: datetime,
    steady_state: tuple[datetime, datetime],
    expected: Iterable[str],
) -> AlertVerdict:
    """An expected alert counts when it fired at or after the fault (an alert already
    firing before it proves nothing about this fault)."""
    for moment in (fault_at, *steady_state):
        if moment.tzinfo is None:
            raise ValueError("times must be timezone-aware (UTC)")
    records = sorted(alerts, key=lambda a: a.fired_at)
    first_fired: dict[str, datetime] = {}
    for alert in records:
        if alert.fired_at >= fault_at:
            first_fired.setdefault(alert.name, alert.fired_at)
    wanted = sorted(set(expected))
    missing = [name for name in wanted if name not in first_fired]
    start, end = steady_state
    pages = [a for a in records if a.severity == "page" and a.active_during(start, end)]
    return AlertVerdict(
        expected_alerts_met=not missing,
        missing=missing,
        time_to_detect_s={
            name: (first_fired[name] - fault_at).total_seconds()
            for name in wanted
            if name in first_fired
        },
        time_from_fault_s={
            name: (fired - fault_at).total_seconds() for name, fired in first_fired.items()
        },
        steady_state_pages=pages,
    )


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class AlertTracker:
    """Turns successive polls of Alertmanager's `GET /api/v2/alerts` into AlertRecords.

    An alert counts from its `startsAt` (when Prometheus first sent it as firing); it is
    resolved at the first poll that no longer lists it as active."""

    _open: dict[str, AlertRecord] = field(default_factory=dict)
    _closed: list[AlertRecord] = field(default_factory=list)

    def observe(self, alerts: Iterable[dict[str, Any]], polled_at: datetime) -> None:
        active = {}
        for alert in alerts:
            if alert.get("status", {}).get("state", "active") == "suppressed":
                continue  # silenced or inhibited: not delivered
            labels = alert["labels"]
            active[alert["fingerprint"]] = AlertRecord(
                name=labels["alertname"],
                severity=labels.get("severity", ""),
                fired_at=_parse_time(alert["startsAt"]),
            )
        for fingerprint, record in list(self._open.items()):
            if fingerprint not in active:
                self._closed.append(
                    AlertRecord(record.name, record.severity, record.fired_at, polled_at)
                )
                del self._open[fingerprint]
        for fingerprint, record in active.items():
            self._open.setdefault(fingerprint, record)

    def records(self) -> list[AlertRecord]:
        """Every alert seen, resolved or still firing, in firing order."""
        return sorted([*self._closed, *self._open.values()], key=lambda a: a.fired_at)

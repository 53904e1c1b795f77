"""The scenario catalogue: every registry and table is derived from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos import catalogue, tables
from chaos.aws.scenarios import AwsScenario

ROOT = Path(__file__).resolve().parents[2]


def test_every_scenario_is_complete() -> None:
    for s in catalogue.SCENARIOS.values():
        assert s.title and s.hypothesis.expectation and s.method and s.rollback, s.name
        assert (ROOT / "runbooks" / f"{s.runbook}.md").exists(), s.name
        for extra in s.also_in_runbooks:
            assert (ROOT / "runbooks" / f"{extra}.md").exists(), s.name
        assert s.local is not None or s.no_local, f"{s.name}: no local method and no reason"
        assert s.aws is not None or s.no_aws, f"{s.name}: no AWS class and no reason"
        assert s.aws is None or issubclass(s.aws, AwsScenario)
        assert set(s.expected_alerts.names) <= catalogue.ALERT_NAMES, s.name
        assert s.expected_alerts.why, s.name
        assert not s.ci or s.standard, f"{s.name}: CI runs only standard scenarios"


def test_sets_per_target() -> None:
    assert catalogue.standard("local") == (
        "db-primary-kill", "db-leader-node-loss", "redis-primary-kill", "redis-down",
        "api-replica-kill", "queue-outage", "relay-kill", "zone-loss", "api-db-partition",
        "zone-partition",
    )
    assert catalogue.standard("aws") == (
        "db-primary-kill", "db-leader-node-loss", "redis-primary-kill", "api-replica-kill",
        "relay-kill", "zone-loss",
    )
    assert catalogue.ci_set() == ("db-primary-kill", "redis-primary-kill")
    # The partitions have no AWS implementation: standard locally, absent on AWS.
    assert "zone-partition" not in catalogue.standard("aws")


def test_resolve() -> None:
    names = [s.name for s in catalogue.resolve(["zone-loss", "relay-kill,zone-loss"])]
    assert names == ["zone-loss", "relay-kill"]
    assert [s.name for s in catalogue.resolve(None)] == list(catalogue.standard("local"))
    assert "zone-partition" in [s.name for s in catalogue.resolve("all")]
    with pytest.raises(ValueError, match="unknown scenario"):
        catalogue.resolve(["nope"])
    with pytest.raises(ValueError, match="no local implementation: the local stack has one"):
        catalogue.resolve(["region-switchover"])


def test_own_thresholds_override_the_slo() -> None:
    from dataclasses import replace

    from chaos.drill.report import Slo
    from chaos.drill.runner import scenario_slo

    base = catalogue.get("redis-down")
    assert scenario_slo(base, Slo()) == Slo()
    strict = replace(base, hypothesis=replace(base.hypothesis, p99_ms_max=200.0))
    assert scenario_slo(strict, Slo()).p99_ms == 200.0
    assert scenario_slo(strict, Slo()).availability == Slo().availability


def test_readme_tables_are_generated_from_the_catalogue() -> None:
    assert tables.stale() == [], "run: python -m chaos.tables"


def test_a_stale_table_is_detected(tmp_path: Path) -> None:
    for _, (rel, _) in tables.TABLES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text((ROOT / rel).read_text())
    text = (tmp_path / "runbooks/README.md").read_text()
    (tmp_path / "runbooks/README.md").write_text(text.replace("`zone-loss`", "`zone-gone`"))
    assert tables.stale(tmp_path) == ["runbooks/README.md"]
    assert tables.stale(tmp_path, write=True) == ["runbooks/README.md"]
    assert tables.stale(tmp_path) == []

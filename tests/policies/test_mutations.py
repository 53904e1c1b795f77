"""The mutation-coverage engine, on the hand-written baseline plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.cli import main
from policies.evaluate import parse_plan
from policies.mutations import coverage, mutations

from .fixtures import baseline_plan


def test_every_mutation_of_the_baseline_is_caught() -> None:
    result = coverage(parse_plan(baseline_plan(), "<fixture>"))
    assert [(o.mutation.resource, o.mutation.change) for o in result.missed] == []
    changes = {(o.mutation.type, o.mutation.change) for o in result.outcomes}
    assert ("aws:ec2/launchTemplate:LaunchTemplate", "block devices unencrypted") in changes
    assert ("eks:index:ManagedNodeGroup", "launchTemplate removed") in changes
    assert ("aws:rds/cluster:Cluster", "all instances in one AZ") in changes


def test_mutations_only_weaken_properties_that_are_set() -> None:
    plan = baseline_plan()
    queue = next(e for e in plan if e["name"] == "orders-dlq")
    found = {(m.resource, m.change) for m in mutations(parse_plan(plan, "<fixture>"))}
    assert ("orders-queue", "redrivePolicy removed") in found
    assert (queue["name"], "redrivePolicy removed") not in found  # a DLQ has none


def test_mutation_coverage_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(baseline_plan()), encoding="utf-8")
    assert main(["mutation-coverage", "--plan", str(plan), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["coverage"] == 1.0 and report["missed"] == [] and report["mutations"] > 50
    assert main(["mutation-coverage", "--plan", str(tmp_path / "absent.json")]) == 2

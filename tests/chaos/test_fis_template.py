"""The zone-loss FIS template checked against the botocore FIS model and the FIS actions
reference (tests/chaos/fis_reference.py), and proof that those checks catch mistakes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from chaos.aws.cli import make_scenario
from chaos.aws.scenarios.fis import ZoneLoss
from tests.chaos.aws_support import (  # noqa: F401 - dummy_aws_env is an autouse fixture
    Drill,
    check_zone_template,
    dummy_aws_env,
)
from tests.chaos.fis_reference import FIS_ACTIONS, template_problems


def zone_template(zone: str = "eu-west-1b") -> dict[str, Any]:
    scenario = make_scenario("zone-loss", Drill().ctx)
    assert isinstance(scenario, ZoneLoss)
    return scenario.template_request(zone)


def test_the_zone_loss_template_is_valid_and_aimed_at_one_zone() -> None:
    template = zone_template()
    assert template_problems(template) == []
    check_zone_template(template, "eu-west-1b")
    assert {a["actionId"] for a in template["actions"].values()} == set(FIS_ACTIONS)


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(template: dict[str, Any]) -> None:
        node = template
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _drop(path: list[str]) -> Callable[[dict[str, Any]], None]:
    def mutate(template: dict[str, Any]) -> None:
        node = template
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (_set(["actions", "Stop-Instances", "actionId"], "aws:ec2:stop-instance"),
         "not a documented FIS action"),
        (_drop(["roleArn"]), ".roleArn: required"),
        (_drop(["stopConditions"]), ".stopConditions: required"),
        (_drop(["actions", "Pause-ElastiCache", "parameters", "duration"]),
         "missing parameter duration"),
        (_set(["actions", "Failover-RDS", "targets"], {"Cluster": "RDS-Cluster"}),
         "targets ['Cluster'] != [Clusters]"),
        (_set(["actions", "Failover-RDS", "targets"], {"Clusters": "ElastiCache-Cluster"}),
         "needs aws:rds:cluster"),
        (_set(["actions", "Pause-Network-Connectivity", "parameters", "scope"], "everything"),
         "'everything' not in"),
        (_set(["actions", "Pause-ASG-Scaling", "parameters", "duration"], "PT13H"),
         "not PT1M..PT12H"),
        (_set(["targets", "RDS-Cluster", "parameters"], {"writerAvailabilityZone": "x"}),
         "takes no parameter writerAvailabilityZone"),
        (_set(["experimentOptions", "emptyTargetResolutionMode"], "ignore"),
         "not one of ['fail', 'skip']"),
        (_set(["description"], "x" * 513), "length 513 outside"),
        (_set(["targets", "RDS-Cluster", "selectionMode"], "EVERY"), "selectionMode 'EVERY'"),
        (_set(["unknownMember"], "x"), "not a member of CreateExperimentTemplateRequest"),
    ],
)
def test_a_wrong_template_is_reported(
    mutate: Callable[[dict[str, Any]], None], problem: str
) -> None:
    template = copy.deepcopy(zone_template())
    mutate(template)
    problems = template_problems(template)
    assert any(problem in p for p in problems), problems


def test_a_template_for_another_zone_is_reported() -> None:
    with pytest.raises(AssertionError, match="not limited to eu-west-1a"):
        check_zone_template(zone_template("eu-west-1b"), "eu-west-1a")

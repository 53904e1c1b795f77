"""Checks of a FIS `create_experiment_template` request against sources outside this repo.

1. The botocore service model of FIS (`botocore/data/fis/*/service-2.json`, the API's own
   schema): required members, no unknown members, string lengths and patterns, enums,
   list and map sizes.
2. The AWS FIS actions reference and the targets reference
   (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html,
   https://docs.aws.amazon.com/fis/latest/userguide/targets.html): each action id with its
   target key, target resource type and parameters; the parameters each resource type
   takes. The model cannot know these: it types parameters as free strings.

Each function returns a list of problems (empty: valid), so a test can show all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.model import Shape

ACTIONS_REFERENCE = "https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html"
# "The duration, from one minute to 12 hours ... a string in ISO 8601 format"
MIN_DURATION_S, MAX_DURATION_S = 60, 12 * 3600


@dataclass(frozen=True)
class ActionReference:
    target_key: str  # the key under the action's "targets"
    resource_type: str  # the resource type that target must have
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    durations: frozenset[str] = frozenset()  # parameters holding an ISO 8601 duration
    values: dict[str, frozenset[str]] = field(default_factory=dict)


# The actions the AZ Availability: Power Interruption scenario uses, as the reference
# documents them.
FIS_ACTIONS: dict[str, ActionReference] = {
    "aws:ec2:stop-instances": ActionReference(
        "Instances", "aws:ec2:instance",
        optional=frozenset({"startInstancesAfterDuration", "completeIfInstancesTerminated"}),
        durations=frozenset({"startInstancesAfterDuration"}),
        values={"completeIfInstancesTerminated": frozenset({"true", "false"})},
    ),
    "aws:ec2:asg-insufficient-instance-capacity-error": ActionReference(
        "AutoScalingGroups", "aws:ec2:autoscaling-group",
        required=frozenset({"availabilityZoneIdentifiers", "duration"}),
        optional=frozenset({"percentage"}),
        durations=frozenset({"duration"}),
    ),
    "aws:network:disrupt-connectivity": ActionReference(
        "Subnets", "aws:ec2:subnet",
        required=frozenset({"duration"}),
        optional=frozenset({"scope", "prefixListIdentifier"}),
        durations=frozenset({"duration"}),
        values={"scope": frozenset({"all", "availability-zone", "dynamodb", "prefix-list", "s3"})},
    ),
    "aws:rds:failover-db-cluster": ActionReference("Clusters", "aws:rds:cluster"),
    "aws:elasticache:replicationgroup-interrupt-az-power": ActionReference(
        "ReplicationGroups", "aws:elasticache:replicationgroup",
        required=frozenset({"duration"}),
        durations=frozenset({"duration"}),
    ),
}
# Target parameters per resource type (targets reference, "Resource types").
TARGET_PARAMETERS: dict[str, frozenset[str]] = {
    "aws:ec2:instance": frozenset(),
    "aws:ec2:autoscaling-group": frozenset(),
    "aws:ec2:subnet": frozenset({"availabilityZoneIdentifier", "vpc"}),
    "aws:rds:cluster": frozenset({"writerAvailabilityZoneIdentifiers"}),
    "aws:elasticache:replicationgroup": frozenset({"availabilityZoneIdentifier"}),
}
SELECTION_MODE = re.compile(r"ALL|COUNT\(\d+\)|PERCENT\(\d+\)")


def request_shape() -> Shape:
    model = botocore.session.get_session().get_service_model("fis")
    shape = model.operation_model("CreateExperimentTemplate").input_shape
    assert shape is not None
    return shape


def model_problems(value: Any, shape: Shape | None = None, path: str = "") -> list[str]:
    """Where `value` breaks the botocore shape (the request's, by default)."""
    shape = shape or request_shape()
    kind = shape.type_name
    if kind == "structure":
        return _structure_problems(value, shape, path)
    if kind in ("list", "map"):
        return _collection_problems(value, shape, path)
    if kind == "string":
        return _string_problems(value, shape, path)
    if kind == "integer" and not isinstance(value, int):
        return [f"{path}: {value!r} is not an integer"]
    return []


def _structure_problems(value: Any, shape: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: not an object"]
    problems = [f"{path}.{m}: required" for m in shape.required_members if m not in value]
    for key, item in value.items():
        if key not in shape.members:
            problems.append(f"{path}.{key}: not a member of {shape.name}")
        else:
            problems += model_problems(item, shape.members[key], f"{path}.{key}")
    return problems


def _collection_problems(value: Any, shape: Any, path: str) -> list[str]:
    kind, meta = shape.type_name, shape.metadata
    if not isinstance(value, list if kind == "list" else dict):
        return [f"{path}: not a {kind}"]
    problems = []
    if len(value) < meta.get("min", 0) or len(value) > meta.get("max", len(value)):
        problems.append(f"{path}: {len(value)} entries outside {meta}")
    if kind == "list":
        for i, item in enumerate(value):
            problems += model_problems(item, shape.member, f"{path}[{i}]")
        return problems
    assert isinstance(value, dict)
    for key, item in value.items():
        problems += model_problems(key, shape.key, f"{path} key {key!r}")
        problems += model_problems(item, shape.value, f"{path}.{key}")
    return problems


def _string_problems(value: Any, shape: Shape, path: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{path}: {value!r} is not a string"]
    meta = shape.metadata
    problems = []
    if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
        problems.append(f"{path}: length {len(value)} outside {meta.get('min', 0)}..{meta.get('max')}")
    if "enum" in meta and value not in meta["enum"]:
        problems.append(f"{path}: {value!r} not one of {meta['enum']}")
    pattern = meta.get("pattern")
    if pattern and not re.fullmatch(_python_pattern(pattern), value):
        problems.append(f"{path}: {value!r} does not match {pattern}")
    return problems


def _python_pattern(pattern: str) -> str:
    """The model's Java patterns in Python's `re`: Unicode classes become `\\w`/`\\s`."""
    pattern = pattern.removeprefix("^").removesuffix("$")
    return pattern.replace(r"\p{L}", r"\w").replace(r"\p{N}", r"\w").replace(r"\p{Z}", r"\s")


def reference_problems(template: dict[str, Any]) -> list[str]:
    """Where the template's actions and targets break the FIS actions/targets reference."""
    targets: dict[str, Any] = template.get("targets", {})
    problems: list[str] = []
    for name, target in targets.items():
        resource_type = target.get("resourceType")
        if resource_type not in TARGET_PARAMETERS:
            problems.append(f"targets.{name}: unknown resource type {resource_type!r}")
            continue
        for parameter in set(target.get("parameters", {})) - TARGET_PARAMETERS[resource_type]:
            problems.append(f"targets.{name}: {resource_type} takes no parameter {parameter}")
        if not SELECTION_MODE.fullmatch(target.get("selectionMode", "")):
            problems.append(f"targets.{name}: selectionMode {target.get('selectionMode')!r}")
    for name, action in template.get("actions", {}).items():
        problems += _action_problems(f"actions.{name}", action, targets)
    return problems


def _action_problems(path: str, action: dict[str, Any], targets: dict[str, Any]) -> list[str]:
    reference = FIS_ACTIONS.get(action.get("actionId", ""))
    if reference is None:
        return [f"{path}: {action.get('actionId')!r} is not a documented FIS action"]
    parameters: dict[str, str] = action.get("parameters", {})
    problems = [f"{path}: missing parameter {p}" for p in reference.required - set(parameters)]
    for parameter in set(parameters) - reference.required - reference.optional:
        problems.append(f"{path}: {action['actionId']} takes no parameter {parameter}")
    for parameter, allowed in reference.values.items():
        if parameter in parameters and parameters[parameter] not in allowed:
            problems.append(f"{path}.{parameter}: {parameters[parameter]!r} not in {allowed}")
    for parameter in reference.durations & set(parameters):
        seconds = iso_duration_seconds(parameters[parameter])
        if seconds is None or not MIN_DURATION_S <= seconds <= MAX_DURATION_S:
            problems.append(f"{path}.{parameter}: {parameters[parameter]!r} not PT1M..PT12H")
    action_targets: dict[str, str] = action.get("targets", {})
    if set(action_targets) != {reference.target_key}:
        problems.append(f"{path}: targets {sorted(action_targets)} != [{reference.target_key}]")
    for target_name in action_targets.values():
        resource_type = targets.get(target_name, {}).get("resourceType")
        if resource_type != reference.resource_type:
            problems.append(f"{path}: target {target_name} is {resource_type!r}, "
                            f"{action['actionId']} needs {reference.resource_type}")
    return problems


def iso_duration_seconds(value: str) -> int | None:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", value)
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def template_problems(template: dict[str, Any]) -> list[str]:
    return model_problems(template) + reference_problems(template)

"""Shared fixtures: the program's inventory, made by `python -m infra.plan` in a subprocess.

Pulumi's runtime keeps global state, so each configuration variant runs in its own
process; the results are cached for the session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRIMARY, STANDBY = "eu-central-1", "eu-west-1"  # as in Pulumi.prod.yaml


KMS_ARN = "arn:aws:kms:{region}:123456789012:key/"


def strings(value: Any) -> list[str]:
    """Every string inside a plan entry's inputs."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def is_cmk(value: Any, region: str) -> bool:
    """An ARN the mocks gave one of the region's KMS keys (a key ARN names its region)."""
    return isinstance(value, str) and value.startswith(KMS_ARN.format(region=region))


@dataclass(frozen=True)
class PlanRun:
    returncode: int
    stdout: str
    stderr: str


@cache
def run_plan(*args: str) -> PlanRun:
    done = subprocess.run(
        [sys.executable, "-m", "infra.plan", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return PlanRun(done.returncode, done.stdout, done.stderr)


class Plan:
    """The `--json` inventory with small lookup helpers."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries)

    def of_type(self, type_token: str, region: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.entries
            if e["type"] == type_token and (region is None or e["region"] == region)
        ]

    def named(self, name: str) -> dict[str, Any]:
        matches = [e for e in self.entries if e["name"] == name]
        assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
        return matches[0]

    def where(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [e for e in self.entries if predicate(e)]


def load_plan(*overrides: str) -> Plan:
    args = ["--json"]
    for override in overrides:
        args += ["--set", override]
    run = run_plan(*args)
    assert run.returncode == 0, f"infra.plan failed:\n{run.stderr[-4000:]}"
    return Plan(json.loads(run.stdout))


@pytest.fixture(scope="session")
def plan() -> Plan:
    return load_plan()


@pytest.fixture(scope="session")
def plan_without_standby() -> Plan:
    return load_plan("orders:standbyEnabled=false")


@pytest.fixture(scope="session")
def plan_options() -> dict[str, dict[str, Any]]:
    """Per resource name: {"dependsOn": [names], "ignoreChanges": [...]}."""
    run = run_plan("--options")
    assert run.returncode == 0, f"infra.plan --options failed:\n{run.stderr[-4000:]}"
    return {e["name"]: e for e in json.loads(run.stdout)}

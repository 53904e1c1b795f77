"""Mutation cases: one change to the compliant baseline and the violations it must cause."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExtraCase:
    policy: str
    resource: str  # logical name of the resource changed (or added)
    path: tuple[Any, ...]  # () with DELETE: the resource is deleted
    value: Any
    expected: tuple[tuple[str, str], ...]  # (resource reported on, message)
    add: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return f"{self.policy}:{self.resource}:{'.'.join(map(str, self.path))}"


@dataclass(frozen=True)
class Case:
    """One property change of the baseline and the single message it must cause."""

    policy: str
    resource: str  # logical name in the baseline plan
    path: tuple[Any, ...]
    value: Any
    message: str
    violator: str = ""  # resource the violation is reported on, if not `resource`

    @property
    def id(self) -> str:
        return f"{self.policy}:{self.resource}:{'.'.join(map(str, self.path))}"

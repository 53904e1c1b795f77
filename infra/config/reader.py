"""Reading one config object: typed getters that collect problems instead of stopping.

Pulumi hands structured values (objects, lists) to the program as JSON strings; `scalar`
turns one raw value back into Python. Checks several sections share live here too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import pulumi

# The retention values CloudWatch Logs accepts (PutRetentionPolicy).
CLOUDWATCH_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


class ConfigError(pulumi.RunError):
    """Invalid stack configuration. RunError makes Pulumi print the message, not a trace."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


T = TypeVar("T")


class Section:
    """Reads one config object, remembering problems instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, Any], path: str, problems: list[str]) -> None:
        self.raw = raw
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()

    def _get(self, key: str, default: T, kind: type, kind_name: str) -> T:
        self.seen.add(key)
        value = self.raw.get(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(f"{self.path}.{key} must be {kind_name}, got {value!r}")
            return default
        return value  # type: ignore[return-value]

    def text(self, key: str, default: str, allow_empty: bool = False) -> str:
        value = self._get(key, default, str, "a string")
        if not value.strip() and not allow_empty:
            self.problems.append(f"{self.path}.{key} must not be empty")
        return value

    def integer(self, key: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
        value = self._get(key, default, int, "an integer")
        if lo is not None and value < lo:
            self.problems.append(f"{self.path}.{key} must be >= {lo}, got {value}")
        if hi is not None and value > hi:
            self.problems.append(f"{self.path}.{key} must be <= {hi}, got {value}")
        return value

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        value = self._get(key, default, float, "a number")
        if not lo < value <= hi:
            self.problems.append(f"{self.path}.{key} must be in ({lo}, {hi}], got {value}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        return self._get(key, default, bool, "true or false")

    def texts(self, key: str, default: list[str]) -> tuple[str, ...]:
        value = self._get(key, default, list, "a list of strings")
        if not all(isinstance(v, str) for v in value):
            self.problems.append(f"{self.path}.{key} must be a list of strings, got {value!r}")
            return tuple(default)
        return tuple(value)

    def integers(self, key: str, default: list[int]) -> tuple[int, ...]:
        value = self._get(key, default, list, "a list of integers")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            self.problems.append(f"{self.path}.{key} must be a list of integers, got {value!r}")
            return tuple(default)
        return tuple(value)

    def section(self, key: str, defaults: Mapping[str, Any]) -> Section:
        value = self._get(key, dict(defaults), dict, "an object")
        return Section({**defaults, **value}, f"{self.path}.{key}", self.problems)

    def reject_unknown(self) -> None:
        """A misspelt key would otherwise be ignored silently and its default used."""
        for key in sorted(set(self.raw) - self.seen):
            self.problems.append(f"{self.path}.{key} is not a known setting")


def scalar(raw: str | None) -> Any:
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw

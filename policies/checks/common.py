"""Small helpers shared by the controls."""

from __future__ import annotations

from typing import Any

from .. import props as P
from ..framework import Reporter, Resource


def key_reference_problem(value: Any) -> str | None:
    """Why ``value`` is not a customer-managed KMS key reference, or None if it is one.

    An unknown value is accepted: during preview a key created in the same update has no
    ARN yet. Which key it is, is checked by the stack control that keys are created in
    the stack (it follows the engine's property dependencies).
    """
    if P.is_unknown(value):
        return None
    if not isinstance(value, str) or not value.strip():
        return "missing"
    if "alias/aws/" in value:
        return "aws-managed"
    return None


def require_true(
    resource: Resource, reporter: Reporter, prop: str, message: str, *, default: bool = False
) -> None:
    """Report ``message`` unless ``prop`` is true (skip when unknown)."""
    value = resource.get(prop)
    if P.is_unknown(value):
        reporter.skip(f"{prop}")
    flag = P.as_bool(value)
    if flag is None:
        flag = default
    if not flag:
        reporter.violation(message)


def number(resource: Resource, reporter: Reporter, *path: str | int) -> float | None:
    """A numeric property, skipping the control when it is unknown."""
    value = resource.get(*path)
    if P.is_unknown(value):
        reporter.skip(".".join(str(p) for p in path))
    return P.as_number(value)


_ENGINE_FAMILIES = ("postgres", "mysql", "mariadb", "sqlserver", "oracle", "db2")


def engine_family(engine: Any) -> str | None:
    """The RDS engine family of an ``engine`` value ("aurora-postgresql" -> "postgres")."""
    if not isinstance(engine, str):
        return None
    name = "mysql" if engine == "aurora" else engine.removeprefix("aurora-")
    return next((family for family in _ENGINE_FAMILIES if name.startswith(family)), None)


def region_of_arn(arn: Any) -> str | None:
    if isinstance(arn, str) and arn.startswith("arn:"):
        parts = arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


def skip_unknown_document(reporter: Reporter, where: str, document: Any) -> None:
    """A policy document computed during the update cannot be analysed yet: skip with a note."""
    if P.is_unknown(document):
        reporter.skip(where)

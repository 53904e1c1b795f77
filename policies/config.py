"""Policy config (``--config``, as for ``pulumi policy enable --config``), validated.

Every key must name a control of this pack; a value is an enforcement level or an object
of ``enforcementLevel`` and the control's own settings, each checked against the JSON
schema the pack publishes to the engine (so the Pulumi CLI refuses the same values). The
schemas carry the limits that keep a control meaningful: a retention of at least one day,
no data-store or administration port opened to the internet, and so on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from . import all_policies

LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class ConfigError(ValueError):
    """The policy config is unreadable or invalid (exit code 2)."""


def _check_settings(name: str, settings: Mapping[str, Any], schemas: Mapping[str, Any]) -> None:
    for key, value in settings.items():
        if key == "enforcementLevel":
            if value not in LEVELS:
                raise ConfigError(f"{name}: enforcementLevel {value!r} is not one of {LEVELS}")
            continue
        if key not in schemas:
            known = ", ".join(sorted(schemas)) or "none"
            raise ConfigError(f"{name}: unknown setting {key!r} (settings: {known})")
        schema = {k: v for k, v in schemas[key].items() if k != "default"}
        try:
            jsonschema.validate(value, schema)
        except jsonschema.ValidationError as exc:
            raise ConfigError(f"{name}.{key}: {exc.message}") from exc


def validate(data: Any) -> dict[str, dict[str, Any]]:
    """The config as {control: {setting: value}}; raises ConfigError when it is invalid."""
    if not isinstance(data, dict):
        raise ConfigError("policy config must be a JSON object of control names")
    policies = {p.name: p for p in all_policies()}
    config: dict[str, dict[str, Any]] = {}
    for name, value in data.items():
        policy = policies.get(name)
        if policy is None:
            raise ConfigError(f"unknown control {name!r}")
        settings = value if isinstance(value, dict) else {"enforcementLevel": value}
        schemas = {option.name: dict(option.schema) for option in policy.meta.config}
        _check_settings(name, settings, schemas)
        config[name] = dict(settings)
    return config


def load(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read policy config {path}: {exc}") from exc
    return validate(data)

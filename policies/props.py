"""Shape- and unknown-tolerant access to resource properties.

Policies see the same resource in several shapes:

* camelCase *inputs* from the engine during `pulumi preview`/`up` (wrapped by
  pulumi-policy in a proxy that raises ``UnknownValueError`` when a value is not
  known yet) and from ``python -m infra.plan --json``;
* camelCase *outputs* from ``pulumi stack export``, where a nested block may be a
  one-element list instead of an object (``encryptionConfig: [{...}]``), numbers
  may be strings, and secrets are wrapped in a signature object.

``get`` hides those differences. It never raises for a missing or unknown value:
a missing value comes back as ``None`` and an unknown one as the ``UNKNOWN``
marker, which policies test with ``is_unknown`` and then either accept (a value
will be there, e.g. a key ARN computed during the update) or skip with a note.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    _DictProxy,
    _ListProxy,
)

_SENTINELS = frozenset(
    {
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 - a signature, not a secret
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a signature, not a secret


class _Unknown:
    """A value that cannot be known until the update runs."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:  # an unknown is never "known true"
        return False


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in _SENTINELS)


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _unwrap_secret(value: Any) -> Any:
    if isinstance(value, Mapping):
        try:
            sig = value.get(_SECRET_SIG_KEY)
        except UnknownValueError:
            return value
        if sig == _SECRET_SIG:
            if "value" in value:
                return value["value"]
            if "plaintext" in value:
                try:
                    return json.loads(value["plaintext"])
                except (TypeError, ValueError):
                    return value["plaintext"]
            return UNKNOWN  # ciphertext only: present but unreadable offline
    return value


_ABSENT = object()


def _child(current: Any, key: str | int) -> Any:
    """`current[key]` for a list index or a mapping key, else _ABSENT."""
    if isinstance(key, int):
        return current[key] if _is_seq(current) and -len(current) <= key < len(current) else _ABSENT
    if isinstance(current, Mapping):
        return current.get(key, _ABSENT)
    if _is_seq(current) and len(current) == 1:
        # Output shape of a single nested block: [{...}] instead of {...}.
        return _step(current[0], key)
    return _ABSENT


def _step(current: Any, key: str | int) -> Any:
    """One path step. Returns None when absent and UNKNOWN when not knowable."""
    try:
        current = _unwrap_secret(current)
        if is_unknown(current):
            return UNKNOWN
        value = _child(current, key)
    except UnknownValueError:
        return UNKNOWN
    if value is _ABSENT:
        return None
    value = _unwrap_secret(value)
    return UNKNOWN if is_unknown(value) else value


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """Value at ``path`` (keys and list indexes), ``UNKNOWN``, or ``default``."""
    current = props
    for key in path:
        current = _step(current, key)
        if current is None:
            return default
        if current is UNKNOWN:
            return UNKNOWN
    return current


def as_list(value: Any) -> list[Any]:
    """A list view of a list-ish value (a lone object becomes a one-element list).

    Unknown elements are kept as ``UNKNOWN``.
    """
    value = _unwrap_secret(value)
    if value is None:
        return []
    if is_unknown(value):
        return [UNKNOWN]
    if isinstance(value, Mapping):
        return [value]
    if _is_seq(value):
        out: list[Any] = []
        for index in range(len(value)):
            out.append(get(value, index))
        return out
    return [value]


def items(value: Any) -> list[tuple[str, Any]]:
    """Key/value pairs of a mapping, unknown values as ``UNKNOWN``."""
    value = _unwrap_secret(value)
    if not isinstance(value, Mapping):
        return []
    return [(key, get(value, key)) for key in list(value)]


def as_bool(value: Any) -> bool | None:
    """True/False for booleans and their string forms; None when absent/unknown/other."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_json(value: Any) -> Any:
    """Parse a JSON-encoded string property (e.g. SQS ``redrivePolicy``); objects pass through."""
    if isinstance(value, str) and not is_unknown(value):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def raw(value: Any) -> Any:
    """The values under pulumi-policy's unknown-checking proxies, without checking them.

    For whole-document scans (every string of a resource), where ``plain`` would check
    each value on the way down; unknowns stay as their sentinel strings.
    """
    if isinstance(value, _DictProxy):
        return {key: raw(val) for key, val in value["__target"].items()}
    if isinstance(value, _ListProxy):
        return [raw(element) for element in value["__target"]]
    if isinstance(value, dict):
        return {key: raw(val) for key, val in value.items()}
    if isinstance(value, list):
        return [raw(element) for element in value]
    return value


def plain(value: Any) -> Any:
    """Deep copy of a (possibly proxied) value into plain dicts/lists, unknowns as UNKNOWN."""
    value = _unwrap_secret(value)
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {key: plain(val) for key, val in items(value)}
    if _is_seq(value):
        return [plain(element) for element in as_list(value)]
    return value

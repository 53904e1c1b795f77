"""Recorded engine events of a real ``pulumi preview``: the engine's own policy verdicts.

Nothing is re-evaluated: ``policyEvent``s are the violations and
``policyAnalyzeSummaryEvent``s say which controls passed or failed on which resource.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import PACK_NAME, all_policies
from .evaluate import (
    STACK_SUBJECT,
    Evaluation,
    InputError,
    PolicyResult,
    Violation,
    _result_for,
    provenance,
)
from .model import parse_urn

_LEVELS = {
    "warning": "advisory",
    "advisory": "advisory",
    "mandatory": "mandatory",
    "remediate": "remediate",
}


def _read_events(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    events: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{number}: not a JSON engine event: {exc}") from exc
        if not isinstance(event, dict):
            raise InputError(f"{path}:{number}: an engine event is a JSON object")
        events.append(event)
    if not events:
        raise InputError(f"{path}: no engine events")
    return events


class _Fold:
    """What the events say, folded into per-control results as they are read."""

    def __init__(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        self.results: dict[str, PolicyResult] = {
            p.name: _result_for(p, dict(config.get(p.name, {}))) for p in all_policies()
        }
        self.urns: set[str] = set()
        self.region_by_urn: dict[str, str] = {}
        self.violations: list[Violation] = []
        self.packs: set[tuple[str, str]] = set()
        self.summaries = 0

    def pre(self, pre: Mapping[str, Any]) -> None:
        meta = pre.get("metadata") or {}
        urn = meta.get("urn")
        if isinstance(urn, str):
            self.urns.add(urn)
            region = _region_from_metadata(meta)
            if region:
                self.region_by_urn[urn] = region

    def summary(self, summary: Mapping[str, Any]) -> None:
        if summary.get("policyPackName") not in (PACK_NAME, None):
            return
        self.summaries += 1
        urn = str(summary.get("resourceUrn") or STACK_SUBJECT)
        for outcome in ("passed", "failed"):
            for name in summary.get(outcome) or []:
                result = self.results.get(name)
                if result is None:
                    continue
                result.in_scope += 1
                result.evaluated.append(urn)
                if outcome == "failed":
                    result.failed.append(urn)

    def _result(self, name: str, event: Mapping[str, Any]) -> PolicyResult:
        result = self.results.get(name)
        if result is None:  # a policy of another pack, or one this version does not know
            result = PolicyResult(
                None,
                name,
                "",
                "Other",
                str(event.get("severity") or "unspecified"),
                _LEVELS.get(str(event.get("enforcementLevel")), "advisory"),
                [],
                "",
                {},
            )
            self.results[name] = result
        return result

    def policy(self, event: Mapping[str, Any]) -> None:
        name = str(event.get("policyName", ""))
        pack = (str(event.get("policyPackName", "")), str(event.get("policyPackVersion", "")))
        self.packs.add(pack)
        urn = str(event.get("resourceUrn") or "")
        type_, res_name = parse_urn(urn) if urn else (STACK_SUBJECT, STACK_SUBJECT)
        result = self._result(name, event)
        message = str(event.get("message", ""))
        if result.description and message.startswith(result.description):
            message = message[len(result.description) :].lstrip("\n") or message
        level = _LEVELS.get(str(event.get("enforcementLevel", "")).lower(), result.enforcement)
        result.violations += 1
        result.in_scope = max(result.in_scope, result.violations)
        self.violations.append(
            Violation(
                name,
                type_ or STACK_SUBJECT,
                res_name or STACK_SUBJECT,
                self.region_by_urn.get(urn),
                urn,
                message,
                str(event.get("severity") or result.severity),
                level,
            )
        )


def load_preview_events(
    path: Path, config: Mapping[str, Mapping[str, Any]] | None = None
) -> Evaluation:
    """Build the evaluation from the engine's own policy events (nothing is re-run)."""
    fold = _Fold(config or {})
    for event in _read_events(path):
        for key, handler in (
            ("resourcePreEvent", fold.pre),
            ("policyAnalyzeSummaryEvent", fold.summary),
            ("policyEvent", fold.policy),
        ):
            if isinstance(event.get(key), dict):
                handler(event[key])
    source = provenance(path, "preview-events", len(fold.urns))
    ours = [version for pack, version in fold.packs if pack == PACK_NAME]
    if ours:
        source.pack_version = ours[0]
    if not fold.summaries:
        # Without summary events, "no violation" cannot be told from "not run": say so.
        for result in fold.results.values():
            if not result.violations:
                result.in_scope = 0
    return Evaluation(source, list(fold.results.values()), fold.violations, [])


def _region_from_metadata(meta: Mapping[str, Any]) -> str | None:
    new = meta.get("new")
    if not isinstance(new, dict):
        return None
    for bag in (new.get("outputs"), new.get("inputs")):
        if isinstance(bag, dict) and isinstance(bag.get("region"), str):
            return str(bag["region"])
    return None

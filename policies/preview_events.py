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


def load_preview_events(
    path: Path, config: Mapping[str, Mapping[str, Any]] | None = None
) -> Evaluation:
    """Build the evaluation from the engine's own policy events (nothing is re-run)."""
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
    known = {p.name: p for p in all_policies()}
    config = config or {}
    results: dict[str, PolicyResult] = {
        name: _result_for(policy, dict(config.get(name, {}))) for name, policy in known.items()
    }
    urns: set[str] = set()
    region_by_urn: dict[str, str] = {}
    violations: list[Violation] = []
    packs: set[tuple[str, str]] = set()
    summaries = 0
    for event in events:
        pre = event.get("resourcePreEvent")
        if isinstance(pre, dict):
            meta = pre.get("metadata") or {}
            urn = meta.get("urn")
            if isinstance(urn, str):
                urns.add(urn)
                region = _region_from_metadata(meta)
                if region:
                    region_by_urn[urn] = region
        summary = event.get("policyAnalyzeSummaryEvent")
        if isinstance(summary, dict) and summary.get("policyPackName") in (PACK_NAME, None):
            summaries += 1
            summary_urn = str(summary.get("resourceUrn") or STACK_SUBJECT)
            for name in summary.get("passed") or []:
                if name in results:
                    results[name].in_scope += 1
                    results[name].evaluated.append(summary_urn)
            for name in summary.get("failed") or []:
                if name in results:
                    results[name].in_scope += 1
                    results[name].evaluated.append(summary_urn)
                    results[name].failed.append(summary_urn)
        policy_event = event.get("policyEvent")
        if not isinstance(policy_event, dict):
            continue
        name = str(policy_event.get("policyName", ""))
        packs.add(
            (
                str(policy_event.get("policyPackName", "")),
                str(policy_event.get("policyPackVersion", "")),
            )
        )
        urn = str(policy_event.get("resourceUrn") or "")
        type_, res_name = parse_urn(urn) if urn else (STACK_SUBJECT, STACK_SUBJECT)
        result = results.get(name)
        if result is None:  # a policy of another pack, or one this version does not know
            result = PolicyResult(
                None,
                name,
                "",
                "Other",
                str(policy_event.get("severity") or "unspecified"),
                _LEVELS.get(str(policy_event.get("enforcementLevel")), "advisory"),
                [],
                "",
                {},
            )
            results[name] = result
        message = str(policy_event.get("message", ""))
        if result.description and message.startswith(result.description):
            message = message[len(result.description) :].lstrip("\n") or message
        level = _LEVELS.get(
            str(policy_event.get("enforcementLevel", "")).lower(), result.enforcement
        )
        severity = str(policy_event.get("severity") or result.severity)
        result.violations += 1
        result.in_scope = max(result.in_scope, result.violations)
        violations.append(
            Violation(
                name,
                type_ or STACK_SUBJECT,
                res_name or STACK_SUBJECT,
                region_by_urn.get(urn),
                urn,
                message,
                severity,
                level,
            )
        )
    source = provenance(path, "preview-events", len(urns))
    ours = [version for pack, version in packs if pack == PACK_NAME]
    if ours:
        source.pack_version = ours[0]
    if not summaries:
        # Without summary events, "no violation" cannot be told from "not run": say so.
        for result in results.values():
            if not result.violations:
                result.in_scope = 0
    return Evaluation(source, list(results.values()), violations, [])


def _region_from_metadata(meta: Mapping[str, Any]) -> str | None:
    new = meta.get("new")
    if not isinstance(new, dict):
        return None
    for bag in (new.get("outputs"), new.get("inputs")):
        if isinstance(bag, dict) and isinstance(bag.get("region"), str):
            return str(bag["region"])
    return None

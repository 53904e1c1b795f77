"""Offline evaluation of the pack: the same policy objects the Pulumi CLI runs, fed from files.

Three inputs:

* a plan file (``python -m infra.plan --json``): a JSON array of
  ``{type, name, region, inputs}``; every control is evaluated over the inputs, as the
  engine does during ``pulumi preview``;
* a stack export (``pulumi stack export``): the deployed resources' outputs (inputs
  fill what outputs lack), with the engine's dependency graph;
* recorded preview events (``PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview
  --json --policy-pack policies``): nothing is re-evaluated, the engine's
  ``policyEvent``s are the violations.

Resource controls are called through ``policy.validate(ResourceValidationArgs(...))``
with the properties wrapped in pulumi-policy's unknown-checking proxy, and stack
controls through ``policy.validate(StackValidationArgs(...))``, exactly as the analyzer
server calls them; an ``UnknownValueError`` becomes a note, as the engine makes it an
advisory "can't run policy during preview" diagnostic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from . import all_policies
from . import waivers as W
from .framework import (
    NOTE_SINK,
    Control,
    ControlResourcePolicy,
    ControlStackPolicy,
    Note,
)
from .results import (
    PLAN_PLACEHOLDERS,
    STACK_SUBJECT,
    Evaluation,
    InputError,
    PolicyResult,
    Provenance,
    Subject,
    Violation,
)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from exc


def provenance(path: Path, kind: str, resources: int) -> Provenance:
    data = path.read_bytes()
    stat = path.stat()
    return Provenance(
        kind=kind,
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        modified=dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(timespec="seconds"),
        evaluated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        resources=resources,
    )


def _placeholders_to_unknown(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _placeholders_to_unknown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders_to_unknown(v) for v in value]
    if isinstance(value, str) and value in PLAN_PLACEHOLDERS:
        return UNKNOWN_STRING_VALUE
    return value


def _urn(type_: str, name: str, stack: str = "plan", project: str = "plan") -> str:
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def load_plan(path: Path) -> tuple[list[Subject], Provenance]:
    subjects = parse_plan(_read_json(path), str(path))
    return subjects, provenance(path, "plan", len(subjects))


def parse_plan(data: Any, origin: str = "plan") -> list[Subject]:
    """Subjects of a plan (a JSON array of ``{type, name, region, inputs}``)."""
    if not isinstance(data, list):
        raise InputError(f"{origin}: a plan is a JSON array, got {type(data).__name__}")
    subjects: list[Subject] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise InputError(f"{origin}: entry {index} is not an object")
        missing = [key for key in ("type", "name", "inputs") if key not in entry]
        if missing:
            raise InputError(f"{origin}: entry {index} lacks {', '.join(missing)}")
        if not isinstance(entry["type"], str) or not isinstance(entry["name"], str):
            raise InputError(f"{origin}: entry {index} has a non-string type or name")
        if not isinstance(entry["inputs"], dict):
            raise InputError(
                f"{origin}: entry {index} ({entry['name']}) has inputs that are not an object"
            )
        region = entry.get("region")
        base = _urn(entry["type"], entry["name"])
        seen[base] = seen.get(base, 0) + 1
        urn = base if seen[base] == 1 else f"{base}#{seen[base]}"
        outputs = entry.get("outputs") if isinstance(entry.get("outputs"), dict) else None
        subjects.append(
            Subject(
                type=entry["type"],
                name=entry["name"],
                region=region if isinstance(region, str) else None,
                props=_placeholders_to_unknown(entry["inputs"]),
                urn=urn,
                outputs=_placeholders_to_unknown(outputs) if outputs is not None else None,
            )
        )
    return subjects


# --- evaluation --------------------------------------------------------------------------


def _result_for(policy: Control, config: Mapping[str, Any]) -> PolicyResult:
    meta = policy.meta
    level = config.get("enforcementLevel", meta.enforcement.value)
    return PolicyResult(
        policy=policy,
        name=policy.name,
        description=policy.description,
        category=meta.category,
        severity=meta.severity.value,
        enforcement=str(level),
        frameworks=[
            {
                "framework": ref.framework.title,
                "version": ref.framework.version,
                "control": ref.control_id,
                "title": ref.title,
            }
            for ref in meta.frameworks
        ],
        remediation=meta.remediation,
        config=meta.config_values({k: v for k, v in config.items() if k != "enforcementLevel"}),
    )


def _opts(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


class _PolicyResourceWithOutputs(PolicyResource):
    outputs: Any = None


def evaluate(
    subjects: Sequence[Subject],
    source: Provenance,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    policies: Sequence[Control] | None = None,
) -> Evaluation:
    """Run every control over ``subjects``."""
    config = config or {}
    policies = list(policies) if policies is not None else all_policies()
    by_urn = {s.urn: s for s in subjects}
    stack_resources: list[PolicyResource] | None = None
    results: list[PolicyResult] = []
    violations: list[Violation] = []
    notes: list[Note] = []
    exemptions: list[W.Exemption] = []
    token = NOTE_SINK.set(notes)
    exempt_token = W.EXEMPTION_SINK.set(exemptions)
    try:
        for policy in policies:
            policy_config = dict(config.get(policy.name, {}))
            result = _result_for(policy, policy_config)
            results.append(result)
            if result.enforcement == "disabled":
                continue
            settings = {k: v for k, v in policy_config.items() if k != "enforcementLevel"}
            before = len(notes)
            if isinstance(policy, ControlResourcePolicy):
                _run_resource_policy(policy, result, subjects, by_urn, settings, violations, notes)
            elif isinstance(policy, ControlStackPolicy):
                if stack_resources is None:
                    stack_resources = _stack_resources(subjects, by_urn)
                _run_stack_policy(
                    policy, result, subjects, by_urn, stack_resources, settings, violations, notes
                )
            result.notes = len(notes) - before
            result.exempted = [(e.urn, e.waiver) for e in exemptions if e.policy == policy.name]
    finally:
        NOTE_SINK.reset(token)
        W.EXEMPTION_SINK.reset(exempt_token)
    return Evaluation(
        source,
        results,
        violations,
        notes,
        exemptions=exemptions,
        waivers=list(W.active()),
        resources=[(s.urn, s.type) for s in subjects],
        judged_on=W.today().isoformat(),
    )


def _provider(subject: Subject, by_urn: Mapping[str, Subject]) -> PolicyProviderResource | None:
    if subject.provider and subject.provider in by_urn:
        prov = by_urn[subject.provider]
        return PolicyProviderResource(
            prov.type, unknown_checking_proxy(prov.props), prov.urn, prov.name
        )
    if subject.region:
        return PolicyProviderResource(
            "pulumi:providers:aws",
            unknown_checking_proxy({"region": subject.region}),
            "",
            "default",
        )
    return None


def _violation(result: PolicyResult, subject: Subject | None, message: str) -> Violation:
    return Violation(
        policy=result.name,
        resource_type=subject.type if subject else STACK_SUBJECT,
        resource_name=subject.name if subject else STACK_SUBJECT,
        region=subject.region if subject else None,
        urn=subject.urn if subject else "",
        message=message,
        severity=result.severity,
        enforcement=result.enforcement,
    )


def _run_resource_policy(
    policy: ControlResourcePolicy,
    result: PolicyResult,
    subjects: Sequence[Subject],
    by_urn: Mapping[str, Subject],
    settings: Mapping[str, Any],
    violations: list[Violation],
    notes: list[Note],
) -> None:
    for subject in subjects:
        if not policy.applies_to(subject.type):
            continue
        result.in_scope += 1
        result.evaluated.append(subject.urn)

        def report(message: str, urn: str | None = None, subject: Subject = subject) -> None:
            violations.append(_violation(result, subject, message))
            result.violations += 1
            if subject.urn not in result.failed:
                result.failed.append(subject.urn)

        args = ResourceValidationArgs(
            subject.type,
            unknown_checking_proxy(subject.props),
            subject.urn,
            subject.name,
            _opts(subject.parent),
            _provider(subject, by_urn),
            config=dict(settings),
        )
        try:
            policy.validate(args, report)
        except UnknownValueError as exc:
            notes.append(Note(policy.name, subject.type, subject.name, exc.message))
            result.skipped.append((subject.urn, exc.message))
        except _NotApplicableError:
            result.in_scope -= 1
            result.evaluated.remove(subject.urn)
        except Exception as exc:  # a control must never crash the run: make it visible
            report(f"policy failed to evaluate this resource: {type(exc).__name__}: {exc}")


def _stack_resources(
    subjects: Sequence[Subject], by_urn: Mapping[str, Subject]
) -> list[PolicyResource]:
    """The stack as pulumi-policy's ``PolicyResource``s.

    The engine builds them per policy; controls only read them, so ``evaluate`` builds
    one set per call and shares it between the stack controls.
    """
    converted: dict[str, _PolicyResourceWithOutputs] = {}
    for subject in subjects:
        resource = _PolicyResourceWithOutputs(
            subject.type,
            unknown_checking_proxy(subject.props),
            subject.urn,
            subject.name,
            _opts(subject.parent),
            _provider(subject, by_urn),
            None,
            [],
            {},
        )
        resource.outputs = subject.outputs
        converted[subject.urn] = resource
    for subject in subjects:
        resource = converted[subject.urn]
        if subject.parent in converted:
            resource.parent = converted[subject.parent]
        resource.dependencies = [converted[d] for d in subject.dependencies if d in converted]
        resource.property_dependencies = {
            k: [converted[d] for d in v if d in converted]
            for k, v in subject.property_dependencies.items()
        }
    return list(converted.values())


def _run_stack_policy(
    policy: ControlStackPolicy,
    result: PolicyResult,
    subjects: Sequence[Subject],
    by_urn: Mapping[str, Subject],
    stack_resources: list[PolicyResource],
    settings: Mapping[str, Any],
    violations: list[Violation],
    notes: list[Note],
) -> None:
    scope = set(policy.meta.resource_types)
    result.evaluated = [s.urn for s in subjects if not scope or s.type in scope]
    result.in_scope = len(result.evaluated)
    before = len(notes)

    def report(message: str, urn: str | None = None) -> None:
        violations.append(_violation(result, by_urn.get(urn or ""), message))
        result.violations += 1
        target = urn or STACK_SUBJECT
        if target not in result.failed:
            result.failed.append(target)

    try:
        policy.validate(StackValidationArgs(stack_resources, dict(settings)), report)
    except UnknownValueError as exc:
        # The whole check stopped (a value unknown, or the check could not run): the
        # engine shows pulumi-policy's advisory "can't run policy" diagnostic.
        notes.append(Note(policy.name, STACK_SUBJECT, STACK_SUBJECT, exc.message))
        result.error = exc.message
    except _NotApplicableError:
        result.in_scope = 0
        result.evaluated = []
    by_name = {(s.type, s.name): s.urn for s in subjects}
    for note in notes[before:]:
        urn = by_name.get((note.resource_type, note.resource_name), STACK_SUBJECT)
        result.skipped.append((urn, note.message))


def stamp(evaluation: Evaluation, config: Mapping[str, Any] | None) -> Evaluation:
    """Add the pack, config, waiver and input provenance to an evaluation."""
    from . import provenance as prov

    source = evaluation.provenance
    source.git_commit = prov.git_commit()
    source.pack_sha256 = prov.pack_sha256()
    source.config_sha256 = prov.config_sha256(config)
    source.waivers_sha256 = prov.config_sha256(
        {"waivers": [w.to_json() for w in evaluation.waivers]}
    )
    source.source = prov.describe(source.kind)
    return evaluation


def load(
    kind: str, path: Path, config: Mapping[str, Mapping[str, Any]] | None = None
) -> Evaluation:
    if kind == "preview-events":
        from .preview_events import load_preview_events

        return stamp(load_preview_events(path, config), config)
    if kind == "plan":
        subjects, source = load_plan(path)
    elif kind == "stack-export":
        from .stack_export import load_stack_export

        subjects, source = load_stack_export(path)
    else:  # pragma: no cover - argparse restricts the choices
        raise InputError(f"unknown input kind {kind}")
    return stamp(evaluate(subjects, source, config), config)

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from . import PACK_NAME, all_policies, pack_version
from .framework import (
    NOTE_SINK,
    Control,
    ControlResourcePolicy,
    ControlStackPolicy,
    Note,
)
from .model import parse_urn

STACK_SUBJECT = "(stack)"
# How infra.plan renders values it cannot show (infra/mocks.py).
PLAN_PLACEHOLDERS = {"[unknown]", "[secret]"}


class InputError(Exception):
    """The input file is unreadable or not in the expected format (exit code 2)."""


@dataclass
class Subject:
    """One resource to evaluate, whatever file it came from."""

    type: str
    name: str
    region: str | None
    props: dict[str, Any]
    urn: str
    outputs: dict[str, Any] | None = None
    parent: str | None = None
    provider: str | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Provenance:
    kind: str  # "plan" | "stack-export" | "preview-events"
    path: str
    sha256: str
    size: int
    modified: str
    evaluated_at: str
    resources: int
    pack_name: str = PACK_NAME
    pack_version: str = field(default_factory=pack_version)


@dataclass
class Violation:
    policy: str
    resource_type: str
    resource_name: str
    region: str | None
    urn: str
    message: str
    severity: str
    enforcement: str


@dataclass
class PolicyResult:
    policy: Control | None
    name: str
    description: str
    category: str
    severity: str
    enforcement: str
    frameworks: list[dict[str, str]]
    remediation: str
    config: dict[str, Any]
    in_scope: int = 0
    violations: int = 0
    notes: int = 0

    @property
    def status(self) -> str:
        if self.enforcement == "disabled":
            return "disabled"
        if self.violations:
            return "fail" if self.enforcement == "mandatory" else "warn"
        if self.in_scope == 0:
            return "not-applicable"
        if self.notes >= self.in_scope:
            return "not-evaluated"
        return "pass"


@dataclass
class Evaluation:
    provenance: Provenance
    results: list[PolicyResult]
    violations: list[Violation]
    notes: list[Note]

    @property
    def mandatory_violations(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory_violations else 0


# --- loading -----------------------------------------------------------------------------


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


def load_stack_export(path: Path) -> tuple[list[Subject], Provenance]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: a stack export is a JSON object")
    deployment = data.get("deployment", data)
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(resources, list):
        raise InputError(
            f"{path}: no deployment.resources array (is this `pulumi stack export` output?)"
        )
    by_urn: dict[str, dict[str, Any]] = {}
    for index, res in enumerate(resources):
        if (
            not isinstance(res, dict)
            or not isinstance(res.get("urn"), str)
            or not isinstance(res.get("type"), str)
        ):
            raise InputError(f"{path}: resource {index} lacks a urn or type")
        by_urn[res["urn"]] = res

    def region_of(res: dict[str, Any], depth: int = 0) -> str | None:
        for bag in (res.get("outputs"), res.get("inputs")):
            if isinstance(bag, dict) and isinstance(bag.get("region"), str):
                return str(bag["region"])
        provider = res.get("provider")
        if isinstance(provider, str) and depth < 10:
            ref = provider.rsplit("::", 1)[0]
            if ref in by_urn:
                return region_of(by_urn[ref], depth + 1)
        parent = res.get("parent")
        if isinstance(parent, str) and parent in by_urn and depth < 50:
            return region_of(by_urn[parent], depth + 1)
        return None

    subjects: list[Subject] = []
    for res in resources:
        if res["type"] == "pulumi:pulumi:Stack" or res.get("delete"):
            continue
        inputs = res.get("inputs") if isinstance(res.get("inputs"), dict) else {}
        outputs = res.get("outputs") if isinstance(res.get("outputs"), dict) else {}
        _, name = parse_urn(res["urn"])
        deps = (
            res.get("propertyDependencies")
            if isinstance(res.get("propertyDependencies"), dict)
            else {}
        )
        provider = res.get("provider")
        subjects.append(
            Subject(
                type=res["type"],
                name=name or res["urn"],
                region=region_of(res),
                props={**inputs, **outputs},
                urn=res["urn"],
                outputs={**outputs, "id": res["id"]} if isinstance(res.get("id"), str) else None,
                parent=res.get("parent") if isinstance(res.get("parent"), str) else None,
                provider=provider.rsplit("::", 1)[0] if isinstance(provider, str) else None,
                dependencies=[d for d in res.get("dependencies") or [] if isinstance(d, str)],
                property_dependencies={
                    k: [d for d in v if isinstance(d, str)]
                    for k, v in deps.items()
                    if isinstance(v, list)
                },
            )
        )
    return subjects, provenance(path, "stack-export", len(subjects))


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
    token = NOTE_SINK.set(notes)
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
    finally:
        NOTE_SINK.reset(token)
    return Evaluation(source, results, violations, notes)


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

        def report(message: str, urn: str | None = None, subject: Subject = subject) -> None:
            violations.append(_violation(result, subject, message))
            result.violations += 1

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
        except _NotApplicableError:
            result.in_scope -= 1
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
    result.in_scope = sum(1 for s in subjects if s.type in scope) if scope else len(subjects)

    def report(message: str, urn: str | None = None) -> None:
        violations.append(_violation(result, by_urn.get(urn or ""), message))
        result.violations += 1

    try:
        policy.validate(StackValidationArgs(stack_resources, dict(settings)), report)
    except UnknownValueError as exc:
        notes.append(Note(policy.name, STACK_SUBJECT, STACK_SUBJECT, exc.message))
    except _NotApplicableError:
        result.in_scope = 0
    except Exception as exc:
        report(f"policy failed to evaluate the stack: {type(exc).__name__}: {exc}")


# --- recorded preview events ---------------------------------------------------------------

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
            for name in summary.get("passed") or []:
                if name in results:
                    results[name].in_scope += 1
            for name in summary.get("failed") or []:
                if name in results:
                    results[name].in_scope += 1
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


def load(
    kind: str, path: Path, config: Mapping[str, Mapping[str, Any]] | None = None
) -> Evaluation:
    if kind == "preview-events":
        return load_preview_events(path, config)
    if kind == "plan":
        subjects, source = load_plan(path)
    elif kind == "stack-export":
        subjects, source = load_stack_export(path)
    else:  # pragma: no cover - argparse restricts the choices
        raise InputError(f"unknown input kind {kind}")
    return evaluate(subjects, source, config)


def enforcement_values() -> list[str]:
    return [level.value for level in EnforcementLevel]

"""The building blocks every control in this pack is made of.

A control is a pulumi-policy ``ResourceValidationPolicy`` or ``StackValidationPolicy``
that also carries what auditors need: severity, enforcement level, the framework
requirements it evidences, remediation steps and, for resource controls, the resource
types it inspects (so the offline evaluator can say "passed on 4 resources" rather
than just "no violation").

Control bodies receive a :class:`Resource` (or a :class:`Stack`) and a
:class:`Reporter`. They read properties with ``Resource.get`` (never raises; unknown
values come back as ``props.UNKNOWN``) and call ``reporter.skip(...)`` when a value
the decision depends on is unknown during preview. A skip is surfaced the way
pulumi-policy surfaces an unknown value (an advisory "can't run policy during
preview" note) and never fails the run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from . import waivers as W
from .model import Resource, Stack, region_of

# A resource control declared for ANY_TYPE sees every resource (the type allow-list).
ANY_TYPE = "*"
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
CRITICAL, HIGH, MEDIUM, LOW = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW


# --- framework mapping -------------------------------------------------------------------


@dataclass(frozen=True)
class Framework:
    key: str  # short id used in tags, e.g. "pci-dss"
    title: str  # e.g. "PCI DSS"
    version: str
    # True where infrastructure code can only ever evidence part of a requirement (PCI DSS
    # and SOC 2 are also about people and procedures): a pass is then "no automated
    # finding", never PASS.
    partial: bool = False


PCI_DSS = Framework("pci-dss", "PCI DSS", "4.0.1", partial=True)
SOC2 = Framework("soc2", "SOC 2 Trust Services Criteria", "2017 (rev. 2022)", partial=True)
CIS_AWS = Framework("cis-aws", "CIS AWS Foundations Benchmark", "3.0.0")
CIS_EKS = Framework("cis-eks", "CIS Amazon EKS Benchmark", "1.5.0")
AWS_FSBP = Framework("aws-fsbp", "AWS Foundational Security Best Practices", "current")

FRAMEWORKS: tuple[Framework, ...] = (PCI_DSS, SOC2, CIS_AWS, CIS_EKS, AWS_FSBP)


@dataclass(frozen=True)
class Ref:
    """One requirement of one framework that a control provides evidence for."""

    framework: Framework
    control_id: str
    title: str

    @property
    def tag(self) -> str:
        return f"{self.framework.key}:{self.control_id}"


def pci(control_id: str, title: str) -> Ref:
    return Ref(PCI_DSS, control_id, title)


def soc2(control_id: str, title: str) -> Ref:
    return Ref(SOC2, control_id, title)


def cis_aws(control_id: str, title: str) -> Ref:
    return Ref(CIS_AWS, control_id, title)


def cis_eks(control_id: str, title: str) -> Ref:
    return Ref(CIS_EKS, control_id, title)


def fsbp(control_id: str, title: str) -> Ref:
    return Ref(AWS_FSBP, control_id, title)


# --- control metadata -------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigOption:
    """One configurable threshold, exposed through the pack's config schema."""

    name: str
    schema: Mapping[str, Any]  # JSON schema of the value, must include "default"
    description: str

    @property
    def default(self) -> Any:
        return self.schema["default"]


@dataclass(frozen=True)
class ControlMeta:
    category: str  # "Encryption at rest", "Encryption in transit", ...
    severity: Severity
    enforcement: EnforcementLevel
    frameworks: tuple[Ref, ...]
    remediation: str
    # resource controls: the types validated; stack controls: the types inspected (scope)
    resource_types: tuple[str, ...] = ()
    config: tuple[ConfigOption, ...] = ()
    kind: str = "resource"  # or "stack"

    def config_schema(self) -> PolicyConfigSchema | None:
        if not self.config:
            return None
        properties = {
            option.name: {**option.schema, "description": option.description}
            for option in self.config
        }
        return PolicyConfigSchema(properties=properties)

    def config_values(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        values = {option.name: option.default for option in self.config}
        for key, value in (given or {}).items():
            if key in values and value is not None:
                values[key] = value
        return values


def _framework_field(refs: tuple[Ref, ...]) -> PolicyComplianceFramework | None:
    """pulumi-policy holds one framework per policy: the first (primary) mapping."""
    if not refs:
        return None
    first = refs[0]
    return PolicyComplianceFramework(
        name=first.framework.title,
        version=first.framework.version,
        reference=first.control_id,
        specification=first.title,
    )


# --- what control bodies see -------------------------------------------------------------


class Skip(Exception):
    """Raised through ``Reporter.skip``: the decision needs a value not known yet."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Note:
    """A check that was not (fully) evaluated, with why."""

    policy: str
    resource_type: str
    resource_name: str
    message: str


# Where notes go: the offline evaluator installs a list; under the Pulumi CLI they are
# written to the analyzer's stderr (shown with `pulumi preview -v=...` / logs).
NOTE_SINK: ContextVar[list[Note] | None] = ContextVar("policy_note_sink", default=None)


def _record_exemption(exemption: W.Exemption) -> None:
    sink = W.EXEMPTION_SINK.get()
    if sink is not None:
        sink.append(exemption)
    else:
        print(
            f"[{exemption.policy}] {exemption.resource_name}: exempted by waiver "
            f"{exemption.waiver}: {exemption.message}",
            file=sys.stderr,
        )


def emit_note(note: Note) -> None:
    sink = NOTE_SINK.get()
    if sink is not None:
        sink.append(note)
    else:
        print(
            f"[{note.policy}] {note.resource_type} {note.resource_name}: {note.message}",
            file=sys.stderr,
        )


class Reporter:
    """Collects what one control says about one resource (or the stack)."""

    def __init__(
        self,
        report_violation: ReportViolation,
        urn: str | None = None,
        policy: str = "",
        name: str | None = None,
    ) -> None:
        self._report = report_violation
        self._urn = urn
        self._name = name
        self._policy = policy
        self.count = 0

    def violation(self, message: str, resource: Resource | None = None) -> None:
        self.count += 1
        urn = resource.urn if resource is not None and resource.urn else self._urn
        name = resource.name if resource is not None else self._name
        waiver = W.find(self._policy, urn, name)
        if waiver is not None and not waiver.expired(W.today()):
            _record_exemption(W.Exemption(self._policy, urn or "", name or "", message, waiver.id))
            return
        if waiver is not None:
            message = f"{message} [waiver {waiver.id} expired on {waiver.expires.isoformat()}]"
        self._report(message, urn or None)

    def skip(self, what: str) -> None:
        """Stop evaluating: ``what`` is not known yet (e.g. during preview)."""
        raise Skip(f"{what} is not known yet (unknown during preview); not evaluated")

    @contextmanager
    def guard(self, resource: Resource) -> Iterator[None]:
        """In a stack control: a skip inside stops only this resource's check, with a note."""
        try:
            yield
        except Skip as skip:
            emit_note(Note(self._policy, resource.type, resource.name, skip.message))


def _raise_as_unknown(skip: Skip) -> None:
    """Hand a skip to pulumi-policy the way it expects unknowns to surface."""
    error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
    error.message = skip.message
    raise error from skip


# --- the policy classes ------------------------------------------------------------------

ResourceCheck = Callable[[Resource, Reporter, Mapping[str, Any]], None]
StackCheck = Callable[[Stack, Reporter, Mapping[str, Any]], None]


def _policy_fields(meta: ControlMeta) -> dict[str, Any]:
    """What the engine shows for a control, the same for resource and stack policies."""
    return {
        "enforcement_level": meta.enforcement,
        "config_schema": meta.config_schema(),
        "severity": meta.severity,
        "framework": _framework_field(meta.frameworks),
        "tags": [meta.category, *(ref.tag for ref in meta.frameworks)],
        "remediation_steps": meta.remediation,
    }


class ControlResourcePolicy(ResourceValidationPolicy):
    meta: ControlMeta

    def __init__(self, name: str, description: str, meta: ControlMeta, check: ResourceCheck):
        self.meta = meta
        self.check = check
        super().__init__(
            name=name, description=description, validate=self._validate, **_policy_fields(meta)
        )

    def applies_to(self, resource_type: str) -> bool:
        types = self.meta.resource_types
        return ANY_TYPE in types or resource_type in types

    def _validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not self.applies_to(args.resource_type):
            # Reported to the engine as "not applicable", so a preview's per-resource policy
            # summary does not count this control as passed on unrelated resources.
            args.not_applicable(f"applies to {', '.join(self.meta.resource_types)}")
        region = region_of(args.props, args.provider)
        resource = Resource(
            type=args.resource_type,
            name=args.name,
            props=args.props,
            urn=args.urn,
            region=region,
        )
        reporter = Reporter(report_violation, args.urn, self.name, args.name)
        self.run(resource, reporter, args.get_config())

    def run(self, resource: Resource, reporter: Reporter, config: Mapping[str, Any] | None) -> None:
        try:
            self.check(resource, reporter, self.meta.config_values(config))
        except Skip as skip:
            _raise_as_unknown(skip)


class ControlStackPolicy(StackValidationPolicy):
    meta: ControlMeta

    def __init__(self, name: str, description: str, meta: ControlMeta, check: StackCheck):
        self.meta = meta
        self.check = check
        super().__init__(
            name=name, description=description, validate=self._validate, **_policy_fields(meta)
        )

    def _validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = _stack_for(args.resources)
        scope = self.meta.resource_types
        if scope and not stack.of_type(*scope):
            args.not_applicable(f"no {', '.join(scope)} in the stack")
        self.run(stack, Reporter(report_violation, None, self.name), args.get_config())

    def run(self, stack: Stack, reporter: Reporter, config: Mapping[str, Any] | None) -> None:
        try:
            self.check(stack, reporter, self.meta.config_values(config))
        except Skip as skip:
            _raise_as_unknown(skip)
        except Exception as exc:
            # pulumi-policy turns this into its advisory "can't run policy" diagnostic: the
            # control is reported as not run, never as a silent pass.
            _raise_as_unknown(Skip(f"the check could not run ({type(exc).__name__}: {exc})"))


_LAST_STACK: list[tuple[Any, Stack]] = []


def _stack_for(resources: Any) -> Stack:
    """The stack view of ``resources``, reused while the same list is validated again.

    The offline evaluator hands every stack control the same list; the entry keeps that
    list alive, so its identity cannot be reused by another list while it is cached.
    """
    if _LAST_STACK and _LAST_STACK[0][0] is resources:
        return _LAST_STACK[0][1]
    stack = Stack.from_policy_resources(resources)
    _LAST_STACK[:] = [(resources, stack)]
    return stack


Control = ControlResourcePolicy | ControlStackPolicy

REGISTRY: list[Control] = []


def _register(policy: Control) -> None:
    if any(existing.name == policy.name for existing in REGISTRY):
        raise ValueError(f"duplicate policy name {policy.name}")
    REGISTRY.append(policy)


def resource_control(
    *,
    name: str,
    description: str,
    resource_types: Iterable[str],
    category: str,
    severity: Severity,
    enforcement: EnforcementLevel,
    frameworks: Iterable[Ref],
    remediation: str,
    config: Iterable[ConfigOption] = (),
) -> Callable[[ResourceCheck], ControlResourcePolicy]:
    """Declare a resource control; the decorated function is its check."""

    def wrap(check: ResourceCheck) -> ControlResourcePolicy:
        meta = ControlMeta(
            category=category,
            severity=severity,
            enforcement=enforcement,
            frameworks=tuple(frameworks),
            remediation=remediation,
            resource_types=tuple(resource_types),
            config=tuple(config),
        )
        policy = ControlResourcePolicy(name, description, meta, check)
        _register(policy)
        return policy

    return wrap


def stack_control(
    *,
    name: str,
    description: str,
    category: str,
    severity: Severity,
    enforcement: EnforcementLevel,
    frameworks: Iterable[Ref],
    remediation: str,
    scope: Iterable[str] = (),
    config: Iterable[ConfigOption] = (),
) -> Callable[[StackCheck], ControlStackPolicy]:
    """Declare a stack control (one that needs to see several resources at once)."""

    def wrap(check: StackCheck) -> ControlStackPolicy:
        meta = ControlMeta(
            category=category,
            severity=severity,
            enforcement=enforcement,
            frameworks=tuple(frameworks),
            remediation=remediation,
            resource_types=tuple(scope),
            config=tuple(config),
            kind="stack",
        )
        policy = ControlStackPolicy(name, description, meta, check)
        _register(policy)
        return policy

    return wrap

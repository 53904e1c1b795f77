"""The base of every AWS scenario: context, options, the four phases and polling.

Each scenario is an `AwsScenario`; the drill runner (or a caller that wraps load around
it) calls `pre_check()`, `inject()`, `wait_recovered()` and `rollback()` in that order.
Every AWS/Kubernetes/HTTP call goes through `ctx.calls` (see calls.py), so a dry run
prints the exact calls and makes none.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import httpx

from chaos.aws.calls import CallLayer
from chaos.aws.kube import KubeApi
from chaos.aws.outputs import StackOutputs

T = TypeVar("T")



class PreCheckFailed(Exception):
    """Steady state does not hold before the fault: abort without injecting anything."""


class NotRecovered(Exception):
    """The system did not return to steady state within the timeout."""


@dataclass
class DrillOptions:
    dry_run: bool = False
    allow_data_loss: bool = False
    switch_back: bool = False
    zone: str | None = None
    recovery_timeout_s: float | None = None
    poll_interval_s: float = 5.0
    fis_duration: str = "PT10M"


@dataclass
class AwsContext:
    outputs: StackOutputs
    calls: CallLayer
    options: DrillOptions = field(default_factory=DrillOptions)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=5.0))
    session: Any = None
    kube_factory: Callable[[AwsContext], KubeApi] | None = None
    token: Callable[[], str] = field(default_factory=lambda: lambda: str(uuid.uuid4()))
    _kube: KubeApi | None = None

    @property
    def dry_run(self) -> bool:
        return self.calls.dry_run

    def emit(self, line: str) -> None:
        self.calls.emit(line)

    def kube(self) -> KubeApi:
        if self._kube is None:
            if self.kube_factory is not None:
                self._kube = self.kube_factory(self)
            else:
                self._kube = KubeApi.for_eks(
                    self.calls,
                    cluster_name=self.outputs.eks_cluster_name,
                    region=self.outputs.primary_region,
                    session=self.session,
                )
        return self._kube


class AwsScenario:
    """Base: hypothesis / method / rollback of one scenario against the deployed stack."""

    aws_fault: ClassVar[str]  # the AWS method, in one sentence
    supported: ClassVar[bool] = True
    default_timeout_s: ClassVar[float] = 600.0

    def __init__(self, ctx: AwsContext, name: str, title: str, hypothesis: str) -> None:
        # Name, title and hypothesis come from the scenario catalogue (chaos/catalogue.py).
        self.name = name
        self.title = title
        self.hypothesis = hypothesis
        self.ctx = ctx
        self.out = ctx.outputs
        self.facts: dict[str, Any] = {}
        self.notes: list[str] = []
        self.injected = False
        self._deadline = 0.0

    # -- the four phases -------------------------------------------------------------
    def refusal(self) -> str | None:
        """A reason to refuse the scenario outright (before any call), or None."""
        return None

    def pre_check(self) -> None:
        self.require_endpoint_ready()

    def inject(self) -> None:
        raise NotImplementedError

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        self.wait_endpoint_ready()

    def rollback(self) -> None:
        """Undo what the fault left behind; default: nothing to undo."""

    # -- helpers ---------------------------------------------------------------------
    def aws(self, service: str, operation: str, region: str | None = None, **params: Any) -> Any:
        return self.ctx.calls.aws(
            service, operation, region=region or self.out.primary_region, **params
        )

    def require(self, condition: object, message: str) -> None:
        """Pre-check assertion; a dry run cannot know, so it checks nothing."""
        if not self.ctx.dry_run and not condition:
            raise PreCheckFailed(message)

    def known(self, value: T | None, placeholder: str) -> T | str:
        """`value`, or in a dry run the placeholder that stands for it."""
        if value is None or value == "":
            return placeholder
        return value

    def default_timeout(self) -> float:
        return self.default_timeout_s

    def start_deadline(self, timeout_s: float | None) -> None:
        timeout = timeout_s or self.ctx.options.recovery_timeout_s or self.default_timeout()
        self.facts["recovery_timeout_s"] = timeout
        self._deadline = self.ctx.calls.clock.monotonic() + timeout

    def poll(self, what: str, probe: Callable[[], T | None], placeholder: Any = None) -> T:
        """Call `probe` every poll interval until it returns a value other than None/False."""
        clock = self.ctx.calls.clock
        interval = self.ctx.options.poll_interval_s
        if self.ctx.dry_run:
            probe()
            remaining = max(0.0, self._deadline - clock.monotonic())
            self.ctx.emit(
                f"#   ...repeated every {interval:g}s until {what} (timeout {remaining:.0f}s)"
            )
            return placeholder
        while True:
            result = probe()
            if result is not None and result is not False:
                return result
            if clock.monotonic() >= self._deadline:
                raise NotRecovered(f"timed out waiting until {what}")
            clock.sleep(interval)

    def endpoint_ready(self) -> bool:
        url = self.out.api_endpoint.rstrip("/") + "/health/ready"
        try:
            response = self.ctx.calls.http(self.ctx.http, "http", "GET", url)
        except httpx.HTTPError:
            return False
        return response is not None and response.status_code == 200

    def require_endpoint_ready(self) -> None:
        ready = self.endpoint_ready()
        self.require(ready, f"steady state does not hold: {self.out.api_endpoint}/health/ready "
                            "is not 200 before the fault")

    def wait_endpoint_ready(self) -> None:
        self.poll(f"{self.out.api_endpoint}/health/ready answers 200", self.endpoint_ready)

    def plan(self) -> list[str]:
        return [f"hypothesis: {self.hypothesis}", f"fault: {self.aws_fault}"]


def first(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return items[0] if items else {}


class Unsupported(AwsScenario):
    """A scenario with no AWS implementation; `reason` (from the catalogue) says why."""

    supported = False
    aws_fault = "none"

    def __init__(
        self, ctx: AwsContext, name: str, title: str, hypothesis: str, reason: str
    ) -> None:
        super().__init__(ctx, name, title, hypothesis)
        self.reason = reason

    def inject(self) -> None:  # pragma: no cover - never called for unsupported scenarios
        raise NotImplementedError(self.reason)

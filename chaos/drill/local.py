"""The local HA stack (chaos.stack) as the drill's system under test.

`local_stack()` uses the stack running from the state directory, or brings one up (with
Prometheus and Alertmanager, so the drill observes the alerts) and stops it afterwards
(unless `keep`); a stack that was already up is left up, and without monitoring its alerts
are not observed. `StackTarget` maps
the scenarios' fault vocabulary onto `chaos.stack.Stack`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from chaos.drill.alerting import alertmanager_source
from chaos.drill.loadgen import read_secret
from chaos.drill.runner import DrillEnv
from chaos.stack.state import MONITORING_KINDS

if TYPE_CHECKING:
    from chaos.stack import Stack


class LocalStackError(RuntimeError):
    """The local stack could not be brought up or used; the message says why."""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class StackTarget:
    """`chaos.drill.methods.Target` over a `chaos.stack.Stack`."""

    def __init__(self, stack: Stack, zone: str | None = None,
                 component_timeout: float = 90.0) -> None:
        self.stack = stack
        self.zone = zone
        self.component_timeout = component_timeout

    def pg_leader(self) -> str:
        leader = self.stack.pg_leader()
        if leader is None:
            raise RuntimeError("no PostgreSQL leader right now (failover in progress?)")
        return leader

    def redis_primary(self) -> str:
        primary = self.stack.redis_primary()
        if primary is None:
            raise RuntimeError("no Redis primary agreed by a Sentinel majority right now")
        return primary

    def components(self, *, zone: str | None = None, kind: str | None = None) -> list[str]:
        return [c.name for c in self.stack.components(zone=zone, kind=kind)]

    def zone_of(self, name: str) -> str | None:
        return self.stack.component(name).zone

    def observers(self) -> list[str]:
        return [c.name for c in self.stack.state.components if c.kind in MONITORING_KINDS]

    def kill(self, name: str, sig: int = signal.SIGKILL, *, part: str | None = None) -> None:
        stack_part = {None: "all", "postmaster": "postmaster", "patroni": "process"}[part]
        self.stack.kill(name, sig, part=stack_part)

    def freeze(self, name: str) -> None:
        self.stack.freeze(name)

    def thaw(self, name: str) -> None:
        self.stack.thaw(name)

    def partition(self, side_a: str, side_b: str) -> str:
        return self.stack.partition(side_a, side_b)

    def heal(self, handle: str | None = None) -> None:
        # None: every partition, and the full rollback (thaw, restart, wait until healthy).
        self.stack.heal(handle, timeout=self.component_timeout)

    def ensure_running(self, name: str) -> None:
        # A Patroni node whose postmaster was killed restarts PostgreSQL by itself (as a
        # replica, via pg_rewind); start_component is a no-op for running components.
        self.stack.start_component(name, timeout=self.component_timeout)


def default_state_dir() -> Path:
    from chaos.stack import DEFAULT_STATE_DIR

    return Path(os.environ.get("CHAOS_STACK_DIR") or DEFAULT_STATE_DIR)


def env_for(stack: Stack, zone: str | None = None,
            say: Callable[[str], None] = _stderr) -> DrillEnv:
    ep = stack.endpoints
    if not ep.get("api_url"):
        raise LocalStackError(
            f"the stack in {stack.state_dir} runs without the service "
            f"({'; '.join(stack.state.skipped) or 'data-only'}); drills need the API"
        )
    if not ep.get("queue_url"):
        raise LocalStackError(f"the stack in {stack.state_dir} runs without the SQS endpoint")

    def wait_healthy(timeout: float) -> None:
        stack.wait_healthy(timeout)

    alertmanager_url = ep.get("alertmanager_url")
    if not alertmanager_url:
        say(f"drill: the stack in {stack.state_dir} runs without Prometheus/Alertmanager: "
            "alerts are not observed (it was brought up with `--no-monitoring`)")

    return DrillEnv(
        target=StackTarget(stack, zone),
        api_url=str(ep["api_url"]),
        jwt_secret=read_secret(Path(ep["jwt_secret_path"])),
        # The primary through HAProxy, in read-only sessions: a replica may lag behind what
        # was acknowledged (synchronous_commit=on waits for the standby's flush, not replay).
        database_url=str(ep["database_url_app"]),
        wait_healthy=wait_healthy,
        sqs_endpoint_url=ep.get("sqs_endpoint_url"),
        queue_url=ep.get("queue_url"),
        service_env=stack.app_env(),
        heal=lambda timeout: stack.heal(timeout=timeout),
        alert_source=alertmanager_source(str(alertmanager_url)) if alertmanager_url else None,
        say=say,
    )


@contextlib.contextmanager
def local_stack(
    state_dir: str | Path | None = None,
    *,
    keep: bool = False,
    zone: str | None = None,
    healthy_timeout: float = 180.0,
    say: Callable[[str], None] = _stderr,
) -> Iterator[DrillEnv]:
    """A DrillEnv on the local stack; starts (and afterwards stops) one when none is up."""
    from chaos.stack import Stack, StackError

    path = Path(state_dir) if state_dir else default_state_dir()
    stack: Stack | None = None
    started = False
    with contextlib.suppress(StackError):
        existing = Stack.load(path)
        if existing.running():
            stack = existing
    if stack is None:
        say(f"drill: bringing the local HA stack up in {path}")
        try:
            # Monitoring on: the drill proves the alerts (Prometheus + Alertmanager).
            stack = Stack.up(path, app=True, monitoring=True,
                             progress=lambda m: say(f"  stack: {m}"), timeout=healthy_timeout)
        except StackError as exc:
            raise LocalStackError(f"could not bring the stack up: {exc}") from exc
        started = True
    else:
        say(f"drill: using the stack already running from {path} (it stays up)")
        health = stack.health()
        if not health.steady:
            say("drill: stack not steady (" + "; ".join(health.problems) + "); healing")
            try:
                stack.heal(timeout=healthy_timeout)
            except StackError as exc:
                raise LocalStackError(f"the running stack is not healthy: {exc}") from exc
    try:
        yield env_for(stack, zone, say)
    finally:
        if started and not keep:
            say("drill: stopping the stack this drill started")
            stack.down(progress=lambda m: say(f"  stack: {m}"))
        elif started:
            say(f"drill: stack left running (--keep-stack); stop it with: "
                f"python -m chaos stack down --state-dir {path}")

"""What every component kind provides, and the planning context drivers fill in.

A driver is stateless: it gets the stack (facade) and the component record and answers for
its kind: plan (ports, paths, config files, argv), environment, start, probe, signal targets
for faults, and clean-up after a stop. The defaults suit a plain long-running process.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from chaos.stack.errors import ComponentFailed, StackError
from chaos.stack.network import Network
from chaos.stack.proc import cmdline, is_ours, start_ticks
from chaos.stack.state import Component
from localenv.procs import ManagedProcess, free_port, pid_alive

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

REPO_ROOT = Path(__file__).resolve().parents[3]


def binary(path: str, package: str) -> str:
    found = shutil.which(path) or path
    if not Path(found).exists():
        raise StackError(f"{path} not found; run: make sysdeps (installs {package})")
    return found


def postgres_bin_dir(version: str = "15") -> Path:
    path = Path(f"/usr/lib/postgresql/{version}/bin")
    if not (path / "postgres").exists():
        raise StackError(f"PostgreSQL {version} not found at {path}; run: make sysdeps")
    return path


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


class Ports:
    """Distinct free ports (free_port alone may hand out one port twice). Ports stay unique
    across the stack even with namespaces, so a port names its component."""

    def __init__(self) -> None:
        self.taken: set[int] = set()

    def take(self) -> int:
        while True:
            port = free_port()
            if port not in self.taken:
                self.taken.add(port)
                return port


@dataclass
class PlanOptions:
    app: bool = True
    sqs: bool = True
    integrator: bool = False
    monitoring: bool = False
    network: str = "loopback"
    backup: bool = False  # pgBackRest: WAL archiving + a repository (chaos.stack.backup)


@dataclass
class PlanContext:
    state_dir: Path
    options: PlanOptions
    network: Network
    ports: Ports = field(default_factory=Ports)
    components: list[Component] = field(default_factory=list)
    endpoints: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, kind: str, zone: str | None, argv: list[str], match: str,
            ports: dict[str, int], **paths: str) -> Component:
        comp_dir = self.state_dir / name
        comp_dir.mkdir(parents=True, exist_ok=True)
        host, netns = (
            ("127.0.0.1", None) if driver_for_kind(kind).observer
            else self.network.assign(name, zone)
        )
        comp = Component(
            name=name, kind=kind, zone=zone, argv=argv, log=str(comp_dir / f"{kind}.log"),
            match=match, ports=ports, paths={"dir": str(comp_dir), **paths},
            host=host, netns=netns,
        )
        self.components.append(comp)
        return comp

    def of_kind(self, kind: str) -> list[Component]:
        return [c for c in self.components if c.kind == kind]


class Driver:
    kind: ClassVar[str] = ""
    # Observers (Prometheus, Alertmanager) run on the host's loopback, outside partitions.
    observer: ClassVar[bool] = False
    # `down` stops tiers in order: 0 (apps, monitoring) ... 3 (etcd, last).
    stop_tier: ClassVar[int] = 0

    def plan(self, ctx: PlanContext) -> None:
        raise NotImplementedError

    def finish_plan(self, ctx: PlanContext) -> None:
        """Runs once every kind is planned (for configs that name other components)."""

    def env(self, stack: Stack, comp: Component) -> dict[str, str]:
        return dict(os.environ) | comp.env

    def before_start(self, stack: Stack, comp: Component, timeout: float) -> None:
        """Rewrite configs that must be fresh at every start (default: nothing)."""

    def start(self, stack: Stack, comp: Component, timeout: float) -> int:
        """Start the process (in its namespace) and return its PID."""
        argv = stack.network.wrap(comp.netns, comp.argv)
        process = ManagedProcess(comp.name, argv, Path(comp.log),
                                 env=self.env(stack, comp), cwd=Path(comp.paths["dir"]))
        process.start()
        stack.remember(comp.name, process)
        assert process.pid is not None
        return process.pid

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        return True, "running"

    def await_ready(self, stack: Stack, comp: Component, timeout: float) -> None:
        stack.await_condition(f"{comp.name} healthy", lambda: self.probe(stack, comp)[0],
                              timeout, [comp])

    def signal_targets(self, stack: Stack, comp: Component, part: str) -> list[tuple[int, bool]]:
        """(pid, whole process group?) to signal for a fault; `part` is all | process |
        postmaster (only Patroni nodes have a separate postmaster)."""
        if part == "postmaster":
            raise ValueError(f"{comp.name} is a {comp.kind}, it has no postmaster")
        if comp.pid and is_ours(comp.pid, comp.match, comp.start_ticks):
            return [(comp.pid, True)]
        return []

    def still_alive(self, stack: Stack, comp: Component) -> bool:
        """A part that outlives the recorded process (Patroni's postmaster)."""
        return False

    def after_stop(self, stack: Stack, comp: Component, timeout: float) -> None:
        """Clean up what the process group stop did not reach."""


def record_start(stack: Stack, comp: Component, pid: int) -> None:
    """Record the PID; wait until the child has exec()ed (until then it shows our own
    command line) so that a `down` right after recognises it."""
    comp.pid = pid
    comp.start_ticks = start_ticks(pid)
    comp.started_at = time.time()
    stack.save()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and pid_alive(pid):
        if comp.match in (cmdline(pid) or ""):
            break
        time.sleep(0.01)


def failed(comp: Component, message: str) -> ComponentFailed:
    return ComponentFailed(comp.name, f"{message}; see {comp.log}:\n{tail(Path(comp.log))}")


_REGISTRY: dict[str, Driver] = {}


def register(driver: Driver) -> Driver:
    _REGISTRY[driver.kind] = driver
    return driver


def driver_for_kind(kind: str) -> Driver:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise StackError(f"no driver for component kind {kind!r}") from None

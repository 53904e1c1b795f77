"""The local HA stack as one object: etcd + 3 Patroni/PostgreSQL 15 nodes + HAProxy, Redis
primary/replica + 3 Sentinels, the local SQS endpoint, the service (3 APIs, 2 relays, 1
worker; optionally 2 audit integrators) and optionally Prometheus + Alertmanager.

`Stack.up()` starts it and records every process in `<state_dir>/state.json`;
`Stack.load()` gives a drill (or `down`, after a crash) the same handle from another process.
This facade delegates: each component kind has a driver (`chaos.stack.drivers`), the plan
module decides what runs, `lifecycle` starts and stops, `health` judges the steady state and
`faults` injects kills, freezes and network partitions. Every signal goes only to processes
whose PID, start time and command line still match the record.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from chaos.stack import faults, lifecycle, plan
from chaos.stack.drivers import alertmanager, driver_for, patroni, prometheus, sentinel
from chaos.stack.drivers.base import REPO_ROOT, PlanOptions
from chaos.stack.drivers.service import app_env
from chaos.stack.errors import (
    ComponentFailed,
    Progress,
    StackError,
    StackUnhealthy,
    quiet,
)
from chaos.stack.health import Health, check
from chaos.stack.network import Network, choose_mode
from chaos.stack.proc import is_ours, signal_group
from chaos.stack.state import Component, StackState, load_state, save_state, state_path
from localenv.procs import pid_alive

DEFAULT_STATE_DIR = REPO_ROOT / "var" / "stack"

__all__ = ["DEFAULT_STATE_DIR", "ComponentFailed", "Health", "Stack", "StackError",
           "StackUnhealthy"]


class Stack:
    def __init__(self, state: StackState) -> None:
        self.state = state
        self.state_dir = Path(state.state_dir)
        self.lock = threading.RLock()
        # Handles of processes this Python process started, polled so they never linger as
        # zombies (a zombie keeps answering `kill -0`).
        self._handles: dict[str, Any] = {}

    # ---------------------------------------------------------------- construction
    @classmethod
    def load(cls, state_dir: Path | str | None = None) -> Stack:
        state_dir = Path(state_dir or DEFAULT_STATE_DIR).resolve()
        state = load_state(state_dir)
        if state is None:
            raise StackError(f"no stack state in {state_path(state_dir)} (run: make stack-up)")
        return cls(state)

    @classmethod
    def up(
        cls,
        state_dir: Path | str | None = None,
        *,
        app: bool | None = None,
        sqs: bool = True,
        integrator: bool | None = None,
        monitoring: bool | None = None,
        network: str = "auto",
        backup: bool = False,
        progress: Progress | None = None,
        timeout: float = 90.0,
    ) -> Stack:
        """Start the stack on fresh free ports in `state_dir` (default var/stack/).

        app=False is the data tier only; sqs=False skips the SQS endpoint (and with it the
        relays and the worker). integrator and monitoring (the audit integrators;
        Prometheus + Alertmanager) default to on whenever the service runs. backup:
        pgBackRest (WAL archiving from the leader, a local encrypted repository; see
        chaos.stack.backup), off by default. network:
        "netns" (each zonal component in its own network namespace, needed for partitions;
        root only), "loopback", or "auto" (netns when root). On any failure everything
        started is stopped and ComponentFailed names the component."""
        say = progress or quiet
        started = time.monotonic()
        state_dir = Path(state_dir or DEFAULT_STATE_DIR).resolve()
        previous = load_state(state_dir)
        if previous is not None:
            running = cls(previous).running()
            if running:
                raise StackError(
                    f"a stack is already running from {state_dir} ({', '.join(running)}); "
                    "run `python -m chaos stack down` first"
                )
            cls(previous).release_network()
        with_app = app is not False
        options = PlanOptions(
            app=with_app, sqs=sqs,
            integrator=with_app if integrator is None else integrator,
            monitoring=with_app if monitoring is None else monitoring,
            network=choose_mode(network), backup=backup,
        )
        plan.prepare_state_dir(state_dir)
        network_plan = Network.plan(options.network, state_dir)
        stack = cls(plan.build(state_dir, options, network_plan))
        stack.save()  # before creating anything, so `down` can undo it after a crash
        for line in stack.state.skipped:
            say(f"skipping {line}")
        try:
            stack.network.create()
            say(f"network: {stack.network.mode}"
                + (f" (bridge {stack.network.bridge})" if stack.network.isolated else ""))
            lifecycle.bring_up(stack, say, timeout, started)
        except BaseException as exc:
            say(f"start-up failed ({exc.__class__.__name__}); stopping what was started")
            with contextlib.suppress(Exception):
                stack.down(progress=say)
            raise
        stack.state.endpoints["up_seconds"] = round(time.monotonic() - started, 1)
        stack.save()
        say(f"stack up in {time.monotonic() - started:.1f}s; state in {state_path(state_dir)}")
        return stack

    # ---------------------------------------------------------------- queries
    @property
    def endpoints(self) -> dict[str, Any]:
        return self.state.endpoints

    @property
    def network(self) -> Network:
        return Network.from_json(self.state.network)

    def components(self, zone: str | None = None, kind: str | None = None) -> list[Component]:
        return [
            c for c in self.state.components
            if (zone is None or c.zone == zone) and (kind is None or c.kind == kind)
        ]

    def component(self, name: str) -> Component:
        for comp in self.state.components:
            if comp.name == name:
                return comp
        raise StackError(
            f"no component {name!r} (have: {', '.join(c.name for c in self.state.components)})"
        )

    def is_running(self, name: str) -> bool:
        self.reap()
        comp = self.component(name)
        return is_ours(comp.pid, comp.match, comp.start_ticks)

    def running(self) -> list[str]:
        """Components with a live process of ours (for Patroni: or its postmaster)."""
        return [
            c.name for c in self.state.components
            if self.is_running(c.name) or driver_for(c).still_alive(self, c)
        ]

    def postmaster_pid(self, name: str) -> int | None:
        return patroni.postmaster_pid(self.component(name))

    def pg_cluster(self) -> list[dict[str, Any]]:
        return patroni.cluster(self)

    def pg_leader(self) -> str | None:
        """Name of the running Patroni leader, or None during a failover."""
        return patroni.leader(self)

    def pg_write_probe(self) -> tuple[bool, str]:
        return patroni.write_probe(self)

    def pg_writable_nodes(self) -> list[str]:
        """Nodes whose PostgreSQL is a primary right now, asked directly (split-brain check)."""
        return patroni.writable_nodes(self)

    def redis_primary(self) -> str | None:
        """The Redis component a majority of the live Sentinels names as primary."""
        comp = sentinel.primary_component(self)
        return comp.name if comp else None

    def sentinel_majority(self) -> int | None:
        return sentinel.majority(self)

    def app_env(self) -> dict[str, str]:
        """ORDERS_* environment for service CLIs (token, audit verify, the checker)."""
        return app_env(self)

    def alerts(self) -> list[dict[str, Any]]:
        """What the Alertmanager holds: {name, severity, state, starts_at, ends_at, labels}."""
        return alertmanager.alerts(self)

    def prometheus_query(self, expr: str) -> list[dict[str, Any]]:
        return prometheus.query(self, expr)

    def reload_rules(self) -> None:
        """Make Prometheus re-read its rule files (e.g. after adding one)."""
        prometheus.reload(self)

    # ---------------------------------------------------------------- faults
    def kill(self, name: str, sig: int = signal.SIGKILL, *, part: str = "all",
             wait: bool = True) -> list[int]:
        """Signal a component's process group. For a Patroni node `part` chooses: "process"
        (Patroni only), "postmaster" (PostgreSQL only: db-primary-kill) or "all" (both: node
        loss). After SIGKILL it waits (bounded) until the processes are gone. Returns the
        PIDs signalled."""
        return faults.kill(self, name, sig, part, wait)

    def kill_zone(self, zone: str, sig: int = signal.SIGKILL) -> list[str]:
        return faults.kill_zone(self, zone, sig)

    def freeze(self, name: str) -> list[int]:
        """SIGSTOP: the process hangs without losing state. Undo with thaw()."""
        return self.kill(name, signal.SIGSTOP)

    def thaw(self, name: str) -> list[int]:
        return self.kill(name, signal.SIGCONT)

    def partition(self, side_a: str, side_b: str) -> str:
        """Cut all traffic between two groups (`zone:a`, `kind:api`, `kind:api@c`, a name,
        a comma-separated union, or `*` for everything else), both ways, while their
        processes keep running. Returns a handle for heal(). Needs network isolation."""
        return faults.partition(self, side_a, side_b)

    def partitions(self) -> dict[str, dict[str, Any]]:
        return dict(self.state.partitions)

    def heal(self, handle: str | None = None, *, timeout: float = 90.0) -> Health | None:
        """With a handle: undo that partition (idempotent). Without: the rollback after any
        fault: undo every partition, thaw frozen processes, start every component that is
        down (the Sentinels' current Redis primary before its replica), wait_healthy."""
        if handle is not None:
            faults.heal_partitions(self, handle)
            return None
        deadline = time.monotonic() + timeout
        faults.heal_partitions(self)
        for comp in self.state.components:
            if self.is_running(comp.name) and comp.pid:
                signal_group(comp.pid, signal.SIGCONT)
        primary = self.sentinel_majority()
        order = sorted(self.state.components,
                       key=lambda c: c.kind == "redis" and c.ports.get("redis") != primary)
        for comp in order:
            if not self.is_running(comp.name):
                self.start_component(comp.name, max(5.0, deadline - time.monotonic()))
        return self.wait_healthy(max(5.0, deadline - time.monotonic()))

    # ---------------------------------------------------------------- start / stop
    def stop_component(self, name: str, timeout: float = 30.0) -> None:
        """Graceful stop (SIGTERM, SIGKILL after `timeout`); for Patroni also any postmaster
        it left behind. Note: the SQS endpoint keeps its queues in memory only."""
        lifecycle.stop_all(self, [self.component(name)], timeout)

    def start_component(self, name: str, timeout: float = 60.0) -> None:
        """Start a component that is not running (no-op if it is) and wait until it is
        healthy. A Redis server comes back as a replica of the current primary."""
        with self.lock:
            comp = self.component(name)
            if self.is_running(name):
                return
            lifecycle.launch(self, comp, timeout)
            driver_for(comp).await_ready(self, comp, timeout)

    def restart(self, name: str, timeout: float = 60.0) -> None:
        self.stop_component(name)
        self.start_component(name, timeout)

    # ---------------------------------------------------------------- health
    def health(self) -> Health:
        return check(self)

    def wait_healthy(self, timeout: float = 90.0, interval: float = 0.5) -> Health:
        """Block until steady state: a PG leader accepting writes through HAProxy, every
        replica streaming (one synchronous), a Redis primary named by a Sentinel majority
        with its replica linked, every process up and healthy, no partition active. Raises
        StackUnhealthy."""
        deadline = time.monotonic() + timeout
        while True:
            report = self.health()
            if report.steady or time.monotonic() >= deadline:
                break
            time.sleep(interval)
        if not report.steady:
            raise StackUnhealthy(report.problems, timeout)
        return report

    # ---------------------------------------------------------------- shutdown
    def down(self, progress: Progress | None = None, timeout: float = 30.0) -> None:
        """Heal every partition, stop everything `up` (or a drill) started, verified by PID
        + start time + command line, in tiers (etcd last), then remove the namespaces and
        the bridge."""
        say = progress or quiet
        with contextlib.suppress(StackError):
            faults.remove_rules(self.network)
        self.state.partitions.clear()
        lifecycle.stop_tiers(self, say, timeout)
        for comp in self.state.components:
            comp.pid = None
            comp.start_ticks = None
        self.save()
        left_network = self.release_network()
        left = self.leftover_pids()
        if left or left_network:
            say(f"warning: still present under {self.state_dir}: {left} {left_network}")
        else:
            say("stack stopped")

    def release_network(self) -> list[str]:
        """Remove this stack's nftables tables, namespaces and bridge; what is left."""
        network = self.network
        with contextlib.suppress(StackError):
            faults.remove_rules(network)
        return network.destroy()

    def leftover_pids(self) -> list[int]:
        """Processes whose working directory lies in the state dir: every component runs
        with its cwd there, and PostgreSQL backends chdir to their data dir."""
        root = str(self.state_dir)
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if (cwd == root or cwd.startswith(root + "/")) and pid_alive(int(entry.name)):
                found.append(int(entry.name))
        return found

    # ---------------------------------------------------------------- for drivers
    def save(self) -> None:
        with self.lock:
            save_state(self.state)

    def reap(self) -> None:
        for handle in list(self._handles.values()):
            popen = getattr(handle, "_popen", None)
            if popen is not None:
                popen.poll()

    def remember(self, name: str, handle: Any) -> None:
        self._handles[name] = handle

    def await_condition(self, what: str, condition: Callable[[], bool], timeout: float,
                        comps: Iterable[Component] = ()) -> None:
        lifecycle.await_condition(self, what, condition, timeout, comps)

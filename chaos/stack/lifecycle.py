"""Starting, awaiting and stopping components: the order `up` brings the stack up in, and
the verified stop `down` and `stop_component` use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from chaos.stack import backup, probes
from chaos.stack.drivers import driver_for, patroni
from chaos.stack.drivers.base import REPO_ROOT, record_start, tail
from chaos.stack.drivers.service import app_env
from chaos.stack.errors import ComponentFailed, Progress
from chaos.stack.health import redis_problems
from chaos.stack.proc import is_ours, orphaned_group, signal_group, terminate_group
from chaos.stack.state import APP_KINDS, MONITORING_KINDS, Component

if TYPE_CHECKING:
    from chaos.stack.stack import Stack


def launch(stack: Stack, comp: Component, timeout: float) -> None:
    driver = driver_for(comp)
    driver.before_start(stack, comp, timeout)
    pid = driver.start(stack, comp, timeout)
    record_start(stack, comp, pid)


def await_condition(stack: Stack, what: str, check: Callable[[], bool], timeout: float,
                    comps: Iterable[Component] = ()) -> None:
    """Poll `check` until true; ComponentFailed (with log tails) if one of `comps` exits or
    the time runs out."""
    comps = list(comps)
    deadline = time.monotonic() + timeout
    while not check():
        for comp in comps:
            if not is_ours(comp.pid, comp.match, comp.start_ticks):
                raise ComponentFailed(
                    comp.name,
                    f"exited while waiting for {what}; see {comp.log}:\n{tail(Path(comp.log))}",
                )
        if time.monotonic() >= deadline:
            logs = "".join(f"\n--- {c.log}:\n{tail(Path(c.log))}" for c in comps)
            name = comps[0].name if len(comps) == 1 else what
            raise ComponentFailed(name, f"not healthy within {timeout:.0f}s ({what}){logs}")
        time.sleep(0.1)


def start_and_await(stack: Stack, comps: list[Component], timeout: float) -> None:
    for comp in comps:
        launch(stack, comp, timeout)
    for comp in comps:
        driver_for(comp).await_ready(stack, comp, timeout)


def bring_up(stack: Stack, say: Progress, timeout: float, started: float) -> None:
    def log(message: str) -> None:
        say(f"[{time.monotonic() - started:5.1f}s] {message}")

    start_and_await(stack, stack.components(kind="etcd"), timeout)
    log("etcd healthy")
    first, *rest = stack.components(kind="patroni")
    launch(stack, first, timeout)
    log(f"{first.name} bootstrapping the cluster (Patroni, as {patroni.POSTGRES_OS_USER})")
    haproxy = stack.component("haproxy")
    launch(stack, haproxy, timeout)
    start_and_await(stack, stack.components(kind="redis") + stack.components(kind="sentinel"),
                    timeout)
    log("redis-a (primary), redis-b (replica) and 3 sentinels started")
    for comp in stack.components(kind="sqs"):
        launch(stack, comp, timeout)  # blocks until it answers; Patroni bootstraps meanwhile
        log(f"SQS endpoint answering on {stack.endpoints['sqs_endpoint_url']}")
    _bring_up_database(stack, log, timeout, first, rest, haproxy)
    await_condition(stack, "Sentinels to agree on redis-a with its replica linked",
                    lambda: not redis_problems(stack), timeout,
                    stack.components(kind="sentinel"))
    log("Sentinels agree on the Redis primary; replica linked")
    if stack.state.mode == "full":
        _bring_up_service(stack, log, timeout, haproxy)
    monitoring = [c for c in stack.state.components if c.kind in MONITORING_KINDS]
    if monitoring:
        start_and_await(stack, monitoring, timeout)
        log(f"{', '.join(c.name for c in monitoring)} up")
    stack.wait_healthy(timeout)
    log("steady state reached")


def _bring_up_database(stack: Stack, log: Progress, timeout: float, first: Component,
                       rest: list[Component], haproxy: Component) -> None:
    await_condition(stack, f"{first.name} to bootstrap and lead",
                    lambda: patroni.leader(stack) == first.name, timeout, [first])
    log(f"{first.name} is the leader")
    for comp in rest:
        launch(stack, comp, timeout)
    driver_for(haproxy).await_ready(stack, haproxy, timeout)
    await_condition(stack, "a write through HAProxy", lambda: patroni.write_probe(stack)[0],
                    timeout, [haproxy, first])
    log(f"writes accepted through HAProxy on {haproxy.host}:{haproxy.ports['pg']}")
    await_condition(stack, f"{', '.join(c.name for c in rest)} to stream (one synchronous)",
                    lambda: patroni.ready_with_replicas(stack), timeout, rest)
    log(f"{', '.join(c.name for c in rest)} streaming")
    if backup.enabled(stack):
        backup.stanza_create(stack)
        log(f"pgBackRest stanza {backup.STANZA!r} created; WAL archiving from the leader")


def _bring_up_service(stack: Stack, log: Progress, timeout: float,
                      haproxy: Component) -> None:
    migrate(stack, timeout)
    log("migrations applied (as orders_owner, through HAProxy)")
    apps = [c for c in stack.state.components if c.kind in APP_KINDS]
    start_and_await(stack, apps, timeout)
    api_url = stack.endpoints["api_url"]
    await_condition(stack, "the API through HAProxy",
                    lambda: probes.http_status(f"{api_url}/health/ready") == 200,
                    timeout, [haproxy])
    log(f"{', '.join(c.name for c in apps)} up; API on {api_url}")


def migrate(stack: Stack, timeout: float) -> None:
    log_path = stack.state_dir / "app" / "migrate.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ) | app_env(stack)
    with log_path.open("ab") as log:
        try:
            result = subprocess.run(
                [sys.executable, "-m", "service", "migrate"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
                timeout=timeout, check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ComponentFailed("migrate", f"timed out; see {log_path}") from exc
    if result.returncode != 0:
        raise ComponentFailed(
            "migrate", f"exit code {result.returncode}; see {log_path}:\n{tail(log_path)}"
        )


def stop_all(stack: Stack, comps: list[Component], timeout: float) -> None:
    """SIGTERM every verified process group at once, SIGKILL what outlives `timeout`."""
    groups: list[int] = []
    for comp in comps:
        if is_ours(comp.pid, comp.match, comp.start_ticks) and comp.pid:
            groups.append(comp.pid)
        elif comp.pid and orphaned_group(comp.pid):
            groups.append(comp.pid)  # the leader died; its children are still ours
    for pgid in groups:
        signal_group(pgid, signal.SIGTERM)
        signal_group(pgid, signal.SIGCONT)  # a frozen process acts on nothing
    deadline = time.monotonic() + timeout
    for pgid in groups:
        terminate_group(pgid, signal.SIGTERM, max(0.0, deadline - time.monotonic()))
    stack.reap()
    for comp in comps:
        driver_for(comp).after_stop(stack, comp, timeout)


def stop_tiers(stack: Stack, say: Progress, timeout: float) -> None:
    """Apps and observers first, etcd last (Patroni needs it to release the leader key)."""
    for tier in range(4):
        comps = [c for c in reversed(stack.state.components) if driver_for(c).stop_tier == tier]
        running = set(stack.running())
        live = [c.name for c in comps if c.name in running]
        if live:
            say(f"stopping {', '.join(live)}")
        stop_all(stack, comps, timeout)

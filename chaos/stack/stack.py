"""The local HA stack: etcd + 3 Patroni/PostgreSQL 15 nodes + HAProxy, Redis primary/replica
+ 3 Sentinels, the local SQS endpoint, and the service (3 APIs, 2 relays, 1 worker).

`Stack.up()` starts it and records every process in `<state_dir>/state.json`;
`Stack.load()` gives a drill (or `down`, after a crash) the same handle from another process.
Fault primitives (`kill`, `freeze`, `stop_component`) and rollback (`start_component`,
`restart`, `heal`, `wait_healthy`) act only on processes whose PID, start time and command
line still match the record, so a recycled PID is never signalled.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.stack import configs, probes
from chaos.stack.proc import (
    cmdline,
    is_ours,
    orphaned_group,
    signal_group,
    signal_pid,
    start_ticks,
    terminate_group,
    wait_gone,
)
from chaos.stack.state import (
    APP_KINDS,
    Component,
    StackState,
    load_state,
    save_state,
    state_path,
)
from localenv.procs import (
    ManagedProcess,
    chown_to,
    free_port,
    pid_alive,
    port_open,
    run_as_prefix,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / "var" / "stack"
POSTGRES_OS_USER = "postgres"
PATRONI_BIN = "/usr/bin/patroni"
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "000000000000"
QUEUE_NAME = "orders.fifo"

Progress = Callable[[str], None]


class StackError(RuntimeError):
    """Something about the stack as a whole (not running, already running, bad state)."""


class ComponentFailed(StackError):
    """A component did not become healthy; the message names it and shows its log tail."""

    def __init__(self, component: str, message: str) -> None:
        super().__init__(f"{component}: {message}")
        self.component = component


class StackUnhealthy(StackError):
    def __init__(self, problems: list[str], timeout: float) -> None:
        super().__init__(
            f"stack not back to steady state after {timeout:.0f}s: " + "; ".join(problems)
        )
        self.problems = problems


@dataclass
class Health:
    """One look at the whole stack. `steady` is the drills' steady-state hypothesis."""

    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    pg_leader: str | None = None
    pg_sync_standby: str | None = None
    pg_streaming: list[str] = field(default_factory=list)
    pg_writable: bool = False
    redis_primary: str | None = None
    redis_replicas_linked: list[str] = field(default_factory=list)
    api_ready: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def steady(self) -> bool:
        return not self.problems


def _quiet(_: str) -> None:
    return None


def postgres_bin_dir(version: str = "15") -> Path:
    path = Path(f"/usr/lib/postgresql/{version}/bin")
    if not (path / "postgres").exists():
        raise StackError(f"PostgreSQL {version} not found at {path}; run: make sysdeps")
    return path


def _binary(path: str, package: str) -> str:
    found = shutil.which(path) or path
    if not Path(found).exists():
        raise StackError(f"{path} not found; run: make sysdeps (installs {package})")
    return found


def service_available() -> tuple[bool, str]:
    """Whether `python -m service ...` can run; the reason if not."""
    try:
        spec = importlib.util.find_spec("service.__main__")
    except Exception as exc:  # any import-time failure of the package counts as missing
        return False, f"the service package does not import ({type(exc).__name__}: {exc})"
    if spec is None:
        return False, "service/__main__.py does not exist yet"
    return True, ""


class _Ports:
    """Distinct free loopback ports (free_port alone may hand out one port twice)."""

    def __init__(self) -> None:
        self.taken: set[int] = set()

    def take(self) -> int:
        while True:
            port = free_port()
            if port not in self.taken:
                self.taken.add(port)
                return port


class Stack:
    def __init__(self, state: StackState) -> None:
        self.state = state
        self.state_dir = Path(state.state_dir)
        self._lock = threading.RLock()
        # Handles of processes this Python process started, polled so they never linger
        # as zombies (a zombie keeps answering `kill -0`).
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
        progress: Progress | None = None,
        timeout: float = 90.0,
    ) -> Stack:
        """Start the stack on fresh free ports in `state_dir` (default var/stack/).

        app=None starts the service when it is importable and says what it skipped
        otherwise; app=False is the data tier only. sqs=False skips the SQS endpoint (and
        with it the relays and the worker). On any failure everything started is stopped
        and ComponentFailed names the component."""
        say = progress or _quiet
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
        skipped: list[str] = []
        if app is not False:
            ok, reason = service_available()
            if not ok:
                if app:
                    raise StackError(f"cannot start the service: {reason}")
                skipped.append(f"api-a, api-b, api-c, relay-a, relay-b, worker-c: {reason}")
                app = False
            else:
                app = True
        if not sqs:
            skipped.append("sqs: disabled (--no-sqs)")
            if app:
                skipped.append("relay-a, relay-b, worker-c: need the SQS endpoint")
        _prepare_state_dir(state_dir)
        stack = cls(_plan(state_dir, app=bool(app), sqs=sqs, skipped=skipped))
        save_state(stack.state)
        for line in skipped:
            say(f"skipping {line}")
        try:
            stack._bring_up(say, timeout, started)
        except BaseException as exc:
            say(f"start-up failed ({exc.__class__.__name__}); stopping what was started")
            with contextlib.suppress(Exception):
                stack.down(progress=say)
            raise
        stack.state.endpoints["up_seconds"] = round(time.monotonic() - started, 1)
        stack._save()
        say(f"stack up in {time.monotonic() - started:.1f}s; state in {state_path(state_dir)}")
        return stack

    # ---------------------------------------------------------------- queries
    @property
    def endpoints(self) -> dict[str, Any]:
        return self.state.endpoints

    def components(self, zone: str | None = None, kind: str | None = None) -> list[Component]:
        return [
            c
            for c in self.state.components
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
        self._reap()
        comp = self.component(name)
        return is_ours(comp.pid, comp.match, comp.start_ticks)

    def running(self) -> list[str]:
        """Names of components with a live process of ours (for patroni: or its postmaster)."""
        return [
            c.name
            for c in self.state.components
            if self.is_running(c.name) or (c.kind == "patroni" and self.postmaster_pid(c.name))
        ]

    def postmaster_pid(self, name: str) -> int | None:
        """The node's live postmaster, from postmaster.pid in its data dir (Patroni forks
        it into its own session, so it outlives a killed Patroni)."""
        comp = self.component(name)
        data_dir = comp.paths.get("data_dir")
        if comp.kind != "patroni" or not data_dir:
            return None
        try:
            first = (Path(data_dir) / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first)
        except (FileNotFoundError, ValueError, PermissionError):
            return None
        line = cmdline(pid)
        if pid_alive(pid) and line is not None and data_dir in line:
            return pid
        return None

    def pg_cluster(self) -> list[dict[str, Any]]:
        """Patroni's view of the members (from the first node whose REST API answers)."""
        for comp in self.components(kind="patroni"):
            data = probes.http_json(f"http://127.0.0.1:{comp.ports['rest']}/cluster", timeout=0.5)
            if isinstance(data, dict) and "members" in data:
                return list(data["members"])
        return []

    def pg_leader(self) -> str | None:
        """Name of the running Patroni leader, or None during a failover."""
        for member in self.pg_cluster():
            if member.get("role") in ("leader", "master", "primary") and member.get(
                "state"
            ) == "running":
                return str(member["name"])
        return None

    def redis_primary(self) -> str | None:
        """The Redis component a majority of the live Sentinels names as primary."""
        port = self._sentinel_majority()
        if port is None:
            return None
        for comp in self.components(kind="redis"):
            if comp.ports["redis"] == port:
                return comp.name
        return None

    def app_env(self) -> dict[str, str]:
        """ORDERS_* environment for a service process (CLI, token minting, drill checker)."""
        ep = self.endpoints
        env = {
            "ORDERS_DATABASE_URL": ep["database_url_app"],
            "ORDERS_MIGRATION_DATABASE_URL": ep["database_url_owner"],
            "ORDERS_REDIS_URL": ep["redis_url"],
            "ORDERS_AWS_REGION": LOCAL_REGION,
            "ORDERS_JWT_SECRET": Path(ep["jwt_secret_path"]).read_text().strip(),
            "PYTHONUNBUFFERED": "1",
        }
        if ep.get("sqs_endpoint_url"):
            from localenv.sqs import LOCAL_AWS_ENV

            env |= LOCAL_AWS_ENV
            env["ORDERS_SQS_ENDPOINT_URL"] = ep["sqs_endpoint_url"]
            env["ORDERS_QUEUE_URL"] = ep["queue_url"]
        return env

    # ---------------------------------------------------------------- faults
    def kill(
        self, name: str, sig: int = signal.SIGKILL, *, part: str = "all", wait: bool = True
    ) -> list[int]:
        """Signal a component's process group. For a Patroni node `part` chooses: "process"
        (Patroni only), "postmaster" (PostgreSQL only: db-primary-kill) or "all" (both: node
        loss). After SIGKILL it waits (bounded) until the processes are gone, so a restart
        issued right after never mistakes a dying process for a running one. Returns the
        PIDs signalled."""
        comp = self.component(name)
        if part not in ("all", "process", "postmaster"):
            raise ValueError(f"part must be all, process or postmaster, not {part!r}")
        if part == "postmaster" and comp.kind != "patroni":
            raise ValueError(f"{name} is a {comp.kind}, it has no postmaster")
        signalled: list[int] = []
        postmaster = self.postmaster_pid(name) if comp.kind == "patroni" else None
        # Patroni first, so it cannot restart a postmaster killed a moment before it.
        if part in ("all", "process") and self.is_running(name) and comp.pid:
            signal_group(comp.pid, sig)
            signalled.append(comp.pid)
        if part in ("all", "postmaster") and postmaster:
            signal_pid(postmaster, sig)
            signalled.append(postmaster)
        if not signalled:
            raise StackError(f"{name} is not running, nothing to signal")
        if wait and sig == signal.SIGKILL:
            self._await_exit(signalled)
        return signalled

    def _await_exit(self, pids: list[int], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._reap()
            if not any(pid_alive(pid) for pid in pids):
                return
            time.sleep(0.01)

    def kill_zone(self, zone: str, sig: int = signal.SIGKILL) -> list[str]:
        """Every component labelled `zone`, signalled together (zone loss)."""
        hit, pids = [], []
        for comp in self.components(zone=zone):
            with contextlib.suppress(StackError):
                pids += self.kill(comp.name, sig, wait=False)
                hit.append(comp.name)
        if sig == signal.SIGKILL:
            self._await_exit(pids)
        return hit

    def freeze(self, name: str) -> list[int]:
        """SIGSTOP: the process hangs without losing state (e.g. an SQS outage that must not
        lose the in-memory queue). Undo with thaw()."""
        return self.kill(name, signal.SIGSTOP)

    def thaw(self, name: str) -> list[int]:
        return self.kill(name, signal.SIGCONT)

    def stop_component(self, name: str, timeout: float = 30.0) -> None:
        """Graceful stop (SIGTERM, SIGKILL after `timeout`); for Patroni also any postmaster
        it left behind. Note: the SQS endpoint keeps its queues in memory only."""
        self._stop_all([self.component(name)], timeout)

    def start_component(self, name: str, timeout: float = 60.0) -> None:
        """Start a component that is not running (no-op if it is) and wait until it is
        healthy. A Redis server comes back as a replica of the current primary."""
        with self._lock:
            comp = self.component(name)
            if self.is_running(name):
                return
            if comp.kind == "redis":
                self._prepare_redis_restart(comp, timeout)
            self._launch(comp, timeout)
            self._await_component(comp, timeout)

    def restart(self, name: str, timeout: float = 60.0) -> None:
        self.stop_component(name)
        self.start_component(name, timeout)

    def heal(self, timeout: float = 90.0) -> Health:
        """Rollback after any fault: start every component that is down (the Sentinels'
        current Redis primary before its replica), thaw frozen ones, then wait_healthy."""
        deadline = time.monotonic() + timeout
        for comp in self.state.components:
            if self.is_running(comp.name) and comp.pid:
                signal_group(comp.pid, signal.SIGCONT)
        primary = self._sentinel_majority()
        order = sorted(
            self.state.components,
            key=lambda c: (c.kind == "redis" and c.ports.get("redis") != primary),
        )
        for comp in order:
            if not self.is_running(comp.name):
                self.start_component(comp.name, max(5.0, deadline - time.monotonic()))
        return self.wait_healthy(max(5.0, deadline - time.monotonic()))

    # ---------------------------------------------------------------- health
    def health(self) -> Health:
        self._reap()
        report = Health()
        for comp in self.state.components:
            running = self.is_running(comp.name)
            healthy, detail = self._probe(comp) if running else (False, "not running")
            report.components[comp.name] = {
                "kind": comp.kind,
                "zone": comp.zone,
                "pid": comp.pid if running else None,
                "running": running,
                "healthy": healthy,
                "detail": detail,
            }
            if not healthy:
                report.problems.append(f"{comp.name} {detail}")
        self._pg_health(report)
        self._redis_health(report)
        api_url = self.endpoints.get("api_url")
        if api_url:
            report.api_ready = probes.http_status(f"{api_url}/health/ready") == 200
            if not report.api_ready:
                report.problems.append("API frontend not ready through HAProxy")
        return report

    def wait_healthy(self, timeout: float = 90.0, interval: float = 0.5) -> Health:
        """Block until steady state: a PG leader accepting writes through HAProxy, every
        replica streaming (one synchronous), a Redis primary named by a Sentinel majority
        with its replica linked, every process up and healthy. Raises StackUnhealthy."""
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
        """Stop everything `up` (or a drill) started, verified by PID + start time +
        command line; apps first, etcd last (Patroni needs it to release the leader key)."""
        say = progress or _quiet
        tiers: list[tuple[str, ...]] = [
            APP_KINDS, ("haproxy", "sqs"), ("patroni", "redis", "sentinel"), ("etcd",),
        ]
        for kinds in tiers:
            comps = [c for c in reversed(self.state.components) if c.kind in kinds]
            running = self.running()
            live = [c.name for c in comps if c.name in running]
            if live:
                say(f"stopping {', '.join(live)}")
            self._stop_all(comps, timeout)
        for comp in self.state.components:
            comp.pid = None
            comp.start_ticks = None
        self._save()
        left = self.leftover_pids()
        if left:
            say(f"warning: processes still running under {self.state_dir}: {left}")
        else:
            say("stack stopped")

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

    # ---------------------------------------------------------------- internals
    def _save(self) -> None:
        with self._lock:
            save_state(self.state)

    def _reap(self) -> None:
        for handle in list(self._handles.values()):
            popen = getattr(handle, "_popen", None)
            if popen is not None:
                popen.poll()

    def _env_for(self, comp: Component) -> dict[str, str]:
        env = dict(os.environ)
        if comp.kind == "patroni":
            # Debian's patroni runs on /usr/bin/python3: keep the project venv out of it.
            for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
                env.pop(var, None)
            env["HOME"] = comp.paths["dir"]
        if comp.kind in APP_KINDS:
            env |= self.app_env()
        env |= comp.env
        return env

    def _launch(self, comp: Component, timeout: float) -> None:
        if comp.kind == "redis":
            Path(comp.paths["config"]).write_text(
                configs.redis_config(
                    comp.ports["redis"], Path(comp.paths["dir"]), comp.replicaof
                )
            )
        elif comp.kind == "sentinel":
            self._write_sentinel_config(comp)
        if comp.kind == "sqs":
            from localenv.sqs import SqsEndpoint, SqsEndpointError

            endpoint = SqsEndpoint(comp.ports["http"], Path(comp.paths["dir"]))
            try:
                endpoint.start(timeout=timeout)
            except SqsEndpointError as exc:
                raise ComponentFailed(comp.name, str(exc)) from exc
            pid = endpoint.pid
            self._handles[comp.name] = endpoint
            # SqsEndpoint chooses its own command line: record what actually runs.
            actual = cmdline(pid) if pid else None
            if actual:
                comp.match, comp.argv = actual, actual.split()
        else:
            process = ManagedProcess(
                comp.name, comp.argv, Path(comp.log),
                env=self._env_for(comp), cwd=Path(comp.paths["dir"]),
            )
            process.start()
            pid = process.pid
            self._handles[comp.name] = process
        assert pid is not None
        comp.pid = pid
        comp.start_ticks = start_ticks(pid)
        comp.started_at = time.time()
        self._save()
        # Until exec() the child still shows our own command line: wait so that a `down`
        # right after this launch recognises it.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and pid_alive(pid):
            if comp.match in (cmdline(pid) or ""):
                break
            time.sleep(0.01)

    def _probe(self, comp: Component) -> tuple[bool, str]:
        kind, ports = comp.kind, comp.ports
        if kind == "etcd":
            data = probes.http_json(f"http://127.0.0.1:{ports['client']}/health")
            ok = isinstance(data, dict) and data.get("health") == "true"
            return ok, "healthy" if ok else "not answering /health"
        if kind == "patroni":
            data = probes.http_json(f"http://127.0.0.1:{ports['rest']}/patroni", timeout=0.5)
            if not isinstance(data, dict):
                return False, "Patroni REST API not answering"
            state, role = data.get("state"), data.get("role")
            return state == "running", f"{role} {state}"
        if kind == "haproxy":
            ok = port_open(ports["pg"])
            return ok, "listening" if ok else "not listening"
        if kind == "redis":
            info = probes.redis_info_replication(ports["redis"])
            if info is None:
                return False, "not answering"
            if info.get("role") == "slave":
                return True, f"replica (link {info.get('master_link_status')})"
            return True, f"primary ({info.get('connected_slaves', 0)} replicas)"
        if kind == "sentinel":
            ok = probes.redis_ping(ports["sentinel"])
            return ok, "answering" if ok else "not answering"
        if kind == "sqs":
            from localenv.sqs import SqsEndpoint

            ok = SqsEndpoint(ports["http"], Path(comp.paths["dir"])).healthy()
            return ok, "answering" if ok else "not answering SQS calls"
        if kind == "api":
            code = probes.http_status(f"http://127.0.0.1:{ports['http']}/health/ready")
            return code == 200, f"/health/ready {code}"
        return True, "running"

    def _await(self, what: str, check: Callable[[], bool], timeout: float,
               comps: Iterable[Component] = ()) -> None:
        comps = list(comps)
        deadline = time.monotonic() + timeout
        while not check():
            for comp in comps:
                if not is_ours(comp.pid, comp.match, comp.start_ticks):
                    raise ComponentFailed(
                        comp.name, f"exited while waiting for {what}; see {comp.log}:\n"
                        + _tail(Path(comp.log)),
                    )
            if time.monotonic() >= deadline:
                logs = "".join(f"\n--- {c.log}:\n{_tail(Path(c.log))}" for c in comps)
                name = comps[0].name if len(comps) == 1 else what
                raise ComponentFailed(name, f"not healthy within {timeout:.0f}s ({what}){logs}")
            time.sleep(0.1)

    def _await_component(self, comp: Component, timeout: float) -> None:
        if comp.kind in ("relay", "worker") and comp.started_at:
            # No health endpoint: alive a second after start means configured and running.
            time.sleep(max(0.0, 1.0 - (time.time() - comp.started_at)))
        self._await(f"{comp.name} healthy", lambda: self._probe(comp)[0], timeout, [comp])

    # -- PostgreSQL
    def _pg_health(self, report: Health) -> None:
        nodes = self.components(kind="patroni")
        if not nodes:
            return
        report.pg_leader = self.pg_leader()
        if report.pg_leader is None:
            report.problems.append("no PostgreSQL leader")
            return
        ok, detail = self.pg_write_probe()
        report.pg_writable = ok
        if not ok:
            report.problems.append(f"writes through HAProxy fail: {detail}")
        streaming, sync = self._pg_replication(report.pg_leader)
        report.pg_streaming, report.pg_sync_standby = streaming, sync
        if len(streaming) < len(nodes) - 1:
            missing = sorted({n.name for n in nodes} - set(streaming) - {report.pg_leader})
            report.problems.append(f"replicas not streaming: {', '.join(missing)}")
        if sync is None:
            report.problems.append("no synchronous standby")

    def pg_write_probe(self) -> tuple[bool, str]:
        """A real commit through HAProxy (txid_current() needs a writable primary and its
        commit waits for the synchronous standby)."""
        return probes.psql(
            Path(self.endpoints["pg_bin_dir"]),
            self.endpoints["database_url_superuser"] + "?connect_timeout=2",
            "SELECT txid_current()",
        )

    def _pg_replication(self, leader: str) -> tuple[list[str], str | None]:
        comp = self.component(leader)
        data = probes.http_json(f"http://127.0.0.1:{comp.ports['rest']}/patroni", timeout=0.5)
        rows = data.get("replication", []) if isinstance(data, dict) else []
        streaming = [r["application_name"] for r in rows if r.get("state") == "streaming"]
        sync = next(
            (r["application_name"] for r in rows if r.get("sync_state") in ("sync", "quorum")),
            None,
        )
        return streaming, sync

    def _pg_ready_with_replicas(self) -> bool:
        leader = self.pg_leader()
        if leader is None:
            return False
        streaming, sync = self._pg_replication(leader)
        return len(streaming) >= len(self.components(kind="patroni")) - 1 and sync is not None

    # -- Redis
    def _sentinel_views(self) -> list[int]:
        views = []
        for comp in self.components(kind="sentinel"):
            port = probes.sentinel_primary_port(comp.ports["sentinel"], configs.REDIS_MASTER_NAME)
            if port is not None:
                views.append(port)
        return views

    def _sentinel_majority(self) -> int | None:
        views = self._sentinel_views()
        if not views:
            return None
        port, votes = Counter(views).most_common(1)[0]
        quorum = len(self.components(kind="sentinel")) // 2 + 1
        return port if votes >= quorum else None

    def _redis_health(self, report: Health) -> None:
        servers = self.components(kind="redis")
        if not servers:
            return
        report.redis_primary = self.redis_primary()
        if report.redis_primary is None:
            report.problems.append("no Redis primary agreed by a Sentinel majority")
            return
        primary = self.component(report.redis_primary)
        info = probes.redis_info_replication(primary.ports["redis"])
        if info is None or info.get("role") != "master":
            report.problems.append(f"{primary.name} is named primary but is not serving as one")
        for comp in servers:
            if comp is primary:
                continue
            rinfo = probes.redis_info_replication(comp.ports["redis"]) or {}
            if (
                rinfo.get("role") == "slave"
                and rinfo.get("master_port") == primary.ports["redis"]
                and rinfo.get("master_link_status") == "up"
            ):
                report.redis_replicas_linked.append(comp.name)
            else:
                report.problems.append(f"{comp.name} is not a linked replica of {primary.name}")

    def _prepare_redis_restart(self, comp: Component, timeout: float) -> None:
        """Decide whether `comp` restarts as primary or replica, and record it.

        A restarted Redis has no data (no persistence). Coming back as primary while
        Sentinel still names it would let clients write to an empty primary that Sentinel
        then demotes (the recipe lost half the acked writes that way). So if another Redis
        is alive, wait until Sentinel has promoted it and come back as its replica."""
        me = comp.ports["redis"]
        others = [c for c in self.components(kind="redis") if c is not comp]
        alive = [c for c in others if self.is_running(c.name)]
        primary = self._sentinel_majority()
        if primary == me and alive:
            deadline = time.monotonic() + timeout
            while primary in (me, None) and time.monotonic() < deadline:
                time.sleep(0.2)
                primary = self._sentinel_majority()
            if primary in (me, None):
                raise ComponentFailed(
                    comp.name,
                    f"Sentinel has not promoted a new primary within {timeout:.0f}s; refusing "
                    "to restart the old primary empty (it would take writes and lose them)",
                )
        if primary is None:
            # No Sentinel majority: follow whichever live Redis serves as primary.
            for other in alive:
                info = probes.redis_info_replication(other.ports["redis"]) or {}
                if info.get("role") == "master":
                    primary = other.ports["redis"]
        comp.replicaof = primary if primary not in (None, me) else None
        self._save()

    def _write_sentinel_config(self, comp: Component) -> None:
        servers = self.components(kind="redis")
        # The primary as the other Sentinels see it now (it moves with every failover);
        # else whichever live Redis serves as primary; else the one `up` started as primary.
        views = self._sentinel_views()
        primary = self._sentinel_majority() or (views[0] if views else None)
        for server in servers:
            info = probes.redis_info_replication(server.ports["redis"]) or {}
            if primary is None and info.get("role") == "master":
                primary = server.ports["redis"]
        if primary is None:
            primary = int(self.state.endpoints["redis_initial_primary"])
        peers = [
            (s.ports["sentinel"], s.paths["myid"])
            for s in self.components(kind="sentinel")
            if s is not comp
        ]
        Path(comp.paths["config"]).write_text(
            configs.sentinel_config(
                port=comp.ports["sentinel"],
                data_dir=Path(comp.paths["dir"]),
                myid=comp.paths["myid"],
                primary_port=primary,
                replica_ports=[s.ports["redis"] for s in servers if s.ports["redis"] != primary],
                other_sentinels=peers,
            )
        )

    # -- stopping
    def _stop_all(self, comps: list[Component], timeout: float) -> None:
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
        self._reap()
        for comp in comps:
            if comp.kind == "patroni":
                self._stop_postmaster(comp, timeout)

    def _stop_postmaster(self, comp: Component, timeout: float) -> None:
        """A postmaster left behind by a killed Patroni: fast shutdown, then SIGKILL."""
        pid = self.postmaster_pid(comp.name)
        if pid is None:
            return
        signal_pid(pid, signal.SIGCONT)
        signal_pid(pid, signal.SIGINT)
        if not wait_gone([pid], timeout):
            children = _children(pid)
            signal_pid(pid, signal.SIGKILL)
            for child in children:
                signal_pid(child, signal.SIGKILL)
            wait_gone([pid, *children], 5.0)

    # -- start-up
    def _bring_up(self, say: Progress, timeout: float, started: float) -> None:
        def log(message: str) -> None:
            say(f"[{time.monotonic() - started:5.1f}s] {message}")

        ep = self.endpoints
        etcd = self.component("etcd")
        self._launch(etcd, timeout)
        self._await_component(etcd, timeout)
        log(f"etcd healthy on 127.0.0.1:{etcd.ports['client']}")

        pg = self.components(kind="patroni")
        first, rest = pg[0], pg[1:]
        self._launch(first, timeout)
        log(f"{first.name} bootstrapping the cluster (Patroni, as {POSTGRES_OS_USER})")
        haproxy = self.component("haproxy")
        self._launch(haproxy, timeout)
        for comp in self.components(kind="redis") + self.components(kind="sentinel"):
            self._launch(comp, timeout)
        for comp in self.components(kind="redis") + self.components(kind="sentinel"):
            self._await_component(comp, timeout)
        log("redis-a (primary), redis-b (replica) and 3 sentinels started")
        sqs = self.components(kind="sqs")
        for comp in sqs:
            self._launch(comp, timeout)  # blocks until it answers; Patroni bootstraps meanwhile
            log(f"SQS endpoint answering on {ep['sqs_endpoint_url']}")

        self._await(
            f"{first.name} to bootstrap and lead", lambda: self.pg_leader() == first.name,
            timeout, [first],
        )
        log(f"{first.name} is the leader")
        for comp in rest:
            self._launch(comp, timeout)
        self._await_component(haproxy, timeout)
        self._await(
            "a write through HAProxy", lambda: self.pg_write_probe()[0], timeout,
            [haproxy, first],
        )
        log(f"writes accepted through HAProxy on 127.0.0.1:{haproxy.ports['pg']}")
        self._await(
            f"{', '.join(c.name for c in rest)} to stream (one synchronous)",
            self._pg_ready_with_replicas, timeout, rest,
        )
        log(f"{', '.join(c.name for c in rest)} streaming")
        sentinels = self.components(kind="sentinel")
        self._await(
            "Sentinels to agree on redis-a with its replica linked",
            lambda: not self._redis_problems(), timeout, sentinels,
        )
        log("Sentinels agree on the Redis primary; replica linked")

        if self.state.mode == "full":
            self._migrate(timeout)
            log("migrations applied (as orders_owner, through HAProxy)")
            apps = [c for c in self.state.components if c.kind in APP_KINDS]
            for comp in apps:
                self._launch(comp, timeout)
            for comp in apps:
                self._await_component(comp, timeout)
            self._await(
                "the API through HAProxy",
                lambda: probes.http_status(f"{ep['api_url']}/health/ready") == 200,
                timeout, [haproxy],
            )
            log(f"{', '.join(c.name for c in apps)} up; API on {ep['api_url']}")
        self.wait_healthy(timeout)
        log("steady state reached")

    def _redis_problems(self) -> list[str]:
        report = Health()
        self._redis_health(report)
        return report.problems

    def _migrate(self, timeout: float) -> None:
        log_path = self.state_dir / "app" / "migrate.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ) | self.app_env()
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
                "migrate", f"exit code {result.returncode}; see {log_path}:\n{_tail(log_path)}"
            )


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    kids.append(int(entry.name))
    return kids


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


# Names of everything `up` creates in the state dir, so a new `up` can clear exactly that.
_STATE_ENTRIES = (
    "etcd", "pg-a", "pg-b", "pg-c", "haproxy", "redis-a", "redis-b", "sentinel-a",
    "sentinel-b", "sentinel-c", "sqs", "app", "post_bootstrap.sh", "jwt_secret", "state.json",
)


def _prepare_state_dir(state_dir: Path) -> None:
    # Unix socket paths are limited to 107 bytes: PostgreSQL's <dir>/pg-a/run/.s.PGSQL.NNNNN
    # and HAProxy's stats socket (plus a temporary suffix) live under the state dir.
    if len(str(state_dir)) > 70:
        raise StackError(
            f"state dir path too long for Unix sockets ({len(str(state_dir))} > 70 chars): "
            f"{state_dir}"
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    for name in _STATE_ENTRIES:
        path = state_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    # Patroni and PostgreSQL run as the postgres user: they must traverse the state dir.
    state_dir.chmod(0o755)
    if os.geteuid() == 0:
        for ancestor in state_dir.parents:
            if not ancestor.stat().st_mode & 0o001:
                raise StackError(
                    f"{ancestor} is not traversable by the postgres user; choose another "
                    f"--state-dir or run: chmod o+x {ancestor}"
                )


def _plan(state_dir: Path, *, app: bool, sqs: bool, skipped: list[str]) -> StackState:
    """Every component with its ports, paths, argv and zone; config files written here."""
    ports = _Ports()
    bin_dir = postgres_bin_dir()
    comps: list[Component] = []

    def add(name: str, kind: str, zone: str | None, argv: list[str], match: str,
            ports_: dict[str, int], **paths: str) -> Component:
        comp_dir = state_dir / name
        comp_dir.mkdir(parents=True, exist_ok=True)
        comp = Component(
            name=name, kind=kind, zone=zone, argv=argv, log=str(comp_dir / f"{kind}.log"),
            match=match, ports=ports_, paths={"dir": str(comp_dir), **paths},
        )
        comps.append(comp)
        return comp

    etcd_ports = {"client": ports.take(), "peer": ports.take()}
    etcd_data = state_dir / "etcd" / "data"
    add("etcd", "etcd", None,
        configs.etcd_argv(_binary("etcd", "etcd-server"), etcd_data,
                          etcd_ports["client"], etcd_ports["peer"]),
        str(etcd_data), etcd_ports)

    post_bootstrap = state_dir / "post_bootstrap.sh"
    post_bootstrap.write_text(configs.post_bootstrap_script(bin_dir / "psql"))
    post_bootstrap.chmod(0o755)
    patroni = _binary(PATRONI_BIN, "patroni")
    user = POSTGRES_OS_USER if os.geteuid() == 0 else None
    pg_nodes = []
    for zone in ("a", "b", "c"):
        node = configs.PatroniNode(
            f"pg-{zone}", zone, ports.take(), ports.take(), state_dir / f"pg-{zone}"
        )
        node.node_dir.mkdir(parents=True)
        node.socket_dir.mkdir()
        node.config_path.write_text(
            configs.patroni_config(node, etcd_ports["client"], bin_dir, post_bootstrap)
        )
        for path in (node.node_dir, node.socket_dir, node.config_path):
            chown_to(path, user)
        node.node_dir.chmod(0o700)
        add(node.name, "patroni", zone, [*run_as_prefix(user), patroni, str(node.config_path)],
            str(node.config_path), {"rest": node.rest_port, "pg": node.pg_port},
            config=str(node.config_path), data_dir=str(node.data_dir))
        pg_nodes.append(node)

    api_zones = ("a", "b", "c") if app else ()
    api_ports = {zone: ports.take() for zone in api_zones}
    hap = {"pg": ports.take(), "pg_replicas": ports.take()}
    if app:
        hap["api"] = ports.take()
    hap_dir = state_dir / "haproxy"
    hap_dir.mkdir()
    hap_cfg = hap_dir / "haproxy.cfg"
    hap_cfg.write_text(
        configs.haproxy_config(
            stats_socket=hap_dir / "haproxy.sock",
            pg_port=hap["pg"],
            pg_replica_port=hap["pg_replicas"],
            pg_nodes=[configs.HaproxyBackend(n.name, n.pg_port, n.rest_port) for n in pg_nodes],
            api_port=hap.get("api"),
            api_nodes=[
                configs.HaproxyBackend(f"api-{z}", p, p) for z, p in api_ports.items()
            ],
        )
    )
    add("haproxy", "haproxy", None, [_binary("/usr/sbin/haproxy", "haproxy"), "-db", "-f",
        str(hap_cfg)], str(hap_cfg), hap, config=str(hap_cfg))

    redis_server = _binary("redis-server", "redis-server")
    redis_ports = {"a": ports.take(), "b": ports.take()}
    for zone, port in redis_ports.items():
        cfg = state_dir / f"redis-{zone}" / "redis.conf"
        # Redis retitles itself "redis-server 127.0.0.1:PORT": match on the binary name
        # (the start time pins the PID).
        comp = add(f"redis-{zone}", "redis", zone, [redis_server, str(cfg)], "redis-server",
                   {"redis": port}, config=str(cfg))
        comp.replicaof = None if zone == "a" else redis_ports["a"]
    sentinel_bin = _binary("redis-sentinel", "redis-sentinel")
    sentinel_ports = {}
    for zone in ("a", "b", "c"):
        cfg = state_dir / f"sentinel-{zone}" / "sentinel.conf"
        sentinel_ports[zone] = ports.take()
        add(f"sentinel-{zone}", "sentinel", zone, [sentinel_bin, str(cfg)], "redis-sentinel",
            {"sentinel": sentinel_ports[zone]}, config=str(cfg), myid=secrets.token_hex(20))

    sqs_url = queue_url = None
    if sqs:
        sqs_port = ports.take()
        from localenv.sqs import DEFAULT_VENV

        # Started through localenv.sqs.SqsEndpoint; argv and match are replaced by the real
        # command line once it runs.
        comp = add("sqs", "sqs", None, [str(DEFAULT_VENV / "bin" / "python")],
                   str(DEFAULT_VENV), {"http": sqs_port})
        comp.log = str(state_dir / "sqs" / "sqs-endpoint.log")
        sqs_url = f"http://127.0.0.1:{sqs_port}"
        queue_url = f"{sqs_url}/queue/{LOCAL_REGION}/{LOCAL_ACCOUNT}/{QUEUE_NAME}"

    if app:
        app_dir = state_dir / "app"
        for zone, port in api_ports.items():
            argv = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1",
                    "--port", str(port)]
            add(f"api-{zone}", "api", zone, argv, f"service serve --host 127.0.0.1 --port {port}",
                {"http": port})
        if sqs:
            for zone in ("a", "b"):
                add(f"relay-{zone}", "relay", zone, [sys.executable, "-m", "service", "relay"],
                    "service relay", {})
            add("worker-c", "worker", "c", [sys.executable, "-m", "service", "worker"],
                "service worker", {})
        app_dir.mkdir(exist_ok=True)

    secret_path = state_dir / "jwt_secret"
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")

    db = configs.DATABASE
    endpoints: dict[str, Any] = {
        "api_url": f"http://127.0.0.1:{hap['api']}" if app else None,
        "database_url_app": f"postgresql://{configs.APP_ROLE}@127.0.0.1:{hap['pg']}/{db}",
        "database_url_owner": f"postgresql://{configs.OWNER_ROLE}@127.0.0.1:{hap['pg']}/{db}",
        "database_url_superuser": f"postgresql://postgres@127.0.0.1:{hap['pg']}/postgres",
        "database_url_readonly": (
            f"postgresql://{configs.APP_ROLE}@127.0.0.1:{hap['pg_replicas']}/{db}"
        ),
        "redis_url": "redis+sentinel://"
        + ",".join(f"127.0.0.1:{p}" for p in sentinel_ports.values())
        + f"/{configs.REDIS_MASTER_NAME}/0",
        "redis_sentinels": [["127.0.0.1", p] for p in sentinel_ports.values()],
        "redis_master_name": configs.REDIS_MASTER_NAME,
        "redis_initial_primary": redis_ports["a"],
        "sqs_endpoint_url": sqs_url,
        "queue_url": queue_url,
        "jwt_secret_path": str(secret_path),
        "etcd_url": f"http://127.0.0.1:{etcd_ports['client']}",
        "patroni_rest": {n.name: f"http://127.0.0.1:{n.rest_port}" for n in pg_nodes},
        "haproxy_stats_socket": str(hap_dir / "haproxy.sock"),
        "pg_bin_dir": str(bin_dir),
    }
    return StackState(
        state_dir=str(state_dir),
        created_at=time.time(),
        mode="full" if app else "data-only",
        skipped=skipped,
        endpoints=endpoints,
        components=comps,
    )

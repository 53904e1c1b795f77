"""The whole `make run` system, started by the dev harness itself, for the benchmark.

The harness module (`localenv.devrun`) is imported to locate it and run as its own
process with a throw-away state directory, exactly as
`make run` runs it: whatever processes it starts (API, relay, worker, an integrator when it
has one, PostgreSQL with fsync on, Redis, the SQS endpoint) are the system under load. Its
children are found in /proc and named by their command line, so CPU can be charged to each.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import contract
from localenv.procs import free_port, http_ok, pid_alive, stop_process_group

ROOT = Path(__file__).resolve().parents[1]
HARNESS_MODULES = ("localenv.devrun",)
# Loopback load must not be throttled by the per-principal rate limiter.
# Stopped by the harness itself, after the application processes that use them.
SERVER_ROLES = frozenset({"postgresql", "redis", "sqs-endpoint"})
BENCH_ENV = {"ORDERS_RATE_LIMIT_PER_SECOND": "1000000", "ORDERS_RATE_LIMIT_BURST": "1000000"}


def harness_module() -> str:
    for name in HARNESS_MODULES:
        with contextlib.suppress(ModuleNotFoundError):
            if importlib.util.find_spec(name) is not None:
                return name
    raise RuntimeError(f"no dev harness found (looked for {', '.join(HARNESS_MODULES)})")


def role_of(argv: list[str]) -> str:
    """Name a process of the dev system from its command line."""
    if not argv:
        return "unknown"
    if "-m" in argv:
        module_index = argv.index("-m") + 1
        if argv[module_index:module_index + 1] == ["service"] and len(argv) > module_index + 1:
            command = argv[module_index + 1]
            return "api" if command == "serve" else command
    program = Path(argv[0]).name
    if program in ("postgres", "postmaster"):
        return "postgresql"
    if program.startswith("redis-server"):
        return "redis"
    if any(Path(arg).name == "sqs_server.py" for arg in argv[1:]):
        return "sqs-endpoint"
    return program


def read_cmdline(pid: int, proc: Path = Path("/proc")) -> list[str]:
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def children_of(parent: int, proc: Path = Path("/proc")) -> list[int]:
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(stat.rpartition(")")[2].split()[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


def read_env_file(path: Path) -> dict[str, str]:
    """The harness's env file (KEY=value lines); the JWT secret is kept in its own file."""
    env = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key] = value
    return env


@dataclass
class DevSystem:
    """A running `make run` system: its URLs, environment and processes by role."""

    state_dir: Path
    api_url: str
    env: dict[str, str]
    jwt_secret: str
    harness: subprocess.Popen[bytes]
    roles: dict[str, list[int]] = field(default_factory=dict)

    @property
    def pg_port(self) -> int:
        port = urlsplit(self.env["ORDERS_DATABASE_URL"]).port
        if port is None:
            raise RuntimeError("ORDERS_DATABASE_URL names no port")
        return port

    def superuser_url(self, database: str = contract.DATABASE_NAME) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{database}"

    def discover(self) -> dict[str, list[int]]:
        roles: dict[str, list[int]] = {}
        for pid in children_of(self.harness.pid):
            roles.setdefault(role_of(read_cmdline(pid)), []).append(pid)
        self.roles = roles
        return roles

    def stop(self) -> None:
        """SIGTERM the harness (it stops what it started, in order); force only if stuck.

        The application processes get their SIGTERM first, all at once, so their shutdowns
        (a relay's or worker's long poll) overlap instead of adding up. Once they are gone,
        PostgreSQL gets an immediate shutdown: its data is thrown away, and the shutdown
        checkpoint of a durable server (fsync of every file the run touched) took up to
        12 s on a busy machine.
        """
        children = [pid for pids in self.roles.values() for pid in pids]
        apps = [pid for role, pids in self.roles.items() if role not in SERVER_ROLES
                for pid in pids]
        for pid in apps:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while any(pid_alive(pid) for pid in apps) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self.roles.get("postgresql", []):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGQUIT)  # immediate shutdown: no checkpoint
        if self.harness.poll() is None:
            self.harness.send_signal(signal.SIGTERM)
            try:
                self.harness.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.harness.kill()
                self.harness.wait(timeout=10)
        for pid in children:  # each runs in its own session, so it outlives a killed harness
            if pid_alive(pid):
                stop_process_group(pid, timeout=10)


def start(state_dir: Path, log_path: Path, timeout: float = 120.0) -> DevSystem:
    """Start the dev harness on a free port with `state_dir`; return once the API is ready."""
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o755)  # the postgres OS user must traverse it
    port = free_port()
    with log_path.open("ab") as log:
        harness = subprocess.Popen(
            [sys.executable, "-m", harness_module(), "--port", str(port),
             "--state-dir", str(state_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **BENCH_ENV}, cwd=ROOT,
        )
    api_url = f"http://127.0.0.1:{port}"
    system = DevSystem(state_dir, api_url, {}, "", harness)
    try:
        deadline = time.monotonic() + timeout
        while harness.poll() is None and not http_ok(f"{api_url}/health/ready"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the dev system's API was not ready in {timeout:.0f} s")
            time.sleep(0.2)
        if harness.poll() is not None:
            raise RuntimeError(f"the dev harness exited with {harness.returncode}; see {log_path}")
        system.env = read_env_file(state_dir / "env")
        system.jwt_secret = (state_dir / "jwt-secret").read_text().strip()
        system.discover()
    except BaseException:
        system.discover()
        system.stop()
        raise
    return system

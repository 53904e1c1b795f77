"""Start, watch and stop the real server processes that tests, `make run` and drills use.

Every process runs in its own session (process group) so that stopping it also stops the
children it forked, and is tracked by PID so a later `down` can find it after a crash.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class ProcessFailedToStart(RuntimeError):
    """A managed process did not become healthy; the message names it and its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 0.5) -> bool:
    """True when a GET of `url` answers 2xx: the readiness probe for a started server."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return 200 <= int(response.status) < 300
    except (OSError, ValueError):  # refused, timed out, or an HTTP error status
        return False


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll `predicate` until it holds; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def pid_alive(pid: int) -> bool:
    """True for a running process; a zombie (killed, not yet reaped) counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state letter follows the parenthesised command name, which may hold spaces.
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def process_group(pid: int) -> int | None:
    """The process group of `pid` (field 5 of /proc/PID/stat), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return int(stat.rsplit(")", 1)[1].split()[2])


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if process_group(pid) == pgid and pid_alive(pid):
            members.append(pid)
    return members


def run_as_prefix(user: str | None) -> list[str]:
    """Command prefix that drops root to `user` (PostgreSQL refuses to run as root)."""
    if user is None or os.geteuid() != 0:
        return []
    entry = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups"]


def chown_to(path: Path, user: str | None) -> None:
    if user is None or os.geteuid() != 0:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


class ManagedProcess:
    """One long-running server process with its log file and PID file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        pid_path: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = [*run_as_prefix(user), *argv]
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.pid_path = pid_path
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        if self.pid_path is not None:
            self.pid_path.parent.mkdir(parents=True, exist_ok=True)
            self.pid_path.write_text(f"{self._popen.pid}\n")

    def is_running(self) -> bool:
        if self._popen is None:
            return False
        if self._popen.poll() is not None:
            return False
        return pid_alive(self._popen.pid)

    def wait_healthy(self, probe: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if probe():
                return
            if self._popen is not None and self._popen.poll() is not None:
                raise ProcessFailedToStart(
                    f"{self.name} exited with code {self._popen.returncode} during start-up; "
                    f"see {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.05)
        raise ProcessFailedToStart(
            f"{self.name} did not become healthy within {timeout:.0f}s; see {self.log_path}:\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log written)"

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the process itself (not its group): what a fault injection wants."""
        if self._popen is not None and self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._popen.pid, sig)

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> None:
        """Stop the whole process group: `sig` first, SIGKILL after `timeout`."""
        if self._popen is None:
            return
        stop_process_group(self._popen.pid, timeout, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout=5)
        if self.pid_path is not None:
            self.pid_path.unlink(missing_ok=True)


def stop_process_group(pid: int, timeout: float = 15.0, sig: int = signal.SIGTERM) -> None:
    """Signal a process group led by `pid`, escalate to SIGKILL, wait until it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.05)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.05)

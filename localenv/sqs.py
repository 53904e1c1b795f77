"""The local SQS-compatible endpoint: LocalStack's SQS provider on 127.0.0.1, without Docker.

LocalStack (community core, pinned in scripts/install-sqs-endpoint.sh) runs from its own venv
`.venv-sqs` (it needs Python >= 3.13, the project runs on 3.11). It is started in its own
session so that stop() ends it and anything it forked, with its state (log, PID file,
LocalStack's file-system root and HOME) kept under `state_dir`.

The server process is `localenv/sqs_server.py`: LocalStack behind a thread-per-connection
HTTP/1.1 server bound to 127.0.0.1, which costs about a third less CPU per SQS call than
LocalStack's own gateways (see that file). start() still refuses an endpoint with any listener
but HOST:port (`listening_addresses`), in case a LocalStack upgrade opens one.

The queues live in memory: kill() or stop() loses them. To simulate an SQS outage without
losing messages, pause() and resume() freeze and thaw the process (clients time out meanwhile).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from localenv.procs import group_members, pid_alive

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VENV = REPO_ROOT / ".venv-sqs"
SERVER_SCRIPT = Path(__file__).resolve().with_name("sqs_server.py")
INSTALL_HINT = "run: make sqs-endpoint (or: bash scripts/install-sqs-endpoint.sh)"
HOST = "127.0.0.1"

# Fixed dummy credentials for the local endpoint (it accepts any); never real secrets.
LOCAL_REGION = "us-east-1"
LOCAL_AWS_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",  # LocalStack's documented dummy value
    "AWS_DEFAULT_REGION": LOCAL_REGION,
}

# Everything the LocalStack process sees; nothing is inherited but PATH and the locale, so a
# developer's own LocalStack or AWS variables cannot change what the tests run against.
_LOCALSTACK_SETTINGS: dict[str, str] = {
    # /.dockerenv exists on some hosts: without this LocalStack takes itself for a container
    # and writes to /var/lib/localstack instead of FILESYSTEM_ROOT.
    "OVERRIDE_IN_DOCKER": "0",
    "SERVICES": "sqs",
    "EAGER_SERVICE_LOADING": "1",
    "SQS_ENDPOINT_STRATEGY": "path",  # queue URLs http://127.0.0.1:PORT/queue/REGION/ACCOUNT/NAME
    "SQS_DISABLE_CLOUDWATCH_METRICS": "1",
    "DNS_ADDRESS": "0",  # no DNS server (it would listen on port 53)
    "DISABLE_EVENTS": "1",  # no analytics
    "SKIP_SSL_CERT_DOWNLOAD": "1",  # no download at start-up
    "LS_LOG": "warn",  # one INFO line per request would grow the log by MBs in a drill
    # ... and LS_LOG leaves the request loggers at INFO: every call built a log record that
    # the handler then dropped.
    "LOG_LEVEL_OVERRIDES": "localstack.request=WARNING",
    "DISABLE_CORS_HEADERS": "1",  # no browser calls it; LocalStack's stricter CORS setting
}


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _proc_net_address(address: str) -> str:
    """"0100007F:1F90" (as /proc/net/tcp writes it) -> "127.0.0.1:8080"."""
    host_hex, port_hex = address.split(":")
    raw = bytes.fromhex(host_hex)
    if len(raw) == 4:
        host = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        host = socket.inet_ntop(socket.AF_INET6, words)
    return f"{host}:{int(port_hex, 16)}"


class SqsEndpointError(RuntimeError):
    """The endpoint is not installed, or did not become healthy; the message says where to look."""


class SqsEndpoint:
    """LocalStack SQS on 127.0.0.1:`port`, state under `state_dir`.

    >>> with SqsEndpoint(port, Path("var/sqs")) as sqs:
    ...     boto3.client("sqs", endpoint_url=sqs.endpoint_url, **sqs.boto3_kwargs())
    """

    def __init__(self, port: int, state_dir: Path, *, venv: Path | None = None) -> None:
        self.port = port
        self.state_dir = Path(state_dir)
        self.venv = venv if venv is not None else DEFAULT_VENV
        self.log_path = self.state_dir / "sqs-endpoint.log"
        self.pid_path = self.state_dir / "sqs-endpoint.pid"
        self._popen: subprocess.Popen[bytes] | None = None

    # -- addresses ------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @staticmethod
    def boto3_kwargs() -> dict[str, str]:
        """Region and dummy credentials for `boto3.client("sqs", endpoint_url=..., **kwargs)`."""
        return {
            "region_name": LOCAL_REGION,
            "aws_access_key_id": LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        }

    # -- life cycle -----------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> SqsEndpoint:
        """Launch the endpoint and wait until an SQS call succeeds; raise SqsEndpointError
        naming the log file if it exits or does not answer within `timeout` seconds."""
        if self.is_running():
            return self
        python = self.venv / "bin" / "python"
        if not python.exists() or not (self.venv / ".installed").exists():
            raise SqsEndpointError(
                f"SQS endpoint not installed (or its install did not finish) in {self.venv}; "
                f"{INSTALL_HINT}"
            )
        if not _port_free(self.port):
            raise SqsEndpointError(
                f"cannot start the SQS endpoint: {HOST}:{self.port} is already in use"
            )
        fs_root = self.state_dir / "ls-root"
        for path in (self.state_dir, fs_root, fs_root / "home"):
            path.mkdir(parents=True, exist_ok=True)
        self._seed_service_catalog(fs_root)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "HOME": str(fs_root / "home"),
            "FILESYSTEM_ROOT": str(fs_root),
            "GATEWAY_LISTEN": f"{HOST}:{self.port}",
            "LOCALSTACK_HOST": f"{HOST}:{self.port}",
            **_LOCALSTACK_SETTINGS,
        }
        with self.log_path.open("ab") as log:
            log.write(f"--- starting SQS endpoint on {self.endpoint_url}\n".encode())
            log.flush()
            self._popen = subprocess.Popen(
                # -I: isolated, neither this directory nor PYTHON* variables reach sys.path.
                [str(python), "-I", str(SERVER_SCRIPT), "serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.state_dir,
                start_new_session=True,
            )
        self.pid_path.write_text(f"{self._popen.pid}\n")
        try:
            self._wait_healthy(timeout)
            self._check_loopback_only()
        except BaseException:
            self.stop()
            raise
        return self

    def _check_loopback_only(self) -> None:
        expected = [f"tcp {HOST}:{self.port}"]
        found = self.listening_addresses()
        if found != expected:
            raise SqsEndpointError(
                f"SQS endpoint listens on {found}, expected only {expected}: refusing to run "
                f"it (a LocalStack other than the pinned one?); see {self.log_path}"
            )

    def listening_addresses(self) -> list[str]:
        """TCP listeners and bound UDP sockets of the endpoint's process group, as
        "tcp 127.0.0.1:4566" (from /proc: the sockets its processes hold)."""
        if self._popen is None:
            return []
        inodes: set[str] = set()
        for pid in group_members(self._popen.pid):
            with contextlib.suppress(OSError):  # a member may exit meanwhile
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        target = os.readlink(fd)
                        if target.startswith("socket:["):
                            inodes.add(target[8:-1])
        found = []
        for table in ("tcp", "tcp6", "udp", "udp6"):
            try:
                lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
            except FileNotFoundError:  # a kernel without IPv6 has no tcp6/udp6 table
                continue
            for line in lines:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                bound = state == "0A" if table.startswith("tcp") else state == "07"
                if inode in inodes and bound:
                    found.append(f"{table} {_proc_net_address(local)}")
        return sorted(found)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the whole process group, SIGKILL after `timeout`, reap the process."""
        self._signal_group(signal.SIGCONT)  # a paused endpoint cannot act on SIGTERM
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would (the queues are lost)."""
        self._end(signal.SIGKILL, 0.0)

    @classmethod
    def stop_leftover(cls, state_dir: Path, timeout: float = 5.0) -> int | None:
        """Stop an endpoint that an earlier, crashed process started with this `state_dir`
        (found through its PID file, checked against its command line). Returns its PID."""
        pid_path = Path(state_dir) / "sqs-endpoint.pid"
        try:
            pid = int(pid_path.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ValueError):
            pid_path.unlink(missing_ok=True)
            return None
        if cmdline[-3:-1] != [str(SERVER_SCRIPT).encode(), b"serve"]:
            pid_path.unlink(missing_ok=True)  # PID reused by something else
            return None
        for sig, wait in ((signal.SIGCONT, 0.0), (signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and pid_alive(pid):
                time.sleep(0.05)
        pid_path.unlink(missing_ok=True)
        return pid

    def pause(self) -> None:
        """Freeze the endpoint (SIGSTOP): connections hang, nothing is lost."""
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw an endpoint frozen by pause()."""
        self._signal_group(signal.SIGCONT)

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def healthy(self) -> bool:
        """True when LocalStack reports itself ready and answers an SQS ListQueues call.

        (A SIGTERM that arrives before LocalStack's own ready marker can leave it hanging for
        15 s, so start() waits for that marker too.)
        """
        try:
            ready = self._call("GET", "/_localstack/init/ready", None, {})
            if ready.get("completed") is not True:
                return False
            self._call(
                "POST",
                "/",
                b"{}",
                {
                    "Content-Type": "application/x-amz-json-1.0",
                    "X-Amz-Target": "AmazonSQS.ListQueues",
                },
            )
        except (OSError, ValueError):
            return False
        return True

    def _call(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - fixed http URL on loopback
            self.endpoint_url + path, data=body, method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            payload = json.loads(response.read() or b"{}")
        return payload if isinstance(payload, dict) else {}

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> SqsEndpoint:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------
    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._popen is not None and self._popen.poll() is not None:
                raise SqsEndpointError(
                    f"SQS endpoint exited with code {self._popen.returncode} during start-up; "
                    f"see {self.log_path}:\n{self.log_tail()}"
                )
            if self.healthy():
                return
            time.sleep(0.1)
        raise SqsEndpointError(
            f"SQS endpoint on {self.endpoint_url} not healthy after {timeout:.0f}s; "
            f"see {self.log_path}:\n{self.log_tail()}"
        )

    def _seed_service_catalog(self, fs_root: Path) -> None:
        """Copy the service index built at install time where LocalStack looks for a prebuilt
        one (its "static libs"); without it every start re-indexes all AWS service specs."""
        static_libs = fs_root / "usr" / "lib" / "localstack"
        static_libs.mkdir(parents=True, exist_ok=True)
        for catalog in (self.venv / "ls-root" / "usr" / "lib" / "localstack").glob(
            "service-catalog-*.dill"
        ):
            target = static_libs / catalog.name
            if not target.exists():
                shutil.copyfile(catalog, target)

    def _signal_group(self, sig: int) -> None:
        if self.is_running() and self._popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._popen.pid, sig)

    def _end(self, sig: int, timeout: float) -> None:
        if self._popen is None:
            return
        pgid = self._popen.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout=timeout)
        if self._popen.poll() is None or sig != signal.SIGKILL:
            # Escalate, and take down any child the leader left behind in its group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            self._popen.wait()
        self._popen = None
        self.pid_path.unlink(missing_ok=True)

"""A throwaway Redis server on a loopback port (no persistence: Redis is never the source of
truth for orders)."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

from localenv.procs import ManagedProcess, port_open


def redis_server_binary() -> str:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server not found; run: sudo apt-get install -y redis-server")
    return binary


class RedisServer:
    def __init__(self, base_dir: Path, port: int) -> None:
        self.base_dir = base_dir
        self.port = port
        self.process = ManagedProcess(
            f"redis:{port}",
            [
                redis_server_binary(),
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(base_dir),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
            ],
            base_dir / f"redis-{port}.log",
            pid_path=base_dir / f"redis-{port}.pid",
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.process.start()
        self.process.wait_healthy(lambda: port_open(self.port), timeout)
        return self

    def stop(self) -> None:
        self.process.stop(timeout=10, sig=signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.process.stop(timeout=0, sig=signal.SIGKILL)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

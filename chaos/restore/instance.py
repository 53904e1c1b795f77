"""A restored PostgreSQL instance: its own data directory and port, never part of the
live cluster (started with `pg_ctl` as `postgres`, listening on 127.0.0.1 only).

The restored data directory carries the source node's Patroni-written postgresql.conf;
what would tie it to that node or to the cluster is overridden on the command line (which
takes precedence over every configuration file): port, addresses, socket directory, the
hba/ident files (Patroni points them at the source node's data directory, which may be the
destroyed one), archiving off, and no synchronous standby to wait for.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from chaos.stack.backup import POSTGRES_OS_USER
from localenv.procs import chown_to, free_port, run_as_prefix


class RestoredInstanceError(RuntimeError):
    pass


@dataclass
class RestoredInstance:
    work_dir: Path
    bin_dir: Path
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.work_dir / "run"

    @property
    def log_path(self) -> Path:
        return self.work_dir / "postgres.log"

    def dsn(self, database: str = "orders") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @staticmethod
    def _user() -> str | None:
        return POSTGRES_OS_USER if os.geteuid() == 0 else None

    def prepare(self) -> None:
        """An empty work dir (the data dir itself is created by the restore)."""
        if self.work_dir.exists():
            shutil.rmtree(self.work_dir)
        self.work_dir.mkdir(parents=True, mode=0o700)
        self.socket_dir.mkdir(mode=0o700)
        for path in (self.work_dir, self.socket_dir):
            chown_to(path, self._user())

    def _pg_ctl(self, *args: str, timeout: float = 60.0) -> None:
        argv = [*run_as_prefix(self._user()), str(self.bin_dir / "pg_ctl"), "-D",
                str(self.data_dir), *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False, cwd="/")
        if proc.returncode != 0:
            raise RestoredInstanceError(
                f"pg_ctl {args[-1]} failed: {(proc.stdout + proc.stderr).strip()[-800:]}")

    def start(self) -> None:
        self.port = self.port or free_port()
        overrides = {
            "port": str(self.port), "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.socket_dir),
            "hba_file": str(self.data_dir / "pg_hba.conf"),
            "ident_file": str(self.data_dir / "pg_ident.conf"),
            "archive_mode": "off", "synchronous_standby_names": "",
            "cluster_name": "restore-drill",
        }
        options = " ".join(f"-c {k}='{v}'" for k, v in overrides.items())
        self._pg_ctl("-l", str(self.log_path), "-o", options, "-W", "start")

    async def first_query(self, wait_s: float = 300.0) -> float:
        """Wait until the instance has finished recovery (promoted) and answers a query;
        returns time.time() of that answer."""
        deadline = time.monotonic() + wait_s
        last = "not started"
        while time.monotonic() < deadline:
            try:
                conn = await asyncpg.connect(self.dsn(), timeout=2.0)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                    TimeoutError) as error:
                last = f"{type(error).__name__}: {error}"
            else:
                try:
                    if not await conn.fetchval("SELECT pg_is_in_recovery()"):
                        return time.time()
                    last = "still in recovery"
                finally:
                    await conn.close()
            await asyncio.sleep(0.2)
        raise RestoredInstanceError(f"no query answered by the restored instance within "
                                    f"{wait_s:.0f}s ({last}); see {self.log_path}")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("-m", "fast", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)

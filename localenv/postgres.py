"""A throwaway PostgreSQL server on a loopback port, run as the `postgres` OS user."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import contract
from localenv.procs import ManagedProcess, chown_to, port_open, run_as_prefix

POSTGRES_OS_USER = "postgres"
DATABASE = contract.DATABASE_NAME
# Local roles mirror production: the owner runs migrations, the app role only does DML.
OWNER_ROLE = contract.OWNER_ROLE
APP_ROLE = contract.APP_ROLE


def postgres_bin_dir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    for candidate in reversed(candidates):
        if (candidate / "initdb").exists():
            return candidate
    raise RuntimeError(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
        "run: sudo apt-get install -y postgresql"
    )


def os_user() -> str | None:
    """PostgreSQL refuses to run as root, so root drops to the postgres user."""
    return POSTGRES_OS_USER if os.geteuid() == 0 else None


@dataclass(frozen=True)
class PostgresUrls:
    superuser: str
    owner: str
    app: str


class PostgresServer:
    """initdb + postgres on 127.0.0.1:`port`, data and socket under `base_dir`."""

    def __init__(self, base_dir: Path, port: int, *, durable: bool = True) -> None:
        self.base_dir = base_dir
        self.port = port
        self.durable = durable
        self.data_dir = base_dir / "data"
        self.socket_dir = base_dir / "run"
        self.bin_dir = postgres_bin_dir()
        self.process = ManagedProcess(
            "postgres",
            [
                str(self.bin_dir / "postgres"),
                "-D", str(self.data_dir),
                "-p", str(port),
                "-k", str(self.socket_dir),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=200",
                # Loaded as the production cluster loads it (infra/database.py's parameter
                # group): statement statistics are there when needed (make bench reads them).
                "-c", "shared_preload_libraries=pg_stat_statements",
                "-c", f"fsync={'on' if durable else 'off'}",
                "-c", f"synchronous_commit={'on' if durable else 'off'}",
            ],
            base_dir / "postgres.log",
            user=os_user(),
            pid_path=base_dir / "postgres.pid",
        )

    @property
    def urls(self) -> PostgresUrls:
        base = f"127.0.0.1:{self.port}/{DATABASE}"
        return PostgresUrls(
            superuser=f"postgresql://postgres@{base}",
            owner=f"postgresql://{OWNER_ROLE}@{base}",
            app=f"postgresql://{APP_ROLE}@{base}",
        )

    def start(self, timeout: float = 30.0) -> PostgresServer:
        fresh = not (self.data_dir / "PG_VERSION").exists()
        self._prepare_dirs()
        if fresh:
            self._initdb()
        self.process.start()
        self.process.wait_healthy(self._ready, timeout)
        if fresh:
            self._create_database_and_roles()
        return self

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: roll back clients, checkpoint, exit.
        self.process.stop(timeout=20, sig=signal.SIGINT)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def psql(self, sql: str, *, user: str = "postgres", database: str = DATABASE) -> str:
        out = subprocess.run(
            [
                str(self.bin_dir / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-qAt",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", database,
                "-c", sql,
            ],
            capture_output=True, text=True, check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def _prepare_dirs(self) -> None:
        for path in (self.base_dir, self.data_dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
        # The postgres user must traverse base_dir and own its data directory.
        self.base_dir.chmod(0o755)
        if os_user() is not None:
            for ancestor in self.base_dir.resolve().parents:
                if not ancestor.stat().st_mode & 0o001:
                    raise RuntimeError(
                        f"{ancestor} is not traversable by the postgres user; "
                        f"put the PostgreSQL directory elsewhere or run: chmod o+x {ancestor}"
                    )
        self.data_dir.chmod(0o700)
        for path in (self.data_dir, self.socket_dir):
            chown_to(path, os_user())
        log = self.base_dir / "postgres.log"
        log.touch()
        chown_to(log, os_user())

    def _initdb(self) -> None:
        result = subprocess.run(
            [
                *run_as_prefix(os_user()),
                str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--data-checksums",
            ],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed in {self.data_dir}: {result.stderr.strip()}")

    def _ready(self) -> bool:
        if not port_open(self.port):
            return False
        probe = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return probe.returncode == 0

    def _create_database_and_roles(self) -> None:
        self.psql(
            f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEROLE; CREATE ROLE {APP_ROLE} LOGIN;",
            database="postgres",
        )
        self.psql(f"CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE}", database="postgres")
        self.psql(f"GRANT {APP_ROLE} TO {OWNER_ROLE} WITH ADMIN OPTION")

    def remove(self) -> None:
        shutil.rmtree(self.base_dir, ignore_errors=True)

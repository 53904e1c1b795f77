"""pgBackRest for the local HA stack (stack option `backup`): WAL archiving from whichever
node leads, full and incremental backups, `check`, `verify`, `info`, and restores into a
fresh data directory.

One stanza (`orders`) and one repository under `<state_dir>/pgbackrest/repo`, encrypted
(aes-256-cbc) with a passphrase generated at `up` into `pgbackrest.conf` (mode 0600, owned
by `postgres`; it is never printed or logged). Every node's Patroni config sets
`archive_mode=on` and an `archive_command` naming the node's own data directory
(`--pg1-path`), so a node that becomes leader after a failover archives into the same
stanza without a configuration change, and the archiver never reads another node's
(possibly destroyed) data directory. Backups, `check` and restores name the node on the
command line (`--pg1-path/--pg1-port/--pg1-socket-path` of the current leader): the
configuration holds no node, because the leader moves.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos.stack.errors import StackError
from localenv.procs import chown_to, run_as_prefix

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

STANZA = "orders"
PGBACKREST_BIN = "/usr/bin/pgbackrest"
POSTGRES_OS_USER = "postgres"
RETENTION_FULL = 2


@dataclass(frozen=True)
class BackupPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "pgbackrest.conf"

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def logs(self) -> Path:
        return self.root / "log"

    @property
    def locks(self) -> Path:
        return self.root / "lock"

    @property
    def spool(self) -> Path:
        return self.root / "spool"


def config_text(paths: BackupPaths, cipher_pass: str) -> str:
    """pgbackrest.conf: the repository, its cipher and retention; no node (see module doc)."""
    return "\n".join([
        "[global]",
        f"repo1-path={paths.repo}",
        "repo1-cipher-type=aes-256-cbc",
        f"repo1-cipher-pass={cipher_pass}",
        f"repo1-retention-full={RETENTION_FULL}",
        f"log-path={paths.logs}",
        f"lock-path={paths.locks}",
        f"spool-path={paths.spool}",
        "log-level-console=warn",
        "log-level-file=info",
        # An immediate checkpoint: the default spread one would make a backup wait minutes.
        "start-fast=y",
        "compress-type=lz4",
        "",
        f"[{STANZA}]",
        "",
    ])


def plan_backup(state_dir: Path) -> BackupPaths:
    """Create the repository and the config with a fresh passphrase (0600, owned by the
    postgres user, which runs archive-push)."""
    paths = BackupPaths(state_dir / "pgbackrest")
    user = POSTGRES_OS_USER if os.geteuid() == 0 else None
    for directory in (paths.root, paths.repo, paths.logs, paths.locks, paths.spool):
        directory.mkdir(mode=0o700, exist_ok=True)
        chown_to(directory, user)
    fd = os.open(paths.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(config_text(paths, secrets.token_urlsafe(48)))
    chown_to(paths.config, user)
    return paths


def archive_command(config: Path, data_dir: Path) -> str:
    return (f"{PGBACKREST_BIN} --config={config} --stanza={STANZA} --pg1-path={data_dir}"
            " archive-push %p")


def archive_parameters(config: Path, data_dir: Path) -> dict[str, str]:
    """Patroni `postgresql.parameters` of one node (local config: it overrides the DCS)."""
    return {"archive_mode": "on", "archive_command": archive_command(config, data_dir)}


def enabled(stack: Stack) -> bool:
    return bool(stack.endpoints.get("pgbackrest_config"))


def node_options(stack: Stack, node: str) -> list[str]:
    """`--pg1-*` for one Patroni node (its data dir, port and socket dir)."""
    comp = stack.component(node)
    return [f"--pg1-path={comp.paths['data_dir']}", f"--pg1-port={comp.ports['pg']}",
            f"--pg1-socket-path={Path(comp.paths['dir']) / 'run'}"]


class PgBackRestError(StackError):
    pass


def run(stack: Stack, command: str, *options: str, timeout: float = 600.0) -> str:
    """One pgbackrest command as the postgres user; raises PgBackRestError on failure
    (its output has no secret: the passphrase stays in the config file)."""
    if not enabled(stack):
        raise PgBackRestError("the stack runs without pgBackRest (start it with --backup)")
    user = POSTGRES_OS_USER if os.geteuid() == 0 else None
    argv = [*run_as_prefix(user), PGBACKREST_BIN,
            f"--config={stack.endpoints['pgbackrest_config']}", f"--stanza={STANZA}",
            *options, command]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          check=False, cwd="/")
    if proc.returncode != 0:
        raise PgBackRestError(f"pgbackrest {command} failed (exit {proc.returncode}): "
                              f"{(proc.stdout + proc.stderr).strip()[-1500:]}")
    return proc.stdout


def leader_or_fail(stack: Stack) -> str:
    leader = stack.pg_leader()
    if leader is None:
        raise PgBackRestError("no PostgreSQL leader to back up from")
    return leader


def stanza_create(stack: Stack) -> None:
    run(stack, "stanza-create", *node_options(stack, leader_or_fail(stack)))


def check(stack: Stack) -> float:
    """`pgbackrest check` on the leader: it switches WAL and waits until the segment is in
    the archive, so afterwards every commit so far is archived. Returns its seconds."""
    started = time.monotonic()
    run(stack, "check", *node_options(stack, leader_or_fail(stack)))
    return round(time.monotonic() - started, 3)


def verify(stack: Stack) -> str:
    """`pgbackrest verify`: every backup file and archived WAL segment read back and
    checksummed against the repository's manifests."""
    return run(stack, "verify").strip()


def info(stack: Stack) -> list[dict[str, Any]]:
    return list(json.loads(run(stack, "info", "--output=json")))


@dataclass(frozen=True)
class BackupResult:
    type: str
    label: str
    seconds: float
    size_bytes: int  # the database size the backup covers
    repo_bytes: int  # what it added to the repository (compressed, encrypted)
    started_at: float
    stopped_at: float


def backup(stack: Stack, backup_type: str = "full") -> BackupResult:
    """A `full`, `diff` or `incr` backup from the current leader."""
    started = time.monotonic()
    run(stack, "backup", f"--type={backup_type}", *node_options(stack, leader_or_fail(stack)))
    seconds = round(time.monotonic() - started, 3)
    stanzas = info(stack)
    latest = stanzas[0]["backup"][-1]
    return BackupResult(latest["type"], latest["label"], seconds,
                        int(latest["info"]["size"]), int(latest["info"]["repository"]["delta"]),
                        float(latest["timestamp"]["start"]), float(latest["timestamp"]["stop"]))


def target_text(target: datetime) -> str:
    """pgBackRest's time format (2.45 accepts milliseconds at most, not ISO's 'T')."""
    utc = target.astimezone(UTC)
    if utc.microsecond % 1000:
        raise ValueError(f"a restore target has millisecond precision at most: {target}")
    return f"{utc:%Y-%m-%d %H:%M:%S}.{utc.microsecond // 1000:03d}+00"


def restore(stack: Stack, data_dir: Path, *, target: datetime | None = None) -> float:
    """Restore into an empty `data_dir` (created here, owned by postgres): to `target` (a
    time with millisecond precision at most; promote when reached) or, without one, to the
    end of the archive. Archiving is disabled in the restored configuration
    (`--archive-mode=off`), so the copy can never push WAL of its own timeline into the
    live stanza. Returns the seconds taken."""
    user = POSTGRES_OS_USER if os.geteuid() == 0 else None
    data_dir.mkdir(mode=0o700, parents=True)
    chown_to(data_dir, user)
    options = [f"--pg1-path={data_dir}", "--archive-mode=off"]
    if target is not None:
        options += ["--type=time", f"--target={target_text(target)}", "--target-action=promote"]
    else:
        options += ["--type=default"]
    started = time.monotonic()
    run(stack, "restore", *options)
    return round(time.monotonic() - started, 3)

"""Patroni + PostgreSQL 15 nodes (pg-a, pg-b, pg-c; one per zone), run as `postgres`.

A node has two processes to act on: Patroni (the recorded PID) and the postmaster it forks
into its own session, found through `data/postmaster.pid` (its command line names the data
dir), so it outlives a killed Patroni.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos.stack import backup, configs, probes
from chaos.stack.drivers.base import (
    Driver,
    PlanContext,
    binary,
    postgres_bin_dir,
    register,
)
from chaos.stack.proc import cmdline, is_ours, signal_pid, wait_gone
from chaos.stack.state import ZONES, Component
from localenv.procs import chown_to, pid_alive, run_as_prefix

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

POSTGRES_OS_USER = "postgres"
PATRONI_BIN = "/usr/bin/patroni"
LEADER_ROLES = ("leader", "master", "primary")


@dataclass(frozen=True)
class PatroniNode:
    name: str
    zone: str
    rest_port: int
    pg_port: int
    node_dir: Path
    host: str = "127.0.0.1"

    @property
    def data_dir(self) -> Path:
        return self.node_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.node_dir / "run"

    @property
    def config_path(self) -> Path:
        return self.node_dir / "patroni.yml"


def _dcs() -> dict[str, Any]:
    return {
        # Recipe timings: with Patroni's defaults (ttl 30, loop_wait 10) a Patroni SIGKILL
        # took 25 s to fail over; these give ~9 s.
        "ttl": 10,
        "loop_wait": 2,
        "retry_timeout": 3,
        "maximum_lag_on_failover": 1048576,
        "synchronous_mode": True,
        # A crashed primary is failed over to the synchronous standby at once instead of
        # being restarted in place for up to 300 s: this is what Aurora does, it was the
        # faster of the two measured options (2.2-4.3 s vs 3.2-5.3 s), and synchronous_mode
        # makes it lossless. The old primary rejoins via pg_rewind.
        "primary_start_timeout": 0,
        "postgresql": {
            "use_pg_rewind": True,
            "use_slots": True,
            "parameters": {
                "wal_level": "replica",
                "hot_standby": "on",
                "wal_log_hints": "on",
                "max_connections": 300,
                "max_wal_senders": 10,
                "max_replication_slots": 10,
                "wal_keep_size": "256MB",
                "synchronous_commit": "on",
            },
        },
    }


def patroni_config(node: PatroniNode, etcd: str, bin_dir: Path, post_bootstrap: Path,
                   client_cidr: str = "127.0.0.1/32", backup_config: Path | None = None) -> str:
    """Patroni YAML (written as JSON, which YAML parsers accept: no PyYAML needed here).
    `etcd` is host:port; `client_cidr` who may connect (trust: no passwords anywhere);
    `backup_config`: pgBackRest's config, to archive WAL with it (chaos.stack.backup)."""
    hba_sources = sorted({"127.0.0.1/32", client_cidr})
    config = {
        "scope": configs.PATRONI_SCOPE,
        "namespace": "/service/",
        "name": node.name,
        "log": {"level": "INFO"},
        "restapi": {
            "listen": f"{node.host}:{node.rest_port}",
            "connect_address": f"{node.host}:{node.rest_port}",
        },
        # etcd 3.4 has the v2 API off: Patroni's etcd3 client (gRPC gateway) is required.
        "etcd3": {"host": etcd, "protocol": "http"},
        "bootstrap": {
            "dcs": _dcs(),
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums",
                       {"auth": "trust"}],
            # Creates the `orders` database and its roles on the first leader only.
            "post_bootstrap": str(post_bootstrap),
        },
        "postgresql": {
            "listen": f"{node.host}:{node.pg_port}",
            "connect_address": f"{node.host}:{node.pg_port}",
            "data_dir": str(node.data_dir),
            "bin_dir": str(bin_dir),
            "pgpass": str(node.node_dir / "pgpass"),
            "use_unix_socket": True,
            # pg_basebackup's default spread checkpoint kept new replicas waiting ~60 s.
            "basebackup": [{"checkpoint": "fast"}],
            "authentication": {
                "superuser": {"username": "postgres"},
                "replication": {"username": configs.REPLICATION_ROLE},
                "rewind": {"username": "postgres"},
            },
            "pg_hba": ["local all all trust"]
            + [f"host all all {cidr} trust" for cidr in hba_sources]
            + [f"host replication all {cidr} trust" for cidr in hba_sources],
            "parameters": {
                "unix_socket_directories": str(node.socket_dir),
                "listen_addresses": node.host,
                **(backup.archive_parameters(backup_config, node.data_dir)
                   if backup_config else {}),
            },
        },
        "tags": {"zone": node.zone},
        "watchdog": {"mode": "off"},
    }
    return json.dumps(config, indent=2) + "\n"


def post_bootstrap_script(psql: Path) -> str:
    """Run by Patroni (as postgres) with a superuser connection string as $1. Mirrors
    localenv/postgres.py: the owner runs migrations and may create the app role."""
    # One -c per statement: psql runs a multi-statement -c as one transaction, and
    # CREATE DATABASE cannot run inside one.
    statements = [
        f"CREATE ROLE {configs.OWNER_ROLE} LOGIN CREATEROLE",
        f"CREATE ROLE {configs.APP_ROLE} LOGIN",
        f"CREATE DATABASE {configs.DATABASE} OWNER {configs.OWNER_ROLE}",
        f"GRANT {configs.APP_ROLE} TO {configs.OWNER_ROLE} WITH ADMIN OPTION",
    ]
    commands = " ".join(f'-c "{sql}"' for sql in statements)
    return f'#!/bin/sh\nset -eu\nexec "{psql}" -X -v ON_ERROR_STOP=1 -q -d "$1" {commands}\n'


def postmaster_pid(comp: Component) -> int | None:
    data_dir = comp.paths.get("data_dir")
    if comp.kind != "patroni" or not data_dir:
        return None
    try:
        pid = int((Path(data_dir) / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError, PermissionError):
        return None
    line = cmdline(pid)
    return pid if pid_alive(pid) and line is not None and data_dir in line else None


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    kids.append(int(entry.name))
    return kids


class PatroniDriver(Driver):
    kind = "patroni"
    stop_tier = 2

    def plan(self, ctx: PlanContext) -> None:
        bin_dir = postgres_bin_dir()
        post_bootstrap = ctx.state_dir / "post_bootstrap.sh"
        post_bootstrap.write_text(post_bootstrap_script(bin_dir / "psql"))
        post_bootstrap.chmod(0o755)
        patroni = binary(PATRONI_BIN, "patroni")
        user = POSTGRES_OS_USER if os.geteuid() == 0 else None
        etcd = ctx.of_kind("etcd")[0]
        etcd_addr = f"{etcd.host}:{etcd.ports['client']}"
        backup_config = backup.plan_backup(ctx.state_dir).config if ctx.options.backup else None
        if backup_config is not None:
            ctx.endpoints["pgbackrest_config"] = str(backup_config)
            ctx.endpoints["pgbackrest_stanza"] = backup.STANZA
        for zone in ZONES:
            name = f"pg-{zone}"
            ports = {"rest": ctx.ports.take(), "pg": ctx.ports.take()}
            comp = ctx.add(name, "patroni", zone, [], "", ports)
            node = PatroniNode(name, zone, ports["rest"], ports["pg"],
                               ctx.state_dir / name, comp.host)
            node.socket_dir.mkdir()
            node.config_path.write_text(
                patroni_config(node, etcd_addr, bin_dir, post_bootstrap, ctx.network.cidr,
                               backup_config)
            )
            for path in (node.node_dir, node.socket_dir, node.config_path):
                chown_to(path, user)
            node.node_dir.chmod(0o700)
            comp.argv = [*run_as_prefix(user), patroni, str(node.config_path)]
            comp.match = str(node.config_path)
            comp.paths |= {"config": str(node.config_path), "data_dir": str(node.data_dir)}
        ctx.endpoints["patroni_rest"] = {
            c.name: f"http://{c.host}:{c.ports['rest']}" for c in ctx.of_kind("patroni")
        }
        ctx.endpoints["pg_bin_dir"] = str(bin_dir)

    def env(self, stack: Stack, comp: Component) -> dict[str, str]:
        env = super().env(stack, comp)
        # Debian's patroni runs on /usr/bin/python3: keep the project venv out of it.
        for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(var, None)
        env["HOME"] = comp.paths["dir"]
        return env

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        data = probes.http_json(f"http://{comp.host}:{comp.ports['rest']}/patroni", timeout=0.5)
        if not isinstance(data, dict):
            return False, "Patroni REST API not answering"
        state, role = data.get("state"), data.get("role")
        return state == "running", f"{role} {state}"

    def signal_targets(self, stack: Stack, comp: Component, part: str) -> list[tuple[int, bool]]:
        targets: list[tuple[int, bool]] = []
        postmaster = postmaster_pid(comp)
        # Patroni first, so it cannot restart a postmaster killed a moment before it.
        if part in ("all", "process") and comp.pid and is_ours(
            comp.pid, comp.match, comp.start_ticks
        ):
            targets.append((comp.pid, True))
        if part in ("all", "postmaster") and postmaster:
            targets.append((postmaster, False))
        return targets

    def still_alive(self, stack: Stack, comp: Component) -> bool:
        return postmaster_pid(comp) is not None

    def after_stop(self, stack: Stack, comp: Component, timeout: float) -> None:
        """A postmaster left behind by a killed Patroni: fast shutdown, then SIGKILL."""
        pid = postmaster_pid(comp)
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


# ---------------------------------------------------------------------------- cluster view
def cluster(stack: Stack) -> list[dict[str, Any]]:
    """Patroni's view of the members (from the first node whose REST API answers)."""
    for comp in stack.components(kind="patroni"):
        data = probes.http_json(f"http://{comp.host}:{comp.ports['rest']}/cluster", timeout=0.5)
        if isinstance(data, dict) and "members" in data:
            return list(data["members"])
    return []


def leader(stack: Stack) -> str | None:
    for member in cluster(stack):
        if member.get("role") in LEADER_ROLES and member.get("state") == "running":
            return str(member["name"])
    return None


def replication(stack: Stack, leader_name: str) -> tuple[list[str], str | None]:
    """(streaming replicas, synchronous standby) as the leader reports them."""
    comp = stack.component(leader_name)
    data = probes.http_json(f"http://{comp.host}:{comp.ports['rest']}/patroni", timeout=0.5)
    rows = data.get("replication", []) if isinstance(data, dict) else []
    streaming = [r["application_name"] for r in rows if r.get("state") == "streaming"]
    sync = next(
        (r["application_name"] for r in rows if r.get("sync_state") in ("sync", "quorum")), None
    )
    return streaming, sync


def ready_with_replicas(stack: Stack) -> bool:
    name = leader(stack)
    if name is None:
        return False
    streaming, sync = replication(stack, name)
    return len(streaming) >= len(stack.components(kind="patroni")) - 1 and sync is not None


def write_probe(stack: Stack) -> tuple[bool, str]:
    """A real commit through HAProxy (txid_current() needs a writable primary and its commit
    waits for the synchronous standby)."""
    return probes.psql(
        Path(stack.endpoints["pg_bin_dir"]),
        stack.endpoints["database_url_superuser"] + "?connect_timeout=2",
        "SELECT txid_current()",
    )


def writable_nodes(stack: Stack) -> list[str]:
    """Nodes whose PostgreSQL answers as a primary (not in recovery), asked directly by the
    observer: more than one at a time would be a split brain."""
    found = []
    for comp in stack.components(kind="patroni"):
        dsn = f"postgresql://postgres@{comp.host}:{comp.ports['pg']}/postgres?connect_timeout=1"
        ok, out = probes.psql(Path(stack.endpoints["pg_bin_dir"]), dsn,
                              "SELECT pg_is_in_recovery()", timeout=2.0)
        if ok and out.strip() == "f":
            found.append(comp.name)
    return found


register(PatroniDriver())

"""Configuration files of the stack's servers, rendered from the measured recipe
(../shared/local-ha-recipes.md): fast Patroni/HAProxy/Sentinel timings, loopback only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PATRONI_SCOPE = "orders-pg"
REDIS_MASTER_NAME = "mymaster"
DATABASE = "orders"
OWNER_ROLE = "orders_owner"
APP_ROLE = "orders_app"
REPLICATION_ROLE = "replicator"


def etcd_argv(binary: str, data_dir: Path, client_port: int, peer_port: int) -> list[str]:
    client = f"http://127.0.0.1:{client_port}"
    peer = f"http://127.0.0.1:{peer_port}"
    return [
        binary, "--name", "e1", "--data-dir", str(data_dir),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", f"e1={peer}", "--initial-cluster-state", "new",
    ]


@dataclass(frozen=True)
class PatroniNode:
    name: str
    zone: str
    rest_port: int
    pg_port: int
    node_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.node_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.node_dir / "run"

    @property
    def config_path(self) -> Path:
        return self.node_dir / "patroni.yml"


def patroni_config(
    node: PatroniNode, etcd_port: int, bin_dir: Path, post_bootstrap: Path
) -> str:
    """Patroni YAML (written as JSON, which YAML parsers accept: no PyYAML needed here)."""
    config = {
        "scope": PATRONI_SCOPE,
        "namespace": "/service/",
        "name": node.name,
        "log": {"level": "INFO"},
        "restapi": {
            "listen": f"127.0.0.1:{node.rest_port}",
            "connect_address": f"127.0.0.1:{node.rest_port}",
        },
        # etcd 3.4 has the v2 API off: Patroni's etcd3 client (gRPC gateway) is required.
        "etcd3": {"host": f"127.0.0.1:{etcd_port}", "protocol": "http"},
        "bootstrap": {
            "dcs": {
                # Recipe timings: with Patroni's defaults (ttl 30, loop_wait 10) a Patroni
                # SIGKILL took 25 s to fail over; these give ~9 s.
                "ttl": 10,
                "loop_wait": 2,
                "retry_timeout": 3,
                "maximum_lag_on_failover": 1048576,
                "synchronous_mode": True,
                # A crashed primary is failed over to the synchronous standby at once instead
                # of being restarted in place for up to 300 s: this is what Aurora does, it
                # was the faster of the two measured options (2.2-4.3 s vs 3.2-5.3 s), and
                # synchronous_mode makes it lossless. The old primary rejoins via pg_rewind.
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
            },
            "initdb": [
                {"encoding": "UTF8"},
                {"locale": "C.UTF-8"},
                "data-checksums",
                {"auth": "trust"},
            ],
            # Creates the `orders` database and its roles on the first leader only.
            "post_bootstrap": str(post_bootstrap),
        },
        "postgresql": {
            "listen": f"127.0.0.1:{node.pg_port}",
            "connect_address": f"127.0.0.1:{node.pg_port}",
            "data_dir": str(node.data_dir),
            "bin_dir": str(bin_dir),
            "pgpass": str(node.node_dir / "pgpass"),
            "use_unix_socket": True,
            # pg_basebackup's default spread checkpoint kept new replicas waiting ~60 s.
            "basebackup": [{"checkpoint": "fast"}],
            # Trust over loopback, as everywhere locally: no passwords in code or files.
            "authentication": {
                "superuser": {"username": "postgres"},
                "replication": {"username": REPLICATION_ROLE},
                "rewind": {"username": "postgres"},
            },
            "pg_hba": [
                "local all all trust",
                "host all all 127.0.0.1/32 trust",
                "host replication all 127.0.0.1/32 trust",
            ],
            "parameters": {
                "unix_socket_directories": str(node.socket_dir),
                "listen_addresses": "127.0.0.1",
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
        f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEROLE",
        f"CREATE ROLE {APP_ROLE} LOGIN",
        f"CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE}",
        f"GRANT {APP_ROLE} TO {OWNER_ROLE} WITH ADMIN OPTION",
    ]
    commands = " ".join(f'-c "{sql}"' for sql in statements)
    return f'#!/bin/sh\nset -eu\nexec "{psql}" -X -v ON_ERROR_STOP=1 -q -d "$1" {commands}\n'


@dataclass(frozen=True)
class HaproxyBackend:
    name: str
    port: int
    check_port: int


def haproxy_config(
    *,
    stats_socket: Path,
    pg_port: int,
    pg_replica_port: int,
    pg_nodes: list[HaproxyBackend],
    api_port: int | None,
    api_nodes: list[HaproxyBackend],
) -> str:
    lines = [
        "global",
        "    maxconn 4000",
        f"    stats socket {stats_socket} mode 600 level admin",
        "",
        "defaults",
        "    mode tcp",
        "    timeout connect 1s",
        "    timeout client 1h",
        "    timeout server 1h",
        "    timeout check 1s",
        "",
        # Writes go to whichever node answers Patroni's /primary with 200. OPTIONS, not GET:
        # GET /primary makes Patroni log a traceback on every check of a replica. When a node
        # is marked down its sessions are cut so clients reconnect to the new leader at once.
        "listen pg_primary",
        f"    bind 127.0.0.1:{pg_port}",
        "    option httpchk OPTIONS /primary",
        "    http-check expect status 200",
        "    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1"
        " on-marked-down shutdown-sessions",
    ]
    lines += [f"    server {n.name} 127.0.0.1:{n.port} check port {n.check_port}" for n in pg_nodes]
    lines += [
        "",
        # Read-only connections (e.g. the drill checker) go to any streaming replica.
        "listen pg_replicas",
        f"    bind 127.0.0.1:{pg_replica_port}",
        "    balance roundrobin",
        "    option httpchk OPTIONS /replica",
        "    http-check expect status 200",
        "    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1"
        " on-marked-down shutdown-sessions",
    ]
    lines += [f"    server {n.name} 127.0.0.1:{n.port} check port {n.check_port}" for n in pg_nodes]
    if api_port is not None:
        lines += [
            "",
            "frontend api",
            "    mode http",
            "    timeout client 30s",
            f"    bind 127.0.0.1:{api_port}",
            "    default_backend api_replicas",
            "",
            "backend api_replicas",
            "    mode http",
            "    balance roundrobin",
            "    timeout server 30s",
            "    option httpchk GET /health/ready",
            "    http-check expect status 200",
            # Only connection failures are retried elsewhere: the request was never sent, so
            # that is safe even for POST. Anything later is the client's retry (same key).
            "    retries 2",
            "    retry-on conn-failure",
            "    option redispatch 1",
            "    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1",
        ]
        lines += [f"    server {n.name} 127.0.0.1:{n.port} check" for n in api_nodes]
    return "\n".join(lines) + "\n"


def redis_config(port: int, data_dir: Path, replicaof: int | None) -> str:
    """Written fresh at every start: Redis rewrites its own file (e.g. on failover), and a
    restarted old primary must come back as a replica of the current one."""
    lines = [
        "bind 127.0.0.1",
        "protected-mode no",
        f"port {port}",
        f"dir {data_dir}",
        "daemonize no",
        # Never the source of truth for orders: no persistence.
        'save ""',
        "appendonly no",
        # Without this the replica link takes 5 s to come up after every (re)start.
        "repl-diskless-sync yes",
        "repl-diskless-sync-delay 0",
    ]
    if replicaof is not None:
        lines.append(f"replicaof 127.0.0.1 {replicaof}")
    return "\n".join(lines) + "\n"


def sentinel_config(
    *,
    port: int,
    data_dir: Path,
    myid: str,
    primary_port: int,
    replica_ports: list[int],
    other_sentinels: list[tuple[int, str]],
) -> str:
    """Written fresh at every start (Sentinel rewrites its file). known-replica and
    known-sentinel lines make the sentinels converge in ~2 s instead of ~10 s."""
    m = REDIS_MASTER_NAME
    lines = [
        "bind 127.0.0.1",
        "protected-mode no",
        f"port {port}",
        f"dir {data_dir}",
        "daemonize no",
        # A stable id, so a restarted sentinel is the same member to its peers.
        f"sentinel myid {myid}",
        f"sentinel monitor {m} 127.0.0.1 {primary_port} 2",
        f"sentinel down-after-milliseconds {m} 1000",
        f"sentinel failover-timeout {m} 10000",
        f"sentinel parallel-syncs {m} 1",
    ]
    lines += [f"sentinel known-replica {m} 127.0.0.1 {p}" for p in replica_ports]
    lines += [f"sentinel known-sentinel {m} 127.0.0.1 {p} {i}" for p, i in other_sentinels]
    return "\n".join(lines) + "\n"

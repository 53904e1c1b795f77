"""HAProxy (shared): the PostgreSQL primary and replica endpoints, the API frontend, its
built-in Prometheus exporter (the edge's own 5xx count in the availability SLI, as the ALB's
do on AWS), and with network isolation the relay from the zones to the SQS endpoint on the
host's loopback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chaos.stack import configs
from chaos.stack.drivers.base import Driver, PlanContext, binary, register
from chaos.stack.state import Component
from localenv.procs import port_open

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

CHECK_TIMINGS = (
    "    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1"
)


@dataclass(frozen=True)
class HaproxyBackend:
    name: str
    port: int
    check_port: int
    host: str = "127.0.0.1"


def _pg_section(name: str, bind: str, check: str, nodes: list[HaproxyBackend],
                source: str | None, balance: bool) -> list[str]:
    lines = ["", f"listen {name}", f"    bind {bind}"]
    if balance:
        lines.append("    balance roundrobin")
    if source:
        lines.append(f"    source {source}")
    lines += [
        f"    option httpchk OPTIONS {check}",
        "    http-check expect status 200",
        CHECK_TIMINGS + " on-marked-down shutdown-sessions",
    ]
    lines += [f"    server {n.name} {n.host}:{n.port} check port {n.check_port}" for n in nodes]
    return lines


def _api_section(bind: str, nodes: list[HaproxyBackend], source: str | None) -> list[str]:
    lines = [
        "", "frontend api", "    mode http", "    timeout client 30s", f"    bind {bind}",
        "    default_backend api_replicas",
        "", "backend api_replicas", "    mode http", "    balance roundrobin",
        "    timeout server 30s",
    ]
    if source:
        lines.append(f"    source {source}")
    lines += [
        "    option httpchk GET /health/ready",
        "    http-check expect status 200",
        # Only connection failures are retried elsewhere: the request was never sent, so
        # that is safe even for POST. Anything later is the client's retry (same key).
        "    retries 2",
        "    retry-on conn-failure",
        "    option redispatch 1",
        CHECK_TIMINGS,
    ]
    lines += [f"    server {n.name} {n.host}:{n.port} check" for n in nodes]
    return lines


def exporter_section(bind: str) -> list[str]:
    """HAProxy's own Prometheus exporter (built in since 2.4: `haproxy -vv` lists the
    prometheus-exporter service)."""
    return [
        "", "frontend metrics", "    mode http", "    timeout client 10s", f"    bind {bind}",
        "    http-request use-service prometheus-exporter if { path /metrics }",
        "    http-request return status 404",
    ]


def haproxy_config(
    *,
    stats_socket: Path,
    pg_port: int,
    pg_replica_port: int,
    pg_nodes: list[HaproxyBackend],
    api_port: int | None,
    api_nodes: list[HaproxyBackend],
    bind_host: str = "127.0.0.1",
    source: str | None = None,
    sqs_relay: tuple[str, int, int] | None = None,
    metrics_port: int | None = None,
) -> str:
    """`source`: the address HAProxy connects to the zones from (its own, so a partition
    can tell it from the observer). `sqs_relay`: (bind host, port, loopback target port)."""
    lines = [
        "global", "    maxconn 4000", f"    stats socket {stats_socket} mode 600 level admin",
        "", "defaults", "    mode tcp", "    timeout connect 1s", "    timeout client 1h",
        "    timeout server 1h", "    timeout check 1s",
    ]
    # Writes go to whichever node answers Patroni's /primary with 200. OPTIONS, not GET: GET
    # /primary makes Patroni log a traceback on every check of a replica. When a node is
    # marked down its sessions are cut so clients reconnect to the new leader at once.
    lines += _pg_section("pg_primary", f"{bind_host}:{pg_port}", "/primary", pg_nodes,
                         source, balance=False)
    # Read-only connections (e.g. the drill checker) go to any streaming replica.
    lines += _pg_section("pg_replicas", f"{bind_host}:{pg_replica_port}", "/replica",
                         pg_nodes, source, balance=True)
    if api_port is not None:
        lines += _api_section(f"{bind_host}:{api_port}", api_nodes, source)
    if metrics_port is not None:
        lines += exporter_section(f"{bind_host}:{metrics_port}")
    if sqs_relay is not None:
        host, port, target = sqs_relay
        lines += ["", "listen sqs", f"    bind {host}:{port}",
                  f"    server sqs 127.0.0.1:{target}"]
    return "\n".join(lines) + "\n"


class HaproxyDriver(Driver):
    kind = "haproxy"
    stop_tier = 1

    def plan(self, ctx: PlanContext) -> None:
        ports = {"pg": ctx.ports.take(), "pg_replicas": ctx.ports.take(),
                 "metrics": ctx.ports.take()}
        if ctx.options.app:
            ports["api"] = ctx.ports.take()
        hap_dir = ctx.state_dir / "haproxy"
        cfg = hap_dir / "haproxy.cfg"
        comp = ctx.add("haproxy", "haproxy", None,
                       [binary("/usr/sbin/haproxy", "haproxy"), "-db", "-f", str(cfg)],
                       str(cfg), ports, config=str(cfg))
        db, pg = configs.DATABASE, f"{comp.host}:{ports['pg']}"
        ctx.endpoints |= {
            "api_url": f"http://{comp.host}:{ports['api']}" if ctx.options.app else None,
            "database_url_app": f"postgresql://{configs.APP_ROLE}@{pg}/{db}",
            "database_url_owner": f"postgresql://{configs.OWNER_ROLE}@{pg}/{db}",
            "database_url_superuser": f"postgresql://postgres@{pg}/postgres",
            "database_url_readonly": (
                f"postgresql://{configs.APP_ROLE}@{comp.host}:{ports['pg_replicas']}/{db}"
            ),
            "haproxy_stats_socket": str(hap_dir / "haproxy.sock"),
        }

    def finish_plan(self, ctx: PlanContext) -> None:
        """The config names every backend: written once the others are planned."""
        comp = ctx.of_kind("haproxy")[0]
        sqs = ctx.of_kind("sqs")
        relay = None
        if sqs and "internal" in sqs[0].ports:
            relay = (sqs[0].host, sqs[0].ports["http"], sqs[0].ports["internal"])
        Path(comp.paths["config"]).write_text(
            haproxy_config(
                stats_socket=Path(comp.paths["dir"]) / "haproxy.sock",
                pg_port=comp.ports["pg"],
                pg_replica_port=comp.ports["pg_replicas"],
                pg_nodes=[HaproxyBackend(n.name, n.ports["pg"], n.ports["rest"], n.host)
                          for n in ctx.of_kind("patroni")],
                api_port=comp.ports.get("api"),
                api_nodes=[HaproxyBackend(a.name, a.ports["http"], a.ports["http"], a.host)
                           for a in ctx.of_kind("api")],
                bind_host=comp.host,
                source=comp.host if ctx.network.isolated else None,
                sqs_relay=relay,
                metrics_port=comp.ports.get("metrics"),
            )
        )

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        ok = port_open(comp.ports["pg"], host=comp.host)
        return ok, "listening" if ok else "not listening"


register(HaproxyDriver())

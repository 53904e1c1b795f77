"""Redis primary/replica (redis-a, redis-b). No persistence: never the source of truth.

A restarted Redis has no data. `before_start` decides whether it comes back as primary or
as a replica of the current primary, and writes its config fresh (Redis rewrites its own
file, e.g. on failover).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from chaos.stack import probes
from chaos.stack.drivers.base import Driver, PlanContext, binary, register
from chaos.stack.errors import ComponentFailed
from chaos.stack.state import Component

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

REDIS_ZONES = ("a", "b")


def server_header(host: str, port: int, data_dir: Path) -> list[str]:
    """The lines Redis and Sentinel configs start with: loopback-or-own address, no fork."""
    return [f"bind {host}", "protected-mode no", f"port {port}", f"dir {data_dir}",
            "daemonize no"]


def redis_config(port: int, data_dir: Path, replicaof: int | None, host: str = "127.0.0.1",
                 primary_host: str = "127.0.0.1") -> str:
    """Written fresh at every start: Redis rewrites its own file (e.g. on failover), and a
    restarted old primary must come back as a replica of the current one."""
    lines = [
        *server_header(host, port, data_dir),
        # Never the source of truth for orders: no persistence.
        'save ""',
        "appendonly no",
        # Without this the replica link takes 5 s to come up after every (re)start.
        "repl-diskless-sync yes",
        "repl-diskless-sync-delay 0",
    ]
    if replicaof is not None:
        lines.append(f"replicaof {primary_host} {replicaof}")
    return "\n".join(lines) + "\n"


def by_port(stack: Stack, port: int | None) -> Component | None:
    for comp in stack.components(kind="redis"):
        if comp.ports["redis"] == port:
            return comp
    return None


class RedisDriver(Driver):
    kind = "redis"
    stop_tier = 2

    def plan(self, ctx: PlanContext) -> None:
        server = binary("redis-server", "redis-server")
        primary: Component | None = None
        for zone in REDIS_ZONES:
            cfg = ctx.state_dir / f"redis-{zone}" / "redis.conf"
            # Redis retitles itself "redis-server HOST:PORT": match on the binary name (the
            # start time pins the PID).
            comp = ctx.add(f"redis-{zone}", "redis", zone, [server, str(cfg)], "redis-server",
                           {"redis": ctx.ports.take()}, config=str(cfg))
            comp.replicaof = None if primary is None else primary.ports["redis"]
            primary = primary or comp
        assert primary is not None
        ctx.endpoints["redis_initial_primary"] = primary.ports["redis"]

    def before_start(self, stack: Stack, comp: Component, timeout: float) -> None:
        if comp.pid is not None:  # a restart, not the first start
            self._choose_role(stack, comp, timeout)
        primary = by_port(stack, comp.replicaof)
        Path(comp.paths["config"]).write_text(
            redis_config(comp.ports["redis"], Path(comp.paths["dir"]), comp.replicaof,
                         comp.host, primary.host if primary else comp.host)
        )

    def _choose_role(self, stack: Stack, comp: Component, timeout: float) -> None:
        """Coming back as primary while Sentinel still names it would let clients write to
        an empty primary that Sentinel then demotes (the recipe lost half the acked writes
        that way). So if another Redis is alive, wait until Sentinel has promoted it and
        come back as its replica."""
        me = comp.ports["redis"]
        alive = [c for c in stack.components(kind="redis")
                 if c is not comp and stack.is_running(c.name)]
        primary = stack.sentinel_majority()
        if primary == me and alive:
            deadline = time.monotonic() + timeout
            while primary in (me, None) and time.monotonic() < deadline:
                time.sleep(0.2)
                primary = stack.sentinel_majority()
            if primary in (me, None):
                raise ComponentFailed(
                    comp.name,
                    f"Sentinel has not promoted a new primary within {timeout:.0f}s; refusing "
                    "to restart the old primary empty (it would take writes and lose them)",
                )
        if primary is None:
            # No Sentinel majority: follow whichever live Redis serves as primary.
            for other in alive:
                info = probes.redis_info_replication(other.ports["redis"], other.host) or {}
                if info.get("role") == "master":
                    primary = other.ports["redis"]
        comp.replicaof = primary if primary not in (None, me) else None
        stack.save()

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        info = probes.redis_info_replication(comp.ports["redis"], comp.host)
        if info is None:
            return False, "not answering"
        if info.get("role") == "slave":
            return True, f"replica (link {info.get('master_link_status')})"
        return True, f"primary ({info.get('connected_slaves', 0)} replicas)"


register(RedisDriver())

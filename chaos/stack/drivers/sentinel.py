"""Redis Sentinels (sentinel-a/b/c, one per zone; quorum 2)."""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from chaos.stack import configs, probes
from chaos.stack.drivers.base import Driver, PlanContext, binary, register
from chaos.stack.drivers.redis import by_port, server_header
from chaos.stack.state import ZONES, Component

if TYPE_CHECKING:
    from chaos.stack.stack import Stack


def sentinel_config(
    *,
    port: int,
    data_dir: Path,
    myid: str,
    primary_port: int,
    replica_ports: list[int],
    other_sentinels: list[tuple[int, str]],
    host: str = "127.0.0.1",
    hosts: dict[int, str] | None = None,
) -> str:
    """Written fresh at every start (Sentinel rewrites its file). known-replica and
    known-sentinel lines make the sentinels converge in ~2 s instead of ~10 s. `hosts` maps
    the other servers' ports to their addresses (default: loopback)."""
    m = configs.REDIS_MASTER_NAME
    where = hosts or {}

    def at(p: int) -> str:
        return f"{where.get(p, '127.0.0.1')} {p}"

    lines = [
        *server_header(host, port, data_dir),
        # A stable id, so a restarted sentinel is the same member to its peers.
        f"sentinel myid {myid}",
        f"sentinel monitor {m} {at(primary_port)} 2",
        f"sentinel down-after-milliseconds {m} 1000",
        f"sentinel failover-timeout {m} 10000",
        f"sentinel parallel-syncs {m} 1",
    ]
    lines += [f"sentinel known-replica {m} {at(p)}" for p in replica_ports]
    lines += [f"sentinel known-sentinel {m} {at(p)} {i}" for p, i in other_sentinels]
    return "\n".join(lines) + "\n"


def views(stack: Stack) -> list[int]:
    """The primary port each answering Sentinel names."""
    found = []
    for comp in stack.components(kind="sentinel"):
        port = probes.sentinel_primary_port(comp.ports["sentinel"], configs.REDIS_MASTER_NAME,
                                            comp.host)
        if port is not None:
            found.append(port)
    return found


def majority(stack: Stack) -> int | None:
    seen = views(stack)
    if not seen:
        return None
    port, votes = Counter(seen).most_common(1)[0]
    quorum = len(stack.components(kind="sentinel")) // 2 + 1
    return port if votes >= quorum else None


class SentinelDriver(Driver):
    kind = "sentinel"
    stop_tier = 2

    def plan(self, ctx: PlanContext) -> None:
        sentinel = binary("redis-sentinel", "redis-sentinel")
        for zone in ZONES:
            cfg = ctx.state_dir / f"sentinel-{zone}" / "sentinel.conf"
            ctx.add(f"sentinel-{zone}", "sentinel", zone, [sentinel, str(cfg)], "redis-sentinel",
                    {"sentinel": ctx.ports.take()}, config=str(cfg), myid=secrets.token_hex(20))
        sentinels = ctx.of_kind("sentinel")
        ctx.endpoints |= {
            "redis_url": "redis+sentinel://"
            + ",".join(f"{s.host}:{s.ports['sentinel']}" for s in sentinels)
            + f"/{configs.REDIS_MASTER_NAME}/0",
            "redis_sentinels": [[s.host, s.ports["sentinel"]] for s in sentinels],
            "redis_master_name": configs.REDIS_MASTER_NAME,
        }

    def before_start(self, stack: Stack, comp: Component, timeout: float) -> None:
        servers = stack.components(kind="redis")
        # The primary as the other Sentinels see it now (it moves with every failover); else
        # whichever live Redis serves as primary; else the one `up` started as primary.
        seen = views(stack)
        primary = majority(stack) or (seen[0] if seen else None)
        for server in servers:
            info = probes.redis_info_replication(server.ports["redis"], server.host) or {}
            if primary is None and info.get("role") == "master":
                primary = server.ports["redis"]
        if primary is None:
            primary = int(stack.endpoints["redis_initial_primary"])
        others = [s for s in stack.components(kind="sentinel") if s is not comp]
        hosts = {c.ports["redis"]: c.host for c in servers}
        hosts |= {s.ports["sentinel"]: s.host for s in others}
        Path(comp.paths["config"]).write_text(
            sentinel_config(
                port=comp.ports["sentinel"],
                data_dir=Path(comp.paths["dir"]),
                myid=comp.paths["myid"],
                primary_port=primary,
                replica_ports=[s.ports["redis"] for s in servers if s.ports["redis"] != primary],
                other_sentinels=[(s.ports["sentinel"], s.paths["myid"]) for s in others],
                host=comp.host,
                hosts=hosts,
            )
        )

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        ok = probes.redis_ping(comp.ports["sentinel"], comp.host)
        return ok, "answering" if ok else "not answering"


def primary_component(stack: Stack) -> Component | None:
    return by_port(stack, majority(stack))


register(SentinelDriver())

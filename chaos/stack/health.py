"""The steady-state hypothesis of the drills, computed from one look at the whole stack."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chaos.stack import probes
from chaos.stack.drivers import driver_for, patroni, sentinel

if TYPE_CHECKING:
    from chaos.stack.stack import Stack


@dataclass
class Health:
    """One look at the whole stack. `steady` is the drills' steady-state hypothesis."""

    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    pg_leader: str | None = None
    pg_sync_standby: str | None = None
    pg_streaming: list[str] = field(default_factory=list)
    pg_writable: bool = False
    redis_primary: str | None = None
    redis_replicas_linked: list[str] = field(default_factory=list)
    api_ready: bool | None = None
    partitions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def steady(self) -> bool:
        return not self.problems


def check(stack: Stack) -> Health:
    stack.reap()
    report = Health()
    for comp in stack.state.components:
        running = stack.is_running(comp.name)
        healthy, detail = driver_for(comp).probe(stack, comp) if running else (
            False, "not running")
        report.components[comp.name] = {
            "kind": comp.kind, "zone": comp.zone, "pid": comp.pid if running else None,
            "running": running, "healthy": healthy, "detail": detail,
        }
        if not healthy:
            report.problems.append(f"{comp.name} {detail}")
    pg_health(stack, report)
    redis_health(stack, report)
    api_url = stack.endpoints.get("api_url")
    if api_url:
        report.api_ready = probes.http_status(f"{api_url}/health/ready") == 200
        if not report.api_ready:
            report.problems.append("API frontend not ready through HAProxy")
    report.partitions = sorted(stack.state.partitions)
    if report.partitions:
        report.problems.append(f"network partitions active: {', '.join(report.partitions)}")
    return report


def pg_health(stack: Stack, report: Health) -> None:
    nodes = stack.components(kind="patroni")
    if not nodes:
        return
    report.pg_leader = patroni.leader(stack)
    if report.pg_leader is None:
        report.problems.append("no PostgreSQL leader")
        return
    ok, detail = patroni.write_probe(stack)
    report.pg_writable = ok
    if not ok:
        report.problems.append(f"writes through HAProxy fail: {detail}")
    streaming, sync = patroni.replication(stack, report.pg_leader)
    report.pg_streaming, report.pg_sync_standby = streaming, sync
    if len(streaming) < len(nodes) - 1:
        missing = sorted({n.name for n in nodes} - set(streaming) - {report.pg_leader})
        report.problems.append(f"replicas not streaming: {', '.join(missing)}")
    if sync is None:
        report.problems.append("no synchronous standby")


def redis_health(stack: Stack, report: Health) -> None:
    servers = stack.components(kind="redis")
    if not servers:
        return
    primary = sentinel.primary_component(stack)
    if primary is None:
        report.problems.append("no Redis primary agreed by a Sentinel majority")
        return
    report.redis_primary = primary.name
    info = probes.redis_info_replication(primary.ports["redis"], primary.host)
    if info is None or info.get("role") != "master":
        report.problems.append(f"{primary.name} is named primary but is not serving as one")
    for comp in servers:
        if comp is primary:
            continue
        rinfo = probes.redis_info_replication(comp.ports["redis"], comp.host) or {}
        if (
            rinfo.get("role") == "slave"
            and rinfo.get("master_port") == primary.ports["redis"]
            and rinfo.get("master_link_status") == "up"
        ):
            report.redis_replicas_linked.append(comp.name)
        else:
            report.problems.append(f"{comp.name} is not a linked replica of {primary.name}")


def redis_problems(stack: Stack) -> list[str]:
    report = Health()
    redis_health(stack, report)
    return report.problems

"""The local methods of the drill scenarios: faults and rollbacks on a `Target`.

Faults act on the system under test through a `Target` (the local stack's adapter is
`chaos.drill.local.StackTarget`), so a method names *what* fails, not how processes are
found. Which scenario uses which method is declared in the catalogue (`chaos/catalogue.py`).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Target(Protocol):
    """What a scenario may do to the system under test (names are component names)."""

    def pg_leader(self) -> str: ...

    def redis_primary(self) -> str: ...

    def components(self, *, zone: str | None = None, kind: str | None = None) -> list[str]: ...

    def zone_of(self, name: str) -> str | None: ...

    def observers(self) -> list[str]:
        """Components that watch the system (monitoring) rather than take part in it: a
        partition never cuts them, so the alerts of the cut-off zone stay observable."""

    def kill(self, name: str, sig: int = signal.SIGKILL, *, part: str | None = None) -> None:
        """Signal a component; for a PostgreSQL node `part` is "patroni", "postmaster" or
        None (both)."""

    def freeze(self, name: str) -> None: ...

    def thaw(self, name: str) -> None: ...

    def ensure_running(self, name: str) -> None:
        """Start the component again unless it is running (idempotent)."""

    def partition(self, side_a: str, side_b: str) -> str:
        """Cut all traffic between two groups (`zone:a`, `kind:api`, `kind:api@c`, or a
        component name), both ways, while their processes keep running; returns a handle."""

    def heal(self, handle: str | None = None) -> None:
        """Undo one partition, or every partition when `handle` is None (idempotent)."""


@dataclass
class FaultState:
    """What one run of a scenario did, so the rollback knows what to undo."""

    killed: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)  # handles from Target.partition
    journal: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)

    def log(self, action: str, **details: str) -> None:
        """Record an action at the moment it is taken (epoch seconds, UTC)."""
        self.journal.append((time.time(), action, details))


Action = Callable[[Target, FaultState], None]


@dataclass(frozen=True)
class LocalMethod:
    """How a scenario runs on the local stack."""

    inject: Action
    hold_s: float = 0.0  # timed outages: how long the fault lasts before `restore`
    restore: Action | None = None  # ends a timed outage (part of the method)
    rollback: Action | None = None  # after the after-probe: undo what is still broken


def _kill(target: Target, state: FaultState, name: str, part: str | None = None) -> None:
    state.log("kill", component=name, signal="SIGKILL", **({"part": part} if part else {}))
    target.kill(name, signal.SIGKILL, part=part)
    state.killed.append(name)


def restart_killed(target: Target, state: FaultState) -> None:
    """Rollback: every killed component running again (a Patroni node rejoins as replica)."""
    for name in dict.fromkeys(state.killed):
        state.log("ensure_running", component=name)
        target.ensure_running(name)
    state.killed.clear()


def thaw_frozen(target: Target, state: FaultState) -> None:
    for name in dict.fromkeys(state.frozen):
        state.log("thaw", component=name, signal="SIGCONT")
        target.thaw(name)
    state.frozen.clear()


def heal_partitions(target: Target, state: FaultState) -> None:
    for handle in dict.fromkeys(state.partitions):
        state.log("heal", handle=handle)
        target.heal(handle)
    state.partitions.clear()


def rollback_all(target: Target, state: FaultState) -> None:
    heal_partitions(target, state)
    thaw_frozen(target, state)
    restart_killed(target, state)


# -- methods -------------------------------------------------------------------------


def kill_db_primary(target: Target, state: FaultState) -> None:
    _kill(target, state, target.pg_leader(), part="postmaster")


def kill_db_leader_node(target: Target, state: FaultState) -> None:
    _kill(target, state, target.pg_leader(), part=None)


def kill_redis_primary(target: Target, state: FaultState) -> None:
    _kill(target, state, target.redis_primary())


def kill_all_redis(target: Target, state: FaultState) -> None:
    for name in target.components(kind="redis"):
        _kill(target, state, name)


def kill_one(kind: str) -> Action:
    def inject(target: Target, state: FaultState) -> None:
        names = target.components(kind=kind)
        if not names:
            raise RuntimeError(f"no {kind} component in the stack")
        _kill(target, state, names[0])

    return inject


def freeze_queue(target: Target, state: FaultState) -> None:
    for name in target.components(kind="sqs"):
        state.log("freeze", component=name, signal="SIGSTOP")
        target.freeze(name)
        state.frozen.append(name)


def kill_zone(target: Target, state: FaultState) -> None:
    """Every component labelled with one zone, killed together: the target's `zone`
    attribute when set (`--zone`), else the PostgreSQL leader's zone."""
    zone = getattr(target, "zone", None) or target.zone_of(target.pg_leader())
    if zone is None:
        raise RuntimeError("the PostgreSQL leader carries no zone label")
    names = target.components(zone=zone)
    if not names:
        raise RuntimeError(f"no component labelled with zone {zone!r}")
    state.log("zone-loss", zone=zone, components=",".join(names))
    for name in names:
        _kill(target, state, name)


def _partition(target: Target, state: FaultState, side_a: str, side_b: str) -> None:
    state.log("partition", side_a=side_a, side_b=side_b)
    state.partitions.append(target.partition(side_a, side_b))


def partition_api_from_db(target: Target, state: FaultState) -> None:
    """The API replicas of one zone cut off from their database path (the service reaches
    PostgreSQL only through HAProxy): the target's `zone` when set (`--zone`), else the
    first zone with an API replica but not the PG leader."""
    leader_zone = target.zone_of(target.pg_leader())
    api_zones = sorted({z for z in map(target.zone_of, target.components(kind="api")) if z})
    zone = getattr(target, "zone", None) or next(
        (z for z in api_zones if z != leader_zone), None
    )
    if zone is None:
        raise RuntimeError("no API replica outside the PostgreSQL leader's zone")
    _partition(target, state, f"kind:api@{zone}", "kind:haproxy")


def partition_zone(target: Target, state: FaultState) -> None:
    """One zone (the target's `zone`, else the PG leader's) cut off from everything outside
    it, every other zone and the shared components (etcd, HAProxy, the queue) alike, while
    its processes keep running: the old leader loses the DCS and must demote itself."""
    zone = getattr(target, "zone", None) or target.zone_of(target.pg_leader())
    zones = {name: target.zone_of(name) for name in target.components()}
    others = sorted({z for z in zones.values() if z is not None and z != zone})
    if zone is None or not others:
        raise RuntimeError(f"cannot partition zone {zone!r} from {others or 'no other zone'}")
    for other in others:
        _partition(target, state, f"zone:{zone}", f"zone:{other}")
    observers = set(target.observers())
    for shared in sorted(n for n, z in zones.items() if z is None and n not in observers):
        _partition(target, state, f"zone:{zone}", shared)

"""The drill scenarios, in Chaos Toolkit terms.

Every scenario shares the steady-state hypothesis ("orders are accepted: availability >=
99 % and P99 < 500 ms over the probe window", checked before the fault over the warm-up and
after it over the end of the recovery window) and differs in its method (the fault) and its
rollback (restart what was killed). Faults act on the local stack through a `Target` (see
`chaos.drill.local`), so a scenario names *what* fails, not how processes are found.

Standard set (`make drill`): all eight, in the order of `STANDARD`.
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

    def kill(self, name: str, sig: int = signal.SIGKILL, *, part: str | None = None) -> None:
        """Signal a component; for a PostgreSQL node `part` is "patroni", "postmaster" or
        None (both)."""

    def freeze(self, name: str) -> None: ...

    def thaw(self, name: str) -> None: ...

    def ensure_running(self, name: str) -> None:
        """Start the component again unless it is running (idempotent)."""


@dataclass
class FaultState:
    """What one run of a scenario did, so the rollback knows what to undo."""

    killed: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    journal: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)

    def log(self, action: str, **details: str) -> None:
        """Record an action at the moment it is taken (epoch seconds, UTC)."""
        self.journal.append((time.time(), action, details))


Action = Callable[[Target, FaultState], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    method: str  # what the fault is, in one sentence
    expectation: str  # what should happen
    inject: Action
    hold_s: float = 0.0  # timed outages: how long the fault lasts before `restore`
    restore: Action | None = None  # ends a timed outage (part of the method)
    rollback: Action | None = None  # after the after-probe: restart what is still down

    @property
    def description(self) -> str:
        return f"{self.title}. Method: {self.method} Expected: {self.expectation}"


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


def rollback_all(target: Target, state: FaultState) -> None:
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


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "db-primary-kill", "PostgreSQL primary crash",
            "SIGKILL the leader's postmaster (Patroni keeps running).",
            "Patroni fails over to the synchronous standby within seconds; the API answers "
            "503 + Retry-After meanwhile; in-doubt commits resolve through same-key retries.",
            kill_db_primary, rollback=rollback_all,
        ),
        Scenario(
            "db-leader-node-loss", "PostgreSQL leader node loss",
            "SIGKILL the leader's Patroni and its postmaster together.",
            "The leader key expires (ttl 10 s) and a replica is promoted; nothing acknowledged "
            "is lost (synchronous replication); the node rejoins as a replica on restart.",
            kill_db_leader_node, rollback=rollback_all,
        ),
        Scenario(
            "redis-primary-kill", "Redis primary crash",
            "SIGKILL the Redis primary; it is restarted only in the rollback.",
            "Sentinel promotes the replica in ~2-3 s; orders keep being accepted through the "
            "database path meanwhile (Redis is never the source of truth).",
            kill_redis_primary, rollback=rollback_all,
        ),
        Scenario(
            "redis-down", "All Redis gone",
            "SIGKILL every Redis data node (primary and replica) for 30 s, then start them.",
            "Orders are still accepted and correct (rate limiting fails open); the service "
            "uses Redis again once it is back.",
            kill_all_redis, hold_s=30.0, restore=restart_killed, rollback=rollback_all,
        ),
        Scenario(
            "api-replica-kill", "API replica crash",
            "SIGKILL one of the three API replicas.",
            "HAProxy's health check drops it within ~1 s; in-flight requests fail and are "
            "retried with the same key on the other replicas.",
            kill_one("api"), rollback=rollback_all,
        ),
        Scenario(
            "queue-outage", "SQS endpoint outage",
            "Freeze the SQS endpoint (SIGSTOP) for 30 s, then thaw it (SIGCONT): it is "
            "unreachable but keeps its messages, as SQS would (killing the local endpoint "
            "would wipe its in-memory queues, which is no SQS failure mode).",
            "Orders are still accepted (the outbox holds them); the backlog drains after.",
            freeze_queue, hold_s=30.0, restore=thaw_frozen, rollback=rollback_all,
        ),
        Scenario(
            "relay-kill", "Outbox relay crash",
            "SIGKILL one of the two relays, possibly mid-batch.",
            "The other relay takes over; rows the dead relay claimed are published after "
            "their lease expires; nothing is published twice to the worker's effect.",
            kill_one("relay"), rollback=rollback_all,
        ),
        Scenario(
            "zone-loss", "Zone loss",
            "SIGKILL every component labelled with the PostgreSQL leader's zone together "
            "(its Patroni node, Redis/Sentinel, API replica, relay or worker there).",
            "The other two zones carry on: PostgreSQL and Redis fail over, HAProxy routes to "
            "the surviving API replicas; the backlog drains after.",
            kill_zone, rollback=rollback_all,
        ),
    )
}

STANDARD: tuple[str, ...] = (
    "db-primary-kill", "db-leader-node-loss", "redis-primary-kill", "redis-down",
    "api-replica-kill", "queue-outage", "relay-kill", "zone-loss",
)
# What CI runs end to end on every change (a few minutes each).
CI_SET: tuple[str, ...] = ("db-primary-kill", "redis-primary-kill")


def resolve(names: list[str] | None) -> list[Scenario]:
    """`--scenario` values (repeatable, comma lists; `standard`, `ci`, `all`) -> scenarios."""
    if not names:
        return [SCENARIOS[n] for n in STANDARD]
    wanted: list[str] = []
    for raw in names:
        for name in (part.strip() for part in raw.split(",")):
            if not name:
                continue
            if name in ("standard", "all"):
                wanted.extend(STANDARD)
            elif name == "ci":
                wanted.extend(CI_SET)
            elif name in SCENARIOS:
                wanted.append(name)
            else:
                known = ", ".join(STANDARD)
                raise ValueError(f"unknown scenario {name!r}; known: {known} (or standard, ci)")
    return [SCENARIOS[n] for n in dict.fromkeys(wanted)]

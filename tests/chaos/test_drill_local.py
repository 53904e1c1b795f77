"""The drill's adapter onto the local stack's facade: partitions and heals map 1:1."""

from __future__ import annotations

from typing import Any

from chaos.drill.local import StackTarget


class Facade:
    """The facade's fault calls, recorded (the real one is tested in tests/chaos/test_stack)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def partition(self, side_a: str, side_b: str) -> str:
        self.calls.append(("partition", side_a, side_b))
        return "p1"

    def heal(self, handle: str | None = None, *, timeout: float = 90.0) -> None:
        self.calls.append(("heal", handle, timeout))


def test_partition_and_heal_map_onto_the_facade() -> None:
    facade = Facade()
    target = StackTarget(facade, component_timeout=12.0)  # type: ignore[arg-type]
    assert target.partition("kind:api@c", "kind:haproxy") == "p1"
    target.heal("p1")
    assert facade.calls == [("partition", "kind:api@c", "kind:haproxy"), ("heal", "p1", 12.0)]



class ZonedTarget:
    """Three zones, shared etcd/HAProxy/queue and the monitoring that watches them."""

    ZONES = {"pg-1": "a", "pg-2": "b", "api-c": "c", "etcd": None, "haproxy": None,
             "sqs": None, "prometheus": None, "alertmanager": None}

    def __init__(self) -> None:
        self.cuts: list[tuple[str, str]] = []

    def pg_leader(self) -> str:
        return "pg-1"

    def components(self, *, zone: str | None = None, kind: str | None = None) -> list[str]:
        return sorted(self.ZONES)

    def zone_of(self, name: str) -> str | None:
        return self.ZONES[name]

    def observers(self) -> list[str]:
        return ["alertmanager", "prometheus"]

    def partition(self, side_a: str, side_b: str) -> str:
        self.cuts.append((side_a, side_b))
        return f"p{len(self.cuts)}"


def test_zone_partition_cuts_every_zone_and_shared_component_but_not_the_monitoring() -> None:
    from chaos.drill.methods import FaultState, partition_zone

    target, state = ZonedTarget(), FaultState()
    partition_zone(target, state)  # type: ignore[arg-type]
    assert target.cuts == [("zone:a", "zone:b"), ("zone:a", "zone:c"), ("zone:a", "etcd"),
                           ("zone:a", "haproxy"), ("zone:a", "sqs")]
    assert state.partitions == ["p1", "p2", "p3", "p4", "p5"]

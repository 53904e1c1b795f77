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


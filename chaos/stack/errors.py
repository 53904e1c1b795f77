"""Errors the stack raises, and the progress callback type."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    return None


class StackError(RuntimeError):
    """Something about the stack as a whole (not running, already running, bad state)."""


class ComponentFailed(StackError):
    """A component did not become healthy; the message names it and shows its log tail."""

    def __init__(self, component: str, message: str) -> None:
        super().__init__(f"{component}: {message}")
        self.component = component


class StackUnhealthy(StackError):
    def __init__(self, problems: list[str], timeout: float) -> None:
        super().__init__(
            f"stack not back to steady state after {timeout:.0f}s: " + "; ".join(problems)
        )
        self.problems = problems


class NetworkIsolationUnavailable(StackError):
    """A partition was asked of a stack that runs without network isolation (not root, or
    started on loopback); everything else works."""

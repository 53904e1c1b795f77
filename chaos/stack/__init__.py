"""Local HA stack and its fault-injection primitives (see chaos/stack/README.md)."""

from chaos.stack.errors import (
    ComponentFailed,
    NetworkIsolationUnavailable,
    StackError,
    StackUnhealthy,
)
from chaos.stack.health import Health
from chaos.stack.stack import DEFAULT_STATE_DIR, Stack
from chaos.stack.state import Component, StackState

__all__ = [
    "DEFAULT_STATE_DIR",
    "Component",
    "ComponentFailed",
    "Health",
    "NetworkIsolationUnavailable",
    "Stack",
    "StackError",
    "StackState",
    "StackUnhealthy",
]

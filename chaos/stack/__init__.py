"""Local HA stack and its fault-injection primitives (see chaos/stack/README.md)."""

from chaos.stack.stack import (
    DEFAULT_STATE_DIR,
    ComponentFailed,
    Health,
    Stack,
    StackError,
    StackUnhealthy,
)
from chaos.stack.state import Component, StackState

__all__ = [
    "DEFAULT_STATE_DIR",
    "Component",
    "ComponentFailed",
    "Health",
    "Stack",
    "StackError",
    "StackState",
    "StackUnhealthy",
]

"""What the lifespan owns, reachable from handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
from litestar import Request

from service.auth import VerifiedTokens
from service.config import Settings
from service.observability import Metrics
from service.redis_gate import RedisGate


@dataclass
class AppState:
    settings: Settings
    metrics: Metrics
    pool: asyncpg.Pool
    redis: RedisGate
    draining: bool = False
    checkpoints: Any = None  # service.audit.proofs.CheckpointSource
    background: list[Any] = field(default_factory=list)
    tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
    placements: Any = None  # service.orders.batching.PlacementBatcher


def app_state(request: Request[Any, Any, Any]) -> AppState:
    state: AppState = request.app.state.orders
    return state

"""Audit log endpoints: the latest signed checkpoint and consistency proofs.

Inclusion proofs ride on `GET /v1/orders/{id}/events` (see `trail_document`).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from service.api.orders import AUTH
from service.api.problems import Problem
from service.api.state import AppState, app_state
from service.audit import proofs
from service.auth import Principal
from service.db import with_retries


class ConsistencyProofView(msgspec.Struct, kw_only=True):
    first: int
    second: int
    proof: list[str]  # base64 hashes, RFC 9162 section 2.1.4


def _source(state: AppState) -> proofs.CheckpointSource:
    source: proofs.CheckpointSource = state.checkpoints or proofs.CheckpointSource()
    return source


async def trail_document(
    conn: asyncpg.Connection, state: AppState, order_id: uuid.UUID
) -> dict[str, Any]:
    """An order's events with leaf indices and inclusion proofs against the newest
    published checkpoint (null before the first one)."""
    checkpoint = await _source(state).latest(conn)
    return await proofs.order_trail(conn, order_id, checkpoint)


@get("/v1/audit/checkpoints/latest", dependencies=AUTH,
     summary="The newest published checkpoint (C2SP signed note)")
async def latest_checkpoint(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Response[str]:
    state = app_state(request)
    source = _source(state)
    checkpoint = await with_retries(state.pool, source.latest)
    if checkpoint is None:
        raise Problem(404, "no-checkpoint", "No checkpoint yet",
                      "the integrator has not published a checkpoint yet")
    return Response(
        checkpoint.note, media_type="text/plain; charset=utf-8",
        headers={"Audit-Tree-Size": str(checkpoint.tree_size)},
    )


@get("/v1/audit/consistency", dependencies=AUTH,
     summary="RFC 9162 consistency proof between two tree sizes")
async def consistency_proof(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    first: Annotated[int, Parameter(ge=1, le=2**62)],
    second: Annotated[int, Parameter(ge=1, le=2**62)],
) -> ConsistencyProofView:
    state = app_state(request)
    if first > second:
        raise Problem(400, "bad-request", "Bad request", "first must not exceed second")

    async def prove(conn: asyncpg.Connection) -> dict[str, Any] | None:
        size = await conn.fetchval("SELECT tree_size FROM audit_integrator_state")
        if second > size:
            return None
        return await proofs.consistency(conn, first, second)

    document = await with_retries(state.pool, prove)
    if document is None:
        raise Problem(404, "tree-size-unknown", "Tree size not reached",
                      f"the tree has fewer than {second} leaves")
    return msgspec.convert(document, ConsistencyProofView)


AUDIT_HANDLERS = [latest_checkpoint, consistency_proof]

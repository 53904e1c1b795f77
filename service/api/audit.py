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

from service.api.guards import AUTH, enforce_rate_limit
from service.api.openapi import documented
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


# Reads like any other: the principal's read bucket (429), problem+json errors.
AUDIT_PROBLEMS = (400, 401, 404, 422, 429, 503)
MAX_TREE_SIZE = 2**53 - 1


@get("/v1/audit/checkpoints/latest", dependencies=AUTH,
     summary="The newest published checkpoint (C2SP signed note)",
     operation_class=documented(problems=AUDIT_PROBLEMS))
async def latest_checkpoint(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Response[str]:
    state = app_state(request)
    await enforce_rate_limit(state, principal, "read")
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
     summary="RFC 9162 consistency proof between two tree sizes",
     operation_class=documented(problems=AUDIT_PROBLEMS))
async def consistency_proof(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    # Bounded by the largest integer a JSON number holds exactly (2**53 - 1).
    first: Annotated[int, Parameter(ge=1, le=MAX_TREE_SIZE)],
    second: Annotated[int, Parameter(ge=1, le=MAX_TREE_SIZE)],
) -> ConsistencyProofView:
    state = app_state(request)
    await enforce_rate_limit(state, principal, "read")
    if first > second:
        # Each parameter is valid alone; their combination is not (no OpenAPI rule can say
        # so), hence 422 rather than 400.
        raise Problem(422, "invalid-range", "Invalid range", "first must not exceed second")

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

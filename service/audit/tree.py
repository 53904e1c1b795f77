"""The Merkle tree as stored in PostgreSQL, and proofs read from it.

Level 0 (the leaves) lives in `audit_leaves`; every complete (perfect) subtree above it in
`audit_tree_nodes`. Any MTH(D[a:b]) a proof needs folds from at most ~2·log2(n) stored
nodes, fetched in two indexed queries, so a proof costs the same at any tree size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg

from service.audit import merkle
from service.audit.merkle import NodeId


class TreeCorrupt(RuntimeError):
    """A node the tree's size says must exist is missing."""


async def fetch_nodes(conn: asyncpg.Connection, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    wanted = set(ids)
    leaves = sorted(idx for level, idx in wanted if level == 0)
    inner = sorted((level, idx) for level, idx in wanted if level > 0)
    found: dict[NodeId, bytes] = {}
    if leaves:
        rows = await conn.fetch(
            "SELECT leaf_index, leaf_hash FROM audit_leaves WHERE leaf_index = ANY($1::bigint[])",
            leaves,
        )
        found.update({(0, r["leaf_index"]): bytes(r["leaf_hash"]) for r in rows})
    if inner:
        rows = await conn.fetch(
            """
            SELECT w.level, w.idx, n.hash
            FROM unnest($1::smallint[], $2::bigint[]) AS w(level, idx)
            -- one primary-key probe per node, whatever the table's size
            CROSS JOIN LATERAL (SELECT t.hash FROM audit_tree_nodes t
                                WHERE t.level = w.level AND t.idx = w.idx) AS n
            """,
            [level for level, _ in inner], [idx for _, idx in inner],
        )
        found.update({(r["level"], r["idx"]): bytes(r["hash"]) for r in rows})
    missing = wanted - found.keys()
    if missing:
        raise TreeCorrupt(f"tree nodes missing: {sorted(missing)[:5]}")
    return found


async def range_hashes(
    conn: asyncpg.Connection, ranges: Sequence[tuple[int, int]]
) -> list[bytes]:
    nodes = await fetch_nodes(conn, merkle.nodes_needed(ranges))
    return [merkle.fold_blocks(merkle.perfect_blocks(a, b), nodes) for a, b in ranges]


async def root_at(conn: asyncpg.Connection, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return (await range_hashes(conn, [(0, size)]))[0]


async def inclusion_proof(conn: asyncpg.Connection, index: int, size: int) -> list[bytes]:
    return await range_hashes(conn, merkle.inclusion_ranges(index, size))


async def inclusion_proofs(
    conn: asyncpg.Connection, indices: Sequence[int], size: int
) -> list[list[bytes]]:
    """Several proofs against one tree size, in one round of node reads."""
    paths = [merkle.inclusion_ranges(index, size) for index in indices]
    nodes = await fetch_nodes(conn, merkle.nodes_needed(r for path in paths for r in path))
    return [
        [merkle.fold_blocks(merkle.perfect_blocks(a, b), nodes) for a, b in path]
        for path in paths
    ]


async def consistency_proof(conn: asyncpg.Connection, first: int, second: int) -> list[bytes]:
    if first == second:
        return []
    return await range_hashes(conn, merkle.consistency_ranges(first, second))


def extend(
    border: list[tuple[NodeId, bytes]], size: int, leaf_hashes: Sequence[bytes]
) -> tuple[list[tuple[NodeId, bytes]], list[tuple[NodeId, bytes]]]:
    """Append leaves to a tree whose right border (perfect_blocks(0, size), left to right)
    is `border`. Returns the new inner nodes to store and the new border."""
    border = list(border)
    created: list[tuple[NodeId, bytes]] = []
    for offset, digest in enumerate(leaf_hashes):
        level, idx, node = 0, size + offset, digest
        while idx & 1:
            (left_level, left_idx), left = border.pop()
            if (left_level, left_idx) != (level, idx - 1):
                raise TreeCorrupt(f"border node {(left_level, left_idx)} where {(level, idx - 1)}")
            level, idx, node = level + 1, idx >> 1, merkle.node_hash(left, node)
            created.append(((level, idx), node))
        border.append(((level, idx), node))
    return created, border


def border_root(border: Sequence[tuple[NodeId, bytes]]) -> bytes:
    if not border:
        return merkle.EMPTY_ROOT
    node = border[-1][1]
    for _, left in reversed(border[:-1]):
        node = merkle.node_hash(left, node)
    return node

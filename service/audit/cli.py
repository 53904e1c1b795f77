"""Commands: `integrator`, `audit verify`, `audit prove ORDER_ID`, `audit keygen`."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

import asyncpg

from service.audit.checkpoints import AuditConfig, generate_key_files
from service.audit.verify import (
    CheckpointsUnavailable,
    DatabaseReport,
    Divergence,
    PublishedCheckpoint,
    compare_with_checkpoints,
    load_checkpoints,
    verify_database,
)
from service.config import Settings

EXIT_INTACT, EXIT_TAMPERED, EXIT_UNVERIFIED = 0, 1, 2


async def _verify(
    settings: Settings, config: AuditConfig
) -> tuple[DatabaseReport, list[PublishedCheckpoint] | None, list[Divergence], str]:
    from service.db import connect_kwargs

    published: list[PublishedCheckpoint] | None = None
    forged: list[Divergence] = []
    unavailable = ""
    try:
        published, forged = await asyncio.to_thread(load_checkpoints, config)
    except CheckpointsUnavailable as error:
        unavailable = str(error)
    sizes = {item.checkpoint.tree_size for item in published or []}
    # One long read of the whole log: no per-statement timeout of the request path.
    conn = await asyncpg.connect(command_timeout=None,
                                 **connect_kwargs(settings, settings.database_url))
    try:
        report = await verify_database(conn, sizes)
    finally:
        await conn.close()
    return report, published, forged, unavailable


def verify_command(settings: Settings, config: AuditConfig) -> int:
    try:
        report, published, forged, unavailable = asyncio.run(_verify(settings, config))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        print(f"audit log NOT VERIFIED: database unreachable ({type(error).__name__}: {error})")
        return EXIT_UNVERIFIED
    found = [d for d in (report.divergence,) if d is not None]
    if published is not None:
        against = compare_with_checkpoints(report, published)
        found += [d for d in (against,) if d is not None]
    found += forged
    if found:
        print(f"audit log TAMPERED: first divergence: {found[0].describe()}")
        for other in found[1:6]:
            print(f"  also: {other.describe()}")
        if len(found) > 6:
            print(f"  and {len(found) - 6} more")
        return EXIT_TAMPERED
    window = f"; {report.unintegrated} events not yet integrated" if report.unintegrated else ""
    if published is None:
        print(f"audit log NOT VERIFIED: {unavailable} (the database alone shows no tampering:"
              f" {report.events_checked} leaves{window})")
        return EXIT_UNVERIFIED
    if not published and (report.tree_size or report.unintegrated):
        print(f"audit log NOT VERIFIED: no checkpoint has been published yet"
              f" ({report.tree_size} leaves{window})")
        return EXIT_UNVERIFIED
    latest = published[-1] if published else None
    anchor = (f"latest size {latest.checkpoint.tree_size} issued {latest.issued_at.isoformat()}"
              if latest else "none yet")
    print(f"audit log intact: {report.events_checked} events verified in a tree of"
          f" {report.tree_size} leaves against {len(published)} signed checkpoints"
          f" ({anchor}){window}")
    return EXIT_INTACT


async def _prove(settings: Settings, config: AuditConfig, order_id: uuid.UUID) -> dict | None:
    from service.audit.proofs import CheckpointSource, bundle
    from service.db import connect

    conn = await connect(settings)
    try:
        checkpoint = await CheckpointSource().latest(conn)
        if checkpoint is None:
            return None
        return await bundle(conn, config, order_id, checkpoint)
    finally:
        await conn.close()


def prove_command(settings: Settings, config: AuditConfig, order_id: str) -> int:
    try:
        document = asyncio.run(_prove(settings, config, uuid.UUID(order_id)))
    except ValueError as error:
        print(f"audit prove: {error}", file=sys.stderr)
        return 2
    if document is None:
        print("audit prove: no checkpoint has been published yet", file=sys.stderr)
        return 2
    if not document["events"]:
        print(f"audit prove: order {order_id} has no event covered by checkpoint"
              f" {document['checkpoint']['tree_size']}", file=sys.stderr)
        return 1
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def keygen_command(private_path: Path, public_path: Path) -> int:
    if private_path.exists():
        print(f"{private_path} exists: not replaced", file=sys.stderr)
        return 1
    generate_key_files(private_path, public_path)
    print(f"wrote {private_path} (0600) and {public_path}")
    return 0

"""Which signed checkpoints a restore to time T must be consistent with: those *published*
(written to the store) before T. A checkpoint is written to the store only after the
transaction that built its tree committed, so its tree is in any restore to a later time;
its `issued_at` (the integrator's clock inside that transaction) is no such proof.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from service.audit.checkpoints import AuditConfig
from service.audit.verify import Divergence, PublishedCheckpoint, load_checkpoints


def published_before(
    published: Sequence[PublishedCheckpoint], published_at: Callable[[str], datetime | None],
    when: datetime | None,
) -> list[PublishedCheckpoint]:
    """The checkpoints whose publication time is known and at or before `when` (all of
    them when `when` is None)."""
    chosen = []
    for item in published:
        at = published_at(item.name)
        if when is None or (at is not None and at <= when):
            chosen.append(item)
    return chosen


def local_published_before(
    config: AuditConfig, when: datetime | None
) -> tuple[list[PublishedCheckpoint], list[Divergence]]:
    """From a local checkpoint directory (publication time: the file's mtime; files are
    created once, never rewritten). Returns (checkpoints, forged ones)."""
    good, forged = load_checkpoints(config)
    directory = config.checkpoint_dir or Path()

    def mtime(name: str) -> datetime | None:
        try:
            return datetime.fromtimestamp((directory / name).stat().st_mtime, UTC)
        except OSError:
            return None

    return published_before(good, mtime, when), forged

"""The checks of a restored database, for any target (a local PITR instance, an Aurora
point-in-time clone): pure detectors over a snapshot, plus `check_restored`, the I/O.

What a restore to target time T can be held to, with the load generator's log (its clock
and the database's are the same host's clock locally; on AWS both are NTP-synchronised):

- `missing_acknowledged` (the RPO): an order acknowledged at or before the cut-off (T, or
  for a restore of the latest state, the moment of the disaster) is not in the restored
  database. Provable: the client receives the acknowledgement after the commit, so the
  commit happened before the acknowledgement, hence before the cut-off.
- `after_target`: an order in the restored database whose client *started* it after T.
  Provable: the order cannot commit before its first request was sent. An order sent
  before T and acknowledged after T may or may not have committed before T: it is counted
  (`in_doubt_present` / `in_doubt_absent`), never judged. The invariant twin, usable
  without a log: an order whose `created_at` (its transaction's start, before its commit)
  is after T.
- `orphaned`, `unaudited`, `duplicated`, `mismatched`, `unexpected`, `double_processed`:
  the drill checker's detectors (chaos.drill.checker), which hold in any consistent
  snapshot. `undelivered` does not apply: a restored point in time has events in flight.
- the audit log: the service's own verifier (`service.audit.verify`) over the restored
  tree, compared with the signed checkpoints *published* before T. A checkpoint is
  published after the transaction that built its tree committed, so every such
  checkpoint's tree must be in the restored database; one issued before T but published
  after it may legitimately be missing (its integrator transaction may have committed
  after T). Without checkpoints the log cannot be verified: unknown, never a pass.
- migrations: every migration file applied with its checksum, and nothing else.

The result is `valid`, `invalid` or `unknown` (a check that could not run), as in
`chaos.drill.checker`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from chaos.drill import checker
from chaos.drill.checker import INVALID, UNKNOWN, VALID, AuditResult, Finding
from chaos.drill.records import History
from chaos.drill.snapshot import Snapshot, load_snapshot
from service.audit.verify import PublishedCheckpoint, compare_with_checkpoints, verify_database
from service.migrate import discover

SAMPLE = checker.SAMPLE
# The drill checker's detectors that hold in any consistent snapshot of the database.
SNAPSHOT_DETECTORS = ("orphaned", "unaudited", "duplicated", "mismatched", "unexpected",
                      "double_processed")


@dataclass(frozen=True)
class MigrationState:
    """What `schema_migrations` holds, compared with the migration files."""

    expected: list[str]
    applied: dict[str, str]  # version -> checksum
    expected_checksums: dict[str, str]

    @property
    def problems(self) -> list[str]:
        found = []
        for version in self.expected:
            if version not in self.applied:
                found.append(f"{version} not applied")
            elif self.applied[version] != self.expected_checksums[version]:
                found.append(f"{version} applied with another checksum")
        found += [f"{v} applied but has no file" for v in sorted(set(self.applied)
                                                                  - set(self.expected))]
        return found

    @property
    def version(self) -> str | None:
        return max(self.applied) if self.applied else None


@dataclass
class RestoreCheckResult:
    target_time: str | None = None  # ISO UTC; None: the latest state was restored
    cut_off: str | None = None  # acknowledgements up to here must be present
    acknowledged_before_cut_off: int = 0
    orders_in_db: int = 0
    missing_acknowledged: int = 0
    after_target: int = 0
    created_after_target: int = 0
    orphaned: int = 0
    unaudited: int = 0
    duplicated: int = 0
    mismatched: int = 0
    unexpected: int = 0
    double_processed: int = 0
    in_doubt_present: int = 0
    in_doubt_absent: int = 0
    data_loss_s: float | None = None
    latest_order_at: str | None = None
    audit_chain_ok: bool | None = None  # None: could not be verified
    audit_detail: str = "not checked"
    checkpoints_compared: int = 0
    migrations_ok: bool | None = None
    migration_version: str | None = None
    migration_problems: list[str] = field(default_factory=list)
    with_history: bool = False
    samples: dict[str, list[str]] = field(default_factory=dict)

    VIOLATIONS = ("missing_acknowledged", "after_target", "created_after_target",
                  *SNAPSHOT_DETECTORS)

    @property
    def violations(self) -> dict[str, int]:
        found = {name: getattr(self, name) for name in self.VIOLATIONS if getattr(self, name)}
        if self.audit_chain_ok is False:
            found["audit_chain_broken"] = 1
        if self.migrations_ok is False:
            found["migrations_wrong"] = len(self.migration_problems) or 1
        return found

    @property
    def result(self) -> str:
        if self.violations:
            return INVALID
        if self.audit_chain_ok is None or self.migrations_ok is None:
            return UNKNOWN
        return VALID

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["violations"] = self.violations
        out["result"] = self.result
        return out


# ------------------------------------------------------------------------ pure detectors
def _ids(values: Sequence[str] | set[str]) -> Finding:
    unique = set(values)
    return Finding(len(unique), sorted(unique)[:SAMPLE])


def missing_acknowledged(snap: Snapshot, history: History, cut_off: float | None) -> Finding:
    """Acknowledged at or before the cut-off (all acknowledged if None) but absent."""
    present = {o.id for o in [*snap.orders, *snap.outside]}
    return _ids({a.order_id for a in history.acks
                 if (cut_off is None or a.t <= cut_off) and a.order_id not in present})


def after_target(snap: Snapshot, history: History, target: float) -> Finding:
    """Present although its client started it after the target: committed after it."""
    started = {(o.principal, o.key): o.t for o in history.orders}
    return _ids({r.id for r in snap.orders
                 if started.get((r.principal, r.idempotency_key), float("-inf")) > target})


def created_after_target(snap: Snapshot, target: float) -> Finding:
    """Present although its transaction started after the target (no log needed)."""
    return _ids({r.id for r in [*snap.orders, *snap.outside]
                 if r.created_at.timestamp() > target})


def in_doubt(snap: Snapshot, history: History, cut_off: float) -> tuple[int, int]:
    """(present, absent) among orders started before the cut-off and acknowledged after it
    (or never): their commit may fall on either side of it."""
    present = {(r.principal, r.idempotency_key) for r in snap.orders}
    acked_by = {(a.principal, a.key): a.t for a in history.acks}
    doubtful = {(o.principal, o.key) for o in history.orders
                if o.t <= cut_off and acked_by.get((o.principal, o.key), float("inf")) > cut_off}
    return len(doubtful & present), len(doubtful - present)


def data_loss_seconds(snap: Snapshot, history: History, cut_off: float | None) -> float:
    """The span of acknowledged writes lost: from the earliest missing acknowledgement to
    the cut-off (to the last acknowledgement when restoring the latest state); 0 if none."""
    present = {o.id for o in [*snap.orders, *snap.outside]}
    relevant = [a for a in history.acks if cut_off is None or a.t <= cut_off]
    missing = [a.t for a in relevant if a.order_id not in present]
    if not missing:
        return 0.0
    end = cut_off if cut_off is not None else max(a.t for a in relevant)
    return round(max(0.0, end - min(missing)), 3)


def migration_state(applied: dict[str, str]) -> MigrationState:
    files = discover()
    return MigrationState([m.version for m in files], applied,
                          {m.version: m.checksum for m in files})


def audit_outcome(
    report: Any, checkpoints: Sequence[PublishedCheckpoint] | None
) -> tuple[AuditResult, int]:
    """The audit verifier's outcome over a restored tree (a `DatabaseReport`) and the
    checkpoints published before the target; (result, checkpoints compared)."""
    if report.divergence is not None:
        return AuditResult(INVALID, report.divergence.describe()), 0
    if checkpoints is None:
        return AuditResult(UNKNOWN, "no published checkpoints given: the restored tree is"
                           f" consistent in itself ({report.tree_size} leaves) but not"
                           " verified against a signed anchor"), 0
    usable = sorted(checkpoints, key=lambda p: (p.checkpoint.tree_size, p.issued_at))
    against = compare_with_checkpoints(report, usable)
    if against is not None:
        return AuditResult(INVALID, against.describe()), len(usable)
    if not usable and (report.tree_size or report.unintegrated):
        return AuditResult(UNKNOWN, "no checkpoint was published before the target time"
                           f" ({report.tree_size} leaves)"), 0
    return AuditResult(VALID, f"{report.events_checked} events verified in a tree of"
                       f" {report.tree_size} leaves against {len(usable)} signed checkpoints"
                       f" published before the restored point ({report.unintegrated} events not yet"
                       " integrated)"), len(usable)


@dataclass(frozen=True)
class RestoreInputs:
    """Everything `evaluate` judges, read from the restored database."""

    snapshot: Snapshot
    audit: AuditResult
    checkpoints_compared: int
    migrations: MigrationState


def _history_checks(result: RestoreCheckResult, snap: Snapshot, history: History,
                    target: float | None, cut_off: float | None) -> None:
    result.with_history = True
    missing = missing_acknowledged(snap, history, cut_off)
    result.missing_acknowledged = missing.count
    result.samples["missing_acknowledged"] = missing.samples
    result.acknowledged_before_cut_off = len({a.order_id for a in history.acks
                                              if cut_off is None or a.t <= cut_off})
    result.data_loss_s = data_loss_seconds(snap, history, cut_off)
    if target is not None:
        late = after_target(snap, history, target)
        result.after_target = late.count
        result.samples["after_target"] = late.samples
        result.in_doubt_present, result.in_doubt_absent = in_doubt(snap, history, target)
    for name in SNAPSHOT_DETECTORS:
        finding = checker.ANOMALIES[name](snap, history)
        setattr(result, name, finding.count)
        result.samples[name] = finding.samples


def _invariant_checks(result: RestoreCheckResult, snap: Snapshot) -> None:
    """Without a log: only what needs no client history (duplicates by key and by
    client_order_id are database invariants)."""
    empty = History()
    for name in ("orphaned", "unaudited", "duplicated", "double_processed"):
        finding = checker.ANOMALIES[name](snap, empty)
        setattr(result, name, finding.count)
        result.samples[name] = finding.samples


def evaluate(
    inputs: RestoreInputs, history: History | None, target_time: datetime | None,
    cut_off: datetime | None = None,
) -> RestoreCheckResult:
    """Every check over what was read (pure). `cut_off` defaults to the target time."""
    snap = inputs.snapshot
    target = target_time.timestamp() if target_time is not None else None
    cut = cut_off.timestamp() if cut_off is not None else target
    cut_at = cut_off or target_time
    result = RestoreCheckResult(
        target_time=target_time.isoformat() if target_time else None,
        cut_off=cut_at.isoformat() if cut_at else None,
        orders_in_db=len(snap.orders),
    )
    if snap.orders:
        result.latest_order_at = max(o.created_at for o in snap.orders).isoformat()
    if history is not None:
        _history_checks(result, snap, history, target, cut)
    else:
        _invariant_checks(result, snap)
    if target is not None:
        early = created_after_target(snap, target)
        result.created_after_target = early.count
        result.samples["created_after_target"] = early.samples
    result.audit_chain_ok = {VALID: True, INVALID: False}.get(inputs.audit.outcome)
    result.audit_detail = inputs.audit.detail
    result.checkpoints_compared = inputs.checkpoints_compared
    problems = inputs.migrations.problems
    result.migrations_ok = not problems
    result.migration_problems = problems
    result.migration_version = inputs.migrations.version
    return result


# ---------------------------------------------------------------------------------- I/O
async def read_restored(
    conn: asyncpg.Connection, history: History | None,
    checkpoints: Sequence[PublishedCheckpoint] | None,
) -> RestoreInputs:
    """Read the restored database (any role that can SELECT; read-only is enough)."""
    if history is not None:
        accounts = history.accounts
        acked = [a.order_id for a in history.acks]
    else:
        accounts = [r["account_id"] for r in
                    await conn.fetch("SELECT DISTINCT account_id FROM orders")]
        acked = []
    snap = await load_snapshot(conn, accounts, acked)
    sizes = {c.checkpoint.tree_size for c in checkpoints or []}
    report = await verify_database(conn, sizes)
    audit, compared = audit_outcome(report, checkpoints)
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    migrations = migration_state({r["version"]: r["checksum"] for r in rows})
    return RestoreInputs(snap, audit, compared, migrations)


async def check_restored(
    conn: asyncpg.Connection,
    history: History | None,
    target_time: datetime | None,
    checkpoints: Sequence[PublishedCheckpoint] | None,
    *,
    cut_off: datetime | None = None,
) -> RestoreCheckResult:
    """Check a restored database against the load generator's history (or, without one,
    the invariants). `target_time`: the point in time restored (None: the latest state);
    `checkpoints`: the signed checkpoints published before it (see
    `chaos.restore.checkpoints`); `cut_off`: acknowledgements up to it must be present
    (default: the target time; for a latest-state restore, the moment of the disaster)."""
    inputs = await read_restored(conn, history, checkpoints)
    return evaluate(inputs, history, target_time, cut_off)

"""The restore checks over in-memory snapshots and histories (no database): histories a
restore must be flagged for, and the ones it must pass."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chaos.drill.checker import INVALID, UNKNOWN, VALID, AuditResult
from chaos.drill.records import Ack, History, OrderIntent
from chaos.drill.snapshot import AuditRow, OrderRow, OutboxRow, Snapshot
from chaos.restore.checkpoints import published_before
from chaos.restore.checks import (
    MigrationState,
    RestoreInputs,
    audit_outcome,
    evaluate,
    migration_state,
)
from service.audit.notes import Checkpoint
from service.audit.verify import DatabaseReport, Divergence, PublishedCheckpoint
from service.migrate import discover

ACCOUNT, PRINCIPAL = "DRILL-R", "drill-r"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = T0 + timedelta(seconds=30)
INTACT = AuditResult(VALID, "intact")


def current_migrations() -> MigrationState:
    return migration_state({m.version: m.checksum for m in discover()})


@dataclass
class World:
    snap: Snapshot = field(default_factory=lambda: Snapshot(accounts=[ACCOUNT]))
    history: History = field(default_factory=History)
    seq: int = 0

    def order(self, sent_s: float, acked_s: float | None, *, restored: bool = True,
              created_s: float | None = None, audited: bool = True) -> str:
        """An order the client sent at T0+sent_s, acknowledged at T0+acked_s (None: never),
        present in the restored database or not."""
        self.seq += 1
        key, oid = f"k-{self.seq}", str(uuid.uuid4())
        sent = T0 + timedelta(seconds=sent_s)
        self.history.orders.append(OrderIntent(key, f"c-{self.seq}", ACCOUNT, PRINCIPAL,
                                               sent.timestamp()))
        if acked_s is not None:
            self.history.acks.append(Ack(key, oid, f"c-{self.seq}", ACCOUNT, PRINCIPAL,
                                         (T0 + timedelta(seconds=acked_s)).timestamp()))
        if restored:
            created = T0 + timedelta(seconds=created_s if created_s is not None else sent_s)
            self.snap.orders.append(OrderRow(oid, ACCOUNT, PRINCIPAL, key, f"c-{self.seq}",
                                             "PENDING", created))
            if audited:
                self.snap.audit.append(AuditRow(oid, self.seq, None, "PENDING", None))
            self.snap.outbox.append(OutboxRow(f"e-{self.seq}", oid, "order.created",
                                              False, False))
        return oid

    def inputs(self, audit: AuditResult = INTACT,
               migrations: MigrationState | None = None) -> RestoreInputs:
        return RestoreInputs(self.snap, audit, 1, migrations or current_migrations())


def steady_world() -> World:
    """Acked well before the target and present; in doubt around it; sent after it and
    absent: a correct restore to TARGET."""
    world = World()
    for s in range(25):
        world.order(s, s + 0.1)
    world.order(29.9, 30.2, restored=True)  # in doubt, committed before the target
    world.order(29.95, 30.3, restored=False)  # in doubt, committed after it
    world.order(31, 31.1, restored=False)
    world.order(35, None, restored=False)
    return world


def test_a_correct_point_in_time_restore_is_valid() -> None:
    world = steady_world()
    result = evaluate(world.inputs(), world.history, TARGET)
    assert result.result == VALID, result.violations
    assert result.acknowledged_before_cut_off == 25
    assert (result.in_doubt_present, result.in_doubt_absent) == (1, 1)
    assert result.missing_acknowledged == 0 and result.data_loss_s == 0.0
    assert result.migrations_ok is True


def test_an_order_acknowledged_before_the_target_but_missing_is_the_rpo() -> None:
    world = steady_world()
    lost = world.order(27, 28, restored=False)
    result = evaluate(world.inputs(), world.history, TARGET)
    assert result.result == INVALID
    assert result.missing_acknowledged == 1
    assert result.samples["missing_acknowledged"] == [lost]
    assert result.data_loss_s == 2.0  # from its acknowledgement (28 s) to the target (30 s)


def test_an_order_sent_after_the_target_but_restored_is_flagged() -> None:
    world = steady_world()
    late = world.order(30.5, 30.6, restored=True, created_s=29.0)  # created_at lies too
    result = evaluate(world.inputs(), world.history, TARGET)
    assert result.violations == {"after_target": 1}
    assert result.samples["after_target"] == [late]


def test_without_a_log_an_order_created_after_the_target_is_flagged() -> None:
    world = steady_world()
    world.order(40, 40.1, restored=True)
    result = evaluate(world.inputs(), None, TARGET)
    assert result.with_history is False
    assert result.created_after_target == 1 and result.result == INVALID


def test_without_a_log_the_invariants_still_find_an_orphan_and_a_duplicate() -> None:
    world = steady_world()
    world.order(10, 10.1, audited=False)
    result = evaluate(world.inputs(), None, TARGET)
    assert result.violations == {"orphaned": 1}
    first = world.snap.orders[0]
    world.snap.orders.append(first.__class__(str(uuid.uuid4()), first.account_id,
                                             first.principal, first.idempotency_key, None,
                                             first.status, first.created_at))
    assert evaluate(world.inputs(), None, TARGET).duplicated == 1


def test_latest_state_restore_holds_every_ack_up_to_the_cut_off() -> None:
    world = steady_world()
    disaster = T0 + timedelta(seconds=31.05)  # the ack at 31.1 came after it
    lost = world.history.acks[-1]
    result = evaluate(world.inputs(), world.history, None, cut_off=disaster)
    assert result.missing_acknowledged == 1  # the one acked at 30.3 is absent
    assert result.after_target == 0  # no target: nothing is too new
    assert lost.t > disaster.timestamp()


def test_broken_or_unverifiable_audit_log_and_wrong_migrations() -> None:
    world = steady_world()
    broken = evaluate(world.inputs(AuditResult(INVALID, "history rewritten")),
                      world.history, TARGET)
    assert broken.violations == {"audit_chain_broken": 1}
    unverified = evaluate(world.inputs(AuditResult(UNKNOWN, "no checkpoints")),
                          world.history, TARGET)
    assert unverified.result == UNKNOWN  # never a pass
    files = discover()
    old = migration_state({m.version: m.checksum for m in files[:-1]} | {"9999_x": "0"})
    wrong = evaluate(world.inputs(migrations=old), world.history, TARGET)
    assert wrong.migrations_ok is False
    assert wrong.migration_problems == [f"{files[-1].version} not applied",
                                        "9999_x applied but has no file"]


def _checkpoint(size: int, root: bytes, name: str = "n") -> PublishedCheckpoint:
    return PublishedCheckpoint(name, Checkpoint("o", size, root), T0)


def test_audit_outcome_against_checkpoints_published_before_the_target() -> None:
    report = DatabaseReport(events_checked=4, tree_size=4, roots={2: b"r2", 4: b"r4"})
    assert audit_outcome(report, [_checkpoint(2, b"r2"), _checkpoint(4, b"r4")])[0].outcome \
        == VALID
    # a checkpoint the restored tree is too small for: restored from too old a copy
    too_big = audit_outcome(report, [_checkpoint(6, b"r6")])[0]
    assert too_big.outcome == INVALID and "rolled back" in too_big.detail
    assert audit_outcome(report, [_checkpoint(2, b"other")])[0].outcome == INVALID
    assert audit_outcome(report, None)[0].outcome == UNKNOWN
    assert audit_outcome(report, [])[0].outcome == UNKNOWN
    report.divergence = Divergence("modified", "x", seq=3)
    assert audit_outcome(report, [_checkpoint(2, b"r2")])[0].outcome == INVALID


def test_only_checkpoints_published_before_the_target_are_held_against_it() -> None:
    items = [_checkpoint(2, b"a", "early"), _checkpoint(4, b"b", "late"),
             _checkpoint(6, b"c", "unknown")]
    times = {"early": TARGET - timedelta(seconds=1), "late": TARGET + timedelta(seconds=1)}
    chosen = published_before(items, times.get, TARGET)
    assert [c.name for c in chosen] == ["early"]
    assert len(published_before(items, times.get, None)) == 3

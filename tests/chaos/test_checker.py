"""The pure checker: each anomaly over an in-memory snapshot and history (no database)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chaos.drill import checker
from chaos.drill.checker import INVALID, UNKNOWN, VALID, AuditResult, check
from chaos.drill.records import Ack, History, OrderIntent, Outcome
from chaos.drill.snapshot import AuditRow, OrderRow, OutboxRow, Snapshot
from chaos.drill.verify import audit_cli_verifier

ACCOUNT, PRINCIPAL = "DRILL-0", "drill-0"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
INTACT = AuditResult(VALID, "exit 0: intact")


class World:
    """Builds a snapshot the way the service writes (order, outbox, audit) and a history."""

    def __init__(self) -> None:
        self.snap = Snapshot(accounts=[ACCOUNT])
        self.history = History()
        self.seq = 0

    def order(self, *, key: str | None = None, coid: str | None = None,
              account: str = ACCOUNT, acked: bool = True, in_history: bool = True,
              creation_audit: bool = True, outbox: bool = True, processed: bool = True,
              status: str | None = None) -> str:
        self.seq += 1
        key = key or f"k-{uuid.uuid4().hex[:8]}"
        coid = coid or f"c-{self.seq}"
        oid = str(uuid.uuid4())
        final = status or ("FILLED" if processed else "PENDING")
        self.snap.orders.append(OrderRow(oid, account, PRINCIPAL, key, coid, final,
                                         T0 + timedelta(seconds=self.seq)))
        event = str(uuid.uuid4())
        if outbox:
            self.snap.outbox.append(OutboxRow(event, oid, "order.created", True, processed))
        if creation_audit:
            self.audit(oid, None, "PENDING")
        if processed and outbox:
            self.audit(oid, "PENDING", "SUBMITTED", event)
            if final == "FILLED":
                self.audit(oid, "SUBMITTED", "FILLED", event)
        if in_history:
            self.history.orders.append(OrderIntent(key, coid, account, PRINCIPAL, 1.0))
            if acked:
                self.history.acks.append(Ack(key, oid, coid, account, PRINCIPAL, 1.1))
            else:
                self.history.outcomes.append(Outcome("gave_up", key, 2.0, "test"))
        return oid

    def audit(self, oid: str, src: str | None, dst: str, cause: str | None = None) -> None:
        self.snap.audit.append(AuditRow(oid, len(self.snap.audit) + 1, src, dst, cause))

    def check(self, audit: AuditResult | None = INTACT) -> checker.CheckResult:
        return check(self.snap, self.history, audit)


def test_clean_history_is_valid() -> None:
    w = World()
    for _ in range(5):
        w.order()
    result = w.check()
    assert result.result == VALID and result.ok, result.to_json()
    assert (result.acknowledged, result.orders_in_db) == (5, 5)
    assert result.audit_chain_ok is True


def test_lost() -> None:
    w = World()
    w.order()
    ghost = str(uuid.uuid4())
    w.history.acks.append(Ack("k-lost", ghost, "c-lost", ACCOUNT, PRINCIPAL, 1.0))
    result = w.check()
    assert result.violations == {"lost": 1} and result.samples["lost"] == [ghost]
    assert result.result == INVALID


def test_acked_order_outside_the_scope_is_not_lost() -> None:
    w = World()
    oid = w.order(account="OTHER")
    w.snap.outside.append(w.snap.orders.pop())
    assert oid not in {o.id for o in w.snap.orders}
    assert w.check().lost == 0


def test_duplicate_per_key_keeps_the_earliest() -> None:
    w = World()
    w.order(key="k-dup")
    second = w.order(key="k-dup", acked=False, in_history=False)
    result = w.check()
    assert result.violations == {"duplicated": 1}
    assert result.samples["duplicated"] == [second]


def test_duplicate_per_client_order_id_across_accounts() -> None:
    w = World()
    w.order(coid="c-shared")
    w.order(coid="c-shared", account="DRILL-1")
    assert w.check().violations == {"duplicated": 1}


def test_two_ids_acknowledged_for_one_key() -> None:
    w = World()
    first = w.order(key="k-twice")
    other = w.order()
    w.history.acks.append(Ack("k-twice", other, "c-1", ACCOUNT, PRINCIPAL, 2.0))
    result = w.check()
    assert (result.duplicated, result.mismatched) == (1, 1)
    assert first not in result.samples["duplicated"]


def test_orphans() -> None:
    w = World()
    w.order()
    no_audit = w.order(creation_audit=False)
    no_outbox = w.order(outbox=False, processed=False)
    result = w.check()
    assert result.violations == {"orphaned": 2}
    joined = " ".join(result.samples["orphaned"])
    assert f"{no_audit} (no creation audit event)" in joined
    assert f"{no_outbox} (no order.created outbox row)" in joined


def test_undelivered_and_unpublished() -> None:
    w = World()
    w.order()
    stuck = w.order(processed=False)
    row = next(x for x in w.snap.outbox if x.order_id == stuck)
    w.snap.outbox[w.snap.outbox.index(row)] = OutboxRow(row.event_id, stuck, row.event_type,
                                                        False, False)
    result = w.check()
    assert result.violations == {"undelivered": 1} and result.unpublished == 1
    assert "never published" in result.samples["undelivered"][0]


def test_double_processed() -> None:
    w = World()
    oid = w.order()
    cause = next(x.event_id for x in w.snap.outbox if x.order_id == oid)
    w.audit(oid, "PENDING", "SUBMITTED", cause)  # the same event applied a second time
    result = w.check()
    assert result.double_processed == 1  # (the status then also disagrees: unaudited)
    assert oid in result.samples["double_processed"][0]


def test_repeated_partial_fills_are_not_double_processing() -> None:
    w = World()
    oid = w.order(status="PARTIALLY_FILLED", processed=False)
    w.audit(oid, "PENDING", "PARTIALLY_FILLED")
    w.audit(oid, "PARTIALLY_FILLED", "PARTIALLY_FILLED")
    w.audit(oid, "PARTIALLY_FILLED", "PARTIALLY_FILLED")
    assert w.check().double_processed == 0


def test_transition_without_audit_event() -> None:
    w = World()
    oid = w.order(processed=False)
    i = next(i for i, o in enumerate(w.snap.orders) if o.id == oid)
    o = w.snap.orders[i]
    w.snap.orders[i] = OrderRow(o.id, o.account_id, o.principal, o.idempotency_key,
                                o.client_order_id, "CANCELLED", o.created_at)
    assert w.check().unaudited == 1


def test_in_doubt_commit_is_not_lost_and_an_unsent_order_is_unexpected() -> None:
    w = World()
    w.order()
    w.order(acked=False)
    w.history.orders.append(OrderIntent("k-never", "c-never", ACCOUNT, PRINCIPAL, 3.0))
    result = w.check()
    assert result.ok and (result.in_doubt_committed, result.never_committed) == (1, 1)
    w.order(in_history=False)
    assert w.check().violations == {"unexpected": 1}


def test_broken_audit_log_is_invalid_and_an_unverified_one_is_unknown() -> None:
    w = World()
    w.order()
    broken = w.check(AuditResult(INVALID, "exit 1: broken at seq 2"))
    assert broken.violations == {"audit_chain_broken": 1} and broken.result == INVALID
    for audit in (AuditResult(UNKNOWN, "exit 2: no checkpoint store"), None):
        result = w.check(audit)
        assert result.result == UNKNOWN and not result.ok  # never a pass
        assert result.audit_chain_ok is None


def test_anomalies_beat_unknown() -> None:
    w = World()
    w.history.acks.append(Ack("k", str(uuid.uuid4()), "c", ACCOUNT, PRINCIPAL, 1.0))
    assert w.check(None).result == INVALID


@pytest.mark.parametrize(("code", "outcome"), [
    (0, VALID), (1, INVALID), (2, UNKNOWN), (3, UNKNOWN), (137, UNKNOWN),
])
def test_audit_verify_exit_codes(tmp_path: Path, code: int, outcome: str) -> None:
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho \"$@ $ORDERS_DATABASE_URL\"\nexit {code}\n")
    fake.chmod(0o755)
    verify = audit_cli_verifier({"ORDERS_DATABASE_URL": "postgresql://x/y"}, python=str(fake))
    result = asyncio.run(verify())
    assert result.outcome == outcome
    assert "-m service audit verify postgresql://x/y" in result.detail


def test_audit_verify_that_cannot_start_is_unknown(tmp_path: Path) -> None:
    verify = audit_cli_verifier({}, python=str(tmp_path / "missing"))
    assert asyncio.run(verify()).outcome == UNKNOWN

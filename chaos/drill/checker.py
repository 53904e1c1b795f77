"""Jepsen-style checker, in elle's style: pure functions over a snapshot and a history.

`chaos.drill.snapshot.load_snapshot` reads the database once (read-only, one transaction);
each anomaly below is one pure function `(Snapshot, History) -> Finding`; `check` runs
them all. `chaos.drill.verify` does the I/O (snapshot, audit verifier, queue probe).

Anomalies (each counted as a number of orders, with up to `SAMPLE` examples):

- `lost`: acknowledged (2xx with an order id) but the order id is not in `orders`.
- `duplicated`: surplus orders: for every (principal, idempotency_key), every
  (account_id, client_order_id) and every client_order_id of the run with more than one
  order, all but the earliest; plus any key the client saw acknowledged with two different
  order ids.
- `mismatched`: acknowledged order id exists but under another key, account or
  client_order_id than the client sent.
- `unexpected`: an order in the checked accounts whose idempotency key the client never
  sent (the service invented or mixed up an order).
- `orphaned`: an order without its creation audit event (`from_status` NULL) or without its
  `order.created` outbox row.
- `unaudited`: an order whose status is not the `to_status` of its latest audit event
  (a transition applied without its audit event).
- `undelivered`: outbox rows of those orders without a `processed_events` row (never
  applied by the worker); `unpublished` counts those the relay never published.
- `double_processed`: orders with one event applied twice: two audit events with the same
  `cause_event_id` and the same transition, or the same (from_status, to_status)
  transition recorded twice for an order (PARTIALLY_FILLED -> PARTIALLY_FILLED excepted).
- `in_doubt_committed` (not an anomaly): orders the client never saw acknowledged (it gave
  up, or stopped) that did commit; the Jepsen "indeterminate" outcome.
- Audit log: `python -m service audit verify` (see `chaos.drill.verify`): valid, invalid,
  or unknown when it could not run.

The result is `valid` (no anomaly, every verifier ran and agreed), `invalid` (an anomaly or
a broken audit log) or `unknown` (nothing found, but a verifier could not run: never a pass).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from chaos.drill.records import Ack, History
from chaos.drill.snapshot import OrderRow, Snapshot

SAMPLE = 20
VALID, INVALID, UNKNOWN = "valid", "invalid", "unknown"


@dataclass(frozen=True)
class Finding:
    count: int
    samples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuditResult:
    outcome: str  # valid | invalid | unknown
    detail: str


@dataclass(frozen=True)
class QueueState:
    visible: int
    in_flight: int
    dlq: int | None


@dataclass
class CheckResult:
    acknowledged: int = 0
    attempted_orders: int = 0
    orders_in_db: int = 0
    lost: int = 0
    duplicated: int = 0
    mismatched: int = 0
    unexpected: int = 0
    orphaned: int = 0
    unaudited: int = 0
    undelivered: int = 0
    unpublished: int = 0
    double_processed: int = 0
    in_doubt_committed: int = 0
    never_committed: int = 0
    audit_chain_ok: bool | None = None  # None: the audit verifier could not run
    audit_detail: str = ""
    queue: QueueState | None = None
    samples: dict[str, list[str]] = field(default_factory=dict)

    VIOLATIONS = (
        "lost", "duplicated", "mismatched", "unexpected", "orphaned", "unaudited",
        "undelivered", "double_processed",
    )

    @property
    def violations(self) -> dict[str, int]:
        """Every non-zero anomaly count, plus `audit_chain_broken` when the chain is broken."""
        found = {name: getattr(self, name) for name in self.VIOLATIONS if getattr(self, name)}
        if self.audit_chain_ok is False:
            found["audit_chain_broken"] = 1
        return found

    @property
    def result(self) -> str:
        """valid / invalid / unknown (a verifier that could not run is never a pass)."""
        if self.violations:
            return INVALID
        return UNKNOWN if self.audit_chain_ok is None else VALID

    @property
    def ok(self) -> bool:
        return self.result == VALID

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["violations"] = self.violations
        out["result"] = self.result
        return out


def _sample(values: Iterable[Any]) -> list[str]:
    return [str(v) for v in sorted(values, key=str)[:SAMPLE]]


def _finding(ids: Iterable[str]) -> Finding:
    unique = set(ids)
    return Finding(len(unique), _sample(unique))


def _orders_by_id(snap: Snapshot) -> dict[str, OrderRow]:
    return {o.id: o for o in [*snap.orders, *snap.outside]}


def lost(snap: Snapshot, history: History) -> Finding:
    known = _orders_by_id(snap)
    return _finding(a.order_id for a in history.acks if a.order_id not in known)


def mismatched(snap: Snapshot, history: History) -> Finding:
    known = _orders_by_id(snap)

    def differs(ack: Ack, row: OrderRow) -> bool:
        return (row.idempotency_key, row.principal, row.account_id, row.client_order_id) != (
            ack.key, ack.principal, ack.account, ack.client_order_id)

    return _finding(a.order_id for a in history.acks
                    if a.order_id in known and differs(a, known[a.order_id]))


def duplicated(snap: Snapshot, history: History) -> Finding:
    groups: dict[tuple[str | None, ...], list[OrderRow]] = defaultdict(list)
    run_client_ids = {o.client_order_id for o in history.orders}
    for r in snap.orders:
        groups[("key", r.principal, r.idempotency_key)].append(r)
        if r.client_order_id is not None:
            groups[("coid", r.account_id, r.client_order_id)].append(r)
            if r.client_order_id in run_client_ids:
                groups[("coid-run", r.client_order_id)].append(r)
    surplus: set[str] = set()
    for members in groups.values():
        ordered = sorted(members, key=lambda r: (r.created_at, r.id))
        surplus.update(r.id for r in ordered[1:])
    first_ack: dict[tuple[str, str], str] = {}
    for ack in history.acks:
        first = first_ack.setdefault((ack.principal, ack.key), ack.order_id)
        if ack.order_id != first:
            surplus.add(ack.order_id)
    return _finding(surplus)


def unexpected(snap: Snapshot, history: History) -> Finding:
    sent = {(o.principal, o.key) for o in history.orders}
    sent |= {(a.principal, a.key) for a in history.acks}
    return _finding(r.id for r in snap.orders if (r.principal, r.idempotency_key) not in sent)


def in_doubt(snap: Snapshot, history: History) -> tuple[int, int]:
    """(committed, never committed) among the orders the client never saw acknowledged."""
    acked = {(a.principal, a.key) for a in history.acks}
    committed = {(r.principal, r.idempotency_key) for r in snap.orders}
    unacked = {(o.principal, o.key) for o in history.orders} - acked
    return len(unacked & committed), len(unacked - committed)


def orphaned(snap: Snapshot, history: History) -> Finding:
    created_audit = {a.order_id for a in snap.audit if a.from_status is None}
    created_outbox = {x.order_id for x in snap.outbox if x.event_type == "order.created"}
    samples = []
    count = 0
    for order in sorted(snap.orders, key=lambda o: o.id):
        missing = [what for what, ok in (
            ("no creation audit event", order.id in created_audit),
            ("no order.created outbox row", order.id in created_outbox),
        ) if not ok]
        if missing:
            count += 1
            samples.append(f"{order.id} ({', '.join(missing)})")
    return Finding(count, samples[:SAMPLE])


def unaudited(snap: Snapshot, history: History) -> Finding:
    last: dict[str, str] = {}
    for event in sorted(snap.audit, key=lambda a: a.seq):
        last[event.order_id] = event.to_status
    bad = [f"{o.id} (status {o.status}, last audited {last[o.id]})"
           for o in sorted(snap.orders, key=lambda o: o.id)
           if o.id in last and last[o.id] != o.status]
    return Finding(len(bad), bad[:SAMPLE])


def undelivered(snap: Snapshot, history: History) -> Finding:
    rows = [x for x in snap.outbox if not x.processed]
    return Finding(len(rows), [
        f"{x.event_id} ({x.event_type} of {x.order_id}"
        f"{', never published' if not x.published else ''})" for x in rows[:SAMPLE]
    ])


def unpublished(snap: Snapshot, history: History) -> Finding:
    return Finding(sum(1 for x in snap.outbox if not x.processed and not x.published))


def double_processed(snap: Snapshot, history: History) -> Finding:
    by_cause = Counter((a.order_id, a.cause_event_id, a.from_status, a.to_status)
                       for a in snap.audit if a.cause_event_id is not None)
    by_transition = Counter(
        (a.order_id, None, a.from_status, a.to_status) for a in snap.audit
        if not (a.from_status == "PARTIALLY_FILLED" and a.to_status == "PARTIALLY_FILLED")
    )
    doubled = [k for k, n in (*by_cause.items(), *by_transition.items()) if n > 1]
    return Finding(len({k[0] for k in doubled}), [
        f"{order} ({src or 'new'} -> {dst}{', cause ' + cause if cause else ''})"
        for order, cause, src, dst in doubled[:SAMPLE]
    ])


ANOMALIES: dict[str, Callable[[Snapshot, History], Finding]] = {
    "lost": lost, "mismatched": mismatched, "duplicated": duplicated,
    "unexpected": unexpected, "orphaned": orphaned, "unaudited": unaudited,
    "undelivered": undelivered, "double_processed": double_processed,
}


def check(
    snap: Snapshot, history: History, audit: AuditResult | None = None,
    queue: QueueState | None = None,
) -> CheckResult:
    """Every anomaly over one snapshot and history (pure: no I/O)."""
    result = CheckResult(acknowledged=len({a.key for a in history.acks}),
                         attempted_orders=len(history.orders), orders_in_db=len(snap.orders),
                         queue=queue)
    for name, anomaly in ANOMALIES.items():
        finding = anomaly(snap, history)
        setattr(result, name, finding.count)
        result.samples[name] = finding.samples
    result.unpublished = unpublished(snap, history).count
    result.in_doubt_committed, result.never_committed = in_doubt(snap, history)
    if audit is None:
        result.audit_detail = "not checked"
    else:
        result.audit_chain_ok = {VALID: True, INVALID: False}.get(audit.outcome)
        result.audit_detail = audit.detail
    return result

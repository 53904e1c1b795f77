"""Jepsen-style checker: the client's history against the database (and queue) afterwards.

Run it after the outbox and queue have drained. Every query runs in one read-only,
repeatable-read transaction on a connection whose sessions default to read-only, so the
checker sees one consistent snapshot and cannot change anything.

Scope: the orders of the checked accounts (a drill uses accounts of its own, so earlier
runs against the same database do not leak into its verdict). The audit chain is checked
as a whole.

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
- Audit log: by default `python -m service audit verify` as a subprocess (exit 0/1/2 ->
  `audit_chain_ok` True / False / None, None when it could not verify, e.g. no checkpoint
  store in its environment); `service_verifier` runs the database-only checks in process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg

from chaos.drill.records import Ack, History

SAMPLE = 20
AuditVerifier = Callable[[asyncpg.Connection], Awaitable["AuditResult"]]


@dataclass(frozen=True)
class AuditResult:
    ok: bool | None  # None: the verifier could not run
    detail: str
    events_checked: int | None = None


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
    audit_chain_ok: bool | None = None
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
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["violations"] = self.violations
        out["ok"] = self.ok
        return out


async def connect_read_only(database_url: str) -> asyncpg.Connection:
    """A connection whose transactions default to read-only."""
    return await asyncpg.connect(
        database_url,
        timeout=5.0,
        command_timeout=60,
        server_settings={
            "default_transaction_read_only": "on",
            "application_name": "drill-checker",
        },
    )


async def service_verifier(conn: asyncpg.Connection) -> AuditResult:
    """The service's own chain verifier, in process (falls back to its CLI)."""
    try:
        from service.domain.audit import verify_chain
    except ImportError as exc:  # the service is not installed here
        return AuditResult(None, f"service verifier not importable: {exc}")
    verdict = await verify_chain(conn)
    if verdict.ok:
        return AuditResult(True, f"chain intact ({verdict.events_checked} events)",
                           verdict.events_checked)
    return AuditResult(
        False, f"broken at seq {verdict.broken_seq}: {verdict.reason}", verdict.events_checked
    )


def cli_verifier(
    database_url: str, env: Mapping[str, str] | None = None, timeout: float = 300.0
) -> AuditVerifier:
    """`python -m service audit verify` as a subprocess: exit 0 intact, 1 tampering found,
    2 (or anything else) could not verify."""

    async def verify(_conn: asyncpg.Connection) -> AuditResult:
        child_env = {**os.environ, **(env or {}), "ORDERS_DATABASE_URL": database_url}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "service", "audit", "verify",
            env=child_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return AuditResult(None, f"audit verify timed out after {timeout:.0f}s")
        text = out.decode(errors="replace").strip()[-2000:]
        if proc.returncode == 0:
            return AuditResult(True, text or "chain intact")
        if proc.returncode == 1:
            return AuditResult(False, text or "chain broken")
        return AuditResult(None, f"audit verify exited {proc.returncode}: {text}")

    return verify


def _sample(values: Iterable[Any]) -> list[str]:
    return [str(v) for v in sorted(values, key=str)[:SAMPLE]]


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def check(
    database_url: str,
    history: History,
    *,
    accounts: Sequence[str] | None = None,
    audit_verifier: AuditVerifier | None = None,
    verify_audit: bool = True,
    queue_probe: Callable[[], QueueState] | None = None,
) -> CheckResult:
    """Check `history` against the database at `database_url` (any role that can SELECT)."""
    scope = sorted(set(accounts) if accounts is not None else set(history.accounts))
    result = CheckResult(acknowledged=len({a.key for a in history.acks}),
                         attempted_orders=len(history.orders))
    conn = await connect_read_only(database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await _check_orders(conn, history, scope, result)
            await _check_pipeline(conn, scope, result)
        if audit_verifier is None and verify_audit:
            audit_verifier = cli_verifier(database_url)
        if audit_verifier is not None:
            audit = await audit_verifier(conn)
            result.audit_chain_ok = audit.ok
            result.audit_detail = audit.detail
        else:
            result.audit_detail = "not checked"
    finally:
        await conn.close()
    if queue_probe is not None:
        result.queue = await asyncio.to_thread(queue_probe)
    return result


async def _check_orders(
    conn: asyncpg.Connection, history: History, scope: list[str], result: CheckResult
) -> None:
    rows = await conn.fetch(
        """
        SELECT id, account_id, principal, idempotency_key, client_order_id, status, created_at
        FROM orders WHERE account_id = ANY($1::text[])
        """,
        scope,
    )
    result.orders_in_db = len(rows)
    by_id = {str(r["id"]): r for r in rows}

    # Acknowledged orders: present, and the order the client asked for.
    acked_by_key: dict[tuple[str, str], set[str]] = defaultdict(set)
    first_ack: dict[tuple[str, str], Ack] = {}
    for ack in history.acks:
        acked_by_key[(ack.principal, ack.key)].add(ack.order_id)
        first_ack.setdefault((ack.principal, ack.key), ack)
    acked_ids = {ack.order_id for ack in history.acks}
    outside = [i for i in acked_ids if i not in by_id]
    if outside:
        # Acked ids outside the scope (or malformed) are looked up globally before being lost.
        valid = [u for u in (_uuid_or_none(i) for i in outside) if u is not None]
        found = await conn.fetch(
            """
            SELECT id, account_id, principal, idempotency_key, client_order_id, status, created_at
            FROM orders WHERE id = ANY($1::uuid[])
            """,
            valid,
        )
        for r in found:
            by_id[str(r["id"])] = r
    lost = {i for i in acked_ids if i not in by_id}
    result.lost = len(lost)
    result.samples["lost"] = _sample(lost)

    mismatched = set()
    for ack in history.acks:
        row = by_id.get(ack.order_id)
        if row is None:
            continue
        if (
            row["idempotency_key"] != ack.key
            or row["principal"] != ack.principal
            or row["account_id"] != ack.account
            or row["client_order_id"] != ack.client_order_id
        ):
            mismatched.add(ack.order_id)
    result.mismatched = len(mismatched)
    result.samples["mismatched"] = _sample(mismatched)

    # Duplicates: more than one order per idempotency key or client order id.
    surplus: set[str] = set()
    groups: dict[tuple[str, ...], list[asyncpg.Record]] = defaultdict(list)
    run_client_ids = {o.client_order_id for o in history.orders}
    for r in rows:
        groups[("key", r["principal"], r["idempotency_key"])].append(r)
        if r["client_order_id"] is not None:
            groups[("coid", r["account_id"], r["client_order_id"])].append(r)
            if r["client_order_id"] in run_client_ids:
                groups[("coid-run", r["client_order_id"])].append(r)
    for members in groups.values():
        if len(members) > 1:
            members.sort(key=lambda r: (r["created_at"], str(r["id"])))
            surplus.update(str(r["id"]) for r in members[1:])
    for pk, ids in acked_by_key.items():
        if len(ids) > 1:
            surplus.update(ids - {first_ack[pk].order_id})
    result.duplicated = len(surplus)
    result.samples["duplicated"] = _sample(surplus)

    # Orders the client never sent, and in-doubt orders that did commit.
    sent = {(o.principal, o.key) for o in history.orders} | set(acked_by_key)
    unexpected = {str(r["id"]) for r in rows if (r["principal"], r["idempotency_key"]) not in sent}
    result.unexpected = len(unexpected)
    result.samples["unexpected"] = _sample(unexpected)
    committed_keys = {(r["principal"], r["idempotency_key"]) for r in rows}
    unacked = {(o.principal, o.key) for o in history.orders} - set(acked_by_key)
    result.in_doubt_committed = len(unacked & committed_keys)
    result.never_committed = len(unacked - committed_keys)


async def _check_pipeline(conn: asyncpg.Connection, scope: list[str], result: CheckResult) -> None:
    orphans = await conn.fetch(
        """
        SELECT o.id,
               NOT EXISTS (SELECT 1 FROM audit_events a
                           WHERE a.order_id = o.id AND a.from_status IS NULL) AS no_audit,
               NOT EXISTS (SELECT 1 FROM outbox x
                           WHERE x.order_id = o.id AND x.event_type = 'order.created') AS no_outbox
        FROM orders o
        WHERE o.account_id = ANY($1::text[])
          AND (NOT EXISTS (SELECT 1 FROM audit_events a
                           WHERE a.order_id = o.id AND a.from_status IS NULL)
               OR NOT EXISTS (SELECT 1 FROM outbox x
                              WHERE x.order_id = o.id AND x.event_type = 'order.created'))
        """,
        scope,
    )
    result.orphaned = len(orphans)
    result.samples["orphaned"] = [
        f"{r['id']} ({'no creation audit event' if r['no_audit'] else ''}"
        f"{', ' if r['no_audit'] and r['no_outbox'] else ''}"
        f"{'no order.created outbox row' if r['no_outbox'] else ''})"
        for r in orphans[:SAMPLE]
    ]

    unaudited = await conn.fetch(
        """
        SELECT o.id, o.status, last.to_status
        FROM orders o
        JOIN LATERAL (SELECT a.to_status FROM audit_events a WHERE a.order_id = o.id
                      ORDER BY a.seq DESC LIMIT 1) last ON true
        WHERE o.account_id = ANY($1::text[]) AND last.to_status <> o.status
        """,
        scope,
    )
    result.unaudited = len(unaudited)
    result.samples["unaudited"] = [
        f"{r['id']} (status {r['status']}, last audited {r['to_status']})"
        for r in unaudited[:SAMPLE]
    ]

    undelivered = await conn.fetch(
        """
        SELECT x.event_id, x.order_id, x.event_type, x.published_at IS NULL AS unpublished
        FROM outbox x
        WHERE x.account_id = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.event_id = x.event_id)
        ORDER BY x.id
        """,
        scope,
    )
    result.undelivered = len(undelivered)
    result.unpublished = sum(1 for r in undelivered if r["unpublished"])
    result.samples["undelivered"] = [
        f"{r['event_id']} ({r['event_type']} of {r['order_id']}"
        f"{', never published' if r['unpublished'] else ''})"
        for r in undelivered[:SAMPLE]
    ]

    doubled = await conn.fetch(
        """
        WITH scoped AS (
            SELECT a.* FROM audit_events a JOIN orders o ON o.id = a.order_id
            WHERE o.account_id = ANY($1::text[])
        ),
        by_cause AS (
            SELECT order_id, payload->>'cause_event_id' AS cause, from_status, to_status
            FROM scoped WHERE payload ? 'cause_event_id'
            GROUP BY 1, 2, 3, 4 HAVING count(*) > 1
        ),
        by_transition AS (
            SELECT order_id, NULL::text AS cause, from_status, to_status
            FROM scoped
            WHERE NOT (from_status = 'PARTIALLY_FILLED' AND to_status = 'PARTIALLY_FILLED')
            GROUP BY order_id, from_status, to_status HAVING count(*) > 1
        )
        SELECT * FROM by_cause UNION ALL SELECT * FROM by_transition
        """,
        scope,
    )
    doubled_orders = {str(r["order_id"]) for r in doubled}
    result.double_processed = len(doubled_orders)
    result.samples["double_processed"] = [
        f"{r['order_id']} ({r['from_status'] or 'new'} -> {r['to_status']}"
        f"{', cause ' + r['cause'] if r['cause'] else ''})"
        for r in doubled[:SAMPLE]
    ]


def sqs_queue_probe(
    endpoint_url: str | None, queue_url: str, region: str = "us-east-1"
) -> Callable[[], QueueState]:
    """Queue depth and DLQ depth (the DLQ found through the queue's RedrivePolicy)."""

    def probe() -> QueueState:
        import json

        import boto3

        sqs = boto3.client(
            "sqs",
            endpoint_url=endpoint_url,
            region_name=os.environ.get("AWS_REGION", region),
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        )
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        dlq: int | None = None
        policy = attrs.get("RedrivePolicy")
        if policy:
            arn = json.loads(policy).get("deadLetterTargetArn", "")
            name = arn.rsplit(":", 1)[-1]
            if name:
                dlq_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
                dlq_attrs = sqs.get_queue_attributes(
                    QueueUrl=dlq_url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                    ],
                )["Attributes"]
                dlq = int(dlq_attrs.get("ApproximateNumberOfMessages", 0)) + int(
                    dlq_attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
                )
        return QueueState(
            visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            dlq=dlq,
        )

    return probe

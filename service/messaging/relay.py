"""Outbox relay: claim unpublished rows, publish them to SQS FIFO, mark them published.

A relay sleeps until PostgreSQL notifies it that outbox rows were committed (a trigger on
the outbox, channel `outbox_inserted`), then lingers a few milliseconds so the rows of
concurrent placements share one claim and one SendMessageBatch; it lingers as long after a
claim short of its batch size, for the same reason (a full claim means a backlog). It
still polls, slowly, in case a notification is lost (its listening connection is down,
e.g. during a failover).

Several relays may run at once. Claims are leases: a relay that dies mid-batch loses its
rows to another relay when the lease expires. Per-account order holds because an account
is claimed by one relay at a time and each SendMessageBatch carries at most one message
per account (a failed entry cannot let a later message of its group overtake it).
The events of one account in a claim travel together, as one message (a pack, see
service.messaging.envelope): one SQS entry, receive and delete for up to 10 events.
Re-publishing after a crash is harmless: the queue deduplicates an identical message, and
the worker applies an event once whichever message brings it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import asyncpg

from service.messaging.envelope import (
    PACK_MAX_BYTES,
    PACK_MAX_EVENTS,
    SEND_BATCH_MAX_BYTES,
    pack_body,
    pack_deduplication_id,
)
from service.messaging.health import Heartbeat
from service.observability import Metrics, log, span
from service.stopping import pause

CLAIM_LOCK_KEY = 0x6F72646572730002
OUTBOX_CHANNEL = "outbox_inserted"  # notified by the outbox_insert_notify trigger
RECONNECT_S = 5.0
CLAIM_SQL = """
WITH blocked AS (
    SELECT DISTINCT account_id FROM outbox
    WHERE published_at IS NULL AND claimed_until > now() AND claimed_by <> $1
), candidates AS (
    SELECT id FROM outbox
    WHERE published_at IS NULL
      AND (claimed_until IS NULL OR claimed_until <= now() OR claimed_by = $1)
      AND account_id NOT IN (SELECT account_id FROM blocked)
    ORDER BY id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o
SET claimed_by = $1, claimed_until = now() + make_interval(secs => $3),
    attempts = o.attempts + 1
FROM candidates c WHERE o.id = c.id
RETURNING o.id, o.event_id, o.account_id, o.event_type, o.payload::text AS payload
"""


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: str
    account_id: str
    event_type: str
    payload: str


async def claim_batch(
    conn: asyncpg.Connection, relay_id: str, batch_size: int, lease_s: float
) -> list[OutboxRow]:
    async with conn.transaction():
        # Claims are serialised so each sees the others' committed leases: without this,
        # two relays could each take a different row of the same account.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", CLAIM_LOCK_KEY)
        rows = await conn.fetch(CLAIM_SQL, relay_id, batch_size, lease_s)
    claimed = [
        OutboxRow(r["id"], str(r["event_id"]), r["account_id"], r["event_type"], r["payload"])
        for r in rows
    ]
    return sorted(claimed, key=lambda row: row.id)


# Neither statement names `published_at IS NULL` in its WHERE: the partial indexes of
# unpublished rows would then qualify, and statistics taken while the outbox had no backlog
# (what autovacuum usually sees) made PostgreSQL scan one of them whole with the ids as a
# filter: O(backlog) per call (tests/service/test_outbox_plans.py). Without it only the
# primary key applies. A row already published keeps its first publish time; it has no
# claim to release (publishing clears it).
MARK_PUBLISHED_SQL = (
    "UPDATE outbox SET published_at = coalesce(published_at, now()), claimed_by = NULL,"
    " claimed_until = NULL WHERE id = ANY($1::bigint[])"
)
RELEASE_CLAIMS_SQL = (
    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
    " WHERE id = ANY($1::bigint[]) AND claimed_by = $2"
)


async def mark_published(conn: asyncpg.Connection, ids: list[int]) -> None:
    if ids:
        await conn.execute(MARK_PUBLISHED_SQL, ids)


async def release_claims(conn: asyncpg.Connection, relay_id: str, ids: list[int]) -> None:
    if ids:
        await conn.execute(RELEASE_CLAIMS_SQL, ids, relay_id)


SEND_BATCH_MAX = 10  # SQS: entries per SendMessageBatch


@dataclass(frozen=True)
class Pack:
    """One queue message: consecutive outbox rows of one account (service.messaging.envelope)."""

    rows: tuple[OutboxRow, ...]

    # Built once: publish_rounds weighs it, possibly over several rounds, and _send sends it.
    @cached_property
    def body(self) -> str:
        return pack_body([row.payload for row in self.rows])

    @cached_property
    def body_bytes(self) -> int:  # what SQS counts: UTF-8
        return len(self.body.encode())

    @property
    def account_id(self) -> str:
        return self.rows[0].account_id

    @property
    def entry_id(self) -> str:  # unique in a SendMessageBatch: each row is in one pack
        return str(self.rows[0].id)


def account_packs(
    rows: list[OutboxRow], events_per_message: int = PACK_MAX_EVENTS
) -> OrderedDict[str, list[Pack]]:
    """Each account's rows, in id order, cut into packs of at most `events_per_message`
    events and PACK_MAX_BYTES of payload (an event larger than that alone)."""
    packs: OrderedDict[str, list[Pack]] = OrderedDict()
    current: dict[str, tuple[list[OutboxRow], int]] = {}
    for row in rows:
        members, size = current.get(row.account_id, ([], 0))
        row_bytes = len(row.payload.encode())
        if members and (len(members) == events_per_message
                        or size + row_bytes > PACK_MAX_BYTES):
            packs.setdefault(row.account_id, []).append(Pack(tuple(members)))
            members, size = [], 0
        members.append(row)
        current[row.account_id] = (members, size + row_bytes)
    for account, (members, _) in current.items():
        packs.setdefault(account, []).append(Pack(tuple(members)))
    return packs


def publish_rounds(
    rows: list[OutboxRow], events_per_message: int = PACK_MAX_EVENTS
) -> list[list[Pack]]:
    """Split rows into SendMessageBatch calls of <= 10 messages and <= 256 KiB, one message
    per account each (an account whose next message does not fit waits for the next call)."""
    queues = account_packs(rows, events_per_message)
    rounds: list[list[Pack]] = []
    while queues:
        current: list[Pack] = []
        size = 0
        for account in list(queues):
            if len(current) == SEND_BATCH_MAX:
                break
            pack = queues[account][0]
            if current and size + pack.body_bytes > SEND_BATCH_MAX_BYTES:
                continue
            current.append(queues[account].pop(0))
            size += pack.body_bytes
            if not queues[account]:
                del queues[account]
        rounds.append(current)
    return rounds


class OutboxWakeup:
    """LISTEN on the outbox channel over a connection of its own (a pooled one would lose
    its LISTEN when released). Reconnects on the next turn after losing it."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        self._connect = connect
        self._conn: asyncpg.Connection | None = None
        self._retry_at = 0.0
        self.notified = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def ensure_listening(self) -> None:
        """(Re)connect and LISTEN, at most every RECONNECT_S while the database is away."""
        if self.listening:
            return
        await self.close()
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            return
        self._retry_at = loop.time() + RECONNECT_S
        conn: asyncpg.Connection | None = None
        try:
            conn = await self._connect()
            await conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
        except Exception as error:  # the poll covers for it until the next attempt
            log.warning("relay_listen_failed", error=type(error).__name__)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1)
            return
        self._conn = conn  # rows committed before LISTEN: the claim that follows takes them

    def _on_notify(self, *_: object) -> None:
        self.notified.set()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=1)


async def wait_any(stop: asyncio.Event, wake: asyncio.Event, timeout_s: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class Relay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sqs: Any,
        queue_url: str,
        relay_id: str,
        metrics: Metrics,
        *,
        batch_size: int = 50,
        lease_s: float = 30.0,
        heartbeat: Heartbeat | None = None,
        listen: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
        poll_s: float = 0.2,
        linger_s: float = 0.01,
        events_per_message: int = PACK_MAX_EVENTS,
    ) -> None:
        if not 1 <= events_per_message <= PACK_MAX_EVENTS:
            raise ValueError(f"events_per_message must be within 1..{PACK_MAX_EVENTS}")
        self.events_per_message = events_per_message
        self.pool, self.sqs, self.queue_url = pool, sqs, queue_url
        self.relay_id, self.metrics = relay_id, metrics
        self.batch_size, self.lease_s = batch_size, lease_s
        self.heartbeat = heartbeat or Heartbeat()
        self.wakeup = OutboxWakeup(listen) if listen is not None else None
        # Without LISTEN the relay polls as it always did.
        self.poll_s = poll_s if listen is not None else min(poll_s, 0.1)
        self.linger_s = linger_s

    def _send(self, batch: list[Pack]) -> set[str]:
        """The accounts whose message reached the queue."""
        response = self.sqs.send_message_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {
                    "Id": pack.entry_id,
                    "MessageBody": pack.body,
                    "MessageGroupId": pack.account_id,
                    "MessageDeduplicationId": pack_deduplication_id(
                        [row.event_id for row in pack.rows]),
                    "MessageAttributes": {"event_type": {
                        "DataType": "String",
                        "StringValue": ",".join(sorted({row.event_type for row in pack.rows})),
                    }},
                }
                for pack in batch
            ],
        )
        by_entry = {pack.entry_id: pack for pack in batch}
        sent = {by_entry[entry["Id"]].account_id for entry in response.get("Successful", [])}
        failed = response.get("Failed", [])
        for entry in failed:
            log.warning("relay_entry_failed", outbox_id=entry["Id"], code=entry.get("Code"),
                        sender_fault=entry.get("SenderFault"))
        self.metrics.outbox_publish_failures.inc(len(failed))
        return sent

    async def run_once(self) -> int:
        """Publish one claimed batch; return how many events were published."""
        async with self.pool.acquire() as conn:
            rows = await claim_batch(conn, self.relay_id, self.batch_size, self.lease_s)
        if not rows:
            return 0
        published: list[int] = []
        stalled_accounts: set[str] = set()
        try:
            with span("relay.publish", rows=len(rows)):
                for round_packs in publish_rounds(rows, self.events_per_message):
                    batch = [p for p in round_packs if p.account_id not in stalled_accounts]
                    if not batch:
                        continue
                    sent = await asyncio.to_thread(self._send, batch)
                    # A message that failed holds back the rest of its account (FIFO order):
                    # its rows are released below and retried on a later turn, never marked
                    # published.
                    for pack in batch:
                        if pack.account_id in sent:
                            published.extend(row.id for row in pack.rows)
                        else:
                            stalled_accounts.add(pack.account_id)
        finally:
            # Whatever happened, record what reached the queue and free what did not, so
            # neither waits for the lease to expire.
            async with self.pool.acquire() as conn:
                await mark_published(conn, published)
                reached = set(published)
                unsent = [row.id for row in rows if row.id not in reached]
                await release_claims(conn, self.relay_id, unsent)
        self.metrics.outbox_published.inc(len(published))
        return len(published)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until notified (then linger to batch what comes with it), polled, or stopped."""
        if self.wakeup is None:
            await pause(stop, self.poll_s)
            return
        await wait_any(stop, self.wakeup.notified, self.poll_s)
        if self.wakeup.notified.is_set() and self.linger_s > 0:
            await pause(stop, self.linger_s)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("relay_started", relay_id=self.relay_id, listening=self.wakeup is not None)
        backoff = 0.0
        try:
            while not stop.is_set():
                self.heartbeat.beat()
                try:
                    if self.wakeup is not None:
                        await self.wakeup.ensure_listening()
                        self.wakeup.notified.clear()  # what commits from now on wakes us
                    published = await self.run_once()
                    backoff = 0.0
                except Exception as error:  # the queue or database is failing over: back off
                    backoff = min(max(backoff * 2, 0.2), 5.0)
                    log.warning("relay_error", error=type(error).__name__, detail=str(error)[:200])
                    await pause(stop, backoff)
                    continue
                if not published:
                    await self._idle(stop)
                elif published < self.batch_size and self.linger_s > 0:
                    # A claim that did not fill: let the next rows gather for linger_s, so
                    # each account's pack, and each SendMessageBatch, carries more events
                    # (a call per event or two would cost the queue and the worker far more).
                    # A full claim means a backlog: the next one goes at once.
                    await pause(stop, self.linger_s)
        finally:
            if self.wakeup is not None:
                await self.wakeup.close()
        log.info("relay_stopped", relay_id=self.relay_id)

"""Packs: one account's events in one queue message. The format and the relay's cutting are
checked against SQS's published limits; the relay and worker against the local endpoint."""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict

import pytest

from service.config import Settings
from service.db import create_pool
from service.messaging.envelope import (
    PACK_MAX_EVENTS,
    pack_body,
    pack_deduplication_id,
    unpack,
)
from service.messaging.relay import SEND_BATCH_MAX, OutboxRow, claim_batch, publish_rounds
from tests.service.conftest import Database
from tests.service.test_outbox_to_worker import Pipeline, place_orders
from tests.service.test_relay_wakeup_and_batches import REFUSED_CHARACTER, unpublished

# SQS: "MessageDeduplicationId can contain alphanumeric characters (a-z, A-Z, 0-9) and
# punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)", at most 128 characters.
SQS_DEDUPLICATION_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
SQS_BATCH_BYTES = 256 * 1024  # SendMessageBatch: the sum of its messages


def event(n: int, note: str = "") -> str:
    return json.dumps({"event_id": str(uuid.UUID(int=n)), "event_type": "order.created",
                       "order": {"id": str(uuid.UUID(int=10_000 + n)), "note": note}},
                      ensure_ascii=False)  # as PostgreSQL's jsonb text: UTF-8, unescaped


def rows(accounts: list[str], note: str = "") -> list[OutboxRow]:
    return [OutboxRow(n, str(uuid.UUID(int=n)), account, "order.created", event(n, note))
            for n, account in enumerate(accounts, start=1)]


def test_one_event_travels_as_itself_and_a_pack_decodes_to_its_events_in_order() -> None:
    assert pack_body([event(1)]) == event(1)
    assert unpack(event(1)) == [json.loads(event(1))]
    payloads = [event(n) for n in (3, 1, 2)]
    assert unpack(pack_body(payloads)) == [json.loads(p) for p in payloads]
    with pytest.raises(ValueError):
        pack_body([])
    for broken in ('{"events": []}', '{"events": {}}', "{not json"):
        with pytest.raises(ValueError):
            unpack(broken)


def test_deduplication_ids_are_what_sqs_accepts_and_tell_packs_apart() -> None:
    ids = [str(uuid.UUID(int=n)) for n in range(PACK_MAX_EVENTS)]
    assert pack_deduplication_id(ids[:1]) == ids[0]
    for some in (ids[:1], ids[:2], ids):
        assert SQS_DEDUPLICATION_ID.fullmatch(pack_deduplication_id(some))
    assert pack_deduplication_id(ids[:2]) != pack_deduplication_id(ids[1::-1])
    assert pack_deduplication_id(ids[:2]) != pack_deduplication_id(ids[:3])


def test_rounds_carry_one_message_per_account_and_keep_each_accounts_order() -> None:
    accounts = [f"ACC-{n % 13}" for n in range(200)]
    claimed = rows(accounts)
    rounds = publish_rounds(claimed)
    delivered: dict[str, list[int]] = defaultdict(list)
    for batch in rounds:
        assert 1 <= len(batch) <= SEND_BATCH_MAX
        assert len({pack.account_id for pack in batch}) == len(batch)
        assert len({pack.entry_id for pack in batch}) == len(batch)
        assert sum(len(pack_body([r.payload for r in p.rows]).encode()) for p in batch) \
            < SQS_BATCH_BYTES
        for pack in batch:
            assert 1 <= len(pack.rows) <= PACK_MAX_EVENTS
            assert {row.account_id for row in pack.rows} == {pack.account_id}
            delivered[pack.account_id].extend(row.id for row in pack.rows)
    for account in set(accounts):
        assert delivered[account] == [r.id for r in claimed if r.account_id == account]
    # 200 events over 13 accounts: as few messages as packs of at most PACK_MAX_EVENTS allow.
    fewest = sum(-(-accounts.count(a) // PACK_MAX_EVENTS) for a in set(accounts))
    assert sum(len(batch) for batch in rounds) == fewest < len(claimed) / 7


def test_large_events_are_cut_into_packs_that_fit_a_batch() -> None:
    claimed = rows(["ACC-1"] * 30, note="x" * 6000)
    rounds = publish_rounds(claimed)
    sizes = [len(pack_body([r.payload for r in p.rows]).encode()) for b in rounds for p in b]
    assert max(sizes) * SEND_BATCH_MAX < SQS_BATCH_BYTES
    assert [r.id for b in rounds for p in b for r in p.rows] == [r.id for r in claimed]
    huge = rows(["ACC-1"] * 2, note="x" * 40_000)
    assert [len(p.rows) for b in publish_rounds(huge) for p in b] == [1, 1]


def test_a_call_stays_under_the_batch_byte_limit_counting_utf8_bytes() -> None:
    """Nine accounts with packs of about 14 kB (two characters of two bytes each per 'é')
    and one event of 140 kB: together 269 kB of UTF-8, over the 256 KiB a SendMessageBatch
    may carry (counted in characters, 205 k, it would seem to fit)."""
    small = rows([f"ACC-{n}" for n in range(9) for _ in range(2)], note="é" * 3500)
    big = OutboxRow(99, str(uuid.UUID(int=99)), "ACC-BIG", "order.created",
                    event(99, "x" * 140_000))
    rounds = publish_rounds([*small, big])
    for batch in rounds:
        assert sum(len(p.body.encode()) for p in batch) <= SQS_BATCH_BYTES
    assert sorted(r.id for b in rounds for p in b for r in p.rows) == sorted(
        r.id for r in [*small, big])
    assert len(rounds) == 2


async def test_a_refused_pack_holds_its_account_while_the_others_publish(
    queue_settings: Settings, database: Database
) -> None:
    await place_orders(queue_settings, 8)  # two orders on each of four accounts
    refused_id = await database.fetchval(
        "SELECT max(id) FROM outbox WHERE account_id = 'ACC-1'")  # the second of its pack
    await database.fetch(
        "UPDATE outbox SET payload = jsonb_set(payload, '{note}', to_jsonb($2::text))"
        " WHERE id = $1", refused_id, REFUSED_CHARACTER)
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        relay = pipe.relay("relay-a")
        assert await relay.run_once() == 6  # ACC-1's two events travel, or stay, together
        assert await unpublished(database) == 2
        await database.fetch(
            "UPDATE outbox SET payload = payload - 'note' WHERE id = $1", refused_id)
        assert await relay.run_once() == 2
        messages = pipe.receive_all()
    finally:
        await pool.close()
    assert len(messages) == 4  # one per account
    outbox = await database.fetch("SELECT event_id::text, account_id FROM outbox ORDER BY id")
    for message in messages:
        group = message["Attributes"]["MessageGroupId"]
        assert [e["event_id"] for e in unpack(message["Body"])] == [
            r["event_id"] for r in outbox if r["account_id"] == group]


async def send_raw(pipe: Pipeline, group: str, body: str) -> None:
    pipe.sqs.send_message(QueueUrl=pipe.queue_url, MessageBody=body, MessageGroupId=group,
                          MessageDeduplicationId=uuid.uuid4().hex)


async def test_a_poison_in_a_pack_commits_what_came_before_it_once_and_dead_letters_the_pack(
    queue_settings: Settings, database: Database
) -> None:
    """A pack [good, poison, good] of ACC-1 and a pack of ACC-2 in one receive: the first
    event of ACC-1's pack commits, the pack is released and, received again, its first event
    is found applied (not applied twice); after maxReceiveCount the queue moves the whole
    pack to the DLQ, its third event with it, as it moves the messages received behind a
    poison (runbooks/queue-backlog.md). ACC-2 is filled."""
    await place_orders(queue_settings, 6)  # ACC-1: orders 0 and 4; ACC-2: orders 1 and 5
    outbox = await database.fetch(
        "SELECT account_id, order_id::text, payload::text AS payload FROM outbox ORDER BY id")
    acc1 = [r for r in outbox if r["account_id"] == "ACC-1"]
    acc2 = [r for r in outbox if r["account_id"] == "ACC-2"]
    poison = json.dumps({"event_id": str(uuid.uuid4()), "event_type": "order.created",
                         "order": {"id": str(uuid.uuid4()), "quantity": "1"}})
    pack = pack_body([acc1[0]["payload"], poison, acc1[1]["payload"]])
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        await send_raw(pipe, "ACC-1", pack)
        await send_raw(pipe, "ACC-2", pack_body([r["payload"] for r in acc2]))
        worker = pipe.worker()
        deleted = await worker.run_once()
        assert pipe.dead_letters(max_messages=10) == []  # released, not dead-lettered yet
        for _ in range(4):  # the pack's second receipt, then the redrive (maxReceiveCount 2)
            deleted += await worker.run_once()
        dead = pipe.dead_letters(max_messages=10)
    finally:
        await pool.close()
    assert deleted == 1  # ACC-2's pack
    assert [m["Body"] for m in dead] == [pack]
    statuses = {r["id"]: r["status"] for r in await database.fetch(
        "SELECT id::text, status FROM orders")}
    assert statuses[acc1[0]["order_id"]] == "FILLED"
    assert statuses[acc1[1]["order_id"]] == "PENDING"  # behind the poison, in the DLQ
    assert [statuses[r["order_id"]] for r in acc2] == ["FILLED", "FILLED"]
    assert await database.fetchval(
        "SELECT count(*) FROM processed_events WHERE order_id = $1",
        uuid.UUID(acc1[0]["order_id"])) == 1
    assert pipe.metrics.worker_processed.labels("duplicate")._value.get() >= 1
    assert pipe.metrics.worker_processed.labels("poison")._value.get() >= 2


async def test_an_identical_pack_sent_again_is_deduplicated_by_the_queue(
    queue_settings: Settings, database: Database
) -> None:
    await place_orders(queue_settings, 8)
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        async with pool.acquire() as conn:
            claimed = await claim_batch(conn, "relay-a", 8, 30.0)
        relay = pipe.relay("relay-a")
        [batch] = publish_rounds(claimed)
        assert len(batch) == 4 and all(len(p.rows) == 2 for p in batch)
        assert relay._send(batch) == {p.account_id for p in batch}
        assert relay._send(batch) == {p.account_id for p in batch}  # a retry after a crash
        messages = pipe.receive_all()
    finally:
        await pool.close()
    assert sorted(m["Body"] for m in messages) == sorted(p.body for p in batch)

"""Gauges the alert rules read: the database primary as the API sees it, queue age, DLQ depth."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from service.db import create_pool
from service.messaging.worker import oldest_age_s
from service.observability import Metrics
from tests.service.conftest import Database, make_settings
from tests.service.test_outbox_to_worker import Pipeline


def sample(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name)
    assert value is not None, name
    return value


async def test_database_primary_up_follows_the_pool(database: Database, redis_url: str) -> None:
    live = make_settings(database, redis_url, ORDERS_GAUGE_INTERVAL_S="0.1")
    dead = make_settings(
        database, redis_url, ORDERS_GAUGE_INTERVAL_S="0.1",
        ORDERS_DATABASE_URL=database.app_url.replace(f":{database.server.port}/", ":1/"),
    )
    seen = {}
    for name, settings in (("live", live), ("dead", dead)):
        metrics = Metrics()
        metrics.database_primary_up.set(-1)  # so "unchanged" cannot pass for either value
        async with AsyncTestClient(app=create_app(settings, metrics)):
            await asyncio.sleep(0.5)
        seen[name] = sample(metrics, "database_primary_up")
    assert seen == {"live": 1, "dead": 0}


def test_oldest_age_uses_sent_timestamps() -> None:
    now = 1_700_000_100.0
    messages: list[dict[str, Any]] = [
        {"Attributes": {"SentTimestamp": "1700000090000"}},
        {"Attributes": {"SentTimestamp": "1700000040500"}},
        {"Attributes": {}},
    ]
    assert oldest_age_s(messages, now) == 59.5
    assert oldest_age_s([], now) == 0.0


async def test_worker_reports_message_age_and_dead_letters(
    queue_settings: Settings, database: Database
) -> None:
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        for i, body in enumerate(("{not json", "{also not json")):
            pipe.sqs.send_message(
                QueueUrl=pipe.queue_url, MessageBody=body,
                MessageGroupId=f"ACC-{i}", MessageDeduplicationId=f"poison-{i}",
            )
        sent = time.time()
        await asyncio.sleep(1.2)
        worker = pipe.worker()
        worker.sample_dead_letters()
        assert sample(pipe.metrics, "queue_dead_letter_messages") == 0
        await worker.run_once()
        first_age = sample(pipe.metrics, "queue_message_age_seconds")
        for _ in range(4):  # maxReceiveCount is 2: both move to the DLQ
            await worker.run_once()
        worker.sample_dead_letters()
    finally:
        await pool.close()
    assert 1.0 <= first_age <= time.time() - sent + 1.0
    assert sample(pipe.metrics, "queue_message_age_seconds") == 0  # nothing left to receive
    assert sample(pipe.metrics, "queue_dead_letter_messages") == 2


async def test_a_stuck_group_keeps_the_age_while_other_receives_come_back_empty(
    queue_settings: Settings, database: Database
) -> None:
    """Two receives in flight: one holds a group's old message (FIFO then delivers that
    group to no other receive), the other's receives come back empty. The age must stay
    the stuck message's, or an alert on it would reset on every empty receive."""
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        pipe.sqs.send_message(QueueUrl=pipe.queue_url, MessageBody="{stuck",
                              MessageGroupId="ACC-1", MessageDeduplicationId="stuck")
        await asyncio.sleep(1.2)
        worker = pipe.worker(receives=2)
        [held] = await asyncio.to_thread(worker._receive, 0)  # in flight, not deleted
        age = sample(pipe.metrics, "queue_message_age_seconds")
        assert age >= 1.0
        assert await asyncio.to_thread(worker._receive, 1) == []  # the group is in flight
        assert sample(pipe.metrics, "queue_message_age_seconds") >= age
        pipe.sqs.delete_message(QueueUrl=pipe.queue_url, ReceiptHandle=held["ReceiptHandle"])
        for slot in (0, 1):  # the queue is empty: both loops' receives come back empty
            assert await asyncio.to_thread(worker._receive, slot) == []
        assert sample(pipe.metrics, "queue_message_age_seconds") == 0
    finally:
        await pool.close()


async def test_dead_letter_sampling_failure_does_not_stop_the_worker(
    queue_settings: Settings, database: Database
) -> None:
    pool = await create_pool(queue_settings)
    try:
        pipe = Pipeline(queue_settings, pool)
        worker = pipe.worker()
        worker.queue_url = pipe.queue_url + "-missing"  # every SQS call on it fails
        await worker._maybe_sample_dead_letters()  # logged, not raised
        assert worker._dead_letters_sampled_at > 0
    finally:
        await pool.close()

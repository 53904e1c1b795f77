"""Throughput of the local SQS endpoint under the failover drills' queue pattern.

Producers send FIFO `send_message_batch` of 10 spread over `--groups` message groups with
explicit deduplication ids, while `--consumers` threads `receive_message` (10, wait 1 s) and
`delete_message_batch`. "e2e msg/s" counts deleted messages per second, drain included.
Bounded by `--messages` and `--time-limit`; traffic goes to 127.0.0.1 only.

    .venv/bin/python -m bench.sqs_endpoint                # starts its own endpoint
    .venv/bin/python -m bench.sqs_endpoint --endpoint-url http://127.0.0.1:4566
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from localenv.procs import free_port
from localenv.sqs import SqsEndpoint

MIN_E2E_MSG_PER_S = 200  # what the drills need (see README)


@dataclass
class BenchResult:
    sent: int = 0
    deleted: int = 0
    received: int = 0
    order_violations: int = 0
    elapsed_s: float = 0.0
    send_elapsed_s: float = 0.0
    final_depth: int = 0
    final_in_flight: int = 0
    timed_out: bool = False
    max_depth_seen: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def e2e_msg_per_s(self) -> float:
        return self.deleted / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def send_msg_per_s(self) -> float:
        return self.sent / self.send_elapsed_s if self.send_elapsed_s else 0.0


def _client(endpoint_url: str) -> Any:
    kwargs = SqsEndpoint.boto3_kwargs()
    return boto3.client(
        "sqs",
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=4),
        region_name=kwargs["region_name"],
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
    )


def _create_queues(sqs: Any) -> tuple[str, str]:
    """A fresh FIFO queue with its DLQ (redrive after 5 receives): (queue url, dlq url)."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=f"{name}.fifo",
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": "30",
            "RedrivePolicy": f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}',
        },
    )["QueueUrl"]
    return queue_url, dlq_url


class _Bench:
    """Producer, consumer and depth-watcher threads sharing one result under a lock."""

    def __init__(self, endpoint_url: str, queue_url: str, messages: int, groups: int,
                 producers: int, time_limit: float) -> None:
        self.endpoint_url, self.queue_url = endpoint_url, queue_url
        self.messages, self.groups = messages, groups
        self.per_producer = -(-messages // producers)
        self.result = BenchResult()
        self.lock = threading.Lock()
        self.producers_done = threading.Event()
        self.stop = threading.Event()
        self.last_seq: dict[str, int] = {}
        self.deadline = time.monotonic() + time_limit

    def error(self, text: str) -> None:
        with self.lock:
            self.result.errors.append(text)

    def batch(self, index: int, seq: int, count: int) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for n in range(seq, seq + min(10, count - seq)):
            group = f"g{(index * self.per_producer + n) % self.groups}"
            entries.append({
                "Id": str(len(entries)),
                "MessageBody": f"{group}:{index}:{n}",
                "MessageGroupId": group,
                "MessageDeduplicationId": f"{index}-{n}-{uuid.uuid4().hex}",
            })
        return entries

    def produce(self, index: int) -> None:
        client = _client(self.endpoint_url)
        seq = 0
        count = min(self.per_producer, self.messages - index * self.per_producer)
        while seq < count and time.monotonic() < self.deadline:
            entries = self.batch(index, seq, count)
            seq += len(entries)
            try:
                response = client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as exc:
                self.error(f"send: {exc}")
                continue
            with self.lock:
                self.result.sent += len(response.get("Successful", []))
                self.result.errors.extend(f"send: {f}" for f in response.get("Failed", []))

    def check_order(self, batch: list[dict[str, Any]]) -> None:
        with self.lock:
            self.result.received += len(batch)
            for message in batch:
                group, producer, seq = message["Body"].split(":")
                key = f"{group}:{producer}"
                if int(seq) <= self.last_seq.get(key, -1):
                    self.result.order_violations += 1
                self.last_seq[key] = int(seq)

    def drained(self) -> bool:
        with self.lock:
            return self.producers_done.is_set() and self.result.deleted >= self.result.sent

    def consume(self) -> None:
        client = _client(self.endpoint_url)
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            try:
                batch = client.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                    AttributeNames=["All"],
                ).get("Messages", [])
            except Exception as exc:
                self.error(f"receive: {exc}")
                continue
            if not batch:
                if self.drained():
                    return
                continue
            self.check_order(batch)
            try:
                deleted = client.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                             for i, m in enumerate(batch)],
                )
            except Exception as exc:
                self.error(f"delete: {exc}")
                continue
            with self.lock:
                self.result.deleted += len(deleted.get("Successful", []))

    def watch_depth(self) -> None:
        client = _client(self.endpoint_url)
        while not self.stop.is_set():
            with contextlib.suppress(Exception):
                attrs = client.get_queue_attributes(
                    QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                depth = int(attrs["ApproximateNumberOfMessages"])
                with self.lock:
                    self.result.max_depth_seen = max(self.result.max_depth_seen, depth)
            self.stop.wait(0.5)

    def run(self, producers: int, consumers: int) -> BenchResult:
        started = time.monotonic()
        producer_threads = [threading.Thread(target=self.produce, args=(i,))
                            for i in range(producers)]
        consumer_threads = [threading.Thread(target=self.consume) for _ in range(consumers)]
        watcher = threading.Thread(target=self.watch_depth, daemon=True)
        for thread in (*producer_threads, *consumer_threads, watcher):
            thread.start()
        for thread in producer_threads:
            thread.join()
        self.result.send_elapsed_s = time.monotonic() - started
        self.producers_done.set()
        for thread in consumer_threads:
            thread.join()
        self.result.elapsed_s = time.monotonic() - started
        self.stop.set()
        watcher.join()
        self.result.timed_out = time.monotonic() >= self.deadline
        return self.result


def run_bench(
    endpoint_url: str,
    *,
    messages: int = 5000,
    groups: int = 50,
    producers: int = 1,
    consumers: int = 2,
    time_limit: float = 120.0,
) -> BenchResult:
    sqs = _client(endpoint_url)
    queue_url, dlq_url = _create_queues(sqs)
    bench = _Bench(endpoint_url, queue_url, messages, groups, producers, time_limit)
    result = bench.run(producers, consumers)
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    result.final_depth = int(attrs["ApproximateNumberOfMessages"])
    result.final_in_flight = int(attrs["ApproximateNumberOfMessagesNotVisible"])
    for url in (queue_url, dlq_url):
        with contextlib.suppress(Exception):
            sqs.delete_queue(QueueUrl=url)
    return result


@contextlib.contextmanager
def _endpoint(endpoint_url: str | None) -> Iterator[str]:
    if endpoint_url:
        yield endpoint_url
        return
    with tempfile.TemporaryDirectory(prefix="sqs-bench-") as tmp:
        started = time.monotonic()
        with SqsEndpoint(free_port(), Path(tmp)) as endpoint:
            took = time.monotonic() - started
            print(f"started SQS endpoint {endpoint.endpoint_url} in {took:.1f}s")
            yield endpoint.endpoint_url


def report(result: BenchResult) -> str:
    lines = [
        f"sent {result.sent}, deleted {result.deleted}, received {result.received} "
        f"in {result.elapsed_s:.1f}s{' (time limit hit)' if result.timed_out else ''}",
        f"e2e {result.e2e_msg_per_s:.0f} msg/s; send {result.send_msg_per_s:.0f} msg/s; "
        f"max depth seen {result.max_depth_seen}",
        f"final depth {result.final_depth} visible + {result.final_in_flight} in flight; "
        f"per-group order violations {result.order_violations}; errors {len(result.errors)}",
    ]
    lines.extend(f"  {error}" for error in result.errors[:5])
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sqs_endpoint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint-url", help="use a running endpoint instead of starting one")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--producers", type=int, default=1)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.producers < 1 or args.consumers < 1 or args.groups < 1:
        parser.error("--messages, --groups, --producers and --consumers must be >= 1")
    with _endpoint(args.endpoint_url) as url:
        result = run_bench(
            url,
            messages=args.messages,
            groups=args.groups,
            producers=args.producers,
            consumers=args.consumers,
            time_limit=args.time_limit,
        )
    print(f"SQS endpoint, FIFO drill pattern ({args.producers} producer(s), "
          f"{args.consumers} consumers, {args.groups} groups):")
    print(report(result))
    ok = (
        result.deleted == result.sent == args.messages
        and result.order_violations == 0
        and result.e2e_msg_per_s >= MIN_E2E_MSG_PER_S
    )
    if not ok:
        print(f"FAIL: expected all {args.messages} messages delivered in order at "
              f">= {MIN_E2E_MSG_PER_S} msg/s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

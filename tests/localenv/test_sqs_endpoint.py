"""The local SQS endpoint behaves as SQS FIFO does where the service relies on it.

Real tests against a started endpoint (LocalStack from .venv-sqs, `make sqs-endpoint`):
deduplication, per-group order, group locking, redrive to the DLQ, loopback-only listening.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from localenv.procs import free_port
from localenv.sqs import SqsEndpoint, SqsEndpointError

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqsEndpoint]:
    with SqsEndpoint(free_port(), tmp_path_factory.mktemp("sqs")) as sqs:
        yield sqs


@pytest.fixture(scope="module")
def sqs(endpoint: SqsEndpoint) -> Any:
    # Fixed dummy credentials and region, passed to the client only.
    return boto3.client(
        "sqs",
        endpoint_url=endpoint.endpoint_url,
        config=Config(retries={"max_attempts": 1}),
        **endpoint.boto3_kwargs(),
    )


def fifo_queue(
    sqs: Any, *, visibility_timeout: int = 30, max_receive_count: int | None = None
) -> tuple[str, str | None]:
    """A fresh FIFO queue (explicit dedup ids), with a FIFO DLQ when `max_receive_count`."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    attributes = {"FifoQueue": "true", "VisibilityTimeout": str(visibility_timeout)}
    dlq_url = None
    if max_receive_count is not None:
        dlq_url = sqs.create_queue(
            QueueName=f"{name}-dlq.fifo", Attributes={"FifoQueue": "true"}
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
        )
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes=attributes)["QueueUrl"]
    return url, dlq_url


def send(sqs: Any, url: str, body: str, group: str, dedup: str | None = None) -> str:
    response = sqs.send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageGroupId=group,
        MessageDeduplicationId=dedup or uuid.uuid4().hex,
    )
    return str(response["MessageId"])


def receive(sqs: Any, url: str, max_messages: int = 10, wait: int = 0) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=wait,
        AttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def delete(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    if messages:
        result = sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        assert not result.get("Failed"), result


def drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while batch := receive(sqs, url):
        bodies.extend(m["Body"] for m in batch)
        delete(sqs, url, batch)
    return bodies


def test_endpoint_url_and_queue_urls_are_on_loopback(endpoint: SqsEndpoint, sqs: Any) -> None:
    assert endpoint.endpoint_url == f"http://127.0.0.1:{endpoint.port}"
    url, _ = fifo_queue(sqs)
    assert url.startswith(f"http://127.0.0.1:{endpoint.port}/")
    assert endpoint.pid is not None
    assert endpoint.log_path.is_relative_to(endpoint.state_dir)


def test_duplicate_dedup_id_within_window_is_dropped(sqs: Any) -> None:
    url, _ = fifo_queue(sqs)
    first = send(sqs, url, "first", "g1", dedup="event-1")
    # Same id, other body and even another group: SQS dedups per queue and answers with
    # the original MessageId.
    assert send(sqs, url, "second", "g1", dedup="event-1") == first
    assert send(sqs, url, "third", "g2", dedup="event-1") == first
    send(sqs, url, "other", "g1", dedup="event-2")
    assert drain(sqs, url) == ["first", "other"]
    # Deleting the message does not end the 5-minute window.
    send(sqs, url, "again", "g1", dedup="event-1")
    assert drain(sqs, url) == []


def test_messages_of_a_group_arrive_in_send_order(sqs: Any) -> None:
    url, _ = fifo_queue(sqs)
    groups = [f"acc-{i}" for i in range(5)]
    for seq in range(40):
        group = groups[seq % len(groups)]
        send(sqs, url, f"{group}:{seq}", group)
    seen: dict[str, list[int]] = {group: [] for group in groups}
    for body in drain(sqs, url):
        group, seq = body.split(":")
        seen[group].append(int(seq))
    for group, seqs in seen.items():
        assert seqs == sorted(seqs), group
        assert len(seqs) == 8, group


def test_group_in_flight_blocks_its_next_message_but_not_other_groups(sqs: Any) -> None:
    url, _ = fifo_queue(sqs, visibility_timeout=2)
    send(sqs, url, "a1", "A")
    send(sqs, url, "a2", "A")
    send(sqs, url, "b1", "B")
    [a1] = receive(sqs, url, max_messages=1)
    assert a1["Body"] == "a1"
    # a1 is in flight: a second consumer must not get a2, but may get B's message.
    b1 = receive(sqs, url)
    assert [m["Body"] for m in b1] == ["b1"]
    delete(sqs, url, b1)
    assert receive(sqs, url) == []
    # Not deleted: after its visibility timeout a1 comes back, still ahead of a2 (the
    # endpoint re-queues expired in-flight messages once a second, hence the long poll).
    time.sleep(2)
    again = receive(sqs, url, max_messages=1, wait=2)
    assert [m["Body"] for m in again] == ["a1"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    delete(sqs, url, again)
    assert [m["Body"] for m in receive(sqs, url)] == ["a2"]


def test_poison_message_is_redriven_to_the_dlq_after_max_receive_count(sqs: Any) -> None:
    url, dlq_url = fifo_queue(sqs, visibility_timeout=1, max_receive_count=2)
    assert dlq_url is not None
    send(sqs, url, "poison", "acc-1")
    send(sqs, url, "next", "acc-1")
    for attempt in (1, 2):
        batch = receive(sqs, url, max_messages=1, wait=3)
        assert [m["Body"] for m in batch] == ["poison"], attempt
        time.sleep(1)  # the consumer "crashes": no delete, visibility runs out
    # The third receive finds it over maxReceiveCount: it goes to the DLQ and the group moves on.
    assert [m["Body"] for m in receive(sqs, url, max_messages=1, wait=3)] == ["next"]
    dead = receive(sqs, dlq_url, wait=1)
    assert [m["Body"] for m in dead] == ["poison"]
    assert dead[0]["Attributes"]["MessageGroupId"] == "acc-1"


def test_long_poll_waits_on_an_empty_queue(sqs: Any) -> None:
    url, _ = fifo_queue(sqs)
    started = time.monotonic()
    assert receive(sqs, url, wait=1) == []
    assert 0.9 <= time.monotonic() - started < 3


def test_pause_makes_the_endpoint_unreachable_without_losing_messages(
    endpoint: SqsEndpoint, sqs: Any
) -> None:
    url, _ = fifo_queue(sqs)
    send(sqs, url, "kept", "acc-1")
    endpoint.pause()
    try:
        assert not endpoint.healthy()  # requests hang: the drills' "queue outage"
    finally:
        endpoint.resume()
    assert endpoint.healthy()
    assert drain(sqs, url) == ["kept"]


def _connections_towards(port: int) -> set[tuple[str, str]]:
    """(client port, state) of every loopback TCP connection to `port`, seen from either end,
    as `ss` lists them: a connection closed meanwhile is still listed in TIME-WAIT on the side
    that closed first, and a port reused stands out by its new state."""
    listing = subprocess.run(["ss", "-Htan"], capture_output=True, text=True, check=True)
    found = set()
    for line in listing.stdout.splitlines():
        state, _, _, local, peer = line.split()[:5]
        if peer.endswith(f":{port}"):
            found.add((local.rpartition(":")[2], state))
        elif local.endswith(f":{port}") and state != "LISTEN":
            found.add((peer.rpartition(":")[2], state))
    return found


def test_a_client_makes_its_calls_over_one_kept_alive_connection(endpoint: SqsEndpoint) -> None:
    client = boto3.client(
        "sqs",
        endpoint_url=endpoint.endpoint_url,
        config=Config(retries={"max_attempts": 1}, max_pool_connections=1),
        **endpoint.boto3_kwargs(),
    )
    before = _connections_towards(endpoint.port)
    url, _ = fifo_queue(client)
    for n in range(10):
        send(client, url, f"m{n}", "acc-1")
    assert len(drain(client, url)) == 10
    opened = {client_port for client_port, _ in _connections_towards(endpoint.port) - before}
    assert len(opened) == 1, f"connections opened for ~25 calls: {sorted(opened)}"


def _listeners_by_ss(pids: set[int]) -> list[str]:
    """TCP listeners and bound UDP sockets of `pids` as iproute2's `ss` reports them: an
    outside view to hold the endpoint's own /proc reader against."""
    listing = subprocess.run(["ss", "-Htulnp"], capture_output=True, text=True, check=True)
    found = []
    for line in listing.stdout.splitlines():
        fields = line.split()
        owners = {int(pid) for pid in re.findall(r"pid=(\d+)", line)}
        if owners & pids:
            host, _, port = fields[4].rpartition(":")
            found.append(f"{fields[0]} {host.strip('[]')}:{port}")
    return sorted(found)


def test_listens_on_loopback_only(endpoint: SqsEndpoint) -> None:
    assert endpoint.pid is not None
    pids = {
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _pgid(int(p.name)) == endpoint.pid
    }
    assert endpoint.pid in pids
    assert _listeners_by_ss(pids) == [f"tcp 127.0.0.1:{endpoint.port}"]
    assert endpoint.listening_addresses() == [f"tcp 127.0.0.1:{endpoint.port}"]


def test_an_endpoint_listening_beyond_loopback_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What start() does if a LocalStack upgrade opens a listener the bind patch misses."""
    wide_open = SqsEndpoint(free_port(), tmp_path / "sqs")
    monkeypatch.setattr(wide_open, "listening_addresses",
                        lambda: [f"tcp 0.0.0.0:{wide_open.port}"])
    with pytest.raises(SqsEndpointError, match=r"listens on \['tcp 0\.0\.0\.0:"):
        wide_open.start()
    assert wide_open.pid is None  # stopped, not left running


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def test_stop_ends_the_process_group_and_missing_install_is_explained(tmp_path: Path) -> None:
    sqs = SqsEndpoint(free_port(), tmp_path / "sqs").start()
    pid = sqs.pid
    assert pid is not None and sqs.healthy()
    assert (tmp_path / "sqs" / "sqs-endpoint.pid").read_text().strip() == str(pid)
    process = sqs._popen
    assert process is not None
    client = boto3.client("sqs", endpoint_url=sqs.endpoint_url, **sqs.boto3_kwargs())
    client.list_queues()  # a kept-alive connection, open while it stops
    sqs.stop(timeout=5)
    # It ended on SIGTERM (LocalStack exits 0), not by stop()'s SIGKILL (-9): an open
    # connection does not hold up the shutdown.
    assert process.returncode == 0, sqs.log_tail()
    assert sqs.pid is None and not sqs.healthy()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not (tmp_path / "sqs" / "sqs-endpoint.pid").exists()

    missing = SqsEndpoint(free_port(), tmp_path / "x", venv=tmp_path / "no-venv")
    with pytest.raises(SqsEndpointError, match="make sqs-endpoint"):
        missing.start()


def test_leftover_of_a_crashed_owner_is_stopped_through_the_pid_file(tmp_path: Path) -> None:
    crashed_owner = SqsEndpoint(free_port(), tmp_path / "sqs").start()
    pid = crashed_owner.pid
    # A new process (e.g. `stack down` after a crashed drill) knows only the state directory.
    assert SqsEndpoint.stop_leftover(tmp_path / "sqs") == pid
    assert crashed_owner._popen is not None
    assert crashed_owner._popen.wait(timeout=5) is not None  # reap it here, as init would
    assert not crashed_owner.healthy()
    assert SqsEndpoint.stop_leftover(tmp_path / "sqs") is None


def test_port_in_use_and_start_timeout_are_reported(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SqsEndpointError, match=f"127.0.0.1:{port} is already in use"):
            SqsEndpoint(port, tmp_path / "taken").start()

    slow = SqsEndpoint(free_port(), tmp_path / "slow")
    with pytest.raises(SqsEndpointError, match=r"not healthy after .*sqs-endpoint\.log"):
        slow.start(timeout=0.01)
    assert slow.pid is None  # the half-started process was stopped

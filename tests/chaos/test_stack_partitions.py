"""The full local stack with network isolation and monitoring (as root): Prometheus scrapes
every component and a rule reaches the Alertmanager; an API replica cut off from the
database path goes unready while orders through the others succeed; a zone holding the
PostgreSQL leader cut off from everything else gives no split brain and heals back to
steady; `down` removes every namespace, link and nftables table, even for a partition left
active by a crashed drill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from chaos.stack import Stack, faults
from service.auth import issue_token
from service.config import load_settings

NEEDS = ["/usr/bin/patroni", "/usr/bin/etcd", "/usr/sbin/haproxy", "/usr/bin/redis-sentinel",
         "/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager", "/usr/sbin/nft"]
pytestmark = [pytest.mark.drill]

TEST_RULE = """groups:
  - name: stack-test
    rules:
      - alert: StackTestEveryApiScraped
        expr: count(up{job="orders-api"} == 1) == 3
        for: 1s
        labels:
          severity: ticket
        annotations:
          summary: every API replica is scraped
"""


def _wait(what: str, check: Callable[[], bool], timeout: float, step: float = 0.25) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(step)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def full_stack() -> Iterator[Stack]:
    from localenv.sqs import DEFAULT_VENV

    if os.geteuid() != 0:
        pytest.skip("partitions need root (network namespaces, nftables)")
    if not all(Path(p).exists() for p in NEEDS):
        pytest.skip("run: make sysdeps (HA stack, Prometheus, nftables)")
    if not (DEFAULT_VENV / ".installed").exists():
        pytest.skip("run: make sqs-endpoint")
    state_dir = Path(tempfile.mkdtemp(prefix="stack-part-", dir="/tmp"))
    state_dir.chmod(0o755)
    started = time.monotonic()
    try:
        stack = Stack.up(state_dir, network="netns", monitoring=True, progress=print,
                         timeout=120)
        print(f"full stack (netns, monitoring) up in {time.monotonic() - started:.1f}s")
        yield stack
    finally:
        with contextlib.suppress(Exception):
            Stack.load(state_dir).down(timeout=20)
        shutil.rmtree(state_dir, ignore_errors=True)


def _place_orders(stack: Stack, count: int) -> list[int]:
    settings = load_settings(stack.app_env())
    account = f"PART-{uuid.uuid4().hex[:8]}"
    token = issue_token(secret=settings.jwt_secret or "", issuer=settings.jwt_issuer,
                        audience=settings.jwt_audience, subject="partition-test",
                        accounts=[account])
    statuses = []
    with httpx.Client(base_url=stack.endpoints["api_url"], timeout=10.0) as http:
        for seq in range(count):
            response = http.post("/v1/orders", headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4()),
            }, json={
                "account_id": account, "instrument": "US0378331005", "side": "buy",
                "order_type": "market", "quantity": str(1 + seq), "currency": "EUR",
                "time_in_force": "DAY", "client_order_id": f"{account}-{seq}",
            })
            statuses.append(response.status_code)
    return statuses


def _haproxy_status(stack: Stack, backend: str, server: str) -> str:
    """The server's status in HAProxy's `show stat` (UP, DOWN, ...)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(stack.endpoints["haproxy_stats_socket"])
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    for line in data.decode().splitlines():
        fields = line.split(",")
        if fields[:2] == [backend, server]:
            return fields[17]
    return "missing"


def _api_ready(stack: Stack, name: str) -> bool:
    comp = stack.component(name)
    try:
        url = f"http://{comp.host}:{comp.ports['http']}/health/ready"
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.timeout(120)
def test_prometheus_scrapes_the_stack_and_a_rule_reaches_alertmanager(
    full_stack: Stack,
) -> None:
    stack = full_stack
    took = _wait("every API scraped with up == 1",
                 lambda: len(stack.prometheus_query('up{job="orders-api"} == 1')) == 3, 30)
    expected = {"orders-api", "orders-relay", "orders-worker", "patroni", "haproxy"}

    def jobs_up() -> set[str]:
        return {r["metric"]["job"] for r in stack.prometheus_query("up == 1")}

    # Each job's first scrape lands within its own 1 s interval: wait for all, bounded.
    try:
        _wait("every job scraped once", lambda: expected <= jobs_up(), 15)
    except AssertionError as timeout:
        seen = [(r["metric"]["job"], r["value"][1]) for r in stack.prometheus_query("up")]
        raise AssertionError(f"{timeout}; up: {seen}") from None
    # The series the availability SLI reads for the edge's own 5xx, as HAProxy names them.
    for level in ("backend", "server"):
        query = f'haproxy_{level}_http_responses_total{{proxy="api_replicas",code="5xx"}}'
        assert stack.prometheus_query(query), query
    rule = Path(stack.component("prometheus").paths["rules"]) / "stack-test.yml"
    rule.write_text(TEST_RULE)
    try:
        import subprocess

        checked = subprocess.run(["promtool", "check", "rules", str(rule)],
                                 capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        loaded = time.monotonic()
        stack.reload_rules()

        def fired() -> bool:
            return any(a["name"] == "StackTestEveryApiScraped" and a["severity"] == "ticket"
                       and a["state"] == "active" for a in stack.alerts())

        fire = _wait("the test alert active in Alertmanager", fired, 60)
        print(f"targets up after {took:.1f}s; rule loaded -> alert active in Alertmanager "
              f"{time.monotonic() - loaded:.1f}s ({fire:.1f}s polling)")
        alert = next(a for a in stack.alerts() if a["name"] == "StackTestEveryApiScraped")
        assert alert["starts_at"]
    finally:
        rule.unlink(missing_ok=True)
        stack.reload_rules()


@pytest.mark.timeout(150)
def test_api_zone_cut_from_the_database_path_goes_unready_while_others_serve(
    full_stack: Stack,
) -> None:
    stack = full_stack
    stack.wait_healthy(60)
    handle = stack.partition("kind:api@a", "kind:haproxy")
    cut_at = time.monotonic()
    try:
        assert all(pid for pid in (stack.component("api-a").pid,))
        unready = _wait("api-a unready", lambda: not _api_ready(stack, "api-a"), 30)
        marked = _wait("HAProxy marks api-a down",
                       lambda: _haproxy_status(stack, "api_replicas", "api-a") == "DOWN", 30)
        assert stack.is_running("api-a"), "a partition must not stop the process"
        statuses = _place_orders(stack, 20)
        print(f"api-a cut off: unready after {unready:.1f}s, HAProxy DOWN after "
              f"{time.monotonic() - cut_at:.1f}s ({marked:.1f}s more); 20 orders: {statuses}")
        assert statuses == [201] * 20
        assert _api_ready(stack, "api-b") and _api_ready(stack, "api-c")
    finally:
        stack.heal(handle)
    back = _wait("api-a ready again", lambda: _api_ready(stack, "api-a"), 60)
    print(f"healed: api-a ready {back:.1f}s after heal")
    assert stack.partitions() == {}
    assert faults.active_tables(stack.network) == []
    stack.wait_healthy(60)


async def _writer(url: str, acked: list[int], stop: asyncio.Event) -> None:
    conn: asyncpg.Connection | None = None
    next_id = 0
    while not stop.is_set():
        next_id += 1
        try:
            if conn is None:
                conn = await asyncpg.connect(url, timeout=1)
            await conn.execute("INSERT INTO part_probe (id) VALUES ($1)", next_id, timeout=2)
            acked.append(next_id)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                asyncpg.InternalClientError):
            # In doubt: the row may exist; it is simply not counted as acknowledged.
            if conn is not None:
                conn.terminate()
                conn = None
            await asyncio.sleep(0.05)
    if conn is not None:
        await conn.close()


@pytest.mark.timeout(300)
async def test_zone_partition_with_the_leader_has_no_split_brain_and_heals(
    full_stack: Stack,
) -> None:
    stack = full_stack
    await asyncio.to_thread(stack.wait_healthy, 90)
    url = stack.endpoints["database_url_owner"]
    setup = await asyncpg.connect(url)
    await setup.execute("CREATE TABLE IF NOT EXISTS part_probe (id bigint PRIMARY KEY)")
    await setup.close()
    old_leader = await asyncio.to_thread(stack.pg_leader)
    assert old_leader is not None
    zone = stack.component(old_leader).zone
    acked: list[int] = []
    stop = asyncio.Event()
    writer = asyncio.create_task(_writer(url, acked, stop))
    await asyncio.sleep(1.0)
    handle = await asyncio.to_thread(stack.partition, f"zone:{zone}", "*")
    cut_at = time.monotonic()
    most_writable, demoted_at, new_leader = 0, None, None
    try:
        while time.monotonic() - cut_at < 60:
            writable = await asyncio.to_thread(stack.pg_writable_nodes)
            most_writable = max(most_writable, len(writable))
            if old_leader not in writable and demoted_at is None:
                demoted_at = time.monotonic() - cut_at
            if writable and writable[0] != old_leader:
                new_leader = writable[0]
            if demoted_at is not None and new_leader and len(acked) > 0:
                break
            await asyncio.sleep(0.3)
        before = len(acked)
        await asyncio.sleep(2.0)
        writes_after_failover = len(acked) - before
    finally:
        await asyncio.to_thread(stack.heal, handle)
    healed_at = time.monotonic()
    print(f"zone {zone} (leader {old_leader}) cut off: old leader demoted after "
          f"{demoted_at}s, new leader {new_leader}; at most {most_writable} writable at once; "
          f"{writes_after_failover} writes in 2 s after the failover")
    assert most_writable <= 1, "two writable primaries at once: split brain"
    assert demoted_at is not None, f"{old_leader} was never demoted while isolated"
    assert new_leader is not None and stack.component(new_leader).zone != zone
    assert writes_after_failover > 0, "writes through HAProxy did not resume"
    assert stack.is_running(old_leader), "a partition must not stop the process"

    health = await asyncio.to_thread(stack.wait_healthy, 150)
    print(f"steady again {time.monotonic() - healed_at:.1f}s after heal "
          f"(leader {health.pg_leader}, Redis primary {health.redis_primary})")
    stop.set()
    await writer
    check = await asyncpg.connect(url)
    present = {row["id"] for row in await check.fetch("SELECT id FROM part_probe")}
    await check.close()
    lost = [i for i in acked if i not in present]
    assert not lost, f"{len(lost)} acknowledged rows lost, e.g. {lost[:5]}"


@pytest.mark.timeout(120)
def test_down_after_a_crash_removes_rules_namespaces_and_links(full_stack: Stack) -> None:
    full_stack.partition("kind:sentinel@c", "kind:redis")
    network = full_stack.network
    assert faults.active_tables(network)
    stack = Stack.load(full_stack.state_dir)  # a fresh process, as after a crashed drill
    stack.down(timeout=20)
    assert stack.running() == []
    assert stack.leftover_pids() == []
    assert faults.active_tables(network) == []
    assert network.leftovers() == []

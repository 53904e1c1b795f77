"""The local HA stack (chaos.stack) on real etcd, Patroni/PostgreSQL 15, HAProxy, Redis and
Sentinel: start-up, PostgreSQL and Redis failover without losing acknowledged writes, and a
`down` that leaves nothing behind. The data tier only (no SQS, no service), on free ports in
a temporary state dir; everything is stopped even when a test fails."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from chaos.stack import ComponentFailed, Stack, StackError, plan
from chaos.stack.drivers import haproxy, patroni, sentinel
from chaos.stack.drivers import redis as redis_driver
from chaos.stack.proc import cmdline, start_ticks
from chaos.stack.state import Component, StackState, save_state
from localenv.procs import pid_alive

NEEDS = ["/usr/bin/patroni", "/usr/bin/etcd", "/usr/sbin/haproxy", "/usr/bin/redis-sentinel"]
needs_binaries = pytest.mark.skipif(
    not all(Path(p).exists() for p in NEEDS), reason="run: make sysdeps (HA stack binaries)"
)


def _state_dir() -> Path:
    # Not pytest's tmp_path: /tmp/pytest-of-root is 0700 and PostgreSQL runs as `postgres`.
    path = Path(tempfile.mkdtemp(prefix="stack-test-", dir="/tmp"))
    path.chmod(0o755)
    return path


# --------------------------------------------------------------------------- fast tests
def test_configs_follow_the_recipe(tmp_path: Path) -> None:
    node = patroni.PatroniNode("pg-a", "a", 8101, 54321, tmp_path / "pg-a")
    config = json.loads(patroni.patroni_config(
        node, "127.0.0.1:2379", Path("/usr/lib/postgresql/15/bin"), tmp_path / "pb"
    ))
    dcs = config["bootstrap"]["dcs"]
    assert (dcs["ttl"], dcs["loop_wait"], dcs["retry_timeout"]) == (10, 2, 3)
    assert dcs["synchronous_mode"] is True and dcs["primary_start_timeout"] == 0
    assert dcs["postgresql"]["use_pg_rewind"] and dcs["postgresql"]["use_slots"]
    assert config["etcd3"]["host"] == "127.0.0.1:2379"
    assert config["postgresql"]["listen"] == "127.0.0.1:54321"

    hap = haproxy.haproxy_config(
        stats_socket=tmp_path / "s", pg_port=1, pg_replica_port=2,
        pg_nodes=[haproxy.HaproxyBackend("pg-a", 54321, 8101)], api_port=3,
        api_nodes=[haproxy.HaproxyBackend("api-a", 9000, 9000)],
    )
    assert "option httpchk OPTIONS /primary" in hap
    assert "on-marked-down shutdown-sessions" in hap
    assert "server pg-a 127.0.0.1:54321 check port 8101" in hap
    assert "option httpchk GET /health/ready" in hap
    binds = [line.split()[1] for line in hap.splitlines() if line.strip().startswith("bind ")]
    assert binds and all(b.startswith("127.0.0.1:") for b in binds)

    sentinel_conf = sentinel.sentinel_config(
        port=26379, data_dir=tmp_path, myid="f" * 40, primary_port=6380, replica_ports=[6381],
        other_sentinels=[(26380, "e" * 40)],
    )
    assert "sentinel monitor mymaster 127.0.0.1 6380 2" in sentinel_conf
    assert "sentinel down-after-milliseconds mymaster 1000" in sentinel_conf
    assert "sentinel known-replica mymaster 127.0.0.1 6381" in sentinel_conf
    redis_conf = redis_driver.redis_config(6381, tmp_path, replicaof=6380)
    assert "repl-diskless-sync-delay 0" in redis_conf
    assert "replicaof 127.0.0.1 6380" in redis_conf


def test_down_never_signals_a_recycled_pid(tmp_path: Path) -> None:
    """A state file naming a PID that now belongs to another process (other start time or
    command line) must not get that process killed; a matching record does."""
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    ours = subprocess.Popen(["sleep", "61"], start_new_session=True)
    try:
        for proc, line in ((stranger, "sleep 60"), (ours, "sleep 61")):
            # Until exec() the child still shows pytest's command line.
            deadline = time.monotonic() + 5
            while line not in (cmdline(proc.pid) or "") and time.monotonic() < deadline:
                time.sleep(0.01)
        comps = [
            # Same PID, wrong start time: a recycled PID.
            Component("recycled", "relay", "a", ["sleep", "60"], str(tmp_path / "l"), "sleep 60",
                      pid=stranger.pid, start_ticks=(start_ticks(stranger.pid) or 0) + 1),
            # Same PID and start time, another command line.
            Component("renamed", "relay", "b", ["x"], str(tmp_path / "l"), "service relay",
                      pid=stranger.pid, start_ticks=start_ticks(stranger.pid)),
            Component("genuine", "worker", "c", ["sleep", "61"], str(tmp_path / "l"), "sleep 61",
                      pid=ours.pid, start_ticks=start_ticks(ours.pid)),
        ]
        state = StackState(str(tmp_path), time.time(), "data-only", [], {}, comps)
        save_state(state)
        stack = Stack.load(tmp_path)
        assert stack.running() == ["genuine"]
        stack.down(timeout=5)
        ours.wait(timeout=5)
        assert stranger.poll() is None, "down killed a process it did not start"
        assert ours.returncode == -signal.SIGTERM
    finally:
        for proc in (stranger, ours):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- real stack
@needs_binaries
@pytest.mark.drill
@pytest.mark.timeout(120)
def test_up_names_the_failing_component_and_stops_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(haproxy, "haproxy_config", lambda **_: "this is not haproxy config\n")
    state_dir = _state_dir()
    lines: list[str] = []
    try:
        with pytest.raises(ComponentFailed) as failed:
            Stack.up(state_dir, app=False, sqs=False, progress=lines.append, timeout=30)
        assert failed.value.component == "haproxy", failed.value
        assert "haproxy.log" in str(failed.value)
        stack = Stack.load(state_dir)
        assert stack.running() == []
        assert stack.leftover_pids() == []
        assert stack.network.leftovers() == []  # namespaces and bridge removed too
        assert any("stopping" in line for line in lines)
    finally:
        with contextlib.suppress(Exception):
            Stack.load(state_dir).down()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def data_stack() -> Iterator[Stack]:
    if not all(Path(p).exists() for p in NEEDS):
        pytest.skip("run: make sysdeps (HA stack binaries)")
    state_dir = _state_dir()
    started = time.monotonic()
    stack: Stack | None = None
    try:
        # Loopback, as for a user without root (the namespaced stack: test_stack_partitions).
        stack = Stack.up(state_dir, app=False, sqs=False, network="loopback", progress=print,
                         timeout=60)
        print(f"data tier up in {time.monotonic() - started:.1f}s")
        yield stack
    finally:
        # Whatever happened (failed assertion, timeout, crash of up): stop from the state file.
        with contextlib.suppress(Exception):
            Stack.load(state_dir).down(timeout=20)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.mark.drill
@pytest.mark.timeout(60)
def test_up_records_components_zones_and_endpoints(data_stack: Stack) -> None:
    stack = data_stack
    raw = json.loads((stack.state_dir / "state.json").read_text())
    names = {c["name"]: c for c in raw["components"]}
    assert set(names) == {
        "etcd", "pg-a", "pg-b", "pg-c", "haproxy", "redis-a", "redis-b",
        "sentinel-a", "sentinel-b", "sentinel-c",
    }
    assert {n: c["zone"] for n, c in names.items() if c["zone"]} == {
        "pg-a": "a", "pg-b": "b", "pg-c": "c", "redis-a": "a", "redis-b": "b",
        "sentinel-a": "a", "sentinel-b": "b", "sentinel-c": "c",
    }
    for comp in raw["components"]:
        assert pid_alive(comp["pid"]), comp["name"]
        assert comp["argv"] and Path(comp["log"]).exists()
    ports = [p for c in raw["components"] for p in c["ports"].values()]
    assert len(ports) == len(set(ports))
    ep = raw["endpoints"]
    hap = stack.component("haproxy")
    assert ep["database_url_app"].startswith(f"postgresql://orders_app@{hap.host}:")
    sentinel_a = stack.component("sentinel-a")
    assert ep["redis_url"].startswith(f"redis+sentinel://{sentinel_a.host}:")
    if stack.network.isolated:  # root: each zonal component in its own namespace
        assert {c["netns"] for c in raw["components"] if c["zone"]} == {
            f"cs{stack.network.index}-{n}" for n, c in names.items() if c["zone"]
        }
        assert all(c["netns"] is None for c in raw["components"] if not c["zone"])
    secret = Path(ep["jwt_secret_path"])
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 32
    assert stack.pg_leader() == "pg-a"
    assert stack.redis_primary() == "redis-a"
    assert [c.name for c in stack.components(zone="b")] == ["pg-b", "redis-b", "sentinel-b"]
    status = subprocess.run(
        [sys.executable, "-m", "chaos.stack", "status", "--state-dir", str(stack.state_dir)],
        capture_output=True, text=True, check=False,
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert "PostgreSQL leader: pg-a" in status.stdout


async def _writer(url: str, acked: list[tuple[float, int]], errors: list[tuple[float, str]],
                  done: asyncio.Event) -> None:
    """One autocommit INSERT after another through HAProxy, reconnecting after errors."""
    conn: asyncpg.Connection | None = None
    next_id = 0
    while not done.is_set():
        next_id += 1
        try:
            if conn is None:
                conn = await asyncpg.connect(url, timeout=1)
            await conn.execute("INSERT INTO probe (id) VALUES ($1)", next_id, timeout=2)
            acked.append((time.monotonic(), next_id))
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                asyncpg.InternalClientError) as exc:  # recipes trap 4: discard the connection
            # In doubt: the row may exist; it is simply not counted as acknowledged.
            errors.append((time.monotonic(), type(exc).__name__))
            if conn is not None:
                conn.terminate()
                conn = None
            await asyncio.sleep(0.02)
    if conn is not None:
        await conn.close()


@pytest.mark.drill
@pytest.mark.timeout(120)
async def test_postmaster_kill_fails_over_and_keeps_every_acked_write(data_stack: Stack) -> None:
    stack = data_stack
    url = stack.endpoints["database_url_owner"]
    setup = await asyncpg.connect(url)
    await setup.execute("CREATE TABLE IF NOT EXISTS probe (id bigint PRIMARY KEY)")
    await setup.close()

    acked: list[tuple[float, int]] = []
    errors: list[tuple[float, str]] = []
    done = asyncio.Event()
    task = asyncio.create_task(_writer(url, acked, errors, done))
    await asyncio.sleep(1.5)
    leader = await asyncio.to_thread(stack.pg_leader)
    assert leader is not None
    killed_at = time.monotonic()
    await asyncio.to_thread(stack.kill, leader, signal.SIGKILL, part="postmaster")
    # Until writes have come back for a while after the last error.
    while time.monotonic() - killed_at < 45:
        await asyncio.sleep(0.2)
        last_error = errors[-1][0] if errors else killed_at
        if sum(1 for t, _ in acked if t > last_error) >= 50 and last_error > killed_at:
            break
    done.set()
    await task

    times = [t for t, _ in acked if t > killed_at - 0.5]
    outage = max(b - a for a, b in itertools.pairwise(times))
    new_leader = await asyncio.to_thread(stack.pg_leader)
    print(f"postmaster SIGKILL of {leader}: write outage {outage:.2f}s, "
          f"{len(errors)} failed attempts, leader now {new_leader}")
    assert errors and errors[-1][0] > killed_at, "the kill did not interrupt writes"
    assert any(t > errors[-1][0] for t, _ in acked), "writes did not resume through HAProxy"
    assert outage < 15

    health = await asyncio.to_thread(stack.wait_healthy, 90)
    print(f"steady again {time.monotonic() - killed_at:.1f}s after the kill; "
          f"leader {health.pg_leader}, sync standby {health.pg_sync_standby}")
    assert len(health.pg_streaming) == 2

    check = await asyncpg.connect(url)
    present = {row["id"] for row in await check.fetch("SELECT id FROM probe")}
    await check.close()
    lost = [i for _, i in acked if i not in present]
    assert not lost, f"{len(lost)} acknowledged rows lost, e.g. {lost[:5]}"


@pytest.mark.drill
@pytest.mark.timeout(90)
def test_redis_primary_kill_promotes_the_replica_and_old_primary_rejoins(
    data_stack: Stack,
) -> None:
    stack = data_stack
    old = stack.redis_primary()
    assert old is not None
    sentinel = Sentinel(
        [tuple(s) for s in stack.endpoints["redis_sentinels"]], socket_timeout=0.5,
        sentinel_kwargs={"socket_timeout": 0.5, "retry": Retry(NoBackoff(), 0)},
    )
    primary = sentinel.master_for(
        stack.endpoints["redis_master_name"], socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    acked: list[tuple[float, int]] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                primary.set(f"k{i}", i)
                acked.append((time.monotonic(), i))
            except redis.RedisError:
                time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(1.0)
        killed_at = time.monotonic()
        stack.kill(old, signal.SIGKILL)
        # Rollback right away: start_component must wait for Sentinel's promotion and bring
        # the old primary back as a replica (an empty primary would lose acked writes).
        stack.start_component(old, timeout=30)
        promoted = stack.redis_primary()
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join()
    times = [t for t, _ in acked if t > killed_at - 0.5]
    outage = max(b - a for a, b in itertools.pairwise(times))
    print(f"Redis primary SIGKILL: {old} -> {promoted}, write outage {outage:.2f}s")
    assert promoted is not None and promoted != old
    old_comp = stack.component(old)
    info = redis.Redis(host=old_comp.host, port=old_comp.ports["redis"]).info("replication")
    assert info["role"] == "slave"
    assert info["master_port"] == stack.component(promoted).ports["redis"]
    health = stack.wait_healthy(30)
    assert health.redis_primary == promoted and health.redis_replicas_linked == [old]
    lost = [i for _, i in acked if primary.get(f"k{i}") is None]
    assert not lost, f"{len(lost)} acknowledged Redis writes lost"


@pytest.mark.drill
@pytest.mark.timeout(90)
def test_down_leaves_no_process_behind(data_stack: Stack) -> None:
    stack = Stack.load(data_stack.state_dir)  # as `make stack-down` would, from the file
    recorded = [c.pid for c in stack.state.components if c.pid]
    postmasters = [p for c in stack.components(kind="patroni") if (p := stack.postmaster_pid(c.name))]
    assert len(postmasters) == 3
    started = time.monotonic()
    stack.down(timeout=20)
    print(f"down in {time.monotonic() - started:.1f}s")
    assert stack.running() == []
    assert [p for p in recorded + postmasters if pid_alive(p)] == []
    assert stack.leftover_pids() == []
    # Nothing anywhere still has the state dir on its command line or as its cwd.
    root = str(stack.state_dir)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and pid_alive(int(entry.name)):
            with contextlib.suppress(OSError):
                assert root not in (entry / "cmdline").read_bytes().decode(errors="replace")
                assert not os.readlink(entry / "cwd").startswith(root)


def test_state_dir_paths_fit_unix_sockets(tmp_path: Path) -> None:
    too_deep = tmp_path / ("x" * 90)
    with pytest.raises(StackError, match="too long"):
        plan.prepare_state_dir(too_deep)

"""The canary's AnalysisTemplate queries and the KEDA Prometheus triggers, read from the
infra program, run against a real Prometheus scraping real API processes.

Three API processes play three pods: `healthy`; `slow`, whose database connection goes
through a proxy that delays every reply by 0.6 s once armed (an order is one round trip,
so its latency lands past the SLO's 0.5 s and its histogram bucket, whatever the
machine's load); `failing`, whose database
does not exist (every order is a 503). Each is scraped with the labels the in-cluster
Prometheus gives a pod (namespace, app_kubernetes_io_name, rollouts_pod_template_hash),
its own namespace per pod so a query sees one pod at a time. The only change to a query
is its rate window, [2m] -> [30s], so that a test run fits in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localenv.procs import ManagedProcess, free_port, http_ok
from localenv.prometheus import PrometheusServer, ScrapeTarget
from tests.infra.conftest import load_plan
from tests.service.conftest import (
    Database,
    LiveServer,
    auth_headers,
    live_env,
    new_key,
    order_body,
)

ROOT = Path(__file__).resolve().parents[2]
SLOW_REPLY_S = 0.6  # past the 0.5 s P99 objective with one database round trip
FAST_ENV = {
    "ORDERS_GAUGE_INTERVAL_S": "0.2",
    "ORDERS_RATE_LIMIT_PER_SECOND": "1000",
    "ORDERS_RATE_LIMIT_BURST": "1000",
}


class DelayProxy:
    """A TCP proxy on loopback that delays each reply from the server by `delay_s`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port, self.port, self.delay_s = upstream_port, free_port(), 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delayed: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if delayed and self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        await asyncio.gather(
            self._pipe(reader, up_writer, delayed=False),
            self._pipe(up_reader, writer, delayed=True),
        )

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", self.port), self._loop
        ).result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def api_process(env: dict[str, str], log: Path) -> tuple[ManagedProcess, str]:
    """A real API process, up once live (the failing pod is never ready)."""
    server = LiveServer({**env, **FAST_ENV}, log)
    server.process.start()
    server.process.wait_healthy(lambda: http_ok(f"{server.url}/health/live"), timeout=30)
    return server.process, server.url


def place_orders(url: str, seconds: float, workers: int) -> None:
    deadline = time.monotonic() + seconds

    def loop() -> None:
        with httpx.Client(base_url=url, timeout=15) as client:
            while time.monotonic() < deadline:
                client.post(
                    "/v1/orders", json=order_body(), headers=auth_headers("ACC-1", key=new_key())
                )

    threads = [threading.Thread(target=loop) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def passes(condition: str, values: list[float]) -> bool:
    """The AnalysisTemplate's successCondition: no data (empty or NaN) fails, else
    result[0] <= limit."""
    match = re.fullmatch(
        r"len\(result\) > 0 && !isNaN\(result\[0\]\) && result\[0\] <= ([0-9.]+)", condition
    )
    assert match, condition
    return bool(values) and values[0] == values[0] and values[0] <= float(match.group(1))


@pytest.fixture(scope="module")
def deployed() -> dict[str, Any]:
    plan = load_plan()
    analysis = plan.named("primary-workload-analysis")["inputs"]["spec"]["metrics"]
    scalers = {
        s["inputs"]["metadata"]["name"]: s["inputs"]["spec"]
        for s in plan.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject", "eu-central-1")
    }
    return {"analysis": {m["name"]: m for m in analysis}, "scalers": scalers}


def local(query: str, namespace: str, canary: str = "") -> str:
    assert 'namespace="orders"' in query and "[2m]" in query
    query = query.replace('namespace="orders"', f'namespace="{namespace}"')
    return query.replace("{{args.canary-hash}}", canary).replace("[2m]", "[30s]")


@pytest.fixture
def pods(database: Database, redis_url: str, work_dir: Path) -> Iterator[dict[str, Any]]:
    logs = work_dir / f"canary-{secrets.token_hex(3)}"
    dead = database.app_url.replace(f":{database.server.port}/", ":1/")
    with DelayProxy(database.server.port) as proxy:
        slow_db = database.app_url.replace(f":{database.server.port}/", f":{proxy.port}/")
        started = []
        try:
            for name, db_url in (("healthy", database.app_url), ("slow", slow_db),
                                 ("failing", dead)):
                # A connection handshake is several delayed round trips: the slow pod
                # must wait for it, or its orders would be 503s instead of slow.
                env = live_env(database, redis_url, ORDERS_DATABASE_URL=db_url,
                               ORDERS_DB_CONNECT_TIMEOUT_S="15")
                started.append((name, *api_process(env, logs / f"{name}.log")))
            urls = {name: url for name, _, url in started}
            targets = [
                ScrapeTarget("orders-api", url.removeprefix("http://"), {
                    "namespace": f"ns-{name}", "app_kubernetes_io_name": "orders-api",
                    "rollouts_pod_template_hash": name,
                })
                for name, url in urls.items()
            ]
            drill_rules = sorted((ROOT / "observability" / "rules-drill").glob("*.yml"))
            with PrometheusServer(
                logs / "prometheus", free_port(), targets, rule_files=drill_rules
            ) as prometheus:
                prometheus.wait_targets_up()
                proxy.delay_s = SLOW_REPLY_S
                yield {**urls, "prometheus": prometheus}
        finally:
            for _, process, _ in started:
                process.stop()


def test_canary_analysis_and_keda_triggers_on_healthy_slow_and_failing_pods(
    deployed: dict[str, Any], pods: dict[str, Any], database: Database
) -> None:
    prometheus: PrometheusServer = pods["prometheus"]
    verdicts, seen = {}, {}

    def judge(pod: str) -> None:
        for name, metric in deployed["analysis"].items():
            query = local(metric["provider"]["prometheus"]["query"], f"ns-{pod}", pod)
            seen[(pod, name)] = prometheus.values(query)
            verdicts[(pod, name)] = passes(metric["successCondition"], seen[(pod, name)])

    # The healthy pod alone first: on a 2-core machine the faulty pods' load would slow it.
    place_orders(pods["healthy"], 8, 1)
    time.sleep(2)  # a last scrape
    judge("healthy")
    traffic = [
        threading.Thread(target=place_orders, args=(pods[name], 10, workers))
        for name, workers in (("slow", 4), ("failing", 1))
    ]
    for thread in traffic:
        thread.start()
    for thread in traffic:
        thread.join()
    time.sleep(2)
    judge("slow")
    judge("failing")
    # The failing pod is slow too (the service retries the database before its 503):
    # only the verdict of the injected fault's own metric is asserted for it.
    del verdicts[("failing", "p99-latency")]
    assert verdicts == {
        ("healthy", "error-rate"): True, ("healthy", "p99-latency"): True,
        ("slow", "error-rate"): True, ("slow", "p99-latency"): False,
        ("failing", "error-rate"): False,
    }, seen

    # KEDA: the API's P99 trigger is under its threshold when healthy, over it when slow.
    (latency,) = [
        t for t in deployed["scalers"]["orders-api"]["triggers"] if t["type"] == "prometheus"
    ]
    threshold = float(latency["metadata"]["threshold"])
    healthy = prometheus.values(local(latency["metadata"]["query"], "ns-healthy"))
    slow = prometheus.values(local(latency["metadata"]["query"], "ns-slow"))
    idle = prometheus.values(local(latency["metadata"]["query"], "ns-nobody"))
    assert len(healthy) == len(slow) == len(idle) == 1
    assert healthy[0] < threshold < slow[0]
    assert idle == [0.0]  # no traffic: a number KEDA can read, never a reason to scale

    # The drill rule set, evaluated by the same Prometheus: the failing pod's dead database
    # is that pod's alone, never the primary's. (Whether its 503s burn the fast budget
    # depends on how many it answers in 10 s on a loaded machine: the burn-rate alerts are
    # proven by promtool's unit tests and by the drills instead.)
    assert prometheus.values(
        'max_over_time(ALERTS{alertname="DatabasePrimaryUnavailable",alertstate="firing"}[5m])'
    ) == []

    asyncio.run(check_relay_trigger(deployed, prometheus, database))


async def check_relay_trigger(
    deployed: dict[str, Any], prometheus: PrometheusServer, database: Database
) -> None:
    """The relays' trigger reads the backlog the database holds, and 0 once drained."""
    (backlog,) = deployed["scalers"]["orders-relay"]["triggers"]
    assert 'namespace="orders"' in backlog["metadata"]["query"]
    query = backlog["metadata"]["query"].replace('namespace="orders"', 'namespace="ns-healthy"')
    rows = await database.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    assert rows > 0  # no relay runs here: every order waits in the outbox

    async def value() -> float:
        await asyncio.sleep(1.5)  # a gauge sample and a scrape
        (seen,) = await asyncio.to_thread(prometheus.values, query)
        return seen

    assert await value() == rows
    await database.fetch("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
    assert await value() == 0  # drained: KEDA falls back to the minimum

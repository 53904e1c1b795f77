"""Latency of the order API against the SLO (P99 < 500 ms), on real PostgreSQL and Redis.

Starts its own PostgreSQL (fsync on), Redis and one API process (uvicorn), then runs a
closed loop of `--clients` concurrent clients placing orders (each a fresh Idempotency-Key),
replaying some, and reading them back. Bounded by `--requests` and `--time-limit`;
traffic goes to 127.0.0.1 only.

    .venv/bin/python -m bench.api_latency --clients 16 --requests 3000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

import contract
from bench.datastores import data_stores
from localenv.procs import ManagedProcess, free_port, http_ok
from service.auth import issue_token

SLO_P99_MS = 500.0
ROOT = Path(__file__).resolve().parents[1]
ORDER = {
    "instrument": "US0378331005",
    "side": "buy",
    "order_type": "limit",
    "quantity": "10",
    "limit_price": "187.25",
    "currency": "USD",
    "time_in_force": "DAY",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run_load(
    url: str, token: str, clients: int, requests: int, limit_s: float
) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = {"place": [], "replay": [], "read": [], "errors": []}
    remaining = requests
    deadline = time.monotonic() + limit_s
    headers = {"Authorization": f"Bearer {token}"}

    async def client(index: int) -> None:
        nonlocal remaining
        account = f"BENCH-{index % 8}"
        async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as http:
            while remaining > 0 and time.monotonic() < deadline:
                remaining -= 1
                key = secrets.token_hex(12)
                body = {**ORDER, "account_id": account}
                started = time.perf_counter()
                response = await http.post(
                    "/v1/orders", json=body, headers={"Idempotency-Key": key}
                )
                latencies["place"].append(time.perf_counter() - started)
                if response.status_code != 201:
                    latencies["errors"].append(float(response.status_code))
                    continue
                if remaining % 5 == 0:
                    started = time.perf_counter()
                    await http.post("/v1/orders", json=body, headers={"Idempotency-Key": key})
                    latencies["replay"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    await http.get(f"/v1/orders/{response.json()['id']}")
                    latencies["read"].append(time.perf_counter() - started)

    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api_latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds")
    args = parser.parse_args(argv)

    with data_stores("bench-api-") as stores:
        env = stores.env
        subprocess.run(
            [sys.executable, "-m", "service", "migrate"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        port = free_port()
        api = ManagedProcess(
            "api",
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            stores.work / "api.log",
            env=env,
            cwd=ROOT,
        )
        try:
            api.start()
            url = f"http://127.0.0.1:{port}"
            api.wait_healthy(lambda: http_ok(f"{url}/health/ready"), 30)
            token = issue_token(
                secret=stores.jwt_secret,
                issuer=contract.JWT_ISSUER_DEFAULT,
                audience=contract.JWT_AUDIENCE_DEFAULT,
                subject="bench",
                accounts=[f"BENCH-{i}" for i in range(8)],
            )
            asyncio.run(run_load(url, token, 4, 200, 30))  # warm-up
            t0 = time.perf_counter()
            latencies = asyncio.run(
                run_load(url, token, args.clients, args.requests, args.time_limit)
            )
            elapsed = time.perf_counter() - t0
        finally:
            api.stop()

    placed = latencies["place"]
    result = {
        "clients": args.clients,
        "placements": len(placed),
        "errors": len(latencies["errors"]),
        "placements_per_s": round(len(placed) / elapsed, 1),
        **{
            f"place_p{int(q * 100)}_ms": round(percentile(placed, q) * 1000, 1)
            for q in (0.5, 0.95, 0.99)
        },
        "replay_p99_ms": round(percentile(latencies["replay"], 0.99) * 1000, 1),
        "read_p99_ms": round(percentile(latencies["read"], 0.99) * 1000, 1),
        "slo_p99_ms": SLO_P99_MS,
    }
    result["slo_met"] = result["place_p99_ms"] < SLO_P99_MS and result["errors"] == 0
    print(json.dumps(result, indent=2))
    return 0 if result["slo_met"] else 1


if __name__ == "__main__":
    sys.exit(main())

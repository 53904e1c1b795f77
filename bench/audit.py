"""Audit log figures, on a real PostgreSQL (fsync on) started for the run.

1. Placements/s with 16 connections, each placement one transaction (order, outbox,
   idempotency record, audit event), with and without the old chain-head row lock, in the
   same run; the integrator runs throughout, and the integration lag p99 (event written ->
   leaf index assigned) is measured at that peak rate.
2. Verifying N events (default 1,000,000, target < 60 s): `python -m service audit verify`
   against a tree of N leaves and its signed checkpoints.
3. Inclusion-proof latency p99 (target < 10 ms) in a tree of N leaves: what
   `GET /v1/orders/{id}/events` does in the database (events, leaf indices, proofs).

    .venv/bin/python -m bench.audit [--events 1000000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from localenv.postgres import PostgresServer
from localenv.procs import free_port
from service.audit import log as audit_log
from service.audit import proofs
from service.audit.checkpoints import AuditConfig, generate_key_files
from service.audit.integrator import Integrator, integrate_batch, publish_pending
from service.audit.merkle import leaf_hash
from service.domain import orders
from service.observability import Metrics
from service.orders import repository

ROOT = Path(__file__).resolve().parents[1]
TARGET_VERIFY_S, TARGET_PROOF_P99_MS, TARGET_LAG_P99_S = 60.0, 10.0, 1.0


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def new_order() -> orders.NewOrder:
    return orders.NewOrder(
        account_id=f"ACC-{random.randrange(16)}", instrument="US0378331005", side="buy",
        order_type="limit", quantity=Decimal("10"), limit_price=Decimal("187.25"),
        currency="USD", time_in_force="DAY", client_order_id=None,
    )


async def _place(conn: asyncpg.Connection, placement: repository.Placement, locked: bool) -> None:
    if not locked:
        await repository.place_order(conn, placement)
        return
    # The hash chain's cost, reproduced: every placement also updates one shared row.
    async with conn.transaction():
        await repository.place_order(conn, placement)
        await conn.execute("UPDATE audit_chain_head SET last_seq = last_seq + 1")


async def placements(
    pool: asyncpg.Pool, seconds: float, clients: int, *, locked: bool = False
) -> int:
    done = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        async with pool.acquire() as conn:
            while time.monotonic() < deadline:
                await _place(conn, repository.Placement(
                    principal="bench", idempotency_key=secrets.token_hex(16),
                    request_hash="0" * 64, request_id=secrets.token_hex(8), order=new_order(),
                    key_ttl=timedelta(hours=24),
                ), locked)
                done += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return done


async def placement_rates(url: str, config: AuditConfig, seconds: float, clients: int) -> dict:
    stop = asyncio.Event()
    integrator = Integrator(lambda: asyncpg.connect(url), config, Metrics())
    running = asyncio.create_task(integrator.run(stop))
    pool = await asyncpg.create_pool(url, min_size=clients, max_size=clients)
    try:
        started = await pool.fetchval("SELECT now()")
        free = await placements(pool, seconds, clients)
        lag = await pool.fetchrow(
            "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM"
            " l.integrated_at - e.occurred_at)) AS p99, max(EXTRACT(EPOCH FROM"
            " l.integrated_at - e.occurred_at)) AS worst, count(*) AS n FROM audit_events e"
            " JOIN audit_leaves l USING (seq) WHERE e.occurred_at >= $1", started)
        locked = await placements(pool, seconds, clients, locked=True)
    finally:
        stop.set()
        await running
        await pool.close()
    return {"free": free / seconds, "locked": locked / seconds,
            "lag_p99": float(lag["p99"] or 0), "lag_max": float(lag["worst"] or 0),
            "lag_events": lag["n"]}


def _event_records(count: int, order_ids: list[uuid.UUID]) -> list[tuple[Any, ...]]:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    records = []
    for i in range(count):
        order_id = order_ids[i // 4]
        payload = {"order": {"id": str(order_id), "quantity": "10", "limit_price": "187.25",
                             "instrument": "US0378331005", "status": "PENDING"},
                   "request_id": f"{i:016x}", "idempotency_key": f"key-{i:012d}"}
        event_id, occurred = uuid.uuid4(), start + timedelta(microseconds=i * 1000)
        digest = leaf_hash(audit_log.canonical_encoding(
            event_id=event_id, order_id=order_id, event_type="order.created", from_status=None,
            to_status="PENDING", actor="bench", payload=payload, occurred_at=occurred))
        records.append((event_id, order_id, "order.created", None, "PENDING", "bench",
                        json.dumps(payload), occurred, digest))
    return records


async def build_large_log(url: str, config: AuditConfig, events: int) -> float:
    """`events` events written in bulk, then integrated and checkpointed; returns seconds
    the integrator took."""
    conn = await asyncpg.connect(url)
    try:
        order_ids = [uuid.uuid4() for _ in range((events + 3) // 4)]
        await conn.execute(
            "INSERT INTO orders (id, account_id, principal, instrument, side, order_type,"
            " quantity, limit_price, currency, time_in_force, status, idempotency_key,"
            " created_at, updated_at) SELECT id, 'ACC-1', 'bench', 'US0378331005', 'buy',"
            " 'limit', 10, 187.25, 'USD', 'DAY', 'PENDING', id::text, now(), now()"
            " FROM unnest($1::uuid[]) AS t(id)", order_ids)
        for offset in range(0, events, 100_000):
            records = _event_records(min(100_000, events - offset), order_ids[offset // 4:])
            await conn.copy_records_to_table(
                "audit_events", records=records,
                columns=["event_id", "order_id", "event_type", "from_status", "to_status",
                         "actor", "payload", "occurred_at", "leaf_hash"])
        started = time.monotonic()
        while (await integrate_batch(conn, batch_size=20_000)).integrated:
            pass
        await publish_pending(conn, config, limit=10_000)
        elapsed = time.monotonic() - started
        await conn.execute("ANALYZE")  # what autovacuum does after a bulk load
        return elapsed
    finally:
        await conn.close()


def verify_seconds(url: str, config: AuditConfig) -> tuple[float, int, str]:
    env = {**os.environ, "ORDERS_DATABASE_URL": url, "PYTHONPATH": str(ROOT),
           "ORDERS_AUDIT_PUBLIC_KEY_FILE": str(config.public_key_file),
           "ORDERS_AUDIT_LOG_ORIGIN": config.origin,
           "ORDERS_CHECKPOINT_DIR": str(config.checkpoint_dir)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "service", "audit", "verify"], env=env,
                          cwd=ROOT, capture_output=True, text=True, check=False)
    return time.monotonic() - started, done.returncode, done.stdout.strip()


async def proof_latencies(url: str, samples: int) -> list[float]:
    conn = await asyncpg.connect(url)
    try:
        ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM orders TABLESAMPLE SYSTEM (5) LIMIT $1", samples)]
        source = proofs.CheckpointSource()
        timings = []
        for order_id in ids:
            started = time.perf_counter()
            trail = await proofs.order_trail(conn, order_id, await source.latest(conn))
            timings.append((time.perf_counter() - started) * 1000)
            assert all(e["inclusion_proof"] for e in trail["events"])
        return timings
    finally:
        await conn.close()


def _report(name: str, value: str, ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("  [ok]" if ok else "  [MISSED]")
    print(f"  {name:<58} {value}{verdict}", flush=True)


async def run(url: str, config: AuditConfig, args: argparse.Namespace) -> bool:
    rates = await placement_rates(url, config, args.seconds, args.clients)
    _report(f"placements/s, {args.clients} connections, no shared row", f"{rates['free']:.0f}")
    _report("placements/s, same, with the old chain-head row lock", f"{rates['locked']:.0f}")
    _report("ratio without / with the lock", f"{rates['free'] / rates['locked']:.2f}")
    _report(f"integration lag p99 at that rate ({rates['lag_events']} events)",
            f"{rates['lag_p99'] * 1000:.0f} ms (max {rates['lag_max'] * 1000:.0f} ms)",
            rates["lag_p99"] < TARGET_LAG_P99_S)
    integrate_s = await build_large_log(url, config, args.events)
    _report(f"integrating {args.events:,} bulk-written events", f"{integrate_s:.1f} s")
    seconds, code, output = verify_seconds(url, config)
    _report(f"audit verify over {args.events:,}+ events (exit {code})", f"{seconds:.1f} s",
            code == 0 and seconds < TARGET_VERIFY_S)
    print(f"    {output}", flush=True)
    timings = await proof_latencies(url, args.proofs)
    p99 = percentile(timings, 0.99)
    _report(f"inclusion proofs for one order's trail, p50 / p99 ({len(timings)} orders)",
            f"{percentile(timings, 0.5):.2f} / {p99:.2f} ms", p99 < TARGET_PROOF_P99_MS)
    return code == 0 and seconds < TARGET_VERIFY_S and p99 < TARGET_PROOF_P99_MS and (
        rates["lag_p99"] < TARGET_LAG_P99_S)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15.0, help="per placement run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    work.chmod(0o755)
    pg = PostgresServer(work / "pg", free_port(), durable=True).start()
    try:
        subprocess.run([sys.executable, "-m", "service", "migrate"], cwd=ROOT, check=True,
                       capture_output=True,
                       env={**os.environ, "ORDERS_DATABASE_URL": pg.urls.owner})
        generate_key_files(work / "key.pem", work / "key.pub.pem")
        config = AuditConfig(origin="bench.local/audit-log", signing_key_file=work / "key.pem",
                             public_key_file=work / "key.pub.pem",
                             checkpoint_dir=work / "checkpoints")
        # The owner role: the bench also updates the frozen chain head to reproduce it.
        ok = asyncio.run(run(pg.urls.owner, config, args))
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())

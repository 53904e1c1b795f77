"""The whole system against the PostgreSQL ceiling, side by side in one run (`make bench`).

Phases, one after the other on the same durable PostgreSQL so they never share the CPU:
warm-up (wrk, then pgbench, both discarded, then ANALYZE), ceiling (pgbench, first half),
saturation (wrk, closed loop), ceiling (second half, so drift over the run hits both sides),
paced (wrk at 70 % of the measured maximum).
After each wrk phase the relay and worker drain the backlog (bounded), so the CPU charged
per placement includes publishing and filling it. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

import contract
from bench import ceiling, cpu, devstack, statements, wrk
from service.auth import issue_token
from service.config import load_settings

PLACE_PATH = "/v1/orders"


@dataclass(frozen=True)
class Options:
    connections: int = 16
    threads: int = 2
    accounts: int = 16
    warmup_s: int = 5
    ceiling_s: int = 30  # split in two halves around the saturation phase
    saturation_s: int = 30
    paced_s: int = 30
    paced_fraction: float = 0.7
    drain_timeout_s: float = 90.0
    statements: str = "top"  # pg_stat_statements.track: "top", or "all" to see nested ones


class Database:
    """The superuser's view of the server the system runs on.

    One connection per database, kept for the whole run: a connection per poll would fork a
    backend each time and charge that to the placements' PostgreSQL CPU.
    """

    def __init__(self, system: devstack.DevSystem) -> None:
        self.system = system
        self._loop = asyncio.new_event_loop()
        self._connections: dict[str, asyncpg.Connection] = {}

    async def _run(self, database: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = self._connections.get(database)
        if conn is None:
            conn = await asyncpg.connect(self.system.superuser_url(database))
            self._connections[database] = conn
        return list(await conn.fetch(sql, *args))

    def fetch(
        self, sql: str, *args: Any, database: str = contract.DATABASE_NAME
    ) -> list[asyncpg.Record]:
        return self._loop.run_until_complete(self._run(database, sql, *args))

    def close(self) -> None:
        for conn in self._connections.values():
            self._loop.run_until_complete(conn.close())
        self._connections.clear()
        self._loop.close()

    def counters(self) -> dict[str, int]:
        """Write transactions (xids assigned), WAL bytes and WAL syncs so far."""
        row = self.fetch(
            """
            SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xids,
                   pg_current_wal_lsn() - '0/0'::pg_lsn AS wal_bytes,
                   (SELECT wal_sync FROM pg_stat_wal) AS wal_syncs
            """
        )[0]
        return {key: int(row[key]) for key in ("xids", "wal_bytes", "wal_syncs")}

    def analyze(self) -> None:
        """Statistics for both databases now, as autovacuum's first pass would leave them
        (see `bench.levers.analyze`: plans cached on empty tables seq-scan until then)."""
        for database in (contract.DATABASE_NAME, ceiling.DATABASE):
            self.fetch("ANALYZE", database=database)

    def settings(self) -> dict[str, str]:
        rows = self.fetch(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('fsync', 'synchronous_commit', 'server_version', 'max_connections')"
        )
        return {row["name"]: row["setting"] for row in rows}

    def open_orders(self) -> int:
        rows = self.fetch(
            "SELECT count(*) AS n FROM orders WHERE status IN ('PENDING', 'SUBMITTED')"
        )
        return int(rows[0]["n"])

    def orders_created_since(self, start: datetime) -> int:
        rows = self.fetch("SELECT count(*) AS n FROM orders WHERE created_at >= $1", start)
        return int(rows[0]["n"])

    def wait_drained(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_orders() == 0:
                return True
            time.sleep(0.5)
        return False

    def lag(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Placement -> FILLED for the orders created in [start, end), from their timestamps."""
        row = self.fetch(
            """
            WITH placed AS (
                SELECT status, created_at,
                       CASE WHEN status = 'FILLED' THEN updated_at END AS filled_at,
                       extract(epoch FROM updated_at - created_at) * 1000 AS ms
                FROM orders WHERE created_at >= $1 AND created_at < $2)
            SELECT count(*) AS placed,
                   count(*) FILTER (WHERE status = 'FILLED') AS filled,
                   count(*) FILTER (WHERE filled_at < $2) AS filled_in_phase,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)
                       FILTER (WHERE status = 'FILLED') AS p50,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)
                       FILTER (WHERE status = 'FILLED') AS p99,
                   max(ms) FILTER (WHERE status = 'FILLED') AS max,
                   extract(epoch FROM max(filled_at) - min(created_at)) AS span_s
            FROM placed
            """,
            start, end,
        )[0]
        span = float(row["span_s"] or 0)
        return {
            "placed": int(row["placed"]),
            "filled": int(row["filled"]),
            # What relay + SQS + worker sustained: fills over first placement -> last fill
            # (the drain included, when nothing competes with them for the CPU).
            "filled_per_s": round(int(row["filled"]) / span, 1) if span > 0 else None,
            # Fills of the phase's orders done while wrk was still placing, per second of
            # the phase: what they kept up with under the same load.
            "filled_in_phase_per_s": round(
                int(row["filled_in_phase"]) / (end - start).total_seconds(), 1),
            **{
                key: None if row[key] is None else round(float(row[key]), 1)
                for key in ("p50", "p99", "max")
            },
        }

    def ceiling_rows(self) -> dict[str, int]:
        """Rows the ceiling wrote: one of each per committed transaction."""
        row = self.fetch(
            "SELECT (SELECT count(*) FROM orders) AS orders,"
            " (SELECT count(*) FROM outbox) AS outbox,"
            " (SELECT count(*) FROM idempotency_keys) AS idempotency_keys,"
            " (SELECT count(*) FROM audit_events) AS audit_events",
            database=ceiling.DATABASE,
        )[0]
        return {key: int(value) for key, value in row.items()}

    def prepare_ceiling(self) -> str:
        """The ceiling's own database, migrated by the service's migrations; the audit
        format its schema has."""
        return self._loop.run_until_complete(self._prepare_ceiling())

    async def _prepare_ceiling(self) -> str:
        from service.migrate import apply_migrations

        await self._run(
            "postgres", f"CREATE DATABASE {ceiling.DATABASE} OWNER {contract.OWNER_ROLE}"
        )
        conn = await asyncpg.connect(
            f"postgresql://{contract.OWNER_ROLE}@127.0.0.1:{self.system.pg_port}"
            f"/{ceiling.DATABASE}"
        )
        try:
            await apply_migrations(conn)
            columns = await conn.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'audit_events'"
            )
            audit = ceiling.audit_format({row["column_name"] for row in columns})
            if audit == "chain":
                await conn.execute(f"CREATE SEQUENCE {ceiling.AUDIT_SEQUENCE}")
                await conn.execute(
                    f"GRANT USAGE ON SEQUENCE {ceiling.AUDIT_SEQUENCE} TO {contract.APP_ROLE}"
                )
            return audit
        finally:
            await conn.close()


def _progress(message: str) -> None:
    print(f"[bench] {datetime.now(UTC):%H:%M:%S} {message}", flush=True)


def counter_deltas(before: dict[str, int], after: dict[str, int], units: int) -> dict[str, Any]:
    per = {key: (after[key] - before[key]) / units if units > 0 else None for key in before}
    return {
        "write_transactions_per_placement": _round(per["xids"], 3),
        "wal_bytes_per_placement": _round(per["wal_bytes"], 0),
        "wal_syncs_per_placement": _round(per["wal_syncs"], 3),
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class Run:
    """One bench run against a started dev system."""

    def __init__(self, system: devstack.DevSystem, options: Options, work_dir: Path) -> None:
        self.system = system
        self.options = options
        self.work_dir = work_dir
        self.db = Database(system)
        self.audit_format = "chain"
        # The issuer and audience the API checks, resolved as the API resolves them.
        settings = load_settings({**system.env, "ORDERS_JWT_SECRET": system.jwt_secret})
        self.token = issue_token(
            secret=system.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            subject="bench",
            accounts=wrk.account_names(options.accounts),
            ttl_seconds=3600,
        )

    def wrk_phase(
        self, name: str, duration_s: int, interval_ms: float | None = None
    ) -> dict[str, Any]:
        opts = self.options
        script = wrk.lua_script(
            wrk.account_names(opts.accounts), path=PLACE_PATH, interval_ms=interval_ms
        )
        statements.reset(self.db.fetch, contract.DATABASE_NAME)
        counters_before = self.db.counters()
        cpu_before = cpu.settled_snapshot(self.system.roles)
        start = datetime.now(UTC)
        result = wrk.run_wrk(
            self.system.api_url + PLACE_PATH, script, token=self.token, work_dir=self.work_dir,
            duration_s=duration_s, connections=opts.connections, threads=opts.threads, name=name,
        )
        end = datetime.now(UTC)
        drained = self.db.wait_drained(opts.drain_timeout_s)
        time.sleep(1.2)  # let backends flush their WAL statistics
        cpu_seconds = cpu.delta_seconds(cpu_before, cpu.settled_snapshot(self.system.roles))
        placements = result.count(201)
        # Costs are shared over every order the phase created, the ones still in flight
        # when wrk stopped (committed, but their 201 never counted) included.
        created = self.db.orders_created_since(start)
        return {
            "wrk": result.to_json(),
            "placements": placements,
            "orders_created": created,
            "placements_per_s": round(result.rate(201), 1),
            "latency_ms": result.latency_ms,
            "errors_by_status": result.errors_by_status(201),
            "lag_ms": self.db.lag(start, end),
            "drained": drained,
            "cpu_s": {k: None if v is None else round(v, 3) for k, v in cpu_seconds.items()},
            "cpu_ms_per_placement": cpu.per_unit(cpu_seconds, created),
            **counter_deltas(counters_before, self.db.counters(), created),
            "statements": statements.read(
                self.db.fetch, contract.DATABASE_NAME, contract.DATABASE_NAME, created),
        }

    def ceiling_phase(self, name: str, duration_s: int) -> dict[str, Any]:
        opts = self.options
        statements.reset(self.db.fetch, contract.DATABASE_NAME)
        cpu_before = cpu.settled_snapshot({"postgresql": self.system.roles["postgresql"]})
        result = ceiling.run_pgbench(
            port=self.system.pg_port, user=contract.APP_ROLE, work_dir=self.work_dir,
            clients=opts.connections, duration_s=duration_s, accounts=opts.accounts,
            audit=self.audit_format, name=name,
        )
        seconds = cpu.delta_seconds(
            cpu_before, cpu.settled_snapshot({"postgresql": self.system.roles["postgresql"]})
        )
        return {
            **result.to_json(),
            "cpu_ms_per_transaction": cpu.per_unit(seconds, result.transactions),
            "statements": statements.read(
                self.db.fetch, contract.DATABASE_NAME, ceiling.DATABASE, result.transactions),
        }

    def execute(self) -> dict[str, Any]:
        try:
            return self._phases()
        finally:
            self.db.close()

    def _phases(self) -> dict[str, Any]:
        opts = self.options
        self.audit_format = self.db.prepare_ceiling()
        statements.enable(self.db.fetch, contract.DATABASE_NAME, opts.statements)
        ceiling_warmup = None
        if opts.warmup_s > 0:
            _progress(f"warm-up {opts.warmup_s} s")
            self.wrk_phase("warmup", opts.warmup_s)
            # The ceiling gets the same warm-up as the system, discarded: pgbench's
            # connections plan their statements (foreign-key checks among them) on the
            # freshly created tables, and those plans seq-scan as the tables grow (the
            # mechanism the measurements fit: a warm-up or an ANALYZE removed it). A cold
            # first half ran at about half speed (2,340 tps over 8 s, then 4,050-4,240;
            # PostgreSQL CPU 0.73 against 0.37 ms per transaction) and flattered every ratio
            # measured with it.
            _progress(f"ceiling warm-up (pgbench) {opts.warmup_s} s, not counted")
            ceiling_warmup = self.ceiling_phase("ceiling-warmup", opts.warmup_s)
            # The system's pools keep their connections, and the plans cached on empty
            # tables. Only after a warm-up: statistics of empty tables would be worse.
            self.db.analyze()
        half = max(1, opts.ceiling_s // 2)
        _progress(f"ceiling (pgbench) {half} s")
        ceiling_runs = [self.ceiling_phase("ceiling-1", half)]
        _progress(f"saturation (wrk) {opts.saturation_s} s, then drain")
        saturation = self.wrk_phase("saturation", opts.saturation_s)
        _progress(f"ceiling (pgbench) {half} s")
        ceiling_runs.append(self.ceiling_phase("ceiling-2", half))
        target = max(1.0, saturation["placements_per_s"] * opts.paced_fraction)
        threads = min(opts.threads, opts.connections)
        _progress(f"paced at {target:.1f}/s (wrk) {opts.paced_s} s, then drain")
        paced = self.wrk_phase(
            "paced", opts.paced_s, interval_ms=wrk.slot_interval_ms(threads, target)
        )
        paced["target_per_s"] = round(target, 1)
        return {
            "postgres": self.db.settings(),
            "processes": {role: len(pids) for role, pids in self.system.roles.items()},
            "ceiling_runs": ceiling_runs,
            "ceiling_warmup": ceiling_warmup,
            "ceiling_rows": self.db.ceiling_rows(),
            "ceiling_audit_format": self.audit_format,
            "saturation": saturation,
            "paced": paced,
        }

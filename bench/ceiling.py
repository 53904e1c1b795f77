"""The PostgreSQL ceiling: pgbench making one placement's writes per transaction.

One transaction = the INSERTs the service's `place_order` SQL function (its newest migration
in `service/migrations/`) makes when an order is placed, with the same columns and payload
sizes: the order row (RETURNING its columns, as the service once did: a little more work
than the function does), its outbox row with the ~500-byte JSON event, the idempotency
record holding the response body, and the audit event. No Python, no HTTP, no reads: what
the database alone commits on the same server, with the same durability, over the same
number of clients.

It runs in its own database (`bench_ceiling`) on the same server, migrated with the
service's own migrations, so the relay and worker of the system under test never see its
rows. The audit event is written in the format the migrated schema has: the hash-chain
format (`seq` from a bench-only sequence: the ceiling takes no chain-head lock) or the
Merkle-log format (`seq` from the table's default, a `leaf_hash`, no chain columns).

pgbench substitutes `:name` anywhere in a script, string literals included, so the JSON is
written with `": "` separators and the response body as a bytea hex literal;
`undefined_variables` checks the generated script for any stray reference.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localenv.postgres import postgres_bin_dir

DATABASE = "bench_ceiling"
AUDIT_SEQUENCE = "bench_ceiling_audit_seq"
PRINCIPAL = "bench-ceiling"
# Same as the service's RETURNING list on the order INSERT.
ORDER_COLUMNS = (
    "id, account_id, client_order_id, instrument, side, order_type, quantity, limit_price,"
    " currency, time_in_force, status, filled_quantity, created_at, updated_at"
)
SAMPLE_TIME = "2026-12-02T09:30:00.123456+00:00"
# pgbench's own rule (parseVariable): a colon, then a letter, `_` or a non-ASCII byte.
VARIABLE_REFERENCE = re.compile(r"(?<!:):([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)")
SET_COMMAND = re.compile(r"^\\set\s+(\w+)", re.MULTILINE)
GSET_COMMAND = re.compile(r"RETURNING\s+(.+?)\s*\\gset\s+(\w+)", re.DOTALL)
BUILTIN_VARIABLES = frozenset({"client_id", "scale", "random_seed"})


def sample_order_document(account_id: str = "BENCH-0") -> dict[str, Any]:
    """The order as the API returns it (and the outbox and audit payloads embed it)."""
    return {
        "id": str(uuid.UUID(int=1)),
        "account_id": account_id,
        "client_order_id": None,
        "instrument": "US0378331005",
        "side": "buy",
        "order_type": "limit",
        "quantity": "10",
        "limit_price": "187.25",
        "currency": "USD",
        "time_in_force": "DAY",
        "status": "PENDING",
        "filled_quantity": "0",
        "created_at": SAMPLE_TIME,
        "updated_at": SAMPLE_TIME,
    }


def payloads() -> dict[str, str]:
    """The three JSON texts a placement stores, encoded the way the service encodes them."""
    document = sample_order_document()
    outbox = {"event_id": str(uuid.UUID(int=2)), "event_type": "order.created", "order": document}
    audit = {
        "order": document,
        "idempotency_key": "wrk-1-1-123456789",
        "request_id": str(uuid.UUID(int=3)),
        "outbox_event_id": str(uuid.UUID(int=2)),
    }
    return {
        # json.dumps' default ", " / ": " separators, as the service writes jsonb payloads.
        "outbox": json.dumps(outbox),
        "audit": json.dumps(audit),
        # The response body is compact JSON (msgspec); stored as bytea.
        "response_body": json.dumps(document, separators=(",", ":")),
    }


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


AUDIT_FORMATS = ("chain", "merkle")


def audit_format(columns: set[str]) -> str:
    """Which audit-event format a set of audit_events columns belongs to."""
    return "merkle" if "leaf_hash" in columns else "chain"


def _audit_insert(fmt: str, payload: str) -> str:
    if fmt == "merkle":
        return f"""\
INSERT INTO audit_events (event_id, order_id, event_type, from_status, to_status, actor,
    payload, occurred_at, leaf_hash)
VALUES (gen_random_uuid(), :o_id, 'order.created', NULL, 'PENDING', '{PRINCIPAL}',
    {_sql_text(payload)}::jsonb, now(), '\\x{"ab" * 32}'::bytea);
"""  # noqa: S608
    if fmt != "chain":
        raise ValueError(f"unknown audit format {fmt!r}; one of {AUDIT_FORMATS}")
    return f"""\
INSERT INTO audit_events (seq, event_id, order_id, event_type, from_status, to_status,
    actor, payload, occurred_at, prev_hash, hash)
VALUES (nextval('{AUDIT_SEQUENCE}'), gen_random_uuid(), :o_id, 'order.created', NULL,
    'PENDING', '{PRINCIPAL}', {_sql_text(payload)}::jsonb, now(), '{"0" * 64}',
    '{"f" * 64}');
"""  # noqa: S608


def pgbench_script(accounts: int = 16, audit: str = "chain") -> str:
    """One placement's writes in one transaction, as a pgbench custom script."""
    texts = payloads()
    body_hex = texts["response_body"].encode().hex()
    request_hash = "0" * 64
    key = "'pgbench-' || :client_id || '-' || :key"
    # Built from this module's constants only; pgbench reads it, never a user.
    return f"""\
\\set acct random(0, {accounts - 1})
\\set key random(1, 9223372036854775806)
BEGIN;
INSERT INTO orders (id, account_id, principal, client_order_id, instrument, side,
    order_type, quantity, limit_price, currency, time_in_force, status,
    idempotency_key, created_at, updated_at)
VALUES (gen_random_uuid(), 'BENCH-' || :acct, '{PRINCIPAL}', NULL, 'US0378331005', 'buy',
    'limit', 10, 187.25, 'USD', 'DAY', 'PENDING', {key}, now(), now())
RETURNING {ORDER_COLUMNS} \\gset o_
INSERT INTO outbox (event_id, order_id, account_id, event_type, payload, created_at)
VALUES (gen_random_uuid(), :o_id, :o_account_id, 'order.created',
    {_sql_text(texts["outbox"])}::jsonb, now());
INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, request_id,
    order_id, response_status, response_body, created_at, expires_at)
VALUES ('{PRINCIPAL}', {key}, '{request_hash}', 'pgbench', :o_id, 201,
    '\\x{body_hex}'::bytea, now(), now() + interval '24 hours');
{_audit_insert(audit, texts["audit"])}END;
"""  # noqa: S608


def defined_variables(script: str) -> set[str]:
    names = set(SET_COMMAND.findall(script)) | set(BUILTIN_VARIABLES)
    for columns, prefix in GSET_COMMAND.findall(script):
        for column in columns.split(","):
            names.add(prefix + column.strip().split()[-1])
    return names


def undefined_variables(script: str) -> list[str]:
    """`:name` references pgbench would substitute but nothing defines (e.g. `"x":null`)."""
    lines = [line for line in script.splitlines() if not line.startswith("\\")]
    used = VARIABLE_REFERENCE.findall("\n".join(lines))
    defined = defined_variables(script)
    return sorted({name for name in used if name not in defined})


@dataclass(frozen=True)
class PgbenchResult:
    tps: float
    transactions: int
    failed: int
    latency_ms_avg: float
    clients: int
    duration_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "tps": round(self.tps, 1),
            "transactions": self.transactions,
            "failed": self.failed,
            "latency_ms_avg": round(self.latency_ms_avg, 3),
            "clients": self.clients,
            "duration_s": self.duration_s,
        }


class PgbenchOutputError(RuntimeError):
    """pgbench failed or printed no tps line; the message carries its output."""


def _number(pattern: str, text: str, default: float | None = None) -> float:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        if default is None:
            raise PgbenchOutputError(f"pattern {pattern!r} not in pgbench output:\n{text[-2000:]}")
        return default
    return float(match.group(1))


def parse_output(text: str, *, clients: int, duration_s: float) -> PgbenchResult:
    """The summary pgbench 15 prints (tps without the initial connection time)."""
    tps_line = r"^tps = ([0-9.]+) \(without initial connection time\)"
    if re.search(tps_line, text, re.MULTILINE) is None:
        tps_line = r"^tps = ([0-9.]+)"
    return PgbenchResult(
        tps=_number(tps_line, text),
        transactions=int(_number(r"^number of transactions actually processed: (\d+)", text)),
        failed=int(_number(r"^number of failed transactions: (\d+)", text, 0)),
        latency_ms_avg=_number(r"^latency average = ([0-9.]+) ms", text),
        clients=clients,
        duration_s=duration_s,
    )


def run_pgbench(
    *,
    port: int,
    user: str,
    work_dir: Path,
    clients: int,
    duration_s: int,
    accounts: int = 16,
    audit: str = "chain",
    name: str = "pgbench",
    pgbench: Path | None = None,
) -> PgbenchResult:
    """pgbench from the PostgreSQL the servers run (`/usr/lib/postgresql/<major>/bin`)."""
    script = pgbench_script(accounts, audit)
    stray = undefined_variables(script)
    if stray:
        raise ValueError(f"pgbench script references undefined variables: {stray}")
    script_path = work_dir / f"{name}.sql"
    script_path.write_text(script)
    command = [
        str(pgbench or postgres_bin_dir() / "pgbench"), "-n", "-M", "prepared",
        "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(duration_s),
        "-f", str(script_path), "-h", "127.0.0.1", "-p", str(port), "-U", user, DATABASE,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=duration_s + 60, check=False
    )
    output = completed.stdout + completed.stderr
    (work_dir / f"{name}.out").write_text(output)
    if completed.returncode != 0:
        raise PgbenchOutputError(f"pgbench exited {completed.returncode}:\n{output[-2000:]}")
    return parse_output(output, clients=clients, duration_s=duration_s)

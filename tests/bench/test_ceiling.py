"""The pgbench ceiling script: the same writes as the service's placement, no stray
`:name` substitution, and the parsing of pgbench's summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import ceiling

SERVICE = Path(__file__).resolve().parents[2] / "service"
INSERT = re.compile(r"INSERT INTO (\w+) \(([^)]*)\)", re.IGNORECASE)
PLACEMENT_TABLES = ("orders", "outbox", "idempotency_keys", "audit_events")

# Captured from pgbench 15.18 running the generated script.
REAL_OUTPUT = """\
pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/bench-system-s5rnl9ba/ceiling-2.sql
scaling factor: 1
query mode: prepared
number of clients: 16
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 5014
number of failed transactions: 0 (0.000%)
latency average = 6.310 ms
initial connection time = 47.557 ms
tps = 2535.583634 (without initial connection time)
"""


def insert_columns(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, columns in INSERT.findall(text):
        found.setdefault(table, set()).update(c.strip() for c in columns.split(","))
    return found


def placement_function_sql() -> str:
    """The newest migration defining the one-round-trip placement function."""
    defining = [
        p for p in sorted((SERVICE / "migrations").glob("*.sql"))
        if re.search(r"CREATE (OR REPLACE )?FUNCTION place_order\b", p.read_text())
    ]
    assert defining, "no migration defines place_order"
    return defining[-1].read_text()


def test_script_inserts_the_columns_the_service_inserts() -> None:
    service_sql = "\n".join(p.read_text() for p in SERVICE.rglob("*.py"))
    service_sql += "\n" + placement_function_sql()
    service = insert_columns(service_sql)
    # The audit format the service writes today decides the ceiling's audit INSERT.
    audit = ceiling.audit_format(service["audit_events"])
    script = insert_columns(ceiling.pgbench_script(audit=audit))
    assert sorted(script) == sorted(PLACEMENT_TABLES)
    for table in PLACEMENT_TABLES:
        assert script[table] == service[table], f"{table}: the service's INSERT changed"


def test_both_audit_formats() -> None:
    chain = insert_columns(ceiling.pgbench_script(audit="chain"))["audit_events"]
    merkle = insert_columns(ceiling.pgbench_script(audit="merkle"))["audit_events"]
    assert {"seq", "prev_hash", "hash"} <= chain and "leaf_hash" not in chain
    assert "leaf_hash" in merkle and not {"seq", "prev_hash", "hash"} & merkle
    assert ceiling.audit_format(chain) == "chain" and ceiling.audit_format(merkle) == "merkle"
    assert "'\\x" + "ab" * 32 + "'::bytea" in ceiling.pgbench_script(audit="merkle")
    with pytest.raises(ValueError, match="unknown audit format"):
        ceiling.pgbench_script(audit="paper")


def test_script_returns_the_columns_the_service_returns() -> None:
    # Adjacent string literals joined, wherever the service keeps its order columns.
    joined = re.sub(r'"\s*"', "", "\n".join(p.read_text() for p in SERVICE.rglob("*.py")))
    assert ceiling.ORDER_COLUMNS in joined


def test_script_is_one_transaction_with_the_service_payload_sizes() -> None:
    script = ceiling.pgbench_script(accounts=16)
    statements = [line for line in script.splitlines() if line.startswith(("BEGIN", "END"))]
    assert statements == ["BEGIN;", "END;"]
    assert "random(0, 15)" in script
    sizes = {name: len(text) for name, text in ceiling.payloads().items()}
    assert 400 <= sizes["outbox"] <= 600  # the ~500-byte event the relay publishes
    assert sizes["audit"] > sizes["outbox"] > sizes["response_body"] > 300


@pytest.mark.parametrize("audit", ceiling.AUDIT_FORMATS)
def test_generated_script_has_no_undefined_variable(audit: str) -> None:
    assert ceiling.undefined_variables(ceiling.pgbench_script(audit=audit)) == []
    assert {"o_id", "o_account_id", "acct", "key", "client_id"} <= ceiling.defined_variables(
        ceiling.pgbench_script()
    )


@pytest.mark.parametrize(
    ("literal", "stray"),
    [
        ("""'{"x":null}'""", ["null"]),
        ("""'{"x":true, "y":false}'""", ["false", "true"]),
        ("""'{"x": null}'""", []),
        ("""'{"t": "09:30:00"}'::jsonb""", []),  # a digit after the colon is not a name
        ("""now()::text""", []),  # a cast is not a variable
    ],
)
def test_undefined_variables_follows_pgbench_substitution(literal: str, stray: list[str]) -> None:
    assert ceiling.undefined_variables(f"SELECT {literal};\n") == stray


def test_parse_output_reads_pgbench_15_summary() -> None:
    result = ceiling.parse_output(REAL_OUTPUT, clients=16, duration_s=2)
    assert result.tps == pytest.approx(2535.583634)
    assert result.transactions == 5014
    assert result.failed == 0
    assert result.latency_ms_avg == pytest.approx(6.31)
    assert result.to_json()["tps"] == 2535.6


def test_parse_output_without_tps_says_so() -> None:
    with pytest.raises(ceiling.PgbenchOutputError):
        ceiling.parse_output("pgbench: error: connection refused\n", clients=1, duration_s=1)

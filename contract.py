"""The facts the service, the infrastructure, the drills and the tests must agree on.

Dependency-free on purpose: the service image, the Pulumi program, the drills and the local
servers all import it, and it imports nothing of theirs. `service/CONTRACT.md`'s environment
table is generated from `ENVIRONMENT` (`python -m contract`, checked by a test).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

# -- authentication ------------------------------------------------------------------------
JWT_SECRET_MIN_BYTES = 32  # HS256 key length the service refuses to go below
JWT_ISSUER_DEFAULT = "orders-local"
JWT_AUDIENCE_DEFAULT = "orders-api"

# -- database --------------------------------------------------------------------------------
DATABASE_NAME = "orders"
OWNER_ROLE = "orders_owner"  # owns the schema, runs migrations
APP_ROLE = "orders_app"  # what the service connects as: DML only, audit log INSERT/SELECT

# -- workloads (Kubernetes app names and the drills' pod selectors) ---------------------------
API_APP, RELAY_APP, WORKER_APP, MIGRATE_APP = (
    "orders-api", "orders-relay", "orders-worker", "orders-migrate")
APP_LABEL = "app.kubernetes.io/name"
API_POD_SELECTOR = f"{APP_LABEL}={API_APP}"
RELAY_POD_SELECTOR = f"{APP_LABEL}={RELAY_APP}"

# -- AWS FIS ----------------------------------------------------------------------------------
# Tag key the FIS scenario library's "AZ Availability: Power Interruption" targets select on.
FIS_AZ_POWER_TAG = "AzImpairmentPower"


@dataclass(frozen=True)
class EnvVar:
    name: str
    meaning: str


# The service's environment (all read at start-up; a bad value exits 2 naming the variable).
ENVIRONMENT: tuple[EnvVar, ...] = (
    EnvVar("ORDERS_DATABASE_URL", "required; `postgresql://user[:pw]@host:port/db"
           "[?sslmode=verify-full]` (the app role)"),
    EnvVar("ORDERS_MIGRATION_DATABASE_URL",
           "optional; owner role for `migrate` (defaults to ORDERS_DATABASE_URL)"),
    EnvVar("ORDERS_DATABASE_IAM_AUTH", "`true` to use an RDS IAM auth token as the password "
           "(refreshed)"),
    EnvVar("ORDERS_DATABASE_SSL_ROOT_CERT", "CA bundle path for `verify-full`"),
    EnvVar("ORDERS_AWS_REGION", "region for SQS and IAM auth tokens"),
    EnvVar("ORDERS_REDIS_URL", "optional; `redis://host:port/0`, `rediss://...`, or "
           "`redis+sentinel://h1:p1,h2:p2/mymaster/0`"),
    EnvVar("ORDERS_REDIS_PASSWORD", "optional Redis AUTH token"),
    EnvVar("ORDERS_REDIS_PASSWORD_FILE", "instead of ORDERS_REDIS_PASSWORD: a file holding it"),
    EnvVar("ORDERS_REDIS_TIMEOUT_S", "per-call Redis timeout (default 0.1)"),
    EnvVar("ORDERS_QUEUE_URL", "required for relay/worker; the FIFO queue URL "
           "(`.../orders.fifo`)"),
    EnvVar("ORDERS_SQS_ENDPOINT_URL", "optional; a local SQS endpoint (queue + DLQ created at "
           "start-up when missing)"),
    EnvVar("ORDERS_DLQ_MAX_RECEIVE_COUNT", "redrive after this many receives (default 5)"),
    EnvVar("ORDERS_JWT_SECRET", f"required for serve/token; HS256 secret "
           f"(>= {JWT_SECRET_MIN_BYTES} bytes)"),
    EnvVar("ORDERS_JWT_SECRET_FILE", "instead of ORDERS_JWT_SECRET: a file holding it (a mounted "
           "Secret; setting both is an error)"),
    EnvVar("ORDERS_JWT_ISSUER", f"default `{JWT_ISSUER_DEFAULT}`"),
    EnvVar("ORDERS_JWT_AUDIENCE", f"default `{JWT_AUDIENCE_DEFAULT}`"),
    EnvVar("ORDERS_RATE_LIMIT_PER_SECOND", "per-principal write limit, place and cancel "
           "(Redis; fails open; default 100)"),
    EnvVar("ORDERS_RATE_LIMIT_BURST", "per-principal burst (default 200)"),
    EnvVar("ORDERS_READ_RATE_LIMIT_PER_SECOND", "per-principal read limit: GET order, list, "
           "events (Redis; fails open; default 200)"),
    EnvVar("ORDERS_READ_RATE_LIMIT_BURST", "per-principal read burst (default 400)"),
    EnvVar("ORDERS_HEADER_READ_TIMEOUT_S", "request line and headers must arrive within this "
           "(default 5; else 408 + close)"),
    EnvVar("ORDERS_HTTP_SERVER", "`uvloop-httptools` (default) or `asyncio-h11` (the pure-Python "
           "event loop and HTTP parser, a fallback)"),
    EnvVar("ORDERS_BODY_READ_TIMEOUT_S", "the request body must arrive within this (default 10; "
           "else 408 problem + close)"),
    EnvVar("ORDERS_IDEMPOTENCY_TTL_HOURS", "idempotency key retention, >= 24 (default 24)"),
    EnvVar("ORDERS_DB_POOL_MAX", "database pool size per process (default 20)"),
    EnvVar("ORDERS_PLACEMENT_BATCH_MAX", "placements waiting in one API process that share "
           "one statement and commit, at most (default 16; 1: each alone)"),
    EnvVar("ORDERS_PLACEMENT_BATCHES_IN_FLIGHT", "statements of placements out at once per "
           "API process (default 1); the others wait and leave together"),
    EnvVar("ORDERS_DB_COMMAND_TIMEOUT_S", "per-statement timeout (default 5)"),
    EnvVar("ORDERS_DB_CONNECT_TIMEOUT_S", "connect timeout (default 1)"),
    EnvVar("ORDERS_SHUTDOWN_DRAIN_S", "readiness fails this long before shutdown (default 5)"),
    EnvVar("ORDERS_MAX_BODY_BYTES", "request body limit (default 16384)"),
    EnvVar("ORDERS_GAUGE_INTERVAL_S", "refresh interval of the database gauges (default 5)"),
    EnvVar("ORDERS_AUDIT_SIGNING_KEY_FILE", "audit log checkpoints: Ed25519 private key, PEM "
           "PKCS#8 (locally)"),
    EnvVar("ORDERS_AUDIT_PUBLIC_KEY_FILE", "its public key, PEM SubjectPublicKeyInfo"),
    EnvVar("ORDERS_AUDIT_LOG_ORIGIN", "checkpoint origin line (default "
           "`orders.local/audit-log`)"),
    EnvVar("ORDERS_CHECKPOINT_DIR", "local append-only checkpoint store (outside the "
           "database)"),
    EnvVar("ORDERS_CHECKPOINT_BUCKET", "AWS: the checkpoint bucket (S3 Object Lock)"),
    EnvVar("ORDERS_AUDIT_KMS_KEY_ID", "AWS: the KMS asymmetric signing key"),
    EnvVar("OTEL_EXPORTER_OTLP_ENDPOINT", "enables OTLP trace export"),
)

TABLE_BEGIN, TABLE_END = "<!-- environment:begin -->", "<!-- environment:end -->"


def environment_table() -> str:
    rows = [f"| {v.name} | {v.meaning} |" for v in ENVIRONMENT]
    return "\n".join([TABLE_BEGIN, "| variable | meaning |", "|---|---|", *rows, TABLE_END])


def render_contract(text: str) -> str:
    """`text` (service/CONTRACT.md) with its environment table regenerated."""
    pattern = re.escape(TABLE_BEGIN) + r".*?" + re.escape(TABLE_END)
    if not re.search(pattern, text, flags=re.S):
        raise ValueError(f"no {TABLE_BEGIN} ... {TABLE_END} markers")
    return re.sub(pattern, lambda _: environment_table(), text, count=1, flags=re.S)


def main(argv: list[str] | None = None) -> int:
    """`python -m contract [--check]`: rewrite (or check) service/CONTRACT.md's table."""
    path = Path(__file__).resolve().parent / "service" / "CONTRACT.md"
    text = path.read_text()
    new = render_contract(text)
    if "--check" in (argv if argv is not None else sys.argv[1:]):
        print("stale: service/CONTRACT.md" if new != text else "current")
        return int(new != text)
    path.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The checker's I/O: read the snapshot, run the audit verifier, probe the queue, then the
pure `chaos.drill.checker.check`.

The audit log is verified by the service's own command, `python -m service audit verify`,
run as a subprocess with the stack's service environment: exit 0 valid, 1 invalid (it names
the first broken entry), 2 could not verify; any other exit, a timeout or a failure to
start is unknown too. Unknown is never a pass.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from chaos.drill.checker import INVALID, UNKNOWN, VALID, AuditResult, CheckResult, QueueState, check
from chaos.drill.records import History
from chaos.drill.snapshot import connect_read_only, load_snapshot

AuditVerifier = Callable[[], Awaitable[AuditResult]]
EXIT_OUTCOMES = {0: VALID, 1: INVALID, 2: UNKNOWN}


def audit_cli_verifier(
    env: Mapping[str, str], timeout: float = 300.0, python: str = sys.executable
) -> AuditVerifier:
    """`python -m service audit verify` with `env` (ORDERS_DATABASE_URL, the audit keys...)."""

    async def verify() -> AuditResult:
        try:
            proc = await asyncio.create_subprocess_exec(
                python, "-m", "service", "audit", "verify",
                env={**os.environ, **env},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            return AuditResult(UNKNOWN, f"audit verify could not start: {exc}")
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return AuditResult(UNKNOWN, f"audit verify timed out after {timeout:.0f}s")
        text = out.decode(errors="replace").strip()[-2000:]
        outcome = EXIT_OUTCOMES.get(proc.returncode if proc.returncode is not None else -1,
                                    UNKNOWN)
        return AuditResult(outcome, f"exit {proc.returncode}: {text}")

    return verify


async def run_check(
    database_url: str,
    history: History,
    *,
    accounts: Sequence[str] | None = None,
    audit_verifier: AuditVerifier | None = None,
    queue_probe: Callable[[], QueueState] | None = None,
) -> CheckResult:
    """Snapshot the database (any role that can SELECT), verify, and check."""
    scope = sorted(set(accounts) if accounts is not None else set(history.accounts))
    conn = await connect_read_only(database_url)
    try:
        snap = await load_snapshot(conn, scope, (a.order_id for a in history.acks))
    finally:
        await conn.close()
    audit = await audit_verifier() if audit_verifier is not None else None
    queue = await asyncio.to_thread(queue_probe) if queue_probe is not None else None
    return check(snap, history, audit, queue)


def sqs_queue_probe(
    endpoint_url: str | None, queue_url: str, region: str = "us-east-1"
) -> Callable[[], QueueState]:
    """Queue depth and DLQ depth (the DLQ found through the queue's RedrivePolicy)."""

    def depth(attrs: Mapping[Any, str]) -> tuple[int, int]:
        return (int(attrs.get("ApproximateNumberOfMessages", 0)),
                int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)))

    def probe() -> QueueState:
        import boto3

        sqs = boto3.client(
            "sqs",
            endpoint_url=endpoint_url,
            region_name=os.environ.get("AWS_REGION", region),
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        )
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        dlq: int | None = None
        arn = json.loads(attrs.get("RedrivePolicy") or "{}").get("deadLetterTargetArn", "")
        dlq_name = arn.rsplit(":", 1)[-1]
        if dlq_name:
            dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
            dlq_attrs = sqs.get_queue_attributes(
                QueueUrl=dlq_url,
                AttributeNames=["ApproximateNumberOfMessages",
                                "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            dlq_visible, dlq_in_flight = depth(dlq_attrs)
            dlq = dlq_visible + dlq_in_flight
        visible, in_flight = depth(attrs)
        return QueueState(visible=visible, in_flight=in_flight, dlq=dlq)

    return probe

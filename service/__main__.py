"""Command line: serve | relay | worker | janitor | integrator | migrate | token | audit."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from service.config import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _run_until_signal(main: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    # The background processes (relay, worker, janitor, integrator) run on uvloop, as the
    # API does: each of their database and Redis round trips costs less CPU there.
    import uvloop

    from service.observability import freeze_startup_heap

    freeze_startup_heap()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as loop_runner:
        loop_runner.run(runner())


def cmd_serve(args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.observability import configure_logging, freeze_startup_heap
    from service.server import serve

    settings = _settings()
    configure_logging()
    try:
        app = create_app(settings)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    drain = settings.shutdown_drain_s if args.drain_seconds is None else args.drain_seconds
    freeze_startup_heap()
    serve(app, args.host, args.port, drain, settings.header_read_timeout_s,
          settings.http_server)
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _worker_identity(kind: str) -> str:
    return f"{kind}-{socket.gethostname()}-{os.getpid()}"


def _start_health_server(args: argparse.Namespace, metrics: Any) -> Any:
    """`/health/live` (heartbeat) and `/metrics` on --health-port; the loop beats it."""
    from service.messaging.health import Heartbeat, serve_health

    heartbeat = Heartbeat()
    if args.health_port:
        serve_health(
            args.health_host, args.health_port, metrics.registry, heartbeat, args.stall_seconds
        )
    return heartbeat


def _run_queue_process(
    args: argparse.Namespace,
    build: Callable[..., Any],
) -> int:
    """Shared life cycle of the relay and the worker: settings, logs, health server, the
    queue and pool, then one iteration (--once) or the loop until SIGTERM/SIGINT.
    `build(settings, pool, sqs, queue_url, metrics, heartbeat, stack)` returns the loop
    object; `stack` is an AsyncExitStack for anything else it opens."""
    from service.db import create_pool
    from service.messaging.queue import ensure_queues, sqs_client
    from service.observability import Metrics, configure_logging, freeze_startup_heap

    settings = _settings()
    configure_logging()
    metrics = Metrics()
    heartbeat = _start_health_server(args, metrics)

    async def main(stop: asyncio.Event) -> None:
        sqs = sqs_client(settings)
        queue_url = await asyncio.to_thread(ensure_queues, sqs, settings)
        async with contextlib.AsyncExitStack() as stack:
            # The relay's claims and the worker's fills take transaction-scoped locks only,
            # and the relay LISTENs on a connection of its own: no reset query on release.
            pool = await create_pool(settings, session_state_free=True)
            stack.push_async_callback(pool.close)
            loop = await build(settings, pool, sqs, queue_url, metrics, heartbeat, stack)
            freeze_startup_heap()  # again: the SQS client's service model is loaded now
            if args.once:
                await loop.run_once()
            else:
                await loop.run(stop)

    _run_until_signal(main)
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    from service.messaging.relay import Relay

    async def build(settings: Settings, pool: Any, sqs: Any, queue_url: str, metrics: Any,
                    heartbeat: Any, stack: contextlib.AsyncExitStack) -> Relay:
        from service.db import connect

        return Relay(
            pool, sqs, queue_url, _worker_identity("relay"), metrics,
            batch_size=args.batch_size, lease_s=args.lease_seconds, heartbeat=heartbeat,
            listen=None if args.no_listen else (lambda: connect(settings)),
            poll_s=args.poll_seconds, linger_s=args.linger_seconds,
            events_per_message=args.events_per_message,
        )

    return _run_queue_process(args, build)


def cmd_worker(args: argparse.Namespace) -> int:
    from service.messaging.worker import Worker

    async def build(settings: Settings, pool: Any, sqs: Any, queue_url: str, metrics: Any,
                    heartbeat: Any, stack: contextlib.AsyncExitStack) -> Worker:
        return Worker(
            pool, sqs, queue_url, _worker_identity("venue"), metrics, heartbeat=heartbeat,
            receives=args.receives, linger_s=args.linger_seconds,
        )

    return _run_queue_process(args, build)


def cmd_janitor(args: argparse.Namespace) -> int:
    from service.db import create_pool
    from service.janitor import IdempotencyKeyJanitor
    from service.observability import Metrics, configure_logging

    settings = _settings()
    configure_logging()
    metrics = Metrics()
    heartbeat = _start_health_server(args, metrics)

    async def main(stop: asyncio.Event) -> None:
        pool = await create_pool(settings)
        try:
            janitor = IdempotencyKeyJanitor(
                pool, metrics, interval_s=args.interval_seconds, heartbeat=heartbeat
            )
            await (janitor.run_once() if args.once else janitor.run(stop))
        finally:
            await pool.close()

    _run_until_signal(main)
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    from service.db import connect
    from service.migrate import apply_migrations

    settings = _settings()

    async def main() -> list[str]:
        conn = await connect(settings, settings.migration_database_url)
        try:
            return await apply_migrations(conn)
        finally:
            await conn.close()

    applied = asyncio.run(main())
    print(f"applied: {', '.join(applied)}" if applied else "schema up to date")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    import contract
    from service.auth import issue_token

    secret = os.environ.get("ORDERS_JWT_SECRET", "")
    if len(secret.encode()) < contract.JWT_SECRET_MIN_BYTES:
        print("configuration error: ORDERS_JWT_SECRET must be set "
              f"(>= {contract.JWT_SECRET_MIN_BYTES} bytes)", file=sys.stderr)
        return 2
    print(
        issue_token(
            secret=secret,
            issuer=os.environ.get("ORDERS_JWT_ISSUER") or contract.JWT_ISSUER_DEFAULT,
            audience=os.environ.get("ORDERS_JWT_AUDIENCE") or contract.JWT_AUDIENCE_DEFAULT,
            subject=args.subject,
            accounts=args.account,
            ttl_seconds=args.ttl_seconds,
        )
    )
    return 0


def cmd_integrator(args: argparse.Namespace) -> int:
    from service.audit.checkpoints import AuditConfig
    from service.audit.integrator import Integrator
    from service.db import connect
    from service.observability import Metrics, configure_logging

    settings = _settings()
    configure_logging()
    config = AuditConfig.from_env()
    try:
        config.signer()
        config.store()
    except Exception as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    metrics = Metrics()
    heartbeat = _start_health_server(args, metrics)
    integrator = Integrator(
        lambda: connect(settings), config, metrics, heartbeat,
        batch_size=args.batch_size, poll_s=args.poll_seconds,
        refresh_s=args.checkpoint_refresh_seconds,
    )
    _run_until_signal(integrator.run)
    return 0


def cmd_audit_verify(_: argparse.Namespace) -> int:
    from service.audit.checkpoints import AuditConfig
    from service.audit.cli import verify_command

    return verify_command(_settings(), AuditConfig.from_env())


def cmd_audit_prove(args: argparse.Namespace) -> int:
    from service.audit.checkpoints import AuditConfig
    from service.audit.cli import prove_command

    return prove_command(_settings(), AuditConfig.from_env(), args.order_id)


def cmd_audit_keygen(args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.audit.cli import keygen_command

    return keygen_command(Path(args.private_key), Path(args.public_key))


def _add_health_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--health-port", type=int, default=None, help="serve /health/live and /metrics on this port"
    )
    parser.add_argument(
        "--health-host", default="127.0.0.1", help="address for --health-port (0.0.0.0 in a pod)"
    )
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=60.0,
        help="/health/live fails when the loop has not turned for this long",
    )


def _add_relay_parser(commands: Any) -> None:
    relay = commands.add_parser("relay", help="publish the outbox to SQS FIFO")
    relay.add_argument("--once", action="store_true", help="publish one batch and exit")
    relay.add_argument("--batch-size", type=int, default=100)
    relay.add_argument("--lease-seconds", type=float, default=30.0)
    relay.add_argument(
        "--poll-seconds", type=float, default=0.2,
        help="fallback poll when no notification arrives (0.1 with --no-listen)",
    )
    relay.add_argument(
        "--linger-seconds", type=float, default=0.05,
        help="after a notification, or a claim short of --batch-size, wait so rows gather "
        "(longer: bigger packs, fewer SQS calls, later fills)",
    )
    relay.add_argument(
        "--events-per-message", type=int, default=10, choices=range(1, 11), metavar="1..10",
        help="an account's events in one queue message (a pack); 1 = no packs, for a worker "
        "older than packs (runbooks/queue-backlog.md)",
    )
    relay.add_argument("--no-listen", action="store_true",
                       help="poll only, no LISTEN/NOTIFY (e.g. behind a transaction pooler)")
    _add_health_arguments(relay)
    relay.set_defaults(func=cmd_relay)


def _add_worker_parser(commands: Any) -> None:
    worker = commands.add_parser("worker", help="consume the queue (simulated venue)")
    worker.add_argument("--once", action="store_true", help="handle one receive and exit")
    worker.add_argument(
        "--receives", type=_positive_int, default=2,
        help="receives in flight at once (each up to 10 messages); default 2",
    )
    worker.add_argument(
        "--linger-seconds", type=float, default=0.02,
        help="after a receive of fewer than 10 messages, wait this long so the next gathers more",
    )
    _add_health_arguments(worker)
    worker.set_defaults(func=cmd_worker)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument(
        "--drain-seconds",
        type=float,
        default=None,
        help="readiness-false period before shutdown (ORDERS_SHUTDOWN_DRAIN_S)",
    )
    serve.set_defaults(func=cmd_serve)

    _add_relay_parser(commands)
    _add_worker_parser(commands)

    janitor = commands.add_parser("janitor", help="purge expired idempotency keys, periodically")
    janitor.add_argument("--once", action="store_true", help="purge once and exit")
    janitor.add_argument("--interval-seconds", type=float, default=60.0)
    _add_health_arguments(janitor)
    janitor.set_defaults(func=cmd_janitor)

    integrator = commands.add_parser(
        "integrator", help="integrate audit events into the Merkle tree; sign checkpoints"
    )
    integrator.add_argument("--batch-size", type=int, default=5000)
    integrator.add_argument(
        "--poll-seconds", type=float, default=0.1, help="pause when a batch was not full"
    )
    integrator.add_argument(
        "--checkpoint-refresh-seconds", type=float, default=60.0,
        help="issue a fresh checkpoint this often even when the tree did not grow",
    )
    _add_health_arguments(integrator)
    integrator.set_defaults(func=cmd_integrator)

    migrate = commands.add_parser("migrate", help="apply SQL migrations")
    migrate.set_defaults(func=cmd_migrate)

    token = commands.add_parser("token", help="print a local development JWT")
    token.add_argument(
        "--account",
        action="append",
        required=True,
        help="an account the token may use (repeatable)",
    )
    token.add_argument("--subject", default="dev-user")
    token.add_argument("--ttl-seconds", type=int, default=3600)
    token.set_defaults(func=cmd_token)

    audit = commands.add_parser("audit", help="audit log tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="recompute the tree and check it against the signed checkpoints"
        " (exit 0 intact, 1 tampering found, 2 could not verify)",
    )
    verify.set_defaults(func=cmd_audit_verify)
    prove = audit_commands.add_parser(
        "prove", help="write an order's proof bundle (JSON) for auditor/verify_bundle.py"
    )
    prove.add_argument("order_id")
    prove.set_defaults(func=cmd_audit_prove)
    keygen = audit_commands.add_parser("keygen", help="create an Ed25519 checkpoint key pair")
    keygen.add_argument("--private-key", required=True, help="PEM PKCS#8 path (mode 0600)")
    keygen.add_argument("--public-key", required=True, help="PEM SubjectPublicKeyInfo path")
    keygen.set_defaults(func=cmd_audit_keygen)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

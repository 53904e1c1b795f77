"""`make run`: a local PostgreSQL, Redis and SQS endpoint, migrations, then the API, one relay,
one worker and the audit integrator. Ctrl-C stops everything this started, in reverse order."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from localenv.postgres import PostgresServer
from localenv.procs import ManagedProcess, free_port, http_ok
from localenv.redis import RedisServer

ROOT = Path(__file__).resolve().parents[1]


def jwt_secret(path: Path) -> str:
    """One random secret per dev state directory, readable only by its owner."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def audit_log_env(base: Path) -> dict[str, str]:
    """The checkpoint signing key (created once, 0600) and the append-only checkpoint
    directory, both outside the database's data directory."""
    from service.audit.checkpoints import generate_key_files

    audit = base / "audit"
    audit.mkdir(exist_ok=True)
    private, public = audit / "checkpoint-signing.pem", audit / "checkpoint-signing.pub.pem"
    if not private.exists():
        generate_key_files(private, public)
    return {
        "ORDERS_AUDIT_SIGNING_KEY_FILE": str(private),
        "ORDERS_AUDIT_PUBLIC_KEY_FILE": str(public),
        "ORDERS_CHECKPOINT_DIR": str(audit / "checkpoints"),
    }


def write_env_file(path: Path, env: dict[str, str]) -> None:
    lines = [f"{key}={value}" for key, value in sorted(env.items()) if key != "ORDERS_JWT_SECRET"]
    lines.append(f"ORDERS_JWT_SECRET=$(cat {path.parent / 'jwt-secret'})")
    header = f"# source with: set -a; . {path}; set +a\n"
    path.write_text(header + "\n".join(lines) + "\n")


def step(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def start_servers(base: Path, started: list[object]) -> dict[str, str]:
    """PostgreSQL, Redis and the SQS endpoint; the service's environment for them."""
    from localenv.sqs import LOCAL_AWS_ENV, LOCAL_REGION, SqsEndpoint

    step("starting PostgreSQL (as the postgres user)")
    pg = PostgresServer(base / "pg", free_port(), durable=True).start()
    started.append(pg)
    step("starting Redis")
    redis = RedisServer(base / "redis", free_port()).start()
    started.append(redis)
    step("starting the local SQS endpoint")
    sqs = SqsEndpoint(free_port(), base / "sqs").start()
    started.append(sqs)
    return {
        **os.environ,
        **LOCAL_AWS_ENV,
        "ORDERS_DATABASE_URL": pg.urls.app,
        "ORDERS_MIGRATION_DATABASE_URL": pg.urls.owner,
        "ORDERS_REDIS_URL": redis.url,
        "ORDERS_QUEUE_URL": f"{sqs.endpoint_url}/queue/{LOCAL_REGION}/000000000000/orders.fifo",
        "ORDERS_SQS_ENDPOINT_URL": sqs.endpoint_url,
        "ORDERS_AWS_REGION": LOCAL_REGION,
        "ORDERS_JWT_SECRET": jwt_secret(base / "jwt-secret"),
        "ORDERS_SHUTDOWN_DRAIN_S": "0",
        **audit_log_env(base),
    }


def migrate(env: dict[str, str]) -> None:
    step("applying migrations")
    migrated = subprocess.run(
        [sys.executable, "-m", "service", "migrate"], env=env, cwd=ROOT,
        capture_output=True, text=True, check=False,
    )
    if migrated.returncode != 0:
        raise RuntimeError(f"migrations failed: {migrated.stderr.strip()}")
    step(migrated.stdout.strip())


def service_processes(env: dict[str, str], port: int, logs: Path) -> list[ManagedProcess]:
    return [
        ManagedProcess("api", [sys.executable, "-m", "service", "serve", "--port",
                               str(port)], logs / "api.log", env=env, cwd=ROOT),
        ManagedProcess("relay", [sys.executable, "-m", "service", "relay"],
                       logs / "relay.log", env=env, cwd=ROOT),
        ManagedProcess("worker", [sys.executable, "-m", "service", "worker"],
                       logs / "worker.log", env=env, cwd=ROOT),
        ManagedProcess("janitor", [sys.executable, "-m", "service", "janitor"],
                       logs / "janitor.log", env=env, cwd=ROOT),
        ManagedProcess("integrator", [sys.executable, "-m", "service", "integrator"],
                       logs / "integrator.log", env=env, cwd=ROOT),
    ]


def watch(processes: list[ManagedProcess], keep_running: Callable[[], bool]) -> None:
    """Until asked to stop: any process that exits ends the session with its log tail."""
    while keep_running():
        for process in processes:
            if not process.is_running():
                raise RuntimeError(f"{process.name} exited; see {process.log_path}:\n"
                                   f"{process.log_tail()}")
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localenv.devrun", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--state-dir", type=Path, default=ROOT / "var" / "dev")
    parser.add_argument("--exit-after-start", action="store_true",
                        help="start everything, check it, stop (used by tests)")
    args = parser.parse_args(argv)

    base: Path = args.state_dir.resolve()
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    logs = base / "logs"
    started: list[object] = []
    stop_requested = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        env = start_servers(base, started)
        write_env_file(
            base / "env", {k: v for k, v in env.items() if k.startswith(("ORDERS_", "AWS_"))}
        )
        migrate(env)
        processes = service_processes(env, args.port, logs)
        for process in processes:
            process.start()
            started.append(process)
        api_url = f"http://127.0.0.1:{args.port}"
        processes[0].wait_healthy(lambda: http_ok(f"{api_url}/health/ready"), timeout=30)
        step(f"API ready on {api_url} (OpenAPI at {api_url}/schema); logs in {logs}")
        step(f"environment for CLI commands: set -a; . {base / 'env'}; set +a")
        step("a dev token: make token ACCOUNT=ACC-1    — Ctrl-C stops everything")
        watch(processes, lambda: not stop_requested and not args.exit_after_start)
        return 0
    except Exception as error:
        print(f"[make run] ERROR: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        if started:
            step("stopping")
        for item in reversed(started):
            item.stop()  # type: ignore[attr-defined]
        step("stopped")


if __name__ == "__main__":
    sys.exit(main())

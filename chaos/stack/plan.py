"""The plan: which components run, with their ports, addresses, paths, argv and config
files, from the options `up` was given. Each kind's driver plans its own components."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from chaos.stack.drivers import PLAN_ORDER, driver_for_kind
from chaos.stack.drivers.base import PlanContext, PlanOptions
from chaos.stack.drivers.service import write_jwt_secret
from chaos.stack.errors import StackError
from chaos.stack.network import Network
from chaos.stack.state import StackState

# Names of everything `up` creates in the state dir, so a new `up` can clear exactly that.
STATE_ENTRIES = (
    "etcd", "pg-a", "pg-b", "pg-c", "haproxy", "redis-a", "redis-b", "sentinel-a",
    "sentinel-b", "sentinel-c", "sqs", "app", "post_bootstrap.sh", "jwt_secret", "state.json",
    "audit", "prometheus", "alertmanager", "api-a", "api-b", "api-c", "relay-a", "relay-b",
    "worker-c", "integrator-a", "integrator-b", "pgbackrest",
)
MAX_STATE_DIR_CHARS = 70


def prepare_state_dir(state_dir: Path) -> None:
    # Unix socket paths are limited to 107 bytes: PostgreSQL's <dir>/pg-a/run/.s.PGSQL.NNNNN
    # and HAProxy's stats socket (plus a temporary suffix) live under the state dir.
    if len(str(state_dir)) > MAX_STATE_DIR_CHARS:
        raise StackError(
            f"state dir path too long for Unix sockets ({len(str(state_dir))} > "
            f"{MAX_STATE_DIR_CHARS} chars): {state_dir}"
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    for name in STATE_ENTRIES:
        path = state_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    # Patroni and PostgreSQL run as the postgres user: they must traverse the state dir.
    state_dir.chmod(0o755)
    if os.geteuid() == 0:
        for ancestor in state_dir.parents:
            if not ancestor.stat().st_mode & 0o001:
                raise StackError(
                    f"{ancestor} is not traversable by the postgres user; choose another "
                    f"--state-dir or run: chmod o+x {ancestor}"
                )


def skipped_for(options: PlanOptions) -> list[str]:
    """What the options leave out, said once at start-up and kept in the state file."""
    skipped = []
    if not options.sqs:
        skipped.append("sqs: disabled (--no-sqs)")
        if options.app:
            skipped.append("relay-a, relay-b, worker-c: need the SQS endpoint")
    return skipped


def build(state_dir: Path, options: PlanOptions, network: Network) -> StackState:
    """Every component, in PLAN_ORDER; config files written here."""
    ctx = PlanContext(state_dir=state_dir, options=options, network=network)
    kinds = [k for k in PLAN_ORDER if k != "sqs" or options.sqs]
    for kind in kinds:
        driver_for_kind(kind).plan(ctx)
    for kind in kinds:
        driver_for_kind(kind).finish_plan(ctx)
    ctx.endpoints["jwt_secret_path"] = str(write_jwt_secret(state_dir))
    ctx.endpoints.setdefault("sqs_endpoint_url", None)
    ctx.endpoints.setdefault("queue_url", None)
    ctx.endpoints["network"] = network.mode
    return StackState(
        state_dir=str(state_dir),
        created_at=time.time(),
        mode="full" if options.app else "data-only",
        skipped=skipped_for(options),
        endpoints=ctx.endpoints,
        components=ctx.components,
        options={"app": options.app, "sqs": options.sqs, "integrator": options.integrator,
                 "monitoring": options.monitoring, "network": network.mode,
                 "backup": options.backup},
        network=network.to_json(),
    )

"""What the service's processes (api, relay, worker, integrator) share: `python -m service
<command>` with the stack's ORDERS_* environment, one per zone listed by the kind."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from chaos.stack import probes
from chaos.stack.drivers.base import Driver, PlanContext
from chaos.stack.drivers.sqs import LOCAL_REGION
from chaos.stack.state import Component

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

AUDIT_LOG_ORIGIN = "orders.local/audit-log"


def app_env(stack: Stack) -> dict[str, str]:
    """ORDERS_* environment for a service process (CLI, token minting, drill checker)."""
    ep = stack.endpoints
    env = {
        "ORDERS_DATABASE_URL": ep["database_url_app"],
        "ORDERS_MIGRATION_DATABASE_URL": ep["database_url_owner"],
        "ORDERS_REDIS_URL": ep["redis_url"],
        "ORDERS_AWS_REGION": LOCAL_REGION,
        "ORDERS_JWT_SECRET": Path(ep["jwt_secret_path"]).read_text().strip(),
        "PYTHONUNBUFFERED": "1",
    }
    if ep.get("sqs_endpoint_url"):
        from localenv.sqs import LOCAL_AWS_ENV

        env |= LOCAL_AWS_ENV
        env["ORDERS_SQS_ENDPOINT_URL"] = ep["sqs_endpoint_url"]
        env["ORDERS_QUEUE_URL"] = ep["queue_url"]
    if ep.get("audit_signing_key_path"):
        env |= {
            "ORDERS_AUDIT_SIGNING_KEY_FILE": ep["audit_signing_key_path"],
            "ORDERS_AUDIT_PUBLIC_KEY_FILE": ep["audit_public_key_path"],
            "ORDERS_AUDIT_LOG_ORIGIN": AUDIT_LOG_ORIGIN,
            "ORDERS_CHECKPOINT_DIR": ep["audit_checkpoint_dir"],
        }
    return env


def write_jwt_secret(state_dir: Path) -> Path:
    path = state_dir / "jwt_secret"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return path


class ServiceDriver(Driver):
    command: ClassVar[str] = ""
    zones: ClassVar[tuple[str, ...]] = ()
    needs_sqs: ClassVar[bool] = True
    # The readiness path on the process's own port.
    health_path: ClassVar[str] = "/health/live"
    scrape_job: ClassVar[str] = ""

    def wanted(self, ctx: PlanContext) -> bool:
        return ctx.options.app and (ctx.options.sqs or not self.needs_sqs)

    def argv(self, comp: Component) -> list[str]:
        """`python -m service <command>` with its health/metrics port on its address."""
        port = str(comp.ports["http"])
        return [sys.executable, "-m", "service", self.command,
                "--health-port", port, "--health-host", comp.host]

    def plan(self, ctx: PlanContext) -> None:
        if not self.wanted(ctx):
            return
        for zone in self.zones:
            comp = ctx.add(f"{self.kind}-{zone}", self.kind, zone, [], "",
                           {"http": ctx.ports.take()})
            comp.argv = self.argv(comp)
            # The command line up to the port identifies it (the start time pins the PID).
            comp.match = " ".join(comp.argv[2:6])
        (ctx.state_dir / "app").mkdir(exist_ok=True)

    def env(self, stack: Stack, comp: Component) -> dict[str, str]:
        return dict(os.environ) | app_env(stack) | comp.env

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        code = probes.http_status(f"http://{comp.host}:{comp.ports['http']}{self.health_path}")
        return code == 200, f"{self.health_path} {code}"

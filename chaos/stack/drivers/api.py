"""The API replicas (api-a/b/c) behind HAProxy; ready means /health/ready answers 200."""

from __future__ import annotations

import sys

from chaos.stack.drivers.base import PlanContext, register
from chaos.stack.drivers.service import ServiceDriver
from chaos.stack.state import ZONES, Component


class ApiDriver(ServiceDriver):
    kind = "api"
    command = "serve"
    zones = ZONES
    needs_sqs = False
    health_path = "/health/ready"
    scrape_job = "orders-api"

    def argv(self, comp: Component) -> list[str]:
        return [sys.executable, "-m", "service", "serve", "--host", comp.host,
                "--port", str(comp.ports["http"])]

    def plan(self, ctx: PlanContext) -> None:
        super().plan(ctx)
        for comp in ctx.of_kind("api"):
            comp.match = " ".join(comp.argv[2:8])


register(ApiDriver())

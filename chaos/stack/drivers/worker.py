"""The queue worker (worker-c): the simulated venue consuming SQS."""

from __future__ import annotations

from chaos.stack.drivers.base import register
from chaos.stack.drivers.service import ServiceDriver


class WorkerDriver(ServiceDriver):
    kind = "worker"
    command = "worker"
    zones = ("c",)
    scrape_job = "orders-worker"


register(WorkerDriver())

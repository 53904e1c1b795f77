"""One driver per component kind; importing this package registers them all."""

from __future__ import annotations

from chaos.stack.drivers import (  # noqa: F401  (each module registers its driver)
    alertmanager,
    api,
    etcd,
    haproxy,
    integrator,
    patroni,
    prometheus,
    redis,
    relay,
    sentinel,
    sqs,
    worker,
)
from chaos.stack.drivers.base import Driver, driver_for_kind
from chaos.stack.state import Component

# Planning order = the order of the state file's components (and of start-up within a tier).
PLAN_ORDER = (
    "etcd", "patroni", "haproxy", "redis", "sentinel", "sqs", "api", "relay", "worker",
    "integrator", "alertmanager", "prometheus",
)


def driver_for(comp: Component) -> Driver:
    return driver_for_kind(comp.kind)


__all__ = ["PLAN_ORDER", "Driver", "driver_for", "driver_for_kind"]

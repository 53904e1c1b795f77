"""The outbox relays (relay-a, relay-b): publish committed orders to SQS."""

from __future__ import annotations

from chaos.stack.drivers.base import register
from chaos.stack.drivers.service import ServiceDriver


class RelayDriver(ServiceDriver):
    kind = "relay"
    command = "relay"
    zones = ("a", "b")
    scrape_job = "orders-relay"


register(RelayDriver())

"""Names the stack's drivers share (the configuration files themselves are rendered by
each kind's driver in chaos/stack/drivers/, from the measured recipe: fast
Patroni/HAProxy/Sentinel timings)."""

from __future__ import annotations

PATRONI_SCOPE = "orders-pg"
REDIS_MASTER_NAME = "mymaster"
DATABASE = "orders"
OWNER_ROLE = "orders_owner"
APP_ROLE = "orders_app"
REPLICATION_ROLE = "replicator"

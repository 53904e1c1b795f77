"""aws-elasticache-replicationgroup-require-redis-auth

Redis replication groups on an engine before 6.0 (no ACLs) must require Redis AUTH.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.iam import CATEGORY, PCI_LEAST_PRIVILEGE
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


def _major(version: Any) -> float | None:
    if not isinstance(version, str):
        return None
    return P.as_number(version.split(".")[0])


@resource_control(
    name="aws-elasticache-replicationgroup-require-redis-auth",
    description="Redis replication groups before engine 6.0 must require Redis AUTH (authToken).",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "ElastiCache.6",
            "ElastiCache for Redis replication groups before version 6.0 should use Redis AUTH",
        ),
        PCI_LEAST_PRIVILEGE,
    ),
    remediation=(
        "Upgrade to Redis 6.0 or later (user groups / ACLs), or set `auth_token` from a "
        "secret together with `transit_encryption_enabled=True`."
    ),
)
def redis_auth(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    engine, version = r.get("engine"), r.get("engineVersion")
    if P.is_unknown(engine) or P.is_unknown(version):
        rep.skip("engineVersion")
    if engine not in (None, "redis"):
        return
    major = _major(version)
    if major is None or major >= 6:
        return  # unset means the current default engine (7.x), which has ACLs
    token = r.get("authToken")
    if not P.is_unknown(token) and not token:
        rep.violation(f"Redis {version} replication group does not require Redis AUTH (authToken).")

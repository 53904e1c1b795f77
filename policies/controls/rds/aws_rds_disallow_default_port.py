"""aws-rds-disallow-default-port

RDS instances and Aurora clusters must not listen on their engine's well-known port (scans
and automated attacks try those first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import engine_family
from ...checks.exposure import CATEGORY, PCI_NO_DIRECT_ACCESS
from ...framework import LOW, MANDATORY, Reporter, Resource, fsbp, resource_control

# Engine family -> its default port (what AWS uses when `port` is not set).
DEFAULT_PORTS = {
    "postgres": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "sqlserver": 1433,
    "oracle": 1521,
    "db2": 50000,
}


@resource_control(
    name="aws-rds-disallow-default-port",
    description="RDS instances and Aurora clusters must set a port other than the engine's "
    "default.",
    # Aurora cluster instances listen on their cluster's port.
    resource_types=(T.RDS_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("RDS.23", "RDS instances should not use a database engine default port"),
        PCI_NO_DIRECT_ACCESS,
    ),
    remediation="Set `port` to a non-default value and update the clients and security groups.",
)
def default_port(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    engine, port = r.get("engine"), r.get("port")
    if P.is_unknown(engine) or P.is_unknown(port):
        rep.skip("port")
    default = DEFAULT_PORTS.get(engine_family(engine) or "")
    if default is None:
        return
    number = P.as_number(port)
    if number is None or int(number) == default:
        rep.violation(f"The database listens on the {engine} default port {default} (port).")

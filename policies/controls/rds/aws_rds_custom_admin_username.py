"""aws-rds-custom-admin-username

RDS clusters and DB instances must not use the engine's well-known admin user name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.iam import CATEGORY, SOC2_ACCESS
from ...framework import LOW, MANDATORY, Reporter, Resource, fsbp, resource_control

DEFAULT_ADMINS = frozenset({"admin", "postgres", "root", "administrator", "sa", "master"})


@resource_control(
    name="aws-rds-custom-admin-username",
    description="RDS clusters and instances must use a custom administrator user name.",
    resource_types=(T.RDS_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("RDS.24", "RDS Database clusters should use a custom administrator username"),
        fsbp("RDS.25", "RDS database instances should use a custom administrator username"),
        SOC2_ACCESS,
    ),
    remediation="Set `master_username` to a name that is not the engine default.",
)
def admin_name(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    name = r.get("masterUsername")
    if isinstance(name, str) and not P.is_unknown(name) and name.lower() in DEFAULT_ADMINS:
        rep.violation(f"The administrator user is the well-known name {name!r}.")

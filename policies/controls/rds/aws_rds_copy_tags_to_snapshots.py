"""aws-rds-copy-tags-to-snapshots

RDS clusters and DB instances must copy their tags to snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import LOW, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-copy-tags-to-snapshots",
    description="RDS clusters and DB instances must copy their tags to snapshots.",
    resource_types=(T.RDS_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("RDS.16", "RDS DB clusters should be configured to copy tags to snapshots"),
        fsbp("RDS.17", "RDS DB instances should be configured to copy tags to snapshots"),
        SOC2_RECOVERY,
    ),
    remediation="Set `copy_tags_to_snapshot=True`.",
)
def copy_tags(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r, rep, "copyTagsToSnapshot", "Tags are not copied to snapshots (copyTagsToSnapshot)."
    )

"""aws-cloudwatch-loggroup-retention

CloudWatch log groups should keep logs for at least the configured number of days (or
archive them elsewhere for that long).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import number
from ...checks.resilience import CATEGORY
from ...framework import (
    MANDATORY,
    MEDIUM,
    ConfigOption,
    Reporter,
    Resource,
    pci,
    resource_control,
    soc2,
)


@resource_control(
    name="aws-cloudwatch-loggroup-retention",
    description=(
        "CloudWatch log groups should keep logs for at least the configured number of days "
        "(or archive them elsewhere for that long)."
    ),
    resource_types=(T.LOG_GROUP,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        pci(
            "10.5.1",
            "Retain audit log history for at least 12 months, 3 months immediately available",
        ),
        soc2("CC7.2", "System components are monitored for anomalies indicative of malicious acts"),
    ),
    remediation=(
        "Set `retention_in_days` to at least the configured minimum (default 365), or export "
        "the log group (subscription filter or export task to an S3 bucket with Object Lock) "
        "and record that archive as the compensating evidence."
    ),
    config=(
        ConfigOption(
            "minRetentionDays",
            {"type": "integer", "minimum": 1, "maximum": 3653, "default": 365},
            "Minimum log retention, in days (0/unset means never expire).",
        ),
    ),
)
def log_retention(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    days = number(r, rep, "retentionInDays")
    minimum = int(cfg["minRetentionDays"])
    if days is not None and 0 < days < minimum:
        rep.violation(
            f"Log group keeps logs {int(days)} days; the minimum is {minimum} days "
            "(retentionInDays)."
        )

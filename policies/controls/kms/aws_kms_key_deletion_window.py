"""aws-kms-key-deletion-window

KMS keys must keep the longest deletion waiting period, so a key scheduled for deletion by
mistake can still be recovered (everything it encrypts is lost with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import number
from ...checks.encryption import CATEGORY, PCI_KEYS, SOC2_LOGICAL
from ...framework import (
    HIGH,
    MANDATORY,
    ConfigOption,
    Reporter,
    Resource,
    fsbp,
    resource_control,
)


@resource_control(
    name="aws-kms-key-deletion-window",
    description="KMS keys must keep a deletion waiting period of at least the configured "
    "number of days (30 by default, the AWS maximum).",
    resource_types=(T.KMS_KEY, T.KMS_REPLICA_KEY),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("KMS.3", "AWS KMS keys should not be deleted unintentionally"),
        PCI_KEYS,
        SOC2_LOGICAL,
    ),
    remediation=(
        "Leave `deletion_window_in_days` unset (AWS uses 30) or set it to at least the "
        "configured minimum; cancel any scheduled deletion with `aws kms cancel-key-deletion`."
    ),
    config=(
        ConfigOption(
            "minDeletionWindowDays",
            {"type": "integer", "minimum": 7, "maximum": 30, "default": 30},
            "Shortest allowed KMS key deletion waiting period, in days (AWS allows 7 to 30).",
        ),
    ),
)
def deletion_window(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    window = number(r, rep, "deletionWindowInDays")
    minimum = int(cfg["minDeletionWindowDays"])
    if window is not None and window < minimum:
        rep.violation(
            f"KMS key deletion waiting period is {int(window)} days; the minimum is {minimum} "
            "days (deletionWindowInDays)."
        )

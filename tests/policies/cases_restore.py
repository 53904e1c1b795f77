"""Cases of the scheduled restore verification control: the weekly restore drill CronJob of
the primary Aurora cluster deleted, made monthly, or its command unknown."""

from __future__ import annotations

from typing import Any

from .case_model import ExtraCase
from .fixtures import DELETE

_UNVERIFIED = (("orders-primary", "Aurora cluster 'orders-primary' has no restore verification "
                "scheduled at least weekly."),)

RESTORE_CASES = [
    # deleting the weekly restore drill leaves the primary cluster unverified
    ExtraCase("aws-rds-restore-verification-scheduled", "restore-verification", (), DELETE,
              _UNVERIFIED),
    # a monthly schedule is not a weekly one
    ExtraCase("aws-rds-restore-verification-scheduled", "restore-verification",
              ("spec", "schedule"), "0 3 1 * *", _UNVERIFIED),
]

# policy -> (resource, path set to an unknown value, "note" or "accepted")
RESTORE_UNKNOWN_CASES: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "aws-rds-restore-verification-scheduled": (
        "restore-verification",
        ("spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "command"),
        "note",
    ),
}

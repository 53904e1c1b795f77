"""Encryption at rest with customer-managed KMS keys, and key rotation."""

from __future__ import annotations

from ..framework import (
    Reporter,
    Resource,
    fsbp,
    pci,
    soc2,
)
from .common import key_reference_problem

CATEGORY = "Encryption at rest"

PCI_STORED_DATA = pci("3.5.1", "Stored account data is rendered unreadable (strong cryptography)")
PCI_KEYS = pci("3.6.1", "Cryptographic keys used to protect stored data are protected")
SOC2_LOGICAL = soc2("CC6.1", "Logical access security over protected information assets")


def require_customer_managed_key(
    resource: Resource,
    reporter: Reporter,
    prop: str,
    what: str,
    service: str,
    *,
    missing: str | None = None,
) -> None:
    """Report unless ``prop`` names a customer-managed key (not absent, not alias/aws/...).

    ``missing`` replaces the message for an absent key where the context says more."""
    problem = key_reference_problem(resource.get(prop))
    if problem == "missing":
        reporter.violation(
            missing
            or f"{what} is not encrypted with a customer-managed KMS key ({prop} is not set)."
        )
    elif problem == "aws-managed":
        reporter.violation(
            f"{what} uses the AWS-managed key alias/aws/{service}; "
            f"set {prop} to a customer-managed KMS key."
        )


# --- RDS / Aurora --------------------------------------------------------------------------


# --- ElastiCache ---------------------------------------------------------------------------

FSBP_CACHE_AT_REST = fsbp(
    "ElastiCache.4", "ElastiCache replication groups should be encrypted at rest"
)


# --- SQS -----------------------------------------------------------------------------------


# --- EKS secrets ---------------------------------------------------------------------------


# --- Backup --------------------------------------------------------------------------------


# --- EBS / launch templates ----------------------------------------------------------------


# --- CloudWatch Logs -----------------------------------------------------------------------


# --- KMS -----------------------------------------------------------------------------------

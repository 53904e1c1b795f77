"""aws-backup-vault-lock

Every AWS Backup vault must have a vault lock (recovery points cannot be deleted early).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, MIN_RETENTION, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, soc2, stack_control
from ...model import Stack


@stack_control(
    name="aws-backup-vault-lock",
    description=(
        "Every AWS Backup vault must have a vault lock (recovery points cannot be deleted early)."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        soc2("CC6.1", "Logical access security over protected information assets"),
    ),
    scope=(T.BACKUP_VAULT,),
    remediation=(
        "Add an `aws.backup.VaultLockConfiguration` for each vault with `min_retention_days` no "
        "shorter than the plan's retention (and `changeable_for_days` to move it to compliance "
        "mode)."
    ),
    config=(MIN_RETENTION,),
)
def backup_vault_lock(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    locks = stack.of_type(T.BACKUP_VAULT_LOCK)
    minimum = int(cfg["minRetentionDays"])
    for vault in stack.of_type(T.BACKUP_VAULT):
        with rep.guard(vault):
            mine = [
                lock
                for lock in locks
                if vault
                in stack.resolve(
                    lock, "backupVaultName", lock.get("backupVaultName"), T.BACKUP_VAULT
                )
            ]
            if not mine:
                if any(P.is_unknown(lock.get("backupVaultName")) for lock in locks):
                    rep.skip(f"the vault of the vault locks (for '{vault.name}')")
                rep.violation(f"Backup vault '{vault.name}' has no vault lock.", vault)
                continue
            for lock in mine:
                days = P.as_number(lock.get("minRetentionDays"))
                if days is not None and days < minimum:
                    rep.violation(
                        f"Vault lock of '{vault.name}' allows deleting recovery points after "
                        f"{int(days)} days; the minimum is {minimum} days (minRetentionDays).",
                        vault,
                    )

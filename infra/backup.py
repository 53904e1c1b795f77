"""AWS Backup for the Aurora cluster: daily backups copied to the standby region,
continuous backup for point-in-time restore, locked vaults, and a weekly restore test.

Continuous-backup retention equals the cluster's own backup retention because AWS Backup
takes over that setting once it manages the cluster's continuous backups (a different
value would show up as drift on the cluster).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child, service_role
from infra.config import BackupConfig

BACKUP_POLICIES = [
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
]


@dataclass(frozen=True)
class CopyTarget:
    """The standby region's vault: its provider and its backup key."""

    provider: aws.Provider
    kms_key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class BackupArgs:
    prefix: str
    settings: BackupConfig
    continuous_retention_days: int
    kms_key_arn: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    db_subnet_group_name: pulumi.Input[str]
    db_security_group_id: pulumi.Input[str]
    copy_to: CopyTarget | None


class Backup(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: BackupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Backup", name, None, opts)
        s = args.settings
        role = service_role(
            f"{name}-role",
            self,
            "backup.amazonaws.com",
            BACKUP_POLICIES,
            description="AWS Backup: back up, copy and restore-test the orders database",
        )
        vault = self._vault(f"{name}-primary", f"{args.prefix}-primary", args.kms_key_arn, s)

        copy_actions = []
        if args.copy_to is not None:
            standby_vault = self._vault(
                f"{name}-standby",
                f"{args.prefix}-standby",
                args.copy_to.kms_key_arn,
                s,
                provider=args.copy_to.provider,
            )
            copy_actions.append(
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=standby_vault.arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=s.copy_retention_days
                    ),
                )
            )

        plan = aws.backup.Plan(
            f"{name}-plan",
            name=f"{args.prefix}-database",
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name="daily",
                    target_vault_name=vault.name,
                    schedule=s.daily_schedule,
                    start_window=60,
                    completion_window=360,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=s.daily_retention_days),
                    copy_actions=copy_actions,
                ),
                aws.backup.PlanRuleArgs(
                    rule_name="continuous-pitr",
                    target_vault_name=vault.name,
                    enable_continuous_backup=True,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(
                        delete_after=args.continuous_retention_days
                    ),
                ),
            ],
            opts=child(self),
        )
        aws.backup.Selection(
            f"{name}-selection",
            name=f"{args.prefix}-aurora",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=[args.cluster_arn],
            opts=child(self),
        )

        # Restore testing: names allow only letters, digits and underscores.
        test_plan_name = f"{args.prefix}_restore_test".replace("-", "_")
        restore_plan = aws.backup.RestoreTestingPlan(
            f"{name}-restore-test",
            name=test_plan_name,
            schedule_expression=s.restore_test_schedule,
            start_window_hours=24,
            recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                algorithm="LATEST_WITHIN_WINDOW",
                include_vaults=[vault.arn],
                recovery_point_types=["SNAPSHOT"],
                selection_window_days=7,
            ),
            opts=child(self),
        )
        aws.backup.RestoreTestingSelection(
            f"{name}-restore-test-aurora",
            name="aurora",
            restore_testing_plan_name=restore_plan.name,
            protected_resource_type="Aurora",
            protected_resource_arns=[args.cluster_arn],
            iam_role_arn=role.arn,
            # the daily restore-test validation job (infra/restore_testing.py) must see
            # every completed restore test before AWS Backup deletes it
            validation_window_hours=30,
            # restore into the isolated data subnets, not the (absent) default VPC
            restore_metadata_overrides={
                "dbsubnetgroupname": args.db_subnet_group_name,
                "vpcsecuritygroupids": pulumi.Output.from_input(args.db_security_group_id).apply(
                    lambda sg: json.dumps([sg])
                ),
            },
            opts=child(self),
        )
        self.vault_arn = vault.arn
        self.restore_testing_plan_arn = restore_plan.arn
        self.register_outputs({"vaultArn": vault.arn, "planId": plan.id})

    def _vault(
        self,
        name: str,
        vault_name: str,
        kms_key_arn: pulumi.Input[str],
        s: BackupConfig,
        provider: aws.Provider | None = None,
    ) -> aws.backup.Vault:
        opts = child(self, provider=provider) if provider else child(self)
        vault = aws.backup.Vault(
            f"{name}-vault", name=vault_name, kms_key_arn=kms_key_arn, opts=opts
        )
        # After `changeable_for_days` the lock becomes immutable (compliance mode): not
        # even the account root can delete recovery points early.
        aws.backup.VaultLockConfiguration(
            f"{name}-vault-lock",
            backup_vault_name=vault.name,
            min_retention_days=s.vault_lock_min_retention_days,
            max_retention_days=s.vault_lock_max_retention_days,
            changeable_for_days=s.vault_lock_changeable_days,
            opts=opts,
        )
        return vault

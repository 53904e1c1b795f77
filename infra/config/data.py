"""The data tier: Aurora, Redis, the SQS queue, and backups, each with its checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

import contract
from infra.config.reader import Section
from infra.config.versions import AURORA_ENGINE_VERSION, AURORA_PARAMETER_FAMILY

MIN_BACKUP_RETENTION_DAYS = 14  # point-in-time restore window the business asked for


@dataclass(frozen=True)
class DatabaseConfig:
    engine_version: str
    parameter_group_family: str
    database_name: str
    master_username: str
    app_username: str
    backup_retention_days: int
    backup_window: str
    maintenance_window: str
    performance_insights_retention_days: int
    monitoring_interval_seconds: int


@dataclass(frozen=True)
class CacheConfig:
    engine_version: str
    parameter_group_family: str
    snapshot_retention_days: int
    snapshot_window: str
    maintenance_window: str


@dataclass(frozen=True)
class QueueConfig:
    visibility_timeout_seconds: int
    message_retention_seconds: int
    max_receive_count: int


@dataclass(frozen=True)
class BackupConfig:
    daily_schedule: str
    daily_retention_days: int
    copy_retention_days: int
    vault_lock_min_retention_days: int
    vault_lock_max_retention_days: int
    vault_lock_changeable_days: int
    restore_test_schedule: str


def read_database(s: Section) -> DatabaseConfig:
    config = DatabaseConfig(
        engine_version=s.text("engineVersion", AURORA_ENGINE_VERSION),
        parameter_group_family=s.text("parameterGroupFamily", AURORA_PARAMETER_FAMILY),
        database_name=s.text("databaseName", contract.DATABASE_NAME),
        master_username=s.text("masterUsername", "orders_admin"),
        app_username=s.text("appUsername", contract.APP_ROLE),
        backup_retention_days=s.integer(
            "backupRetentionDays", 14, lo=MIN_BACKUP_RETENTION_DAYS, hi=35
        ),
        backup_window=s.text("backupWindow", "02:00-03:00"),
        maintenance_window=s.text("maintenanceWindow", "sun:04:00-sun:05:00"),
        performance_insights_retention_days=s.integer("performanceInsightsRetentionDays", 7, lo=7),
        monitoring_interval_seconds=s.integer("monitoringIntervalSeconds", 60, lo=1, hi=60),
    )
    s.reject_unknown()
    if not config.parameter_group_family.startswith("aurora-postgresql"):
        s.problems.append(f"{s.path}.parameterGroupFamily must be an aurora-postgresql family")
    if not re.fullmatch(r"\d+\.\d+", config.engine_version):
        s.problems.append(f"{s.path}.engineVersion must be a major.minor version like 17.7")
    if config.parameter_group_family != f"aurora-postgresql{config.engine_version.split('.')[0]}":
        s.problems.append(f"{s.path}.engineVersion does not match parameterGroupFamily")
    return config


def read_cache(s: Section) -> CacheConfig:
    config = CacheConfig(
        engine_version=s.text("engineVersion", "7.1"),
        parameter_group_family=s.text("parameterGroupFamily", "redis7"),
        snapshot_retention_days=s.integer("snapshotRetentionDays", 7, lo=1, hi=35),
        snapshot_window=s.text("snapshotWindow", "03:00-04:00"),
        maintenance_window=s.text("maintenanceWindow", "sun:05:00-sun:06:00"),
    )
    s.reject_unknown()
    return config


def read_queue(s: Section) -> QueueConfig:
    config = QueueConfig(
        visibility_timeout_seconds=s.integer("visibilityTimeoutSeconds", 60, lo=0, hi=43200),
        message_retention_seconds=s.integer("messageRetentionSeconds", 345600, lo=60, hi=1209600),
        max_receive_count=s.integer("maxReceiveCount", 5, lo=1, hi=1000),
    )
    s.reject_unknown()
    return config


def read_backup(s: Section, database: DatabaseConfig) -> BackupConfig:
    config = BackupConfig(
        daily_schedule=s.text("dailySchedule", "cron(0 3 * * ? *)"),
        daily_retention_days=s.integer("dailyRetentionDays", 35, lo=MIN_BACKUP_RETENTION_DAYS),
        copy_retention_days=s.integer("copyRetentionDays", 35, lo=MIN_BACKUP_RETENTION_DAYS),
        vault_lock_min_retention_days=s.integer("vaultLockMinRetentionDays", 14, lo=1),
        vault_lock_max_retention_days=s.integer("vaultLockMaxRetentionDays", 400, lo=1),
        vault_lock_changeable_days=s.integer("vaultLockChangeableDays", 3, lo=3),
        restore_test_schedule=s.text("restoreTestSchedule", "cron(0 5 ? * MON *)"),
    )
    s.reject_unknown()
    lo, hi = config.vault_lock_min_retention_days, config.vault_lock_max_retention_days
    for key in ("daily_retention_days", "copy_retention_days"):
        if not lo <= getattr(config, key) <= hi:
            s.problems.append(f"{s.path}.{key} must lie within the vault lock range {lo}..{hi}")
    if not lo <= database.backup_retention_days <= hi:
        s.problems.append(
            "database.backupRetentionDays (the continuous-backup window) must lie within "
            f"the vault lock range {lo}..{hi}"
        )
    return config

"""The whole stack's configuration, and `load_config`, which reads and checks all of it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.config.cluster import AddonsConfig, ClusterConfig, read_addons, read_cluster
from infra.config.data import (
    BackupConfig,
    CacheConfig,
    DatabaseConfig,
    QueueConfig,
    read_backup,
    read_cache,
    read_database,
    read_queue,
)
from infra.config.monitoring import SloConfig, read_slo
from infra.config.network import DnsConfig, NetworkConfig, read_dns, read_network
from infra.config.reader import ConfigError, Section, scalar
from infra.config.regions import (
    PRIMARY_DEFAULTS,
    STANDBY_DEFAULTS,
    RegionConfig,
    read_region,
    region_problems,
)
from infra.config.security import IamConfig, KeysConfig, read_iam, read_keys, secret_problems
from infra.config.workload import WorkloadConfig, read_workload

NAMESPACE = "orders"


@dataclass(frozen=True)
class StackConfig:
    project: str
    environment: str
    standby_enabled: bool
    primary: RegionConfig
    standby: RegionConfig
    network: NetworkConfig
    database: DatabaseConfig
    cache: CacheConfig
    queue: QueueConfig
    cluster: ClusterConfig
    addons: AddonsConfig
    workload: WorkloadConfig
    backup: BackupConfig
    dns: DnsConfig
    slo: SloConfig
    keys: KeysConfig
    iam: IamConfig

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"

    @property
    def regions(self) -> tuple[RegionConfig, ...]:
        return (self.primary, self.standby) if self.standby_enabled else (self.primary,)

    @property
    def tags(self) -> dict[str, str]:
        return {
            "Project": self.project,
            "Environment": self.environment,
            "Service": "investment-orders",
            "ManagedBy": "pulumi",
        }


def load_config(
    get: Callable[[str], str | None],
    project: str = NAMESPACE,
    is_secret: Callable[[str], bool] = lambda _key: True,
) -> StackConfig:
    """Build the StackConfig from raw `namespace:key` values; raise ConfigError if invalid.

    `get` is `pulumi.runtime.get_config` in a deployment, or a dict's `.get` in tests;
    `is_secret` tells whether a value was set with `pulumi config set --secret`.
    """
    problems = secret_problems(get, project, is_secret)

    def obj(key: str) -> dict[str, Any]:
        value = scalar(get(f"{project}:{key}"))
        if value is None:
            return {}
        if not isinstance(value, dict):
            problems.append(f"{project}:{key} must be an object, got {value!r}")
            return {}
        return value

    def setting(key: str, default: Any) -> Any:
        value = scalar(get(f"{project}:{key}"))
        return default if value is None else value

    top = Section(
        {
            "environment": setting("environment", "prod"),
            "standbyEnabled": setting("standbyEnabled", True),
        },
        project,
        problems,
    )
    environment = top.text("environment", "prod")
    if not re.fullmatch(r"[a-z][a-z0-9]{1,9}", environment):
        problems.append(f"{project}:environment must be 2-10 lowercase letters/digits")
    standby_enabled = top.flag("standbyEnabled", True)

    primary = read_region(
        obj("primary"), "primary", PRIMARY_DEFAULTS, f"{project}:primary", problems
    )
    standby = read_region(
        obj("standby"), "standby", STANDBY_DEFAULTS, f"{project}:standby", problems
    )

    problems += region_problems(get("aws:region"), project, primary, standby, standby_enabled)

    network = read_network(Section(obj("network"), f"{project}:network", problems))
    database = read_database(Section(obj("database"), f"{project}:database", problems))
    cache = read_cache(Section(obj("cache"), f"{project}:cache", problems))
    queue = read_queue(Section(obj("queue"), f"{project}:queue", problems))
    cluster = read_cluster(Section(obj("cluster"), f"{project}:cluster", problems))
    addons = read_addons(Section(obj("addons"), f"{project}:addons", problems))
    workload = read_workload(Section(obj("workload"), f"{project}:workload", problems))
    backup = read_backup(Section(obj("backup"), f"{project}:backup", problems), database)
    dns = read_dns(Section(obj("dns"), f"{project}:dns", problems))
    slo = read_slo(Section(obj("slo"), f"{project}:slo", problems))
    keys = read_keys(Section(obj("keys"), f"{project}:keys", problems))
    iam = read_iam(Section(obj("iam"), f"{project}:iam", problems))

    if problems:
        raise ConfigError(problems)
    return StackConfig(
        project=project,
        environment=environment,
        standby_enabled=standby_enabled,
        primary=primary,
        standby=standby,
        network=network,
        database=database,
        cache=cache,
        queue=queue,
        cluster=cluster,
        addons=addons,
        workload=workload,
        backup=backup,
        dns=dns,
        slo=slo,
        keys=keys,
        iam=iam,
    )

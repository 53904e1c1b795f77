"""Typed, validated stack configuration.

`load_config` reads every tunable (all of them are in Pulumi.prod.yaml; each has a safe
default here), checks it, and raises `ConfigError` listing every problem at once. The
program calls it before it registers any resource, so a bad value never half-deploys.

One module per concern, each holding its settings' dataclass, defaults and checks:
`regions` (primary and standby), `network` (VPC and DNS), `data` (database, cache, queue,
backup), `cluster` (EKS and charts), `workload` (the service's pods), `monitoring` (SLOs),
`security` (key administrators, IAM, secret settings); `versions` holds the pins,
`reader` the typed reader, `stack` the whole `StackConfig` and `load_config`.
"""

from infra.config.cluster import AddonsConfig, ClusterConfig
from infra.config.data import (
    MIN_BACKUP_RETENTION_DAYS,
    BackupConfig,
    CacheConfig,
    DatabaseConfig,
    QueueConfig,
)
from infra.config.monitoring import SloConfig
from infra.config.network import DEFAULT_INTERFACE_ENDPOINTS, DnsConfig, NetworkConfig, subnet_plan
from infra.config.reader import CLOUDWATCH_RETENTION_DAYS, ConfigError
from infra.config.regions import (
    PRIMARY_DEFAULTS,
    REQUIRED_AZ_COUNT,
    STANDBY_DEFAULTS,
    NodeGroupConfig,
    RegionConfig,
)
from infra.config.security import MIN_JWT_SECRET_BYTES, SECRET_SETTINGS, IamConfig, KeysConfig
from infra.config.stack import NAMESPACE, StackConfig, load_config
from infra.config.versions import (
    AURORA_ENGINE_VERSION,
    AURORA_PARAMETER_FAMILY,
    CHART_VERSIONS,
    CLUSTER_AUTOSCALER_IMAGES,
    KUBERNETES_VERSION,
    MIN_PRE_STOP_SLEEP_K8S,
)
from infra.config.workload import WorkloadConfig

__all__ = [
    "AURORA_ENGINE_VERSION",
    "AURORA_PARAMETER_FAMILY",
    "CHART_VERSIONS",
    "CLOUDWATCH_RETENTION_DAYS",
    "CLUSTER_AUTOSCALER_IMAGES",
    "DEFAULT_INTERFACE_ENDPOINTS",
    "KUBERNETES_VERSION",
    "MIN_BACKUP_RETENTION_DAYS",
    "MIN_JWT_SECRET_BYTES",
    "MIN_PRE_STOP_SLEEP_K8S",
    "NAMESPACE",
    "PRIMARY_DEFAULTS",
    "REQUIRED_AZ_COUNT",
    "SECRET_SETTINGS",
    "STANDBY_DEFAULTS",
    "AddonsConfig",
    "BackupConfig",
    "CacheConfig",
    "ClusterConfig",
    "ConfigError",
    "DatabaseConfig",
    "DnsConfig",
    "IamConfig",
    "KeysConfig",
    "NetworkConfig",
    "NodeGroupConfig",
    "QueueConfig",
    "RegionConfig",
    "SloConfig",
    "StackConfig",
    "WorkloadConfig",
    "load_config",
    "subnet_plan",
]

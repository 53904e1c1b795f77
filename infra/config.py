"""Typed, validated stack configuration.

`load_config` reads every tunable (all of them are in Pulumi.prod.yaml; each has a safe
default here), checks it, and raises `ConfigError` listing every problem at once. The
program calls it before it registers any resource, so a bad value never half-deploys.
Pulumi hands structured values (objects, lists) to the program as JSON strings.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi

import contract

NAMESPACE = "orders"
REQUIRED_AZ_COUNT = 3
MIN_BACKUP_RETENTION_DAYS = 14  # point-in-time restore window the business asked for
MIN_PRE_STOP_SLEEP_K8S = (1, 30)  # lifecycle.preStop.sleep is on by default from 1.30
CLOUDWATCH_RETENTION_DAYS = frozenset(
    {
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    }
)

_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_CHART_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_K8S_QUANTITY_RE = re.compile(r"^\d+(\.\d+)?(m|Mi|Gi|Ki)?$")
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
_ECR_REPOSITORY_RE = re.compile(r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+")

# Pinned versions, checked against the providers' documentation and upstream repositories
# (infra/README.md, "Pinned versions"); `python -m infra.preflight` re-checks them
# against the target account and the chart repositories before a deployment.
AURORA_ENGINE_VERSION = "17.7"
AURORA_PARAMETER_FAMILY = "aurora-postgresql17"
KUBERNETES_VERSION = "1.35"  # EKS standard support until 2027-03-27
# The cluster autoscaler's minor version must match the cluster's.
CLUSTER_AUTOSCALER_IMAGES = {"1.35": "v1.35.0", "1.36": "v1.36.0"}
CHART_VERSIONS = {
    "loadBalancerControllerChart": "3.5.0",  # controller v3.5.0
    "argoRolloutsChart": "2.41.0",  # Argo Rollouts v1.9.0
    "kedaChart": "2.20.2",
    "prometheusChart": "29.27.0",  # Prometheus v3.14.0
    "clusterAutoscalerChart": "9.59.0",  # appVersion 1.35.0
    "metricsServerChart": "3.13.1",  # metrics-server 0.8.1
    "alertmanagerChart": "1.21.0",  # prometheus-community/alertmanager, Alertmanager v0.28
}


class ConfigError(pulumi.RunError):
    """Invalid stack configuration. RunError makes Pulumi print the message, not a trace."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class NodeGroupConfig:
    instance_types: tuple[str, ...]
    min_size: int
    desired_size: int
    max_size: int
    disk_size_gib: int


@dataclass(frozen=True)
class RegionConfig:
    """What differs between the primary region and the scaled-down warm standby."""

    role: str  # "primary" or "standby"
    region: str
    azs: tuple[str, ...]
    vpc_cidr: str
    node_group: NodeGroupConfig
    db_instance_class: str
    db_instances: int
    cache_node_type: str
    cache_nodes: int
    api_replicas: int
    api_max_replicas: int
    relay_replicas: int
    worker_min_replicas: int
    worker_max_replicas: int

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"


@dataclass(frozen=True)
class NetworkConfig:
    interface_endpoints: tuple[str, ...]
    flow_log_retention_days: int


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
class ClusterConfig:
    kubernetes_version: str
    endpoint_public_access: bool
    public_access_cidrs: tuple[str, ...]
    # Networks routed into the VPC (VPN, peering, an in-VPC runner's subnet) that may reach
    # the private endpoint on 443: the deployer's path when the public endpoint is off.
    private_access_cidrs: tuple[str, ...]
    admin_role_arns: tuple[str, ...]
    log_retention_days: int


@dataclass(frozen=True)
class KeysConfig:
    # Roles that administer (but do not use) the CMKs, besides the deployer's own role.
    admin_role_arns: tuple[str, ...]
    deletion_window_days: int


@dataclass(frozen=True)
class IamConfig:
    # AWSServiceRoleForAutoScaling: the EBS key policy names it, and KMS rejects a policy
    # naming a role that does not exist yet. False when the account already has it.
    create_autoscaling_service_linked_role: bool


@dataclass(frozen=True)
class AddonsConfig:
    load_balancer_controller_chart: str
    argo_rollouts_chart: str
    keda_chart: str
    prometheus_chart: str
    cluster_autoscaler_chart: str
    metrics_server_chart: str
    alertmanager_chart: str


@dataclass(frozen=True)
class WorkloadConfig:
    namespace: str
    image_repository: str
    image_tag: str
    # sha256 digest of image_tag: pods run exactly the image that was scanned and tested
    image_digest: str
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str
    pre_stop_sleep_seconds: int
    drain_seconds: int
    in_flight_timeout_seconds: int
    jwt_issuer: str
    jwt_audience: str
    otel_endpoint: str
    canary_weights: tuple[int, ...]
    canary_pause_seconds: int
    queue_messages_per_worker: int

    @property
    def termination_grace_seconds(self) -> int:
        # The preStop sleep covers the load balancer's deregistration; then SIGTERM makes
        # the service fail readiness for `drain_seconds` and finish in-flight requests.
        # A small margin keeps the kubelet from SIGKILLing a shutdown that is on time.
        return self.pre_stop_sleep_seconds + self.drain_seconds + self.in_flight_timeout_seconds + 5


@dataclass(frozen=True)
class BackupConfig:
    daily_schedule: str
    daily_retention_days: int
    copy_retention_days: int
    vault_lock_min_retention_days: int
    vault_lock_max_retention_days: int
    vault_lock_changeable_days: int
    restore_test_schedule: str


@dataclass(frozen=True)
class DnsConfig:
    zone_name: str
    api_record: str
    health_check_path: str
    health_check_interval_seconds: int
    health_check_failure_threshold: int

    @property
    def api_fqdn(self) -> str:
        return f"{self.api_record}.{self.zone_name}"


@dataclass(frozen=True)
class SloConfig:
    error_rate_percent: float
    p99_latency_ms: int
    queue_backlog_messages: int
    queue_oldest_message_seconds: int
    db_replica_lag_ms: int
    global_db_replication_lag_ms: int
    db_cpu_percent: int
    redis_cpu_percent: int
    redis_memory_percent: int
    alarm_email: str


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


# --------------------------------------------------------------------------- defaults

_PRIMARY_DEFAULTS: dict[str, Any] = {
    "region": "eu-central-1",
    "vpcCidr": "10.10.0.0/16",
    "nodeGroup": {
        "instanceTypes": ["m6i.xlarge"],
        "minSize": 3,
        "desiredSize": 3,
        "maxSize": 9,
        "diskSizeGib": 50,
    },
    "dbInstanceClass": "db.r6g.large",
    "dbInstances": 3,
    "cacheNodeType": "cache.r6g.large",
    "cacheNodes": 3,
    "apiReplicas": 3,
    "apiMaxReplicas": 12,
    "relayReplicas": 2,
    "workerMinReplicas": 2,
    "workerMaxReplicas": 10,
}

_STANDBY_DEFAULTS: dict[str, Any] = {
    "region": "eu-west-1",
    "vpcCidr": "10.20.0.0/16",
    "nodeGroup": {
        "instanceTypes": ["m6i.large"],
        "minSize": 2,
        "desiredSize": 2,
        "maxSize": 9,
        "diskSizeGib": 50,
    },
    "dbInstanceClass": "db.r6g.large",
    "dbInstances": 2,
    "cacheNodeType": "cache.r6g.large",
    "cacheNodes": 2,
    "apiReplicas": 1,
    "apiMaxReplicas": 12,
    "relayReplicas": 1,
    "workerMinReplicas": 1,
    "workerMaxReplicas": 10,
}

# Minimums per role: the primary must survive the loss of one AZ at full service; the
# standby only has to be warm (every tier present and able to scale out on failover).
_MINIMUMS: dict[str, dict[str, int]] = {
    "primary": {"apiReplicas": 3, "relayReplicas": 2, "workerMinReplicas": 2, "nodeMin": 3},
    "standby": {"apiReplicas": 1, "relayReplicas": 1, "workerMinReplicas": 1, "nodeMin": 1},
}

DEFAULT_INTERFACE_ENDPOINTS = (
    "sqs",
    "sts",
    "kms",
    "logs",
    "monitoring",
    "secretsmanager",
    "ecr.api",
    "ecr.dkr",
    "ec2",
    "elasticloadbalancing",
)

# --------------------------------------------------------------------------- reader

T = TypeVar("T")


class _Section:
    """Reads one config object, remembering problems instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, Any], path: str, problems: list[str]) -> None:
        self.raw = raw
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()

    def _get(self, key: str, default: T, kind: type, kind_name: str) -> T:
        self.seen.add(key)
        value = self.raw.get(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(f"{self.path}.{key} must be {kind_name}, got {value!r}")
            return default
        return value  # type: ignore[return-value]

    def text(self, key: str, default: str, allow_empty: bool = False) -> str:
        value = self._get(key, default, str, "a string")
        if not value.strip() and not allow_empty:
            self.problems.append(f"{self.path}.{key} must not be empty")
        return value

    def integer(self, key: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
        value = self._get(key, default, int, "an integer")
        if lo is not None and value < lo:
            self.problems.append(f"{self.path}.{key} must be >= {lo}, got {value}")
        if hi is not None and value > hi:
            self.problems.append(f"{self.path}.{key} must be <= {hi}, got {value}")
        return value

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        value = self._get(key, default, float, "a number")
        if not lo < value <= hi:
            self.problems.append(f"{self.path}.{key} must be in ({lo}, {hi}], got {value}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        return self._get(key, default, bool, "true or false")

    def texts(self, key: str, default: list[str]) -> tuple[str, ...]:
        value = self._get(key, default, list, "a list of strings")
        if not all(isinstance(v, str) for v in value):
            self.problems.append(f"{self.path}.{key} must be a list of strings, got {value!r}")
            return tuple(default)
        return tuple(value)

    def integers(self, key: str, default: list[int]) -> tuple[int, ...]:
        value = self._get(key, default, list, "a list of integers")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            self.problems.append(f"{self.path}.{key} must be a list of integers, got {value!r}")
            return tuple(default)
        return tuple(value)

    def section(self, key: str, defaults: Mapping[str, Any]) -> _Section:
        value = self._get(key, dict(defaults), dict, "an object")
        return _Section({**defaults, **value}, f"{self.path}.{key}", self.problems)

    def reject_unknown(self) -> None:
        """A misspelt key would otherwise be ignored silently and its default used."""
        for key in sorted(set(self.raw) - self.seen):
            self.problems.append(f"{self.path}.{key} is not a known setting")


def _scalar(raw: str | None) -> Any:
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


# --------------------------------------------------------------------------- loader


SECRET_SETTINGS = ("jwtSecret",)  # read by the program as Pulumi secrets, never here
MIN_JWT_SECRET_BYTES = contract.JWT_SECRET_MIN_BYTES


def _secret_problems(
    get: Callable[[str], str | None], project: str, is_secret: Callable[[str], bool]
) -> list[str]:
    problems: list[str] = []
    for key in SECRET_SETTINGS:
        full_key = f"{project}:{key}"
        value = get(full_key)
        if value is None:
            continue
        if not is_secret(full_key):
            problems.append(f"{full_key} must be set with `pulumi config set --secret`")
        if len(value.encode()) < MIN_JWT_SECRET_BYTES:
            problems.append(f"{full_key} must be at least {MIN_JWT_SECRET_BYTES} bytes long")
    return problems


def _region_problems(
    aws_region: str | None, project: str, primary: RegionConfig, standby: RegionConfig,
    standby_enabled: bool,
) -> list[str]:
    problems: list[str] = []
    if aws_region is not None and aws_region != primary.region:
        problems.append(
            f"aws:region ({aws_region}) must equal {project}:primary.region ({primary.region}); "
            "it only steers resources that would miss their explicit provider"
        )
    if standby_enabled:
        if standby.region == primary.region:
            problems.append("the standby region must differ from the primary region")
        if _overlaps(primary.vpc_cidr, standby.vpc_cidr):
            problems.append(
                f"primary and standby VPC CIDRs overlap ({primary.vpc_cidr}, {standby.vpc_cidr})"
            )
    return problems


def load_config(
    get: Callable[[str], str | None],
    project: str = NAMESPACE,
    is_secret: Callable[[str], bool] = lambda _key: True,
) -> StackConfig:
    """Build the StackConfig from raw `namespace:key` values; raise ConfigError if invalid.

    `get` is `pulumi.runtime.get_config` in a deployment, or a dict's `.get` in tests;
    `is_secret` tells whether a value was set with `pulumi config set --secret`.
    """
    problems = _secret_problems(get, project, is_secret)

    def obj(key: str) -> dict[str, Any]:
        value = _scalar(get(f"{project}:{key}"))
        if value is None:
            return {}
        if not isinstance(value, dict):
            problems.append(f"{project}:{key} must be an object, got {value!r}")
            return {}
        return value

    def scalar(key: str, default: Any) -> Any:
        value = _scalar(get(f"{project}:{key}"))
        return default if value is None else value

    top = _Section(
        {
            "environment": scalar("environment", "prod"),
            "standbyEnabled": scalar("standbyEnabled", True),
        },
        project,
        problems,
    )
    environment = top.text("environment", "prod")
    if not re.fullmatch(r"[a-z][a-z0-9]{1,9}", environment):
        problems.append(f"{project}:environment must be 2-10 lowercase letters/digits")
    standby_enabled = top.flag("standbyEnabled", True)

    primary = _region(obj("primary"), "primary", _PRIMARY_DEFAULTS, f"{project}:primary", problems)
    standby = _region(obj("standby"), "standby", _STANDBY_DEFAULTS, f"{project}:standby", problems)

    problems += _region_problems(get("aws:region"), project, primary, standby, standby_enabled)

    network = _network(_Section(obj("network"), f"{project}:network", problems))
    database = _database(_Section(obj("database"), f"{project}:database", problems))
    cache = _cache(_Section(obj("cache"), f"{project}:cache", problems))
    queue = _queue(_Section(obj("queue"), f"{project}:queue", problems))
    cluster = _cluster(_Section(obj("cluster"), f"{project}:cluster", problems))
    addons = _addons(_Section(obj("addons"), f"{project}:addons", problems))
    workload = _workload(_Section(obj("workload"), f"{project}:workload", problems))
    backup = _backup(_Section(obj("backup"), f"{project}:backup", problems), database)
    dns = _dns(_Section(obj("dns"), f"{project}:dns", problems))
    slo = _slo(_Section(obj("slo"), f"{project}:slo", problems))
    keys = _keys(_Section(obj("keys"), f"{project}:keys", problems))
    iam = _iam(_Section(obj("iam"), f"{project}:iam", problems))

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


def _overlaps(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))
    except ValueError:
        return False  # reported by the CIDR check itself


def _region(
    raw: dict[str, Any], role: str, defaults: dict[str, Any], path: str, problems: list[str]
) -> RegionConfig:
    s = _Section({**defaults, **raw}, path, problems)
    minimums = _MINIMUMS[role]
    region = s.text("region", defaults["region"])
    if not _REGION_RE.match(region):
        problems.append(f"{path}.region {region!r} is not an AWS region name")
    azs = s.texts("azs", [f"{region}{suffix}" for suffix in "abc"])
    if len(azs) != REQUIRED_AZ_COUNT:
        problems.append(
            f"{path}.azs must list exactly {REQUIRED_AZ_COUNT} availability zones, got "
            f"{len(azs)} ({', '.join(azs) or 'none'})"
        )
    if len(set(azs)) != len(azs):
        problems.append(f"{path}.azs must be distinct, got {', '.join(azs)}")
    for az in azs:
        if not re.fullmatch(re.escape(region) + r"[a-z]", az):
            problems.append(f"{path}.azs: {az!r} is not an availability zone of {region}")

    vpc_cidr = s.text("vpcCidr", defaults["vpcCidr"])
    _check_vpc_cidr(vpc_cidr, f"{path}.vpcCidr", problems)

    ng = s.section("nodeGroup", defaults["nodeGroup"])
    node_group = NodeGroupConfig(
        instance_types=ng.texts("instanceTypes", defaults["nodeGroup"]["instanceTypes"]),
        min_size=ng.integer("minSize", defaults["nodeGroup"]["minSize"], lo=minimums["nodeMin"]),
        desired_size=ng.integer("desiredSize", defaults["nodeGroup"]["desiredSize"], lo=1),
        max_size=ng.integer("maxSize", defaults["nodeGroup"]["maxSize"], lo=1, hi=100),
        disk_size_gib=ng.integer("diskSizeGib", defaults["nodeGroup"]["diskSizeGib"], lo=20),
    )
    ng.reject_unknown()
    if not node_group.instance_types:
        problems.append(f"{path}.nodeGroup.instanceTypes must not be empty")
    if not node_group.min_size <= node_group.desired_size <= node_group.max_size:
        problems.append(f"{path}.nodeGroup needs minSize <= desiredSize <= maxSize")

    config = RegionConfig(
        role=role,
        region=region,
        azs=azs,
        vpc_cidr=vpc_cidr,
        node_group=node_group,
        db_instance_class=s.text("dbInstanceClass", defaults["dbInstanceClass"]),
        # >= 2: a writer plus a reader in another AZ (primary); readers in 2 AZs (standby)
        db_instances=s.integer("dbInstances", defaults["dbInstances"], lo=2, hi=REQUIRED_AZ_COUNT),
        cache_node_type=s.text("cacheNodeType", defaults["cacheNodeType"]),
        # >= 2: automatic failover needs a replica in another AZ
        cache_nodes=s.integer("cacheNodes", defaults["cacheNodes"], lo=2, hi=6),
        api_replicas=s.integer("apiReplicas", defaults["apiReplicas"], lo=minimums["apiReplicas"]),
        api_max_replicas=s.integer("apiMaxReplicas", defaults["apiMaxReplicas"], lo=1),
        relay_replicas=s.integer(
            "relayReplicas", defaults["relayReplicas"], lo=minimums["relayReplicas"]
        ),
        worker_min_replicas=s.integer(
            "workerMinReplicas", defaults["workerMinReplicas"], lo=minimums["workerMinReplicas"]
        ),
        worker_max_replicas=s.integer("workerMaxReplicas", defaults["workerMaxReplicas"], lo=1),
    )
    s.reject_unknown()
    if config.api_max_replicas < config.api_replicas:
        problems.append(f"{path}.apiMaxReplicas must be >= apiReplicas")
    if config.worker_max_replicas < config.worker_min_replicas:
        problems.append(f"{path}.workerMaxReplicas must be >= workerMinReplicas")
    return config


def _check_vpc_cidr(cidr: str, path: str, problems: list[str]) -> None:
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        problems.append(f"{path} {cidr!r} is not a valid CIDR block ({exc})")
        return
    if network.version != 4 or not network.is_private:
        problems.append(f"{path} {cidr} must be a private IPv4 range (RFC 1918)")
    # /16 is the largest VPC AWS allows; /19 still leaves /24 public and data subnets
    if not 16 <= network.prefixlen <= 19:
        problems.append(f"{path} {cidr} must have a prefix between /16 and /19")


def subnet_plan(vpc_cidr: str) -> dict[str, list[str]]:
    """Carve the VPC: three large private subnets (pods get VPC IPs), small public/data ones.

    The first three quarters become the private (node) subnets; the last quarter is cut
    into eighths of which three are public and three isolated (data).
    """
    network = ipaddress.IPv4Network(vpc_cidr)
    quarters = list(network.subnets(prefixlen_diff=2))
    small = list(quarters[3].subnets(prefixlen_diff=3))
    return {
        "private": [str(q) for q in quarters[:3]],
        "public": [str(s) for s in small[:3]],
        "isolated": [str(s) for s in small[3:6]],
    }


def _network(s: _Section) -> NetworkConfig:
    config = NetworkConfig(
        interface_endpoints=s.texts("interfaceEndpoints", list(DEFAULT_INTERFACE_ENDPOINTS)),
        flow_log_retention_days=s.integer("flowLogRetentionDays", 365),
    )
    s.reject_unknown()
    if config.flow_log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        s.problems.append(f"{s.path}.flowLogRetentionDays is not a CloudWatch retention value")
    return config


def _database(s: _Section) -> DatabaseConfig:
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


def _cache(s: _Section) -> CacheConfig:
    config = CacheConfig(
        engine_version=s.text("engineVersion", "7.1"),
        parameter_group_family=s.text("parameterGroupFamily", "redis7"),
        snapshot_retention_days=s.integer("snapshotRetentionDays", 7, lo=1, hi=35),
        snapshot_window=s.text("snapshotWindow", "03:00-04:00"),
        maintenance_window=s.text("maintenanceWindow", "sun:05:00-sun:06:00"),
    )
    s.reject_unknown()
    return config


def _queue(s: _Section) -> QueueConfig:
    config = QueueConfig(
        visibility_timeout_seconds=s.integer("visibilityTimeoutSeconds", 60, lo=0, hi=43200),
        message_retention_seconds=s.integer("messageRetentionSeconds", 345600, lo=60, hi=1209600),
        max_receive_count=s.integer("maxReceiveCount", 5, lo=1, hi=1000),
    )
    s.reject_unknown()
    return config


def _cluster(s: _Section) -> ClusterConfig:
    config = ClusterConfig(
        kubernetes_version=s.text("kubernetesVersion", KUBERNETES_VERSION),
        endpoint_public_access=s.flag("endpointPublicAccess", False),
        public_access_cidrs=s.texts("publicAccessCidrs", []),
        private_access_cidrs=s.texts("privateAccessCidrs", []),
        admin_role_arns=s.texts("adminRoleArns", []),
        log_retention_days=s.integer("logRetentionDays", 365),
    )
    s.reject_unknown()
    _check_kubernetes_version(config.kubernetes_version, s)
    _check_api_access(config, s)
    for arn in config.admin_role_arns:
        if not _ROLE_ARN_RE.match(arn):
            s.problems.append(f"{s.path}.adminRoleArns: {arn!r} is not an IAM role ARN")
    if config.log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        s.problems.append(f"{s.path}.logRetentionDays is not a CloudWatch retention value")
    return config


def _check_kubernetes_version(version_text: str, s: _Section) -> None:
    version = re.fullmatch(r"(\d+)\.(\d+)", version_text)
    if version is None:
        s.problems.append(f"{s.path}.kubernetesVersion must look like 1.35")
    elif (int(version[1]), int(version[2])) < MIN_PRE_STOP_SLEEP_K8S:
        s.problems.append(f"{s.path}.kubernetesVersion must be >= 1.30 (preStop sleep action)")
    elif version_text not in CLUSTER_AUTOSCALER_IMAGES:
        s.problems.append(
            f"{s.path}.kubernetesVersion {version_text} has no matching "
            f"cluster-autoscaler image pinned (known: {', '.join(CLUSTER_AUTOSCALER_IMAGES)})"
        )


def _check_api_access(config: ClusterConfig, s: _Section) -> None:
    """The deployer must have a path to the API: the endpoint is private by default and
    the stack creates the VPC, so nothing outside reaches it unless configured."""
    if config.endpoint_public_access and not config.public_access_cidrs:
        s.problems.append(
            f"{s.path}.publicAccessCidrs must list the deployer/VPN ranges when "
            "endpointPublicAccess is true"
        )
    if not config.endpoint_public_access and not config.private_access_cidrs:
        s.problems.append(
            f"{s.path}: the deployer has no path to the Kubernetes API; set "
            "privateAccessCidrs (VPN / in-VPC runner ranges) or endpointPublicAccess with "
            "publicAccessCidrs (infra/README.md, 'Reaching the cluster')"
        )
    for key, cidrs in (
        ("publicAccessCidrs", config.public_access_cidrs),
        ("privateAccessCidrs", config.private_access_cidrs),
    ):
        for cidr in cidrs:
            try:
                if ipaddress.ip_network(cidr, strict=True).prefixlen == 0:
                    s.problems.append(f"{s.path}.{key} must not contain {cidr}")
            except ValueError:
                s.problems.append(f"{s.path}.{key}: {cidr!r} is not a CIDR")


def _addons(s: _Section) -> AddonsConfig:
    config = AddonsConfig(
        load_balancer_controller_chart=s.text(
            "loadBalancerControllerChart", CHART_VERSIONS["loadBalancerControllerChart"]
        ),
        argo_rollouts_chart=s.text("argoRolloutsChart", CHART_VERSIONS["argoRolloutsChart"]),
        keda_chart=s.text("kedaChart", CHART_VERSIONS["kedaChart"]),
        prometheus_chart=s.text("prometheusChart", CHART_VERSIONS["prometheusChart"]),
        cluster_autoscaler_chart=s.text(
            "clusterAutoscalerChart", CHART_VERSIONS["clusterAutoscalerChart"]
        ),
        metrics_server_chart=s.text("metricsServerChart", CHART_VERSIONS["metricsServerChart"]),
        alertmanager_chart=s.text("alertmanagerChart", CHART_VERSIONS["alertmanagerChart"]),
    )
    s.reject_unknown()
    for key, value in vars(config).items():
        if not _CHART_VERSION_RE.match(value):
            s.problems.append(f"{s.path}: chart version {key}={value!r} must be pinned (x.y.z)")
    return config


def _workload(s: _Section) -> WorkloadConfig:
    config = WorkloadConfig(
        namespace=s.text("namespace", "orders"),
        image_repository=s.text(
            "imageRepository", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-service"
        ),
        image_tag=s.text("imageTag", "0.1.0"),
        image_digest=s.text("imageDigest", "sha256:" + "0" * 64),
        cpu_request=s.text("cpuRequest", "500m"),
        memory_request=s.text("memoryRequest", "512Mi"),
        cpu_limit=s.text("cpuLimit", "2"),
        memory_limit=s.text("memoryLimit", "1Gi"),
        pre_stop_sleep_seconds=s.integer("preStopSleepSeconds", 15, lo=1, hi=60),
        drain_seconds=s.integer("drainSeconds", 5, lo=0, hi=60),
        in_flight_timeout_seconds=s.integer("inFlightTimeoutSeconds", 20, lo=1, hi=300),
        jwt_issuer=s.text("jwtIssuer", "https://auth.orders.example.com"),
        jwt_audience=s.text("jwtAudience", "investment-orders"),
        # Empty: no OTLP export. Set it only to a collector that actually runs.
        otel_endpoint=s.text("otelEndpoint", "", allow_empty=True),
        canary_weights=s.integers("canaryWeights", [10, 25, 50]),
        canary_pause_seconds=s.integer("canaryPauseSeconds", 120, lo=30),
        queue_messages_per_worker=s.integer("queueMessagesPerWorker", 50, lo=1),
    )
    s.reject_unknown()
    if config.image_tag in {"latest", ""}:
        s.problems.append(f"{s.path}.imageTag must be an immutable tag, not {config.image_tag!r}")
    if not _ECR_REPOSITORY_RE.fullmatch(config.image_repository):
        s.problems.append(f"{s.path}.imageRepository must be an ECR repository URL")
    if not _DIGEST_RE.fullmatch(config.image_digest):
        s.problems.append(f"{s.path}.imageDigest must be sha256:<64 hex digits>")
    if config.otel_endpoint and not config.otel_endpoint.startswith(("http://", "https://")):
        s.problems.append(f"{s.path}.otelEndpoint must be an http(s) URL or empty")
    for key in ("cpu_request", "memory_request", "cpu_limit", "memory_limit"):
        if not _K8S_QUANTITY_RE.match(getattr(config, key)):
            s.problems.append(f"{s.path}.{key} {getattr(config, key)!r} is not a quantity")
    weights = config.canary_weights
    if not weights or list(weights) != sorted(set(weights)) or not 0 < weights[-1] < 100:
        s.problems.append(f"{s.path}.canaryWeights must increase strictly within 1..99")
    return config


def _backup(s: _Section, database: DatabaseConfig) -> BackupConfig:
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


def _keys(s: _Section) -> KeysConfig:
    config = KeysConfig(
        admin_role_arns=s.texts("adminRoleArns", []),
        deletion_window_days=s.integer("deletionWindowDays", 30, lo=7, hi=30),
    )
    s.reject_unknown()
    for arn in config.admin_role_arns:
        if not _ROLE_ARN_RE.match(arn):
            s.problems.append(f"{s.path}.adminRoleArns: {arn!r} is not an IAM role ARN")
    return config


def _iam(s: _Section) -> IamConfig:
    config = IamConfig(
        create_autoscaling_service_linked_role=s.flag("createAutoScalingServiceLinkedRole", True)
    )
    s.reject_unknown()
    return config


def _dns(s: _Section) -> DnsConfig:
    config = DnsConfig(
        zone_name=s.text("zoneName", "orders.example.com"),
        api_record=s.text("apiRecord", "api"),
        health_check_path=s.text("healthCheckPath", "/health/ready"),
        health_check_interval_seconds=s.integer("healthCheckIntervalSeconds", 10),
        health_check_failure_threshold=s.integer("healthCheckFailureThreshold", 3, lo=1, hi=10),
    )
    s.reject_unknown()
    if not _HOSTNAME_RE.match(config.api_fqdn):
        s.problems.append(f"{s.path}: {config.api_fqdn!r} is not a valid host name")
    if config.health_check_interval_seconds not in (10, 30):
        s.problems.append(f"{s.path}.healthCheckIntervalSeconds must be 10 or 30")
    if not config.health_check_path.startswith("/"):
        s.problems.append(f"{s.path}.healthCheckPath must start with /")
    return config


def _slo(s: _Section) -> SloConfig:
    config = SloConfig(
        error_rate_percent=s.number("errorRatePercent", 1.0, 0.0, 100.0),
        p99_latency_ms=s.integer("p99LatencyMs", 500, lo=1),
        queue_backlog_messages=s.integer("queueBacklogMessages", 1000, lo=1),
        queue_oldest_message_seconds=s.integer("queueOldestMessageSeconds", 300, lo=1),
        db_replica_lag_ms=s.integer("dbReplicaLagMs", 1000, lo=1),
        global_db_replication_lag_ms=s.integer("globalDbReplicationLagMs", 5000, lo=1),
        db_cpu_percent=s.integer("dbCpuPercent", 80, lo=1, hi=100),
        redis_cpu_percent=s.integer("redisCpuPercent", 80, lo=1, hi=100),
        redis_memory_percent=s.integer("redisMemoryPercent", 80, lo=1, hi=100),
        alarm_email=s.text("alarmEmail", "oncall@orders.example.com"),
    )
    s.reject_unknown()
    if "@" not in config.alarm_email:
        s.problems.append(f"{s.path}.alarmEmail is not an e-mail address")
    return config

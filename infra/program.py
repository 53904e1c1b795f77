"""Wires the components for the primary region and, when enabled, the warm standby.

Every AWS resource gets an explicit regional provider (inherited from its component), so
nothing depends on ambient AWS_REGION settings. Config is loaded and validated first:
an invalid stack fails before any resource is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.addons import AddonsArgs, ClusterAddons
from infra.alarms import Alarms, AlarmsArgs
from infra.audit_log import AuditLog, AuditLogArgs, IntegratorTarget
from infra.backup import Backup, BackupArgs, CopyTarget
from infra.cache import Cache, CacheArgs
from infra.cloudwatch_exporter import AlbSelector, CloudWatchExporter, CloudWatchExporterArgs
from infra.cluster import Cluster, ClusterArgs
from infra.config import RegionConfig, StackConfig, load_config
from infra.database import Database, DatabaseArgs
from infra.dns import Certificate, CertificateArgs, FailoverDns, FailoverDnsArgs, RegionalEndpoint
from infra.edge import Edge, EdgeArgs
from infra.fis import FaultInjection, FaultInjectionArgs
from infra.keys import Keys, KeysArgs
from infra.monitoring import Monitoring, MonitoringArgs
from infra.network import Network, NetworkArgs
from infra.queues import Queue, QueueArgs
from infra.registry import ImageRepository, RepositoryArgs, repository_name
from infra.restore_testing import create_restore_testing
from infra.workload import Workload, WorkloadArgs
from infra.workload.args import API as API_INGRESS  # the Ingress is named after the API


@dataclass(frozen=True)
class Shared:
    """Inputs every region uses: looked up or generated once."""

    jwt_secret: pulumi.Input[str]
    zone_id: pulumi.Input[str]
    account_id: pulumi.Input[str]
    keys: dict[str, Keys]  # per region role: created before anything that uses them


@dataclass
class RegionStack:
    provider: aws.Provider
    keys: Keys
    network: Network
    database: Database
    cache: Cache
    queue: Queue
    cluster: Cluster
    certificate: Certificate
    workload: Workload
    alarms: Alarms


def main() -> None:
    cfg = load_config(
        pulumi.runtime.get_config, pulumi.get_project(), pulumi.runtime.is_config_secret
    )
    deploy(cfg)


def regional_provider(cfg: StackConfig, region: RegionConfig) -> aws.Provider:
    return aws.Provider(
        f"aws-{region.role}",
        region=region.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags={**cfg.tags, "RegionRole": region.role}),
    )


def deploy(cfg: StackConfig) -> None:
    providers = {region.role: regional_provider(cfg, region) for region in cfg.regions}
    primary_invoke = pulumi.InvokeOutputOptions(provider=providers["primary"])
    jwt_secret = pulumi.Config().get_secret("jwtSecret")
    if jwt_secret is None:
        # Both regions must accept the same tokens, so one secret for the stack.
        jwt_secret = random.RandomPassword("jwt-secret", length=64, special=False).result
    shared = Shared(
        jwt_secret=jwt_secret,
        zone_id=aws.route53.get_zone_output(
            name=cfg.dns.zone_name, private_zone=False, opts=primary_invoke
        ).zone_id,
        account_id=aws.get_caller_identity_output(opts=primary_invoke).account_id,
        keys=create_keys(cfg, providers),
    )

    create_image_repositories(cfg, providers, shared.account_id)
    primary = deploy_region(cfg, cfg.primary, providers["primary"], shared, None)
    standby = (
        deploy_region(cfg, cfg.standby, providers["standby"], shared, primary)
        if cfg.standby_enabled
        else None
    )

    backup = Backup(
        "backup",
        BackupArgs(
            prefix=cfg.prefix,
            settings=cfg.backup,
            continuous_retention_days=cfg.database.backup_retention_days,
            kms_key_arn=primary.keys.backup.arn,
            cluster_arn=primary.database.arn,
            db_subnet_group_name=primary.database.subnet_group.name,
            db_security_group_id=primary.database.security_group.id,
            copy_to=CopyTarget(standby.provider, standby.keys.backup.arn) if standby else None,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": primary.provider}),
    )
    create_restore_testing(cfg, primary, backup.restore_testing_plan_arn, shared.account_id)
    dns = FailoverDns(
        "dns",
        FailoverDnsArgs(
            settings=cfg.dns,
            zone_id=shared.zone_id,
            primary=RegionalEndpoint("primary", primary.workload.load_balancer_hostname),
            standby=(
                RegionalEndpoint("standby", standby.workload.load_balancer_hostname)
                if standby
                else None
            ),
        ),
        # Route 53 is global; the primary provider is as good as any.
        opts=pulumi.ResourceOptions(providers={"aws": primary.provider}),
    )
    fault_injection = FaultInjection(
        "fault-injection",
        FaultInjectionArgs(prefix=cfg.prefix, account_id=shared.account_id),
        opts=pulumi.ResourceOptions(providers={"aws": primary.provider}),
    )
    export_outputs(cfg, primary, standby, dns, fault_injection)


def export_outputs(
    cfg: StackConfig,
    primary: RegionStack,
    standby: RegionStack | None,
    dns: FailoverDns,
    fault_injection: FaultInjection,
) -> None:
    """Stack outputs; the keys the AWS drill reads are those of chaos/aws/outputs.py."""
    outputs: dict[str, pulumi.Input[Any]] = {
        "apiEndpoint": f"https://{cfg.dns.api_fqdn}",
        "primaryRegion": cfg.primary.region,
        "globalClusterId": primary.database.global_cluster.id,
        "primaryClusterId": primary.database.cluster_identifier,
        "primaryClusterArn": primary.database.arn,
        "primaryDatabaseEndpoint": primary.database.endpoint,
        "redisReplicationGroupId": primary.cache.replication_group_id,
        "queueUrl": primary.queue.url,
        "primaryHealthCheckId": dns.health_check_ids["primary"],
        "fisRoleArn": fault_injection.role.arn,
        "eksClusterName": primary.cluster.cluster_name,
        "serviceNamespace": cfg.workload.namespace,
        "primaryLoadBalancer": primary.workload.load_balancer_hostname,
        "primaryAlarmTopicArn": primary.alarms.topic.arn,
        # the FIS zone experiment the drill creates stops when the error-rate SLO breaks
        "fisStopConditionAlarmArn": primary.alarms.error_rate_alarm.arn,
    }
    if primary.database.master_secret is not None:
        outputs["databaseMasterSecretArn"] = primary.database.master_secret.arn
    if standby is not None:
        outputs |= {
            "standbyRegion": cfg.standby.region,
            "standbyClusterArn": standby.database.arn,
            "standbyDatabaseEndpoint": standby.database.endpoint,
            "standbyRedisReplicationGroupId": standby.cache.replication_group_id,
            "standbyQueueUrl": standby.queue.url,
            "standbyHealthCheckId": dns.health_check_ids["standby"],
            "standbyEksClusterName": standby.cluster.cluster_name,
            "standbyLoadBalancer": standby.workload.load_balancer_hostname,
            "standbyAlarmTopicArn": standby.alarms.topic.arn,
        }
    for key, value in outputs.items():
        pulumi.export(key, value)


def create_image_repositories(
    cfg: StackConfig, providers: dict[str, aws.Provider], account_id: pulumi.Input[str]
) -> None:
    """The image repository in every region; the standby's first, so that replication
    from the primary does not create it with default (mutable) settings."""
    name = repository_name(cfg.workload.image_repository)
    for region in reversed(cfg.regions):
        ImageRepository(
            f"{region.role}-images",
            RepositoryArgs(
                name=name,
                account_id=account_id,
                replicate_to=(
                    cfg.standby.region if region.is_primary and cfg.standby_enabled else None
                ),
            ),
            opts=pulumi.ResourceOptions(providers={"aws": providers[region.role]}),
        )


def create_keys(cfg: StackConfig, providers: dict[str, aws.Provider]) -> dict[str, Keys]:
    """Every region's CMKs, first: the primary's master secret replicates under the
    standby's key, and the EBS key policy names the Auto Scaling service-linked role."""
    depends_on: list[pulumi.Resource] = []
    if cfg.iam.create_autoscaling_service_linked_role:
        # IAM is global: one role for the account, created once.
        depends_on.append(
            aws.iam.ServiceLinkedRole(
                "autoscaling-service-linked-role",
                aws_service_name="autoscaling.amazonaws.com",
                description="EC2 Auto Scaling (EKS managed node groups)",
                opts=pulumi.ResourceOptions(provider=providers["primary"]),
            )
        )
    return {
        region.role: Keys(
            f"{region.role}-keys",
            KeysArgs(
                cfg.prefix,
                region.role,
                region.region,
                admin_role_arns=cfg.keys.admin_role_arns,
                deletion_window_days=cfg.keys.deletion_window_days,
                depends_on=depends_on,
            ),
            opts=pulumi.ResourceOptions(providers={"aws": providers[region.role]}),
        )
        for region in cfg.regions
    }


def deploy_region(
    cfg: StackConfig,
    region: RegionConfig,
    provider: aws.Provider,
    shared: Shared,
    primary: RegionStack | None,
) -> RegionStack:
    role = region.role
    in_region = pulumi.ResourceOptions(providers={"aws": provider})
    cluster_name = f"{cfg.prefix}-{role}"
    primary_database = primary.database if primary is not None else None

    keys = shared.keys[role]
    network = Network(
        f"{role}-network",
        NetworkArgs(
            cfg.prefix, region, cfg.network, cluster_name, keys.logs.arn, shared.account_id
        ),
        opts=in_region,
    )
    database = Database(
        f"{role}-database",
        DatabaseArgs(
            prefix=cfg.prefix,
            region=region,
            settings=cfg.database,
            vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            client_cidrs=network.private_cidrs,
            kms_key_arn=keys.database.arn,
            logs_key_arn=keys.logs.arn,
            log_retention_days=cfg.cluster.log_retention_days,
            rotation_subnet_ids=network.private_subnet_ids,
            primary=primary_database,
            secret_replica=(
                (cfg.standby.region, shared.keys["standby"].database.arn)
                if region.is_primary and "standby" in shared.keys
                else None
            ),
        ),
        opts=in_region,
    )
    cache = Cache(
        f"{role}-cache",
        CacheArgs(
            prefix=cfg.prefix,
            region=region,
            settings=cfg.cache,
            vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            client_cidrs=network.private_cidrs,
            kms_key_arn=keys.cache.arn,
            logs_key_arn=keys.logs.arn,
            log_retention_days=cfg.cluster.log_retention_days,
        ),
        opts=in_region,
    )
    queue = Queue(
        f"{role}-queue",
        QueueArgs(cfg.prefix, region, cfg.queue, keys.queue.arn),
        opts=in_region,
    )
    cluster = Cluster(
        f"{role}-cluster",
        ClusterArgs(
            cluster_name=cluster_name,
            region=region,
            settings=cfg.cluster,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            secrets_key_arn=keys.eks.arn,
            volumes_key_arn=keys.ebs.arn,
            logs_key_arn=keys.logs.arn,
        ),
        opts=in_region,
    )
    on_cluster = pulumi.ResourceOptions(
        providers={"aws": provider, "kubernetes": cluster.kubernetes}
    )
    addons = ClusterAddons(
        f"{role}-addons",
        AddonsArgs(
            cluster_name=cluster_name,
            region=region,
            charts=cfg.addons,
            vpc_id=network.vpc_id,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_provider_url=cluster.oidc_provider_url,
            account_id=shared.account_id,
            queue_arn=queue.arn,
            kubernetes_version=cfg.cluster.kubernetes_version,
        ),
        opts=on_cluster,
    )
    certificate = Certificate(
        f"{role}-certificate",
        CertificateArgs(
            fqdn=cfg.dns.api_fqdn,
            zone_id=shared.zone_id,
            shared_validation_fqdn=(
                primary.certificate.validation_fqdn if primary is not None else None
            ),
        ),
        opts=in_region,
    )
    edge = Edge(
        f"{role}-edge",
        EdgeArgs(
            prefix=cfg.prefix,
            role=role,
            region=region.region,
            account_id=shared.account_id,
            access_log_retention_days=cfg.network.flow_log_retention_days,
        ),
        opts=in_region,
    )
    # The audit log's signing key and checkpoint bucket, with the integrator, live where
    # the writable database is.
    audit_log = AuditLog(
        f"{role}-audit-log",
        AuditLogArgs(
            prefix=cfg.prefix, role=role, region=region.region, account_id=shared.account_id,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_provider_url=cluster.oidc_provider_url, namespace=cfg.workload.namespace,
            database_user=cfg.database.app_username,
            database_resource_id=database.cluster_resource_id,
            origin=f"{cfg.dns.api_fqdn}/audit-log",
        ),
        opts=in_region,
    ) if region.is_primary else None
    workload = Workload(
        f"{role}-workload",
        WorkloadArgs(
            prefix=cfg.prefix,
            region=region,
            settings=cfg.workload,
            slo=cfg.slo,
            database_host=database.endpoint,
            database_name=cfg.database.database_name,
            database_user=cfg.database.app_username,
            database_resource_id=database.cluster_resource_id,
            redis_host=cache.primary_endpoint,
            redis_auth_token=cache.auth_token,
            queue_url=queue.url,
            queue_arn=queue.arn,
            queue_kms_key_arn=keys.queue.arn,
            jwt_secret=shared.jwt_secret,
            account_id=shared.account_id,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_provider_url=cluster.oidc_provider_url,
            certificate_arn=certificate.arn,
            alb_name=f"{cfg.prefix}-{role}",
            api_fqdn=cfg.dns.api_fqdn,
            alb_source_cidrs=network.public_cidrs,
            data_cidrs=network.isolated_cidrs,
            prometheus_url=addons.prometheus_url,
            # Migrations need a writable database; the standby's is a read-only replica.
            run_migrations=region.is_primary,
            # The primary bootstraps the application role with the master credentials,
            # read from the (rotated) secret when the Job runs.
            master_secret_arn=database.master_secret.arn if database.master_secret else None,
            master_secret_kms_key_arn=keys.database.arn,
            web_acl_arn=edge.web_acl_arn,
            access_log_bucket=edge.access_log_bucket,
            addons=addons.ready,
            ingress_after=[edge.bucket_policy],
            database_ready=database.instances,
            audit=IntegratorTarget.of(audit_log) if audit_log else None,
        ),
        opts=on_cluster,
    )
    alarms = Alarms(
        f"{role}-alarms",
        AlarmsArgs(
            prefix=cfg.prefix,
            region=region,
            slo=cfg.slo,
            topic_key_arn=keys.logs.arn,
            db_cluster_identifier=database.cluster_identifier,
            db_is_secondary=database.is_secondary,
            cache_member_ids=cache.member_cluster_ids,
            queue_name=queue.queue_name,
            dlq_name=queue.dlq_name,
            alb_name=workload.load_balancer_hostname.apply(lambda _: workload.alb_name),
        ),
        opts=in_region,
    )
    Monitoring(
        f"{role}-monitoring",
        MonitoringArgs(
            prefix=cfg.prefix,
            region=region,
            namespace=cfg.workload.namespace,
            prometheus_url=addons.prometheus_url,
            page_topic_arn=alarms.topic.arn,
            topic_key_arn=keys.logs.arn,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_provider_url=cluster.oidc_provider_url,
            alertmanager_chart=cfg.addons.alertmanager_chart,
            after=[addons.load_balancer_controller],
        ),
        opts=pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=[*addons.ready, workload])
        ),
    )
    # The ALB's own 5xx (CloudWatch only) for the SLIs of this region's Prometheus.
    CloudWatchExporter(
        f"{role}-cloudwatch-exporter",
        CloudWatchExporterArgs(
            region=region.region,
            alb=AlbSelector(cluster_name, cfg.workload.namespace, API_INGRESS),
            chart_version=cfg.addons.cloudwatch_exporter_chart,
            delay_seconds=cfg.addons.cloudwatch_delay_seconds,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_provider_url=cluster.oidc_provider_url,
            after=[addons.load_balancer_controller],
        ),
        opts=on_cluster,
    )
    return RegionStack(
        provider, keys, network, database, cache, queue, cluster, certificate, workload, alarms
    )

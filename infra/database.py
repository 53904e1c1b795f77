"""Aurora PostgreSQL in a global database: the primary cluster, or a secondary joined to it.

The primary component also creates the `GlobalCluster`. A secondary takes no master
credentials and no database name (it replicates them) and waits for the primary's
instances, because AWS only accepts a secondary once the primary has a writer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.common import (
    COMPONENT_PREFIX,
    child,
    client_only_security_group,
    name_tag,
    service_role,
)
from infra.config import DatabaseConfig, RegionConfig

ENGINE = aws.rds.EngineType.AURORA_POSTGRESQL
PORT = 5432
# The CA the service pins through ORDERS_DATABASE_SSL_ROOT_CERT (global-bundle.pem has it)
CA_CERTIFICATE = "rds-ca-rsa2048-g1"
# AWS's single-user PostgreSQL rotation function, from the Serverless Application Repository.
ROTATION_APPLICATION = (
    "arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
    "SecretsManagerRDSPostgreSQLRotationSingleUser"
)
# pgaudit: DDL, role and privilege changes (class ROLE), never row data.
PGAUDIT_LOG_CLASSES = "ddl,role"


@dataclass(frozen=True)
class DatabaseArgs:
    prefix: str
    region: RegionConfig
    settings: DatabaseConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_cidrs: Sequence[str]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    # Subnets a rotation function runs in (they reach the database and Secrets Manager).
    rotation_subnet_ids: Sequence[pulumi.Input[str]] = ()
    # Set for the standby: the primary region's Database whose global cluster it joins.
    primary: Database | None = None
    # Primary only: where the master secret is replicated (region, that region's CMK ARN).
    secret_replica: tuple[str, pulumi.Input[str]] | None = None
    master_rotation_days: int = 30


class Database(pulumi.ComponentResource):
    global_cluster: aws.rds.GlobalCluster
    master_secret: aws.secretsmanager.Secret | None
    master_password: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Database", name, None, opts)
        settings, region = args.settings, args.region
        self.is_secondary = args.primary is not None
        self.cluster_identifier = f"{args.prefix}-{region.role}"

        if args.primary is None:
            self.global_cluster = aws.rds.GlobalCluster(
                f"{name}-global",
                global_cluster_identifier=f"{args.prefix}-global",
                engine=ENGINE,
                engine_version=settings.engine_version,
                storage_encrypted=True,
                deletion_protection=True,
                opts=child(self, protect=True),
            )
        else:
            self.global_cluster = args.primary.global_cluster

        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=list(args.subnet_ids),
            description=f"{self.cluster_identifier}: isolated data subnets",
            tags=name_tag(self.cluster_identifier),
            opts=child(self),
        )
        self.security_group = client_only_security_group(
            f"{name}-sg",
            parent=self,
            vpc_id=args.vpc_id,
            port=PORT,
            client_cidrs=args.client_cidrs,
            description="PostgreSQL from the private (pod) subnets only",
            tag=f"{self.cluster_identifier}-db",
        )
        parameter_group = aws.rds.ClusterParameterGroup(
            f"{name}-params",
            family=settings.parameter_group_family,
            description="TLS-only connections, slow statements and pgaudit (DDL, roles)",
            parameters=[
                # pending-reboot is accepted for static and dynamic parameters alike
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="rds.force_ssl", value="1", apply_method="pending-reboot"
                ),
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="ssl_min_protocol_version", value="TLSv1.2", apply_method="pending-reboot"
                ),
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="log_min_duration_statement", value="500"
                ),
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="shared_preload_libraries",
                    value="pg_stat_statements,pgaudit",
                    apply_method="pending-reboot",
                ),
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="pgaudit.log", value=PGAUDIT_LOG_CLASSES
                ),
                aws.rds.ClusterParameterGroupParameterArgs(name="pgaudit.log_parameter", value="0"),
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="pgaudit.role", value="rds_pgaudit"
                ),
            ],
            opts=child(self),
        )
        # RDS would create this group itself on the first export, unencrypted and kept
        # forever; owning it first sets the CMK and the retention.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-postgresql-logs",
            name=f"/aws/rds/cluster/{self.cluster_identifier}/postgresql",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child(self),
        )
        monitoring_role = service_role(
            f"{name}-monitoring-role",
            self,
            "monitoring.rds.amazonaws.com",
            ["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"],
        )

        common: dict[str, Any] = {
            "cluster_identifier": self.cluster_identifier,
            "engine": ENGINE,
            "engine_mode": "provisioned",
            "engine_version": settings.engine_version,
            "global_cluster_identifier": self.global_cluster.id,
            "port": PORT,
            "storage_encrypted": True,
            "kms_key_id": args.kms_key_arn,
            "iam_database_authentication_enabled": True,
            "backup_retention_period": settings.backup_retention_days,
            "preferred_backup_window": settings.backup_window,
            "preferred_maintenance_window": settings.maintenance_window,
            "deletion_protection": True,
            "copy_tags_to_snapshot": True,
            "enabled_cloudwatch_logs_exports": ["postgresql"],
            "db_subnet_group_name": self.subnet_group.name,
            "vpc_security_group_ids": [self.security_group.id],
            "db_cluster_parameter_group_name": parameter_group.name,
            "tags": name_tag(self.cluster_identifier),
        }
        # After a switchover AWS rewrites replicationSourceIdentifier on both clusters;
        # the program must not fight the new topology. Automatic minor upgrades move
        # engineVersion, and the rotation function changes the master password.
        cluster_opts = child(
            self,
            protect=True,
            depends_on=[self.log_group],
            ignore_changes=["replicationSourceIdentifier", "engineVersion", "masterPassword"],
        )
        if args.primary is None:
            # Aurora cannot manage the master password of a global-database member
            # (manageMasterUserPassword: "isn't supported for DB clusters that are part of
            # an Aurora global database"), so it is generated here, stored in Secrets
            # Manager (CMK-encrypted) and rotated there.
            password = random.RandomPassword(
                f"{name}-master-password",
                length=40,
                special=True,
                override_special="!#$%^&*()-_=+[]{}<>:?",  # no / @ " or space (RDS rule)
                opts=child(self),
            )
            self.cluster = aws.rds.Cluster(
                f"{name}-cluster",
                database_name=settings.database_name,
                master_username=settings.master_username,
                master_password=password.result,
                skip_final_snapshot=False,
                final_snapshot_identifier=f"{self.cluster_identifier}-final",
                **common,
                opts=cluster_opts,
            )
            self.master_password = password.result
            # Replicated to the standby region: after a regional failover the promoted
            # cluster is administered with the same credentials.
            replicas = (
                [
                    aws.secretsmanager.SecretReplicaArgs(
                        region=args.secret_replica[0], kms_key_id=args.secret_replica[1]
                    )
                ]
                if args.secret_replica
                else None
            )
            self.master_secret = aws.secretsmanager.Secret(
                f"{name}-master-secret",
                name=f"{args.prefix}/aurora/master",
                description="Aurora master credentials (break-glass and role bootstrap only)",
                kms_key_id=args.kms_key_arn,
                recovery_window_in_days=30,
                replicas=replicas,
                opts=child(self),
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-master-secret-value",
                secret_id=self.master_secret.id,
                # secret because the password is: Output.all keeps the secret flag
                secret_string=pulumi.Output.all(password.result, self.cluster.endpoint).apply(
                    lambda v: json.dumps(
                        {
                            "engine": "postgres",
                            "username": settings.master_username,
                            "password": v[0],
                            "host": v[1],
                            "port": PORT,
                            "dbname": settings.database_name,
                        }
                    )
                ),
                # The initial value only: the rotation function writes new versions, and
                # the provider replaces a version whose secretString differs (a new
                # version that takes AWSCURRENT), which would hand out the stale password.
                opts=child(self, ignore_changes=["secretString"]),
            )
        else:
            self.master_secret = None
            self.master_password = None
            cluster_opts = pulumi.ResourceOptions.merge(
                cluster_opts, pulumi.ResourceOptions(depends_on=list(args.primary.instances))
            )
            self.cluster = aws.rds.Cluster(
                f"{name}-cluster",
                # AWS cannot take a final snapshot of a read-only secondary; its data lives
                # on in the global cluster and in the primary's backups.
                skip_final_snapshot=True,
                **common,
                opts=cluster_opts,
            )

        self.instances: list[aws.rds.ClusterInstance] = []
        for i in range(region.db_instances):
            # One instance per AZ; the lowest promotion tier is the preferred writer.
            az = region.azs[i % len(region.azs)]
            self.instances.append(
                aws.rds.ClusterInstance(
                    f"{name}-instance-{i + 1}",
                    identifier=f"{self.cluster_identifier}-{i + 1}",
                    cluster_identifier=self.cluster.id,
                    # No engine_version: instances follow the cluster's (minor upgrades
                    # included), so they cannot drift from it or block an upgrade.
                    engine=ENGINE,
                    instance_class=region.db_instance_class,
                    availability_zone=az,
                    promotion_tier=i,
                    publicly_accessible=False,
                    db_subnet_group_name=self.subnet_group.name,
                    ca_cert_identifier=CA_CERTIFICATE,
                    auto_minor_version_upgrade=True,
                    performance_insights_enabled=True,
                    performance_insights_kms_key_id=args.kms_key_arn,
                    performance_insights_retention_period=(
                        settings.performance_insights_retention_days
                    ),
                    monitoring_interval=settings.monitoring_interval_seconds,
                    monitoring_role_arn=monitoring_role.arn,
                    tags=name_tag(f"{self.cluster_identifier}-{i + 1}"),
                    opts=child(self),
                )
            )

        if args.primary is None:
            self._rotation(name, args)
        self.endpoint = self.cluster.endpoint
        self.port = PORT
        self.reader_endpoint = self.cluster.reader_endpoint
        self.arn = self.cluster.arn
        self.cluster_resource_id = self.cluster.cluster_resource_id
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "readerEndpoint": self.reader_endpoint,
                "clusterIdentifier": self.cluster_identifier,
            }
        )

    def _rotation(self, name: str, args: DatabaseArgs) -> None:
        """Rotate the master password with AWS's single-user rotation function.

        Aurora cannot manage the master password of a global-database member itself, so
        Secrets Manager rotates the stored secret; the cluster ignores the drift."""
        assert self.master_secret is not None
        region = args.region.region
        function_name = f"{self.cluster_identifier}-master-rotation"
        rotation_sg = aws.ec2.SecurityGroup(
            f"{name}-rotation-sg",
            vpc_id=args.vpc_id,
            description="master password rotation function: PostgreSQL and HTTPS out",
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp", from_port=p, to_port=p, cidr_blocks=[args.region.vpc_cidr]
                )
                for p in (PORT, 443)
            ],
            tags=name_tag(f"{self.cluster_identifier}-rotation"),
            opts=child(self),
        )
        application = aws.serverlessrepository.CloudFormationStack(
            f"{name}-rotation-function",
            name=function_name,
            application_id=ROTATION_APPLICATION,
            capabilities=["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"],
            parameters={
                "endpoint": f"https://secretsmanager.{region}.amazonaws.com",
                "functionName": function_name,
                "kmsKeyArn": args.kms_key_arn,
                "vpcSubnetIds": pulumi.Output.all(*args.rotation_subnet_ids).apply(",".join),
                "vpcSecurityGroupIds": rotation_sg.id,
            },
            opts=child(self),
        )
        aws.secretsmanager.SecretRotation(
            f"{name}-master-rotation",
            secret_id=self.master_secret.id,
            rotation_lambda_arn=application.outputs["RotationLambdaARN"],
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                automatically_after_days=args.master_rotation_days
            ),
            opts=child(self, depends_on=list(self.instances)),
        )

"""Scheduled restore verification in the primary region's EKS cluster.

- `restore-verification` (weekly CronJob): `python -m chaos.aws.restore_cli` restores the
  primary Aurora cluster to its latest restorable time into a temporary, isolated cluster,
  checks it through a read-only session and deletes it; it puts `RestoreVerified` (1/0).
- `restore-test-validation` (daily CronJob): `python -m chaos.aws.restore_freshness`
  validates AWS Backup's own restore tests (`PutRestoreValidationResult`) and puts
  `HoursSinceVerifiedRestore` and `RestoreTestFailures`.
- Alarms on the alarm topic: a failed drill, no verified restore for 8 days (on the daily
  age metric: an alarm cannot span 8 days of the drill's own metric, PutMetricAlarm caps
  period x evaluation periods at 7 days), and failing AWS Backup restore tests.

Both jobs run the restore verifier image (Dockerfile.restore-verifier: the service plus the
`chaos` package, in the service's repository as `<imageTag>-restore-verifier`, pinned by the
stack config `orders:workload.restoreVerifierImageDigest`) under one IRSA role whose
policy allows the restore, the temporary resources (by name prefix or tag) and nothing on
the source beyond reading and restoring from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.common import COMPONENT_PREFIX, child, irsa_role, policy_document
from infra.registry import regional_repository
from infra.workload.args import manifest

SERVICE_ACCOUNT = "orders-restore-verification"
DRILL_JOB, VALIDATION_JOB = "restore-verification", "restore-test-validation"
METRIC_NAMESPACE = "Orders/RestoreVerification"
WEEKLY_SCHEDULE = "0 3 * * 1"  # Mondays 03:00 UTC, after the weekend's backups
DAILY_SCHEDULE = "30 6 * * *"
RESTORE_TIMEOUT_S = 5400  # per wait (restore, then each deletion): within the Job deadline
JOB_DEADLINE_S = 4 * 3600
STALE_AFTER_HOURS = 8 * 24
RDS_CA_BUNDLE = "/etc/ssl/rds/global-bundle.pem"  # baked into the verifier image
IMAGE_TAG_SUFFIX = "-restore-verifier"
PURPOSE_TAG = {"aws:ResourceTag/purpose": "restore-drill"}  # chaos.aws.restore's tags


@dataclass(frozen=True)
class RestoreTestingArgs:
    prefix: str
    region: str
    account_id: pulumi.Input[str]
    namespace: str
    image: str
    labels: dict[str, str]  # the workload's common labels (network policies select on them)
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    cluster_identifier: str
    vpc_id: pulumi.Input[str]
    client_cidrs: Sequence[str]  # where the pods run: the restored cluster's only ingress
    database_kms_key_arn: pulumi.Input[str]
    master_secret_arn: pulumi.Input[str]
    db_subnet_group_name: pulumi.Input[str]
    restore_testing_plan_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    depends_on: Sequence[pulumi.Resource] = ()  # the namespace


def restore_verification_policy(args: dict[str, str]) -> str:
    """Least privilege for both jobs; `args`: region, account, cluster, vpc, key, secret."""
    rds = f"arn:aws:rds:{args['region']}:{args['account']}"
    temporary = f"{args['cluster']}-restore-*"  # chaos.aws.restore.temporary_identifier
    ec2 = f"arn:aws:ec2:{args['region']}:{args['account']}"
    return policy_document([
        {"Sid": "Describe", "Effect": "Allow",
         "Action": ["rds:DescribeDBClusters", "rds:DescribeDBInstances",
                    "rds:DescribeDBSubnetGroups"],
         "Resource": [f"{rds}:cluster:*", f"{rds}:db:*", f"{rds}:subgrp:*"]},
        {"Sid": "RestoreIntoTemporaryCluster", "Effect": "Allow",
         "Action": "rds:RestoreDBClusterToPointInTime",
         "Resource": [f"{rds}:cluster:{args['cluster']}", f"{rds}:cluster:{temporary}",
                      f"{rds}:cluster-pg:*", f"{rds}:og:*", f"{rds}:subgrp:*"]},
        {"Sid": "TemporaryInstance", "Effect": "Allow", "Action": "rds:CreateDBInstance",
         "Resource": [f"{rds}:db:{temporary}", f"{rds}:cluster:{temporary}", f"{rds}:og:*",
                      f"{rds}:pg:*", f"{rds}:subgrp:*"]},
        {"Sid": "TagAndDeleteTemporary", "Effect": "Allow",
         "Action": ["rds:AddTagsToResource", "rds:DeleteDBInstance", "rds:DeleteDBCluster"],
         "Resource": [f"{rds}:db:{temporary}", f"{rds}:cluster:{temporary}",
                      f"{rds}:cluster-snapshot:{temporary}"]},
        {"Sid": "RestoreWithTheDatabaseKey", "Effect": "Allow",
         "Action": ["kms:CreateGrant", "kms:DescribeKey"], "Resource": args["key"],
         "Condition": {"StringEquals": {"kms:ViaService": f"rds.{args['region']}.amazonaws.com"}}},
        {"Sid": "ReadMasterSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": args["secret"]},
        {"Sid": "DecryptMasterSecret", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": args["key"], "Condition": {"StringEquals": {
             "kms:ViaService": f"secretsmanager.{args['region']}.amazonaws.com"}}},
        # aws:RequestTag is the request's: it holds for the VPC resource as for the group
        {"Sid": "CreateTaggedGroupInTheVpc", "Effect": "Allow",
         "Action": "ec2:CreateSecurityGroup",
         "Resource": [f"{ec2}:vpc/{args['vpc']}", f"{ec2}:security-group/*"],
         "Condition": {"StringEquals": {"aws:RequestTag/purpose": "restore-drill"}}},
        {"Sid": "TagOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": f"{ec2}:security-group/*",
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}}},
        {"Sid": "ManageTaggedGroup", "Effect": "Allow",
         "Action": ["ec2:RevokeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:DeleteSecurityGroup"],
         "Resource": f"{ec2}:security-group/*",
         "Condition": {"StringEquals": PURPOSE_TAG}},
        {"Sid": "ValidateRestoreTests", "Effect": "Allow",
         "Action": ["backup:ListRestoreJobs", "backup:PutRestoreValidationResult"],
         "Resource": "*"},
        {"Sid": "ReadVerificationMetric", "Effect": "Allow",
         "Action": "cloudwatch:GetMetricStatistics", "Resource": "*"},
        {"Sid": "PutVerificationMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
         "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}}},
    ])


class RestoreTesting(pulumi.ComponentResource):
    def __init__(self, name: str, args: RestoreTestingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:RestoreTesting", name, None, opts)
        self.args = args
        policy = pulumi.Output.all(
            args.account_id, args.vpc_id, args.database_kms_key_arn, args.master_secret_arn
        ).apply(lambda v: restore_verification_policy({
            "region": args.region, "account": str(v[0]), "cluster": args.cluster_identifier,
            "vpc": str(v[1]), "key": str(v[2]), "secret": str(v[3])}))
        role = irsa_role(f"{name}-role", self, args.oidc_provider_arn, args.oidc_provider_url,
                         args.namespace, SERVICE_ACCOUNT, policy,
                         description="restore verification: PITR drill and restore-test checks")
        k8s_opts = child(self, depends_on=list(args.depends_on))
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata={"name": SERVICE_ACCOUNT, "namespace": args.namespace,
                      "annotations": {"eks.amazonaws.com/role-arn": role.arn}},
            automount_service_account_token=False,
            opts=k8s_opts,
        )
        jobs_opts = pulumi.ResourceOptions.merge(k8s_opts,
                                                 pulumi.ResourceOptions(depends_on=[account]))
        self.drill_job = self._cron_job(
            f"{name}-drill", DRILL_JOB, WEEKLY_SCHEDULE,
            pulumi.Output.from_input(args.master_secret_arn).apply(self._drill_command),
            jobs_opts)
        self.validation_job = self._cron_job(
            f"{name}-validation", VALIDATION_JOB, DAILY_SCHEDULE,
            pulumi.Output.all(args.restore_testing_plan_arn, args.database_kms_key_arn,
                              args.db_subnet_group_name).apply(self._validation_command),
            jobs_opts)
        self._alarms(name)
        self.register_outputs({"roleArn": role.arn})

    def _drill_command(self, secret_arn: str) -> list[str]:
        a = self.args
        command = ["python", "-m", "chaos.aws.restore_cli", "--region", a.region,
                   "--cluster-id", a.cluster_identifier, "--master-secret-arn", secret_arn,
                   "--restore-timeout", str(RESTORE_TIMEOUT_S),
                   "--ssl-root-cert", RDS_CA_BUNDLE, "--publish-metrics", METRIC_NAMESPACE,
                   "--reports-dir", "/tmp/reports"]  # noqa: S108 (an emptyDir)
        for cidr in a.client_cidrs:
            command += ["--client-cidr", cidr]
        return command

    def _validation_command(self, values: list[Any]) -> list[str]:
        a = self.args
        plan_arn, key_arn, subnet_group = (str(v) for v in values)
        return ["python", "-m", "chaos.aws.restore_freshness", "--region", a.region,
                "--cluster", a.cluster_identifier, "--namespace", METRIC_NAMESPACE,
                "--restore-testing-plan-arn", plan_arn, "--kms-key-arn", key_arn,
                "--db-subnet-group", subnet_group]

    def _cron_job(self, resource: str, job: str, schedule: str,
                  command: pulumi.Input[list[str]],
                  opts: pulumi.ResourceOptions) -> k8s.batch.v1.CronJob:
        labels = self.args.labels | {"app.kubernetes.io/name": job}
        container = {
            "name": job, "image": self.args.image, "imagePullPolicy": "IfNotPresent",
            "command": command,
            "env": [{"name": "AWS_REGION", "value": self.args.region}],
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                          "limits": {"cpu": "500m", "memory": "512Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 (emptyDir)
        }
        pod = {
            "metadata": {"labels": labels},
            "spec": {
                "serviceAccountName": SERVICE_ACCOUNT,
                "automountServiceAccountToken": False,
                "restartPolicy": "Never",
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                    "runAsGroup": 10001, "fsGroup": 10001,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [container],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
            },
        }
        # Passed through `manifest` (typed Any), as every Kubernetes object here: the SDK's
        # TypedDict unions make mypy's inference of a literal this nested explode (GBs).
        return k8s.batch.v1.CronJob(
            resource,
            **manifest(metadata={"name": job, "namespace": self.args.namespace,
                                 "labels": labels},
                       spec={
                "schedule": schedule,
                "timeZone": "Etc/UTC",
                # never two restores at once, and no retry that would start a second one
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 3600,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"metadata": {"labels": labels}, "spec": {
                    "backoffLimit": 0, "activeDeadlineSeconds": JOB_DEADLINE_S,
                    "ttlSecondsAfterFinished": 7 * 86400, "template": pod}},
            }),
            opts=opts,
        )

    def _alarms(self, name: str) -> None:
        a = self.args
        dimensions = {"SourceDBClusterIdentifier": a.cluster_identifier}
        for suffix, metric, statistic, operator, threshold, missing, description in (
            ("restore-drill-failed", "RestoreVerified", "Minimum", "LessThanThreshold", 1.0,
             "notBreaching", "the weekly point-in-time restore drill failed: runbooks/"
             "restore-from-backup.md"),
            ("restore-not-verified-8d", "HoursSinceVerifiedRestore", "Maximum",
             "GreaterThanThreshold", float(STALE_AFTER_HOURS), "breaching",
             "no verified restore of the orders database for 8 days (or the daily check "
             "stopped): runbooks/restore-from-backup.md"),
            ("restore-tests-failing", "RestoreTestFailures", "Maximum", "GreaterThanThreshold",
             0.0, "notBreaching", "AWS Backup restore tests of the orders database failed or "
             "failed validation: runbooks/restore-from-backup.md"),
        ):
            aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                name=f"{a.prefix}-{suffix}",
                alarm_description=description,
                namespace=METRIC_NAMESPACE,
                metric_name=metric,
                dimensions=dimensions,
                statistic=statistic,
                comparison_operator=operator,
                threshold=threshold,
                period=86400,  # one day x one period: within PutMetricAlarm's 7-day cap
                evaluation_periods=1,
                treat_missing_data=missing,
                alarm_actions=[a.alarm_topic_arn],
                ok_actions=[a.alarm_topic_arn],
                opts=child(self),
            )


def verifier_image(cfg: Any) -> str:
    """`<service repository in the primary region>:<imageTag>-restore-verifier@<digest>`."""
    digest = cfg.workload.restore_verifier_image_digest
    repository = regional_repository(cfg.workload.image_repository, cfg.primary.region)
    return f"{repository}:{cfg.workload.image_tag}{IMAGE_TAG_SUFFIX}@{digest}"


def create_restore_testing(cfg: Any, primary: Any, restore_testing_plan_arn: pulumi.Input[str],
                           account_id: pulumi.Input[str]) -> RestoreTesting | None:
    """The program's hook (infra/program.py, after `Backup`): `cfg` a StackConfig, `primary`
    the primary RegionStack. None when the primary has no master secret to read."""
    database = primary.database
    if database.master_secret is None:
        return None
    return RestoreTesting(
        "primary-restore-testing",
        RestoreTestingArgs(
            prefix=cfg.prefix,
            region=cfg.primary.region,
            account_id=account_id,
            namespace=cfg.workload.namespace,
            image=verifier_image(cfg),
            labels={"app.kubernetes.io/part-of": "investment-orders",
                    "orders/region-role": "primary"},
            oidc_provider_arn=primary.cluster.oidc_provider_arn,
            oidc_provider_url=primary.cluster.oidc_provider_url,
            cluster_identifier=database.cluster_identifier,
            vpc_id=primary.network.vpc_id,
            client_cidrs=primary.network.private_cidrs,
            database_kms_key_arn=primary.keys.database.arn,
            master_secret_arn=database.master_secret.arn,
            db_subnet_group_name=database.subnet_group.name,
            restore_testing_plan_arn=restore_testing_plan_arn,
            alarm_topic_arn=primary.alarms.topic.arn,
            depends_on=[primary.workload],
        ),
        opts=pulumi.ResourceOptions(providers={"aws": primary.provider,
                                               "kubernetes": primary.cluster.kubernetes}),
    )

"""The adversarial mutations of the real program's plan (see ``adversarial``).

Requirement labels: ``FSBP <id>`` (AWS Security Hub FSBP), ``CIS-AWS <id>`` (CIS AWS 3.0),
``CIS-EKS <id>`` (CIS EKS 1.5), ``PSS <rule>`` (Pod Security Standard restricted), ``CP
<policy>`` (pulumi/compliance-policies) and ``PLATFORM <rule>`` for the platform's own
requirements (required resources, evasions) that no public control set states.
"""

from __future__ import annotations

from typing import Any

from .adversarial import Mutation
from .adversarial_helpers import (
    FOREIGN_ACCOUNT,
    add,
    both,
    copy_of,
    drop,
    edit,
    in_container,
    in_pod,
    policy_doc,
    retype,
    set_,
    unset,
)

API, WORKER, RELAY = "primary-workload-api", "primary-workload-worker", "primary-workload-relay"
DB, CACHE, DB_SG, CACHE_SG = (
    "primary-database-cluster",
    "primary-cache-redis",
    "primary-database-sg",
    "primary-cache-sg",
)
KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/d64e8fc5"  # the database key
PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


def _pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "orders"},
        "spec": {"containers": [{"name": name, "image": "busybox:1.36"}], **spec},
    }


def _world(port: int, *cidrs: str) -> list[dict[str, Any]]:
    return [{"protocol": "tcp", "fromPort": port, "toPort": port, "cidrBlocks": list(cidrs)}]


M = Mutation
DELETIONS = [
    M(
        "del-backup-plan",
        "delete",
        "the backup plan is removed (selection left dangling)",
        ("PLATFORM backup-plan-linked", "SOC2 A1.2"),
        drop("backup-plan"),
    ),
    M(
        "del-backup-all",
        "delete",
        "plan, selection, restore tests and vault locks removed",
        ("PLATFORM backup-plan-linked", "SOC2 A1.2"),
        drop(
            "backup-plan",
            "backup-selection",
            "backup-restore-test-aurora",
            "backup-restore-test",
            "backup-primary-vault-lock",
            "backup-standby-vault-lock",
        ),
    ),
    M(
        "del-backup-selection",
        "delete",
        "the Aurora backup selection is removed",
        ("PLATFORM backup-selection", "SOC2 A1.2"),
        drop("backup-selection"),
    ),
    M(
        "del-flow-log",
        "delete",
        "the primary VPC's flow log is removed",
        ("CIS-AWS 3.7", "FSBP EC2.6"),
        drop("primary-network-flow-log"),
    ),
    M(
        "del-health-check",
        "delete",
        "the primary failover record's health check is removed",
        ("PLATFORM failover-health-check",),
        drop("dns-primary-health"),
    ),
    M(
        "del-default-deny",
        "delete",
        "the default-deny NetworkPolicy is removed",
        ("CIS-EKS 4.3.2",),
        drop("primary-workload-default-deny"),
    ),
    M(
        "del-db-alarms",
        "delete",
        "every Aurora alarm is removed",
        ("PLATFORM data-store-alarms",),
        drop(prefix="primary-alarms-db-"),
    ),
    M(
        "del-dlq-alarm",
        "delete",
        "the dead-letter queue alarm is removed",
        ("PLATFORM data-store-alarms",),
        drop("primary-alarms-dlq-not-empty"),
    ),
    M(
        "del-redis-alarms",
        "delete",
        "every Redis alarm is removed",
        ("PLATFORM data-store-alarms",),
        drop(prefix="primary-alarms-redis-"),
    ),
    M(
        "del-control-plane-log-group",
        "delete",
        "the EKS control-plane log group is removed",
        ("CIS-EKS 2.1.1", "PCI 10.5.1"),
        drop("primary-cluster-control-plane-logs"),
    ),
    M(
        "del-pdb",
        "delete",
        "the API's PodDisruptionBudget is removed",
        ("PLATFORM pdb-per-workload",),
        drop("primary-workload-api-pdb"),
    ),
    M(
        "del-vault-lock",
        "delete",
        "the primary backup vault lock is removed",
        ("PLATFORM vault-lock",),
        drop("backup-primary-vault-lock"),
    ),
    M(
        "del-db-key",
        "delete",
        "the database KMS key is removed (the cluster keeps its ARN)",
        ("PLATFORM keys-in-stack", "PCI 3.6.1"),
        drop("primary-keys-database"),
    ),
    M(
        "del-param-group",
        "delete",
        "the TLS cluster parameter group is removed",
        ("PLATFORM tls-parameter-group",),
        drop("primary-database-params"),
    ),
    M(
        "del-namespace",
        "delete",
        "the restricted namespace declaration is removed",
        ("CIS-EKS 4.2.1", "PSS namespace"),
        drop("primary-workload-namespace"),
    ),
    M(
        "del-restore-test",
        "delete",
        "the restore-test selection is removed (advisory control)",
        ("SOC2 A1.3",),
        drop("backup-restore-test-aurora"),
        mandatory=False,
    ),
]

ADDITIONS = [
    M(
        "add-rds-unencrypted",
        "add",
        "an unencrypted aws:rds/instance is added",
        ("FSBP RDS.3", "CIS-AWS 2.3.1", "CP aws-rds-instance-disallow-unencrypted-storage"),
        add(
            "aws:rds/instance:Instance",
            "reports-db",
            {
                "identifier": "reports",
                "storageEncrypted": False,
                "backupRetentionPeriod": 14,
                "deletionProtection": True,
                "multiAz": True,
            },
        ),
    ),
    M(
        "add-rds-public",
        "add",
        "a publicly accessible RDS instance is added",
        ("FSBP RDS.2", "CIS-AWS 2.3.3", "CP aws-rds-instance-disallow-public-access"),
        add(
            "aws:rds/instance:Instance",
            "reports-db",
            {
                "identifier": "reports",
                "storageEncrypted": True,
                "kmsKeyId": KEY_ARN,
                "publiclyAccessible": True,
                "backupRetentionPeriod": 14,
                "deletionProtection": True,
                "multiAz": True,
            },
        ),
    ),
    M(
        "add-s3-public",
        "add",
        "a public-read S3 bucket without public access block is added",
        ("FSBP S3.2", "FSBP S3.8", "CIS-AWS 2.1.4", "CP aws-s3-bucket-disallow-public-read"),
        add("aws:s3/bucket:Bucket", "exports", {"bucket": "orders-exports", "acl": "public-read"}),
    ),
    M(
        "add-s3-bare",
        "add",
        "a bucket with no encryption, versioning or TLS policy is added",
        (
            "FSBP S3.4",
            "FSBP S3.5",
            "FSBP S3.14",
            "CIS-AWS 2.1.1",
            "CP aws-s3-bucket-configure-server-side-encryption-customer-managed-key",
        ),
        add("aws:s3/bucket:Bucket", "exports", {"bucket": "orders-exports"}),
    ),
    M(
        "add-dynamodb",
        "add",
        "a DynamoDB table with defaults is added",
        ("FSBP DynamoDB.2", "PLATFORM cmk"),
        add("aws:dynamodb/table:Table", "sessions", {"name": "sessions", "hashKey": "id"}),
    ),
    M(
        "add-efs",
        "add",
        "an unencrypted EFS file system is added",
        ("FSBP EFS.1", "CIS-AWS 2.4.1", "CP aws-efs-filesystem-disallow-unencrypted-file-system"),
        add("aws:efs/fileSystem:FileSystem", "shared", {"encrypted": False}),
    ),
    M(
        "add-efs-one-zone",
        "add",
        "a One Zone EFS file system is added",
        ("CP aws-efs-filesystem-disallow-single-availability-zone",),
        add(
            "aws:efs/fileSystem:FileSystem",
            "shared",
            {"encrypted": True, "kmsKeyId": KEY_ARN, "availabilityZoneName": "eu-central-1a"},
        ),
    ),
    M(
        "add-elasticache-single",
        "add",
        "a single-node ElastiCache cluster is added",
        ("FSBP ElastiCache.3", "FSBP ElastiCache.4", "FSBP ElastiCache.5"),
        add(
            "aws:elasticache/cluster:Cluster",
            "sessions-cache",
            {"engine": "redis", "numCacheNodes": 1},
        ),
    ),
    M(
        "add-ec2-imdsv1",
        "add",
        "an EC2 instance allowing IMDSv1 is added",
        ("FSBP EC2.8", "CIS-AWS 5.6"),
        add(
            "aws:ec2/instance:Instance",
            "bastion",
            {
                "instanceType": "t3.micro",
                "metadataOptions": {"httpTokens": "optional"},
                "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN},
            },
        ),
    ),
    M(
        "add-ec2-public-ip",
        "add",
        "an EC2 instance with a public IP is added",
        ("FSBP EC2.9", "CP aws-ec2-instance-disallow-public-ip"),
        add(
            "aws:ec2/instance:Instance",
            "bastion",
            {
                "associatePublicIpAddress": True,
                "metadataOptions": {"httpTokens": "required"},
                "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN},
            },
        ),
    ),
    M(
        "add-ec2-unencrypted-root",
        "add",
        "an EC2 instance with an unencrypted root volume",
        ("FSBP EC2.3", "CP aws-ec2-instance-disallow-unencrypted-root-block-device"),
        add(
            "aws:ec2/instance:Instance", "bastion", {"metadataOptions": {"httpTokens": "required"}}
        ),
    ),
    M(
        "add-privileged-pod",
        "add",
        "a bare privileged Pod is added",
        ("CP kubernetes-core-v1-pod-disallow-pod", "CIS-EKS 4.2.1", "PSS privileged"),
        add("kubernetes:core/v1:Pod", "debug", _pod("debug", hostNetwork=True)),
    ),
    M(
        "add-lb-service",
        "add",
        "a LoadBalancer Service is added",
        ("CP kubernetes-core-v1-service-disallow-load-balancer",),
        add(
            "kubernetes:core/v1:Service",
            "direct",
            {
                "metadata": {"name": "direct", "namespace": "orders"},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
            },
        ),
    ),
    M(
        "add-nodeport-service",
        "add",
        "a NodePort Service is added",
        ("PLATFORM ingress-only",),
        add(
            "kubernetes:core/v1:Service",
            "direct",
            {
                "metadata": {"name": "direct", "namespace": "orders"},
                "spec": {"type": "NodePort", "ports": [{"port": 80}]},
            },
        ),
    ),
    M(
        "add-launch-template-imdsv1",
        "add",
        "a launch template allowing IMDSv1 is added",
        ("FSBP AutoScaling.3", "FSBP EC2.8"),
        add("aws:ec2/launchTemplate:LaunchTemplate", "batch-template", {"metadataOptions": {}}),
    ),
    M(
        "add-iam-admin",
        "add",
        "a managed IAM policy granting *:* is added",
        ("FSBP IAM.1", "CIS-AWS 1.16"),
        add(
            "aws:iam/policy:Policy",
            "break-glass",
            {"policy": policy_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        ),
    ),
    M(
        "add-public-trust",
        "add",
        "a role anyone may assume is added",
        ("PLATFORM no-public-principal",),
        add(
            "aws:iam/role:Role",
            "open-role",
            {
                "assumeRolePolicy": policy_doc(
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                )
            },
        ),
    ),
    M(
        "add-unknown-type",
        "add",
        "a Lightsail instance (a type no control reviewed) is added",
        ("PLATFORM fail-closed",),
        add("aws:lightsail/instance:Instance", "side-box", {}),
    ),
    M(
        "add-lambda",
        "add",
        "a Lambda function (not on the allow-list) is added",
        ("PLATFORM fail-closed",),
        add("aws:lambda/function:Function", "fn", {"runtime": "python3.12"}),
    ),
    M(
        "add-cluster-admin-binding",
        "add",
        "a ClusterRoleBinding to cluster-admin is added",
        ("CIS-EKS 4.1.1", "PLATFORM fail-closed"),
        add(
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            "admin",
            {"roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}},
        ),
    ),
    M(
        "add-ecr-defaults",
        "add",
        "an ECR repository with mutable tags and no scanning is added",
        ("FSBP ECR.1", "FSBP ECR.2", "CIS-EKS 5.1.1"),
        add("aws:ecr/repository:Repository", "images", {"name": "images"}),
    ),
    M(
        "add-alb-no-logs",
        "add",
        "an ALB without access logs or header dropping is added",
        ("FSBP ELB.4", "FSBP ELB.5", "CP aws-lb-loadbalancer-enable-access-logging"),
        add(
            "aws:lb/loadBalancer:LoadBalancer",
            "edge",
            {"loadBalancerType": "application", "enableDeletionProtection": True},
        ),
    ),
    M(
        "add-waf-empty",
        "add",
        "a WAF web ACL with no rules is added",
        ("FSBP WAF.10",),
        add(
            "aws:wafv2/webAcl:WebAcl",
            "edge-waf",
            {
                "rules": [],
                "defaultAction": {"allow": {}},
                "visibilityConfig": {"cloudwatchMetricsEnabled": True},
            },
        ),
    ),
    M(
        "add-sns-plain",
        "add",
        "an unencrypted SNS topic is added",
        ("FSBP SNS.1",),
        add("aws:sns/topic:Topic", "events", {"name": "events"}),
    ),
    M(
        "add-secret-aws-key",
        "add",
        "a secret using the AWS-managed key is added",
        ("CP aws-secretsmanager-secret-configure-customer-managed-key",),
        add("aws:secretsmanager/secret:Secret", "api-token", {"name": "api-token"}),
    ),
    M(
        "add-daemonset-hostpath",
        "add",
        "a DaemonSet mounting the node's root filesystem",
        ("PSS hostPath", "CIS-EKS 4.5.2"),
        add(
            "kubernetes:apps/v1:DaemonSet",
            "agent",
            {
                "metadata": {"name": "agent", "namespace": "orders"},
                "spec": {
                    "template": {
                        "spec": {
                            "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
                            "containers": [{"name": "agent", "image": "agent:1.0"}],
                        }
                    }
                },
            },
        ),
    ),
    M(
        "add-cronjob-latest",
        "add",
        "a CronJob running an image tagged latest",
        ("PLATFORM pinned-images",),
        add(
            "kubernetes:batch/v1:CronJob",
            "report",
            {
                "metadata": {"name": "report", "namespace": "orders"},
                "spec": {
                    "jobTemplate": {
                        "spec": {
                            "template": {
                                "spec": {
                                    "containers": [{"name": "report", "image": "report:latest"}]
                                }
                            }
                        }
                    }
                },
            },
        ),
    ),
    M(
        "add-sg-rule-world",
        "add",
        "a security group rule opening PostgreSQL to the internet",
        ("FSBP EC2.18", "CIS-AWS 5.2"),
        add(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "db-world",
            {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv4": "0.0.0.0/0"},
        ),
    ),
    M(
        "add-ebs-plain",
        "add",
        "an unencrypted EBS volume is added",
        ("FSBP EC2.7", "CIS-AWS 2.2.1"),
        add(
            "aws:ebs/volume:Volume",
            "scratch",
            {"encrypted": False, "availabilityZone": "eu-central-1a"},
        ),
    ),
    M(
        "add-queue-plain",
        "add",
        "a queue without a customer-managed key is added",
        ("FSBP SQS.1",),
        add("aws:sqs/queue:Queue", "events", {"name": "events"}),
    ),
    M(
        "add-log-group-plain",
        "add",
        "a log group without key or retention is added",
        ("PCI 10.5.1", "PLATFORM log-groups"),
        add("aws:cloudwatch/logGroup:LogGroup", "app", {"name": "/app"}),
    ),
    M(
        "add-kms-no-rotation",
        "add",
        "a symmetric key without rotation is added",
        ("FSBP KMS.4", "CIS-AWS 3.6"),
        add("aws:kms/key:Key", "extra-key", {"description": "extra"}),
    ),
]

RENAMES = [
    M(
        "rename-bucket-v2",
        "rename",
        "a bucket declared with the pre-v7 type BucketV2",
        ("PLATFORM fail-closed",),
        add("aws:s3/bucketV2:BucketV2", "legacy", {"bucket": "legacy"}),
    ),
    M(
        "rename-deployment-beta",
        "rename",
        "the worker Deployment under a beta API version",
        ("PLATFORM fail-closed",),
        retype(WORKER, "kubernetes:apps/v1beta1:Deployment"),
    ),
    M(
        "rename-rollout-version",
        "rename",
        "the API Rollout under another API version",
        ("PLATFORM fail-closed",),
        retype(API, "kubernetes:argoproj.io/v1alpha2:Rollout"),
    ),
    M(
        "rename-cluster-type",
        "rename",
        "the Aurora cluster under an unreviewed type token",
        ("PLATFORM fail-closed",),
        retype(DB, "aws:rds/cluster:ClusterV2"),
    ),
    M(
        "rename-dynamic",
        "rename",
        "a dynamic-provider resource (arbitrary code) is added",
        ("PLATFORM fail-closed",),
        add("pulumi-python:dynamic:Resource", "custom", {}),
    ),
]

WEAKENINGS = [
    M(
        "lt-imdsv1",
        "weaken",
        "node launch template allows IMDSv1",
        ("FSBP EC2.8", "CIS-AWS 5.6"),
        set_("primary-cluster-node-template", ("metadataOptions", "httpTokens"), "optional"),
    ),
    M(
        "lt-unencrypted",
        "weaken",
        "node launch template disk unencrypted",
        ("FSBP EC2.7", "CIS-AWS 2.2.1"),
        set_(
            "primary-cluster-node-template", ("blockDeviceMappings", 0, "ebs", "encrypted"), "false"
        ),
    ),
    M(
        "escalation",
        "weaken",
        "API container allows privilege escalation",
        ("CIS-EKS 4.2.5", "PSS allowPrivilegeEscalation"),
        in_container(API, lambda c: c["securityContext"].update(allowPrivilegeEscalation=True)),
    ),
    M(
        "host-network",
        "weaken",
        "worker pods share the host network",
        ("CIS-EKS 4.2.4", "PSS host-namespaces"),
        in_pod(WORKER, lambda s: s.update(hostNetwork=True)),
    ),
    M(
        "host-pid",
        "weaken",
        "relay pods share the host PID namespace",
        ("CIS-EKS 4.2.2", "PSS host-namespaces"),
        in_pod(RELAY, lambda s: s.update(hostPID=True)),
    ),
    M(
        "latest-tag",
        "weaken",
        "API image tagged latest",
        ("PLATFORM pinned-images",),
        in_container(API, lambda c: c.update(image=c["image"].rsplit(":", 1)[0] + ":latest")),
    ),
    M(
        "untagged",
        "weaken",
        "worker image without a tag",
        ("PLATFORM pinned-images",),
        in_container(WORKER, lambda c: c.update(image=c["image"].rsplit(":", 1)[0])),
    ),
    M(
        "privileged",
        "weaken",
        "API container privileged",
        ("CIS-EKS 4.2.1", "PSS privileged"),
        in_container(API, lambda c: c["securityContext"].update(privileged=True)),
    ),
    M(
        "run-as-root",
        "weaken",
        "worker runs as UID 0",
        ("PSS runAsNonRoot",),
        in_container(WORKER, lambda c: c["securityContext"].update(runAsUser=0)),
    ),
    M(
        "add-capability",
        "weaken",
        "relay adds NET_ADMIN",
        ("PSS capabilities",),
        in_container(
            RELAY, lambda c: c["securityContext"]["capabilities"].update(add=["NET_ADMIN"])
        ),
    ),
    M(
        "seccomp-unconfined",
        "weaken",
        "API pods run seccomp Unconfined",
        ("PSS seccomp",),
        in_pod(API, lambda s: s["securityContext"].update(seccompProfile={"type": "Unconfined"})),
    ),
    M(
        "writable-root",
        "weaken",
        "worker root filesystem writable",
        ("CP kubernetes-apps-v1-deployment-enable-read-only-root-filesystem",),
        in_container(WORKER, lambda c: c["securityContext"].update(readOnlyRootFilesystem=False)),
    ),
    M(
        "iam-star",
        "weaken",
        "KEDA's role policy allows *:*",
        ("FSBP IAM.1", "CIS-AWS 1.16"),
        set_(
            "primary-addons-keda-policy",
            ("policy",),
            policy_doc({"Effect": "Allow", "Action": "*:*", "Resource": "*"}),
        ),
    ),
    M(
        "iam-passrole",
        "weaken",
        "the service role may pass any role",
        ("FSBP IAM.21", "PLATFORM escalation"),
        set_(
            "primary-workload-service-role-policy",
            ("policy",),
            policy_doc(
                {"Effect": "Allow", "Action": ["iam:PassRole", "sqs:SendMessage"], "Resource": "*"}
            ),
        ),
    ),
    M(
        "iam-service-star",
        "weaken",
        "the autoscaler may call every EC2 action on everything",
        ("FSBP IAM.21",),
        set_(
            "primary-addons-cluster-autoscaler-policy",
            ("policy",),
            policy_doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}),
        ),
    ),
    M(
        "iam-notaction",
        "weaken",
        "a policy allows everything but one action",
        ("FSBP IAM.1", "CIS-AWS 1.16"),
        set_(
            "primary-addons-keda-policy",
            ("policy",),
            policy_doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        ),
    ),
    M(
        "sqs-public",
        "weaken",
        "the orders queue policy lets anyone send",
        ("PLATFORM no-public-principal", "FSBP SQS.3"),
        set_(
            "primary-queue-orders-tls-only",
            ("policy",),
            policy_doc(
                {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
            ),
        ),
    ),
    M(
        "kms-principal-star",
        "weaken",
        "the database key policy allows Principal *",
        ("PLATFORM no-public-principal", "PCI 3.6.1"),
        set_("primary-keys-database", ("policy",), policy_doc(PUBLIC)),
    ),
    M(
        "secret-key-removed",
        "weaken",
        "the Secrets Manager key is removed",
        ("CP aws-secretsmanager-secret-configure-customer-managed-key",),
        unset("primary-database-master-secret", ("kmsKeyId",)),
    ),
    M(
        "sns-key-removed",
        "weaken",
        "the SNS topic key is removed",
        ("FSBP SNS.1",),
        unset("primary-alarms-topic", ("kmsMasterKeyId",)),
    ),
    M(
        "sg-two-halves",
        "weaken",
        "PostgreSQL open to 0.0.0.0/1 plus 128.0.0.0/1",
        ("FSBP EC2.18", "CIS-AWS 5.2"),
        set_(DB_SG, ("ingress",), _world(5432, "0.0.0.0/1", "128.0.0.0/1")),
    ),
    M(
        "sg-world-v6",
        "weaken",
        "Redis open to ::/0",
        ("FSBP EC2.18", "CIS-AWS 5.3"),
        set_(
            CACHE_SG,
            ("ingress",),
            [{"protocol": "tcp", "fromPort": 6379, "toPort": 6379, "ipv6CidrBlocks": ["::/0"]}],
        ),
    ),
    M(
        "sg-world",
        "weaken",
        "PostgreSQL open to 0.0.0.0/0",
        ("FSBP EC2.18", "CIS-AWS 5.2"),
        set_(DB_SG, ("ingress",), _world(5432, "0.0.0.0/0")),
    ),
    M(
        "sg-broad",
        "weaken",
        "PostgreSQL open to a /4 of public addresses",
        ("FSBP EC2.18",),
        set_(DB_SG, ("ingress",), _world(5432, "64.0.0.0/4")),
    ),
    M(
        "tls-v1",
        "weaken",
        "ssl_min_protocol_version lowered to TLSv1",
        ("PCI 4.2.1", "PLATFORM tls"),
        set_("primary-database-params", ("parameters", 1, "value"), "TLSv1"),
    ),
    M(
        "force-ssl-off",
        "weaken",
        "rds.force_ssl set to 0",
        ("PCI 4.2.1", "PLATFORM tls"),
        set_("primary-database-params", ("parameters", 0, "value"), "0"),
    ),
    M(
        "db-unencrypted",
        "weaken",
        "Aurora storage encryption off",
        ("FSBP RDS.27", "CIS-AWS 2.3.1"),
        set_(DB, ("storageEncrypted",), False),
    ),
    M(
        "db-aws-key",
        "weaken",
        "Aurora uses the AWS-managed key",
        ("CP aws-rds-cluster-configure-customer-managed-key",),
        set_(DB, ("kmsKeyId",), "alias/aws/rds"),
    ),
    M(
        "db-backup-1",
        "weaken",
        "Aurora backup retention 1 day",
        ("FSBP RDS.11", "CP aws-rds-cluster-configure-backup-retention"),
        set_(DB, ("backupRetentionPeriod",), 1),
    ),
    M(
        "db-deletion",
        "weaken",
        "Aurora deletion protection off",
        ("FSBP RDS.7",),
        set_(DB, ("deletionProtection",), False),
    ),
    M(
        "redis-transit",
        "weaken",
        "Redis transit encryption off",
        ("FSBP ElastiCache.5",),
        both(
            set_(CACHE, ("transitEncryptionEnabled",), False),
            unset(CACHE, ("transitEncryptionMode",)),
        ),
    ),
    M(
        "redis-at-rest",
        "weaken",
        "Redis at-rest encryption off",
        ("FSBP ElastiCache.4",),
        set_(CACHE, ("atRestEncryptionEnabled",), False),
    ),
    M(
        "eks-public",
        "weaken",
        "EKS endpoint public to the world",
        ("FSBP EKS.1", "CIS-EKS 5.4.1", "CIS-EKS 5.4.2"),
        both(
            set_("primary-cluster-eks", ("endpointPublicAccess",), True),
            set_("primary-cluster-eks", ("publicAccessCidrs",), ["0.0.0.0/0"]),
        ),
    ),
    M(
        "eks-audit-off",
        "weaken",
        "EKS audit and authenticator logs off",
        ("CIS-EKS 2.1.1", "FSBP EKS.8"),
        set_("primary-cluster-eks", ("enabledClusterLogTypes",), ["api"]),
    ),
    M(
        "eks-secrets-key",
        "weaken",
        "EKS secrets encryption key removed",
        ("FSBP EKS.3", "CIS-EKS 5.3.1"),
        unset("primary-cluster-eks", ("encryptionConfigKeyArn",)),
    ),
    M(
        "log-retention-7",
        "weaken",
        "control-plane log retention 7 days",
        ("PCI 10.5.1",),
        set_("primary-cluster-control-plane-logs", ("retentionInDays",), 7),
    ),
    M(
        "log-key-removed",
        "weaken",
        "flow-log log group key removed",
        ("PLATFORM log-groups",),
        unset("primary-network-flow-logs", ("kmsKeyId",)),
    ),
    M(
        "kms-rotation-off",
        "weaken",
        "database key rotation off",
        ("FSBP KMS.4", "CIS-AWS 3.6"),
        set_("primary-keys-database", ("enableKeyRotation",), False),
    ),
    M(
        "flow-log-reject-only",
        "weaken",
        "flow log captures rejected traffic only",
        ("CIS-AWS 3.7", "FSBP EC2.6"),
        set_("primary-network-flow-log", ("trafficType",), "REJECT"),
    ),
    M(
        "helm-unpinned",
        "weaken",
        "a Helm chart version range instead of a version",
        ("PLATFORM pinned-images",),
        set_("kubernetes:helm.sh/v3:Release::primary-addons-keda", ("version",), "^2.0.0"),
    ),
    M(
        "replicas-1",
        "weaken",
        "the primary API runs one replica",
        ("PLATFORM min-replicas", "SOC2 A1.2"),
        both(
            set_(API, ("spec", "replicas"), 1),
            set_("primary-workload-api-hpa", ("spec", "minReplicas"), 1),
        ),
    ),
    M(
        "instance-public",
        "weaken",
        "an Aurora instance publicly accessible",
        ("FSBP RDS.2", "CIS-AWS 2.3.3"),
        set_("primary-database-instance-1", ("publiclyAccessible",), True),
    ),
    M(
        "minor-upgrades-off",
        "weaken",
        "automatic minor version upgrades off",
        ("FSBP RDS.13", "CIS-AWS 2.3.2"),
        set_("primary-database-instance-1", ("autoMinorVersionUpgrade",), False),
    ),
    M(
        "default-sg-open",
        "weaken",
        "the default security group allows all ingress",
        ("FSBP EC2.2", "CIS-AWS 5.4"),
        set_(
            "primary-network-default-sg",
            ("ingress",),
            [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
        ),
    ),
    M(
        "pdb-zero",
        "weaken",
        "the API PDB allows every pod to go",
        ("CP kubernetes-policy-v1-poddisruptionbudget-disallow-zero-voluntary-disruption",),
        edit("primary-workload-api-pdb", lambda i: i["spec"].update(maxUnavailable="100%")),
    ),
]


def _drop_pod_security_context(spec: dict[str, Any]) -> None:
    spec["securityContext"] = {}


COMBINATIONS = [
    M(
        "db-off-and-keyless",
        "combine",
        "Aurora encryption off and key removed together",
        ("FSBP RDS.27", "CIS-AWS 2.3.1"),
        both(set_(DB, ("storageEncrypted",), False), unset(DB, ("kmsKeyId",))),
    ),
    M(
        "pod-root-everything",
        "combine",
        "worker: hostNetwork, privileged, UID 0 at once",
        ("CIS-EKS 4.2.1", "CIS-EKS 4.2.4", "PSS privileged"),
        both(
            in_pod(WORKER, lambda s: s.update(hostNetwork=True)),
            in_container(
                WORKER, lambda c: c["securityContext"].update(privileged=True, runAsUser=0)
            ),
        ),
    ),
    M(
        "sg-split-rules",
        "combine",
        "two rules for one port, each opening half the internet",
        ("FSBP EC2.18", "CIS-AWS 5.2"),
        set_(DB_SG, ("ingress",), [*_world(5432, "0.0.0.0/1"), *_world(5432, "128.0.0.0/1")]),
    ),
    M(
        "eks-split-cidrs",
        "combine",
        "public EKS endpoint with the internet split in two CIDRs",
        ("FSBP EKS.1", "CIS-EKS 5.4.1"),
        both(
            set_("primary-cluster-eks", ("endpointPublicAccess",), True),
            set_("primary-cluster-eks", ("publicAccessCidrs",), ["0.0.0.0/1", "128.0.0.0/1"]),
        ),
    ),
    M(
        "pod-context-gone",
        "combine",
        "the API pod-level security context removed entirely",
        ("PSS seccomp", "PSS runAsNonRoot"),
        in_pod(API, _drop_pod_security_context),
    ),
]

EVASIONS = [
    M(
        "dlq-by-name",
        "evasion",
        "a FIFO queue named like a DLQ, without a dead-letter queue",
        ("PLATFORM dlq-by-redrive",),
        add(
            "aws:sqs/queue:Queue",
            "payments-dlq",
            {"name": "payments-dlq.fifo", "fifoQueue": True, "kmsMasterKeyId": KEY_ARN},
        ),
    ),
    M(
        "standby-label",
        "evasion",
        "primary API labelled standby to run one replica",
        ("PLATFORM standby-by-region",),
        both(
            set_(API, ("metadata", "labels", "orders/region-role"), "standby"),
            set_(API, ("spec", "replicas"), 1),
            set_("primary-workload-api-hpa", ("spec", "minReplicas"), 1),
        ),
    ),
    M(
        "foreign-key-arn",
        "evasion",
        "Aurora key ARN from another account with the same key id",
        ("PLATFORM same-account-keys", "PCI 3.6.1"),
        set_(DB, ("kmsKeyId",), KEY_ARN.replace("123456789012", FOREIGN_ACCOUNT)),
    ),
    M(
        "foreign-region-key",
        "evasion",
        "Redis key ARN from the standby region",
        ("PLATFORM keys-in-stack",),
        set_(CACHE, ("kmsKeyId",), KEY_ARN.replace("eu-central-1", "eu-west-1")),
    ),
    M(
        "undeclared-namespace",
        "evasion",
        "the worker moved to a namespace the stack does not declare",
        ("CIS-EKS 4.3.2", "PSS namespace"),
        set_(WORKER, ("metadata", "namespace"), "orders-tmp"),
    ),
    M(
        "public-principal-list",
        "evasion",
        'Principal {AWS: ["*"]} in list form',
        ("PLATFORM no-public-principal",),
        set_(
            "primary-queue-orders-tls-only",
            ("policy",),
            policy_doc(
                {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "sqs:*", "Resource": "*"}
            ),
        ),
    ),
    M(
        "useless-condition",
        "evasion",
        "Principal * with a condition that pins nothing",
        ("PLATFORM no-public-principal",),
        set_(
            "primary-queue-orders-tls-only",
            ("policy",),
            policy_doc(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": "*",
                    "Condition": {"StringLike": {"aws:UserAgent": "*"}},
                }
            ),
        ),
    ),
    M(
        "wildcard-escalation",
        "evasion",
        "iam:Pass* instead of iam:PassRole",
        ("PLATFORM escalation",),
        set_(
            "primary-workload-service-role-policy",
            ("policy",),
            policy_doc({"Effect": "Allow", "Action": "iam:Pass*", "Resource": "*"}),
        ),
    ),
    M(
        "checkpoint-governance",
        "evasion",
        "a checkpoint bucket whose lock is GOVERNANCE mode",
        ("PLATFORM audit-checkpoint-object-lock",),
        both(
            add("aws:s3/bucket:Bucket", "checkpoints", {"bucket": "cp", "objectLockEnabled": True}),
            add(
                "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                "cp-lock",
                {"bucket": "cp", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 365}}},
            ),
        ),
    ),
    M(
        "copy-as-component",
        "evasion",
        "an S3 bucket copied under a made-up type",
        ("PLATFORM fail-closed",),
        copy_of("primary-alarms-topic", "shadow", "aws:s3/bucketAclV2:BucketAclV2"),
    ),
]

CATALOGUE: list[Mutation] = [
    *DELETIONS,
    *ADDITIONS,
    *RENAMES,
    *WEAKENINGS,
    *COMBINATIONS,
    *EVASIONS,
]

"""Adversarial mutations: resource types added or renamed (see adversarial_catalogue)."""

from __future__ import annotations

from .adversarial import Mutation
from .adversarial_helpers import (
    API,
    DB,
    KEY_ARN,
    WORKER,
    add,
    pod,
    policy_doc,
    retype,
)

M = Mutation

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
        add("kubernetes:core/v1:Pod", "debug", pod("debug", hostNetwork=True)),
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

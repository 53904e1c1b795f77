"""Adversarial mutations, part three: the requirements the anchors' last gaps named (FSBP,
CIS AWS/EKS and compliance-policies controls that had no control before).

See ``adversarial_catalogue`` for the labels. Buckets and topics whose exceptions are
recorded in the waiver register are mutated through a newly added resource instead.
"""

from __future__ import annotations

from typing import Any

from .adversarial import Mutation
from .adversarial_helpers import (
    CACHE,
    DB,
    DB_SG,
    KEY_ARN,
    WORKER,
    add,
    both,
    drop,
    edit,
    in_container,
    policy_doc,
    set_,
    unset,
)

M = Mutation
INGRESS = "primary-workload-ingress"
_LB_ATTRIBUTES = "alb.ingress.kubernetes.io/load-balancer-attributes"


def _annotate(key: str, value: str, *, append: bool = False) -> Any:
    def change(inputs: dict[str, Any]) -> None:
        annotations = inputs["metadata"]["annotations"]
        annotations[key] = f"{annotations[key]},{value}" if append else value

    return change


def _drop_app_labels(inputs: dict[str, Any]) -> None:
    labels = inputs["metadata"]["labels"]
    for key in [k for k in labels if k.startswith("app.kubernetes.io/")]:
        del labels[key]


DATA_STORES = [
    M(
        "kms-short-deletion-window",
        "weaken",
        "the database key can be deleted after 7 days",
        ("FSBP KMS.3",),
        set_("primary-keys-database", ("deletionWindowInDays",), 7),
    ),
    M(
        "rds-no-log-exports",
        "weaken",
        "the Aurora cluster exports no PostgreSQL log",
        ("FSBP RDS.9",),
        set_(DB, ("enabledCloudwatchLogsExports",), []),
    ),
    M(
        "rds-default-vpc",
        "weaken",
        "the Aurora cluster loses its subnet group (default VPC)",
        ("FSBP RDS.18",),
        unset(DB, ("dbSubnetGroupName",)),
    ),
    M(
        "rds-no-performance-insights",
        "weaken",
        "Performance Insights is switched off on a cluster instance",
        ("CP aws-rds-clusterinstance-enable-performance-insights",),
        set_("primary-database-instance-1", ("performanceInsightsEnabled",), False),
    ),
    M(
        "cache-no-minor-upgrades",
        "weaken",
        "Redis automatic minor version upgrades are off",
        ("FSBP ElastiCache.2",),
        set_(CACHE, ("autoMinorVersionUpgrade",), False),
    ),
    M(
        "cache-old-redis-without-auth",
        "combine",
        "Redis downgraded to 5.0 and its AUTH token removed",
        ("FSBP ElastiCache.6",),
        both(set_(CACHE, ("engineVersion",), "5.0.6"), unset(CACHE, ("authToken",))),
    ),
    M(
        "add-provisioned-table",
        "add",
        "an encrypted, recoverable DynamoDB table with fixed provisioned capacity is added",
        ("FSBP DynamoDB.1",),
        add(
            "aws:dynamodb/table:Table",
            "orders-ledger",
            {
                "billingMode": "PROVISIONED",
                "readCapacity": 5,
                "writeCapacity": 5,
                "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
                "pointInTimeRecovery": {"enabled": True},
                "deletionProtectionEnabled": True,
            },
        ),
    ),
    M(
        "add-efs-without-backup",
        "add",
        "an encrypted multi-AZ EFS file system that no backup plan selects is added",
        ("FSBP EFS.2",),
        add("aws:efs/fileSystem:FileSystem", "shared-fs", {"encrypted": True, "kmsKeyId": KEY_ARN}),
    ),
    M(
        "add-database-on-default-port",
        "add",
        "a second database on the engine's default port is added",
        ("FSBP RDS.23",),
        add(
            "aws:rds/instance:Instance",
            "reporting-db",
            {"engine": "postgres", "port": 5432, "storageEncrypted": True, "kmsKeyId": KEY_ARN},
        ),
    ),
]

PLATFORM = [
    M(
        "alb-desync-monitor",
        "weaken",
        "the ALB's desync mitigation is set to monitor",
        ("FSBP ELB.12",),
        edit(
            INGRESS,
            _annotate(_LB_ATTRIBUTES, "routing.http.desync_mitigation_mode=monitor", append=True),
        ),
    ),
    M(
        "alb-single-subnet",
        "weaken",
        "the ALB is pinned to one subnet",
        ("FSBP ELB.13",),
        edit(INGRESS, _annotate("alb.ingress.kubernetes.io/subnets", "subnet-0a1b2c3d")),
    ),
    M(
        "eks-unsupported-version",
        "weaken",
        "the primary cluster runs Kubernetes 1.29 (out of standard support)",
        ("FSBP EKS.2",),
        set_("primary-cluster-eks", ("version",), "1.29"),
    ),
    M(
        "nodes-single-instance-type",
        "weaken",
        "a node group allows a single instance type",
        ("FSBP AutoScaling.6",),
        set_("primary-cluster-nodes-eu-central-1a", ("instanceTypes",), ["m6i.xlarge"]),
    ),
    M(
        "del-ecr-lifecycle",
        "delete",
        "the image repository's lifecycle policy is removed",
        ("FSBP ECR.3",),
        drop("primary-images-lifecycle"),
    ),
    M(
        "del-ec2-endpoint",
        "delete",
        "the EC2 VPC endpoint of the primary VPC is removed",
        ("FSBP EC2.10",),
        drop("primary-network-ec2"),
    ),
    M(
        "del-bucket-lifecycle",
        "delete",
        "the access-log bucket's lifecycle configuration is removed",
        ("FSBP S3.13", "FSBP S3.10"),
        drop("primary-edge-access-logs-lifecycle"),
    ),
    M(
        "bucket-key-off",
        "weaken",
        "the checkpoint bucket's SSE-KMS stops using a bucket key",
        ("CP aws-s3-bucket-enable-server-side-encryption-bucket-key",),
        set_("primary-audit-log-encryption", ("rules", 0, "bucketKeyEnabled"), False),
    ),
    M(
        "add-instance-without-profile",
        "add",
        "an IMDSv2, encrypted EC2 instance without an instance profile is added",
        ("FSBP SSM.1", "CIS-AWS 1.18"),
        add(
            "aws:ec2/instance:Instance",
            "bastion",
            {
                "instanceType": "t3.micro",
                "metadataOptions": {"httpTokens": "required"},
                "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN},
                "associatePublicIpAddress": False,
            },
        ),
    ),
    M(
        "sg-rule-undescribed",
        "weaken",
        "the database security group's ingress rule loses its description",
        ("CP aws-ec2-securitygroup-missing-ingress-rule-description",),
        unset(DB_SG, ("ingress", 0, "description")),
    ),
    M(
        "sg-default-description",
        "weaken",
        "the database security group has the provider's default description",
        ("CP aws-ec2-securitygroup-missing-description",),
        set_(DB_SG, ("description",), "Managed by Pulumi"),
    ),
    M(
        "kms-no-description",
        "weaken",
        "the database key has no description",
        ("CP aws-kms-key-missing-description",),
        unset("primary-keys-database", ("description",)),
    ),
    M(
        "iam-ecr-push",
        "weaken",
        "the service role may push images",
        ("CIS-EKS 5.1.2",),
        set_(
            "primary-workload-service-role-policy",
            ("policy",),
            policy_doc(
                {
                    "Effect": "Allow",
                    "Action": ["ecr:PutImage", "ecr:UploadLayerPart"],
                    "Resource": "arn:aws:ecr:eu-central-1:123456789012:repository/orders",
                }
            ),
        ),
    ),
    M(
        "nodes-ecr-power-user",
        "weaken",
        "the node role gets ECR power-user rights instead of read-only",
        ("CIS-EKS 5.1.3",),
        set_(
            "primary-cluster-node-role-AmazonEC2ContainerRegistryReadOnly",
            ("policyArn",),
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
        ),
    ),
]

KUBERNETES = [
    M(
        "secret-as-env",
        "weaken",
        "the worker reads the Redis password from an environment variable",
        ("CIS-EKS 4.4.1",),
        in_container(
            WORKER,
            lambda c: c.setdefault("env", []).append(
                {
                    "name": "REDIS_PASSWORD",
                    "valueFrom": {
                        "secretKeyRef": {"name": "orders-secrets", "key": "redis-password"}
                    },
                }
            ),
        ),
    ),
    M(
        "add-secret-with-values",
        "add",
        "a Kubernetes Secret holding a value is added",
        ("CIS-EKS 4.4.2",),
        add(
            "kubernetes:core/v1:Secret",
            "orders-extra-secret",
            {
                "metadata": {"name": "orders-extra", "namespace": "orders"},
                "type": "Opaque",
                "stringData": {"token": "[secret]"},
            },
        ),
    ),
    M(
        "pdb-zero-disruption",
        "weaken",
        "the worker's PDB allows no voluntary disruption",
        ("CP kubernetes-policy-v1-poddisruptionbudget-disallow-zero-voluntary-disruption",),
        set_("primary-workload-worker-pdb", ("spec", "maxUnavailable"), 0),
    ),
    M(
        "no-recommended-labels",
        "weaken",
        "the worker Deployment loses its app.kubernetes.io labels",
        ("CP kubernetes-apps-v1-deployment-configure-recommended-labels",),
        edit(WORKER, _drop_app_labels),
    ),
]

COVERAGE_MUTATIONS = [*DATA_STORES, *PLATFORM, *KUBERNETES]

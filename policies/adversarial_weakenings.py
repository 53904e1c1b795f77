"""Adversarial mutations, part two: weakened and combined properties, and evasions.

See ``adversarial_catalogue`` for the labels and part one.

Requirement labels: ``FSBP <id>`` (AWS Security Hub FSBP), ``CIS-AWS <id>`` (CIS AWS 3.0),
``CIS-EKS <id>`` (CIS EKS 1.5), ``PSS <rule>`` (Pod Security Standard restricted), ``CP
<policy>`` (pulumi/compliance-policies) and ``PLATFORM <rule>`` for the platform's own
requirements (required resources, evasions) that no public control set states.
"""

from __future__ import annotations

from .adversarial import Mutation
from .adversarial_helpers import (
    API,
    CACHE,
    CACHE_SG,
    DB,
    DB_SG,
    PUBLIC,
    RELAY,
    WORKER,
    both,
    edit,
    image_base,
    in_container,
    in_pod,
    policy_doc,
    scale_to,
    set_,
    unset,
    world,
)

M = Mutation

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
        in_container(API, lambda c: c.update(image=image_base(c["image"]) + ":latest")),
    ),
    M(
        "untagged",
        "weaken",
        "worker image without a tag",
        ("PLATFORM pinned-images",),
        in_container(WORKER, lambda c: c.update(image=image_base(c["image"]))),
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
        set_(DB_SG, ("ingress",), world(5432, "0.0.0.0/1", "128.0.0.0/1")),
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
        set_(DB_SG, ("ingress",), world(5432, "0.0.0.0/0")),
    ),
    M(
        "sg-broad",
        "weaken",
        "PostgreSQL open to a /4 of public addresses",
        ("FSBP EC2.18",),
        set_(DB_SG, ("ingress",), world(5432, "64.0.0.0/4")),
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
        scale_to(API, 1),
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
    M(
        "public-registry",
        "weaken",
        "worker image pulled from Docker Hub",
        ("CIS-EKS 5.1.4",),
        in_container(WORKER, lambda c: c.update(image="docker.io/library/python:3.12-slim")),
    ),
    M(
        "default-service-account",
        "weaken",
        "API pods under the default service account",
        ("CIS-EKS 4.1.5", "CIS-EKS 4.1.6", "CIS-EKS 5.2.1"),
        in_pod(
            API, lambda s: s.update(serviceAccountName="default", automountServiceAccountToken=True)
        ),
    ),
    M(
        "cni-policy-off",
        "weaken",
        "VPC CNI network policy enforcement off",
        ("CIS-EKS 5.4.4", "CIS-EKS 4.3.1"),
        set_("primary-cluster-eks", ("vpcCniOptions", "enableNetworkPolicy"), False),
    ),
    M(
        "public-nodes",
        "weaken",
        "EKS nodes get public IPs",
        ("CIS-EKS 5.4.3",),
        set_("primary-cluster-eks", ("nodeAssociatePublicIpAddress",), True),
    ),
    M(
        "db-iam-auth-off",
        "weaken",
        "Aurora IAM authentication off",
        ("FSBP RDS.12",),
        set_(DB, ("iamDatabaseAuthenticationEnabled",), False),
    ),
    M(
        "db-default-admin",
        "weaken",
        "Aurora admin user renamed to postgres",
        ("FSBP RDS.24",),
        set_(DB, ("masterUsername",), "postgres"),
    ),
    M(
        "kms-decrypt-all",
        "weaken",
        "the service role may decrypt with every KMS key",
        ("FSBP KMS.1", "FSBP KMS.2"),
        set_(
            "primary-workload-service-role-policy",
            ("policy",),
            policy_doc({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"}),
        ),
    ),
]

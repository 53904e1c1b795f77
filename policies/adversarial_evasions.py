"""Adversarial mutations: combined properties and evasions (see adversarial_catalogue)."""

from __future__ import annotations

from .adversarial import Mutation
from .adversarial_helpers import (
    API,
    CACHE,
    DB,
    DB_SG,
    FOREIGN_ACCOUNT,
    KEY_ARN,
    WORKER,
    add,
    both,
    copy_of,
    drop_pod_security_context,
    in_container,
    in_pod,
    policy_doc,
    scale_to,
    set_,
    unset,
    world,
)

M = Mutation

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
        set_(DB_SG, ("ingress",), [*world(5432, "0.0.0.0/1"), *world(5432, "128.0.0.0/1")]),
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
        in_pod(API, drop_pod_security_context),
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
            scale_to(API, 1),
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

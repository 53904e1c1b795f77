"""S3 buckets and the side-by-side resources that configure them (pulumi-aws 7).

Since pulumi-aws 7 a bucket's versioning, encryption, public access block, policy, object
lock, lifecycle and ownership are separate resources whose ``bucket`` input names the
bucket; ``companions`` finds those of one bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import Resource, cis_aws, fsbp, pci, soc2
from ..model import Stack

CATEGORY = "S3 storage"

PCI_STORED_DATA = pci("3.5.1", "Stored account data is rendered unreadable (strong cryptography)")
SOC2_LOGICAL = soc2("CC6.1", "Logical access security over protected information assets")
SOC2_BOUNDARY = soc2(
    "CC6.6", "Logical access security measures against threats from outside system boundaries"
)
SOC2_RECOVERY = soc2("A1.2", "Environmental protections, data backup and recovery infrastructure")
CIS_BLOCK_PUBLIC = cis_aws(
    "2.1.4", "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'"
)
CIS_DENY_HTTP = cis_aws("2.1.1", "Ensure S3 Bucket Policy is set to deny HTTP requests")
FSBP_BLOCK_PUBLIC = fsbp(
    "S3.8", "S3 Block Public Access setting should be enabled at the bucket-level"
)
FSBP_SSE = fsbp("S3.4", "S3 buckets should have server-side encryption enabled")
FSBP_TLS = fsbp("S3.5", "S3 buckets should require requests to use Secure Socket Layer")
FSBP_VERSIONING = fsbp("S3.14", "S3 buckets should use versioning")
FSBP_ACLS = fsbp("S3.12", "S3 access control lists (ACLs) should not be used to manage user access")
FSBP_PUBLIC_READ = fsbp("S3.2", "S3 buckets should prohibit public read access")
FSBP_PUBLIC_WRITE = fsbp("S3.3", "S3 buckets should prohibit public write access")


def companions(stack: Stack, bucket: Resource, kind: str) -> list[Resource]:
    """Resources of ``kind`` whose ``bucket`` input refers to ``bucket``."""
    found = []
    for companion in stack.of_type(kind):
        targets = stack.resolve(companion, "bucket", companion.get("bucket"), T.S3_BUCKET)
        if bucket in targets:
            found.append(companion)
    return found


def bucket_label(bucket: Resource) -> str:
    name = bucket.get("bucket")
    return f"'{name}'" if isinstance(name, str) else f"'{bucket.name}'"


# Load balancer access logs can only be written to buckets encrypted with SSE-S3 (AES256);
# such a bucket is recognised by its policy letting the ELB log delivery write to it.
ELB_LOG_WRITERS = frozenset(
    {
        "logdelivery.elasticloadbalancing.amazonaws.com",
        "arn:aws:iam::054676820928:root",  # Elastic Load Balancing, eu-central-1
        "arn:aws:iam::156460612806:root",  # Elastic Load Balancing, eu-west-1
    }
)


def receives_elb_access_logs(stack: Stack, bucket: Resource) -> bool:
    from .iam import statements

    for policy in companions(stack, bucket, T.S3_BUCKET_POLICY):
        for statement in statements(policy.get("policy")):
            writes = any(a.lower() in {"s3:putobject", "s3:*"} for a in statement.actions)
            if statement.allows and writes and set(statement.principals) & ELB_LOG_WRITERS:
                return True
    return False


def enabled_rules(companion: Resource, *path: str) -> list[Any]:
    """The rules of a lifecycle/replication companion whose status is Enabled (or unknown)."""
    return [
        rule
        for rule in P.as_list(companion.get(*path))
        if P.is_unknown(P.get(rule, "status")) or P.get(rule, "status") == "Enabled"
    ]


def buckets_without(stack: Stack, kind: str, has_it: Callable[[Resource], bool]) -> list[Resource]:
    """Buckets with no companion of ``kind`` for which ``has_it`` holds."""
    return [
        bucket
        for bucket in stack.of_type(T.S3_BUCKET)
        if not any(has_it(c) for c in companions(stack, bucket, kind))
    ]

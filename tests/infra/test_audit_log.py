"""The audit log's anchor in the plan: the KMS Ed25519 signing key, the Object Lock
checkpoint bucket, the integrator's least-privilege role and its Deployment."""

from __future__ import annotations

import json
from typing import Any

from .conftest import PRIMARY, STANDBY, Plan


def _one(plan: Plan, type_token: str, region: str) -> dict[str, Any]:
    """The audit log's resource of this type (other components have buckets too)."""
    (resource,) = [r for r in plan.of_type(type_token, region) if "audit-log" in r["name"]]
    return resource


def test_signing_key_is_kms_ed25519(plan: Plan) -> None:
    signing = [k for k in plan.of_type("aws:kms/key:Key", PRIMARY)
               if k["inputs"].get("keyUsage") == "SIGN_VERIFY"]
    (key,) = signing
    assert key["inputs"]["customerMasterKeySpec"] == "ECC_NIST_EDWARDS25519"
    assert not [k for k in plan.of_type("aws:kms/key:Key", STANDBY)
                if k["inputs"].get("keyUsage") == "SIGN_VERIFY"]


def test_checkpoint_bucket_is_locked_versioned_encrypted_private_and_tls_only(
    plan: Plan,
) -> None:
    bucket = _one(plan, "aws:s3/bucket:Bucket", PRIMARY)
    assert bucket["inputs"]["objectLockEnabled"] is True
    assert bucket["inputs"].get("forceDestroy") is False
    lock = _one(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                PRIMARY)
    retention = lock["inputs"]["rule"]["defaultRetention"]
    assert retention["mode"] == "COMPLIANCE" and retention["years"] >= 1
    versioning = _one(plan, "aws:s3/bucketVersioning:BucketVersioning", PRIMARY)
    assert versioning["inputs"]["versioningConfiguration"]["status"] == "Enabled"
    sse = _one(plan, "aws:s3/bucketServerSideEncryptionConfiguration:"
               "BucketServerSideEncryptionConfiguration", PRIMARY)
    (rule,) = sse["inputs"]["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms" and ":kms:" in default["kmsMasterKeyId"]
    block = _one(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", PRIMARY)
    assert all(block["inputs"][flag] is True for flag in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    policy = json.loads(_one(plan, "aws:s3/bucketPolicy:BucketPolicy", PRIMARY)["inputs"]["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_integrator_role_can_sign_and_publish_but_not_delete(plan: Plan) -> None:
    (policy,) = [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy", PRIMARY)
                 if "integrator" in p["name"]]
    statements = json.loads(policy["inputs"]["policy"])["Statement"]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                 else s["Action"])}
    assert {"kms:Sign", "s3:PutObject"} <= actions
    assert not any(a.startswith(("s3:Delete", "s3:PutObjectRetention", "s3:BypassGovernance",
                                 "kms:Schedule", "kms:*", "s3:*")) for a in actions)
    sign = next(s for s in statements if "kms:Sign" in s["Action"])
    assert sign["Resource"].startswith("arn:aws:kms:")


def test_integrator_deployment_in_the_primary_only(plan: Plan) -> None:
    deployment = plan.named("primary-workload-integrator")
    template = deployment["inputs"]["spec"]["template"]
    assert template["spec"]["serviceAccountName"] == "orders-integrator"
    (container,) = template["spec"]["containers"]
    assert container["command"][:4] == ["python", "-m", "service", "integrator"]
    assert container["command"][-4:] == ["--health-host", "0.0.0.0", "--health-port", "9100"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert {"ORDERS_CHECKPOINT_BUCKET", "ORDERS_AUDIT_KMS_KEY_ID", "ORDERS_AUDIT_LOG_ORIGIN",
            "ORDERS_DATABASE_URL"} <= env.keys()
    bucket = _one(plan, "aws:s3/bucket:Bucket", PRIMARY)
    assert env["ORDERS_CHECKPOINT_BUCKET"].startswith(bucket["inputs"]["bucketPrefix"])
    assert env["ORDERS_AUDIT_KMS_KEY_ID"].startswith("arn:aws:kms:")
    assert deployment["inputs"]["spec"]["replicas"] == 2
    names = {r["name"] for r in plan}
    assert "standby-workload-integrator" not in names

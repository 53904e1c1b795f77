"""The inventory itself,
asserted over `python -m infra.plan --json` (mocked engine): inputs exactly as the
engine and a policy pack receive them (camelCase, secrets masked, references as URNs).

Cross-cutting: no unknown or dropped input, customer-managed keys everywhere, no secret
in clear, and the stack outputs the AWS drill reads.
"""

from __future__ import annotations

import json

import pytest

from infra.mocks import SECRET_PLACEHOLDER, UNKNOWN_PLACEHOLDER

from .conftest import PRIMARY, STANDBY, Plan, is_cmk, run_plan, strings


def test_inventory_format_is_exactly_what_the_policy_pack_reads(plan: Plan) -> None:
    assert all(set(e) == {"type", "name", "region", "inputs", "outputs"} for e in plan)
    providers = {e["name"]: e for e in plan.of_type("pulumi:providers:aws")}
    assert {n: p["region"] for n, p in providers.items()} == {
        "aws-primary": PRIMARY,
        "aws-standby": STANDBY,
    }
    assert {e["region"] for e in plan} == {PRIMARY, STANDBY}


def test_no_input_is_unknown_or_silently_dropped(plan: Plan) -> None:
    unknown = [e["name"] for e in plan if UNKNOWN_PLACEHOLDER in strings(e["inputs"])]
    assert unknown == []
    # inputs wired from other resources' outputs: the mocks must have returned them
    for region, role in ((PRIMARY, "primary"), (STANDBY, "standby")):
        eks = plan.named(f"{role}-cluster-eks")["inputs"]
        assert is_cmk(eks["encryptionConfigKeyArn"], region)
        ingress = plan.named(f"{role}-workload-ingress")["inputs"]
        annotations = ingress["metadata"]["annotations"]
        assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
        record = plan.named(f"dns-{role}-record")["inputs"]
        assert record["records"][0].endswith(f".{region}.elb.amazonaws.com")
        p99 = plan.named(f"{role}-alarms-alb-p99-latency")["inputs"]
        assert p99["dimensions"]["LoadBalancer"].startswith(f"app/orders-prod-{role}/")


@pytest.mark.parametrize("region", [PRIMARY, STANDBY])
def test_every_data_store_is_encrypted_with_a_customer_managed_key(plan: Plan, region: str) -> None:
    all_keys = plan.of_type("aws:kms/key:Key", region)
    # Encryption keys rotate; the audit log's Ed25519 signing key (primary only) cannot.
    keys = [k for k in all_keys if k["inputs"].get("keyUsage") != "SIGN_VERIFY"]
    assert len(keys) == (8 if region == PRIMARY else 7)
    assert len(all_keys) - len(keys) == (1 if region == PRIMARY else 0)
    assert all(k["inputs"]["enableKeyRotation"] is True for k in keys)

    for cluster in plan.of_type("aws:rds/cluster:Cluster", region):
        assert cluster["inputs"]["storageEncrypted"] is True
        assert is_cmk(cluster["inputs"]["kmsKeyId"], region)
    for instance in plan.of_type("aws:rds/clusterInstance:ClusterInstance", region):
        assert is_cmk(instance["inputs"]["performanceInsightsKmsKeyId"], region)
    (redis,) = plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup", region)
    assert redis["inputs"]["atRestEncryptionEnabled"] is True
    assert is_cmk(redis["inputs"]["kmsKeyId"], region)
    queues = plan.of_type("aws:sqs/queue:Queue", region)
    assert len(queues) == 2 and all(is_cmk(q["inputs"]["kmsMasterKeyId"], region) for q in queues)
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup", region):
        assert is_cmk(group["inputs"]["kmsKeyId"], region), group["name"]
    for topic in plan.of_type("aws:sns/topic:Topic", region):
        assert is_cmk(topic["inputs"]["kmsMasterKeyId"], region)
    for vault in plan.of_type("aws:backup/vault:Vault", region):
        assert is_cmk(vault["inputs"]["kmsKeyArn"], region)
    for template in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate", region):
        (root,) = template["inputs"]["blockDeviceMappings"]
        assert root["ebs"]["encrypted"] == "true" and is_cmk(root["ebs"]["kmsKeyId"], region)


def test_secrets_never_appear_in_clear(plan: Plan) -> None:
    primary_cluster = plan.named("primary-database-cluster")["inputs"]
    assert primary_cluster["masterPassword"] == SECRET_PLACEHOLDER
    assert "manageMasterUserPassword" not in primary_cluster  # unsupported in global DBs
    for redis in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        assert redis["inputs"]["authToken"] == SECRET_PLACEHOLDER
    for secret in plan.of_type("kubernetes:core/v1:Secret"):
        assert secret["inputs"]["stringData"] == SECRET_PLACEHOLDER  # the whole map is secret
    master = plan.named("primary-database-master-secret-value")["inputs"]
    assert master["secretString"] == SECRET_PLACEHOLDER


def test_stack_outputs_satisfy_the_aws_drill() -> None:
    from chaos.aws.outputs import StackOutputs

    run = run_plan("--outputs")
    assert run.returncode == 0, run.stderr[-2000:]
    outputs = json.loads(run.stdout)
    parsed = StackOutputs.from_mapping(outputs)
    assert parsed.standby_cluster_id == "orders-prod-standby"
    assert parsed.api_endpoint == "https://api.orders.example.com"

"""What a first `pulumi up` on a fresh account needs, asserted over the offline plan.

Each check is one that mocks accept silently but AWS, Kubernetes or Helm would not: the
order of creation, a role a key policy names, versions, the upstream IAM policy.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from infra.addons import LBC_POLICY_FILE

from .conftest import PRIMARY, STANDBY, Plan

PROVENANCE = json.loads((LBC_POLICY_FILE.parent / "PROVENANCE.json").read_text())


def statements(document: str) -> dict[str, dict[str, Any]]:
    return {s.get("Sid", str(i)): s for i, s in enumerate(json.loads(document)["Statement"])}


# --------------------------------------------------------------------------- would stop the up


def test_ebs_key_waits_for_the_autoscaling_service_linked_role(
    plan: Plan, plan_options: dict[str, dict[str, Any]]
) -> None:
    (role,) = plan.of_type("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert role["inputs"]["awsServiceName"] == "autoscaling.amazonaws.com"
    for region_role in ("primary", "standby"):
        policy = statements(plan.named(f"{region_role}-keys-ebs")["inputs"]["policy"])
        principal = policy["AutoScalingUsesKeyForNodeVolumes"]["Principal"]["AWS"]
        assert principal.endswith(
            ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
        )
        assert role["name"] in plan_options[f"{region_role}-keys-ebs"]["dependsOn"]


@pytest.fixture(scope="module")
def variant() -> Plan:
    """One plan run for the non-default settings: an account that has the Auto Scaling
    role already, and a deployer on a restricted public endpoint."""
    from .conftest import load_plan

    return load_plan(
        "orders:iam.createAutoScalingServiceLinkedRole=false",
        "orders:cluster.endpointPublicAccess=true",
        'orders:cluster.publicAccessCidrs=["203.0.113.0/24"]',
        "orders:cluster.privateAccessCidrs=[]",
    )


def test_an_account_that_has_the_role_does_not_create_it_again(variant: Plan) -> None:
    assert variant.of_type("aws:iam/serviceLinkedRole:ServiceLinkedRole") == []


def test_aurora_version_is_pinned_on_the_cluster_only_and_its_drift_ignored(
    plan: Plan, plan_options: dict[str, dict[str, Any]]
) -> None:
    (global_cluster,) = plan.of_type("aws:rds/globalCluster:GlobalCluster")
    assert global_cluster["inputs"]["engineVersion"] == "17.7"
    for cluster in plan.of_type("aws:rds/cluster:Cluster"):
        assert cluster["inputs"]["engineVersion"] == "17.7"
        assert "engineVersion" in plan_options[cluster["name"]]["ignoreChanges"]
    instances = plan.of_type("aws:rds/clusterInstance:ClusterInstance")
    assert instances and all("engineVersion" not in i["inputs"] for i in instances)
    for group in plan.of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup"):
        assert group["inputs"]["family"] == "aurora-postgresql17"


def test_load_balancer_controller_policy_is_the_vendored_upstream_file(plan: Plan) -> None:
    raw = LBC_POLICY_FILE.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == PROVENANCE["sha256"]
    assert PROVENANCE["tag"] == "v3.5.0"
    assert PROVENANCE["source"].endswith(f"/{PROVENANCE['tag']}/docs/install/iam_policy.json")
    upstream = json.loads(raw)
    for region in (PRIMARY, STANDBY):
        (release,) = [
            r
            for r in plan.of_type("kubernetes:helm.sh/v3:Release", region)
            if r["inputs"]["chart"] == "aws-load-balancer-controller"
        ]
        assert release["inputs"]["version"] == PROVENANCE["chart_version"]
    for role in ("primary", "standby"):
        deployed = json.loads(plan.named(f"{role}-addons-lb-controller-policy")["inputs"]["policy"])
        assert deployed == upstream
    actions = {a for s in upstream["Statement"] for a in _list(s.get("Action", []))}
    # what the hand-written policy lacked, and what it conditioned wrongly
    assert "elasticloadbalancing:SetRulePriorities" in actions
    assert not any("ec2:Vpc" in json.dumps(s.get("Condition", {})) for s in upstream["Statement"])


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_role_bootstrap_waits_for_the_writer_and_migrations_wait_for_it(
    plan_options: dict[str, dict[str, Any]],
) -> None:
    bootstrap = plan_options["primary-workload-bootstrap-role"]["dependsOn"]
    assert "primary-database-instance-1" in bootstrap
    assert (
        "primary-workload-bootstrap-role" in plan_options["primary-workload-migrate"]["dependsOn"]
    )


def test_every_helm_release_waits_for_the_load_balancer_controller(
    plan: Plan, plan_options: dict[str, dict[str, Any]]
) -> None:
    for role in ("primary", "standby"):
        lbc = f"{role}-addons-aws-load-balancer-controller"
        values = plan.named(lbc)["inputs"]["values"]
        assert values["enableServiceMutatorWebhook"] is False
        others = [
            r["name"]
            for r in plan.of_type("kubernetes:helm.sh/v3:Release")
            if r["name"].startswith(f"{role}-") and r["name"] != lbc
        ]
        # metrics-server, Argo Rollouts, KEDA, Prometheus, Cluster Autoscaler, Alertmanager,
        # the CloudWatch exporter
        assert len(others) == 7
        for name in others:
            assert lbc in plan_options[name]["dependsOn"], name


def test_the_deployer_path_is_explicit_and_the_endpoint_private_by_default(
    plan: Plan, variant: Plan
) -> None:
    for role in ("primary", "standby"):
        eks = plan.named(f"{role}-cluster-eks")["inputs"]
        assert eks["endpointPublicAccess"] is False
    public = variant
    eks = public.named("primary-cluster-eks")["inputs"]
    assert eks["endpointPublicAccess"] is True
    assert eks["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert public.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []


# --------------------------------------------------------------------------- HA and safety


def test_metrics_server_and_a_matching_autoscaler(plan: Plan) -> None:
    for region in (PRIMARY, STANDBY):
        charts = {
            r["inputs"]["chart"]: r["inputs"]
            for r in plan.of_type("kubernetes:helm.sh/v3:Release", region)
        }
        assert charts["metrics-server"]["version"] == "3.13.1"
        autoscaler = charts["cluster-autoscaler"]
        assert autoscaler["values"]["image"]["tag"] == "v1.35.0"
        assert autoscaler["values"]["extraArgs"]["balance-similar-node-groups"] is True


def test_one_owner_for_the_acm_validation_record(plan: Plan) -> None:
    records = [r for r in plan.of_type("aws:route53/record:Record") if "validation" in r["name"]]
    assert [r["name"] for r in records] == ["primary-certificate-validation"]
    assert "allowOverwrite" not in records[0]["inputs"]
    validations = plan.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert len(validations) == 2
    fqdns = {tuple(v["inputs"]["validationRecordFqdns"]) for v in validations}
    assert len(fqdns) == 1  # the standby validates against the primary's record


def test_master_secret_is_replicated_to_the_standby_and_rotated(plan: Plan) -> None:
    (secret,) = plan.of_type("aws:secretsmanager/secret:Secret")
    (replica,) = secret["inputs"]["replicas"]
    assert replica["region"] == STANDBY
    assert replica["kmsKeyId"].startswith(f"arn:aws:kms:{STANDBY}:")
    (rotation,) = plan.of_type("aws:secretsmanager/secretRotation:SecretRotation")
    assert rotation["inputs"]["rotationRules"]["automaticallyAfterDays"] <= 30
    assert rotation["inputs"]["rotationLambdaArn"].startswith(f"arn:aws:lambda:{PRIMARY}:")


@pytest.mark.parametrize("role", ["primary", "standby"])
def test_postgresql_log_group_is_owned_encrypted_retained_and_pgaudit_on(
    plan: Plan, role: str, plan_options: dict[str, dict[str, Any]]
) -> None:
    group = plan.named(f"{role}-database-postgresql-logs")["inputs"]
    assert group["name"] == f"/aws/rds/cluster/orders-prod-{role}/postgresql"
    assert group["kmsKeyId"].startswith("arn:aws:kms:") and group["retentionInDays"] >= 365
    assert (
        f"{role}-database-postgresql-logs" in plan_options[f"{role}-database-cluster"]["dependsOn"]
    )
    params = {
        p["name"]: p["value"] for p in plan.named(f"{role}-database-params")["inputs"]["parameters"]
    }
    assert "pgaudit" in params["shared_preload_libraries"]
    assert set(params["pgaudit.log"].split(",")) >= {"ddl", "role"}


@pytest.mark.parametrize("role", ["primary", "standby"])
def test_key_policies_separate_administrators_from_users(plan: Plan, role: str) -> None:
    keys = [k for k in plan.of_type("aws:kms/key:Key") if k["name"].startswith(f"{role}-keys-")]
    assert len(keys) == 7
    for key in keys:
        policy = statements(key["inputs"]["policy"])
        admin = policy["KeyAdministrators"]
        assert "kms:CreateGrant" not in admin["Action"]
        assert not any(
            a.startswith(("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"))
            for a in admin["Action"]
        )
        assert admin["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
            "arn:aws:iam::123456789012:role/platform-deployer"
        ]
        assert "kms:*" not in json.dumps(policy)
        users = policy["KeyUsersThroughIam"]["Action"]
        assert "kms:Decrypt" in users and not any(a.startswith("kms:Put") for a in users)


@pytest.mark.parametrize(("role", "region"), [("primary", PRIMARY), ("standby", STANDBY)])
def test_public_alb_has_waf_and_access_logs(plan: Plan, role: str, region: str) -> None:
    (acl,) = plan.of_type("aws:wafv2/webAcl:WebAcl", region)
    groups = {r["statement"]["managedRuleGroupStatement"]["name"] for r in acl["inputs"]["rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= groups
    annotations = plan.named(f"{role}-workload-ingress")["inputs"]["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"].startswith("arn:aws:wafv2:")
    attributes = annotations["alb.ingress.kubernetes.io/load-balancer-attributes"]
    assert "access_logs.s3.enabled=true" in attributes
    (encryption,) = [  # the access-log bucket's (the audit log's bucket has its own)
        r for r in plan.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            region,
        ) if "audit-log" not in r["name"]
    ]
    default = encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "AES256"  # the only one ALB log delivery supports
    (policy,) = [r for r in plan.of_type("aws:s3/bucketPolicy:BucketPolicy", region)
                 if "audit-log" not in r["name"]]
    writer = statements(policy["inputs"]["policy"])["ElbWritesAccessLogs"]
    elb_account = {"eu-central-1": "054676820928", "eu-west-1": "156460612806"}[region]
    assert writer["Principal"]["AWS"] == f"arn:aws:iam::{elb_account}:root"


def test_canary_analysis_fails_without_data(plan: Plan) -> None:
    analysis = plan.named("primary-workload-analysis")["inputs"]
    for metric in analysis["spec"]["metrics"]:
        condition = metric["successCondition"]
        assert condition.startswith("len(result) > 0 && !isNaN(result[0]) && ")
        assert "||" not in condition


def test_images_by_digest(plan: Plan) -> None:
    images = {
        c["image"]
        for w in plan.where(lambda e: e["type"].startswith("kubernetes:") and "spec" in e["inputs"])
        for c in _containers(w["inputs"])
    }
    assert images and all("@sha256:" in image for image in images)


def _containers(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    template = inputs.get("spec", {}).get("template", {})
    return list(template.get("spec", {}).get("containers", []))


def test_flow_logs_role_trusts_only_this_accounts_flow_logs(plan: Plan) -> None:
    for role, region in (("primary", PRIMARY), ("standby", STANDBY)):
        trust = json.loads(
            plan.named(f"{role}-network-flow-logs-role")["inputs"]["assumeRolePolicy"]
        )
        (statement,) = trust["Statement"]
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
        assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == (
            f"arn:aws:ec2:{region}:123456789012:vpc-flow-log/*"
        )
        policy = statements(plan.named(f"{role}-network-flow-logs-policy")["inputs"]["policy"])
        write = policy["WriteFlowLogStreams"]
        assert all(r.startswith(f"arn:aws:logs:{region}:") for r in write["Resource"])


def test_image_repositories_are_tag_immutable_scanned_and_replicated(plan: Plan) -> None:
    repositories = {r["region"]: r["inputs"] for r in plan.of_type("aws:ecr/repository:Repository")}
    assert set(repositories) == {PRIMARY, STANDBY}
    for repository in repositories.values():
        assert repository["imageTagMutability"] == "IMMUTABLE"
        assert repository["imageScanningConfiguration"]["scanOnPush"] is True
    (replication,) = plan.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration")
    assert replication["region"] == PRIMARY
    (rule,) = replication["inputs"]["replicationConfiguration"]["rules"]
    assert rule["destinations"][0]["region"] == STANDBY
    # each region's pods pull from their own region's repository, by digest
    for role, region in (("primary", PRIMARY), ("standby", STANDBY)):
        image = plan.named(f"{role}-workload-api")["inputs"]["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
        assert f".dkr.ecr.{region}.amazonaws.com/orders-service:" in image and "@sha256:" in image


def test_fis_zone_experiment_finds_tagged_asgs_and_has_a_stop_condition(plan: Plan) -> None:
    from .conftest import run_plan

    tags = plan.of_type("aws:autoscaling/tag:Tag", PRIMARY)
    assert len(tags) == 3  # one per AZ node group
    assert all(
        t["inputs"]["tag"]
        == {"key": "AzImpairmentPower", "value": "IceAsg", "propagateAtLaunch": False}
        for t in tags
    )
    assert all(t["inputs"]["autoscalingGroupName"].startswith("eks-") for t in tags)
    outputs = json.loads(run_plan("--outputs").stdout)
    assert outputs["fisStopConditionAlarmArn"].startswith("arn:aws:cloudwatch:eu-central-1:")
    assert "alb-5xx-rate" in outputs["fisStopConditionAlarmArn"]

"""Pre-flight: read-only checks of the target account before the first `pulumi up`.

    python -m infra.preflight [--stack-config Pulumi.prod.yaml] [--set key=value] [--dry-run]

Every check prints PASS or FAIL with its evidence; the exit status is 1 if any failed.
Only read-only calls are made (Describe*, Get*, List*, iam:SimulateCustomPolicy, and an
HTTPS GET of each Helm repository's index). `--dry-run` prints every call instead of
making it. Credentials and the account come from the usual AWS environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.addons import (
    CA_SERVICE_ACCOUNT,
    _cluster_autoscaler_policy,
    _queue_metrics_policy,
    load_balancer_controller_policy,
)
from infra.cloudwatch_exporter import ACTIONS as EXPORTER_ACTIONS
from infra.cloudwatch_exporter import exporter_policy
from infra.config import RegionConfig, StackConfig, load_config
from infra.keys import AUTOSCALING_ROLE_NAME
from infra.plan import DEFAULT_STACK_FILE, load_stack_settings
from infra.registry import regional_repository
from infra.workload import bootstrap_policy, service_policy

ENGINE = "aurora-postgresql"
CHART_REPOSITORIES = {
    "loadBalancerControllerChart": (
        "https://aws.github.io/eks-charts",
        "aws-load-balancer-controller",
    ),
    "argoRolloutsChart": ("https://argoproj.github.io/argo-helm", "argo-rollouts"),
    "kedaChart": ("https://kedacore.github.io/charts", "keda"),
    "prometheusChart": ("https://prometheus-community.github.io/helm-charts", "prometheus"),
    "clusterAutoscalerChart": ("https://kubernetes.github.io/autoscaler", "cluster-autoscaler"),
    "metricsServerChart": ("https://kubernetes-sigs.github.io/metrics-server/", "metrics-server"),
    "alertmanagerChart": ("https://prometheus-community.github.io/helm-charts", "alertmanager"),
    "cloudwatchExporterChart": (
        "https://prometheus-community.github.io/helm-charts",
        "prometheus-yet-another-cloudwatch-exporter",
    ),
}
# Service-linked roles the stack relies on, and who creates each one if it is missing.
SERVICE_LINKED_ROLES = {
    AUTOSCALING_ROLE_NAME: "this stack (iam.createAutoScalingServiceLinkedRole)",
    "AWSServiceRoleForAmazonEKS": "EKS, on CreateCluster",
    "AWSServiceRoleForAmazonEKSNodegroup": "EKS, on CreateNodegroup",
    "AWSServiceRoleForElasticLoadBalancing": "the Load Balancer Controller (its IAM policy)",
    "AWSServiceRoleForRDS": "RDS, on CreateDBCluster",
}
# (service code, quota code, what the stack needs per region or per AZ, how to count use)
QUOTAS = (
    ("vpc", "L-F678F1CE", "VPCs per Region", 1),
    ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 3),
    ("vpc", "L-FE5A380F", "NAT gateways per Availability Zone", 1),
)
PLACEHOLDER_RESOURCE_ID = "cluster-PREFLIGHT"
# The default digest: lets the offline plan run, but no image has it.
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    evidence: str


@dataclass
class Caller:
    """Makes (or, on a dry run, prints) read-only AWS calls through per-region clients."""

    client_factory: Callable[[str, str], Any]
    dry_run: bool = False
    out: Any = field(default=sys.stdout)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __call__(self, service: str, region: str, operation: str, **params: Any) -> dict[str, Any]:
        if self.dry_run:
            print(
                f"would call {service}.{operation} in {region} {json.dumps(params)}", file=self.out
            )
            return {}
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.client_factory(service, region)
        result: dict[str, Any] = getattr(self._clients[key], operation)(**params)
        return result

    def error_code(self, error: Exception) -> str | None:
        response = getattr(error, "response", None)
        return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


# --------------------------------------------------------------------------- checks


def check_aurora(cfg: StackConfig, call: Caller) -> Iterable[Result]:
    version = cfg.database.engine_version
    for region in cfg.regions:
        answer = call(
            "rds",
            region.region,
            "describe_db_engine_versions",
            Engine=ENGINE,
            EngineVersion=version,
            IncludeAll=False,
        )
        versions = answer.get("DBEngineVersions", [])
        global_ok = any(v.get("SupportsGlobalDatabases") for v in versions)
        yield Result(
            f"aurora {version} orderable with Global Database in {region.region}",
            bool(versions) and global_ok,
            f"{len(versions)} engine version(s) listed, SupportsGlobalDatabases={global_ok}",
        )
        options = call(
            "rds",
            region.region,
            "describe_orderable_db_instance_options",
            Engine=ENGINE,
            EngineVersion=version,
            DBInstanceClass=region.db_instance_class,
        ).get("OrderableDBInstanceOptions", [])
        zones = {z.get("Name") for o in options for z in o.get("AvailabilityZones", [])}
        missing = sorted(set(region.azs) - zones)
        yield Result(
            f"{region.db_instance_class} orderable for aurora {version} in {region.region}",
            bool(options) and not missing,
            f"{len(options)} option(s); zones missing: {', '.join(missing) or 'none'}",
        )


def check_service_linked_roles(cfg: StackConfig, call: Caller) -> Iterable[Result]:
    region = cfg.primary.region
    for role, creator in SERVICE_LINKED_ROLES.items():
        exists = _role_exists(call, region, role)
        if role == AUTOSCALING_ROLE_NAME:
            create = cfg.iam.create_autoscaling_service_linked_role
            if exists and create:
                yield Result(
                    f"service-linked role {role}",
                    False,
                    "exists, but the stack would create it again: set "
                    "orders:iam.createAutoScalingServiceLinkedRole false",
                )
            elif not exists and not create:
                yield Result(
                    f"service-linked role {role}",
                    False,
                    "missing and not created: the EBS key policy names it; set "
                    "orders:iam.createAutoScalingServiceLinkedRole true",
                )
            else:
                yield Result(
                    f"service-linked role {role}",
                    True,
                    "exists" if exists else f"will be created by {creator}",
                )
        else:
            yield Result(
                f"service-linked role {role}",
                True,
                "exists" if exists else f"missing; created by {creator}",
            )


def _role_exists(call: Caller, region: str, role: str) -> bool:
    try:
        return bool(call("iam", region, "get_role", RoleName=role).get("Role")) or call.dry_run
    except Exception as error:  # botocore ClientError
        if call.error_code(error) == "NoSuchEntity":
            return False
        raise


def check_eks_version(cfg: StackConfig, call: Caller, today: dt.date) -> Iterable[Result]:
    version = cfg.cluster.kubernetes_version
    for region in cfg.regions:
        answer = call("eks", region.region, "describe_cluster_versions", clusterVersions=[version])
        found = [v for v in answer.get("clusterVersions", []) if v.get("clusterVersion") == version]
        status = found[0].get("status") if found else None
        end = found[0].get("endOfStandardSupportDate") if found else None
        end_date = end.date() if isinstance(end, dt.datetime) else end
        ok = status == "STANDARD_SUPPORT" and end_date is not None and end_date > today
        yield Result(
            f"EKS {version} in standard support in {region.region}",
            ok,
            f"status={status}, end of standard support={end_date}",
        )


def check_charts(
    cfg: StackConfig, fetch: Callable[[str], bytes], dry_run: bool, out: Any = sys.stdout
) -> Iterable[Result]:
    pins = {
        "loadBalancerControllerChart": cfg.addons.load_balancer_controller_chart,
        "argoRolloutsChart": cfg.addons.argo_rollouts_chart,
        "kedaChart": cfg.addons.keda_chart,
        "prometheusChart": cfg.addons.prometheus_chart,
        "clusterAutoscalerChart": cfg.addons.cluster_autoscaler_chart,
        "metricsServerChart": cfg.addons.metrics_server_chart,
        "alertmanagerChart": cfg.addons.alertmanager_chart,
        "cloudwatchExporterChart": cfg.addons.cloudwatch_exporter_chart,
    }
    for key, version in pins.items():
        repo, chart = CHART_REPOSITORIES[key]
        url = f"{repo.rstrip('/')}/index.yaml"
        if dry_run:
            print(f"would fetch {url} (chart {chart} {version})", file=out)
            continue
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        index = yaml.load(fetch(url), Loader=loader) or {}  # noqa: S506 (a safe loader)
        versions = {str(e.get("version")) for e in (index.get("entries") or {}).get(chart, [])}
        yield Result(
            f"chart {chart} {version} in {repo}",
            version in versions,
            f"{len(versions)} versions listed",
        )


def pod_role_simulations(
    cfg: StackConfig, region: RegionConfig, account: str
) -> list[dict[str, Any]]:
    """Per pod role: its policy (as the program renders it) and the calls it must allow."""
    cluster = f"{cfg.prefix}-{region.role}"
    queue = f"arn:aws:sqs:{region.region}:{account}:{cfg.prefix}-orders.fifo"
    key = f"arn:aws:kms:{region.region}:{account}:key/preflight"
    db_user = (
        f"arn:aws:rds-db:{region.region}:{account}:dbuser:"
        f"{PLACEHOLDER_RESOURCE_ID}/{cfg.database.app_username}"
    )
    tag = [
        {
            "ContextKeyName": "aws:RequestTag/elbv2.k8s.aws/cluster",
            "ContextKeyValues": [cluster],
            "ContextKeyType": "string",
        }
    ]
    owned = [
        {
            "ContextKeyName": f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}",
            "ContextKeyValues": ["owned"],
            "ContextKeyType": "string",
        }
    ]
    service = service_policy(
        region.region, cfg.database.app_username, queue, key, account, PLACEHOLDER_RESOURCE_ID
    )
    secret = f"arn:aws:secretsmanager:{region.region}:{account}:secret:{cfg.prefix}/aurora/master-x"
    via_secrets_manager = [
        {
            "ContextKeyName": "kms:ViaService",
            "ContextKeyValues": [f"secretsmanager.{region.region}.amazonaws.com"],
            "ContextKeyType": "string",
        }
    ]
    bootstrap = bootstrap_policy(region.region, secret, key)
    return [
        {
            "role": "aws-load-balancer-controller",
            "policy": load_balancer_controller_policy(),
            "actions": [
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateTargetGroup",
                "ec2:CreateSecurityGroup",
            ],
            "resources": ["*"],
            "context": tag,
        },
        {
            "role": CA_SERVICE_ACCOUNT,
            "policy": _cluster_autoscaler_policy(cluster),
            "actions": [
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
            "resources": ["*"],
            "context": owned,
        },
        {
            "role": "cloudwatch-exporter",
            "policy": exporter_policy(),
            "actions": list(EXPORTER_ACTIONS),
            "resources": ["*"],
            "context": [],
        },
        {
            "role": "keda-operator",
            "policy": _queue_metrics_policy(queue),
            "actions": ["sqs:GetQueueAttributes"],
            "resources": [queue],
            "context": [],
        },
        {
            "role": "orders-service (queue)",
            "policy": service,
            "actions": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
            "resources": [queue],
            "context": [],
        },
        {
            "role": "orders-service (queue key)",
            "policy": service,
            "actions": ["kms:GenerateDataKey", "kms:Decrypt"],
            "resources": [key],
            "context": [],
        },
        {
            "role": "orders-service (database)",
            "policy": service,
            "actions": ["rds-db:connect"],
            "resources": [db_user],
            "context": [],
        },
        {
            "role": "orders-bootstrap (master secret)",
            "policy": bootstrap,
            "actions": ["secretsmanager:GetSecretValue"],
            "resources": [secret],
            "context": [],
        },
        {
            "role": "orders-bootstrap (master secret key)",
            "policy": bootstrap,
            "actions": ["kms:Decrypt"],
            "resources": [key],
            "context": via_secrets_manager,
        },
    ]


def check_pod_roles(cfg: StackConfig, call: Caller) -> Iterable[Result]:
    region = cfg.primary
    account = call("sts", region.region, "get_caller_identity").get("Account", "123456789012")
    for sim in pod_role_simulations(cfg, region, account):
        params: dict[str, Any] = {
            "PolicyInputList": [sim["policy"]],
            "ActionNames": sim["actions"],
            "ResourceArns": sim["resources"],
        }
        if sim["context"]:
            params["ContextEntries"] = sim["context"]
        results = call("iam", region.region, "simulate_custom_policy", **params).get(
            "EvaluationResults", []
        )
        denied = sorted(r["EvalActionName"] for r in results if r.get("EvalDecision") != "allowed")
        ok = len(results) == len(sim["actions"]) and not denied
        yield Result(
            f"pod role {sim['role']} allows what it calls",
            ok,
            f"{len(results)} evaluated; not allowed: {', '.join(denied) or 'none'}",
        )


def check_quotas(cfg: StackConfig, call: Caller) -> Iterable[Result]:
    for region in cfg.regions:
        r = region.region
        usage = {
            "L-F678F1CE": len(call("ec2", r, "describe_vpcs").get("Vpcs", [])),
            "L-0263D0A3": len(call("ec2", r, "describe_addresses").get("Addresses", [])),
            "L-FE5A380F": _max_nat_gateways_per_az(call, r),
        }
        for service_code, quota_code, label, needed in QUOTAS:
            quota = call(
                "service-quotas",
                r,
                "get_service_quota",
                ServiceCode=service_code,
                QuotaCode=quota_code,
            )
            limit = float(quota.get("Quota", {}).get("Value", 0))
            used = usage[quota_code]
            yield Result(
                f"quota {label} in {r}",
                used + needed <= limit,
                f"used {used}, the stack needs {needed}, limit {limit:g}",
            )


def _max_nat_gateways_per_az(call: Caller, region: str) -> int:
    gateways = call(
        "ec2",
        region,
        "describe_nat_gateways",
        Filters=[{"Name": "state", "Values": ["pending", "available"]}],
    ).get("NatGateways", [])
    subnets = [g["SubnetId"] for g in gateways if "SubnetId" in g]
    if not subnets:
        return 0
    zones = {
        s["SubnetId"]: s["AvailabilityZone"]
        for s in call("ec2", region, "describe_subnets", SubnetIds=subnets).get("Subnets", [])
    }
    counts: dict[str, int] = {}
    for subnet in subnets:
        counts[zones.get(subnet, "?")] = counts.get(zones.get(subnet, "?"), 0) + 1
    return max(counts.values())


def check_image(cfg: StackConfig, call: Caller) -> Iterable[Result]:
    """The Jobs and pods pull `imageRepository@imageDigest` from their region's repository:
    the digest must be there (pushed to the primary's, replicated to the standby's); the
    restore jobs (primary region only) pull `<imageTag>-restore-verifier@<its digest>`."""
    w = cfg.workload
    images = [(region.region, w.image_tag, w.image_digest, "imageDigest")
              for region in cfg.regions]
    images.append((cfg.primary.region, f"{w.image_tag}-restore-verifier",
                   w.restore_verifier_image_digest, "restoreVerifierImageDigest"))
    for region, tag, digest, key in images:
        repository = regional_repository(w.image_repository, region)
        name = f"image {tag}@{digest} in {repository}"
        if digest == PLACEHOLDER_DIGEST and not call.dry_run:
            yield Result(
                name,
                False,
                f"workload.{key} is the all-zero placeholder: set it to the digest "
                f"`docker push` printed for {tag} (orders:workload.{key} in the "
                f"stack file, or --set workload.{key}=sha256:...)",
            )
            continue
        yield _image_result(call, region, repository, digest, name)


def _image_result(call: Caller, region: str, repository: str, digest: str, name: str) -> Result:
    host, _, repository_name = repository.partition("/")
    try:
        answer = call(
            "ecr",
            region,
            "describe_images",
            registryId=host.split(".", 1)[0],
            repositoryName=repository_name,
            imageIds=[{"imageDigest": digest}],
        )
    except Exception as error:
        code = call.error_code(error)
        if code in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return Result(name, False, f"{code}: push the image, then set workload.imageDigest")
        raise
    found = [d for d in answer.get("imageDetails", []) if d.get("imageDigest") == digest]
    tags = found[0].get("imageTags", []) if found else []
    return Result(name, bool(found) or call.dry_run, f"found={bool(found)}, tags={tags}")


# --------------------------------------------------------------------------- runner


def run_checks(
    cfg: StackConfig, call: Caller, fetch: Callable[[str], bytes], today: dt.date
) -> list[Result]:
    results: list[Result] = []
    for produce in (
        lambda: check_aurora(cfg, call),
        lambda: check_service_linked_roles(cfg, call),
        lambda: check_eks_version(cfg, call, today),
        lambda: check_charts(cfg, fetch, call.dry_run, call.out),
        lambda: check_pod_roles(cfg, call),
        lambda: check_quotas(cfg, call),
        lambda: check_image(cfg, call),
    ):
        results.extend(produce())
    return results


def _fetch(url: str) -> bytes:
    if not url.startswith("https://"):
        raise ValueError(f"refusing a non-HTTPS chart repository: {url}")
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (https only)
        body: bytes = response.read()
        return body


def _boto3_client(service: str, region: str) -> Any:
    import boto3

    session: Any = boto3.session.Session()
    return session.client(service, region_name=region)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.preflight", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--stack-config", type=Path, default=DEFAULT_STACK_FILE)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--dry-run", action="store_true", help="print every call, make none")
    args = parser.parse_args(argv)
    settings = load_stack_settings(args.stack_config, args.overrides)
    cfg = load_config(settings.config.get, settings.project)
    call = Caller(_boto3_client, dry_run=args.dry_run)
    results = run_checks(cfg, call, _fetch, dt.datetime.now(dt.UTC).date())
    if args.dry_run:
        return 0
    for result in results:
        print(f"{'PASS' if result.ok else 'FAIL'}  {result.name}: {result.evidence}")
    failed = sum(not r.ok for r in results)
    print(f"\n{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

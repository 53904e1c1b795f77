"""Recording mocks: run the Pulumi program without the engine, the CLI or AWS.

`plan.py` and the tests share this module. `RecordingMonitor` sees every registration
request as the engine would (camelCase inputs, provider references, parents) and keeps a
record of it; `OutputMocks` answers with the camelCase outputs the program reads, so an
input wired from another resource's output (e.g. `encryptionConfigKeyArn=key.arn`) is
never silently dropped because the mock left that output out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

MOCK_ACCOUNT_ID = "123456789012"

# Property-value signatures the engine uses inside a protobuf Struct (pulumi/sdk rpc.py).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (a marker, not a secret)
_SIG_RESOURCE_REF = "5cf8f73096256a8f31e491e813e4eb8e"
_SIG_OUTPUT = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 (what secret values are shown as)
UNKNOWN_PLACEHOLDER = "[unknown]"


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider_urn: str
    provider_urns: dict[str, str]
    inputs: dict[str, Any]
    # resource options the engine sees: explicit dependencies (URNs) and ignored drift
    dependencies: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)


@dataclass
class Recording:
    """Every registration, in order, plus what is needed to resolve each one's region."""

    default_region: str
    resources: list[RecordedResource] = field(default_factory=list)
    calls: list[MockCallArgs] = field(default_factory=list)
    stack_outputs: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def region_of(self, resource: RecordedResource) -> str:
        index = self.by_urn()
        return self._region(resource, index, depth=0)

    def _region(self, res: RecordedResource, index: dict[str, RecordedResource], depth: int) -> str:
        if depth > 50:  # a cycle would be a bug in the recording, not in the program
            raise RuntimeError(f"region lookup does not terminate for {res.urn}")
        own = res.inputs.get("region")
        if isinstance(own, str) and own:
            return own
        if res.type.startswith("pulumi:providers:"):
            # a non-AWS provider (kubernetes, random) lives where its parent lives
            return self._via(res.parent, index, depth)
        for ref in (res.provider_urn, res.provider_urns.get("aws", "")):
            if ref and ref in index:
                return self._region(index[ref], index, depth + 1)
        return self._via(res.parent, index, depth)

    def _via(self, parent: str, index: dict[str, RecordedResource], depth: int) -> str:
        if parent in index:
            return self._region(index[parent], index, depth + 1)
        return self.default_region

    def top_component(self, resource: RecordedResource) -> RecordedResource | None:
        """The outermost component resource that contains `resource` (itself if top level)."""
        index = self.by_urn()
        current: RecordedResource | None = resource
        top: RecordedResource | None = None
        while current is not None:
            if not current.custom:
                top = current
            current = index.get(current.parent)
        return top

    def as_plan(self) -> list[dict[str, Any]]:
        """The format the policy pack consumes: exactly type, name, region, inputs."""
        index = self.by_urn()
        return [
            {
                "type": r.type,
                "name": r.name,
                "region": self._region(r, index, depth=0),
                "inputs": r.inputs,
            }
            for r in self.resources
        ]

    def options(self) -> list[dict[str, Any]]:
        """Per resource: the names it explicitly depends on and the drift it ignores."""
        names = {r.urn: r.name for r in self.resources}
        return [
            {
                "type": r.type,
                "name": r.name,
                "dependsOn": sorted(names.get(u, u) for u in r.dependencies),
                "ignoreChanges": r.ignore_changes,
            }
            for r in self.resources
        ]


def _provider_urn(ref: str) -> str:
    # A provider reference is "<urn>::<id>".
    return ref.rsplit("::", 1)[0] if ref else ""


def plain_inputs(struct: Any) -> dict[str, Any]:
    """Engine-shaped inputs: secrets masked, resource references as URNs, ints as ints."""
    raw = json_format.MessageToDict(struct, preserving_proto_field_name=True)
    value = _plain(raw)
    return value if isinstance(value, dict) else {}


def _plain_signature(value: dict[str, Any]) -> Any:
    """A Pulumi-signed value (secret, resource reference, output) as the engine shows it."""
    sig = value.get(_SIG_KEY)
    if sig == _SIG_SECRET:
        return SECRET_PLACEHOLDER
    if sig == _SIG_RESOURCE_REF:
        return value.get("urn", "")
    if sig == _SIG_OUTPUT:
        return SECRET_PLACEHOLDER if value.get("secret") else _plain(value.get("value"))
    return {k: _plain(v) for k, v in value.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return _plain_signature(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN:
        return UNKNOWN_PLACEHOLDER
    return value


class RecordingMonitor(MockMonitor):
    """A MockMonitor that records the registration requests as the engine receives them.

    It replaces the base registration rather than wrapping it: the base class turns
    resource references (e.g. a ManagedNodeGroup's `cluster`) back into Resource objects
    on the monitor's own event loop, which breaks the program's loop. Here references
    stay URNs and secrets stay masked, which is also what a policy pack is shown.
    """

    def __init__(self, mocks: Mocks, recording: Recording) -> None:
        super().__init__(mocks)
        self.recording = recording

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        recorded = RecordedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            provider_urn=_provider_urn(request.provider),
            provider_urns={k: _provider_urn(v) for k, v in request.providers.items()},
            inputs=plain_inputs(request.object),
            dependencies=list(request.dependencies),
            ignore_changes=list(request.ignoreChanges),
        )
        self.recording.resources.append(recorded)
        args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=dict(recorded.inputs),
            provider=request.provider,
            resource_id=request.importId,
            custom=recorded.custom,
        )
        region = self.recording.region_of(recorded)
        if isinstance(self.mocks, OutputMocks):
            resource_id, state = self.mocks.new_resource_in(args, region)
        else:
            maybe_id, state = self.mocks.new_resource(args)
            resource_id = maybe_id or f"{request.name}-id"
        state_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=state_proto)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _aws_service(type_token: str) -> str:
    # "aws:rds/cluster:Cluster" -> "rds"
    module = type_token.split(":")[1]
    return module.split("/")[0] if "/" in module else "aws"


class OutputMocks(Mocks):
    """Answers registrations and invokes with deterministic, camelCase outputs."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        region = args.inputs.get("region") or self.recording.default_region
        return self.new_resource_in(args, region)

    def new_resource_in(self, args: MockResourceArgs, region: str) -> tuple[str, dict[str, Any]]:
        """Outputs for a resource that lives in `region` (resolved by the monitor)."""
        inputs = dict(args.inputs)
        resource_id = f"{args.name}-{_short_hash(args.typ + args.name)}"
        outputs: dict[str, Any] = dict(inputs)
        if args.typ.startswith("aws:"):
            service = _aws_service(args.typ)
            outputs.setdefault("name", inputs.get("name", resource_id))
            outputs.setdefault(
                "arn", f"arn:aws:{service}:{region}:{MOCK_ACCOUNT_ID}:{args.name}/{resource_id}"
            )
            outputs.setdefault("tagsAll", inputs.get("tags", {}))
        extra = _TYPE_OUTPUTS.get(args.typ)
        if extra is not None:
            outputs.update(extra(args.name, resource_id, inputs, region))
        custom_id = outputs.pop("__id", None)
        return str(custom_id or resource_id), outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.recording.calls.append(args)
        handler = _CALL_RESULTS.get(args.token)
        return (handler(args.args) if handler is not None else {}), []


def _rds_cluster(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    ident = inputs.get("clusterIdentifier", rid)
    host = f"{ident}.cluster-abcdefghijkl.{region}.rds.amazonaws.com"
    return {
        "__id": ident,
        "endpoint": host,
        "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"),
        "clusterResourceId": f"cluster-{_short_hash(ident).upper()}",
        "arn": f"arn:aws:rds:{region}:{MOCK_ACCOUNT_ID}:cluster:{ident}",
        "port": 5432,
    }


def _global_cluster(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    ident = inputs.get("globalClusterIdentifier", rid)
    return {"__id": ident, "arn": f"arn:aws:rds::{MOCK_ACCOUNT_ID}:global-cluster:{ident}"}


def _replication_group(
    name: str, rid: str, inputs: Mapping[str, Any], region: str
) -> dict[str, Any]:
    ident = inputs.get("replicationGroupId", rid)
    count = int(inputs.get("numCacheClusters", 2))
    return {
        "__id": ident,
        "primaryEndpointAddress": f"master.{ident}.abcdef.{region}.cache.amazonaws.com",
        "readerEndpointAddress": f"replica.{ident}.abcdef.{region}.cache.amazonaws.com",
        "memberClusters": [f"{ident}-{i + 1:03d}" for i in range(count)],
    }


def _sqs_queue(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    queue_name = inputs.get("name", rid)
    return {
        "__id": f"https://sqs.{region}.amazonaws.com/{MOCK_ACCOUNT_ID}/{queue_name}",
        "url": f"https://sqs.{region}.amazonaws.com/{MOCK_ACCOUNT_ID}/{queue_name}",
        "arn": f"arn:aws:sqs:{region}:{MOCK_ACCOUNT_ID}:{queue_name}",
        "name": queue_name,
    }


def _kms_key(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    key_id = f"mrk-{_short_hash(name)}" if inputs.get("multiRegion") else _short_hash(name)
    return {
        "__id": key_id,
        "keyId": key_id,
        "arn": f"arn:aws:kms:{region}:{MOCK_ACCOUNT_ID}:key/{key_id}",
    }


def _eks_cluster(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    cluster_name = inputs.get("name", rid)
    issuer = f"oidc.eks.{region}.amazonaws.com/id/{_short_hash(cluster_name).upper()}"
    kubeconfig = {
        "apiVersion": "v1",
        "clusters": [{"name": "kubernetes", "cluster": {"server": f"https://{cluster_name}.eks"}}],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws",
        "users": [{"name": "aws", "user": {"exec": {"command": "aws"}}}],
    }
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig),
        "oidcProviderArn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:oidc-provider/{issuer}",
        "oidcProviderUrl": issuer,
        "oidcIssuer": issuer,
        "clusterSecurityGroupId": f"sg-{_short_hash(cluster_name + 'cluster')}",
        "nodeSecurityGroupId": f"sg-{_short_hash(cluster_name + 'node')}",
    }


def _acm_certificate(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    domain = inputs.get("domainName", "example.com")
    return {
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_{_short_hash(domain)}.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_short_hash(domain + 'v')}.acm-validations.aws.",
            }
        ]
    }


def _launch_template(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    return {"__id": f"lt-{_short_hash(name)}", "latestVersion": 1, "defaultVersion": 1}


def _iam_role(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    role_name = inputs.get("name", rid)
    return {"name": role_name, "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/{role_name}"}


def _backup_vault(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    vault = inputs.get("name", rid)
    return {
        "__id": vault,
        "name": vault,
        "arn": f"arn:aws:backup:{region}:{MOCK_ACCOUNT_ID}:backup-vault:{vault}",
    }


def _log_group(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    group = inputs.get("name", rid)
    return {"__id": group, "arn": f"arn:aws:logs:{region}:{MOCK_ACCOUNT_ID}:log-group:{group}"}


def _secret(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    # Secrets Manager appends a hyphen and six random characters to the secret's name.
    arn = f"arn:aws:secretsmanager:{region}:{MOCK_ACCOUNT_ID}:secret:{inputs.get('name', rid)}"
    return {"__id": f"{arn}-{_short_hash(name)[:6]}", "arn": f"{arn}-{_short_hash(name)[:6]}"}


def _ingress(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    host = f"k8s-{_short_hash(name)}.{region}.elb.amazonaws.com"
    return {"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}}


def _sar_stack(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    function = inputs.get("name", rid)
    return {
        "outputs": {
            "RotationLambdaARN": f"arn:aws:lambda:{region}:{MOCK_ACCOUNT_ID}:function:{function}"
        }
    }


def _s3_bucket(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix', name)}{_short_hash(name)}"
    return {"__id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}


def _random_password(name: str, rid: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    length = int(inputs.get("length", 32))
    return {"result": ("m0ck" * length)[:length]}


def _kubernetes_object(
    name: str, rid: str, inputs: Mapping[str, Any], region: str
) -> dict[str, Any]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", rid)
    return {"metadata": metadata}


_TYPE_OUTPUTS: dict[str, Callable[[str, str, Mapping[str, Any], str], dict[str, Any]]] = {
    "aws:rds/cluster:Cluster": _rds_cluster,
    "aws:rds/globalCluster:GlobalCluster": _global_cluster,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:kms/key:Key": _kms_key,
    "eks:index:Cluster": _eks_cluster,
    "aws:acm/certificate:Certificate": _acm_certificate,
    "aws:iam/role:Role": _iam_role,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:backup/vault:Vault": _backup_vault,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:secretsmanager/secret:Secret": _secret,
    "kubernetes:networking.k8s.io/v1:Ingress": _ingress,
    "random:index/randomPassword:RandomPassword": _random_password,
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": _sar_stack,
    "aws:s3/bucket:Bucket": _s3_bucket,
    "kubernetes:core/v1:Namespace": _kubernetes_object,
    "kubernetes:core/v1:ServiceAccount": _kubernetes_object,
    "kubernetes:core/v1:Secret": _kubernetes_object,
    "kubernetes:core/v1:Service": _kubernetes_object,
}


def _caller_identity(_: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "accountId": MOCK_ACCOUNT_ID,
        "arn": f"arn:aws:sts::{MOCK_ACCOUNT_ID}:assumed-role/platform-deployer/pulumi",
        "userId": "AIDAMOCK",
        "id": MOCK_ACCOUNT_ID,
    }


def _session_context(args: Mapping[str, Any]) -> dict[str, Any]:
    """An assumed-role session ARN resolved to its role's ARN, as IAM does."""
    arn = str(args.get("arn", ""))
    name = arn.split("/")[1] if "assumed-role/" in arn else "deployer"
    return {
        "arn": arn,
        "issuerArn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/{name}",
        "issuerName": name,
        "issuerId": "AROAMOCK",
        "sessionName": "pulumi",
    }


def _node_group(args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("nodeGroupName", "nodes"))
    asg = f"eks-{name}-{_short_hash(name)}"
    return {
        "clusterName": args.get("clusterName"),
        "nodeGroupName": name,
        "resources": [{"autoscalingGroups": [{"name": asg}], "remoteAccessSecurityGroupId": ""}],
    }


def _zone(args: Mapping[str, Any]) -> dict[str, Any]:
    zone_name = str(args.get("name", "example.com")).rstrip(".")
    zone_id = f"Z{_short_hash(zone_name).upper()}"
    return {"zoneId": zone_id, "id": zone_id, "name": zone_name}


def _load_balancer(args: Mapping[str, Any]) -> dict[str, Any]:
    lb_name = str(args.get("name", "alb"))
    suffix = f"app/{lb_name}/{_short_hash(lb_name)}"
    return {
        "name": lb_name,
        "arnSuffix": suffix,
        "arn": f"arn:aws:elasticloadbalancing:eu-central-1:{MOCK_ACCOUNT_ID}:loadbalancer/{suffix}",
        "dnsName": f"{lb_name}.elb.amazonaws.com",
    }


def _partition(_: Mapping[str, Any]) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}


_CALL_RESULTS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:route53/getZone:getZone": _zone,
    "aws:lb/getLoadBalancer:getLoadBalancer": _load_balancer,
    "aws:index/getPartition:getPartition": _partition,
    "aws:iam/getSessionContext:getSessionContext": _session_context,
    "aws:eks/getNodeGroup:getNodeGroup": _node_group,
}


def install(default_region: str, project: str, stack: str) -> Recording:
    """Route the Pulumi runtime to the recording mocks; returns the (live) recording."""
    recording = Recording(default_region=default_region)
    mocks = OutputMocks(recording)
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=False,
        monitor=RecordingMonitor(mocks, recording),
    )
    return recording

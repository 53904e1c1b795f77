"""The pack loads and serves as under the Pulumi CLI, without blocking the test run.

`PolicyPack(...)` starts a gRPC server and never returns, so it is exercised three ways:
with a stand-in constructor; through pulumi-policy's analyzer servicer called in-process
with real protobuf requests; and for real, in a subprocess started the way the CLI's
language host starts a Python pack (`python -m pulumi.policy <engine> <pack dir>`), asked
for its analyzer info over gRPC, then terminated.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policies import PACK_NAME, all_policies
from policies.catalogue import markdown_catalogue
from policies.pack import build_pack, pack_kwargs

from .fixtures import DB_KEY, UNKNOWN

ROOT = Path(__file__).resolve().parents[2]


def test_build_pack_passes_every_control_to_policypack() -> None:
    seen: dict[str, Any] = {}

    def fake_pack(**kwargs: Any) -> str:
        seen.update(kwargs)
        return "constructed"

    assert build_pack(fake_pack) == "constructed"
    assert seen["name"] == PACK_NAME
    assert seen["policies"] == all_policies()
    assert all(isinstance(p, Policy) for p in seen["policies"])
    assert len({p.name for p in seen["policies"]}) == len(seen["policies"])


def test_every_policy_carries_auditor_metadata() -> None:
    for policy in all_policies():
        assert policy.description and policy.remediation_steps, policy.name
        assert policy.severity is not None and policy.framework is not None, policy.name
        assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
        refs = {ref.framework.key for ref in policy.meta.frameworks}
        assert refs & {"pci-dss", "soc2"}, policy.name
        if policy.meta.category == "Encryption at rest":
            assert policy.enforcement_level is EnforcementLevel.MANDATORY, policy.name


def _servicer() -> Any:
    kwargs = pack_kwargs()
    return _PolicyAnalyzerServicer(
        kwargs["name"],
        "1.0.0",
        kwargs["policies"],
        kwargs["enforcement_level"],
        None,
        kwargs["description"],
        kwargs["display_name"],
        None,
        kwargs["provider"],
        kwargs["tags"],
        None,
    )


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def test_analyzer_info_serialises_metadata_and_config_schema() -> None:
    info = _servicer().GetAnalyzerInfo(empty_pb2.Empty(), None)
    assert info.name == PACK_NAME
    by_name = {p.name: p for p in info.policies}
    assert set(by_name) == {p.name for p in all_policies()}
    retention = by_name["aws-rds-cluster-backup-retention"]
    assert retention.enforcementLevel == analyzer_pb2.MANDATORY
    assert retention.severity == analyzer_pb2.POLICY_SEVERITY_HIGH
    assert retention.framework.name == "SOC 2 Trust Services Criteria"
    assert retention.remediation_steps.startswith("Set `backup_retention_period`")
    schema = json.loads(json.dumps(dict(retention.configSchema.properties["minRetentionDays"])))
    assert schema["default"] == 14
    assert by_name["aws-multi-az-subnets"].policy_type == analyzer_pb2.POLICY_TYPE_STACK


def test_analyze_over_protobuf_reports_violations_and_unknowns_like_the_engine() -> None:
    servicer = _servicer()
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:rds/cluster:Cluster",
        urn="urn:pulumi:prod::orders::aws:rds/cluster:Cluster::db",
        name="db",
        properties=_struct(
            {
                "storageEncrypted": False,
                "kmsKeyId": DB_KEY,
                "backupRetentionPeriod": UNKNOWN,
                "deletionProtection": True,
            }
        ),
    )
    response = servicer.Analyze(request, None)
    by_policy = {d.policyName: d for d in response.diagnostics}
    encrypted = by_policy["aws-rds-cluster-disallow-unencrypted-storage"]
    assert encrypted.enforcementLevel == analyzer_pb2.MANDATORY
    assert encrypted.message == (
        "Aurora/RDS cluster storage must be encrypted at rest.\n"
        "RDS cluster storage is not encrypted (storageEncrypted is not true)."
    )
    skipped = by_policy["aws-rds-cluster-backup-retention"]
    assert skipped.enforcementLevel == analyzer_pb2.ADVISORY
    assert skipped.message.endswith(
        "during preview: backupRetentionPeriod is not known yet (unknown during preview); not evaluated"
    )
    assert "aws-rds-cluster-deletion-protection" not in by_policy


def test_analyze_stack_over_protobuf_follows_property_dependencies() -> None:
    key_urn = "urn:pulumi:prod::orders::aws:kms/key:Key::db-key"
    cluster = analyzer_pb2.AnalyzerResource(
        type="aws:rds/cluster:Cluster",
        urn="urn:pulumi:prod::orders::aws:rds/cluster:Cluster::db",
        name="db",
        properties=_struct({"kmsKeyId": UNKNOWN, "storageEncrypted": True}),
    )
    cluster.propertyDependencies["kmsKeyId"].urns.append(key_urn)
    key = analyzer_pb2.AnalyzerResource(
        type="aws:kms/key:Key",
        urn=key_urn,
        name="db-key",
        properties=_struct({"enableKeyRotation": False}),
    )
    response = _servicer().AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=[cluster, key]), None
    )
    messages = {(d.policyName, d.message.split("\n", 1)[-1], d.urn) for d in response.diagnostics}
    assert (
        "aws-kms-data-store-keys-managed-in-stack",
        "aws:rds/cluster:Cluster 'db' uses KMS key 'db-key', which has rotation disabled (kmsKeyId).",
        cluster.urn,
    ) in messages


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            return proc.stdout.readline()
        if proc.poll() is not None:
            break
    return ""


@pytest.mark.timeout(60)
def test_pack_serves_when_started_like_the_pulumi_cli(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(ROOT / "policies")],
        cwd=tmp_path,  # not the repository: the pack must find its own modules
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _read_line(proc, 45)
        if not line.strip().isdigit():
            proc.kill()
            raise AssertionError(
                f"no port printed: {line!r}; stderr: {proc.communicate(timeout=10)[1]}"
            )
        with grpc.insecure_channel(f"127.0.0.1:{int(line)}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
        assert info.name == PACK_NAME
        assert len(info.policies) == len(all_policies())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_readme_documents_every_control() -> None:
    text = (ROOT / "policies" / "README.md").read_text(encoding="utf-8")
    policies = all_policies()
    missing = [p.name for p in policies if f"`{p.name}`" not in text]
    assert missing == []
    mandatory = sum(1 for p in policies if p.enforcement_level is EnforcementLevel.MANDATORY)
    assert f"{len(policies)} controls, {mandatory} of them mandatory" in text
    assert markdown_catalogue() in text, (
        "regenerate the README catalogue: python -m policies catalogue"
    )

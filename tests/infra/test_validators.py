"""The offline validators CI runs: Kubernetes/CRD schemas and the IAM linter.

Each validator is shown to reject a broken input first, so a green run means something.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from infra import validate
from infra.validate import Finding

from .conftest import Plan

PROVENANCE = json.loads((validate.SCHEMAS / "PROVENANCE.json").read_text())


def objects(plan: Plan) -> list[dict[str, Any]]:
    return list(validate.kubernetes_objects(plan.entries))


def first(plan: Plan, type_token: str) -> dict[str, Any]:
    return copy.deepcopy(plan.of_type(type_token)[0])


# --------------------------------------------------------------------------- Kubernetes


def test_every_registered_kubernetes_object_matches_its_pinned_schema(plan: Plan) -> None:
    registered = objects(plan)
    kinds = {(o["inputs"]["apiVersion"], o["inputs"]["kind"]) for o in registered}
    assert len(registered) >= 40 and len(kinds) >= 15
    assert {("argoproj.io/v1alpha1", "Rollout"), ("keda.sh/v1alpha1", "ScaledObject")} <= kinds
    assert validate.kubernetes_findings(plan.entries) == []


@pytest.mark.parametrize(
    ("type_token", "mutate", "expected"),
    [
        (
            "kubernetes:apps/v1:Deployment",
            lambda m: m["spec"]["template"]["spec"]["containers"][0].update(imagePullPolicyy="x"),
            "Additional properties are not allowed ('imagePullPolicyy'",
        ),
        (
            "kubernetes:apps/v1:Deployment",
            lambda m: m["spec"].update(replicas="3"),
            "'3' is not of type 'integer'",
        ),
        (
            "kubernetes:networking.k8s.io/v1:Ingress",
            lambda m: m["spec"]["rules"][0]["http"]["paths"][0].pop("pathType"),
            "'pathType' is a required property",
        ),
        (
            "kubernetes:argoproj.io/v1alpha1:Rollout",
            lambda m: m["spec"]["strategy"]["canary"].update(maxSurges="25%"),
            "Additional properties are not allowed ('maxSurges'",
        ),
        (
            "kubernetes:keda.sh/v1alpha1:ScaledObject",
            lambda m: m["spec"].update(minReplicaCount="two"),
            "'two' is not of type 'integer'",
        ),
    ],
)
def test_schema_validation_rejects_what_the_api_server_would(
    plan: Plan, type_token: str, mutate: Any, expected: str
) -> None:
    entry = first(plan, type_token)
    mutate(entry["inputs"])
    messages = [f.detail for f in validate.kubernetes_findings([entry])]
    assert any(expected in m for m in messages), messages


def test_vendored_schemas_match_their_provenance() -> None:
    kubernetes = PROVENANCE["kubernetes"]
    assert kubernetes["kubernetes_version"] == "1.35"
    folder = validate.SCHEMAS / "kubernetes" / "v1.35"
    for name, digest in kubernetes["kind_files_sha256"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    crds = {c["kind"]: c for c in PROVENANCE["custom_resources"]}
    assert crds["Rollout"]["source"].startswith(
        "https://github.com/argoproj/argo-helm/blob/argo-rollouts-2.41.0/"
    )
    assert "/kedacore/charts/blob/v2.20.2/" in crds["ScaledObject"]["source"]
    for crd in crds.values():
        assert (validate.SCHEMAS / "crds" / crd["file"]).exists()


# --------------------------------------------------------------------------- IAM


@pytest.fixture(scope="module")
def iam(plan: Plan) -> list[Finding]:
    return validate.iam_findings(plan.entries)


def test_every_policy_document_is_linted_and_every_finding_explained(
    plan: Plan, iam: list[Finding]
) -> None:
    documents = {name: key for name, key, _doc in validate.policy_documents(plan.entries)}
    linted_types = {e["type"] for e in plan.entries if e["name"] in documents}
    assert {
        "aws:iam/role:Role",  # trust policies
        "aws:iam/rolePolicy:RolePolicy",
        "aws:kms/key:Key",
        "aws:s3/bucketPolicy:BucketPolicy",
    } <= linted_types
    assert len(documents) >= 40
    assert validate.unexplained(iam) == []


def test_no_accepted_entry_is_stale_and_each_has_a_reason(iam: list[Finding]) -> None:
    for entry in validate.accepted():
        assert entry.get("reason", "").strip(), entry
        assert any(validate.is_accepted(f, entry) for f in iam), f"matches nothing: {entry}"


def test_the_linter_flags_a_broken_policy() -> None:
    broken = {
        "type": "aws:iam/rolePolicy:RolePolicy",
        "name": "primary-workload-service-role-policy",
        "inputs": {
            "policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sqs:SendMesage",
                            "Resource": "arn:aws:sqs:eu-central-1:123456789012:q",
                        }
                    ],
                }
            )
        },
    }
    findings = validate.unexplained(validate.iam_findings([broken]))
    assert [f.issue for f in findings] == ["UNKNOWN_ACTION"]

"""Offline validation of what the program registers (CI runs it through tests/infra).

    python -m infra.validate [--plan plan.json]     # default: runs `python -m infra.plan --json`

- Every Kubernetes object is validated with `jsonschema` against the schema of the pinned
  Kubernetes version, every custom resource against the CRD schema of its pinned chart
  (both vendored in infra/schemas/, see PROVENANCE.json and scripts/vendor_schemas.py).
  Unknown fields are errors: the API server would drop them silently.
- Every IAM and KMS policy document (role trust and inline policies, key policies, bucket
  and queue policies) is linted with parliament. A finding fails unless it is listed, with
  its reason, in infra/iam-lint-accepted.yaml.
Exit status 1 when anything fails.
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import yaml
from referencing.jsonschema import DRAFT202012

from infra.config import KUBERNETES_VERSION
from infra.mocks import SECRET_PLACEHOLDER

SCHEMAS = Path(__file__).resolve().parent / "schemas"
ACCEPTED_FILE = Path(__file__).resolve().parent / "iam-lint-accepted.yaml"
NOT_OBJECTS = ("kubernetes:helm.sh/", "pulumi:providers:")
# Input fields that hold policy documents, per resource type.
POLICY_FIELDS = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
}


@dataclass(frozen=True)
class Finding:
    resource: str
    issue: str
    detail: str


# --------------------------------------------------------------------------- Kubernetes


def kubernetes_schema_file(api_version: str, kind: str) -> Path:
    group, _, version = api_version.rpartition("/")
    short = group.split(".")[0]
    name = "-".join(p for p in (kind.lower(), short, version) if p) + ".json"
    builtin = SCHEMAS / "kubernetes" / f"v{KUBERNETES_VERSION}" / name
    return builtin if builtin.exists() else SCHEMAS / "crds" / name


@cache
def _registry() -> referencing.Registry[Any]:
    definitions = json.loads(
        (SCHEMAS / "kubernetes" / f"v{KUBERNETES_VERSION}" / "_definitions.json").read_text()
    )
    resource = referencing.Resource.from_contents(definitions, default_specification=DRAFT202012)
    return resource @ referencing.Registry()


@cache
def _validator(path: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(path.read_text())
    if path.parent.name == "crds":
        schema = strict(schema)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator: jsonschema.protocols.Validator = cls(schema, registry=_registry())
    return validator


def strict(schema: Any) -> Any:
    """A CRD's structural schema with unknown fields refused, as the built-in "strict"
    schemas are: every object that lists its properties (and does not preserve unknown
    fields) gets additionalProperties false."""
    schema = copy.deepcopy(schema)
    _close(schema)
    return schema


def _close(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _close(item)
        return
    if not isinstance(node, dict):
        return
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    for value in node.values():
        _close(value)


def kubernetes_objects(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for entry in plan:
        if entry["type"].startswith("kubernetes:") and not entry["type"].startswith(NOT_OBJECTS):
            yield entry


def kubernetes_findings(plan: list[dict[str, Any]]) -> list[Finding]:
    findings = []
    for entry in kubernetes_objects(plan):
        manifest = entry["inputs"]
        path = kubernetes_schema_file(manifest["apiVersion"], manifest["kind"])
        if not path.exists():
            findings.append(Finding(entry["name"], "NO_SCHEMA", f"no vendored schema {path.name}"))
            continue
        for error in sorted(_validator(path).iter_errors(manifest), key=str):
            if error.instance == SECRET_PLACEHOLDER:
                continue  # a secret value, masked in the offline plan: nothing to check
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            findings.append(Finding(entry["name"], "SCHEMA", f"{where}: {error.message}"))
    return findings


# --------------------------------------------------------------------------- IAM


def policy_documents(plan: list[dict[str, Any]]) -> Iterator[tuple[str, str, str]]:
    """(resource name, field, document) for every policy document the program sets."""
    for entry in plan:
        for key in POLICY_FIELDS.get(entry["type"], ()):
            document = entry["inputs"].get(key)
            if isinstance(document, str) and document.strip().startswith("{"):
                yield entry["name"], key, document


def iam_findings(plan: list[dict[str, Any]]) -> list[Finding]:
    from parliament import analyze_policy_string

    findings = []
    for name, key, document in policy_documents(plan):
        analysed = analyze_policy_string(document, ignore_private_auditors=True)
        for finding in analysed.findings:
            findings.append(Finding(name, finding.issue, f"{key}: {finding.detail}"))
    return findings


def accepted() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = yaml.safe_load(ACCEPTED_FILE.read_text())["accepted"]
    return entries


def is_accepted(finding: Finding, entry: dict[str, str]) -> bool:
    return (
        finding.issue == entry["issue"]
        and fnmatch.fnmatchcase(finding.resource, entry["resource"])
        and entry.get("detail", "") in finding.detail
    )


def unexplained(findings: list[Finding]) -> list[Finding]:
    entries = accepted()
    return [f for f in findings if not any(is_accepted(f, e) for e in entries)]


# --------------------------------------------------------------------------- CLI


def load_plan(path: Path | None) -> list[dict[str, Any]]:
    if path is not None:
        plan: list[dict[str, Any]] = json.loads(path.read_text())
        return plan
    done = subprocess.run(
        [sys.executable, "-m", "infra.plan", "--json"], capture_output=True, text=True, check=True
    )
    plan = json.loads(done.stdout)
    return plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.validate", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--plan", type=Path, help="a saved `python -m infra.plan --json`")
    args = parser.parse_args(argv)
    plan = load_plan(args.plan)
    schema = kubernetes_findings(plan)
    iam = iam_findings(plan)
    failing = schema + unexplained(iam)
    for finding in failing:
        print(f"FAIL {finding.resource}: {finding.issue} {finding.detail}")
    objects = sum(1 for _ in kubernetes_objects(plan))
    documents = sum(1 for _ in policy_documents(plan))
    print(
        f"{objects} Kubernetes objects validated, {documents} policy documents linted: "
        f"{len(schema)} schema error(s), {len(iam)} linter finding(s) "
        f"({len(iam) - len(unexplained(iam))} accepted)"
    )
    return 1 if failing else 0


if __name__ == "__main__":
    raise SystemExit(main())
